//! Read of `eks_addon_pod_identity`: the addon and its owned associations
//! as they are now. A vanished addon leaves the state with a warning,
//! unless roles made for it remain: then the resource stays for them.

use super::state::{made_role_names, state_from_remote, tf_schema};
use crate::aws::eks::addon;
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::resources::read_setup;
use crate::spec_map;
use schema::addon::AddonState;
use tfplugin::{Ctx, Diagnostic, ReadRequest, ReadResponse};

/// ReadResource.
pub(super) async fn read(ctx: &Ctx, req: ReadRequest) -> ReadResponse {
    let (mut resp, c, prior) = match read_setup::<AddonState>(ctx, req) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match addon::find_by_name(&c, &prior.cluster_name, &prior.addon_name).await {
        Ok(Some(found)) => match state_from_remote(&c, &found, &prior).await {
            Ok(state) => match spec_map::to_value(&state, &tf_schema()) {
                Ok(v) => resp.new_state = Some(v),
                Err(d) => resp.diagnostics.push(d),
            },
            Err(e) => resp.diagnostics.push(to_diagnostic(
                format!("reading the associations of EKS addon {}", prior.addon_name),
                &e,
            )),
        },
        Ok(None) => match remaining_made_roles(&c, &prior).await {
            Ok(roles) if !roles.is_empty() => {
                // The resource exists while anything it made exists (issue
                // 12): kept, without addon, so the plan installs it again
                // and a destroy deletes the roles.
                let mut kept = prior.clone();
                kept.addon_arn = None;
                kept.status = None;
                for e in kept.pod_identity_associations.iter_mut().flatten() {
                    e.association_id = None;
                    e.association_arn = None;
                }
                match spec_map::to_value(&kept, &tf_schema()) {
                    Ok(v) => resp.new_state = Some(v),
                    Err(d) => resp.diagnostics.push(d),
                }
                resp.diagnostics.push(Diagnostic::warning(
                    format!("EKS addon {} on cluster {} is gone", prior.addon_name, prior.cluster_name),
                    format!("It was deleted outside Terraform, but the IAM roles made for it remain ({}). The resource stays in the state for them: the next apply installs the addon again with them, and `terraform destroy` (or removing the resource) deletes them.", roles.join(", ")),
                ));
            }
            Ok(_) => {
                resp.new_state = None;
                resp.diagnostics.push(Diagnostic::warning(
                    format!("EKS addon {} on cluster {} is gone", prior.addon_name, prior.cluster_name),
                    "It was deleted outside Terraform. It is removed from the state; the next apply installs it again.",
                ));
            }
            Err(e) => resp.diagnostics.push(to_diagnostic(
                format!("reading the roles made for EKS addon {}", prior.addon_name),
                &e,
            )),
        },
        Err(e) => resp.diagnostics.push(to_diagnostic(
            format!("reading EKS addon {}", prior.addon_name),
            &e,
        )),
    }
    resp
}

/// The roles made for the entries of `prior` that still exist in IAM.
async fn remaining_made_roles(c: &Clients, prior: &AddonState) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    for name in made_role_names(prior) {
        if iam::find_role_by_name(c, &name).await?.is_some() {
            out.push(name);
        }
    }
    Ok(out)
}
