//! Moves to `eks_addon_pod_identity`: an `aws_eks_addon` of the AWS
//! provider (`hashicorp/aws`) is taken over by a `moved` block alone
//! (issue 26 item 1), the addon and its associations untouched.
//!
//! The AWS provider's state format, from its source
//! (internal/service/eks/addon.go, an SDKv2 resource, schema version 0;
//! read at commit 00a35305dc1b, 2026, a v6 release): `id`
//! (`cluster:addon`), `addon_name`, `addon_version` (as installed),
//! `arn`, `cluster_name`, `configuration_values`, `created_at`,
//! `modified_at`, `pod_identity_association` (a set of blocks `{ role_arn,
//! service_account }`, added in v5.34.0), `preserve`,
//! `resolve_conflicts_on_create`, `resolve_conflicts_on_update`,
//! `service_account_role_arn`, `tags`, `tags_all`, `timeouts` (`create`,
//! `update`, `delete`); v6 adds `region` to every regional resource, and v5
//! states still carry the deprecated `resolve_conflicts` (removed in v6),
//! which stood for both conflict settings. SDKv2 stores an unset string as
//! `""`, read here as unset. A `namespace_config` block, where a release
//! has one, moves too.
//!
//! Each `pod_identity_association` block becomes an entry of
//! `pod_identity_associations` with its `role_arn`, a given role
//! (`created_role = false`: never deleted). What the AWS provider does not
//! record (the association IDs, the namespace, the status) is filled by
//! the read Terraform makes after the move; the recommended configuration
//! (`recommended`) by the first plan, which shows it as known after apply:
//! recording it makes no AWS call.
//!
//! Owns: the translation. Does not own: the source checks
//! (`crate::resources::moves`).

use super::state::tf_schema;
use crate::resources::moves::{MoveError, Source, aws_source, respond};
use schema::addon::{AddonAssociation, AddonState, NamespaceConfig, TYPE_NAME, Timeouts};
use tfplugin::{MoveRequest, MoveResponse};

/// The AWS provider's resource type this one takes over.
pub(super) const AWS_TYPE: &str = "aws_eks_addon";

/// MoveResourceState.
pub(super) fn move_state(req: &MoveRequest) -> MoveResponse {
    // The identity is derived from the state (cluster_name, addon_name, region).
    respond(from_aws(req), TYPE_NAME, &tf_schema(), |_| vec![], |_| None)
}

/// The state an `aws_eks_addon` state translates to.
fn from_aws(req: &MoveRequest) -> Result<AddonState, MoveError> {
    let s = aws_source(req, AWS_TYPE, TYPE_NAME)?;
    let cluster_name = s.required("cluster_name")?;
    let addon_name = s.required("addon_name")?;
    // v5's `resolve_conflicts` stood for both settings (create takes only
    // NONE and OVERWRITE).
    let legacy = s.text("resolve_conflicts");
    let on_create = s
        .text("resolve_conflicts_on_create")
        .or_else(|| legacy.clone().filter(|v| v != "PRESERVE"));
    Ok(AddonState {
        id: Some(format!("{cluster_name}:{addon_name}")),
        addon_version: s.text("addon_version"),
        resolved_version: s.text("addon_version"),
        configuration_values: s.text("configuration_values"),
        resolve_conflicts_on_create: on_create,
        resolve_conflicts_on_update: s.text("resolve_conflicts_on_update").or(legacy),
        preserve_on_delete: Some(s.flag("preserve").unwrap_or(false)),
        service_account_role_arn: s.text("service_account_role_arn"),
        pod_identity_associations: entries(&s),
        tags: s.tags("tags"),
        tags_all: Some(s.tags("tags_all").unwrap_or_default()),
        addon_arn: s.text("arn"),
        created_at: s.text("created_at"),
        modified_at: s.text("modified_at"),
        namespace_config: s
            .objects("namespace_config")
            .first()
            .and_then(|b| b.get("namespace")?.as_str().map(str::to_string))
            .map(|namespace| NamespaceConfig { namespace }),
        region: s.region("arn"),
        timeouts: timeouts(&s),
        cluster_name,
        addon_name,
        ..Default::default()
    })
}

/// The `pod_identity_association` blocks as entries with a given role
/// (none: `None`, as a configuration without the attribute plans it).
fn entries(s: &Source<'_>) -> Option<Vec<AddonAssociation>> {
    let entries: Vec<AddonAssociation> = s
        .objects("pod_identity_association")
        .into_iter()
        .filter_map(|b| {
            Some(AddonAssociation {
                service_account: b.get("service_account")?.as_str()?.to_string(),
                role_arn: b.get("role_arn")?.as_str().map(str::to_string),
                created_role: Some(false),
                ..Default::default()
            })
        })
        .collect();
    (!entries.is_empty()).then_some(entries)
}

