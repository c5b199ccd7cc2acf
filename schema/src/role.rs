//! Roles the provider makes for pod identity: names, trust policy, checks of
//! the role-creation attributes, and the smallest change from the role as it
//! is to the role as configured.
//!
//! Owns: everything about a made role that needs no AWS call. Used by
//! `eks_pod_identity_association` and (for its entries) `eks_addon_pod_identity`,
//! so both make roles the same way. Does not own: IAM calls.

use crate::input::Input;
use crate::names::check_role_name;
use crate::policy;
use crate::spec::Problem;
use crate::tags::{self, TagChange, Tags};
use crate::well_known;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet as Set;
use std::collections::BTreeSet;

/// The service principal a pod identity role must trust.
pub const PODS_PRINCIPAL: &str = "pods.eks.amazonaws.com";
/// Name of the inline policy that holds `permission_policy`.
pub const INLINE_POLICY_NAME: &str = "permission-policy";
/// Name of the inline policy that holds the well-known policies' statements.
pub const WELL_KNOWN_POLICY_NAME: &str = "well-known-policies";
/// Tag that marks a role as made by this provider for one service account;
/// its value is `cluster/namespace/service_account`. It lets an apply that
/// died after creating the role adopt it instead of failing or leaking it.
pub const OWNER_TAG: &str = "eks-tools:pod-identity";
/// Tag on a made role listing its well-known policy names (space-separated),
/// so that an import can reconstruct `well_known_policies` exactly.
pub const WELL_KNOWN_TAG: &str = "eks-tools:well-known-policies";
/// IAM's limit on the aggregate size of a role's inline policies (characters, whitespace excluded).
pub const INLINE_POLICY_MAX_LEN: usize = 10_240;
/// Most managed policies attachable to a role (the raised IAM quota; the default is 10).
pub const MAX_MANAGED_POLICIES: usize = 20;
/// Longest role path.
pub const MAX_PATH_LEN: usize = 512;

/// The name of the role made for a service account when the user gives none.
///
/// Deterministic, at most 64 characters, and unique per (cluster, namespace,
/// service account): the readable part may be shortened, but the suffix is a
/// hash of the three parts joined by NUL, so `a-b`/`c` and `a`/`b-c` (which
/// a `-` join confuses) differ.
pub fn generated_role_name(cluster: &str, namespace: &str, service_account: &str) -> String {
    let digest = Sha256::digest(format!("{cluster}\0{namespace}\0{service_account}").as_bytes());
    let hash = &hex::encode(digest)[..10];
    // "eks-pi-" + readable + "-" + hash ≤ 64  ⇒ readable ≤ 46
    let budget = 64 - "eks-pi-".len() - 1 - hash.len();
    let readable: String = format!("{cluster}-{namespace}-{service_account}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(budget)
        .collect();
    format!("eks-pi-{}-{hash}", readable.trim_end_matches('-'))
}

/// The owner tag value for a service account.
pub fn owner_tag_value(cluster: &str, namespace: &str, service_account: &str) -> String {
    format!("{cluster}/{namespace}/{service_account}")
}

/// Checks a role path: `/` or `/a/b/`, printable ASCII, at most 512 characters.
pub fn check_role_path(p: &str) -> Result<(), String> {
    let printable = p.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if p.len() > MAX_PATH_LEN
        || !p.starts_with('/')
        || !p.ends_with('/')
        || !printable
        || p.contains("//")
    {
        return Err(format!(
            "{p:?} is not a valid IAM role path: it must begin and end with '/', such as \"/\" or \"/pod-identity/\", with at most {MAX_PATH_LEN} printable characters."
        ));
    }
    Ok(())
}

/// Checks a managed policy ARN (`arn:aws:iam::aws:policy/...` or `arn:aws:iam::123456789012:policy/...`).
pub fn check_policy_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = matches!(
        parts.as_slice(),
        ["arn", "aws" | "aws-cn" | "aws-us-gov", "iam", "", account, resource]
            if (*account == "aws" || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
                && resource.starts_with("policy/") && resource.len() > "policy/".len()
    );
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not an IAM managed policy ARN: expected arn:PARTITION:iam::aws:policy/NAME (AWS managed) or arn:PARTITION:iam::ACCOUNT_ID:policy/NAME."
        ))
    }
}

/// Checks an inline permission policy given by the user.
pub fn check_permission_policy(text: &str) -> Result<(), String> {
    policy::check_document(text, INLINE_POLICY_MAX_LEN)
}

