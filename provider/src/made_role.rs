//! The life of a role the provider makes for pod identity, shared by every
//! resource that makes roles (associations, addon entries), and the
//! *creation pending* marker that decides what an apply may adopt.
//!
//! Ownership (docs/guides/ownership.md): a made role carries the owner tag
//! [`OWNER_TAG`] (`cluster/namespace/service_account`) for as long as it
//! lives, and while the apply that creates it is still running also the
//! pending marker [`PENDING_TAG`] (an RFC 3339 time). The association
//! resource clears the marker as soon as its association exists, before
//! Terraform gets the state back. So, when a role name is taken:
//! - owner tag for another service account, or none: someone else's role,
//!   never touched ([`MadeRoleError::NameTaken`]);
//! - our owner tag and no pending marker: another resource's finished role,
//!   refused ([`MadeRoleError::OwnedByAnother`]) — two resources never share
//!   one role;
//! - a pending marker younger than [`PENDING_STALE_AFTER`]: another apply
//!   is creating it right now ([`MadeRoleError::Pending`]);
//! - an older pending marker: an apply died before it could record the role;
//!   adopted and brought to the wanted shape.
//!
//! Owns: making sure the wanted role exists (creating it or adopting it by
//! the rules above), bringing an existing made role to the wanted shape with
//! the fewest IAM calls (extra inline policies included), reading the pending
//! marker, and the glue every resource shares: [`put_role`] (converge, or
//! make), [`cleanup_roles`] after a failed apply, and [`diagnostic`] for a
//! [`MadeRoleError`]. Does not own: what the role should be
//! (`schema::association::wanted_role`) or single IAM calls
//! (`crate::aws::iam::role`).
//!
//! The addon's entries still use [`ensure_role`]/[`put_role`], which adopt a
//! role by its owner tag alone (their roles are never marked pending); the
//! association uses [`ensure_role_pending`] and [`clear_pending_role`].

use crate::aws::iam::role::{self as iam, FoundRole};
use crate::aws::retry::is_entity_exists;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use schema::association::WantedRole;
use schema::reserved_tags::{OwnerTag, owner_tag_matches, owner_tag_value, parse_owner_tag};
use schema::role::{OWNER_TAG, RoleShape, plan_role_change};
use schema::tags::Tags;
use std::time::{Duration, SystemTime};
use tfplugin::{AttrPath, Diagnostic, Diagnostics};

/// The *creation pending* marker: written (value: the RFC 3339 time of
/// writing) on an association in its CreatePodIdentityAssociation call and
/// on a made role in its CreateRole call, and removed as soon as the
/// association exists, before the state goes back to Terraform. Only an
/// apply that died in between leaves it behind.
///
/// Listed in `schema::reserved_tags` (which counts it against the tag
/// limits): it replaces `eks-tools:created-by` on associations and is a
/// third reserved tag on made roles.
pub use schema::reserved_tags::PENDING_TAG;

/// How old a pending marker must be before another apply may adopt what
/// carries it. A live apply clears an association's marker within seconds of
/// the create call, and a role's once its association exists: at most the
/// two minutes EKS may take to see a new role
/// (`crate::aws::retry::PROPAGATION_TIMEOUT`) plus the create call's own
/// retries. Ten minutes is well beyond that, and short enough that the apply
/// after a crash needs no more than a short wait (or `terraform import`).
pub const PENDING_STALE_AFTER: Duration = Duration::from_secs(600);

/// The pending marker's value for `now`.
pub fn pending_value(now: SystemTime) -> String {
    DateTime::from(now)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// What an object's pending marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// No marker (or one this provider never writes): a finished object,
    /// somebody else's to manage.
    Absent,
    /// Written less than [`PENDING_STALE_AFTER`] ago: another apply is
    /// creating the object right now.
    Fresh {
        /// When the marker was written (RFC 3339).
        since: String,
        /// When the object becomes adoptable (RFC 3339).
        adoptable_at: String,
    },
    /// Left by an apply that died: adoptable.
    Stale,
}

