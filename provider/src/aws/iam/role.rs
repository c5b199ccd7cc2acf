//! IAM roles: finders and the calls that create, change and delete a role.
//!
//! Owns: reading a made role into a [`RoleShape`] (documents
//! percent-decoded; description and longest session included), reading
//! any role's trust by ARN ([`find_trust_by_arn`], for the migration),
//! listing roles under a path, applying a [`RoleChange`] (only the calls
//! it lists, independent ones concurrently), creating a role, replacing a
//! trust policy, and deleting a role with everything attached to it. Does not
//! own: deciding what the role should be (`schema::role`), the life of a
//! made role (`crate::ownership::made_role`), or whether a role may be written: every
//! write here takes a [`Grant`] that only the ownership gate
//! (`crate::ownership`) can make.

use crate::aws::clients::Clients;
use crate::aws::error::{AwsError, found as not_found_is_none};
use crate::aws::grant::Grant;
use crate::aws::retry::is_delete_conflict;
use aws_sdk_iam::types::Tag;
use futures::future::try_join_all;
use schema::names::parse_role_arn;
use schema::policy;
use schema::role::{
    INLINE_POLICY_NAME, RoleChange, RoleSettings, RoleShape, WELL_KNOWN_POLICY_NAME,
};
use schema::tags::Tags;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// A made role as found in IAM.
#[derive(Debug, Clone)]
pub struct FoundRole {
    /// Role ARN.
    pub arn: String,
    /// Role path.
    pub path: String,
    /// What it holds.
    pub shape: RoleShape,
    /// Inline policies the provider never writes (added outside Terraform),
    /// by name, with their documents: drift on a made role.
    pub extra_inline: std::collections::BTreeMap<String, String>,
    /// When IAM created the role (GetRole's CreateDate).
    pub created: Option<std::time::SystemTime>,
    /// IAM's stable ID of the role (GetRole's RoleId).
    pub role_id: String,
}

impl FoundRole {
    /// The role as seen by a resource whose `permission_policy` is stored
    /// as the inline policy `name`: that policy's document is the shape's
    /// `permission_policy`, and one under the default name, if any, is an
    /// extra inline policy like any other. [`find_role_by_name`] reads
    /// every inline policy, so this needs no call.
    pub fn with_permission_policy_name(mut self, name: Option<&str>) -> FoundRole {
        let Some(name) = name.filter(|n| *n != INLINE_POLICY_NAME) else {
            return self;
        };
        if let Some(default) = self.shape.permission_policy.take() {
            self.extra_inline
                .insert(INLINE_POLICY_NAME.to_string(), default);
        }
        self.shape.permission_policy = self.extra_inline.remove(name);
        self.shape.permission_policy_name = Some(name.to_string());
        self
    }
}

impl FoundRole {
    /// The role as an import sees it: without a `permission-policy`, a
    /// single other inline policy (besides the well-known one) is taken as
    /// the permission policy under its own name (eksctl's
    /// `<stack>-Policy1`, or a `permission_policy_name` set earlier). With
    /// several, none is: they stay extra inline policies, which the plan
    /// shows.
    pub fn as_imported(self) -> FoundRole {
        if self.shape.permission_policy.is_some() || self.extra_inline.len() != 1 {
            return self;
        }
        let name = self.extra_inline.keys().next().cloned();
        self.with_permission_policy_name(name.as_deref())
    }
}

fn decode(doc: &str) -> String {
    percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .map(|s| s.into_owned())
        .unwrap_or_else(|_| doc.to_string())
}

fn iam_tags(tags: &Tags) -> Result<Vec<Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|_| AwsError::Incomplete {
                    operation: "TagRole",
                    field: "tag key",
                })
        })
        .collect()
}

/// The role with this name and everything on it, or `None` when it does not exist.
pub async fn find_role_by_name(c: &Clients, name: &str) -> Result<Option<FoundRole>, AwsError> {
    match get_role(c, name).await? {
        Some(role) => with_policies(c, name, role).await,
        None => Ok(None),
    }
}

