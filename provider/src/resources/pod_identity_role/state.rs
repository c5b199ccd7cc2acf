//! The role's state as Terraform sees it, built from what IAM reports: the
//! schema, the identity, and the state of a role as found.
//!
//! Owns: everything apply, read and import share about the state. Does not
//! own: any AWS call (`crate::aws`) or the pure rules
//! (`schema::pod_identity_role`).

use crate::aws::iam::role::FoundRole;
use crate::ownership::Subject;
use crate::spec_map;
use schema::pod_identity_role::{self as rules, PodIdentityRoleState};
use schema::policy;
use schema::reserved_tags::{OWNER_TAG, WELL_KNOWN_TAG, shared_role_owner_value};
use schema::role::well_known_tag_value;
use schema::tags::Tags;
use tfplugin::{Diagnostic, Diagnostics, Schema, Value};

/// The resource's Terraform schema.
pub(super) fn tf_schema() -> Schema {
    spec_map::to_schema(&rules::spec())
}

/// The identity schema's version.
const IDENTITY_VERSION: i64 = 0;

/// The resource identity's schema: the role name (IAM is global).
pub(super) fn identity_schema() -> Schema {
    let mut s = spec_map::to_schema(&schema::ResourceSpec {
        name: rules::TYPE_NAME,
        description: "",
        version: IDENTITY_VERSION,
        attrs: vec![schema::Attr::required(
            "name",
            schema::Kind::String,
            "Name of the IAM role.",
        )],
        blocks: vec![],
    });
    s.version = IDENTITY_VERSION;
    s
}

/// An identity stored by an older identity schema (there is none yet).
pub(super) fn upgrade_identity(
    version: i64,
    raw: serde_json::Value,
) -> Result<serde_json::Value, Diagnostics> {
    if version == IDENTITY_VERSION {
        return Ok(raw);
    }
    Err(Diagnostic::error(
        "Unsupported identity version",
        format!(
            "An {} identity of version {version} cannot be upgraded.",
            rules::TYPE_NAME
        ),
    )
    .into())
}

/// The identity value of a state.
pub(super) fn identity(s: &PodIdentityRoleState) -> Value {
    let mut v = Value::Null;
    v.set("name", Value::string(&s.name));
    v
}

/// The gate's name for the role of `name`.
pub(super) fn subject(name: &str) -> Subject {
    Subject::SharedRole {
        name: name.to_string(),
    }
}

