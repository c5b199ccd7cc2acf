//! Read of `eks_addon_pod_identity`: the addon, its owned associations and
//! the roles made for its entries as they are now. A vanished addon leaves
//! the state with a warning, unless roles made for it remain: then the
//! resource stays for them.
//!
//! Owns: drift of the made roles. A made role that is gone, or holds other
//! policies, trust, boundary or tags than its entry asks for, is named in a
//! warning and in the private state ([`RolesDrift`]); the plan then shows
//! that entry's `role_arn` as changing and apply puts the role back. An
//! update trusts the roles that read vouched for (no drift) and converges
//! them without reading them again.

use super::state::{cluster_arn_of, made_role_names, state_from_remote, tf_schema};
use crate::aws::eks::addon;
use crate::aws::iam::role as iam;
use crate::aws::{AwsError, Clients};
use crate::errors::to_diagnostic;
use crate::resources::read_setup;
use crate::spec_map;
use schema::addon::AddonState;
use schema::role::{RoleChange, plan_role_change, wanted_role};
use std::collections::BTreeSet;
use tfplugin::{Ctx, Diagnostic, ReadRequest, ReadResponse};

/// ReadResource.
pub(super) async fn read(ctx: &Ctx, req: ReadRequest) -> ReadResponse {
    let (mut resp, c, prior) = match read_setup::<AddonState>(ctx, req) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match addon::find_by_name(&c, &prior.cluster_name, &prior.addon_name).await {
        Ok(Some(found)) => return read_found(&c, resp, &found, &prior).await,
        Ok(None) => match remaining_made_roles(&c, &prior).await {
            Ok(roles) if !roles.is_empty() => {
                // The resource exists while anything it made exists (issue
                // 12): kept, without addon, so the plan installs it again
                // and a destroy deletes the roles.
                let mut kept = prior.clone();
                kept.addon_arn = None;
                kept.status = None;
                kept.created_at = None;
                kept.modified_at = None;
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

/// The read of an addon EKS has: its state as EKS reports it (with the
/// catalogue's part filled once for a state that lacks it: moved from the
/// AWS provider's aws_eks_addon, as an import does) and the drift of the
/// roles made for its entries.
async fn read_found(
    c: &Clients,
    mut resp: ReadResponse,
    found: &addon::Addon,
    prior: &AddonState,
) -> ReadResponse {
    let failed = |e: &AwsError, what: &str| {
        to_diagnostic(
            format!("reading {what} of EKS addon {}", prior.addon_name),
            e,
        )
    };
    let mut state = match state_from_remote(c, found, prior).await {
        Ok(s) => s,
        Err(e) => {
            resp.diagnostics.push(failed(&e, "the associations of"));
            return resp;
        }
    };
    if prior.recommended.is_none()
        && let Err(e) = super::import::fill_catalogue(c, &mut state).await
    {
        resp.diagnostics.push(failed(&e, "the configuration of"));
        return resp;
    }
    match roles_drift(c, &state, prior).await {
        Ok(drift) => {
            for (sa, what) in &drift {
                resp.diagnostics.push(Diagnostic::warning(
                    format!("The IAM role made for {sa} of addon {} changed outside Terraform", prior.addon_name),
                    format!("{what}. A made role holds exactly what its entry in pod_identity_associations asks for: the next apply puts it back."),
                ));
            }
            resp.private = RolesDrift(drift.into_iter().map(|(sa, _)| sa).collect()).to_bytes();
        }
        Err(e) => {
            resp.diagnostics.push(failed(&e, "the roles made for"));
            return resp;
        }
    }
    match spec_map::to_value(&state, &tf_schema()) {
        Ok(v) => resp.new_state = Some(v),
        Err(d) => resp.diagnostics.push(d),
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

/// The private state a read leaves: the service accounts whose made roles
/// changed outside Terraform (empty: every made role is as its entry asks).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct RolesDrift(pub(super) BTreeSet<String>);

impl RolesDrift {
    /// `{"roles_drifted":[...]}`; nothing when there is no drift.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return vec![];
        }
        serde_json::json!({ "roles_drifted": self.0 })
            .to_string()
            .into_bytes()
    }

    /// What [`RolesDrift::to_bytes`] wrote; anything else is no drift.
    pub(super) fn from_bytes(bytes: &[u8]) -> RolesDrift {
        let set = serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| {
                v.get("roles_drifted")?.as_array().map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
            })
            .unwrap_or_default();
        RolesDrift(set)
    }
}

/// The made roles of `state`'s entries that are not what their entries ask
/// for (with the tags the last apply wrote, `prior.tags_all`): service
/// account → what differs.
async fn roles_drift(
    c: &Clients,
    state: &AddonState,
    prior: &AddonState,
) -> Result<Vec<(String, String)>, AwsError> {
    let namespace = state
        .namespace
        .clone()
        .unwrap_or_else(|| "kube-system".into());
    let cluster_arn = cluster_arn_of(state);
    let mut out = Vec::new();
    for e in state.pod_identity_associations.iter().flatten() {
        let Some(name) = e
            .role_name
            .as_deref()
            .filter(|_| e.created_role == Some(true))
        else {
            continue;
        };
        let request = e.role_request(&state.cluster_name, &namespace, prior.tags_all.as_ref());
        let Ok(wanted) = wanted_role(&request, c.partition, cluster_arn.as_deref()) else {
            continue;
        };
        match iam::find_role_by_name(c, name).await? {
            None => out.push((
                e.service_account.clone(),
                format!("IAM role {name} is gone"),
            )),
            Some(found) => {
                let found = found.with_permission_policy_name(e.permission_policy_name.as_deref());
                let change = plan_role_change(&found.shape, &wanted.shape);
                let extra: Vec<&String> = found.extra_inline.keys().collect();
                if !change.is_empty() || !extra.is_empty() {
                    out.push((e.service_account.clone(), describe(name, &change, &extra)));
                }
            }
        }
    }
    Ok(out)
}

/// What an apply would change on a drifted role, in words.
fn describe(name: &str, change: &RoleChange, extra_inline: &[&String]) -> String {
    let mut parts = Vec::new();
    if !change.detach.is_empty() {
        parts.push(format!(
            "attached outside Terraform: {}",
            change.detach.join(", ")
        ));
    }
    if !change.attach.is_empty() {
        parts.push(format!(
            "detached outside Terraform: {}",
            change.attach.join(", ")
        ));
    }
    if !change.put_inline.is_empty() || !change.delete_inline.is_empty() {
        parts.push("its inline policy changed".to_string());
    }
    if !extra_inline.is_empty() {
        let names: Vec<&str> = extra_inline.iter().map(|s| s.as_str()).collect();
        parts.push(format!("inline policies added: {}", names.join(", ")));
    }
    if change.trust_policy.is_some() {
        parts.push("its trust policy changed".to_string());
    }
    if change.boundary.is_some() {
        parts.push("its permissions boundary changed".to_string());
    }
    if !change.tags.is_empty() {
        parts.push("its tags changed".to_string());
    }
    format!("IAM role {name}: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_private_state_round_trips_and_is_empty_without_drift() {
        assert!(RolesDrift::default().to_bytes().is_empty());
        let d = RolesDrift(["a".to_string(), "b".to_string()].into());
        assert_eq!(RolesDrift::from_bytes(&d.to_bytes()), d);
        assert_eq!(RolesDrift::from_bytes(b"garbage"), RolesDrift::default());
        assert_eq!(RolesDrift::from_bytes(b""), RolesDrift::default());
    }

    #[test]
    fn drift_is_described_by_what_apply_changes() {
        let change = RoleChange {
            detach: vec!["arn:x".into()],
            trust_policy: Some("{}".into()),
            ..Default::default()
        };
        let extra = "by-hand".to_string();
        let text = describe("r", &change, &[&extra]);
        assert!(text.contains("attached outside Terraform: arn:x"), "{text}");
        assert!(text.contains("inline policies added: by-hand"), "{text}");
        assert!(text.contains("trust policy changed"), "{text}");
        assert!(!text.contains("boundary"), "{text}");
    }
}