/// As [`find_role_by_name`], for a role this provider made: `None` also
/// when the role's owner tag does not satisfy `ours`, which GetRole alone
/// tells (an import or a listing of associations with roles made
/// elsewhere makes one IAM call each, not four).
pub async fn find_own_role(
    c: &Clients,
    name: &str,
    ours: impl Fn(&str) -> bool,
) -> Result<Option<FoundRole>, AwsError> {
    let Some(role) = get_role(c, name).await? else {
        return Ok(None);
    };
    let owner = role
        .tags
        .iter()
        .flatten()
        .find(|t| t.key == schema::role::OWNER_TAG)
        .map(|t| t.value.as_str());
    if !owner.is_some_and(ours) {
        return Ok(None);
    }
    with_policies(c, name, role).await
}

/// The names of the roles whose path is exactly `path` (ListRoles under
/// that path prefix, every page). ListRoles reports no tags: a caller that
/// judges ownership reads each role's ([`find_role_tags`]).
pub async fn list_role_names(c: &Clients, path: &str) -> Result<Vec<String>, AwsError> {
    Ok(list_roles_under(c, path)
        .await?
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.name)
        .collect())
}

/// A role as ListRoles reports it: where it is, not what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRole {
    /// Role name.
    pub name: String,
    /// Role path.
    pub path: String,
}

/// The roles whose path begins with `path_prefix` (ListRoles, every page).
pub async fn list_roles_under(c: &Clients, path_prefix: &str) -> Result<Vec<ListedRole>, AwsError> {
    let pages = c
        .iam
        .list_roles()
        .path_prefix(path_prefix)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ListRoles", e))?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.roles)
        .map(|r| ListedRole {
            name: r.role_name,
            path: r.path,
        })
        .collect())
}

/// GetRole, `None` when there is no such role.
async fn get_role(c: &Clients, name: &str) -> Result<Option<aws_sdk_iam::types::Role>, AwsError> {
    let got = not_found_is_none(
        c.iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetRole", e)),
    )?;
    Ok(got.and_then(|g| g.role))
}

/// The role GetRole gave, with its attached and inline policies.
async fn with_policies(
    c: &Clients,
    name: &str,
    role: aws_sdk_iam::types::Role,
) -> Result<Option<FoundRole>, AwsError> {
    // Deleted between GetRole and the listings (a destroy running beside
    // this apply): gone, as if GetRole had said so.
    let Some((attached, inline_names)) = not_found_is_none(tokio::try_join!(
        list_attached(c, name),
        list_inline_names(c, name)
    ))?
    else {
        return Ok(None);
    };
    let wanted_inline: Vec<&str> = [INLINE_POLICY_NAME, WELL_KNOWN_POLICY_NAME]
        .into_iter()
        .filter(|n| inline_names.iter().any(|x| x == n))
        .collect();
    let docs = try_join_all(wanted_inline.iter().map(|p| get_inline(c, name, p))).await?;
    let extra_names: Vec<&String> = inline_names
        .iter()
        .filter(|n| *n != INLINE_POLICY_NAME && *n != WELL_KNOWN_POLICY_NAME)
        .collect();
    let extra_docs = try_join_all(extra_names.iter().map(|p| get_inline(c, name, p))).await?;
    let extra_inline = extra_names
        .into_iter()
        .zip(extra_docs)
        .filter_map(|(n, d)| d.map(|d| (n.clone(), d)))
        .collect();
    let mut shape = RoleShape {
        managed_policy_arns: attached,
        trust_policy: role
            .assume_role_policy_document
            .as_deref()
            .map(decode)
            .unwrap_or_default(),
        permissions_boundary_arn: role
            .permissions_boundary
            .and_then(|b| b.permissions_boundary_arn),
        tags: role
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect(),
        description: role.description.filter(|d| !d.is_empty()),
        max_session_duration: role.max_session_duration.map(i64::from),
        ..Default::default()
    };
    for (n, doc) in wanted_inline.iter().zip(docs) {
        match *n {
            INLINE_POLICY_NAME => shape.permission_policy = doc,
            _ => shape.well_known_policy = doc,
        }
    }
    Ok(Some(FoundRole {
        created: std::time::SystemTime::try_from(role.create_date).ok(),
        arn: role.arn,
        path: role.path,
        role_id: role.role_id,
        shape,
        extra_inline,
    }))
}

