//! The life of a role the provider makes for pod identity, shared by every
//! resource that makes roles (associations, addon entries).
//!
//! Owns: making sure the wanted role exists (creating it, or adopting the one
//! an interrupted apply left behind, recognised by its owner tag), bringing
//! an existing made role to the wanted shape with the fewest IAM calls, and
//! reading a made role back; and the glue every resource shares around it:
//! [`put_role`] (converge, or make), [`cleanup_roles`] after a failed apply,
//! and [`diagnostic`] for a [`MadeRoleError`]. Does not own: what the role
//! should be (`schema::association::wanted_role`) or single IAM calls
//! (`crate::aws::iam::role`).

use crate::aws::iam::role::{self as iam, FoundRole};
use crate::aws::retry::is_entity_exists;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use schema::association::WantedRole;
use schema::role::{OWNER_TAG, RoleShape, plan_role_change};
use tfplugin::{AttrPath, Diagnostic, Diagnostics};

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
    let tag = found.shape.tags.get(OWNER_TAG).cloned();
    if tag.as_deref() != Some(owner) {
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

/// Brings an existing made role to the wanted shape (repairing drift).
/// `Ok(None)` when the role no longer exists.
pub async fn converge_role(
    c: &Clients,
    wanted: &WantedRole,
) -> Result<Option<FoundRole>, AwsError> {
    let Some(mut found) = iam::find_role_by_name(c, &wanted.name).await? else {
        return Ok(None);
    };
    let change = plan_role_change(&found.shape, &wanted.shape);
    if !change.is_empty() {
        iam::apply_change(c, &wanted.name, &change).await?;
        found.shape = wanted.shape.clone();
    }
    Ok(Some(found))
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
