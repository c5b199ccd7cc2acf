//! The rules between the role-source attributes of a configuration (an
//! association, or one addon entry): `role_arn` against the role-creation
//! attributes, at least one permission source, ARNs of the resource's own
//! partition, valid well-known names, and what IAM's limits allow, each
//! read as validation or as plan sees unknown values.
//!
//! Owns: [`RoleConfig`] and [`check_role_config`]. Does not own: the
//! syntax of one attribute (`super::permissions`, `crate::names`).

use super::limits::{
    DEFAULT_MANAGED_POLICIES, INLINE_POLICY_MAX_LEN, MAX_MANAGED_POLICIES, check_well_known_tag,
    policy_size, trust_size_warning,
};
use crate::input::{Input, Stage};
use crate::spec::Problem;
use crate::well_known::{self, WellKnownScopes};
use std::collections::BTreeSet as Set;

/// The attributes that only make sense when the provider makes the role.
pub const ROLE_CREATION_ATTRS: [&str; 10] = [
    "role_name",
    "role_path",
    "permission_policy_arns",
    "permission_policy",
    "permission_policy_name",
    "well_known_policies",
    "well_known_policy_scopes",
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
///
/// Kept for callers that build a [`RoleSourceInput`]; it reads an attribute
/// named in `role_creation_set` whose value it cannot see as "set, value not
/// known" and applies the plan-time reading ([`Stage::Plan`]). New callers
/// use [`check_role_config`], which sees every value and knows the stage.
pub fn check_role_source(input: &RoleSourceInput) -> Vec<Problem> {
    check_role_config(&RoleConfig::from(input), Stage::Plan)
}

/// The role-source attributes of a configuration (an association, or one
/// addon entry), each as planning sees it: null, unknown or known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleConfig {
    /// `role_arn`.
    pub role_arn: Input<String>,
    /// `role_name`.
    pub role_name: Input<String>,
    /// `role_path`.
    pub role_path: Input<String>,
    /// `permission_policy_arns` (unknown when any element is).
    pub permission_policy_arns: Input<Set<String>>,
    /// `permission_policy`.
    pub permission_policy: Input<String>,
    /// `permission_policy_name`.
    pub permission_policy_name: Input<String>,
    /// `well_known_policies` (unknown when any element is).
    pub well_known_policies: Input<Set<String>>,
    /// `well_known_policy_scopes` (unknown when any part is).
    pub well_known_policy_scopes: Input<WellKnownScopes>,
    /// `permissions_boundary_arn`.
    pub permissions_boundary_arn: Input<String>,
    /// `trust_conditions`.
    pub trust_conditions: Input<String>,
    /// `restrict_to_cluster` as configured (before its default).
    pub restrict_to_cluster: Input<bool>,
    /// AWS partition of the provider's region (`aws` at validate time).
    pub partition: String,
}

/// The partition an ARN names (`arn:PARTITION:…`).
pub fn arn_partition(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(3, ':');
    (parts.next() == Some("arn"))
        .then(|| parts.next())
        .flatten()
}

/// ARNs of another partition than the provider's region's, at plan (issue
/// 23 item 7): IAM and EKS never see across partitions, so such a role or
/// policy fails only at apply, after two minutes of "does not exist".
fn partition_problems(cfg: &RoleConfig) -> Vec<Problem> {
    let one = |v: &Input<String>| match v {
        Input::Known(a) => vec![a.clone()],
        _ => vec![],
    };
    let many = |v: &Input<Set<String>>| match v {
        Input::Known(s) => s.iter().cloned().collect::<Vec<_>>(),
        _ => vec![],
    };
    let candidates = [
        ("role_arn", one(&cfg.role_arn)),
        (
            "permissions_boundary_arn",
            one(&cfg.permissions_boundary_arn),
        ),
        ("permission_policy_arns", many(&cfg.permission_policy_arns)),
    ];
    let mut out = Vec::new();
    for (attr, arns) in candidates {
        for arn in arns {
            if let Some(p) = arn_partition(&arn).filter(|p| *p != cfg.partition) {
                out.push(Problem::new(
                    attr,
                    format!("{attr} is in another partition"),
                    format!(
                        "{arn} is in the partition {p}, but this resource's region is in {}: IAM and EKS never see across partitions, so the apply would fail. Use an ARN of {}, or a provider block (an alias) configured for a region of {p}.",
                        cfg.partition, cfg.partition
                    ),
                ));
            }
        }
    }
    out
}

