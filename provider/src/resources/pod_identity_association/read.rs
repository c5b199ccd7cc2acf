//! Read of `eks_pod_identity_association`: the association, its made role
//! and its made service account as they are now.
//!
//! Owns: drift detection. A vanished association leaves the state with a
//! warning — unless the resource made a role that still exists: then the
//! resource stays (association_id null), so the next plan creates the
//! association again and destroy still deletes the role (a resource exists
//! while anything it made exists). A vanished made role clears `role_arn`
//! so the next plan makes it again. Inline policies added to a made role
//! show in `inline_policies`; changed tags of a made role are recorded in
//! the private state ([`Private`]) for the plan to show. Does not
//! own: the state built from AWS answers (`super::state`).

use super::service_account;
use super::state::{identity, read_made_role, state_from, tf_schema};
use crate::aws::eks::association::{self, Association};
use crate::aws::iam::role::{self as iam, FoundRole};
use crate::errors::to_diagnostic;
use crate::resources::read_setup;
use crate::spec_map;
use schema::association::AssociationState;
use schema::reserved_tags::{OWNER_TAG, WELL_KNOWN_TAG, owner_tag_matches};
use schema::role::well_known_tag_value;
use std::sync::Arc;
use tfplugin::{Ctx, Diagnostic, ReadRequest, ReadResponse};

/// Private state a read leaves when a made role's tags are not what the
/// resource wrote (owner tag, default tags, user tags): the plan then shows
/// `tags_all` as changing, and apply tags the role again.
///
/// It also carries the made roles this resource no longer uses and could
/// not delete yet (`roles_to_delete`: an apply switched the association to
/// another role and the old role's deletion failed): kept by every read, so
/// the plan shows them and the next apply or destroy deletes them. Nothing
/// made is forgotten.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Private {
    /// The made role's tags are not what the resource wrote.
    pub(super) role_tags_drift: bool,
    /// Made roles left to delete, by name.
    pub(super) roles_to_delete: Vec<String>,
}

impl Private {
    /// Reads it (anything unreadable, or nothing, is the default).
    pub(super) fn from_bytes(bytes: &[u8]) -> Private {
        let v = serde_json::from_slice::<serde_json::Value>(bytes).unwrap_or_default();
        Private {
            role_tags_drift: v["role_tags_drift"].as_bool().unwrap_or(false),
            roles_to_delete: v["roles_to_delete"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
        }
    }

    /// Writes it: empty when there is nothing to say.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut o = serde_json::Map::new();
        if self.role_tags_drift {
            o.insert("role_tags_drift".into(), true.into());
        }
        if !self.roles_to_delete.is_empty() {
            o.insert(
                "roles_to_delete".into(),
                self.roles_to_delete.clone().into(),
            );
        }
        if o.is_empty() {
            vec![]
        } else {
            serde_json::Value::Object(o).to_string().into_bytes()
        }
    }
}

/// ReadResource.
pub(super) async fn read(ctx: &Ctx, req: ReadRequest) -> ReadResponse {
    let (mut resp, clients, prior) = match read_setup::<AssociationState>(ctx, req) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let Some(id) = prior.association_id.clone() else {
        // Kept for its made role after the association vanished.
        if prior.created_role == Some(true) {
            read_without_association(&clients, &prior, "", &mut resp).await;
        } else {
            resp.new_state = None;
        }
        return resp;
    };
    // Roles left to delete stay; the drift flag is this read's to say.
    let carried = Private::from_bytes(&resp.private).roles_to_delete;
    resp.private = Private {
        role_tags_drift: false,
        roles_to_delete: carried.clone(),
    }
    .to_bytes();
    match association::find_by_id(&clients, &prior.cluster_name, &id).await {
        Ok(Some(a)) => read_found(&clients, &prior, &a, &mut resp).await,
        Ok(None) if prior.created_role == Some(true) => {
            read_without_association(&clients, &prior, &id, &mut resp).await;
        }
        Ok(None) => {
            resp.new_state = None;
            resp.diagnostics.push(Diagnostic::warning(
                format!(
                    "EKS Pod Identity Association {id} ({}/{}) is gone",
                    prior.namespace, prior.service_account
                ),
                format!(
                    "It was deleted outside Terraform (or its cluster {} was). It is removed from the state; the next apply creates it again.",
                    prior.cluster_name
                ),
            ));
        }
        Err(e) => resp.diagnostics.push(to_diagnostic(
            format!(
                "reading EKS Pod Identity Association ({}/{})",
                prior.namespace, prior.service_account
            ),
            &e,
        )),
    }
    resp
}