/// The `timeouts` block, when it sets any.
fn timeouts(s: &Source<'_>) -> Option<Timeouts> {
    // SDKv2 stores it as an object (not a one-element list).
    let t = s.object("timeouts")?;
    let get = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let t = Timeouts {
        create: get("create"),
        update: get("update"),
        delete: get("delete"),
    };
    (t != Timeouts::default()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::moves::AWS_PROVIDERS;

    const ARN: &str = "arn:aws:eks:us-east-1:111122223333:addon/prod/aws-ebs-csi-driver/1a2b";

    fn request(state: serde_json::Value) -> MoveRequest {
        MoveRequest {
            source_provider_address: AWS_PROVIDERS[1].into(),
            source_type_name: AWS_TYPE.into(),
            source_schema_version: 0,
            source_state: state,
            source_private: vec![],
            source_identity: None,
        }
    }

    /// As AWS provider v6 stores it (commit 00a35305dc1b).
    fn v6() -> serde_json::Value {
        serde_json::json!({
            "addon_name": "aws-ebs-csi-driver",
            "addon_version": "v1.30.0-eksbuild.1",
            "arn": ARN,
            "cluster_name": "prod",
            "configuration_values": "",
            "created_at": "2025-01-01T00:00:00Z",
            "id": "prod:aws-ebs-csi-driver",
            "modified_at": "2025-01-01T00:00:00Z",
            "pod_identity_association": [
                {"role_arn": "arn:aws:iam::111122223333:role/a", "service_account": "ebs-csi-controller-sa"},
                {"role_arn": "arn:aws:iam::111122223333:role/b", "service_account": "ebs-csi-node-sa"}
            ],
            "preserve": true,
            "region": "us-east-1",
            "resolve_conflicts_on_create": "OVERWRITE",
            "resolve_conflicts_on_update": "",
            "service_account_role_arn": "",
            "tags": {"team": "storage"},
            "tags_all": {"team": "storage"},
            "timeouts": null
        })
    }

    #[test]
    fn a_v6_state_moves_with_each_block_an_entry_with_a_given_role() {
        let Ok(s) = from_aws(&request(v6())) else {
            panic!("v6 state refused");
        };
        assert_eq!(s.id.as_deref(), Some("prod:aws-ebs-csi-driver"));
        assert_eq!(s.addon_version.as_deref(), Some("v1.30.0-eksbuild.1"));
        assert_eq!(s.resolved_version, s.addon_version);
        assert_eq!(s.configuration_values, None, "\"\" is unset");
        assert_eq!(s.resolve_conflicts_on_create.as_deref(), Some("OVERWRITE"));
        assert_eq!(s.resolve_conflicts_on_update, None);
        assert_eq!(s.preserve_on_delete, Some(true));
        assert_eq!(s.service_account_role_arn, None);
        assert_eq!(s.addon_arn.as_deref(), Some(ARN));
        assert_eq!(s.region.as_deref(), Some("us-east-1"));
        assert_eq!(s.timeouts, None);
        let entries = s.pod_identity_associations.clone().unwrap_or_default();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].service_account, "ebs-csi-controller-sa");
        assert_eq!(
            entries[1].role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/b")
        );
        assert!(entries.iter().all(|e| e.created_role == Some(false)));
        assert!(crate::spec_map::to_value(&s, &tf_schema()).is_ok());
    }

    #[test]
    fn a_v5_state_without_region_and_with_legacy_conflicts_moves_too() {
        let mut v5 = v6();
        if let Some(o) = v5.as_object_mut() {
            o.remove("region");
            o.remove("resolve_conflicts_on_create");
            o.insert("resolve_conflicts".into(), "PRESERVE".into());
            o.insert("pod_identity_association".into(), serde_json::json!([]));
            o.insert(
                "timeouts".into(),
                serde_json::json!({"create": "30m", "update": null, "delete": null}),
            );
        }
        let Ok(s) = from_aws(&request(v5)) else {
            panic!("v5 state refused");
        };
        assert_eq!(s.region.as_deref(), Some("us-east-1"), "from the ARN");
        assert_eq!(
            s.resolve_conflicts_on_create, None,
            "PRESERVE is not for create"
        );
        assert_eq!(s.resolve_conflicts_on_update.as_deref(), Some("PRESERVE"));
        assert_eq!(s.pod_identity_associations, None);
        assert_eq!(s.timeouts.and_then(|t| t.create).as_deref(), Some("30m"));
    }

    #[test]
    fn other_sources_are_refused_naming_what_moves() {
        let mut r = request(v6());
        r.source_type_name = "aws_eks_pod_identity_association".into();
        let out = move_state(&r);
        assert!(out.target_state.is_null());
        let d = out.diagnostics.0.first().cloned();
        let detail = d.map(|d| d.detail).unwrap_or_default();
        assert!(
            detail.contains("aws_eks_addon to eks_addon_pod_identity"),
            "{detail}"
        );
    }
}
