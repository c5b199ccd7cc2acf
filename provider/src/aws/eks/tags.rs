//! Tags of any EKS resource (associations, addons), by ARN.
//!
//! Owns: [`apply`], the TagResource and UntagResource calls a
//! [`TagChange`] lists, and [`list`]. Tag writes on an association take a
//! [`Grant`] from the ownership gate (`crate::ownership`); an addon's are
//! its resource's alone (`apply_to_addon`).

use crate::aws::clients::Clients;
use crate::aws::error::AwsError;
use crate::aws::grant::Grant;
use schema::tags::{TagChange, Tags};

/// ListTagsForResource: the tags of `arn`.
pub async fn list(c: &Clients, arn: &str) -> Result<Tags, AwsError> {
    let out = c
        .eks
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListTagsForResource", e))?;
    Ok(out.tags.unwrap_or_default().into_iter().collect())
}

/// [`apply`] on an association the gate let this resource write.
pub async fn apply_to_association(
    c: &Clients,
    _grant: &Grant,
    arn: &str,
    change: &TagChange,
) -> Result<(), AwsError> {
    apply(c, arn, change).await
}

/// [`apply`] on an addon (not an object the gate guards: an addon is its
/// resource's by its name, which EKS allows once per cluster).
pub async fn apply_to_addon(c: &Clients, arn: &str, change: &TagChange) -> Result<(), AwsError> {
    apply(c, arn, change).await
}

/// Makes the calls of `change` on `arn`: TagResource for the keys to set,
/// then UntagResource for the keys to remove (each only when needed).
/// Stops at the first failure.
async fn apply(c: &Clients, arn: &str, change: &TagChange) -> Result<(), AwsError> {
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