/// Reads the pending marker of an object's tags at `now`.
pub fn pending_of(tags: &Tags, now: SystemTime) -> Pending {
    let Some(v) = tags.get(PENDING_TAG) else {
        return Pending::Absent;
    };
    let Ok(t) = DateTime::from_str(v, Format::DateTime) else {
        return Pending::Absent;
    };
    let Ok(written) = SystemTime::try_from(t) else {
        return Pending::Absent;
    };
    let adoptable = written + PENDING_STALE_AFTER;
    if now >= adoptable {
        Pending::Stale
    } else {
        Pending::Fresh {
            since: v.clone(),
            adoptable_at: pending_value(adoptable),
        }
    }
}

/// True when the owner tag value found on a role names the same service
/// account as `wanted` (an [`owner_tag_value`]), in any form ever written.
fn owner_matches(found: &str, wanted: &str) -> bool {
    if found == wanted {
        return true;
    }
    match parse_owner_tag(wanted) {
        Some(OwnerTag::Plain {
            cluster,
            namespace,
            service_account,
        }) => owner_tag_matches(found, &cluster, &namespace, &service_account),
        _ => match parse_owner_tag(found) {
            Some(OwnerTag::Plain {
                cluster,
                namespace,
                service_account,
            }) => owner_tag_value(&cluster, &namespace, &service_account) == wanted,
            _ => false,
        },
    }
}

/// Why a made role could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum MadeRoleError {
    /// An IAM call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A role with the wanted name exists and is not ours for this service account.
    #[error(
        "an IAM role named {name} already exists and was not made by this provider for {owner}"
    )]
    NameTaken {
        /// The role name.
        name: String,
        /// The service account we wanted it for (`cluster/namespace/sa`).
        owner: String,
        /// The owner tag the existing role carries, if any.
        found_owner: Option<String>,
    },
    /// A role with the wanted name was made by this provider for the same
    /// service account, and its creation finished: another resource (another
    /// configuration, workspace or `for_each` key) owns it.
    #[error(
        "the IAM role {name} was made by this provider for {owner} and belongs to another Terraform resource (its creation finished; no pending marker)"
    )]
    OwnedByAnother {
        /// The role name.
        name: String,
        /// The service account (`cluster/namespace/sa`).
        owner: String,
    },
    /// Another apply is creating the role right now.
    #[error(
        "the IAM role {name} is being created by another apply right now (creation pending since {since})"
    )]
    Pending {
        /// The role name.
        name: String,
        /// When that apply started creating it.
        since: String,
        /// When it becomes adoptable if that apply died.
        adoptable_at: String,
    },
}

/// How the wanted role came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// Created now.
    Created(String),
    /// Left by an earlier, interrupted apply for the same service account; adopted.
    Adopted(String),
    /// Made by an earlier apply and recorded; brought to the wanted shape.
    Kept(String),
}

impl Ensured {
    /// The role ARN.
    pub fn arn(&self) -> &str {
        match self {
            Ensured::Created(a) | Ensured::Adopted(a) | Ensured::Kept(a) => a,
        }
    }
}