/// The trust policy of a made role: exactly the pods.eks.amazonaws.com
/// statement with sts:AssumeRole and sts:TagSession, plus the conditions asked for.
///
/// `conditions` is a user Condition block (`{"StringEquals": {...}}`);
/// `cluster_arn` (with `restrict_to_cluster`) adds aws:SourceAccount and
/// aws:SourceArn of the cluster.
pub fn trust_policy(conditions: Option<&Value>, cluster_arn: Option<&str>) -> Value {
    let mut cond = conditions.cloned().unwrap_or_else(|| json!({}));
    if let Some(arn) = cluster_arn {
        let account = arn.split(':').nth(4).unwrap_or_default().to_string();
        merge_condition(
            &mut cond,
            "StringEquals",
            "aws:SourceAccount",
            json!(account),
        );
        merge_condition(&mut cond, "ArnEquals", "aws:SourceArn", json!(arn));
    }
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"Service": PODS_PRINCIPAL},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    });
    if cond.as_object().is_some_and(|o| !o.is_empty()) {
        statement["Condition"] = cond;
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

fn merge_condition(cond: &mut Value, operator: &str, key: &str, value: Value) {
    if !cond.is_object() {
        *cond = json!({});
    }
    let op = &mut cond[operator];
    if !op.is_object() {
        *op = json!({});
    }
    op[key] = value;
}

/// Checks `trust_conditions`: a JSON object of condition operators, each an
/// object of condition keys.
pub fn check_trust_conditions(text: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("trust_conditions is not valid JSON: {e}."))?;
    let ok = v
        .as_object()
        .is_some_and(|ops| ops.values().all(|keys| keys.is_object()));
    if ok {
        Ok(())
    } else {
        Err("trust_conditions must be an IAM Condition block: a JSON object such as {\"StringEquals\": {\"aws:RequestTag/team\": \"payments\"}}.".into())
    }
}

/// A made role as configured or as found in IAM.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleShape {
    /// Attached managed policies.
    pub managed_policy_arns: BTreeSet<String>,
    /// Inline policy [`INLINE_POLICY_NAME`], if any.
    pub permission_policy: Option<String>,
    /// Inline policy [`WELL_KNOWN_POLICY_NAME`], if any.
    pub well_known_policy: Option<String>,
    /// Permissions boundary.
    pub permissions_boundary_arn: Option<String>,
    /// Trust policy document.
    pub trust_policy: String,
    /// Tags (owner tag included).
    pub tags: Tags,
}

/// The IAM calls that turn one [`RoleShape`] into another, never more.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RoleChange {
    /// AttachRolePolicy.
    pub attach: Vec<String>,
    /// DetachRolePolicy.
    pub detach: Vec<String>,
    /// PutRolePolicy (name, document).
    pub put_inline: Vec<(&'static str, String)>,
    /// DeleteRolePolicy.
    pub delete_inline: Vec<&'static str>,
    /// PutRolePermissionsBoundary (`Some(Some)`) or DeleteRolePermissionsBoundary (`Some(None)`).
    pub boundary: Option<Option<String>>,
    /// UpdateAssumeRolePolicy.
    pub trust_policy: Option<String>,
    /// TagRole / UntagRole.
    pub tags: TagChange,
}

impl RoleChange {
    /// True when the role is already as wanted.
    pub fn is_empty(&self) -> bool {
        self.attach.is_empty()
            && self.detach.is_empty()
            && self.put_inline.is_empty()
            && self.delete_inline.is_empty()
            && self.boundary.is_none()
            && self.trust_policy.is_none()
            && self.tags.is_empty()
    }
}

fn inline_change(
    name: &'static str,
    actual: &Option<String>,
    wanted: &Option<String>,
    change: &mut RoleChange,
) {
    match (actual, wanted) {
        (Some(a), Some(w)) if policy::equivalent(a, w) => {}
        (_, Some(w)) => change.put_inline.push((name, w.clone())),
        (Some(_), None) => change.delete_inline.push(name),
        (None, None) => {}
    }
}

/// The smallest change from `actual` to `wanted`.
pub fn plan_role_change(actual: &RoleShape, wanted: &RoleShape) -> RoleChange {
    let mut c = RoleChange {
        attach: wanted
            .managed_policy_arns
            .difference(&actual.managed_policy_arns)
            .cloned()
            .collect(),
        detach: actual
            .managed_policy_arns
            .difference(&wanted.managed_policy_arns)
            .cloned()
            .collect(),
        ..Default::default()
    };
    inline_change(
        INLINE_POLICY_NAME,
        &actual.permission_policy,
        &wanted.permission_policy,
        &mut c,
    );
    inline_change(
        WELL_KNOWN_POLICY_NAME,
        &actual.well_known_policy,
        &wanted.well_known_policy,
        &mut c,
    );
    if actual.permissions_boundary_arn != wanted.permissions_boundary_arn {
        c.boundary = Some(wanted.permissions_boundary_arn.clone());
    }
    if !policy::equivalent(&actual.trust_policy, &wanted.trust_policy) {
        c.trust_policy = Some(wanted.trust_policy.clone());
    }
    c.tags = tags::diff(&actual.tags, &wanted.tags);
    c
}

