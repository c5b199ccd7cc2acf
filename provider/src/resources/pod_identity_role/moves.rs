//! Moves to `eks_pod_identity_role`: an `aws_iam_role` of the AWS provider
//! (`hashicorp/aws`) is taken over by a `moved` block (issue 26 item 1). A
//! role that arrives by `moved` is the user's explicit statement of
//! ownership: the move records a marker (the role's IAM RoleId) in the
//! private state, the plan warns that the owner tag is added, and the
//! first apply tags the role as this resource's own through the gate's
//! narrow rule for it (`crate::ownership::moved`), which still refuses a
//! role another resource of this provider owns.
//!
//! The AWS provider's state format, from its source
//! (internal/service/iam/role.go, an SDKv2 resource, schema version 0;
//! read at commit 0040ea6911af, a v4 release, and unchanged in the
//! attributes used here through v6): `id` (= name), `name`, `name_prefix`,
//! `path` (default `/`), `assume_role_policy` (normalised JSON),
//! `permissions_boundary`, `description`, `max_session_duration` (default
//! 3600), `force_detach_policies`, `managed_policy_arns` (optional and
//! computed: every attached policy, however attached), `inline_policy`
//! (a set of `{name, policy}`, computed likewise), `tags`, `tags_all`,
//! `arn`, `unique_id`, `create_date`.
//!
//! Owns: the translation ([`from_aws`], the one place that maps the
//! attributes). Does not own: the source checks
//! (`crate::resources::moves`) or the ownership decision.

use super::state::{identity, private, tf_schema};
use crate::resources::moves::{MoveError, Source, aws_source, respond};
use schema::pod_identity_role::{PodIdentityRoleState, TYPE_NAME};
use schema::role::{INLINE_POLICY_NAME, split_trust};
use std::collections::BTreeMap;
use tfplugin::{MoveRequest, MoveResponse};

/// The AWS provider's resource type this one takes over.
pub(super) const AWS_TYPE: &str = "aws_iam_role";

/// MoveResourceState.
pub(super) fn move_state(req: &MoveRequest) -> MoveResponse {
    // The private state carries the user's statement of ownership until
    // the first apply tags the role (the RoleId: only this very role).
    respond(
        from_aws(req),
        TYPE_NAME,
        &tf_schema(),
        |s| private(false, s.unique_id.as_deref()),
        |s| Some(identity(s)),
    )
}

/// The state an `aws_iam_role` state translates to: what the role is,
/// written as this resource's configuration would say it, so that the
/// first plan shows only what really differs. `name_prefix`,
/// `description` and `max_session_duration` map to the attributes of the
/// same names.
fn from_aws(req: &MoveRequest) -> Result<PodIdentityRoleState, MoveError> {
    let s = aws_source(req, AWS_TYPE, TYPE_NAME)?;
    let name = s.text("name").map_or_else(|| s.required("id"), Ok)?;
    let trust = s.text("assume_role_policy");
    let inline = inline_policy(&s)?;
    let managed = s.strings("managed_policy_arns");
    Ok(PodIdentityRoleState {
        id: Some(name.clone()),
        name,
        name_prefix: s.text("name_prefix"),
        description: s.text("description"),
        max_session_duration: s.number("max_session_duration"),
        path: Some(s.text("path").unwrap_or_else(|| "/".to_string())),
        permission_policy_arns: (!managed.is_empty()).then(|| managed.clone()),
        permission_policy: inline.policy,
        permission_policy_name: inline.name,
        well_known_policies: None,
        well_known_policy_scopes: None,
        permissions_boundary_arn: s.text("permissions_boundary"),
        trust_conditions: trust.as_deref().and_then(|t| split_trust(t).0),
        tags: s.tags("tags"),
        tags_all: Some(s.tags("tags_all").unwrap_or_default()),
        arn: Some(s.required("arn")?),
        unique_id: Some(s.required("unique_id")?),
        attached_policy_arns: Some(managed),
        inline_policies: Some(inline.all),
        trust_policy: trust,
    })
}

/// The role's inline policies as this resource holds them.
struct Inline {
    /// The one inline policy (`permission_policy`).
    policy: Option<String>,
    /// Its name, null for the default name (`permission_policy_name`).
    name: Option<String>,
    /// All of them by name (`inline_policies`).
    all: BTreeMap<String, String>,
}

