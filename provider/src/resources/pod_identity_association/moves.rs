//! Moves to `eks_pod_identity_association`: an `aws_eks_pod_identity_association`
//! of the AWS provider (`hashicorp/aws`) is taken over by a `moved` block
//! alone (issue 26 item 1), the association untouched.
//!
//! The AWS provider's state format, from its source
//! (internal/service/eks/pod_identity_association.go, a plugin-framework
//! resource, schema version 0):
//! - v5 (the resource as added in v5.29.0; read at commit 93bd0baa44a9):
//!   `id` (= association_id), `association_arn`, `association_id`,
//!   `cluster_name`, `namespace`, `service_account`, `role_arn`, `tags`,
//!   `tags_all`;
//! - v6.2.0 and later (read at commit 00a35305dc1b, 2026) add
//!   `disable_session_tags` (default false), `target_role_arn` and
//!   `external_id`; v6 adds `region` to every regional resource.
//!
//! A `policy` (session policy) attribute, should a later release add one
//! for EKS's session policies, becomes `session_policy`. The role is a
//! given one (`created_role = false`): this provider never deletes a role
//! it did not make. Everything else (`created_at`, the service account
//! attributes) is filled by the read Terraform makes after the move.
//!
//! Owns: the translation. Does not own: the source checks
//! (`crate::resources::moves`).

use super::state::{identity, tf_schema};
use crate::resources::moves::{MoveError, aws_source, respond};
use schema::association::{AssociationState, TYPE_NAME};
use tfplugin::{MoveRequest, MoveResponse};

/// The AWS provider's resource type this one takes over.
pub(super) const AWS_TYPE: &str = "aws_eks_pod_identity_association";

/// MoveResourceState.
pub(super) fn move_state(req: &MoveRequest) -> MoveResponse {
    respond(
        from_aws(req),
        TYPE_NAME,
        &tf_schema(),
        |_| vec![],
        |s| Some(identity(s)),
    )
}

/// The state an `aws_eks_pod_identity_association` state translates to.
fn from_aws(req: &MoveRequest) -> Result<AssociationState, MoveError> {
    let s = aws_source(req, AWS_TYPE, TYPE_NAME)?;
    let association_id = s.text("association_id").or_else(|| s.text("id"));
    Ok(AssociationState {
        id: association_id.clone(),
        cluster_name: s.required("cluster_name")?,
        namespace: s.required("namespace")?,
        service_account: s.required("service_account")?,
        role_arn: Some(s.required("role_arn")?),
        target_role_arn: s.text("target_role_arn"),
        disable_session_tags: Some(s.flag("disable_session_tags").unwrap_or(false)),
        session_policy: s.text("policy"),
        tags: s.tags("tags"),
        tags_all: Some(s.tags("tags_all").unwrap_or_default()),
        association_id,
        association_arn: s.text("association_arn"),
        external_id: s.text("external_id"),
        region: s.region("association_arn"),
        created_role: Some(false),
        restrict_to_cluster: Some(false),
        create_service_account: Some(false),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::moves::AWS_PROVIDERS;

    const ARN: &str =
        "arn:aws:eks:eu-west-1:111122223333:podidentityassociation/prod/a-abcdefghijklmnopq";

    fn request(state: serde_json::Value) -> MoveRequest {
        MoveRequest {
            source_provider_address: AWS_PROVIDERS[0].into(),
            source_type_name: AWS_TYPE.into(),
            source_schema_version: 0,
            source_state: state,
            source_private: vec![],
            source_identity: None,
        }
    }

    /// As AWS provider v5 stores it (commit 93bd0baa44a9).
    fn v5() -> serde_json::Value {
        serde_json::json!({
            "association_arn": ARN,
            "association_id": "a-abcdefghijklmnopq",
            "cluster_name": "prod",
            "id": "a-abcdefghijklmnopq",
            "namespace": "kube-system",
            "role_arn": "arn:aws:iam::111122223333:role/app",
            "service_account": "app",
            "tags": null,
            "tags_all": {}
        })
    }

    #[test]
    fn a_v5_state_moves_with_its_region_from_the_arn_and_a_given_role() {
        let Ok(s) = from_aws(&request(v5())) else {
            panic!("v5 state refused");
        };
        assert_eq!(s.id.as_deref(), Some("a-abcdefghijklmnopq"));
        assert_eq!(s.association_id, s.id);
        assert_eq!(s.association_arn.as_deref(), Some(ARN));
        assert_eq!(s.cluster_name, "prod");
        assert_eq!(s.namespace, "kube-system");
        assert_eq!(s.service_account, "app");
        assert_eq!(
            s.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/app")
        );
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.created_role, Some(false), "a given role: never deleted");
        assert_eq!(s.disable_session_tags, Some(false));
        assert!(crate::spec_map::to_value(&s, &tf_schema()).is_ok());
        assert_eq!((s.tags, s.tags_all), (None, Some(Default::default())));
    }

    #[test]
    fn a_v6_state_keeps_target_role_session_tags_policy_tags_and_region() {
        let mut v6 = v5();
        let extra = serde_json::json!({
            "disable_session_tags": true,
            "target_role_arn": "arn:aws:iam::444455556666:role/far",
            "external_id": "ext-1",
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
            "region": "us-west-2",
            "tags": {"team": "a"},
            "tags_all": {"team": "a", "env": "prod"}
        });
        if let (Some(o), Some(e)) = (v6.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        let Ok(s) = from_aws(&request(v6)) else {
            panic!("v6 state refused");
        };
        assert_eq!(s.disable_session_tags, Some(true));
        assert_eq!(
            s.target_role_arn.as_deref(),
            Some("arn:aws:iam::444455556666:role/far")
        );
        assert_eq!(s.external_id.as_deref(), Some("ext-1"));
        assert!(s.session_policy.is_some_and(|p| p.contains("2012-10-17")));
        assert_eq!(
            s.region.as_deref(),
            Some("us-west-2"),
            "the state's own region wins"
        );
        assert_eq!(s.tags.map(|t| t.len()), Some(1));
        assert_eq!(s.tags_all.map(|t| t.len()), Some(2));
    }

    #[test]
    fn a_state_without_what_names_the_association_is_refused() {
        let mut broken = v5();
        if let Some(o) = broken.as_object_mut() {
            o.remove("namespace");
        }
        let r = move_state(&request(broken));
        assert!(r.target_state.is_null());
        assert!(r.diagnostics.has_errors());
        let mut addon = request(v5());
        addon.source_type_name = "aws_eks_addon".into();
        assert!(move_state(&addon).diagnostics.has_errors());
    }
}
