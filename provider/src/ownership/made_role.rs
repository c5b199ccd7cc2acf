//! The life of a role the provider makes for pod identity, shared by every
//! resource that makes roles (associations, addon entries): making it,
//! bringing it to the wanted shape with the fewest IAM calls (extra inline
//! policies included), and deleting it.
//!
//! Whether a role may be written is not decided here: every function takes
//! a [`Grant`] from the ownership gate (`crate::ownership`), or gets one
//! from it ([`make`]: CreateRole is its own proof; a taken name goes to
//! `ownership::claim_role`). docs/guides/ownership.md says the rules.
//!
//! Owns: [`make`], [`converge_known`], [`converge_read`], [`delete`],
//! [`cleanup`] after a failed apply, and [`diagnostic`] for a refusal. Does
//! not own: what the role should be (`schema::association::wanted_role`)
//! or single IAM calls (`crate::aws::iam::role`).

use crate::aws::iam::role::{self as iam, FoundRole};
use crate::aws::retry::is_entity_exists;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::ownership::{self, Grant, LEASE_TAG, Lease, Refused, RoleClaim, Subject};
use schema::association::WantedRole;
use schema::role::{RoleShape, plan_role_change};
use std::collections::BTreeSet;
use std::time::SystemTime;
use tfplugin::{AttrPath, Diagnostic, Diagnostics};

/// How the wanted role came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// Created now (or by a create of this apply whose answer was lost).
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

/// A role put in place, with the grant to write it further (release its
/// lease, delete it after a failure).
#[derive(Debug, Clone)]
pub struct Placed {
    /// How it came to be.
    pub ensured: Ensured,
    /// The gate's grant for it.
    pub grant: Grant,
}

/// Makes the wanted role for `subject`, carrying `lease` until the caller
/// releases it (`ownership::release_role`) once the role's association
/// exists. CreateRole comes first (usually the name is free: no read
/// before); a taken name goes to the gate ([`ownership::claim_role`]): a
/// lost answer of this apply, or a role a dead apply left, is adopted and
/// brought to the wanted shape; anything else is refused. A role created
/// here whose policies then fail to attach is deleted again.
/// `partner`: see [`ownership::claim_role`].
pub async fn make(
    c: &Clients,
    wanted: &WantedRole,
    subject: &Subject,
    lease: &Lease,
    partner: bool,
) -> Result<Placed, Refused> {
    let mut marked = wanted.clone();
    marked
        .shape
        .tags
        .insert(LEASE_TAG.to_string(), lease.value(SystemTime::now()));
    let creating = ownership::creating();
    for attempt in 1..=3 {
        let e =
            match iam::create_role(c, &creating, &marked.name, &marked.path, &marked.shape).await {
                Ok(arn) => return attach_after_create(c, creating, &marked, arn).await,
                Err(e) if is_entity_exists(&e) => e,
                Err(e) => return Err(e.into()),
            };
        let (grant, adopted) =
            match ownership::claim_role(c, &marked.name, subject, lease, partner).await? {
                RoleClaim::CreatedNow(g) => (g, false),
                RoleClaim::Adopted(g) => (g, true),
                // Gone again (its resource's destroy ran meanwhile, as when a
                // for_each key is renamed): create it once more.
                RoleClaim::Gone if attempt < 3 => continue,
                RoleClaim::Gone => return Err(e.into()),
            };
        // Re-read it whole and bring it to the wanted shape (the lease we hold
        // now is the one in `marked`'s tags, as the take-over wrote it).
        let Some(found) = iam::find_role_by_name(c, &marked.name).await? else {
            continue;
        };
        let mut target = marked.clone();
        if let Some(v) = found.shape.tags.get(LEASE_TAG) {
            target.shape.tags.insert(LEASE_TAG.to_string(), v.clone());
        }
        let arn = converge_found(c, &grant, &target, found).await?.arn;
        let ensured = if adopted {
            Ensured::Adopted(arn)
        } else {
            Ensured::Created(arn)
        };
        return Ok(Placed { ensured, grant });
    }
    Err(Refused::Aws(AwsError::Incomplete {
        operation: "CreateRole",
        field: "role",
    }))
}

