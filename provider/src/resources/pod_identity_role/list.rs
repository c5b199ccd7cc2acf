//! The list resource `eks_pod_identity_role` (`terraform query`): the IAM
//! roles this resource kind made.
//!
//! Owns: which roles are listed — only those carrying this kind's owner tag
//! for their own name (`pod-identity-role:<name>`); never a role somebody
//! else made, nor a service account's made role, nor one still being
//! created (its creation lease: counted in a warning) — in what order (path,
//! then name), and each event (roles read [`LIST_CONCURRENCY`] at a time,
//! sent in order). The object an event carries is the import's state
//! ([`super::read::imported_state`]), so a configuration generated from it
//! plans no change. Config spec: `schema::lists::role_spec`.
//!
//! Calls: ListRoles under `path_prefix`; then, since ListRoles reports no
//! tags, GetRole per role whose name matches `name_prefix` (and with
//! `include_resource`, the policy listings of each role that is ours).

use super::read::imported_state;
use super::state::{identity, tf_schema};
use crate::aws::Clients;
use crate::aws::iam::role::{self as iam, ListedRole};
use crate::errors::to_diagnostic;
use crate::ownership::{self, Held};
use crate::resources::LIST_CONCURRENCY;
use crate::spec_map;
use futures::StreamExt;
use schema::lists::{RoleListConfig, role_display_name};
use schema::pod_identity_role::{self as rules, PodIdentityRoleState};
use schema::reserved_tags::{OWNER_TAG, shared_role_owner_value};
use schema::tags::Tags;
use tfplugin::{Ctx, Diagnostic, Diagnostics, ListEvent, ListRequest, ListSink};

/// ListResource: sends each role of this kind found to `sink`.
pub(super) async fn list(ctx: &Ctx, req: ListRequest, sink: &mut ListSink) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let (cfg, clients, _) = match crate::resources::list_setup::<RoleListConfig>(ctx, &req.config) {
        Ok(s) => s,
        Err(d) => return d.into(),
    };
    let path_prefix = cfg.path_prefix.as_deref().unwrap_or("/");
    let mut roles = match iam::list_roles_under(&clients, path_prefix).await {
        Ok(r) => r,
        Err(e) => {
            return to_diagnostic(format!("listing IAM roles under {path_prefix}"), &e).into();
        }
    };
    let name_prefix = cfg.name_prefix.as_deref().unwrap_or("");
    roles.retain(|r| r.name.starts_with(name_prefix));
    roles.sort_by(|a, b| (&a.path, &a.name).cmp(&(&b.path, &b.name)));
    let (clients, include) = (&clients, req.include_resource_object);
    let mut events = futures::stream::iter(roles)
        .map(|role| async move { event(clients, &role, include).await })
        .buffered(LIST_CONCURRENCY);
    let mut creating = 0usize;
    while let Some(next) = events.next().await {
        match next {
            Ok(Found::Listed(e)) => {
                if !sink.send(*e).await {
                    break;
                }
            }
            Ok(Found::Creating) => creating += 1,
            Ok(Found::NotOurs) => {}
            Err(d) => {
                diags.push(d);
                return diags;
            }
        }
    }
    if creating > 0 {
        diags.push(Diagnostic::warning(
            format!("{creating} IAM role(s) being created left out"),
            format!(
                "They carry this provider's creation lease (eks-tools:creating): an apply of an {} is making them right now, or was killed while it did (its next apply adopts the role). Query again once it finished.",
                rules::TYPE_NAME
            ),
        ));
    }
    diags
}

/// What became of one role of the listing.
enum Found {
    /// This kind's, finished: its event.
    Listed(Box<ListEvent>),
    /// This kind's, still carrying a creation lease.
    Creating,
    /// Somebody else's, another kind's, or deleted since ListRoles.
    NotOurs,
}

/// True when `tags` carry this kind's owner tag for `name`.
fn ours(name: &str, tags: &Tags) -> bool {
    tags.get(OWNER_TAG) == Some(&shared_role_owner_value(name))
}

/// The event for `role`, when it is this kind's: its identity and display
/// name, and with `include` its imported state.
async fn event(c: &Clients, role: &ListedRole, include: bool) -> Result<Found, Diagnostic> {
    let name = &role.name;
    let summary = || format!("reading IAM role {name}");
    let (tags, state) = if include {
        let owner = shared_role_owner_value(name);
        match iam::find_own_role(c, name, |v| v == owner)
            .await
            .map_err(|e| to_diagnostic(summary(), &e))?
        {
            Some(found) => (found.shape.tags.clone(), imported_state(c, name, found)),
            None => return Ok(Found::NotOurs),
        }
    } else {
        match iam::find_role_tags(c, name)
            .await
            .map_err(|e| to_diagnostic(summary(), &e))?
        {
            Some(found) if ours(name, &found.tags) => {
                let s = PodIdentityRoleState {
                    name: name.clone(),
                    ..Default::default()
                };
                (found.tags, s)
            }
            _ => return Ok(Found::NotOurs),
        }
    };
    if ownership::held(&tags) != Held::Absent {
        return Ok(Found::Creating);
    }
    let resource_object = if include {
        Some(spec_map::to_value(&state, &tf_schema())?)
    } else {
        None
    };
    Ok(Found::Listed(Box::new(ListEvent {
        identity: identity(&state),
        display_name: role_display_name(&role.path, name),
        resource_object,
        diagnostics: Diagnostics::default(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_kinds_owner_tag_for_the_name_is_ours() {
        let tag = |v: &str| Tags::from([(OWNER_TAG.to_string(), v.to_string())]);
        assert!(ours("r", &tag("pod-identity-role:r")));
        assert!(!ours("r", &tag("pod-identity-role:other")));
        assert!(!ours("r", &tag("c/ns/sa")));
        assert!(!ours("r", &Tags::new()));
    }
}