/// Whether an attribute holds something, as far as the rules are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Null, an empty set, or `false`: it asks for nothing.
    Absent,
    /// Not known yet.
    Unknown,
    /// It asks for something.
    Present,
}

fn presence_of<T>(v: &Input<T>, empty: impl Fn(&T) -> bool) -> Presence {
    match v {
        Input::Null => Presence::Absent,
        Input::Unknown => Presence::Unknown,
        Input::Known(x) if empty(x) => Presence::Absent,
        Input::Known(_) => Presence::Present,
    }
}

impl RoleConfig {
    /// Whether a role-creation attribute (one of [`ROLE_CREATION_ATTRS`])
    /// asks for something. An empty set asks for nothing
    /// (`permission_policy_arns = []` beside `role_arn` is no conflict), and
    /// so does `restrict_to_cluster = false`.
    pub fn presence(&self, attr: &str) -> Presence {
        let s = |v: &Input<String>| presence_of(v, |_| false);
        match attr {
            "role_name" => s(&self.role_name),
            "role_path" => s(&self.role_path),
            "permission_policy_arns" => presence_of(&self.permission_policy_arns, Set::is_empty),
            "permission_policy" => s(&self.permission_policy),
            "permission_policy_name" => s(&self.permission_policy_name),
            "well_known_policies" => presence_of(&self.well_known_policies, Set::is_empty),
            "well_known_policy_scopes" => {
                presence_of(&self.well_known_policy_scopes, WellKnownScopes::is_empty)
            }
            "permissions_boundary_arn" => s(&self.permissions_boundary_arn),
            "trust_conditions" => s(&self.trust_conditions),
            "restrict_to_cluster" => presence_of(&self.restrict_to_cluster, |b| !*b),
            _ => Presence::Absent,
        }
    }

    /// Whether the provider makes the role: `Known(true)` when `role_arn`
    /// is null, `Known(false)` when it is set, `Unknown` when not known yet.
    pub fn makes_role(&self) -> Input<bool> {
        match &self.role_arn {
            Input::Null => Input::Known(true),
            Input::Known(_) => Input::Known(false),
            Input::Unknown => Input::Unknown,
        }
    }
}

impl From<&RoleSourceInput> for RoleConfig {
    /// The old input names the set role-creation attributes without their
    /// values (an unknown one is named too); those it gives no value for
    /// become unknown, which [`Stage::Plan`] reads as set, as before.
    fn from(i: &RoleSourceInput) -> Self {
        let named = |a: &str| i.role_creation_set.contains(&a);
        let s = |a: &str| {
            if named(a) {
                Input::Unknown
            } else {
                Input::Null
            }
        };
        // Named but without a value: set, value not seen.
        fn source<T>(named: bool, v: &Input<T>) -> Input<T>
        where
            T: Clone,
        {
            match (named, v) {
                (false, _) => Input::Null,
                (true, Input::Null) => Input::Unknown,
                (true, v) => v.clone(),
            }
        }
        RoleConfig {
            role_arn: i.role_arn.clone(),
            role_name: s("role_name"),
            role_path: s("role_path"),
            permission_policy_arns: source(
                named("permission_policy_arns"),
                &i.permission_policy_arns,
            ),
            permission_policy: source(named("permission_policy"), &i.permission_policy),
            permission_policy_name: s("permission_policy_name"),
            well_known_policies: source(named("well_known_policies"), &i.well_known_policies),
            well_known_policy_scopes: if named("well_known_policy_scopes") {
                Input::Unknown
            } else {
                Input::Null
            },
            permissions_boundary_arn: s("permissions_boundary_arn"),
            trust_conditions: s("trust_conditions"),
            restrict_to_cluster: if named("restrict_to_cluster") {
                Input::Unknown
            } else {
                Input::Null
            },
            partition: i.partition.clone(),
        }
    }
}

