//! The name of a role made from `name_prefix`.
//!
//! Owns: making a unique name for a prefix at create, and finding the
//! half-made role that a dead apply left under a name made from the same
//! prefix and path. Such a role carries this resource kind's owner tag for
//! its own name and a creation lease (CreateRole writes both in one call);
//! the create takes it over through the gate exactly as it would under a
//! given name, so a kill after CreateRole converges with one more apply and
//! leaves no role behind. Does not own: whether a role may be taken
//! (`crate::ownership::claim_role`: only a lease nobody renewed for a whole
//! lease time is taken; a live apply's lease or a finished role is left).
//!
//! What it cannot cover: a kill after the lease was released but before
//! Terraform wrote the state leaves a finished role no state records (as
//! with a given name, where the next apply refuses the name with the
//! import command). The `eks_pod_identity_role` list resource shows it;
//! import it, or delete it.

use super::state::subject;
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::ownership::{self, Held, Lease, Refused, RoleClaim};
use schema::pod_identity_role as rules;
use schema::reserved_tags::{OWNER_TAG, shared_role_owner_value};
use std::time::SystemTime;

/// The name for a create with `prefix` at `path`: that of a role a dead
/// apply left (its lease is `lease`'s now), or a new unique one.
pub(super) async fn name_for_create(
    c: &Clients,
    prefix: &str,
    path: &str,
    lease: &Lease,
) -> Result<String, AwsError> {
    if let Some(name) = adopt_left_role(c, prefix, path, lease).await? {
        return Ok(name);
    }
    Ok(new_name(prefix))
}

/// A role made from `prefix` at `path` that a dead apply left, taken over
/// with `lease`; `None` when there is none.
async fn adopt_left_role(
    c: &Clients,
    prefix: &str,
    path: &str,
    lease: &Lease,
) -> Result<Option<String>, AwsError> {
    let names = iam::list_role_names(c, path).await?;
    for name in names
        .into_iter()
        .filter(|n| rules::prefix_of_generated(n) == Some(prefix))
    {
        let Some(found) = iam::find_role_tags(c, &name).await? else {
            continue;
        };
        let ours = found.tags.get(OWNER_TAG) == Some(&shared_role_owner_value(&name));
        if !ours || ownership::held(&found.tags) == Held::Absent {
            // Somebody else's, or finished (another state has it).
            continue;
        }
        match ownership::claim_role(c, &name, &subject(&name), lease, false).await {
            Ok(RoleClaim::CreatedNow(_) | RoleClaim::Adopted(_)) => return Ok(Some(name)),
            Ok(RoleClaim::Gone) => {}
            Err(Refused::Aws(e)) => return Err(e),
            // A live apply's (renewed, or finished while we waited): not left.
            Err(e) => tracing::info!("not adopting IAM role {name}: {e}"),
        }
    }
    Ok(None)
}

/// A new name: `prefix`, the time, and 56 random bits (a fresh lease's
/// nonce, from the OS's random source).
fn new_name(prefix: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let random = u64::from_str_radix(Lease::new().nonce(), 16).unwrap_or(millis);
    rules::generated_name(prefix, millis, random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_keep_the_prefix_and_differ() {
        let a = new_name("app-");
        let b = new_name("app-");
        assert_ne!(a, b);
        assert_eq!(rules::prefix_of_generated(&a), Some("app-"));
        assert!(schema::role::check_name(&a).is_ok());
    }
}
