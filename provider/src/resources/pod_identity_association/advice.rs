//! What `eks_pod_identity_association` tells a user whose service account
//! already has an association it may not take (docs/guides/ownership.md):
//! another resource's (import it, or write `moved`), an addon's, or one
//! another apply is creating right now (let it finish).
//!
//! Owns: those diagnostics. Does not own: the decision (`crate::ownership`).

use super::state::label;
use crate::aws::Clients;
use crate::aws::eks::association::{self, Association};
use crate::ownership::{LEASE_TAG, Refused};
use schema::association::{self as rules, AssociationState};
use tfplugin::{AttrPath, Diagnostic};

/// For a refused made role: the service account's association, if any, and
/// the command that imports it.
pub(super) async fn existing_association_advice(c: &Clients, planned: &AssociationState) -> String {
    match association::find_id_by_service_account(
        c,
        &planned.cluster_name,
        &planned.namespace,
        &planned.service_account,
    )
    .await
    {
        Ok(Some(id)) => format!(
            "\n\nThe service account's association is {id}. To manage it (and its role) with this resource:\n\n  {}",
            rules::import_command(
                "eks_pod_identity_association.<name>",
                &planned.cluster_name,
                &id,
                planned.region.as_deref(),
            )
        ),
        _ => String::new(),
    }
}

/// The error for a service account that already has an association.
pub(super) fn duplicate_diagnostic(
    planned: &AssociationState,
    existing: &Association,
) -> Diagnostic {
    let id = existing.association_id.clone().unwrap_or_default();
    let detail = match &existing.owner_arn {
        Some(owner) => format!(
            "Service account {}/{} in cluster {} already has association {id}, owned by the addon {owner}. A service account can have only one association; manage this one through the addon with the eks_addon_pod_identity resource.",
            planned.namespace, planned.service_account, planned.cluster_name
        ),
        None => format!(
            "Service account {}/{} in cluster {} already has association {id} (role {}), and it is not this resource's: it was made by another resource, workspace or tool (its creation finished). A service account can have only one association, and two resources never share one: destroying either would delete it under the other. To manage the existing one with this resource, import it:\n\n  {}\n\nIf you renamed this resource or its for_each key, write a moved block from the old address instead. If this resource replaces its own association with create_before_destroy, remove create_before_destroy: EKS allows only one association per service account, so the new one cannot exist beside the old. Otherwise remove this resource and keep the existing association.",
            planned.namespace,
            planned.service_account,
            planned.cluster_name,
            existing.settings.role_arn.as_deref().unwrap_or("unknown"),
            rules::import_command(
                "eks_pod_identity_association.<name>",
                &planned.cluster_name,
                &id,
                planned.region.as_deref(),
            )
        ),
    };
    Diagnostic::error(
        format!(
            "creating EKS Pod Identity Association ({}/{}): the service account already has an association",
            planned.namespace, planned.service_account
        ),
        detail,
    )
    .at(AttrPath::root("service_account"))
}

/// The error for an association another apply is working on right now
/// (the gate saw its lease renewed, or lost it to a faster apply).
pub(super) fn pending_diagnostic(
    planned: &AssociationState,
    existing: &Association,
    err: &Refused,
) -> Diagnostic {
    let id = existing.association_id.clone().unwrap_or_default();
    Diagnostic::error(
        format!(
            "creating EKS Pod Identity Association ({}): another apply is creating it right now",
            label(planned)
        ),
        format!(
            "Service account {} in cluster {} has association {id}: {err}. It carries the creation lease {LEASE_TAG} of an apply that is still running. Let it finish, and do not give a second resource this service account; an apply after it finished shows whose the association is.",
            label(planned),
            planned.cluster_name,
        ),
    )
    .at(AttrPath::root("service_account"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned() -> AssociationState {
        AssociationState {
            cluster_name: "c".into(),
            namespace: "ns".into(),
            service_account: "sa".into(),
            ..Default::default()
        }
    }

    #[test]
    fn duplicate_of_an_addon_association_points_at_the_addon() {
        let existing = Association {
            association_id: Some("a-1".into()),
            owner_arn: Some("arn:aws:eks:::addon/c/vpc-cni".into()),
            ..Default::default()
        };
        let d = duplicate_diagnostic(&planned(), &existing);
        assert!(d.detail.contains("owned by the addon"), "{}", d.detail);
        assert!(d.summary.contains("ns/sa"));
        assert_eq!(d.attribute, Some(AttrPath::root("service_account")));
    }

    #[test]
    fn duplicate_of_another_association_gives_the_import_command() {
        let existing = Association {
            association_id: Some("a-1".into()),
            settings: schema::association::Settings {
                role_arn: Some("arn:aws:iam::1:role/r".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let d = duplicate_diagnostic(&planned(), &existing);
        assert!(d.detail.contains("terraform import"), "{}", d.detail);
        assert!(d.detail.contains("a-1"));
        assert!(d.detail.contains("role arn:aws:iam::1:role/r"));
    }
}