/// Role source rules on a configuration:
///
/// - `role_arn` excludes the role-creation attributes (an error at each
///   attribute, naming both). Only values that ask for something conflict:
///   an empty set or `restrict_to_cluster = false` beside `role_arn` is
///   fine. At [`Stage::Validate`] a conflict needs both values known (an
///   unknown value may turn out null); at [`Stage::Plan`] an unknown value
///   counts as set, because the provider must decide now whether it makes
///   a role.
/// - Without `role_arn` (known null), at least one permission source that
///   grants something: `permission_policy_arns = []` with
///   `well_known_policies = []` and no `permission_policy` would make a
///   role with no permissions. An unknown source defers the check.
/// - Every unknown well-known policy name is reported, once, in one problem.
/// - The made role's size limits (managed policies, inline policy size).
pub fn check_role_config(cfg: &RoleConfig, stage: Stage) -> Vec<Problem> {
    let mut problems = Vec::new();
    if stage == Stage::Plan && !cfg.partition.is_empty() {
        problems.extend(partition_problems(cfg));
    }
    let counts = |p: Presence| match stage {
        Stage::Validate => p == Presence::Present,
        Stage::Plan => p != Presence::Absent,
    };
    let arn_set = match (&cfg.role_arn, stage) {
        (Input::Known(_), _) => Some(true),
        (Input::Unknown, Stage::Plan) => Some(false),
        _ => None,
    };
    if let Some(arn_known) = arn_set {
        for attr in ROLE_CREATION_ATTRS {
            let p = cfg.presence(attr);
            if !counts(p) {
                continue;
            }
            let unknown = if !arn_known {
                " role_arn is not known until apply, but the provider must decide at plan time whether it makes a role."
            } else if p == Presence::Unknown {
                " The value of this attribute is not known until apply, so it may ask for something."
            } else {
                ""
            };
            problems.push(Problem::new(
                attr,
                format!("{attr} cannot be combined with role_arn"),
                format!(
                    "role_arn names an existing role, while {attr} describes a role for the provider to make.{unknown} Remove role_arn to have the provider make the role, or remove {attr} (or set it to null) to use the existing role."
                ),
            ));
        }
        return problems;
    }
    if cfg.presence("permission_policy_name") != Presence::Absent
        && cfg.presence("permission_policy") == Presence::Absent
    {
        problems.push(Problem::new(
            "permission_policy_name",
            "permission_policy_name without permission_policy",
            "permission_policy_name names the inline policy that holds permission_policy, and there is none. Set permission_policy, or remove permission_policy_name.",
        ));
    }
    if cfg.role_arn.is_set() {
        // Validate, role_arn unknown: what the role is decides at plan.
        return check_made_role_values(cfg, stage, problems);
    }
    let sources: Vec<Presence> = PERMISSION_SOURCES.iter().map(|a| cfg.presence(a)).collect();
    if sources.iter().all(|p| *p == Presence::Absent) {
        let empty: Vec<&str> = PERMISSION_SOURCES
            .iter()
            .copied()
            .filter(|a| match *a {
                "permission_policy_arns" => cfg.permission_policy_arns.known().is_some(),
                "well_known_policies" => cfg.well_known_policies.known().is_some(),
                _ => false,
            })
            .collect();
        let why = if empty.is_empty() {
            String::new()
        } else {
            format!(
                " {} {} empty, which grants nothing.",
                empty.join(" and "),
                if empty.len() == 1 { "is" } else { "are" }
            )
        };
        problems.push(Problem::new(
            "role_arn",
            "No role and no permissions",
            format!("Set role_arn to use an existing role, or give the role the provider should make its permissions with at least one of permission_policy_arns, permission_policy or well_known_policies.{why}"),
        ));
        return problems;
    }
    check_made_role_values(cfg, stage, problems)
}

