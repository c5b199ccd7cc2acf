//! `eks_pod_identity_role`: one IAM role the provider makes and owns for
//! EKS Pod Identity, for any number of associations (in any cluster and
//! namespace of the account) to use through their `role_arn`.
//!
//! Owns, in this order: the state struct, its spec (twins), the plan-time
//! rules (the made-role rules of `crate::role`, with `role_arn` never set)
//! and the role the state asks for. Does not own: the AWS calls (provider
//! crate) or the owner tag's format (`crate::reserved_tags`).

use crate::input::{Input, Stage};
use crate::policy;
use crate::reserved_tags::{self, OWNER_TAG, shared_role_owner_value};
use crate::role::{self, RoleConfig, RoleShape, WantedRole};
use crate::spec::{Attr, Kind, Problem, ResourceSpec};
use crate::tags::{self, Tags};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Resource type name.
pub const TYPE_NAME: &str = "eks_pod_identity_role";

/// The resource's state; field names are attribute names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PodIdentityRoleState {
    /// Same as `name`.
    pub id: Option<String>,
    /// Role name (given, or generated from `name_prefix`).
    pub name: String,
    /// Prefix of a generated name.
    pub name_prefix: Option<String>,
    /// Role description.
    pub description: Option<String>,
    /// Longest session of the role, in seconds.
    pub max_session_duration: Option<i64>,
    /// Role path.
    pub path: Option<String>,
    /// Managed policies.
    pub permission_policy_arns: Option<BTreeSet<String>>,
    /// Inline policy.
    pub permission_policy: Option<String>,
    /// Name of the inline policy holding it (null: `permission-policy`).
    pub permission_policy_name: Option<String>,
    /// Well-known policies.
    pub well_known_policies: Option<BTreeSet<String>>,
    /// Scopes of the well-known policies.
    pub well_known_policy_scopes: Option<crate::well_known::WellKnownScopes>,
    /// Permissions boundary.
    pub permissions_boundary_arn: Option<String>,
    /// Extra conditions on the trust statement (JSON).
    pub trust_conditions: Option<String>,
    /// The resource's own tags.
    pub tags: Option<Tags>,
    /// `tags` merged with the provider's `default_tags`.
    pub tags_all: Option<Tags>,
    /// Role ARN.
    pub arn: Option<String>,
    /// IAM's stable ID of the role.
    pub unique_id: Option<String>,
    /// Managed policies attached, as found.
    pub attached_policy_arns: Option<BTreeSet<String>>,
    /// Inline policies, as found.
    pub inline_policies: Option<BTreeMap<String, String>>,
    /// Trust policy, as found.
    pub trust_policy: Option<String>,
}