/// The attributes that only make sense when the provider makes the role.
pub const ROLE_CREATION_ATTRS: [&str; 8] = [
    "role_name",
    "role_path",
    "permission_policy_arns",
    "permission_policy",
    "well_known_policies",
    "permissions_boundary_arn",
    "trust_conditions",
    "restrict_to_cluster",
];

/// The attributes that give a made role its permissions.
pub const PERMISSION_SOURCES: [&str; 3] = [
    "permission_policy_arns",
    "permission_policy",
    "well_known_policies",
];

/// What decides where a role comes from: a given `role_arn`, or the
/// role-creation attributes of a role the provider makes.
#[derive(Debug, Clone, Default)]
pub struct RoleSourceInput {
    /// `role_arn` as written in the configuration.
    pub role_arn: Input<String>,
    /// Which role-creation attributes the configuration sets (names).
    pub role_creation_set: Vec<&'static str>,
    /// `permission_policy_arns`, when known.
    pub permission_policy_arns: Input<Set<String>>,
    /// `well_known_policies`, when known.
    pub well_known_policies: Input<Set<String>>,
    /// `permission_policy`, when known.
    pub permission_policy: Input<String>,
    /// AWS partition of the provider's region.
    pub partition: String,
}

/// Role source rules: `role_arn` excludes the role-creation attributes;
/// without it, at least one permission source; made-role size limits.
pub fn check_role_source(input: &RoleSourceInput) -> Vec<Problem> {
    let mut problems = Vec::new();
    if input.role_arn.is_set() {
        for attr in &input.role_creation_set {
            problems.push(Problem::new(
                attr,
                format!("{attr} cannot be combined with role_arn"),
                format!(
                    "role_arn names an existing role, while {attr} describes a role for the provider to make. Remove role_arn to have the provider make the role, or remove {attr} to use the existing role."
                ),
            ));
        }
        return problems;
    }
    let has_source = PERMISSION_SOURCES
        .iter()
        .any(|a| input.role_creation_set.contains(a));
    if !has_source {
        problems.push(Problem::new(
            "role_arn",
            "No role and no permissions",
            "Set role_arn to use an existing role, or give the role the provider should make its permissions with at least one of permission_policy_arns, permission_policy or well_known_policies.",
        ));
        return problems;
    }
    let mut managed = input
        .permission_policy_arns
        .known()
        .cloned()
        .unwrap_or_default();
    let mut inline_chars = input
        .permission_policy
        .known()
        .map(|p| well_known::policy_chars(p))
        .unwrap_or(0);
    if let Input::Known(names) = &input.well_known_policies {
        let names: Vec<String> = names.iter().cloned().collect();
        match well_known::combine(&names, &input.partition) {
            Ok((arns, doc)) => {
                managed.extend(arns);
                inline_chars += doc.map(|d| well_known::policy_chars(&d)).unwrap_or(0);
            }
            Err(e) => problems.push(Problem::new(
                "well_known_policies",
                "Invalid well-known policies",
                e,
            )),
        }
    }
    if managed.len() > MAX_MANAGED_POLICIES {
        problems.push(Problem::new(
            "permission_policy_arns",
            "Too many managed policies",
            format!(
                "The role would have {} managed policies (permission_policy_arns and those of well_known_policies); IAM allows at most {} per role (10 unless the quota was raised). Combine some into one customer managed policy.",
                managed.len(),
                MAX_MANAGED_POLICIES
            ),
        ));
    }
    if inline_chars > INLINE_POLICY_MAX_LEN {
        problems.push(Problem::new(
            "permission_policy",
            "Inline policies too large",
            format!(
                "permission_policy and the inline statements of well_known_policies come to {inline_chars} characters; IAM allows {} per role. Move some permissions into a managed policy (permission_policy_arns).",
                INLINE_POLICY_MAX_LEN
            ),
        ));
    }
    problems
}