/// The association exists: its state, with the made role and service
/// account read too.
async fn read_found(
    clients: &Arc<crate::aws::Clients>,
    prior: &AssociationState,
    a: &Association,
    resp: &mut ReadResponse,
) {
    let mut state = state_from(a, prior, &clients.default_tags);
    if prior.created_role == Some(true)
        && let Some(name) = prior.role_name.as_deref()
    {
        match iam::find_role_by_name(clients, name).await {
            Ok(Some(found)) => {
                let found =
                    found.with_permission_policy_name(prior.permission_policy_name.as_deref());
                read_made_role(&mut state, prior, &found);
                if role_tags_drifted(prior, &state, &found) {
                    let mut private = Private::from_bytes(&resp.private);
                    private.role_tags_drift = true;
                    resp.private = private.to_bytes();
                }
            }
            Ok(None) => {
                // The made role is gone: the next plan replaces the
                // association and makes the role again.
                resp.diagnostics.push(Diagnostic::warning(
                    format!("IAM role {name} made for {}/{} is gone", prior.namespace, prior.service_account),
                    "It was deleted outside Terraform. The next apply makes it again and replaces the association.",
                ));
                state.role_arn = None;
                state.attached_policy_arns = None;
                state.inline_policies = None;
                state.trust_policy = None;
            }
            Err(e) => {
                resp.diagnostics
                    .push(to_diagnostic(format!("reading IAM role {name}"), &e));
                return;
            }
        }
    }
    service_account::read(clients, prior, &mut state, &mut resp.diagnostics).await;
    resp.identity = Some(identity(&state));
    match spec_map::to_value(&state, &tf_schema()) {
        Ok(v) => resp.new_state = Some(v),
        Err(d) => resp.diagnostics.push(d),
    }
}

/// The association is gone but the resource made a role: while the role
/// exists the resource stays, without association, so that the plan creates
/// the association again and destroy deletes the role. Without the role
/// nothing made is left and the resource goes.
async fn read_without_association(
    clients: &Arc<crate::aws::Clients>,
    prior: &AssociationState,
    id: &str,
    resp: &mut ReadResponse,
) {
    let Some(name) = prior.role_name.as_deref() else {
        resp.new_state = None;
        return;
    };
    let found = match iam::find_role_by_name(clients, name).await {
        Ok(Some(found)) => {
            found.with_permission_policy_name(prior.permission_policy_name.as_deref())
        }
        Ok(None) => {
            resp.new_state = None;
            return;
        }
        Err(e) => {
            resp.diagnostics
                .push(to_diagnostic(format!("reading IAM role {name}"), &e));
            return;
        }
    };
    if !id.is_empty() {
        resp.diagnostics.push(Diagnostic::warning(
            format!(
                "EKS Pod Identity Association {id} ({}/{}) is gone",
                prior.namespace, prior.service_account
            ),
            format!(
                "It was deleted outside Terraform (or its cluster {} was). The IAM role {name} this resource made still exists, so the resource stays: the next apply creates the association again with that role, and destroy deletes the role.",
                prior.cluster_name
            ),
        ));
    }
    let mut state = AssociationState {
        id: None,
        association_id: None,
        external_id: None,
        created_at: None,
        role_arn: Some(found.arn.clone()),
        ..prior.clone()
    };
    read_made_role(&mut state, prior, &found);
    resp.identity = Some(identity(&state));
    match spec_map::to_value(&state, &tf_schema()) {
        Ok(v) => resp.new_state = Some(v),
        Err(d) => resp.diagnostics.push(d),
    }
}

/// True when a made role's tags differ from what the resource wrote: its
/// owner tag, its well-known tag, and the association's tags (the user's
/// and the default tags). A pending marker left on a recorded role counts:
/// it would let another apply adopt the role.
fn role_tags_drifted(
    prior: &AssociationState,
    state: &AssociationState,
    found: &FoundRole,
) -> bool {
    let tags = &found.shape.tags;
    let owner_ok = tags.get(OWNER_TAG).is_some_and(|v| {
        owner_tag_matches(
            v,
            &prior.cluster_name,
            &prior.namespace,
            &prior.service_account,
        )
    });
    let names: Vec<String> = prior
        .well_known_policies
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let wk_wanted = (!names.is_empty()).then(|| well_known_tag_value(&names));
    let user: schema::tags::Tags = tags
        .iter()
        .filter(|(k, _)| ![OWNER_TAG, WELL_KNOWN_TAG].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let wanted_user = state.tags_all.clone().unwrap_or_default();
    !owner_ok || tags.get(WELL_KNOWN_TAG) != wk_wanted.as_ref() || user != wanted_user
}
