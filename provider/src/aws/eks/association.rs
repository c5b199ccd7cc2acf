//! EKS Pod Identity associations: finders, the one create path, update and
//! delete.
//!
//! Owns: [`Association`] (our own view of an association), [`list`] and
//! the finders, [`create`] with its retries and the reading of the existing
//! association's ID out of a "duplicate" answer ([`existing_id`]),
//! [`update`] and [`delete`]. Does not own: deciding whether an existing
//! association may be adopted or written (`crate::ownership`, whose
//! [`Grant`] every write here takes), or tags (`super::tags`).

use crate::aws::Stop;
use crate::aws::clients::Clients;
use crate::aws::error::{AwsError, found, gone_is_ok};
use crate::aws::grant::Grant;
use crate::aws::retry::{self, Attempt};
use schema::association::Settings;
use schema::tags::Tags;

/// An association as EKS reports it (every field the API may leave out is
/// an `Option`, as in the API).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Association {
    /// The association ID (`a-…`).
    pub association_id: Option<String>,
    /// The association ARN.
    pub association_arn: Option<String>,
    /// Cluster name.
    pub cluster_name: Option<String>,
    /// Namespace of the service account.
    pub namespace: Option<String>,
    /// The service account.
    pub service_account: Option<String>,
    /// The settings (`roleArn`, `targetRoleArn`, `disableSessionTags`,
    /// `policy`) as EKS reports them (`""` or absent when not set).
    pub settings: Settings,
    /// All tags, including the provider's own marker.
    pub tags: Tags,
    /// External ID EKS uses with the target role.
    pub external_id: Option<String>,
    /// The addon owning it, if any.
    pub owner_arn: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: Option<String>,
}

impl From<aws_sdk_eks::types::PodIdentityAssociation> for Association {
    fn from(a: aws_sdk_eks::types::PodIdentityAssociation) -> Association {
        Association {
            association_id: a.association_id,
            association_arn: a.association_arn,
            cluster_name: a.cluster_name,
            namespace: a.namespace,
            service_account: a.service_account,
            settings: Settings {
                role_arn: a.role_arn,
                target_role_arn: a.target_role_arn,
                disable_session_tags: a.disable_session_tags,
                policy: a.policy,
            },
            tags: a.tags.unwrap_or_default().into_iter().collect(),
            external_id: a.external_id,
            owner_arn: a.owner_arn,
            created_at: super::rfc3339(a.created_at),
        }
    }
}

/// One row of ListPodIdentityAssociations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The association ID.
    pub association_id: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// Service account.
    pub service_account: Option<String>,
    /// The addon that owns it, if any.
    pub owner_arn: Option<String>,
}

/// What CreatePodIdentityAssociation sends.
#[derive(Debug, Clone, Default)]
pub struct NewAssociation {
    /// Cluster name.
    pub cluster: String,
    /// Namespace.
    pub namespace: String,
    /// Service account.
    pub service_account: String,
    /// The settings (a `None` is not sent).
    pub settings: Settings,
    /// Tags (empty: none sent).
    pub tags: Tags,
    /// The role's trust policy was changed moments ago by the provider:
    /// also retry [`retry::is_trust_not_visible`].
    pub trust_just_changed: bool,
    /// clientRequestToken: the same on every attempt of this create, so
    /// EKS answers a retry of a create whose answer was lost with the
    /// association it made (`None`: the SDK makes one per attempt).
    pub request_token: Option<String>,
}

/// What [`create`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Made now.
    New(Association),
    /// The service account already had this one (described).
    Existing(Association),
}

/// The association with this ID, or `None` when it (or its cluster) is gone.
pub async fn find_by_id(
    c: &Clients,
    cluster: &str,
    association_id: &str,
) -> Result<Option<Association>, AwsError> {
    let r = c
        .eks
        .describe_pod_identity_association()
        .cluster_name(cluster)
        .association_id(association_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribePodIdentityAssociation", e));
    Ok(found(r)?.and_then(|o| o.association).map(Association::from))
}

/// All association summaries of a cluster (every page, 100 a page),
/// optionally filtered by namespace and service account.
pub async fn list(
    c: &Clients,
    cluster: &str,
    namespace: Option<&str>,
    service_account: Option<&str>,
) -> Result<Vec<Summary>, AwsError> {
    let pages = c
        .eks
        .list_pod_identity_associations()
        .cluster_name(cluster)
        .set_namespace(namespace.map(str::to_string))
        .set_service_account(service_account.map(str::to_string))
        .max_results(100)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ListPodIdentityAssociations", e))?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.associations.unwrap_or_default())
        .map(|a| Summary {
            association_id: a.association_id,
            namespace: a.namespace,
            service_account: a.service_account,
            owner_arn: a.owner_arn,
        })
        .collect())
}

/// The ID of the association of one service account, if there is one
/// (`None` also when the cluster does not exist).
pub async fn find_id_by_service_account(
    c: &Clients,
    cluster: &str,
    namespace: &str,
    service_account: &str,
) -> Result<Option<String>, AwsError> {
    let listed = found(list(c, cluster, Some(namespace), Some(service_account)).await)?;
    Ok(listed.and_then(|list| {
        list.into_iter()
            .find(|a| {
                a.namespace.as_deref() == Some(namespace)
                    && a.service_account.as_deref() == Some(service_account)
            })
            .and_then(|a| a.association_id)
    }))
}

