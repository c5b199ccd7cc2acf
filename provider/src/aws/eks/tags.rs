//! Tags of any EKS resource (associations, addons), by ARN.
//!
//! Owns: [`apply`], the TagResource and UntagResource calls a
//! [`TagChange`] lists, and nothing else.

use crate::aws::clients::Clients;
use crate::aws::error::AwsError;
use schema::tags::TagChange;

/// Makes the calls of `change` on `arn`: TagResource for the keys to set,
/// then UntagResource for the keys to remove (each only when needed).
/// Stops at the first failure.
pub async fn apply(c: &Clients, arn: &str, change: &TagChange) -> Result<(), AwsError> {
    if !change.set.is_empty() {
        c.eks
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(change.set.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", e))?;
    }
    if !change.remove.is_empty() {
        c.eks
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(change.remove.clone()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", e))?;
    }
    Ok(())
}
