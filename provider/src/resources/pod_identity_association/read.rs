//! Read of `eks_pod_identity_association`: the association, its made role
//! and its made service account as they are now.
//!
//! Owns: drift detection (a vanished association leaves the state with a
//! warning; a vanished made role clears `role_arn` so the next plan makes
//! it again). Does not own: the state built from AWS answers (`super::state`).

use super::service_account;
use super::state::{identity, read_made_role, state_from, tf_schema};
use crate::aws::eks::association::{self, Association};
use crate::aws::iam::role as iam;
use crate::errors::to_diagnostic;
use crate::resources::read_setup;
use crate::spec_map;
use schema::association::AssociationState;
use std::sync::Arc;
use tfplugin::{Ctx, Diagnostic, ReadRequest, ReadResponse};

/// ReadResource.
pub(super) async fn read(ctx: &Ctx, req: ReadRequest) -> ReadResponse {
    let (mut resp, clients, prior) = match read_setup::<AssociationState>(ctx, req) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let Some(id) = prior.association_id.clone() else {
        resp.new_state = None;
        return resp;
    };
    match association::find_by_id(&clients, &prior.cluster_name, &id).await {
        Ok(Some(a)) => read_found(&clients, &prior, &a, &mut resp).await,
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
            Ok(Some(found)) => read_made_role(&mut state, prior, &found),
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