/// CreateRole set trust, boundary and tags; the policies remain. On
/// failure the half-made role goes again.
async fn attach_after_create(
    c: &Clients,
    grant: Grant,
    marked: &WantedRole,
    arn: String,
) -> Result<Placed, Refused> {
    let created = RoleShape {
        trust_policy: marked.shape.trust_policy.clone(),
        permissions_boundary_arn: marked.shape.permissions_boundary_arn.clone(),
        tags: marked.shape.tags.clone(),
        description: marked.shape.description.clone(),
        max_session_duration: marked.shape.max_session_duration,
        ..Default::default()
    };
    let change = plan_role_change(&created, &marked.shape);
    if let Err(e) = iam::apply_change(c, &grant, &marked.name, &change).await {
        if let Err(cleanup) = iam::delete_role(c, &grant, &marked.name).await {
            tracing::warn!("could not delete half-made role {}: {cleanup}", marked.name);
        }
        return Err(e.into());
    }
    Ok(Placed {
        ensured: Ensured::Created(arn),
        grant,
    })
}

/// Brings a role found whole to `wanted`: the calls that differ, then the
/// inline policies the provider never writes go (after the wanted ones are
/// in place, and never one whose name the wanted shape uses).
async fn converge_found(
    c: &Clients,
    grant: &Grant,
    wanted: &WantedRole,
    found: FoundRole,
) -> Result<FoundRole, AwsError> {
    let mut found =
        found.with_permission_policy_name(wanted.shape.permission_policy_name.as_deref());
    let change = plan_role_change(&found.shape, &wanted.shape);
    if !change.is_empty() {
        iam::apply_change(c, grant, &wanted.name, &change).await?;
        found.shape = wanted.shape.clone();
    }
    let extra = extras_to_delete(wanted, found.extra_inline.keys());
    if !extra.is_empty() {
        iam::delete_inline_policies(c, grant, &wanted.name, &extra).await?;
    }
    found.extra_inline.clear();
    Ok(found)
}

/// The inline policies found beside what the provider writes that go: all
/// but one whose name the wanted shape uses (it was just put: deleting it
/// would leave the role without its permission, issue 23 item 3).
fn extras_to_delete<'a>(
    wanted: &WantedRole,
    found: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    let keep: BTreeSet<String> = schema::addon::inline_policy_names(&wanted.shape)
        .into_iter()
        .collect();
    found.filter(|k| !keep.contains(*k)).cloned().collect()
}