async fn list_attached(c: &Clients, name: &str) -> Result<BTreeSet<String>, AwsError> {
    let pages = c
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ListAttachedRolePolicies", e))?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.attached_policies.unwrap_or_default())
        .filter_map(|p| p.policy_arn)
        .collect())
}

async fn list_inline_names(c: &Clients, name: &str) -> Result<Vec<String>, AwsError> {
    let pages = c
        .iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ListRolePolicies", e))?;
    Ok(pages.into_iter().flat_map(|p| p.policy_names).collect())
}

async fn get_inline(c: &Clients, role: &str, policy: &str) -> Result<Option<String>, AwsError> {
    let got = not_found_is_none(
        c.iam
            .get_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetRolePolicy", e)),
    )?;
    Ok(got.map(|g| decode(&g.policy_document)))
}

/// Creates a role with its trust policy, boundary, tags, and the
/// description and longest session when the shape manages them (policies
/// are attached afterwards with [`apply_change`]). Returns the role ARN.
pub async fn create_role(
    c: &Clients,
    _grant: &Grant,
    name: &str,
    path: &str,
    shape: &RoleShape,
) -> Result<String, AwsError> {
    let out = c
        .iam
        .create_role()
        .role_name(name)
        .path(path)
        .assume_role_policy_document(&shape.trust_policy)
        .set_permissions_boundary(shape.permissions_boundary_arn.clone())
        .set_tags(Some(iam_tags(&shape.tags)?))
        .set_description(shape.description.clone().filter(|d| !d.is_empty()))
        .set_max_session_duration(session_seconds("CreateRole", shape.max_session_duration)?)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateRole", e))?;
    out.role.map(|r| r.arn).ok_or(AwsError::Incomplete {
        operation: "CreateRole",
        field: "role",
    })
}

/// Makes exactly the calls in `change`. Calls on different policies are
/// independent and run concurrently, in two rounds: what grants (attach,
/// put, boundary, trust, tags) first, what takes away (detach, delete)
/// after it succeeded, so a renamed inline policy or a swapped managed
/// policy never leaves the role without the permission for a moment.
pub async fn apply_change(
    c: &Clients,
    _grant: &Grant,
    role: &str,
    change: &RoleChange,
) -> Result<(), AwsError> {
    let attach = change.attach.iter().map(|arn| async move {
        c.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("AttachRolePolicy", e))
    });
    let detach = change.detach.iter().map(|arn| async move {
        let r = c
            .iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DetachRolePolicy", e));
        not_found_is_none(r).map(|_| ())
    });
    let put = change.put_inline.iter().map(|(name, doc)| async move {
        c.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(doc)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("PutRolePolicy", e))
    });
    let delete = change.delete_inline.iter().map(|name| async move {
        let r = c
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("DeleteRolePolicy", e));
        not_found_is_none(r).map(|_| ())
    });
    tokio::try_join!(
        try_join_all(attach),
        try_join_all(put),
        set_boundary(c, role, &change.boundary),
        async {
            match &change.trust_policy {
                Some(doc) => put_trust(c, role, doc).await,
                None => Ok(()),
            }
        },
        tag(c, role, &change.tags.set),
        untag(c, role, &change.tags.remove),
        update_settings(c, role, change.settings.as_ref()),
    )?;
    tokio::try_join!(try_join_all(detach), try_join_all(delete))?;
    Ok(())
}