/// The role's inline policy. This resource holds one inline policy: a role
/// with more is refused rather than moved into a plan that deletes the
/// rest.
fn inline_policy(s: &Source<'_>) -> Result<Inline, MoveError> {
    let all: BTreeMap<String, String> = s
        .objects("inline_policy")
        .into_iter()
        .filter_map(|p| {
            let name = p.get("name")?.as_str().filter(|n| !n.is_empty())?;
            let policy = p.get("policy")?.as_str().filter(|d| !d.is_empty())?;
            Some((name.to_string(), policy.to_string()))
        })
        .collect();
    match all.len() {
        0 | 1 => {
            let (name, policy) = all
                .iter()
                .next()
                .map(|(n, p)| (n.clone(), p.clone()))
                .unzip();
            let name = name.filter(|n| n != INLINE_POLICY_NAME);
            Ok(Inline { policy, name, all })
        }
        n => Err(MoveError::Unsupported {
            source_type: s.type_name().to_string(),
            detail: format!(
                "the role has {n} inline policies ({}), and an {TYPE_NAME} holds one (permission_policy). Merge them into one inline policy, or into managed policies, with the AWS provider first; then move it.",
                all.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::moves::AWS_PROVIDERS;
    use crate::resources::pod_identity_role::state;

    const TRUST: &str = r#"{"Statement":[{"Action":["sts:AssumeRole","sts:TagSession"],"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"}}],"Version":"2012-10-17"}"#;

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

    /// As the AWS provider stores a role made by
    /// terraform-aws-modules/eks-pod-identity with one attachment.
    fn role() -> serde_json::Value {
        serde_json::json!({
            "arn": "arn:aws:iam::111122223333:role/app",
            "assume_role_policy": TRUST,
            "create_date": "2026-01-01T00:00:00Z",
            "description": "",
            "force_detach_policies": true,
            "id": "app",
            "inline_policy": [],
            "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            "max_session_duration": 3600,
            "name": "app",
            "name_prefix": "",
            "path": "/",
            "permissions_boundary": "",
            "tags": {"team": "a"},
            "tags_all": {"team": "a"},
            "unique_id": "AROAEXAMPLE1"
        })
    }

    #[test]
    fn a_role_moves_with_its_policies_tags_and_the_marker_of_its_role_id() {
        let Ok(s) = from_aws(&request(role())) else {
            panic!("role refused");
        };
        assert_eq!((s.name.as_str(), s.id.as_deref()), ("app", Some("app")));
        assert_eq!(s.path.as_deref(), Some("/"));
        assert_eq!(s.permissions_boundary_arn, None, "\"\" is unset");
        assert_eq!(s.permission_policy_arns.as_ref().map(|a| a.len()), Some(1));
        assert_eq!(s.attached_policy_arns, s.permission_policy_arns);
        assert_eq!(s.trust_conditions, None, "the plain pod identity trust");
        assert_eq!(s.trust_policy.as_deref(), Some(TRUST));
        assert_eq!(s.tags.as_ref().map(|t| t.len()), Some(1));
        assert_eq!(s.unique_id.as_deref(), Some("AROAEXAMPLE1"));
        assert_eq!(s.inline_policies, Some(BTreeMap::new()));
        let r = move_state(&request(role()));
        assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
        assert_eq!(
            state::moved_in(&r.target_private).as_deref(),
            Some("AROAEXAMPLE1")
        );
        assert!(!state::drifted(&r.target_private));
    }

    #[test]
    fn one_inline_policy_becomes_permission_policy_and_conditions_stay() {
        let mut v = role();
        v["inline_policy"] = serde_json::json!([{"name": "s3", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}]);
        v["managed_policy_arns"] = serde_json::json!([]);
        v["permissions_boundary"] = serde_json::json!("arn:aws:iam::111122223333:policy/b");
        v["assume_role_policy"] = serde_json::json!(TRUST.replace(
            r#""Principal""#,
            r#""Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}},"Principal""#
        ));
        let Ok(s) = from_aws(&request(v)) else {
            panic!("role refused");
        };
        assert!(
            s.permission_policy
                .is_some_and(|p| p.contains("2012-10-17"))
        );
        assert_eq!(s.permission_policy_name.as_deref(), Some("s3"));
        assert_eq!(s.permission_policy_arns, None);
        assert!(
            s.trust_conditions
                .is_some_and(|c| c.contains("aws:SourceAccount"))
        );
        assert_eq!(
            s.permissions_boundary_arn.as_deref(),
            Some("arn:aws:iam::111122223333:policy/b")
        );
        let mut default_name = role();
        default_name["inline_policy"] =
            serde_json::json!([{"name": INLINE_POLICY_NAME, "policy": "{}"}]);
        let s = from_aws(&request(default_name)).ok();
        assert_eq!(s.and_then(|s| s.permission_policy_name), None);
    }

    #[test]
    fn two_inline_policies_or_no_unique_id_are_refused() {
        let mut v = role();
        v["inline_policy"] =
            serde_json::json!([{"name": "a", "policy": "{}"}, {"name": "b", "policy": "{}"}]);
        let r = move_state(&request(v));
        assert!(r.diagnostics.has_errors());
        assert!(format!("{:?}", r.diagnostics).contains("2 inline policies (a, b)"));
        let mut v = role();
        if let Some(o) = v.as_object_mut() {
            o.remove("unique_id");
        }
        assert!(move_state(&request(v)).diagnostics.has_errors());
        let mut other = request(role());
        other.source_type_name = "aws_iam_policy".into();
        assert!(move_state(&other).diagnostics.has_errors());
    }
}
