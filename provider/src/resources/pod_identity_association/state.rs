//! The association's state as Terraform sees it, built from what EKS and IAM
//! report: the schema, the state ↔ value conversion, the resource identity,
//! and what "exactly what the plan asks for" means for an association found
//! on create ([`same_as_planned`]; the gate, `crate::ownership`, decides).
//!
//! Owns: everything apply, read and import share about the state. Does not
//! own: any AWS call (`crate::aws`) or the pure rules (`schema::association`).

use crate::aws::eks::association::Association;
use crate::aws::iam::role::FoundRole;
use crate::ownership::LEASE_TAG as PENDING_TAG;
use crate::ownership::made_role::KnownRole;
use crate::spec_map;
use schema::association::{self as rules, AssociationState, WantedRole};
use schema::policy;
use schema::role::{INLINE_POLICY_NAME, RoleShape, WELL_KNOWN_POLICY_NAME};
use schema::tags::Tags;
use tfplugin::{ApplyResponse, Schema, Value};

/// The marker earlier versions put on every association they created
/// (permanently, which let two resources adopt one association). Still
/// hidden from `tags`/`tags_all`, and never a reason to adopt.
pub(super) const LEGACY_CREATED_BY_TAG: &str = schema::reserved_tags::CREATED_BY_TAG;

/// The resource's Terraform schema.
pub(super) fn tf_schema() -> Schema {
    spec_map::to_schema(&rules::spec())
}

/// The resource identity's schema: cluster name and association ID.
pub(super) fn identity_schema() -> Schema {
    let mut s = spec_map::to_schema(&schema::ResourceSpec {
        name: rules::TYPE_NAME,
        description: "",
        version: IDENTITY_VERSION,
        attrs: vec![
            schema::Attr::required(
                "cluster_name",
                schema::Kind::String,
                "Name of the EKS cluster.",
            ),
            schema::Attr::required(
                "association_id",
                schema::Kind::String,
                "The association ID.",
            ),
            schema::Attr::optional(
                "region",
                schema::Kind::String,
                "The cluster's region (as the resource's `region`; null, or left out at import: the provider's).",
            ),
        ],
        blocks: vec![],
    });
    s.version = IDENTITY_VERSION;
    s
}

/// The identity schema's version: 1 added `region` (null in an identity
/// stored by version 0, which knew only the provider's region).
pub(super) const IDENTITY_VERSION: i64 = 1;

/// An identity stored by an older identity schema, in the current one.
pub(super) fn upgrade_identity(
    version: i64,
    mut raw: serde_json::Value,
) -> Result<serde_json::Value, tfplugin::Diagnostics> {
    match (version, raw.as_object_mut()) {
        (0, Some(o)) => {
            o.entry("region").or_insert(serde_json::Value::Null);
            Ok(raw)
        }
        _ => Err(tfplugin::Diagnostic::error(
            "Unsupported identity version",
            format!(
                "An eks_pod_identity_association identity of version {version} cannot be upgraded to version {IDENTITY_VERSION}."
            ),
        )
        .into()),
    }
}

/// `namespace/service_account`, as messages name an association.
pub(super) fn label(s: &AssociationState) -> String {
    format!("{}/{}", s.namespace, s.service_account)
}

/// `resp` with `state` as its new state.
pub(super) fn finish(mut resp: ApplyResponse, state: &AssociationState) -> ApplyResponse {
    match spec_map::to_value(state, &tf_schema()) {
        Ok(v) => resp.new_state = v,
        Err(d) => resp.diagnostics.push(d),
    }
    resp
}

/// The identity value of a state.
pub(super) fn identity(state: &AssociationState) -> Value {
    let mut v = Value::Null;
    v.set("cluster_name", Value::string(&state.cluster_name));
    v.set(
        "association_id",
        state
            .association_id
            .clone()
            .map(Value::string)
            .unwrap_or(Value::Null),
    );
    v.set(
        "region",
        state
            .region
            .clone()
            .map(Value::string)
            .unwrap_or(Value::Null),
    );
    v
}