/// The resource's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "Makes and owns one IAM role for EKS Pod Identity, for many associations to use through their `role_arn` (in any cluster and namespace of the account): its trust policy lets `pods.eks.amazonaws.com` assume it with `sts:AssumeRole` and `sts:TagSession`, and its permissions come from `well_known_policies`, `permission_policy_arns` and `permission_policy`.\n\nThe role carries the owner tag `eks-tools:pod-identity` = `pod-identity-role:<name>` for its whole life. The resource never takes over, changes or deletes a role it did not make: a name taken by a role without this owner tag is refused and left as it is (a role this resource kind made that belongs to another state is refused with the import command), and only a role with this owner tag can be imported. Changes made to the role outside Terraform (policies, trust, boundary, tags, an added inline policy) show in the next plan, and apply puts the role back.",
        version: 0,
        attrs: vec![
            Attr::computed("id", Kind::String, "The role name (same as `name`).").stable(),
            Attr::optional_computed("name", Kind::String, "Name of the role (at most 64 characters: letters, digits and `+=,.@_-`). Set either `name` or `name_prefix`. Changing it replaces the role.").replace().stable().check(role::check_name),
            Attr::optional_computed("name_prefix", Kind::String, "Makes a unique name that begins with this prefix (at most 38 characters, as in the AWS provider: the provider adds 26 characters of time and randomness, and IAM allows 64). Conflicts with `name`, unless `name` begins with it (as in a configuration generated from an imported role). The name is made when the role is created, recorded in `name` and kept; changing the prefix replaces the role. An import sets it from the name when the name ends with such a suffix.").replace().stable().check(check_name_prefix),
            Attr::optional("description", Kind::String, "Description of the role: at most 1000 characters of IAM's set (tab, newline, and the printable characters of Latin-1). Changed in place; a description changed outside Terraform shows in the next plan, and apply puts it back.").check(check_description),
            Attr::optional_computed("max_session_duration", Kind::Number, "Longest session, in seconds, that assuming the role gives: 3600 (one hour, IAM's default) to 43200 (12 hours). Changed in place; when set, a value changed outside Terraform shows in the next plan, and apply puts it back. When not set, the role keeps what it has (3600 for a new role)."),
            Attr::optional_computed("path", Kind::String, "Path of the role, such as `/pod-identity/`. Defaults to `/`. Changing it replaces the role.").replace().check(role::check_role_path),
            Attr::optional("permission_policy_arns", Kind::StringSet, "Managed policies to attach to the role. Changes attach and detach only what changed.").check(role::check_policy_arn),
            Attr::optional("permission_policy", Kind::String, "An inline policy (JSON) for the role, stored as the inline policy `permission-policy` (see `permission_policy_name`). Compared by meaning, not text.").check(role::check_permission_policy).equivalent_by(policy::equivalent),
            Attr::optional("permission_policy_name", Kind::String, "Name of the inline policy that holds `permission_policy`. Defaults to `permission-policy`. Changing it renames the policy in place: the new one is put before the old one is deleted. Needs `permission_policy`; `well-known-policies` is reserved for `well_known_policies`.").check(role::check_inline_policy_name),
            Attr::optional("well_known_policies", Kind::StringSet, "Named, ready-made policies for the role, such as `aws-load-balancer-controller` or `external-dns` (eksctl's names work too). See the `eks_well_known_policy` data source for their contents. Entries that grant on every hosted zone, bucket, secret, key, queue or CA are unscoped unless `well_known_policy_scopes` names yours."),
            crate::well_known_scope::attr(),
            Attr::optional("permissions_boundary_arn", Kind::String, "Permissions boundary of the role.").check(role::check_policy_arn),
            Attr::optional("trust_conditions", Kind::String, "Extra conditions (an IAM Condition block in JSON) on the `pods.eks.amazonaws.com` trust statement, as on `eks_pod_identity_association`. Write them with the keys AWS documents for pod identity: `aws:SourceAccount`, `aws:SourceOrgId`, and the session tags EKS adds when it assumes the role (`aws:RequestTag/eks-cluster-arn`, `aws:RequestTag/kubernetes-namespace`, `aws:RequestTag/kubernetes-service-account`; EKS User Guide), such as `{\"StringEquals\": {\"aws:RequestTag/kubernetes-namespace\": \"web\"}}` to admit pods of one namespace only. The session-tag keys need session tags, which associations with `disable_session_tags = true` turn off.").check(role::check_trust_conditions),
            Attr::optional("tags", Kind::StringMap, "Tags on the role. Merged with the provider's `default_tags`; these win. Beside them the role carries up to three tags of the provider's own (`eks-tools:pod-identity`, `eks-tools:well-known-policies`, and `eks-tools:creating` while it is being made), so at most 47 fit; keys and values must follow IAM's rules (letters, digits, spaces and `_ . : / = + - @`; keys that differ only in case are one key). These keys and `eks-tools:created-by` are reserved. All of this is checked at plan time."),
            Attr::computed("tags_all", Kind::StringMap, "All tags of yours on the role: `tags` merged with the provider's `default_tags`."),
            Attr::computed("arn", Kind::String, "ARN of the role: give it to associations as their `role_arn`.").stable(),
            Attr::computed("unique_id", Kind::String, "IAM's stable ID of the role (`AROA…`).").stable(),
            Attr::computed("attached_policy_arns", Kind::StringSet, "Managed policies attached to the role (from `permission_policy_arns` and `well_known_policies`). A policy detached outside Terraform shows here in the next plan, and apply attaches it again."),
            Attr::computed("inline_policies", Kind::StringMap, "Inline policies of the role, by name (`permission-policy`, `well-known-policies`). Changes made outside Terraform, an added inline policy included, show here in the next plan, and apply undoes them."),
            Attr::computed("trust_policy", Kind::String, "Trust policy of the role. Changes made outside Terraform show here in the next plan, and apply puts it back."),
        ],
        blocks: vec![],
    }
}