/// The role-creation attributes of one service account's role.
#[derive(Debug, Clone, Copy)]
pub struct RoleRequest<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// Namespace of the service account.
    pub namespace: &'a str,
    /// Service account.
    pub service_account: &'a str,
    /// Role name, when given.
    pub role_name: Option<&'a str>,
    /// Role path, when given.
    pub role_path: Option<&'a str>,
    /// Managed policies.
    pub permission_policy_arns: Option<&'a Set<String>>,
    /// Inline policy.
    pub permission_policy: Option<&'a str>,
    /// Well-known policy names.
    pub well_known_policies: Option<&'a Set<String>>,
    /// Permissions boundary.
    pub permissions_boundary_arn: Option<&'a str>,
    /// Extra trust conditions (JSON).
    pub trust_conditions: Option<&'a str>,
    /// Restrict trust to the cluster.
    pub restrict_to_cluster: bool,
    /// Tags for the role (without the provider's own tags).
    pub tags: Option<&'a Tags>,
}

/// A role the provider makes: name, path and everything on it.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedRole {
    /// Role name.
    pub name: String,
    /// Role path.
    pub path: String,
    /// The role's policies, trust and tags.
    pub shape: RoleShape,
}

/// The role a request asks for. `cluster_arn` is needed only with `restrict_to_cluster`.
pub fn wanted_role(
    r: &RoleRequest<'_>,
    partition: &str,
    cluster_arn: Option<&str>,
) -> Result<WantedRole, String> {
    let names: Vec<String> = r
        .well_known_policies
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let (wk_arns, wk_doc) = well_known::combine(&names, partition)?;
    let mut managed = r.permission_policy_arns.cloned().unwrap_or_default();
    managed.extend(wk_arns);
    let conditions = match r.trust_conditions {
        Some(t) => Some(
            serde_json::from_str(t)
                .map_err(|e| format!("trust_conditions is not valid JSON: {e}"))?,
        ),
        None => None,
    };
    let restrict = if r.restrict_to_cluster {
        cluster_arn
    } else {
        None
    };
    let mut tags = r.tags.cloned().unwrap_or_default();
    tags.insert(
        OWNER_TAG.to_string(),
        owner_tag_value(r.cluster, r.namespace, r.service_account),
    );
    if !names.is_empty() {
        tags.insert(WELL_KNOWN_TAG.to_string(), names.join(" "));
    }
    Ok(WantedRole {
        name: r
            .role_name
            .map(str::to_string)
            .unwrap_or_else(|| generated_role_name(r.cluster, r.namespace, r.service_account)),
        path: r.role_path.unwrap_or("/").to_string(),
        shape: RoleShape {
            managed_policy_arns: managed,
            permission_policy: r.permission_policy.map(str::to_string),
            well_known_policy: wk_doc,
            permissions_boundary_arn: r.permissions_boundary_arn.map(str::to_string),
            trust_policy: trust_policy(conditions.as_ref(), restrict).to_string(),
            tags,
        },
    })
}