/// The existing association's ID, from "Association already exists: a-…".
/// `None` when the message does not end in an association ID.
pub fn existing_id(e: &AwsError) -> Option<String> {
    e.message()
        .rsplit(' ')
        .next()
        .map(|s| s.trim_end_matches('.').to_string())
        .filter(|s| s.starts_with("a-"))
}

/// Creates the association, retrying the eventual-consistency answers EKS
/// gives: a new role not yet visible, a just-changed trust policy not yet
/// visible (only when `new.trust_just_changed`), and a just-deleted
/// association for the same service account still blocking. A service
/// account that really has an association gives [`Created::Existing`].
pub async fn create(
    ctx: &dyn Stop,
    c: &Clients,
    _grant: &Grant,
    new: &NewAssociation,
) -> Result<Created, AwsError> {
    let tags = (!new.tags.is_empty()).then(|| {
        new.tags
            .clone()
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    });
    let timeout = retry::PROPAGATION_TIMEOUT.max(retry::DELETE_CONSISTENCY_TIMEOUT);
    retry::until_done(
        ctx.stopped(),
        "CreatePodIdentityAssociation",
        timeout,
        || {
            let tags = tags.clone();
            async move {
                let r = c
                    .eks
                    .create_pod_identity_association()
                    .cluster_name(&new.cluster)
                    .namespace(&new.namespace)
                    .service_account(&new.service_account)
                    .set_role_arn(new.settings.role_arn.clone())
                    .set_target_role_arn(new.settings.target_role_arn.clone())
                    .set_disable_session_tags(new.settings.disable_session_tags)
                    .set_policy(new.settings.policy.clone())
                    .set_tags(tags)
                    .set_client_request_token(new.request_token.clone())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("CreatePodIdentityAssociation", e));
                match r {
                    Ok(out) => {
                        Attempt::Done(out.association.map(|a| Created::New(a.into())).ok_or(
                            AwsError::Incomplete {
                                operation: "CreatePodIdentityAssociation",
                                field: "association",
                            },
                        ))
                    }
                    Err(e) if retry::is_role_not_visible(&e) => Attempt::Again(e),
                    Err(e) if new.trust_just_changed && retry::is_trust_not_visible(&e) => {
                        Attempt::Again(e)
                    }
                    Err(e) if retry::is_association_taken(&e) => taken(c, &new.cluster, e).await,
                    Err(e) => Attempt::Done(Err(e)),
                }
            }
        },
    )
    .await
}

/// "Association already exists": a real duplicate (described), or one
/// deleted moments ago (try again).
async fn taken(c: &Clients, cluster: &str, e: AwsError) -> Attempt<Created> {
    let Some(id) = existing_id(&e) else {
        return Attempt::Done(Err(e));
    };
    match find_by_id(c, cluster, &id).await {
        Ok(Some(existing)) => Attempt::Done(Ok(Created::Existing(existing))),
        Ok(None) => Attempt::Again(e),
        Err(lookup) => Attempt::Done(Err(lookup)),
    }
}

/// Sends UpdatePodIdentityAssociation with the settings `sent` (a `None`
/// is not sent; `schema::association::plan_update` decides them),
/// retrying while a new role is not yet visible. Returns the association
/// as EKS now reports it.
pub async fn update(
    ctx: &dyn Stop,
    c: &Clients,
    _grant: &Grant,
    cluster: &str,
    association_id: &str,
    sent: &Settings,
) -> Result<Association, AwsError> {
    retry::until_done(
        ctx.stopped(),
        "UpdatePodIdentityAssociation",
        retry::PROPAGATION_TIMEOUT,
        || async {
            let r = c
                .eks
                .update_pod_identity_association()
                .cluster_name(cluster)
                .association_id(association_id)
                .set_role_arn(sent.role_arn.clone())
                .set_target_role_arn(sent.target_role_arn.clone())
                .set_disable_session_tags(sent.disable_session_tags)
                .set_policy(sent.policy.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdatePodIdentityAssociation", e));
            match r {
                Ok(out) => Attempt::Done(out.association.map(Association::from).ok_or(
                    AwsError::Incomplete {
                        operation: "UpdatePodIdentityAssociation",
                        field: "association",
                    },
                )),
                Err(e) if retry::is_role_not_visible(&e) => Attempt::Again(e),
                Err(e) => Attempt::Done(Err(e)),
            }
        },
    )
    .await
}

/// Deletes an association; one already gone counts as deleted.
pub async fn delete(
    c: &Clients,
    _grant: &Grant,
    cluster: &str,
    association_id: &str,
) -> Result<(), AwsError> {
    let r = c
        .eks
        .delete_pod_identity_association()
        .cluster_name(cluster)
        .association_id(association_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("DeletePodIdentityAssociation", e));
    gone_is_ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::error::service;

    fn taken_error(message: &str) -> AwsError {
        service("ResourceInUseException", message)
    }

    #[test]
    fn existing_id_from_message() {
        let e = taken_error("Association already exists: a-abcdefghij1234567");
        assert_eq!(existing_id(&e).as_deref(), Some("a-abcdefghij1234567"));
        let e = taken_error("Association already exists: a-abcdefghij1234567.");
        assert_eq!(existing_id(&e).as_deref(), Some("a-abcdefghij1234567"));
    }

    #[test]
    fn existing_id_needs_an_association_id() {
        assert_eq!(
            existing_id(&taken_error("Association already exists")),
            None
        );
        assert_eq!(existing_id(&taken_error("")), None);
        assert_eq!(existing_id(&taken_error("in use by b-123")), None);
    }
}