/// Puts (`Some(Some)`) or removes (`Some(None)`) the permissions boundary;
/// `None` leaves it. Removing one that is not there is done.
async fn set_boundary(
    c: &Clients,
    role: &str,
    boundary: &Option<Option<String>>,
) -> Result<(), AwsError> {
    match boundary {
        Some(Some(arn)) => c
            .iam
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("PutRolePermissionsBoundary", e)),
        Some(None) => not_found_is_none(
            c.iam
                .delete_role_permissions_boundary()
                .role_name(role)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("DeleteRolePermissionsBoundary", e)),
        )
        .map(|_| ()),
        None => Ok(()),
    }
}

/// MaxSessionDuration as IAM's API types it (plan checks the range, so a
/// value that does not fit is a bug reported as such, never truncated).
fn session_seconds(operation: &'static str, seconds: Option<i64>) -> Result<Option<i32>, AwsError> {
    seconds
        .map(|s| {
            i32::try_from(s).map_err(|_| AwsError::Service {
                operation,
                code: "ValidationError".into(),
                message: format!("MaxSessionDuration {s} does not fit IAM's type (a bug in the provider: plan checks the range)"),
                request_id: None,
                status: None,
            })
        })
        .transpose()
}

/// UpdateRole with both settings (see [`RoleSettings`]), when any changed.
async fn update_settings(
    c: &Clients,
    role: &str,
    settings: Option<&RoleSettings>,
) -> Result<(), AwsError> {
    let Some(s) = settings else {
        return Ok(());
    };
    c.iam
        .update_role()
        .role_name(role)
        .set_description(s.description.clone())
        .set_max_session_duration(session_seconds("UpdateRole", s.max_session_duration)?)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("UpdateRole", e))
}

/// TagRole, when there is anything to set.
async fn tag(c: &Clients, role: &str, set: &Tags) -> Result<(), AwsError> {
    if set.is_empty() {
        return Ok(());
    }
    c.iam
        .tag_role()
        .role_name(role)
        .set_tags(Some(iam_tags(set)?))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("TagRole", e))
}

/// UntagRole, when there is anything to remove.
async fn untag(c: &Clients, role: &str, remove: &[String]) -> Result<(), AwsError> {
    if remove.is_empty() {
        return Ok(());
    }
    c.iam
        .untag_role()
        .role_name(role)
        .set_tag_keys(Some(remove.to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("UntagRole", e))
}

/// Deletes the named inline policies of a role (those the provider never
/// writes, found on a made role). A policy already gone counts as deleted.
pub async fn delete_inline_policies(
    c: &Clients,
    _grant: &Grant,
    role: &str,
    names: &[String],
) -> Result<(), AwsError> {
    try_join_all(names.iter().map(|p| async move {
        not_found_is_none(
            c.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(p)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("DeleteRolePolicy", e)),
        )
    }))
    .await?;
    Ok(())
}

/// Removes tags from a role by key (UntagRole), e.g. the pending marker
/// once the association that uses the role exists.
pub async fn untag_role(
    c: &Clients,
    _grant: &Grant,
    role: &str,
    keys: &[String],
) -> Result<(), AwsError> {
    untag(c, role, keys).await
}

/// Deletes a role holding what the state knows of it: `attached` managed
/// policies and `inline` policy names (as the last refresh read them). No
/// listing: detach, delete, DeleteRole. When IAM refuses with
/// DeleteConflict (something was attached since that refresh), the role is
/// listed and deleted as [`delete_role`] does. A role already gone counts
/// as deleted.
pub async fn delete_role_known(
    c: &Clients,
    grant: &Grant,
    name: &str,
    attached: &BTreeSet<String>,
    inline: &[String],
) -> Result<(), AwsError> {
    match empty_and_delete(c, grant, name, attached, inline).await {
        Err(e) if is_delete_conflict(&e) => delete_role(c, grant, name).await,
        other => other,
    }
}