/// Checks of the known values of a role the provider makes: well-known
/// names (all unknown ones in one problem) and IAM's size limits.
fn check_made_role_values(
    cfg: &RoleConfig,
    stage: Stage,
    mut problems: Vec<Problem>,
) -> Vec<Problem> {
    let mut managed = cfg
        .permission_policy_arns
        .known()
        .cloned()
        .unwrap_or_default();
    let mut inline_chars = cfg
        .permission_policy
        .known()
        .map(|p| well_known::policy_chars(p))
        .unwrap_or(0);
    let scopes = cfg
        .well_known_policy_scopes
        .known()
        .cloned()
        .unwrap_or_default();
    problems.extend(scope_problems(cfg, stage, &scopes));
    if let Input::Known(names) = &cfg.well_known_policies {
        let names: Vec<String> = names.iter().cloned().collect();
        // A required scope (karpenter's cluster_arns) missing is an error
        // at the scopes when they are known; while they are not (a cluster
        // made in the same apply), the policy can be neither rendered nor
        // measured, and apply checks again.
        let missing = well_known::missing_scopes(&names, &scopes);
        if !matches!(cfg.well_known_policy_scopes, Input::Unknown) {
            let attr = crate::well_known_scope::ATTR;
            problems.extend(
                missing
                    .iter()
                    .map(|d| Problem::new(attr, format!("Missing value in {attr}"), d.clone())),
            );
        }
        let checked = well_known::check_names(&names).and_then(|()| {
            if missing.is_empty() {
                well_known::combine_scoped(&names, &scopes, &cfg.partition).map(Some)
            } else {
                Ok(None)
            }
        });
        match checked {
            Ok(Some((arns, doc))) => {
                managed.extend(arns);
                inline_chars += doc.map(|d| well_known::policy_chars(&d)).unwrap_or(0);
            }
            Ok(None) => {}
            Err(e) => problems.push(Problem::new(
                "well_known_policies",
                "Invalid value for well_known_policies",
                e,
            )),
        }
        if let Err(e) = check_well_known_tag(&names) {
            problems.push(Problem::new(
                "well_known_policies",
                "Too many well-known policies",
                e,
            ));
        }
    }
    problems.extend(limit_problems(cfg, managed.len(), inline_chars));
    problems
}