/// The state of a role as found. `base` (the prior or planned state) gives
/// the configuration attributes and the text of documents that mean the
/// same; `defaults` are the provider's default tags (an import tells the
/// user's own tags from them).
pub(super) fn state_from(
    found: &FoundRole,
    base: &PodIdentityRoleState,
    defaults: &Tags,
) -> PodIdentityRoleState {
    let found = found
        .clone()
        .with_permission_policy_name(base.permission_policy_name.as_deref());
    let user = user_tags(&found.shape.tags);
    let own_keys = base.tags.clone().unwrap_or_default();
    let tags: Tags = user
        .iter()
        .filter(|(k, v)| own_keys.contains_key(*k) || defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let prior_inline = base.inline_policies.clone().unwrap_or_default();
    let mut inline: std::collections::BTreeMap<String, String> =
        rules::inline_policies_of(&found.shape)
            .into_iter()
            .map(|(k, actual)| {
                let text = match prior_inline.get(&k) {
                    Some(ours) if policy::equivalent(ours, &actual) => ours.clone(),
                    _ => actual,
                };
                (k, text)
            })
            .collect();
    // Inline policies added outside Terraform show too: the plan (which
    // expects only the provider's own) then removes them.
    inline.extend(found.extra_inline.clone());
    PodIdentityRoleState {
        id: Some(found_name(&found.arn).unwrap_or(&base.name).to_string()),
        name: found_name(&found.arn).unwrap_or(&base.name).to_string(),
        path: Some(found.path.clone()),
        permissions_boundary_arn: found.shape.permissions_boundary_arn.clone(),
        tags: if tags.is_empty() && base.tags.is_none() {
            None
        } else {
            Some(tags)
        },
        tags_all: Some(user),
        arn: Some(found.arn.clone()),
        unique_id: Some(found.role_id.clone()),
        attached_policy_arns: Some(found.shape.managed_policy_arns.clone()),
        inline_policies: Some(inline),
        description: match &found.shape.description {
            Some(d) => Some(d.clone()),
            // IAM reports no description as none; an empty one configured
            // is that.
            None => base.description.clone().filter(|d| d.is_empty()),
        },
        max_session_duration: found
            .shape
            .max_session_duration
            .or(base.max_session_duration),
        trust_policy: Some(match &base.trust_policy {
            Some(ours) if policy::equivalent(ours, &found.shape.trust_policy) => ours.clone(),
            _ => found.shape.trust_policy.clone(),
        }),
        ..base.clone()
    }
}

/// The role name an ARN ends with.
fn found_name(arn: &str) -> Option<&str> {
    arn.rsplit_once('/')
        .map(|(_, n)| n)
        .filter(|n| !n.is_empty())
}

/// The tags of the user's on a role: all but the owner and well-known tags
/// (a creation lease shows: on a finished role it is drift the next apply
/// removes).
pub(super) fn user_tags(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| ![OWNER_TAG, WELL_KNOWN_TAG].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// True when the provider's own tags on the role are not what `s` asks
/// for (changed outside Terraform): the plan then shows `tags_all` as
/// changing, and apply writes them again.
pub(super) fn own_tags_drifted(s: &PodIdentityRoleState, tags: &Tags) -> bool {
    let names: Vec<String> = s
        .well_known_policies
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let wk = (!names.is_empty()).then(|| well_known_tag_value(&names));
    tags.get(OWNER_TAG) != Some(&shared_role_owner_value(&s.name))
        || tags.get(WELL_KNOWN_TAG) != wk.as_ref()
}

/// The private state: whether read found the provider's own tags changed,
/// and the IAM RoleId of a role a `moved` block handed over, until the
/// first apply tags it as this resource's own (`crate::ownership::moved`).
pub(super) fn private(drifted: bool, moved_in: Option<&str>) -> Vec<u8> {
    let mut v = serde_json::Map::new();
    if drifted {
        v.insert("own_tags_drift".into(), true.into());
    }
    if let Some(id) = moved_in {
        v.insert("moved_in".into(), id.into());
    }
    if v.is_empty() {
        vec![]
    } else {
        serde_json::Value::Object(v).to_string().into_bytes()
    }
}

/// The private state of a read that found the role's tags `tags`: the
/// moved-in marker stays until the role carries this resource's owner tag.
pub(super) fn drifted_private(
    s: &PodIdentityRoleState,
    tags: &Tags,
    moved_in: Option<&str>,
) -> Vec<u8> {
    let ours = tags.get(OWNER_TAG) == Some(&shared_role_owner_value(&s.name));
    private(own_tags_drifted(s, tags), moved_in.filter(|_| !ours))
}

fn private_json(private: &[u8]) -> serde_json::Value {
    serde_json::from_slice::<serde_json::Value>(private).unwrap_or_default()
}

/// Reads [`private`]: the own-tags drift.
pub(super) fn drifted(private: &[u8]) -> bool {
    private_json(private)["own_tags_drift"]
        .as_bool()
        .unwrap_or(false)
}

/// Reads [`private`]: the RoleId of a moved-in role not yet tagged.
pub(super) fn moved_in(private: &[u8]) -> Option<String> {
    private_json(private)["moved_in"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use schema::role::RoleShape;

    fn found(tags: &[(&str, &str)]) -> FoundRole {
        FoundRole {
            arn: "arn:aws:iam::123456789012:role/p/shared".into(),
            path: "/p/".into(),
            shape: RoleShape {
                trust_policy: r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
                tags: tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            },
            extra_inline: [("added".to_string(), "{}".to_string())].into(),
            created: None,
            role_id: "AROA1".into(),
        }
    }

    #[test]
    fn state_of_a_found_role_hides_own_tags_and_shows_added_inline_policies() {
        let f = found(&[
            (OWNER_TAG, "pod-identity-role:shared"),
            ("team", "a"),
            ("env", "dev"),
        ]);
        let base = PodIdentityRoleState {
            name: "shared".into(),
            trust_policy: Some(r#"{ "Statement": [], "Version": "2012-10-17" }"#.into()),
            ..Default::default()
        };
        let defaults = Tags::from([("env".to_string(), "dev".to_string())]);
        let s = state_from(&f, &base, &defaults);
        assert_eq!(s.id.as_deref(), Some("shared"));
        assert_eq!(s.path.as_deref(), Some("/p/"));
        assert_eq!(s.unique_id.as_deref(), Some("AROA1"));
        assert_eq!(s.tags_all.as_ref().map(|t| t.len()), Some(2));
        assert_eq!(
            s.tags,
            Some(Tags::from([("team".to_string(), "a".to_string())]))
        );
        assert_eq!(s.trust_policy, base.trust_policy);
        assert!(
            s.inline_policies
                .as_ref()
                .is_some_and(|m| m.contains_key("added"))
        );
        assert!(!own_tags_drifted(&s, &f.shape.tags));
        assert!(own_tags_drifted(&s, &Tags::new()));
        // The moved-in marker goes once the role carries our owner tag.
        assert_eq!(
            moved_in(&drifted_private(&s, &f.shape.tags, Some("AROA1"))),
            None
        );
        let untagged = drifted_private(&s, &Tags::new(), Some("AROA1"));
        assert_eq!(moved_in(&untagged).as_deref(), Some("AROA1"));
    }

    #[test]
    fn private_round_trips_and_identity_names_the_role() {
        assert!(drifted(&private(true, None)));
        assert!(!drifted(&private(false, None)));
        assert!(private(false, None).is_empty());
        let moved = private(true, Some("AROA1"));
        assert!(drifted(&moved));
        assert_eq!(moved_in(&moved).as_deref(), Some("AROA1"));
        assert_eq!(moved_in(&private(true, None)), None);
        assert_eq!(moved_in(b"not json"), None);
        let s = PodIdentityRoleState {
            name: "r".into(),
            ..Default::default()
        };
        assert_eq!(identity(&s).get("name").as_str(), Some("r"));
        assert!(upgrade_identity(3, serde_json::json!({})).is_err());
    }
}