/// Reads a recorded role and brings it to the wanted shape (repairing
/// drift). The role must still be ours by
/// [`ownership::verify_recorded_role`] (`made_before`: when what uses it was
/// created); the gate refuses a role somebody made again under the name.
/// `Ok(None)` when the role no longer exists: the caller makes it again
/// ([`make`]).
pub async fn converge_read(
    c: &Clients,
    grant: &Grant,
    wanted: &WantedRole,
    subject: &Subject,
    made_before: Option<SystemTime>,
) -> Result<Option<Ensured>, Refused> {
    let Some(found) = iam::find_role_by_name(c, &wanted.name).await? else {
        return Ok(None);
    };
    ownership::verify_recorded_role(
        &wanted.name,
        &found.shape.tags,
        &subject.owner(),
        found.created,
        made_before,
    )?;
    let found = converge_found(c, grant, wanted, found).await?;
    Ok(Some(Ensured::Kept(found.arn)))
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

/// Brings a recorded role from what the state knows of it (`known`) to the
/// wanted shape with exactly the calls that differ. `Ok(None)` when a call
/// finds the role gone or changed (NoSuchEntity after the refresh): the
/// caller reads it ([`converge_read`]) or makes it again.
pub async fn converge_known(
    c: &Clients,
    grant: &Grant,
    wanted: &WantedRole,
    known: &KnownRole,
) -> Result<Option<Ensured>, Refused> {
    let change = plan_role_change(&known.shape, &wanted.shape);
    let mut done = iam::apply_change(c, grant, &wanted.name, &change).await;
    let extra = extras_to_delete(wanted, known.extra_inline.iter());
    if done.is_ok() && !extra.is_empty() {
        done = iam::delete_inline_policies(c, grant, &wanted.name, &extra).await;
    }
    match done {
        Ok(()) => Ok(Some(Ensured::Kept(known.arn.clone()))),
        Err(e) if e.is_not_found() => {
            tracing::info!(
                "IAM role {} changed since the refresh ({e}); reading it again",
                wanted.name
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes a made role, from what the state knows it holds (`known`: its
/// managed policies and inline policy names; `None`: listed first). Only
/// while it is still ours by [`ownership::verify_recorded_role`]
/// (`made_before`: when what uses it was created): a role made again by
/// somebody else under the name is left alone (a warning in `diags`). A
/// role already gone counts as deleted.
pub async fn delete(
    c: &Clients,
    grant: &Grant,
    name: &str,
    subject: &Subject,
    made_before: Option<SystemTime>,
    known: Option<(&BTreeSet<String>, &[String])>,
    diags: &mut Diagnostics,
) -> Result<(), AwsError> {
    let Some(found) = iam::find_role_tags(c, name).await? else {
        return Ok(());
    };
    let owner = subject.owner();
    if ownership::verify_recorded_role(name, &found.tags, &owner, found.created, made_before)
        .is_err()
    {
        diags.push(Diagnostic::warning(
            format!("IAM role {name} was not deleted"),
            format!(
                "The role named {name} no longer carries this provider's owner tag for {}: it was deleted and made again outside Terraform, so it is somebody else's now and is left as it is.",
                subject.owner()
            ),
        ));
        return Ok(());
    }
    match known {
        Some((attached, inline)) => iam::delete_role_known(c, grant, name, attached, inline).await,
        None => iam::delete_role(c, grant, name).await,
    }
}

/// Deletes the roles an apply created before it failed, so nothing is
/// half made. Returns the names it could not delete (each a warning in
/// `diags`): the caller keeps them in state so a later apply deletes them.
pub async fn cleanup(
    c: &Clients,
    roles: &[(String, Grant)],
    diags: &mut Diagnostics,
) -> Vec<String> {
    let mut left = Vec::new();
    for (name, grant) in roles {
        if let Err(e) = iam::delete_role(c, grant, name).await {
            diags.push(Diagnostic::warning(
                format!("IAM role {name} could not be cleaned up"),
                format!("{e}. It stays in this resource's state, and the next apply or destroy deletes it."),
            ));
            left.push(name.clone());
        }
    }
    left
}

/// A refusal of the gate as a diagnostic: `summary` says what we were doing.
/// (Kept beside the made role rather than in `crate::errors`, which is
/// about AWS errors and must not depend on the gate.)
pub fn diagnostic(summary: impl Into<String>, err: &Refused) -> Diagnostic {
    match err {
        Refused::Aws(e) => to_diagnostic(summary, e),
        Refused::NameTaken { found_owner, .. } => Diagnostic::error(
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
        Refused::OwnedByAnother { .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. Two resources never share a made role: destroying either would delete it under the other. If this resource should manage it, move it from the resource that has it (a moved block, or terraform state mv) or, when you renamed the resource or its for_each key, write a moved block from the old address. Otherwise set role_name to another name, or set role_arn to use the existing role as it is."
            ),
        )
        .at(AttrPath::root("role_name")),
        Refused::NotTheMovedRole { .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. The provider takes over only the very role a moved block handed it. Remove this resource from the state (terraform state rm) and decide again: let it make a role under another name, or use the existing role as it is through the associations' role_arn."
            ),
        )
        .at(AttrPath::root("name")),
        Refused::Live { .. } | Refused::Lost { .. } => Diagnostic::error(
            summary,
            format!(
                "{err}. Another apply is working on it right now: let it finish, and do not give two resources the same service account. Applying again after it finished shows whose it is."
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
        let err = Refused::NameTaken {
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