/// What the plan-time rules need of the configuration, every value as
/// planning sees it.
#[derive(Debug, Clone, Default)]
pub struct RoleResourceConfig {
    /// The made-role attributes, under the association's names (`name` as
    /// `role_name`, `path` as `role_path`; `role_arn` and
    /// `restrict_to_cluster` always null).
    pub role: RoleConfig,
    /// `name_prefix`.
    pub name_prefix: Input<String>,
    /// `max_session_duration` (a number: whole or not, checked here).
    pub max_session_duration: Input<f64>,
    /// `tags` merged with the provider's `default_tags`, when known.
    pub tags_all: Input<Tags>,
}

/// The longest `name_prefix`: IAM's 64 characters of a role name less the
/// [`UNIQUE_SUFFIX_LEN`] characters the provider adds (the AWS provider's
/// `roleNamePrefixMaxLen` is the same 64 - 26).
pub const NAME_PREFIX_MAX_LEN: usize = 64 - UNIQUE_SUFFIX_LEN;

/// Length of the suffix a generated name gets: 12 hex digits of the time
/// in milliseconds and 14 random hex digits.
pub const UNIQUE_SUFFIX_LEN: usize = 26;

/// IAM's longest role description (CreateRole, UpdateRole).
pub const DESCRIPTION_MAX_LEN: usize = 1000;

/// IAM's range of MaxSessionDuration, in seconds (CreateRole, UpdateRole).
pub const MAX_SESSION_DURATION_RANGE: std::ops::RangeInclusive<i64> = 3600..=43200;

/// Checks a `name_prefix`: role-name characters, at most [`NAME_PREFIX_MAX_LEN`].
pub fn check_name_prefix(s: &str) -> Result<(), String> {
    if s.len() > NAME_PREFIX_MAX_LEN {
        return Err(format!(
            "{s:?} is {} characters long; a name_prefix may have at most {NAME_PREFIX_MAX_LEN}: the provider adds {UNIQUE_SUFFIX_LEN} and an IAM role name may have 64.",
            s.len()
        ));
    }
    role::check_name(s).map_err(|_| {
        format!("{s:?} is not a valid name_prefix: 1 to {NAME_PREFIX_MAX_LEN} letters, digits or _+=,.@- characters.")
    })
}

/// Checks a `description` by IAM's rules: at most [`DESCRIPTION_MAX_LEN`]
/// characters matching `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`.
pub fn check_description(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n > DESCRIPTION_MAX_LEN {
        return Err(format!(
            "The description is {n} characters long; IAM allows at most {DESCRIPTION_MAX_LEN}."
        ));
    }
    let ok = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}');
    match s.chars().find(|c| !ok(*c)) {
        Some(c) => Err(format!(
            "The description contains {c:?} (U+{:04X}), which IAM does not allow: only tab, newline, carriage return, and the printable characters U+0020 to U+007E and U+00A1 to U+00FF.",
            c as u32
        )),
        None => Ok(()),
    }
}

/// A generated role name: `prefix`, then [`UNIQUE_SUFFIX_LEN`] lowercase
/// hex digits (12 of `millis`, the time, and 14 of `random`).
pub fn generated_name(prefix: &str, millis: u64, random: u64) -> String {
    format!(
        "{prefix}{:012x}{:014x}",
        millis & 0xffff_ffff_ffff,
        random & 0x00ff_ffff_ffff_ffff
    )
}

