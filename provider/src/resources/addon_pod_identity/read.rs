//! Read of `eks_addon_pod_identity`: the addon and its owned associations
//! as they are now; a vanished addon leaves the state with a warning.

use super::state::{state_from_remote, tf_schema};
use crate::aws::eks::addon;
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
        Ok(None) => {
            resp.new_state = None;
            resp.diagnostics.push(Diagnostic::warning(
                format!("EKS addon {} on cluster {} is gone", prior.addon_name, prior.cluster_name),
                "It was deleted outside Terraform. It is removed from the state; the next apply installs it again.",
            ));
        }
        Err(e) => resp.diagnostics.push(to_diagnostic(
            format!("reading EKS addon {}", prior.addon_name),
            &e,
        )),
    }
    resp
}