/// Detaches `attached`, deletes the inline policies `inline`, then the role
/// (each already gone counts as done).
async fn empty_and_delete(
    c: &Clients,
    grant: &Grant,
    name: &str,
    attached: &BTreeSet<String>,
    inline: &[String],
) -> Result<(), AwsError> {
    let change = RoleChange {
        detach: attached.iter().cloned().collect(),
        ..Default::default()
    };
    apply_change(c, grant, name, &change).await?;
    delete_inline_policies(c, grant, name, inline).await?;
    not_found_is_none(delete_only(c, name).await).map(|_| ())
}

/// DeleteRole alone.
async fn delete_only(c: &Clients, name: &str) -> Result<(), AwsError> {
    c.iam
        .delete_role()
        .role_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("DeleteRole", e))
}

/// Deletes a role and everything attached to it (IAM refuses to delete a role
/// that still has policies). A role already gone counts as deleted.
pub async fn delete_role(c: &Clients, grant: &Grant, name: &str) -> Result<(), AwsError> {
    let attached = match not_found_is_none(list_attached(c, name).await)? {
        Some(a) => a,
        None => return Ok(()),
    };
    let inline = not_found_is_none(list_inline_names(c, name).await)?.unwrap_or_default();
    empty_and_delete(c, grant, name, &attached, &inline).await
}

/// A role's trust as the migration reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleTrust {
    /// Role name.
    pub name: String,
    /// The trust policy, parsed.
    pub trust: Json,
    /// The role's tags.
    pub tags: BTreeMap<String, String>,
}

/// GetRole by ARN (path included): the role's trust and tags, or `None`
/// when no role has that name, or the one that has it is at another path.
pub async fn find_trust_by_arn(c: &Clients, arn: &str) -> Result<Option<RoleTrust>, AwsError> {
    let Ok(parsed) = parse_role_arn(arn) else {
        return Ok(None);
    };
    let got = c
        .iam
        .get_role()
        .role_name(&parsed.name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetRole", e));
    let Some(role) = not_found_is_none(got)?
        .and_then(|out| out.role)
        .filter(|r| r.arn == arn)
    else {
        return Ok(None);
    };
    let text = role.assume_role_policy_document.unwrap_or_default();
    let trust = policy::parse_iam(&text).map_err(|e| AwsError::Transport {
        operation: "GetRole",
        detail: format!("the trust policy of {arn} {e}"),
    })?;
    let tags = role
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    Ok(Some(RoleTrust {
        name: parsed.name,
        trust,
        tags,
    }))
}

/// Replaces a role's trust policy (UpdateAssumeRolePolicy).
pub async fn update_trust(
    c: &Clients,
    _grant: &Grant,
    name: &str,
    document: &str,
) -> Result<(), AwsError> {
    put_trust(c, name, document).await
}

/// UpdateAssumeRolePolicy, for [`apply_change`] and [`update_trust`].
async fn put_trust(c: &Clients, name: &str, document: &str) -> Result<(), AwsError> {
    c.iam
        .update_assume_role_policy()
        .role_name(name)
        .policy_document(document)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("UpdateAssumeRolePolicy", e))
}

/// TagRole of `set` (the gate's lease renewals and take-overs).
pub async fn tag_role(c: &Clients, _grant: &Grant, role: &str, set: &Tags) -> Result<(), AwsError> {
    tag(c, role, set).await
}

/// A role's ARN and tags, as GetRole alone tells them.
#[derive(Debug, Clone)]
pub struct FoundTags {
    /// The role's tags.
    pub tags: Tags,
    /// The role's ARN.
    pub arn: String,
    /// When IAM created the role (GetRole's CreateDate).
    pub created: Option<std::time::SystemTime>,
    /// IAM's stable ID of the role (GetRole's RoleId).
    pub role_id: String,
}

/// GetRole alone: the role's ARN and tags, or `None` when there is no such
/// role (what the ownership gate reads before it decides).
pub async fn find_role_tags(c: &Clients, name: &str) -> Result<Option<FoundTags>, AwsError> {
    Ok(get_role(c, name).await?.map(|r| FoundTags {
        created: std::time::SystemTime::try_from(r.create_date).ok(),
        role_id: r.role_id,
        arn: r.arn,
        tags: r
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect(),
    }))
}