/// The prefix of a name [`generated_name`] could have made (`None` when the
/// name does not end with such a suffix after at least one character).
pub fn prefix_of_generated(name: &str) -> Option<&str> {
    let cut = name
        .len()
        .checked_sub(UNIQUE_SUFFIX_LEN)
        .filter(|c| *c > 0)?;
    let (prefix, suffix) = (name.get(..cut)?, name.get(cut..)?);
    suffix
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        .then_some(prefix)
}

/// The rules of the resource's own attributes: `name` or `name_prefix`
/// (exactly one) and `max_session_duration` in IAM's range.
fn own_problems(input: &RoleResourceConfig) -> Vec<Problem> {
    let mut problems = Vec::new();
    match (&input.role.role_name, &input.name_prefix) {
        (Input::Null, Input::Null) => problems.push(Problem::new(
            "name",
            "Missing role name",
            "Set name to name the role, or name_prefix to have the provider make a unique name that begins with it.",
        )),
        (Input::Null, _) | (_, Input::Null) => {}
        // What an import or `terraform query -generate-config-out` writes
        // for a made name: both, the name made from the prefix. The name
        // decides; nothing conflicts.
        (Input::Known(name), Input::Known(prefix)) if name.starts_with(prefix.as_str()) => {}
        (Input::Unknown, _) | (_, Input::Unknown) => {}
        _ => problems.push(Problem::new(
            "name_prefix",
            "Conflicting configuration arguments",
            "name and name_prefix cannot both be set (unless name begins with name_prefix, as in a configuration generated from an imported role): set name for a fixed name, or name_prefix for a unique name made from it.",
        )),
    }
    if let Input::Known(d) = input.max_session_duration {
        let range = MAX_SESSION_DURATION_RANGE;
        let whole = d.fract() == 0.0;
        if !whole || d < *range.start() as f64 || d > *range.end() as f64 {
            problems.push(Problem::new(
                "max_session_duration",
                "Invalid max_session_duration",
                format!(
                    "max_session_duration is {d}; IAM accepts a whole number of seconds from {} (one hour) to {} (12 hours).",
                    range.start(),
                    range.end()
                ),
            ));
        }
    }
    problems
}

/// The rules of `eks_pod_identity_role` for `stage`: those of every made
/// role ([`role::check_role_config`]: at least one permission source,
/// partitions, well-known names and scopes, IAM's limits), reported at this
/// resource's attribute names, and the tags under IAM's rules beside the
/// provider's own.
pub fn check_config(input: &RoleResourceConfig, stage: Stage) -> Vec<Problem> {
    let mut problems: Vec<Problem> = role::check_role_config(&input.role, stage)
        .into_iter()
        .map(|mut p| {
            p.attr = match p.attr {
                "role_name" => "name",
                "role_path" => "path",
                a => a,
            };
            p.summary = p
                .summary
                .replace("role_name", "name")
                .replace("role_path", "path");
            p.detail = p
                .detail
                .replace("role_name", "name")
                .replace("role_path", "path");
            p
        })
        .collect();
    problems.extend(own_problems(input));
    if let Input::Known(all) = &input.tags_all {
        let mut details = reserved_tags::made_role_tag_problems(all);
        if all.len() <= tags::MAX_TAGS
            && let Err(e) = tags::check(all)
            && e.contains("reserved prefix")
        {
            details.push(e);
        }
        problems.extend(
            details
                .into_iter()
                .map(|d| Problem::new("tags", "Invalid tags", d)),
        );
    }
    problems
}