/// The state for an association as AWS reports it. `base` is the prior or
/// planned state: it gives the cluster name, the text of a semantically
/// equal session policy, and which tags the user wrote (vs. default tags).
pub(super) fn state_from(
    a: &Association,
    base: &AssociationState,
    defaults: &Tags,
) -> AssociationState {
    let remote_tags = visible_tags(a);
    let own_keys = base.tags.clone().unwrap_or_default();
    let tags: Tags = remote_tags
        .iter()
        .filter(|(k, v)| own_keys.contains_key(*k) || defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The settings through their table; what EKS does not report (the made
    // role, the service account, the region) stays as `base` has it.
    let mut s = rules::with_settings(base, &a.settings);
    s.id = a.association_id.clone();
    s.cluster_name = a
        .cluster_name
        .clone()
        .unwrap_or_else(|| base.cluster_name.clone());
    s.namespace = a.namespace.clone().unwrap_or_default();
    s.service_account = a.service_account.clone().unwrap_or_default();
    s.tags = if tags.is_empty() && base.tags.is_none() {
        None
    } else {
        Some(tags)
    };
    s.tags_all = Some(remote_tags);
    s.association_id = a.association_id.clone();
    s.association_arn = a.association_arn.clone();
    s.external_id = a.external_id.clone().filter(|e| !e.is_empty());
    s.owner_arn = a.owner_arn.clone();
    s.created_at = a.created_at.clone();
    s.restrict_to_cluster = Some(base.restrict_to_cluster.unwrap_or(false));
    s.created_role = Some(base.created_role.unwrap_or(false));
    s.create_service_account = Some(base.create_service_account.unwrap_or(false));
    s
}

/// The association's tags without the legacy marker. A pending marker shows
/// (in `tags_all`): on an association in state it is drift — an apply that
/// could not remove it — and the next apply removes it.
pub(super) fn visible_tags(a: &Association) -> Tags {
    a.tags
        .iter()
        .filter(|(k, _)| *k != LEGACY_CREATED_BY_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// True when an association is exactly what the plan asks for: every
/// setting (`schema::association::SETTINGS`) and the tags.
pub(super) fn same_as_planned(a: &Association, s: &AssociationState) -> bool {
    let found: Tags = visible_tags(a)
        .into_iter()
        .filter(|(k, _)| k != PENDING_TAG)
        .collect();
    let planned = s.tags_all.clone().unwrap_or_default();
    rules::same_settings(s, &a.settings)
        && (found == planned || found == without_held_back(&planned))
}

/// The tag a create holds back until the lease is gone, when the planned
/// tags fill EKS's limit (50): the create sends the others beside the
/// lease (`schema::reserved_tags::association_user_tag_limit`).
pub(super) fn held_back(tags: &Tags) -> Option<(String, String)> {
    (tags.len() >= schema::tags::MAX_TAGS)
        .then(|| tags.last_key_value().map(|(k, v)| (k.clone(), v.clone())))
        .flatten()
}

/// `tags` without the tag [`held_back`] holds back.
pub(super) fn without_held_back(tags: &Tags) -> Tags {
    let mut t = tags.clone();
    if let Some((k, _)) = held_back(tags) {
        t.remove(&k);
    }
    t
}

/// Records in state the made role as it now is (the wanted shape).
pub(super) fn record_made_role(state: &mut AssociationState, wanted: &WantedRole) {
    state.created_role = Some(true);
    state.role_name = Some(wanted.name.clone());
    state.role_path = Some(wanted.path.clone());
    state.attached_policy_arns = Some(wanted.shape.managed_policy_arns.clone());
    state.inline_policies = Some(rules::inline_policies_of(&wanted.shape));
    state.trust_policy = Some(wanted.shape.trust_policy.clone());
}

/// Records in state the made role as read from IAM, keeping the state's own
/// text of documents that mean the same.
pub(super) fn read_made_role(
    state: &mut AssociationState,
    prior: &AssociationState,
    found: &FoundRole,
) {
    let prior_inline = prior.inline_policies.clone().unwrap_or_default();
    state.attached_policy_arns = Some(found.shape.managed_policy_arns.clone());
    state.inline_policies = Some(
        rules::inline_policies_of(&found.shape)
            .into_iter()
            .map(|(k, actual)| {
                let text = match prior_inline.get(&k) {
                    Some(ours) if policy::equivalent(ours, &actual) => ours.clone(),
                    _ => actual,
                };
                (k, text)
            })
            .collect(),
    );
    // Inline policies added outside Terraform show too: the plan (which
    // expects only the provider's own) then removes them.
    if let Some(m) = state.inline_policies.as_mut() {
        m.extend(found.extra_inline.clone());
    }
    state.trust_policy = Some(match &prior.trust_policy {
        Some(ours) if policy::equivalent(ours, &found.shape.trust_policy) => ours.clone(),
        _ => found.shape.trust_policy.clone(),
    });
    state.permissions_boundary_arn = found.shape.permissions_boundary_arn.clone();
    state.role_path = Some(found.path.clone());
}

/// The ARN of the role a prior state made, from its name and path and the
/// partition and account of the association's ARN; `None` when any is missing.
pub(super) fn made_role_arn(p: &AssociationState) -> Option<String> {
    let assoc = p.association_arn.as_deref()?;
    let parts: Vec<&str> = assoc.splitn(6, ':').collect();
    let (partition, account) = (parts.get(1)?, parts.get(4)?);
    let name = p.role_name.as_deref()?;
    let path = p.role_path.as_deref().unwrap_or("/");
    Some(format!("arn:{partition}:iam::{account}:role{path}{name}"))
}

/// What the refreshed state knows of its made role, the inverse of
/// [`read_made_role`]: policies, trust and boundary as read; the tags as
/// the resource wrote them, which read vouches for unless it flagged them
/// as changed (`tags_drifted`). `None` when the state does not know enough
/// (no refresh recorded them, another role is wanted, tags drifted): the
/// update then reads the role first.
pub(super) fn known_made_role(
    prior: &AssociationState,
    wanted: &WantedRole,
    partition: &str,
    tags_drifted: bool,
) -> Option<KnownRole> {
    if prior.created_role != Some(true)
        || tags_drifted
        || prior.role_name.as_deref() != Some(wanted.name.as_str())
        || prior.role_path.as_deref() != Some(wanted.path.as_str())
    {
        return None;
    }
    let mut inline = prior.inline_policies.clone()?;
    let written = rules::wanted_role(prior, partition, None).ok()?;
    let shape = RoleShape {
        managed_policy_arns: prior.attached_policy_arns.clone()?,
        permission_policy: inline.remove(
            prior
                .permission_policy_name
                .as_deref()
                .unwrap_or(INLINE_POLICY_NAME),
        ),
        permission_policy_name: prior.permission_policy_name.clone(),
        well_known_policy: inline.remove(WELL_KNOWN_POLICY_NAME),
        permissions_boundary_arn: prior.permissions_boundary_arn.clone(),
        trust_policy: prior.trust_policy.clone()?,
        tags: written.shape.tags,
        // Not managed on a service account's made role.
        description: None,
        max_session_duration: None,
    };
    Some(KnownRole {
        // The made role's own ARN: read shows the association's role in
        // role_arn, which may be another one set by hand.
        arn: made_role_arn(prior)?,
        shape,
        extra_inline: inline.into_keys().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn association(role: &str, t: &[(&str, &str)]) -> Association {
        Association {
            association_id: Some("a-1".into()),
            settings: rules::Settings {
                role_arn: Some(role.into()),
                ..Default::default()
            },
            tags: tags(t),
            ..Default::default()
        }
    }

    #[test]
    fn state_keeps_user_tags_that_equal_defaults() {
        let a = association("r", &[("team", "x"), ("own", "y")]);
        let defaults = tags(&[("team", "x")]);
        let s = state_from(&a, &AssociationState::default(), &defaults);
        assert_eq!(s.tags, Some(tags(&[("own", "y")])));
        let base = AssociationState {
            tags: Some(defaults.clone()),
            ..Default::default()
        };
        assert_eq!(
            state_from(&a, &base, &defaults).tags.map(|t| t.len()),
            Some(2)
        );
    }

    #[test]
    fn state_hides_the_marker_tag_and_keeps_equal_policy_text() {
        let mut a = association("r", &[(LEGACY_CREATED_BY_TAG, "x")]);
        a.settings.policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
        let base = AssociationState {
            cluster_name: "c".into(),
            session_policy: Some(r#"{ "Statement": [], "Version": "2012-10-17" }"#.into()),
            ..Default::default()
        };
        let s = state_from(&a, &base, &Tags::new());
        assert_eq!(s.tags_all, Some(Tags::new()));
        assert_eq!(s.tags, None);
        assert_eq!(s.session_policy, base.session_policy);
        assert_eq!(s.cluster_name, "c");
        assert_eq!(s.created_role, Some(false));
    }

    #[test]
    fn a_found_association_is_the_planned_one_only_when_everything_matches() {
        let planned = AssociationState {
            role_arn: Some("r".into()),
            tags_all: Some(Tags::new()),
            ..Default::default()
        };
        let lease = crate::ownership::Lease::new().value(std::time::SystemTime::now());
        // The lease itself is not a difference.
        let left = association("r", &[(PENDING_TAG, &lease)]);
        assert!(same_as_planned(&left, &planned));
        assert!(!same_as_planned(&association("other", &[]), &planned));
        let mut tagged = left.clone();
        tagged.tags.insert("k".into(), "v".into());
        assert!(!same_as_planned(&tagged, &planned));
        let mut with_policy = left;
        with_policy.settings.policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
        assert!(!same_as_planned(&with_policy, &planned));
    }

    #[test]
    fn identity_has_cluster_and_id() {
        let s = AssociationState {
            cluster_name: "c".into(),
            association_id: Some("a-1".into()),
            ..Default::default()
        };
        let v = identity(&s);
        assert_eq!(v.get("cluster_name").as_str(), Some("c"));
        assert_eq!(v.get("association_id").as_str(), Some("a-1"));
        assert!(v.get("region").is_null());
        let west = AssociationState {
            region: Some("us-west-2".into()),
            ..s
        };
        assert_eq!(identity(&west).get("region").as_str(), Some("us-west-2"));
    }

    #[test]
    fn identity_version_0_upgrades_with_a_null_region() {
        let old = serde_json::json!({"cluster_name": "c", "association_id": "a-1"});
        let up = upgrade_identity(0, old).expect("upgrades");
        assert_eq!(
            up,
            serde_json::json!({"cluster_name": "c", "association_id": "a-1", "region": null})
        );
        assert!(upgrade_identity(7, serde_json::json!({})).is_err());
        assert!(upgrade_identity(0, serde_json::json!("text")).is_err());
    }
}
