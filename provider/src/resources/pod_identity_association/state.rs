//! The association's state as Terraform sees it, built from what EKS and IAM
//! report: the schema, the state ↔ value conversion, the resource identity,
//! and the provider's marker tag with the adoption rule that uses it.
//!
//! Owns: everything apply, read and import share about the state. Does not
//! own: any AWS call (`crate::aws`) or the pure rules (`schema::association`).

use crate::aws::eks::association::Association;
use crate::aws::iam::role::FoundRole;
use crate::spec_map;
use schema::association::{self as rules, AssociationState, WantedRole};
use schema::policy;
use schema::tags::Tags;
use tfplugin::{ApplyResponse, Schema, Value};

/// Tag on every association this provider creates, so that the next apply
/// can tell an association an interrupted apply made (adopt it) from one
/// somebody else made (refuse, with the import command). It is not shown in
/// `tags`/`tags_all`, and tag updates never touch it.
pub(super) const CREATED_BY_TAG: &str = "eks-tools:created-by";
/// Value of [`CREATED_BY_TAG`].
pub(super) const CREATED_BY: &str = "terraform-provider-eks";

/// The resource's Terraform schema.
pub(super) fn tf_schema() -> Schema {
    spec_map::to_schema(&rules::spec())
}

/// The resource identity's schema: cluster name and association ID.
pub(super) fn identity_schema() -> Schema {
    let mut s = spec_map::to_schema(&schema::ResourceSpec {
        name: rules::TYPE_NAME,
        description: "",
        version: 0,
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
        ],
        blocks: vec![],
    });
    s.version = 0;
    s
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
    let session_policy = match (&a.policy, &base.session_policy) {
        (Some(remote), Some(ours)) if policy::equivalent(remote, ours) => Some(ours.clone()),
        (Some(remote), _) if !remote.is_empty() => Some(remote.clone()),
        _ => None,
    };
    AssociationState {
        id: a.association_id.clone(),
        cluster_name: a
            .cluster_name
            .clone()
            .unwrap_or_else(|| base.cluster_name.clone()),
        namespace: a.namespace.clone().unwrap_or_default(),
        service_account: a.service_account.clone().unwrap_or_default(),
        role_arn: a.role_arn.clone(),
        target_role_arn: a.target_role_arn.clone().filter(|t| !t.is_empty()),
        disable_session_tags: Some(a.disable_session_tags.unwrap_or(false)),
        session_policy,
        tags: if tags.is_empty() && base.tags.is_none() {
            None
        } else {
            Some(tags)
        },
        tags_all: Some(remote_tags),
        association_id: a.association_id.clone(),
        association_arn: a.association_arn.clone(),
        external_id: a.external_id.clone().filter(|e| !e.is_empty()),
        owner_arn: a.owner_arn.clone(),
        restrict_to_cluster: Some(base.restrict_to_cluster.unwrap_or(false)),
        created_role: Some(base.created_role.unwrap_or(false)),
        create_service_account: Some(base.create_service_account.unwrap_or(false)),
        ..role_and_service_account_of(base)
    }
}

/// What EKS does not report: the made role's attributes and the service
/// account's, carried over from `base`.
fn role_and_service_account_of(base: &AssociationState) -> AssociationState {
    AssociationState {
        role_name: base.role_name.clone(),
        role_path: base.role_path.clone(),
        permission_policy_arns: base.permission_policy_arns.clone(),
        permission_policy: base.permission_policy.clone(),
        well_known_policies: base.well_known_policies.clone(),
        permissions_boundary_arn: base.permissions_boundary_arn.clone(),
        trust_conditions: base.trust_conditions.clone(),
        attached_policy_arns: base.attached_policy_arns.clone(),
        inline_policies: base.inline_policies.clone(),
        trust_policy: base.trust_policy.clone(),
        service_account_created: base.service_account_created,
        service_account_uid: base.service_account_uid.clone(),
        ..Default::default()
    }
}

/// The association's tags without the provider's own marker.
pub(super) fn visible_tags(a: &Association) -> Tags {
    a.tags
        .iter()
        .filter(|(k, _)| *k != CREATED_BY_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether an association found for the service account is the one an
/// interrupted apply of this very resource made: not addon-owned, the same
/// role, and either that role is the one we made for this service account
/// (its owner tag was just checked), or the association carries our marker
/// tag and everything else matches too.
pub(super) fn adoptable(a: &Association, s: &AssociationState, made_role: bool) -> bool {
    if a.owner_arn.is_some() || a.role_arn != s.role_arn {
        return false;
    }
    if made_role {
        return true;
    }
    if a.tags.get(CREATED_BY_TAG).map(String::as_str) != Some(CREATED_BY) {
        return false;
    }
    let policy_same = match (
        a.policy.as_deref().filter(|p| !p.is_empty()),
        s.session_policy.as_deref(),
    ) {
        (Some(x), Some(y)) => policy::equivalent(x, y),
        (None, None) => true,
        _ => false,
    };
    a.target_role_arn.as_deref().filter(|t| !t.is_empty()) == s.target_role_arn.as_deref()
        && a.disable_session_tags.unwrap_or(false) == s.disable_session_tags.unwrap_or(false)
        && policy_same
        && visible_tags(a) == s.tags_all.clone().unwrap_or_default()
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
    state.trust_policy = Some(match &prior.trust_policy {
        Some(ours) if policy::equivalent(ours, &found.shape.trust_policy) => ours.clone(),
        _ => found.shape.trust_policy.clone(),
    });
    state.permissions_boundary_arn = found.shape.permissions_boundary_arn.clone();
    state.role_path = Some(found.path.clone());
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
            role_arn: Some(role.into()),
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
        let mut a = association("r", &[(CREATED_BY_TAG, CREATED_BY)]);
        a.policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
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
    fn adoptable_needs_our_marker_unless_the_role_is_ours() {
        let planned = AssociationState {
            role_arn: Some("r".into()),
            tags_all: Some(Tags::new()),
            ..Default::default()
        };
        let theirs = association("r", &[]);
        assert!(!adoptable(&theirs, &planned, false));
        assert!(adoptable(&theirs, &planned, true));
        let ours = association("r", &[(CREATED_BY_TAG, CREATED_BY)]);
        assert!(adoptable(&ours, &planned, false));
        let other_role = association("other", &[(CREATED_BY_TAG, CREATED_BY)]);
        assert!(!adoptable(&other_role, &planned, true));
        let mut owned = ours.clone();
        owned.owner_arn = Some("addon".into());
        assert!(!adoptable(&owned, &planned, true));
        let mut tagged = ours;
        tagged.tags.insert("k".into(), "v".into());
        assert!(!adoptable(&tagged, &planned, false));
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
    }
}