impl PodIdentityRoleState {
    /// The made-role request of this state (`role_request` of the
    /// association, without a service account: the owner tag is set by
    /// [`wanted_role`]).
    fn role_request(&self) -> role::RoleRequest<'_> {
        role::RoleRequest {
            cluster: "",
            namespace: "",
            service_account: "",
            role_name: Some(&self.name),
            role_path: self.path.as_deref(),
            permission_policy_arns: self.permission_policy_arns.as_ref(),
            permission_policy: self.permission_policy.as_deref(),
            permission_policy_name: self.permission_policy_name.as_deref(),
            well_known_policies: self.well_known_policies.as_ref(),
            well_known_policy_scopes: self.well_known_policy_scopes.as_ref(),
            permissions_boundary_arn: self.permissions_boundary_arn.as_deref(),
            trust_conditions: self.trust_conditions.as_deref(),
            restrict_to_cluster: false,
            tags: self.tags_all.as_ref(),
        }
    }
}

/// The role a (known) planned state asks for, with this resource kind's
/// owner tag ([`shared_role_owner_value`]).
///
/// The description is always managed (none is the empty one IAM reports
/// for a role without); the longest session only when known (a create
/// without one leaves IAM's default, which read records).
pub fn wanted_role(s: &PodIdentityRoleState, partition: &str) -> Result<WantedRole, String> {
    let mut w = role::wanted_role(&s.role_request(), partition, None)?;
    w.shape.description = Some(s.description.clone().unwrap_or_default());
    w.shape.max_session_duration = s.max_session_duration;
    w.shape
        .tags
        .insert(OWNER_TAG.to_string(), shared_role_owner_value(&s.name));
    Ok(w)
}

/// The tag-key prefix of the cluster autoscaler's scope condition.
const AUTOSCALER_TAG: &str = "aws:ResourceTag/k8s.io/cluster-autoscaler/";

/// The `well_known_policy_scopes` that render `found` (the role's inline
/// well-known policy, as IAM has it) for the well-known policies `names`,
/// or `None` when no scopes (or none found) render it: an import reads the
/// scopes back from the document, since the role's tag holds the names
/// only. Candidates are the document's strings that are values of a scope
/// kind (ARNs of its service and resource type; for the autoscaler, the
/// clusters of its tag conditions); the smallest set of them whose render
/// means the same as `found` is taken, and only then: a document no
/// scopes reproduce (edited by hand) yields `None`, and the plan shows it.
pub fn scopes_from_policy(
    names: &BTreeSet<String>,
    found: &str,
    partition: &str,
) -> Option<crate::well_known::WellKnownScopes> {
    let renders = |scopes: Option<&crate::well_known::WellKnownScopes>| {
        let s = PodIdentityRoleState {
            name: "r".into(),
            well_known_policies: Some(names.clone()),
            well_known_policy_scopes: scopes.cloned(),
            ..Default::default()
        };
        wanted_role(&s, partition)
            .ok()
            .and_then(|w| w.shape.well_known_policy)
            .is_some_and(|doc| policy::equivalent(&doc, found))
    };
    if names.is_empty() || renders(None) {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_str(found).ok()?;
    let mut strings = BTreeSet::new();
    collect_strings(&doc, &mut strings);
    let mut map = serde_json::Map::new();
    for kind in crate::well_known_scope::KINDS.iter() {
        let values: BTreeSet<String> = if kind.key == "autoscaler_cluster_names" {
            strings
                .iter()
                .filter_map(|s| s.strip_prefix(AUTOSCALER_TAG))
                .map(str::to_string)
                .collect()
        } else {
            strings
                .iter()
                .filter(|s| (kind.check)(s).is_ok())
                .cloned()
                .collect()
        };
        if !values.is_empty() {
            map.insert(kind.key.to_string(), serde_json::json!(values));
        }
    }
    let mut scopes: crate::well_known::WellKnownScopes =
        serde_json::from_value(serde_json::Value::Object(map)).ok()?;
    if !renders(Some(&scopes)) {
        return None;
    }
    // The smallest set: a kind whose values the policy has anyway (such
    // as an unscoped entry's fixed ARN) goes.
    for kind in crate::well_known_scope::KINDS.iter() {
        let mut without = serde_json::to_value(&scopes).ok()?;
        if let Some(m) = without.as_object_mut()
            && m.remove(kind.key).is_some()
            && let Ok(w) = serde_json::from_value::<crate::well_known::WellKnownScopes>(without)
            && renders((!w.is_empty()).then_some(&w))
        {
            scopes = w;
        }
    }
    (!scopes.is_empty()).then_some(scopes)
}

/// Every string of a JSON document, object keys included.
fn collect_strings(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::String(s) => {
            out.insert(s.clone());
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                collect_strings(x, out);
            }
        }
        _ => {}
    }
}

