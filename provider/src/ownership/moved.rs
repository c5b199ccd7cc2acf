//! The gate's rule for a role that arrived by a `moved` block (issue 26
//! item 1): an `aws_iam_role` of the AWS provider moved to
//! `eks_pod_identity_role` is the user's explicit statement that the
//! resource owns it, so the first apply tags it as the resource's own
//! (`eks-tools:pod-identity` = `pod-identity-role:<name>`), and from then
//! on the role is a recorded one like any other.
//!
//! The rule is narrow: the grant ([`Proof::Moved`]) is given only for the
//! very role the move recorded (IAM's RoleId equals the moved state's
//! `unique_id`), and only when that role carries no owner tag of this
//! provider for anybody else and no creation lease. A role another
//! resource of this provider owns is refused, whatever the moved block
//! says; a role deleted and made again under the name since is refused.
//!
//! Owns: that decision. Does not own: the marker's format in the private
//! state (the resource's) or the writes (`crate::ownership::made_role`).

use super::{Held, Refused, Subject, held, owner_matches};
use crate::aws::Clients;
use crate::aws::grant::{Grant, Proof, issue as grant};
use crate::aws::iam::role as iam;
use schema::role::OWNER_TAG;
use schema::tags::Tags;
use std::time::SystemTime;

/// A moved-in role the gate accepted.
#[derive(Debug)]
pub struct MovedRole {
    /// The grant for the writes that make it the resource's own.
    pub grant: Grant,
    /// When IAM created it (what uses it came later).
    pub created: Option<SystemTime>,
}

/// Decides whether the role `name` that a `moved` block handed to
/// `subject` (recording IAM's RoleId `unique_id`) may be written: read
/// from IAM now. `Ok(None)`: no role has the name any more (the caller
/// makes one, as for any recorded role that vanished).
pub async fn adopt_moved_role(
    c: &Clients,
    name: &str,
    unique_id: &str,
    subject: &Subject,
) -> Result<Option<MovedRole>, Refused> {
    let Some(found) = iam::find_role_tags(c, name).await? else {
        return Ok(None);
    };
    judge(name, unique_id, &found.role_id, &found.tags, subject)?;
    Ok(Some(MovedRole {
        grant: grant(Proof::Moved),
        created: found.created,
    }))
}

/// The rule, on what IAM reports of the role.
fn judge(
    name: &str,
    recorded_id: &str,
    found_id: &str,
    tags: &Tags,
    subject: &Subject,
) -> Result<(), Refused> {
    if recorded_id != found_id {
        return Err(Refused::NotTheMovedRole {
            name: name.to_string(),
            recorded: recorded_id.to_string(),
            found: found_id.to_string(),
        });
    }
    let owner = subject.owner();
    if let Some(tag) = tags.get(OWNER_TAG)
        && !owner_matches(tag, &owner)
    {
        return Err(Refused::NameTaken {
            name: name.to_string(),
            owner,
            found_owner: Some(tag.clone()),
        });
    }
    if let Held::By { written, .. } = held(tags) {
        return Err(Refused::Live {
            what: format!("the IAM role {name}"),
            since: super::rfc3339(written),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use schema::reserved_tags::{owner_tag_value, shared_role_owner_value};

    fn subject() -> Subject {
        Subject::SharedRole { name: "app".into() }
    }

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_moved_role_without_an_owner_tag_or_with_ours_is_accepted() {
        let plain = tags(&[("team", "a")]);
        assert!(judge("app", "AROA1", "AROA1", &plain, &subject()).is_ok());
        let ours = tags(&[(OWNER_TAG, &shared_role_owner_value("app"))]);
        assert!(judge("app", "AROA1", "AROA1", &ours, &subject()).is_ok());
    }

    #[test]
    fn another_owners_role_a_replaced_role_and_a_leased_role_are_refused() {
        let another = tags(&[(OWNER_TAG, &owner_tag_value("c", "ns", "sa"))]);
        assert!(matches!(
            judge("app", "AROA1", "AROA1", &another, &subject()),
            Err(Refused::NameTaken {
                found_owner: Some(_),
                ..
            })
        ));
        let other_shared = tags(&[(OWNER_TAG, &shared_role_owner_value("other"))]);
        assert!(judge("app", "AROA1", "AROA1", &other_shared, &subject()).is_err());
        assert!(matches!(
            judge("app", "AROA1", "AROA2", &Tags::new(), &subject()),
            Err(Refused::NotTheMovedRole { .. })
        ));
        let leased = tags(&[(super::super::LEASE_TAG, "2026-01-01T00:00:00Z/abc")]);
        assert!(matches!(
            judge("app", "AROA1", "AROA1", &leased, &subject()),
            Err(Refused::Live { .. })
        ));
    }
}