/// IAM's limits on the made role, at plan: managed policies (a warning
/// above the default quota, an error above the highest), the trust
/// policy's size (a warning) and the inline policies' size (an error).
fn limit_problems(cfg: &RoleConfig, managed: usize, inline_chars: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    if managed > MAX_MANAGED_POLICIES {
        problems.push(Problem::new(
            "permission_policy_arns",
            "Too many managed policies",
            format!(
                "The role would have {} managed policies (permission_policy_arns and those of well_known_policies); IAM allows at most {} per role (10 unless the quota was raised). Combine some into one customer managed policy.",
                managed,
                MAX_MANAGED_POLICIES
            ),
        ));
    }
    if (DEFAULT_MANAGED_POLICIES + 1..=MAX_MANAGED_POLICIES).contains(&managed) {
        problems.push(Problem::warning(
            "permission_policy_arns",
            "More managed policies than IAM's default quota",
            format!(
                "The role would have {} managed policies (permission_policy_arns and those of well_known_policies). IAM's quota \"Managed policies attached to an IAM role\" is {DEFAULT_MANAGED_POLICIES} unless this account raised it (up to {MAX_MANAGED_POLICIES}, Service Quotas); without that, IAM refuses the attachment with LimitExceeded at apply.",
                managed
            ),
        ));
    }
    if let Some(size) = trust_size(cfg)
        && let Some(w) = trust_size_warning(
            "The made role's trust policy (trust_conditions included)",
            size,
        )
    {
        problems.push(Problem::warning(
            "trust_conditions",
            "Trust policy over IAM's default size",
            w,
        ));
    }
    // Inline policies over IAM's limit are refused at plan with the
    // numbers (issue 25 item 4: chosen over splitting them into customer
    // managed policies the resource would make and own, which would add
    // objects, calls and a second ownership path for one role).
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

/// The values of `well_known_policy_scopes` (kind and partition, at plan),
/// and scopes that no chosen well-known policy takes (when the
/// names are known; without `well_known_policies` every given scope is one).
fn scope_problems(cfg: &RoleConfig, stage: Stage, scopes: &WellKnownScopes) -> Vec<Problem> {
    let attr = crate::well_known_scope::ATTR;
    let mut details = if stage == Stage::Plan && !cfg.partition.is_empty() {
        scopes.problems(&cfg.partition)
    } else {
        vec![]
    };
    let names = match &cfg.well_known_policies {
        Input::Known(n) => Some(n.iter().cloned().collect::<Vec<_>>()),
        Input::Null => Some(vec![]),
        Input::Unknown => None,
    };
    if let Some(names) = names {
        details.extend(well_known::check_scopes(&names, scopes));
    }
    details
        .into_iter()
        .map(|d| Problem::new(attr, format!("Invalid value for {attr}"), d))
        .collect()
}

/// The size IAM counts of the made role's trust policy, when the
/// conditions are known: with `restrict_to_cluster`, for the longest
/// cluster ARN (a 100-character cluster name), so it is an upper bound.
fn trust_size(cfg: &RoleConfig) -> Option<usize> {
    let conditions = match &cfg.trust_conditions {
        Input::Known(text) => Some(serde_json::from_str(text).ok()?),
        Input::Null => None,
        Input::Unknown => return None,
    };
    let longest = format!(
        "arn:{}:eks:us-gov-west-1:123456789012:cluster/{}",
        cfg.partition,
        "x".repeat(100)
    );
    let restrict = (cfg.restrict_to_cluster.known() == Some(&true)).then_some(longest.as_str());
    Some(policy_size(&super::trust_policy(
        conditions.as_ref(),
        restrict,
    )))
}

#[cfg(test)]
mod config_tests {
    //! Role-source rules with unknown values (issue 12 item 5) and the
    //! permission-source and well-known rules (issue 14 item 6).
    use super::*;
    use crate::role::{WELL_KNOWN_TAG, check_policy_arn, well_known_tag_value};

    const ARN: &str = "arn:aws:iam::123456789012:role/r";

    fn set(items: &[&str]) -> Input<Set<String>> {
        Input::Known(items.iter().map(|s| s.to_string()).collect())
    }

    fn cfg() -> RoleConfig {
        RoleConfig {
            partition: "aws".into(),
            ..Default::default()
        }
    }

    fn managed(n: usize) -> Input<Set<String>> {
        Input::Known(
            (0..n)
                .map(|i| format!("arn:aws:iam::123456789012:policy/p{i}"))
                .collect(),
        )
    }

    /// Issue 25 item 4: above IAM's default quota of 10 managed policies a
    /// warning naming the quota; above 20 (the most it can be raised to) an
    /// error; at 10 nothing.
    #[test]
    fn managed_policies_warn_above_the_default_quota_and_fail_above_the_maximum() {
        let at = |n| {
            let c = RoleConfig {
                permission_policy_arns: managed(n),
                ..cfg()
            };
            check_role_config(&c, Stage::Plan)
        };
        assert_eq!(at(10), vec![]);
        let eleven = at(11);
        assert_eq!(eleven.len(), 1, "{eleven:?}");
        assert!(
            eleven[0].warning
                && eleven[0]
                    .detail
                    .contains("Managed policies attached to an IAM role")
        );
        let twenty = at(20);
        assert!(twenty.iter().all(|p| p.warning), "{twenty:?}");
        let over = at(21);
        assert!(
            over.iter()
                .any(|p| !p.warning && p.summary == "Too many managed policies"),
            "{over:?}"
        );
    }

    /// Issue 25: karpenter without cluster_arns is an error at the scopes
    /// naming the key and the fix; unknown scopes defer it to apply; with
    /// the cluster it plans cleanly.
    #[test]
    fn karpenter_needs_cluster_arns_unless_the_scopes_are_unknown() {
        let c = RoleConfig {
            well_known_policies: set(&["karpenter"]),
            ..cfg()
        };
        let problems = check_role_config(&c, Stage::Plan);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].attr, crate::well_known_scope::ATTR);
        assert!(
            problems[0].detail.contains("cluster_arns") && !problems[0].warning,
            "{}",
            problems[0].detail
        );
        let unknown = RoleConfig {
            well_known_policy_scopes: Input::Unknown,
            ..c.clone()
        };
        assert_eq!(check_role_config(&unknown, Stage::Plan), vec![]);
        let given = RoleConfig {
            well_known_policy_scopes: Input::Known(WellKnownScopes {
                cluster_arns: Some(
                    ["arn:aws:eks:eu-west-1:123456789012:cluster/prod".to_string()].into(),
                ),
                ..Default::default()
            }),
            ..c
        };
        assert_eq!(check_role_config(&given, Stage::Plan), vec![]);
    }

    /// Issue 25 item 4: a trust policy over IAM's default 2,048 characters
    /// warns with the measured size, at trust_conditions.
    #[test]
    fn a_trust_policy_over_the_default_quota_warns_with_its_size() {
        let values: Vec<String> = (0..150).map(|i| format!("team-number-{i:03}")).collect();
        let conditions = serde_json::json!({"StringEquals": {"aws:RequestTag/team": values}});
        let c = RoleConfig {
            permission_policy_arns: managed(1),
            trust_conditions: Input::Known(conditions.to_string()),
            ..cfg()
        };
        let problems = check_role_config(&c, Stage::Plan);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].warning);
        assert_eq!(problems[0].attr, "trust_conditions");
        assert!(
            problems[0].detail.contains("2048"),
            "{}",
            problems[0].detail
        );
        let short = RoleConfig {
            trust_conditions: Input::Known(
                r#"{"StringEquals": {"aws:RequestTag/team": "a"}}"#.into(),
            ),
            ..c
        };
        assert_eq!(check_role_config(&short, Stage::Plan), vec![]);
    }

    #[test]
    fn validate_each_value_role_arn_beside_unknown_well_known_is_no_conflict() {
        // role_arn = each.value.role_arn, well_known_policies = each.value.wkp:
        // both unknown at validate, one of them null per instance.
        let c = RoleConfig {
            role_arn: Input::Unknown,
            well_known_policies: Input::Unknown,
            ..cfg()
        };
        assert_eq!(check_role_config(&c, Stage::Validate), vec![]);
        // var.x ? arn : null beside a known policy list: unknown at validate.
        let c = RoleConfig {
            role_arn: Input::Unknown,
            permission_policy_arns: set(&["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
            ..cfg()
        };
        assert_eq!(check_role_config(&c, Stage::Validate), vec![]);
        // A known role_arn beside an unknown attribute: decided at plan.
        let c = RoleConfig {
            role_arn: Input::Known(ARN.into()),
            role_name: Input::Unknown,
            well_known_policies: Input::Unknown,
            ..cfg()
        };
        assert_eq!(check_role_config(&c, Stage::Validate), vec![]);
    }

    #[test]
    fn arns_of_another_partition_are_refused_at_plan() {
        let mut c = cfg();
        c.role_arn = Input::Known("arn:aws-cn:iam::123456789012:role/r".into());
        let p = check_role_config(&c, Stage::Plan);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].attr, "role_arn");
        assert!(p[0].detail.contains("aws-cn"), "{}", p[0].detail);
        // At validate the partition is not known yet: no judgement.
        assert!(check_role_config(&c, Stage::Validate).is_empty());
        let mut made = cfg();
        made.permission_policy_arns = set(&["arn:aws-cn:iam::aws:policy/ReadOnlyAccess"]);
        made.permissions_boundary_arn = Input::Known("arn:aws-us-gov:iam::1:policy/b".into());
        let attrs: Vec<&str> = check_role_config(&made, Stage::Plan)
            .iter()
            .map(|p| p.attr)
            .collect();
        assert!(attrs.contains(&"permission_policy_arns"), "{attrs:?}");
        assert!(attrs.contains(&"permissions_boundary_arn"), "{attrs:?}");
        made.partition = "aws-cn".into();
        made.permissions_boundary_arn = Input::Null;
        assert!(check_role_config(&made, Stage::Plan).is_empty());
        assert_eq!(arn_partition("arn:aws:iam::1:role/x"), Some("aws"));
        assert_eq!(arn_partition("not-an-arn"), None);
    }

    #[test]
    fn every_partition_plans_its_own_arns_and_refuses_another_partitions() {
        use crate::partition::{PARTITIONS, partition_of};
        // The partition the provider gives a resource in `region`.
        let of = |region: &str| partition_of(region).map(|p| p.id.to_string());
        for (i, p) in PARTITIONS.iter().enumerate() {
            let other = &PARTITIONS[(i + 1) % PARTITIONS.len()];
            let role = format!("arn:{}:iam::123456789012:role/team/r", p.id);
            let boundary = format!("arn:{}:iam::aws:policy/PowerUserAccess", p.id);
            let mine = format!("arn:{}:iam::123456789012:policy/mine", p.id);
            assert_eq!(crate::names::check_role_arn(&role), Ok(()), "{role}");
            assert_eq!(check_policy_arn(&boundary), Ok(()), "{boundary}");
            assert_eq!(check_policy_arn(&mine), Ok(()), "{mine}");
            let given = RoleConfig {
                role_arn: Input::Known(role.clone()),
                partition: of(p.sample_region).unwrap_or_default(),
                ..cfg()
            };
            assert_eq!(check_role_config(&given, Stage::Plan), vec![], "{role}");
            let elsewhere = RoleConfig {
                partition: of(other.sample_region).unwrap_or_default(),
                ..given
            };
            let problems = check_role_config(&elsewhere, Stage::Plan);
            let attrs: Vec<&str> = problems.iter().map(|p| p.attr).collect();
            assert_eq!(attrs, ["role_arn"], "{role} in {}", other.sample_region);
            assert!(
                problems[0].detail.contains(other.id),
                "{}",
                problems[0].detail
            );
            let made = RoleConfig {
                role_arn: Input::Null,
                permission_policy_arns: set(&[&mine]),
                permissions_boundary_arn: Input::Known(boundary.clone()),
                well_known_policies: set(&["ebs-csi-controller"]),
                partition: of(p.sample_region).unwrap_or_default(),
                ..cfg()
            };
            assert_eq!(check_role_config(&made, Stage::Plan), vec![], "{}", p.id);
            let elsewhere = RoleConfig {
                partition: of(other.sample_region).unwrap_or_default(),
                ..made
            };
            let attrs: Vec<&str> = check_role_config(&elsewhere, Stage::Plan)
                .iter()
                .map(|p| p.attr)
                .collect();
            assert_eq!(
                attrs,
                ["permissions_boundary_arn", "permission_policy_arns"],
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn permission_policy_name_needs_permission_policy() {
        let named = RoleConfig {
            permission_policy_name: Input::Known("s3-access".into()),
            permission_policy_arns: set(&["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
            role_arn: Input::Null,
            ..cfg()
        };
        let p = check_role_config(&named, Stage::Validate);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].attr, "permission_policy_name");
        let with_policy = RoleConfig {
            permission_policy: Input::Known(r#"{"Statement":[]}"#.into()),
            ..named.clone()
        };
        assert!(
            check_role_config(&with_policy, Stage::Validate)
                .iter()
                .all(|p| p.attr != "permission_policy_name")
        );
        // Beside role_arn it is a role-creation attribute like the others.
        let arn = RoleConfig {
            role_arn: Input::Known(ARN.into()),
            permission_policy: Input::Null,
            ..named
        };
        let p = check_role_config(&arn, Stage::Plan);
        assert!(
            p.iter()
                .any(|p| p.attr == "permission_policy_name" && p.summary.contains("role_arn")),
            "{p:?}"
        );
    }

    #[test]
    fn plan_rechecks_known_conflicts_and_reads_unknown_as_set() {
        let known = RoleConfig {
            role_arn: Input::Known(ARN.into()),
            well_known_policies: set(&["external-dns"]),
            ..cfg()
        };
        for stage in [Stage::Validate, Stage::Plan] {
            let p = check_role_config(&known, stage);
            assert_eq!(p.len(), 1, "{stage:?}");
            assert_eq!(p[0].attr, "well_known_policies");
            assert!(p[0].summary.contains("cannot be combined with role_arn"));
        }
        let unknown_arn = RoleConfig {
            role_arn: Input::Unknown,
            ..known.clone()
        };
        let p = check_role_config(&unknown_arn, Stage::Plan);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].detail.contains("not known until apply"),
            "{}",
            p[0].detail
        );
        // Known at plan and null: the provider makes the role, no conflict.
        let null_arn = RoleConfig {
            role_arn: Input::Null,
            ..known
        };
        assert_eq!(check_role_config(&null_arn, Stage::Plan), vec![]);
    }

    #[test]
    fn empty_policy_sets_beside_role_arn_are_no_conflict() {
        let c = RoleConfig {
            role_arn: Input::Known(ARN.into()),
            permission_policy_arns: set(&[]),
            well_known_policies: set(&[]),
            restrict_to_cluster: Input::Known(false),
            ..cfg()
        };
        assert_eq!(check_role_config(&c, Stage::Validate), vec![]);
        assert_eq!(check_role_config(&c, Stage::Plan), vec![]);
        // The same through the older input, as the provider builds it today
        // (it names `[]` as set).
        let old = RoleSourceInput {
            role_arn: Input::Known(ARN.into()),
            role_creation_set: vec!["permission_policy_arns"],
            permission_policy_arns: set(&[]),
            partition: "aws".into(),
            ..Default::default()
        };
        assert_eq!(check_role_source(&old), vec![]);
    }

    #[test]
    fn empty_permission_sources_are_no_permissions() {
        let c = RoleConfig {
            permission_policy_arns: set(&[]),
            well_known_policies: set(&[]),
            ..cfg()
        };
        for stage in [Stage::Validate, Stage::Plan] {
            let p = check_role_config(&c, stage);
            assert_eq!(p.len(), 1, "{stage:?}");
            assert_eq!(p[0].attr, "role_arn");
            assert!(
                p[0].detail
                    .contains("permission_policy_arns and well_known_policies are empty"),
                "{}",
                p[0].detail
            );
        }
        // The older input reaches the same verdict.
        let old = RoleSourceInput {
            role_creation_set: vec!["permission_policy_arns", "well_known_policies"],
            permission_policy_arns: set(&[]),
            well_known_policies: set(&[]),
            partition: "aws".into(),
            ..Default::default()
        };
        assert_eq!(check_role_source(&old).len(), 1);
        // An unknown source may grant something: decided later.
        let later = RoleConfig {
            permission_policy: Input::Unknown,
            ..c
        };
        assert_eq!(check_role_config(&later, Stage::Plan), vec![]);
    }

    #[test]
    fn invalid_well_known_names_are_reported_once_each_in_one_problem() {
        let c = RoleConfig {
            well_known_policies: set(&["nope-one", "external-dns", "nope-two"]),
            ..cfg()
        };
        let p = check_role_config(&c, Stage::Validate);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].attr, "well_known_policies");
        assert_eq!(
            p[0].detail.matches("nope-one").count(),
            1,
            "{}",
            p[0].detail
        );
        assert_eq!(
            p[0].detail.matches("nope-two").count(),
            1,
            "{}",
            p[0].detail
        );
    }

    #[test]
    fn well_known_names_must_fit_their_tag() {
        let all: Vec<&str> = well_known::names();
        let names: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        assert!(
            well_known_tag_value(&names).chars().count() > 256,
            "catalogue too small for this test"
        );
        assert!(
            check_well_known_tag(&names)
                .unwrap_err()
                .contains(WELL_KNOWN_TAG)
        );
        assert!(check_well_known_tag(&["external-dns".to_string()]).is_ok());
    }
}