/// The inline policies of a role shape as the `inline_policies` attribute shows them.
pub fn inline_policies_of(shape: &RoleShape) -> BTreeMap<String, String> {
    crate::association::inline_policies_of(shape)
}

/// The import command for the role named `name`, for a diagnostic.
pub fn import_command(name: &str) -> String {
    format!("terraform import {TYPE_NAME}.<name> {name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::twins::assert_twins;

    #[test]
    fn state_and_spec_are_twins() {
        assert_twins::<PodIdentityRoleState>(&spec());
    }

    fn config(role: RoleConfig) -> RoleResourceConfig {
        RoleResourceConfig {
            role: RoleConfig {
                partition: "aws".into(),
                role_name: Input::Known("r".into()),
                ..role
            },
            tags_all: Input::Known(Tags::new()),
            ..Default::default()
        }
    }

    #[test]
    fn a_role_without_permissions_is_refused() {
        let p = check_config(&config(RoleConfig::default()), Stage::Plan);
        assert!(!p.is_empty());
        let ok = config(RoleConfig {
            permission_policy_arns: Input::Known(
                ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
            ),
            ..Default::default()
        });
        assert_eq!(check_config(&ok, Stage::Plan), vec![]);
    }

    #[test]
    fn problems_name_this_resources_attributes_and_tags_follow_iam() {
        let mut c = config(RoleConfig {
            permission_policy_arns: Input::Known(
                ["arn:aws-cn:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
            ),
            ..Default::default()
        });
        c.tags_all = Input::Known(Tags::from([
            ("eks-tools:pod-identity".to_string(), "x".to_string()),
            ("k".to_string(), "a,b".to_string()),
        ]));
        let p = check_config(&c, Stage::Plan);
        let attrs: Vec<&str> = p.iter().map(|p| p.attr).collect();
        assert!(attrs.contains(&"permission_policy_arns"), "{p:?}");
        assert_eq!(attrs.iter().filter(|a| **a == "tags").count(), 2, "{p:?}");
        assert!(p.iter().all(|p| !p.detail.contains("role_name")));
    }

    #[test]
    fn wanted_role_trusts_pods_and_carries_this_kinds_owner_tag() {
        let s = PodIdentityRoleState {
            name: "shared".into(),
            well_known_policies: Some(["external-dns".to_string()].into()),
            trust_conditions: Some(
                r#"{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"web"}}"#.into(),
            ),
            tags_all: Some(Tags::from([("team".to_string(), "a".to_string())])),
            ..Default::default()
        };
        let w = wanted_role(&s, "aws").expect("wanted");
        assert_eq!((w.name.as_str(), w.path.as_str()), ("shared", "/"));
        assert_eq!(
            w.shape.tags.get(OWNER_TAG).map(String::as_str),
            Some("pod-identity-role:shared")
        );
        assert_eq!(
            crate::reserved_tags::parse_owner_tag("pod-identity-role:shared"),
            None
        );
        assert_eq!(w.shape.tags.get("team").map(String::as_str), Some("a"));
        assert!(w.shape.trust_policy.contains("pods.eks.amazonaws.com"));
        assert!(w.shape.trust_policy.contains("sts:TagSession"));
        assert!(w.shape.trust_policy.contains("kubernetes-namespace"));
        assert!(w.shape.well_known_policy.is_some());
        assert_eq!(
            inline_policies_of(&w.shape).keys().collect::<Vec<_>>(),
            vec![role::WELL_KNOWN_POLICY_NAME]
        );
    }

    #[test]
    fn name_or_name_prefix_exactly_one() {
        let ok = |c: &RoleResourceConfig| {
            check_config(c, Stage::Plan)
                .into_iter()
                .filter(|p| p.attr == "name" || p.attr == "name_prefix")
                .collect::<Vec<_>>()
        };
        let base = RoleResourceConfig {
            role: RoleConfig {
                partition: "aws".into(),
                permission_policy_arns: Input::Known(
                    ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
                ),
                ..Default::default()
            },
            ..Default::default()
        };
        let neither = ok(&base);
        assert_eq!(neither.len(), 1, "{neither:?}");
        assert_eq!(neither[0].attr, "name");
        let mut both = base.clone();
        both.role.role_name = Input::Known("r".into());
        both.name_prefix = Input::Known("p-".into());
        let p = ok(&both);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].attr, "name_prefix");
        assert!(p[0].detail.contains("cannot both be set"));
        // A name made from the prefix, as a generated configuration has it.
        let mut generated = base.clone();
        generated.role.role_name = Input::Known(generated_name("p-", 1, 2));
        generated.name_prefix = Input::Known("p-".into());
        assert_eq!(ok(&generated), vec![]);
        let mut prefix = base.clone();
        prefix.name_prefix = Input::Known("p-".into());
        assert_eq!(ok(&prefix), vec![]);
        // Unknown until apply: decided then.
        let mut unknown = base;
        unknown.role.role_name = Input::Unknown;
        assert_eq!(ok(&unknown), vec![]);
    }

    #[test]
    fn name_prefix_is_at_most_38_characters_of_role_name_characters() {
        assert!(check_name_prefix(&"p".repeat(38)).is_ok());
        let e = check_name_prefix(&"p".repeat(39)).expect_err("too long");
        assert!(e.contains("at most 38"), "{e}");
        assert!(check_name_prefix("a/b").is_err());
        assert!(check_name_prefix("").is_err());
        let name = generated_name(&"p".repeat(38), 1_765_000_000_000, u64::MAX);
        assert_eq!(name.len(), 64);
        assert!(role::check_name(&name).is_ok());
        assert_eq!(prefix_of_generated(&name), Some("p".repeat(38).as_str()));
    }

    #[test]
    fn generated_names_differ_and_are_recognised() {
        let a = generated_name("app-", 1, 2);
        let b = generated_name("app-", 1, 3);
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + UNIQUE_SUFFIX_LEN);
        assert_eq!(prefix_of_generated(&a), Some("app-"));
        // A name without such a suffix, or the suffix alone, has no prefix.
        assert_eq!(prefix_of_generated("app-role"), None);
        assert_eq!(prefix_of_generated(&a["app-".len()..]), None);
        assert_eq!(prefix_of_generated(&format!("x{}", "G".repeat(26))), None);
    }

    #[test]
    fn description_follows_iams_length_and_characters() {
        assert!(check_description("").is_ok());
        assert!(check_description("Shared role for web, café\tand\nmore").is_ok());
        assert!(check_description(&"é".repeat(1000)).is_ok());
        let e = check_description(&"x".repeat(1001)).expect_err("too long");
        assert!(e.contains("1001") && e.contains("1000"), "{e}");
        let e = check_description("snow ☃").expect_err("outside Latin-1");
        assert!(e.contains("U+2603"), "{e}");
        assert!(check_description("bell \u{7}").is_err());
        assert!(check_description("del \u{7f}").is_err());
    }

    #[test]
    fn max_session_duration_in_iams_range_names_the_attribute() {
        let at = |d: f64| {
            let c = RoleResourceConfig {
                role: RoleConfig {
                    partition: "aws".into(),
                    role_name: Input::Known("r".into()),
                    permission_policy_arns: Input::Known(
                        ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
                    ),
                    ..Default::default()
                },
                max_session_duration: Input::Known(d),
                ..Default::default()
            };
            check_config(&c, Stage::Validate)
        };
        assert_eq!(at(3600.0), vec![]);
        assert_eq!(at(43200.0), vec![]);
        for bad in [3599.0, 43201.0, 7200.5, 0.0] {
            let p = at(bad);
            assert_eq!(p.len(), 1, "{bad}: {p:?}");
            assert_eq!(p[0].attr, "max_session_duration");
            assert!(p[0].detail.contains("max_session_duration"), "{:?}", p[0]);
            assert!(p[0].detail.contains("3600") && p[0].detail.contains("43200"));
        }
    }

    #[test]
    fn wanted_role_manages_description_always_and_duration_when_known() {
        let mut s = PodIdentityRoleState {
            name: "r".into(),
            permission_policy_arns: Some(
                ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
            ),
            ..Default::default()
        };
        let w = wanted_role(&s, "aws").expect("wanted");
        assert_eq!(w.shape.description.as_deref(), Some(""));
        assert_eq!(w.shape.max_session_duration, None);
        s.description = Some("d".into());
        s.max_session_duration = Some(7200);
        let w = wanted_role(&s, "aws").expect("wanted");
        assert_eq!(w.shape.description.as_deref(), Some("d"));
        assert_eq!(w.shape.max_session_duration, Some(7200));
    }

    fn rendered(
        names: &BTreeSet<String>,
        scopes: Option<&crate::well_known::WellKnownScopes>,
    ) -> String {
        let s = PodIdentityRoleState {
            name: "r".into(),
            well_known_policies: Some(names.clone()),
            well_known_policy_scopes: scopes.cloned(),
            ..Default::default()
        };
        wanted_role(&s, "aws")
            .expect("wanted")
            .shape
            .well_known_policy
            .expect("an inline well-known policy")
    }

    #[test]
    fn scopes_are_read_back_from_the_policy_they_render() {
        let names: BTreeSet<String> = ["external-dns", "auto-scaler", "ebs-csi-controller"]
            .map(str::to_string)
            .into();
        let scopes = crate::well_known::WellKnownScopes {
            hosted_zone_arns: Some(
                ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ".to_string()].into(),
            ),
            autoscaler_cluster_names: Some(["a".to_string(), "b".to_string()].into()),
            kms_key_arns: Some(
                [
                    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        .to_string(),
                ]
                .into(),
            ),
            ..Default::default()
        };
        let doc = rendered(&names, Some(&scopes));
        assert_eq!(scopes_from_policy(&names, &doc, "aws"), Some(scopes));
        // Unscoped: none, though the policy has the entries' own ARNs.
        let doc = rendered(&names, None);
        assert_eq!(scopes_from_policy(&names, &doc, "aws"), None);
        // A document no scopes render (edited by hand): none, and the plan
        // shows the difference.
        let edited = doc.replace("route53:ChangeResourceRecordSets", "route53:*");
        assert_ne!(edited, doc);
        assert_eq!(scopes_from_policy(&names, &edited, "aws"), None);
        assert_eq!(scopes_from_policy(&BTreeSet::new(), &doc, "aws"), None);
    }

    #[test]
    fn bucket_scopes_come_back_as_given() {
        let names: BTreeSet<String> = ["velero"].map(str::to_string).into();
        for scopes in [
            crate::well_known::WellKnownScopes {
                s3_bucket_arns: Some(["arn:aws:s3:::backups".to_string()].into()),
                ..Default::default()
            },
            crate::well_known::WellKnownScopes {
                s3_bucket_arns: Some(["arn:aws:s3:::backups".to_string()].into()),
                s3_bucket_path_arns: Some(["arn:aws:s3:::backups/cluster-a/*".to_string()].into()),
                ..Default::default()
            },
        ] {
            let doc = rendered(&names, Some(&scopes));
            assert_eq!(scopes_from_policy(&names, &doc, "aws"), Some(scopes));
        }
    }
}
