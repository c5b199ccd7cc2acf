//! What `terraform query` and `terraform import` say about objects another
//! Terraform state may own (issue 22): an association or addon whose role
//! this provider made carries the owner tag (`schema::role::OWNER_TAG`)
//! for the role's whole life, so it already belongs to some state.
//!
//! Owns: recognising such a role in a listing with one GetRole per role
//! ([`RoleOwners`]), and the warnings of the list resources (what was left
//! out, or listed anyway) and of the imports. Does not own: reading a made
//! role into a state (each resource's `import`), or the tags themselves
//! (`schema::reserved_tags`).

use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use schema::reserved_tags::owner_tag_matches;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tfplugin::Diagnostic;
use tokio::sync::OnceCell;

/// The owner tags of the roles one listing meets, by role name: one GetRole
/// per role, however many associations use it (a given role is often
/// shared; a made role never is), even while several are read at once.
#[derive(Default)]
pub(crate) struct RoleOwners(Mutex<HashMap<String, Arc<OnceCell<Option<String>>>>>);

impl RoleOwners {
    /// True when `role_arn` names a role this provider made for this
    /// service account: exactly when an import would find it made
    /// (`iam::find_own_role`, by name, either owner tag form).
    pub(crate) async fn made_for(
        &self,
        c: &Clients,
        role_arn: &str,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<bool, AwsError> {
        let Ok(parsed) = schema::names::parse_role_arn(role_arn) else {
            return Ok(false);
        };
        // A lookup of the same role already under way is waited for.
        let cell = match self.0.lock() {
            Ok(mut m) => m.entry(parsed.name.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        let owner = cell
            .get_or_try_init(|| async {
                // GetRole alone: the owner tag, as an import of a role made
                // elsewhere reads it.
                Ok::<_, AwsError>(
                    iam::find_role_tags(c, &parsed.name)
                        .await?
                        .and_then(|r| r.tags.get(schema::role::OWNER_TAG).cloned()),
                )
            })
            .await?;
        Ok(owner
            .as_deref()
            .is_some_and(|v| owner_tag_matches(v, cluster, namespace, service_account)))
    }
}

/// Why an object with a made role is not to be adopted lightly, and what
/// to do instead (`what`: "associations" or "addons").
fn why_and_instead(what: &str) -> String {
    format!(
        "A role this provider makes carries the owner tag eks-tools:pod-identity for its whole life, so these {what} already belong to a Terraform state (another workspace or configuration). Importing them into a second state would make two states own them, and a destroy in either would delete them, and their roles, under the other. To bring them here, move them: a `moved` block in the owning configuration, or `terraform state mv` between states; or remove them from the owning state first (`terraform state rm`) and then `terraform import` them here. If the owning state is lost, set include_managed = true to list them."
    )
}

/// The warning of a listing that left out `n` associations (`addons`:
/// addons) with roles this provider made.
pub(crate) fn left_out(n: usize, addons: bool) -> Diagnostic {
    let (summary, what) = if addons {
        (
            format!("{n} addon(s) with roles this provider made left out"),
            "addons",
        )
    } else {
        (
            format!("{n} association(s) with a role this provider made left out"),
            "associations",
        )
    };
    Diagnostic::warning(summary, why_and_instead(what))
}

/// The warning of a listing with `include_managed = true` that listed `n`
/// objects with roles this provider made.
pub(crate) fn listed_anyway(n: usize, addons: bool) -> Diagnostic {
    let what = if addons { "addon(s)" } else { "association(s)" };
    Diagnostic::warning(
        format!(
            "{n} listed {what} with roles this provider made: another Terraform state may own them"
        ),
        "include_managed = true lists them. Their roles carry this provider's owner tag (eks-tools:pod-identity) for their whole life: if the state that made them still holds them, importing them here makes two states own them, and a destroy in either deletes them, and their roles, under the other. Import them only when that state is lost, or after `terraform state rm` there.",
    )
}

/// The warning of an import whose object has roles this provider made
/// (`what`: the object, as "association a-…"; `roles`: the made roles'
/// names). The import goes on: it is how a lost state is recovered.
pub(crate) fn imported_made(what: &str, roles: &[String]) -> Diagnostic {
    Diagnostic::warning(
        format!("Another Terraform state may already own {what}"),
        format!(
            "Its role(s) {} carry this provider's owner tag (eks-tools:pod-identity), which a role it made keeps for its whole life: the resource that made them may still be in another state. If it is, both states now own {what} and its role(s), and destroying it from either deletes them under the other: remove it from one of them (`terraform state rm`), or move it with `terraform state mv` instead of importing. Importing is right when the state that made it was lost.",
            roles.join(", ")
        ),
    )
}