/// Checks a role name given by the user (see [`check_role_name`]).
pub fn check_name(s: &str) -> Result<(), String> {
    check_role_name(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_bounded_deterministic_and_unambiguous() {
        let a = generated_role_name("c", "a-b", "c");
        let b = generated_role_name("c", "a", "b-c");
        assert_ne!(a, b);
        assert_eq!(a, generated_role_name("c", "a-b", "c"));
        let long = generated_role_name(&"x".repeat(100), &"n".repeat(63), &"s".repeat(253));
        assert!(long.len() <= 64, "{long}");
        assert!(check_role_name(&long).is_ok());
        // Same long prefix, different service account: still different.
        let long2 = generated_role_name(
            &"x".repeat(100),
            &"n".repeat(63),
            &format!("{}t", "s".repeat(252)),
        );
        assert_ne!(long, long2);
        assert!(check_role_name(&generated_role_name("my_cluster", "ns", "sa.with.dots")).is_ok());
    }

    #[test]
    fn trust_policy_is_exactly_the_pods_statement() {
        let t = trust_policy(None, None);
        assert_eq!(
            t,
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]})
        );
    }

    #[test]
    fn restrict_to_cluster_adds_source_conditions() {
        let user = json!({"StringEquals": {"aws:RequestTag/team": "a"}});
        let t = trust_policy(
            Some(&user),
            Some("arn:aws:eks:us-east-1:123456789012:cluster/c1"),
        );
        let cond = &t["Statement"][0]["Condition"];
        assert_eq!(cond["StringEquals"]["aws:SourceAccount"], "123456789012");
        assert_eq!(cond["StringEquals"]["aws:RequestTag/team"], "a");
        assert_eq!(
            cond["ArnEquals"]["aws:SourceArn"],
            "arn:aws:eks:us-east-1:123456789012:cluster/c1"
        );
    }

    #[test]
    fn paths_arns_conditions() {
        assert!(check_role_path("/").is_ok());
        assert!(check_role_path("/a/b/").is_ok());
        for bad in ["", "a/", "/a", "//", "/a b/"] {
            assert!(check_role_path(bad).is_err(), "{bad}");
        }
        assert!(check_policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").is_ok());
        assert!(
            check_policy_arn("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
                .is_ok()
        );
        assert!(check_policy_arn("arn:aws:iam::123456789012:policy/mine").is_ok());
        for bad in [
            "arn:aws:iam::aws:role/x",
            "arn:aws:iam::12:policy/x",
            "AmazonS3ReadOnlyAccess",
            "arn:aws:iam::aws:policy/",
        ] {
            assert!(check_policy_arn(bad).is_err(), "{bad}");
        }
        assert!(check_trust_conditions(r#"{"StringEquals":{"k":"v"}}"#).is_ok());
        assert!(check_trust_conditions(r#"{"StringEquals":"v"}"#).is_err());
        assert!(check_trust_conditions("nope").is_err());
    }

    #[test]
    fn role_change_touches_only_what_changed() {
        let trust = trust_policy(None, None).to_string();
        let actual = RoleShape {
            managed_policy_arns: ["a".to_string(), "b".to_string()].into(),
            permission_policy: Some(
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(),
            ),
            trust_policy: trust.clone(),
            ..Default::default()
        };
        let mut wanted = actual.clone();
        assert!(plan_role_change(&actual, &wanted).is_empty());
        wanted.managed_policy_arns = ["b".to_string(), "c".to_string()].into();
        wanted.permission_policy = None;
        wanted.permissions_boundary_arn = Some("arn:aws:iam::aws:policy/PowerUserAccess".into());
        let c = plan_role_change(&actual, &wanted);
        assert_eq!(c.attach, vec!["c".to_string()]);
        assert_eq!(c.detach, vec!["a".to_string()]);
        assert_eq!(c.delete_inline, vec![INLINE_POLICY_NAME]);
        assert!(c.put_inline.is_empty());
        assert_eq!(
            c.boundary,
            Some(Some("arn:aws:iam::aws:policy/PowerUserAccess".into()))
        );
        assert_eq!(c.trust_policy, None);
        // A semantically equal inline policy in other text: no call.
        let mut reformatted = actual.clone();
        reformatted.permission_policy = Some(
            r#"{ "Statement": { "Resource": "*", "Action": ["s3:*"], "Effect": "Allow" } }"#.into(),
        );
        assert!(plan_role_change(&actual, &reformatted).is_empty());
    }
}

/// Splits a made role's trust policy back into `trust_conditions` (JSON, or
/// `None` when there are none) and `restrict_to_cluster`, for import.
pub fn split_trust(trust_policy: &str) -> (Option<String>, bool) {
    let Ok(doc) = policy::parse_iam(trust_policy) else {
        return (None, false);
    };
    let statement = match &doc["Statement"] {
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    let mut cond = statement
        .get("Condition")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let restrict = cond["ArnEquals"].get("aws:SourceArn").is_some();
    if restrict {
        for (op, key) in [
            ("ArnEquals", "aws:SourceArn"),
            ("StringEquals", "aws:SourceAccount"),
        ] {
            if let Some(m) = cond.get_mut(op).and_then(Value::as_object_mut) {
                m.remove(key);
            }
        }
    }
    if let Some(ops) = cond.as_object_mut() {
        ops.retain(|_, keys| keys.as_object().is_some_and(|k| !k.is_empty()));
    }
    let rest = cond
        .as_object()
        .is_some_and(|o| !o.is_empty())
        .then(|| cond.to_string());
    (rest, restrict)
}

#[cfg(test)]
mod split_tests {
    use super::*;

    #[test]
    fn split_trust_inverts_trust_policy() {
        let user = json!({"StringEquals": {"aws:RequestTag/team": "a"}});
        let t = trust_policy(
            Some(&user),
            Some("arn:aws:eks:us-east-1:123456789012:cluster/c1"),
        )
        .to_string();
        let (rest, restrict) = split_trust(&t);
        assert!(restrict);
        assert_eq!(
            rest.map(|r| serde_json::from_str::<Value>(&r).ok()),
            Some(Some(user))
        );
        assert_eq!(
            split_trust(&trust_policy(None, None).to_string()),
            (None, false)
        );
        let (_, restrict) = split_trust(
            &trust_policy(None, Some("arn:aws:eks:us-east-1:123456789012:cluster/c1")).to_string(),
        );
        assert!(restrict);
    }
}