/// Makes sure the wanted role exists with exactly the wanted shape.
///
/// A role that already carries our owner tag for `owner` was made by an
/// apply that died before it could record it: it is adopted and corrected,
/// not reported as "already exists" and not leaked. A role created here whose
/// policies then fail to attach is deleted again, so nothing is half made.
///
/// CreateRole comes first: usually the name is free, and looking first cost
/// every made role a GetRole (bench/results.md: 7 → 6 calls to create an
/// association with a made role). The name is taken only after an
/// interrupted apply (ours: adopt) or by someone else's role (refuse).
pub async fn ensure_role(
    c: &Clients,
    wanted: &WantedRole,
    owner: &str,
) -> Result<Ensured, MadeRoleError> {
    let arn = match iam::create_role(c, &wanted.name, &wanted.path, &wanted.shape).await {
        Ok(arn) => arn,
        Err(e) if is_entity_exists(&e) => {
            // Gone again by the time we look: a race with someone else's
            // delete; the original answer is the truthful error.
            return adopt_role(c, wanted, owner).await?.ok_or(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    // CreateRole set trust, boundary and tags; the policies remain.
    let created = RoleShape {
        trust_policy: wanted.shape.trust_policy.clone(),
        permissions_boundary_arn: wanted.shape.permissions_boundary_arn.clone(),
        tags: wanted.shape.tags.clone(),
        ..Default::default()
    };
    if let Err(e) =
        iam::apply_change(c, &wanted.name, &plan_role_change(&created, &wanted.shape)).await
    {
        if let Err(cleanup) = iam::delete_role(c, &wanted.name).await {
            tracing::warn!("could not delete half-made role {}: {cleanup}", wanted.name);
        }
        return Err(e.into());
    }
    Ok(Ensured::Created(arn))
}

/// The wanted name is taken: adopts the role if it carries our owner tag
/// for `owner` (corrected to the wanted shape), else refuses. `None` when
/// no role has the name (any more).
async fn adopt_role(
    c: &Clients,
    wanted: &WantedRole,
    owner: &str,
) -> Result<Option<Ensured>, MadeRoleError> {
    let Some(found) = iam::find_role_by_name(c, &wanted.name).await? else {
        return Ok(None);
    };
    let found = found.with_permission_policy_name(wanted.shape.permission_policy_name.as_deref());
    let tag = found.shape.tags.get(OWNER_TAG).cloned();
    if !tag.as_deref().is_some_and(|t| owner_matches(t, owner)) {
        return Err(MadeRoleError::NameTaken {
            name: wanted.name.clone(),
            owner: owner.to_string(),
            found_owner: tag,
        });
    }
    tracing::info!(
        "adopting IAM role {} left by an earlier apply for {owner}",
        wanted.name
    );
    iam::apply_change(
        c,
        &wanted.name,
        &plan_role_change(&found.shape, &wanted.shape),
    )
    .await?;
    Ok(Some(Ensured::Adopted(found.arn)))
}

/// As [`ensure_role`], for a role whose creation stays pending until the
/// caller's association exists ([`clear_pending_role`]): CreateRole carries
/// the pending marker, and a taken name is adopted only by the module rules
/// (stale pending marker and our owner tag); the adopted role's marker is
/// renewed, so no third apply adopts it meanwhile.
pub async fn ensure_role_pending(
    c: &Clients,
    wanted: &WantedRole,
    owner: &str,
    now: SystemTime,
) -> Result<Ensured, MadeRoleError> {
    let mut marked = wanted.clone();
    marked
        .shape
        .tags
        .insert(PENDING_TAG.to_string(), pending_value(now));
    let arn = match create_marked(c, &marked, owner, now).await? {
        Ok(arn) => arn,
        Err(adopted) => return Ok(adopted),
    };
    let created = RoleShape {
        trust_policy: marked.shape.trust_policy.clone(),
        permissions_boundary_arn: marked.shape.permissions_boundary_arn.clone(),
        tags: marked.shape.tags.clone(),
        ..Default::default()
    };
    if let Err(e) =
        iam::apply_change(c, &marked.name, &plan_role_change(&created, &marked.shape)).await
    {
        if let Err(cleanup) = iam::delete_role(c, &marked.name).await {
            tracing::warn!("could not delete half-made role {}: {cleanup}", marked.name);
        }
        return Err(e.into());
    }
    Ok(Ensured::Created(arn))
}

/// CreateRole of the marked role: `Ok(Ok(arn))` when created, `Ok(Err(_))`
/// when the name was taken by a role we may adopt (adopted). A role that is
/// gone again by the time we look (its resource's destroy ran meanwhile, as
/// when a `for_each` key is renamed) is created once more, so the outcome
/// does not depend on timing.
async fn create_marked(
    c: &Clients,
    marked: &WantedRole,
    owner: &str,
    now: SystemTime,
) -> Result<Result<String, Ensured>, MadeRoleError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match iam::create_role(c, &marked.name, &marked.path, &marked.shape).await {
            Ok(arn) => return Ok(Ok(arn)),
            Err(e) if is_entity_exists(&e) => {
                match adopt_pending_role(c, marked, owner, now).await? {
                    Some(adopted) => return Ok(Err(adopted)),
                    None if attempts < 3 => continue,
                    None => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The wanted name is taken: adopts the role only when it carries our owner
/// tag for `owner` and a stale pending marker. `None` when no role has the
/// name (any more).
async fn adopt_pending_role(
    c: &Clients,
    marked: &WantedRole,
    owner: &str,
    now: SystemTime,
) -> Result<Option<Ensured>, MadeRoleError> {
    let Some(found) = iam::find_role_by_name(c, &marked.name).await? else {
        return Ok(None);
    };
    let found = found.with_permission_policy_name(marked.shape.permission_policy_name.as_deref());
    let tag = found.shape.tags.get(OWNER_TAG).cloned();
    if !tag.as_deref().is_some_and(|t| owner_matches(t, owner)) {
        return Err(MadeRoleError::NameTaken {
            name: marked.name.clone(),
            owner: owner.to_string(),
            found_owner: tag,
        });
    }
    match pending_of(&found.shape.tags, now) {
        Pending::Absent => Err(MadeRoleError::OwnedByAnother {
            name: marked.name.clone(),
            owner: owner.to_string(),
        }),
        Pending::Fresh {
            since,
            adoptable_at,
        } => Err(MadeRoleError::Pending {
            name: marked.name.clone(),
            since,
            adoptable_at,
        }),
        Pending::Stale => {
            tracing::info!(
                "adopting IAM role {} left by an interrupted apply for {owner}",
                marked.name
            );
            iam::apply_change(
                c,
                &marked.name,
                &plan_role_change(&found.shape, &marked.shape),
            )
            .await?;
            if !found.extra_inline.is_empty() {
                let extra: Vec<String> = found.extra_inline.keys().cloned().collect();
                iam::delete_inline_policies(c, &marked.name, &extra).await?;
            }
            Ok(Some(Ensured::Adopted(found.arn)))
        }
    }
}

/// Removes the pending marker from a made role: its association exists now,
/// so the role is finished and no other apply may adopt it.
pub async fn clear_pending_role(c: &Clients, name: &str) -> Result<(), AwsError> {
    iam::untag_role(c, name, &[PENDING_TAG.to_string()]).await
}

/// Brings an existing made role to the wanted shape (repairing drift).
/// `Ok(None)` when the role no longer exists.
pub async fn converge_role(
    c: &Clients,
    wanted: &WantedRole,
) -> Result<Option<FoundRole>, AwsError> {
    let Some(found) = iam::find_role_by_name(c, &wanted.name).await? else {
        return Ok(None);
    };
    let mut found =
        found.with_permission_policy_name(wanted.shape.permission_policy_name.as_deref());
    let change = plan_role_change(&found.shape, &wanted.shape);
    if !change.is_empty() {
        iam::apply_change(c, &wanted.name, &change).await?;
        found.shape = wanted.shape.clone();
    }
    // Inline policies added outside Terraform: a made role holds only what
    // its resource asks for.
    if !found.extra_inline.is_empty() {
        let extra: Vec<String> = found.extra_inline.keys().cloned().collect();
        iam::delete_inline_policies(c, &wanted.name, &extra).await?;
        found.extra_inline.clear();
    }
    Ok(Some(found))
}

/// What the last refresh read of a made role, as the state records it: an
/// update computes its calls from this instead of reading the role again
/// (bench/results.md: a made-role update went from 5 IAM calls to the 1 it
/// needs).
#[derive(Debug, Clone)]
pub struct KnownRole {
    /// Role ARN.
    pub arn: String,
    /// What it holds.
    pub shape: RoleShape,
    /// Inline policies the provider never writes, by name.
    pub extra_inline: Vec<String>,
}

/// Brings a made role from what the state knows of it (`known`) to the
/// wanted shape with exactly the calls that differ. When a call finds the
/// role gone (NoSuchEntity: it vanished after the refresh), it falls back
/// to [`put_role`], which reads the role and makes it again when needed.
pub async fn converge_known(
    c: &Clients,
    wanted: &WantedRole,
    known: &KnownRole,
    owner: &str,
) -> Result<Ensured, MadeRoleError> {
    let change = plan_role_change(&known.shape, &wanted.shape);
    let mut done = iam::apply_change(c, &wanted.name, &change).await;
    if done.is_ok() && !known.extra_inline.is_empty() {
        done = iam::delete_inline_policies(c, &wanted.name, &known.extra_inline).await;
    }
    match done {
        Ok(()) => Ok(Ensured::Kept(known.arn.clone())),
        Err(e) if e.is_not_found() => {
            tracing::info!(
                "IAM role {} changed since the refresh ({e}); reading it again",
                wanted.name
            );
            put_role(c, wanted, owner).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A role the provider made earlier is brought to the wanted shape; when it
/// is gone (or was never made), it is made ([`ensure_role`]). Used by every
/// update of a made role and by addon entries, whose roles may be either.
pub async fn put_role(
    c: &Clients,
    wanted: &WantedRole,
    owner: &str,
) -> Result<Ensured, MadeRoleError> {
    match converge_role(c, wanted).await? {
        Some(found) => Ok(Ensured::Kept(found.arn)),
        None => ensure_role(c, wanted, owner).await,
    }
}

/// Deletes the roles an apply made before it failed, so nothing is half
/// made; a role that cannot be deleted is a warning (the next apply adopts
/// it by its owner tag).
pub async fn cleanup_roles(c: &Clients, names: &[String], diags: &mut Diagnostics) {
    for name in names {
        if let Err(e) = iam::delete_role(c, name).await {
            diags.push(Diagnostic::warning(
                format!("IAM role {name} could not be cleaned up"),
                format!("{e}. The next apply adopts it (it carries the provider's owner tag)."),
            ));
        }
    }
}

/// A made-role error as a diagnostic: `summary` says what we were doing.
/// (Kept beside [`MadeRoleError`] rather than in `crate::errors`, which is
/// about AWS errors and must not depend on this module.)
pub fn diagnostic(summary: impl Into<String>, err: &MadeRoleError) -> Diagnostic {
    match err {
        MadeRoleError::Aws(e) => to_diagnostic(summary, e),
        MadeRoleError::NameTaken { found_owner, .. } => Diagnostic::error(
            summary,
            format!(
                "{err}{}. The provider never takes over or changes a role it did not make. Set role_name to a name that is not in use, or set role_arn to use the existing role as it is.",
                match found_owner {
                    Some(o) => format!(" (it was made for {o})"),
                    None => String::new(),
                }
            ),
        )
        .at(AttrPath::root("role_name")),
        MadeRoleError::OwnedByAnother { .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. Two resources never share a made role: destroying either would delete it under the other. If this resource should manage it, import its association into this resource (terraform import <address> <cluster>,<association_id>) or, when you renamed the resource or its for_each key, write a moved block from the old address. Otherwise set role_name to another name, or set role_arn to use the existing role as it is."
            ),
        )
        .at(AttrPath::root("role_name")),
        MadeRoleError::Pending { adoptable_at, .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. If that apply is still running, let it finish: this resource would duplicate it. If it was interrupted, apply again after {adoptable_at} (the marker is then stale and this resource adopts the role), or import its association now with terraform import <address> <cluster>,<association_id>."
            ),
        )
        .at(AttrPath::root("role_name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_taken_points_at_role_name_and_names_the_owner() {
        let err = MadeRoleError::NameTaken {
            name: "r".into(),
            owner: "c/ns/sa".into(),
            found_owner: Some("c/ns/other".into()),
        };
        let d = diagnostic("creating IAM role r", &err);
        assert!(
            d.detail.contains("(it was made for c/ns/other)"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("set role_arn"), "{}", d.detail);
        assert_eq!(d.attribute, Some(AttrPath::root("role_name")));
    }

    #[test]
    fn ensured_arn_of_every_kind() {
        for e in [
            Ensured::Created("a".into()),
            Ensured::Adopted("a".into()),
            Ensured::Kept("a".into()),
        ] {
            assert_eq!(e.arn(), "a");
        }
    }
}
