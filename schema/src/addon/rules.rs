//! The plan-time rules of `eks_addon_pod_identity` that need no AWS call
//! (where the addon's permissions come from, each entry's role source, the
//! tags), the checks against the addon version's own pod identity
//! configuration once the provider fetched it, and the entries
//! `use_recommended_pod_identity` stands for.
//!
//! Owns those rules. Does not own: the state, spec and settings tables
//! (`super`) or the update (`super::update`).

use super::{AGENT_ADDON, AddonAssociation, Recommended};
use crate::input::{Input, Stage};
use crate::reserved_tags;
use crate::role::{self, Presence, RoleConfig, RoleSourceInput};
use crate::spec::Problem;
use crate::tags::{self, Tags};
use std::collections::BTreeSet;

/// What the plan-time rules need of the configuration and prior state.
#[derive(Debug, Clone, Default)]
pub struct AddonInput {
    /// Addon name.
    pub addon_name: Input<String>,
    /// `service_account_role_arn`.
    pub service_account_role_arn: Input<String>,
    /// `use_recommended_pod_identity`.
    pub use_recommended: Input<bool>,
    /// Entries as configured: `Null` when the attribute is omitted; for each
    /// entry its service account and its role source.
    pub entries: Input<Vec<(Input<String>, RoleSourceInput)>>,
    /// Service accounts with associations in the prior state.
    pub prior_service_accounts: Vec<String>,
}

/// An entry-level problem: index into `pod_identity_associations` and the problem.
pub type EntryProblem = (Option<usize>, Problem);

/// Plan-time rules that need no AWS call.
///
/// Kept for callers that build an [`AddonInput`]: [`check_config`] at
/// [`Stage::Plan`], without tag checks, each entry's role attributes read
/// as described at [`role::check_role_source`]. New callers use
/// [`check_config`].
pub fn check(input: &AddonInput) -> Vec<EntryProblem> {
    let entries = match &input.entries {
        Input::Null => Input::Null,
        Input::Unknown => Input::Unknown,
        Input::Known(e) => Input::Known(
            e.iter()
                .map(|(sa, src)| (sa.clone(), RoleConfig::from(src)))
                .collect(),
        ),
    };
    check_config(
        &AddonConfig {
            addon_name: input.addon_name.clone(),
            service_account_role_arn: input.service_account_role_arn.clone(),
            use_recommended: input.use_recommended.clone(),
            entries,
            prior_service_accounts: input.prior_service_accounts.clone(),
            tags_all: Input::Null,
        },
        Stage::Plan,
    )
}

/// What the plan-time rules need of the configuration and prior state,
/// every value as planning sees it.
#[derive(Debug, Clone, Default)]
pub struct AddonConfig {
    /// Addon name.
    pub addon_name: Input<String>,
    /// `service_account_role_arn`.
    pub service_account_role_arn: Input<String>,
    /// `use_recommended_pod_identity`.
    pub use_recommended: Input<bool>,
    /// Entries as configured: `Null` when the attribute is omitted; for each
    /// entry its service account and its role-source attributes.
    pub entries: Input<Vec<(Input<String>, RoleConfig)>>,
    /// Service accounts with associations in the prior state.
    pub prior_service_accounts: Vec<String>,
    /// `tags` merged with the provider's `default_tags`, when known (null at
    /// validate time). They go on the addon and on every role made for it.
    pub tags_all: Input<Tags>,
}

/// Cross-attribute rules of `eks_addon_pod_identity` for `stage` (see
/// [`Stage`]: at validate only known values conflict, so
/// `service_account_role_arn` beside `pod_identity_associations = var.x`
/// passes and is judged at plan, when `var.x` is known).
///
/// IRSA (`service_account_role_arn`) excludes pod identity (a non-empty
/// list, or `use_recommended_pod_identity = true`; `[]` is no pod
/// identity); the agent addon takes no associations; an explicit list
/// excludes the recommended one; an omitted list with associations in
/// state is refused; each entry follows the role-source rules
/// ([`role::check_role_config`]); the tags fit EKS's rules, and IAM's when
/// the provider makes roles for the addon (they are copied onto them).
pub fn check_config(input: &AddonConfig, stage: Stage) -> Vec<EntryProblem> {
    let mut out = source_problems(input, stage);
    let (entry_problems, made) = entry_problems(input, stage);
    out.extend(entry_problems);
    let makes_roles = made || input.use_recommended == Input::Known(true);
    if let Input::Known(all) = &input.tags_all {
        out.extend(addon_tag_problems(all, makes_roles));
    }
    out
}

/// Whether an optional setting is there, as far as the stage can tell.
fn presences(input: &AddonConfig) -> (Presence, Presence, Presence) {
    let entries = match &input.entries {
        Input::Known(e) if !e.is_empty() => Presence::Present,
        Input::Known(_) | Input::Null => Presence::Absent,
        Input::Unknown => Presence::Unknown,
    };
    let recommended = match &input.use_recommended {
        Input::Known(true) => Presence::Present,
        Input::Unknown => Presence::Unknown,
        _ => Presence::Absent,
    };
    let irsa = match &input.service_account_role_arn {
        Input::Known(_) => Presence::Present,
        Input::Unknown => Presence::Unknown,
        Input::Null => Presence::Absent,
    };
    (entries, recommended, irsa)
}

/// The rules on where the addon's permissions come from: IRSA or pod
/// identity, the agent (none), the recommendation or a list, and a list
/// left out while the addon has associations.
fn source_problems(input: &AddonConfig, stage: Stage) -> Vec<EntryProblem> {
    let mut out: Vec<EntryProblem> = Vec::new();
    let counts = |p: Presence| match stage {
        Stage::Validate => p == Presence::Present,
        Stage::Plan => p != Presence::Absent,
    };
    let (entries, recommended, irsa) = presences(input);
    let pod_identity = counts(entries) || counts(recommended);
    if counts(irsa) && pod_identity {
        out.push((
            None,
            Problem::new(
                "service_account_role_arn",
                "IRSA and pod identity on one addon",
                "service_account_role_arn (IRSA) cannot be combined with pod_identity_associations or use_recommended_pod_identity. To move the addon to pod identity, remove service_account_role_arn in the same change.",
            ),
        ));
    }
    if input.addon_name.known().map(String::as_str) == Some(AGENT_ADDON) && pod_identity {
        out.push((
            None,
            Problem::new(
                "pod_identity_associations",
                "The pod identity agent takes no associations",
                format!("{AGENT_ADDON} needs no IAM permissions. Remove pod_identity_associations and use_recommended_pod_identity from it."),
            ),
        ));
    }
    if counts(recommended) && counts(entries) {
        out.push((
            None,
            Problem::new(
                "use_recommended_pod_identity",
                "use_recommended_pod_identity with an explicit list",
                "Either list the associations in pod_identity_associations, or let the provider make them from the addon's recommendation with use_recommended_pod_identity = true; not both.",
            ),
        ));
    }
    if matches!(input.entries, Input::Null)
        && recommended == Presence::Absent
        && !input.prior_service_accounts.is_empty()
    {
        out.push((
            None,
            Problem::new(
                "pod_identity_associations",
                "pod_identity_associations is not set, but the addon has associations",
                format!(
                    "The addon has pod identity associations for {}. Leaving the attribute out would silently remove their permissions. List them in pod_identity_associations, or write `pod_identity_associations = []` to remove them all.",
                    input.prior_service_accounts.join(", ")
                ),
            ),
        ));
    }
    out
}

/// The entries' own problems (a service account listed twice, each
/// entry's role rules), and whether any entry makes a role.
fn entry_problems(input: &AddonConfig, stage: Stage) -> (Vec<EntryProblem>, bool) {
    let mut out: Vec<EntryProblem> = Vec::new();
    let mut makes_roles = false;
    let Input::Known(entries) = &input.entries else {
        return (out, makes_roles);
    };
    let mut seen = BTreeSet::new();
    for (i, (sa, source)) in entries.iter().enumerate() {
        if let Input::Known(sa) = sa
            && !seen.insert(sa.clone())
        {
            out.push((
                Some(i),
                Problem::new(
                    "service_account",
                    format!("Service account {sa} is listed twice"),
                    "A service account can have only one association; keep one entry for it.",
                ),
            ));
        }
        makes_roles |= source.makes_role() == Input::Known(true);
        out.extend(
            role::check_role_config(source, stage)
                .into_iter()
                .map(|p| (Some(i), p)),
        );
    }
    (out, makes_roles)
}

/// The addon's merged tags against AWS's rules; with roles to make, IAM's
/// too (its count, 48 of yours, is then the stricter one).
fn addon_tag_problems(all: &Tags, makes_roles: bool) -> Vec<EntryProblem> {
    let mut details: Vec<String> = Vec::new();
    if !(makes_roles && all.len() > tags::MAX_TAGS)
        && let Err(e) = tags::check(all)
    {
        details.push(e);
    }
    if makes_roles {
        details.extend(
            reserved_tags::made_role_tag_problems(all)
                .into_iter()
                .map(|d| d.replace("on the association", "on the addon")),
        );
    }
    let mut seen = BTreeSet::new();
    details
        .into_iter()
        .filter(|d| seen.insert(d.clone()))
        .map(|d| (None, Problem::new("tags", "Invalid tags", d)))
        .collect()
}

/// Checks entries against the addon version's pod identity configuration
/// (DescribeAddonConfiguration). `supported` is empty when the version does
/// not support pod identity.
pub fn check_against_configuration(
    addon: &str,
    version: &str,
    service_accounts: &[Input<String>],
    supported: &[String],
) -> Vec<EntryProblem> {
    if service_accounts.is_empty() {
        return vec![];
    }
    if supported.is_empty() {
        return vec![(
            None,
            Problem::new(
                "addon_version",
                format!("{addon} {version} does not support pod identity"),
                format!(
                    "Pod Identity feature is not supported for addon version {version}. Choose a newer addon_version (or `latest`), or use service_account_role_arn (IRSA) with this version."
                ),
            ),
        )];
    }
    service_accounts
        .iter()
        .enumerate()
        .filter_map(|(i, sa)| match sa {
            Input::Known(sa) if !supported.contains(sa) => Some((
                Some(i),
                Problem::new(
                    "service_account",
                    format!("{addon} has no service account {sa}"),
                    format!(
                        "Service account {sa} in pod identity configuration is not supported for addon {addon}. It declares: {}.",
                        supported.join(", ")
                    ),
                ),
            )),
            _ => None,
        })
        .collect()
}

/// The entries `use_recommended_pod_identity` stands for: one per
/// recommended service account, its role made with the recommended managed
/// policies — except vpc-cni on an IPv6 cluster, whose role gets the IPv6
/// inline policy instead (AmazonEKS_CNI_Policy covers IPv4 only).
pub fn recommended_entries(
    addon: &str,
    recommended: &[Recommended],
    ipv6: bool,
) -> Vec<AddonAssociation> {
    recommended
        .iter()
        .map(|r| {
            let ipv6_cni = ipv6 && addon == "vpc-cni";
            AddonAssociation {
                service_account: r.service_account.clone(),
                permission_policy_arns: (!ipv6_cni && !r.managed_policy_arns.is_empty())
                    .then(|| r.managed_policy_arns.iter().cloned().collect()),
                well_known_policies: ipv6_cni.then(|| ["vpc-cni-ipv6".to_string()].into()),
                // Null, as an import reads a role without the restriction
                // (issue 23 item 6: import equals the applied state).
                restrict_to_cluster: None,
                ..Default::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(sa: &str) -> (Input<String>, RoleSourceInput) {
        (
            Input::Known(sa.to_string()),
            RoleSourceInput {
                role_arn: Input::Known("arn:aws:iam::123456789012:role/r".into()),
                partition: "aws".into(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn omitted_list_with_existing_associations_is_an_error() {
        let mut i = AddonInput {
            addon_name: Input::Known("vpc-cni".into()),
            prior_service_accounts: vec!["aws-node".into()],
            ..Default::default()
        };
        let p = check(&i);
        assert_eq!(p.len(), 1);
        assert!(p[0].1.detail.contains("pod_identity_associations = []"));
        i.entries = Input::Known(vec![]);
        assert!(check(&i).is_empty());
        i.entries = Input::Null;
        i.use_recommended = Input::Known(true);
        assert!(check(&i).is_empty());
    }

    #[test]
    fn irsa_and_pod_identity_exclude_each_other() {
        let i = AddonInput {
            service_account_role_arn: Input::Known("arn:aws:iam::123456789012:role/irsa".into()),
            entries: Input::Known(vec![given("aws-node")]),
            ..Default::default()
        };
        assert_eq!(check(&i)[0].1.attr, "service_account_role_arn");
    }

    #[test]
    fn validate_irsa_beside_unknown_associations_is_no_conflict() {
        // service_account_role_arn beside pod_identity_associations = var.x
        // (null): var.x is unknown at validate.
        let mut c = AddonConfig {
            service_account_role_arn: Input::Known("arn:aws:iam::123456789012:role/irsa".into()),
            entries: Input::Unknown,
            use_recommended: Input::Unknown,
            ..Default::default()
        };
        assert_eq!(check_config(&c, Stage::Validate), vec![]);
        // At plan var.x is known: null or [] is no pod identity.
        c.entries = Input::Null;
        c.use_recommended = Input::Null;
        assert_eq!(check_config(&c, Stage::Plan), vec![]);
        c.entries = Input::Known(vec![]);
        assert_eq!(check_config(&c, Stage::Plan), vec![]);
        // Still unknown at plan (from a resource): read as set.
        c.entries = Input::Unknown;
        assert_eq!(
            check_config(&c, Stage::Plan)[0].1.attr,
            "service_account_role_arn"
        );
        // Unknown IRSA role beside a known list: judged at plan.
        let c = AddonConfig {
            service_account_role_arn: Input::Unknown,
            entries: Input::Known(vec![(
                Input::Known("aws-node".into()),
                RoleConfig {
                    role_arn: Input::Known("arn:aws:iam::123456789012:role/r".into()),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        assert_eq!(check_config(&c, Stage::Validate), vec![]);
        assert_eq!(
            check_config(&c, Stage::Plan)[0].1.attr,
            "service_account_role_arn"
        );
    }

    #[test]
    fn addon_tags_follow_iam_rules_when_roles_are_made() {
        let odd: Tags = [("owner".to_string(), "a|b".to_string())].into();
        let made = RoleConfig {
            well_known_policies: Input::Known(["ebs-csi-controller".to_string()].into()),
            partition: "aws".into(),
            ..Default::default()
        };
        let given = RoleConfig {
            role_arn: Input::Known("arn:aws:iam::123456789012:role/r".into()),
            ..Default::default()
        };
        let mut c = AddonConfig {
            entries: Input::Known(vec![(Input::Known("sa".into()), given)]),
            tags_all: Input::Known(odd),
            ..Default::default()
        };
        assert_eq!(check_config(&c, Stage::Plan), vec![]);
        c.entries = Input::Known(vec![(Input::Known("sa".into()), made)]);
        let p = check_config(&c, Stage::Plan);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].0, p[0].1.attr), (None, "tags"));
        assert!(p[0].1.detail.contains("'|'"), "{}", p[0].1.detail);
        c.tags_all = Input::Known((0..48).map(|i| (format!("k{i}"), "v".into())).collect());
        assert!(
            check_config(&c, Stage::Plan)[0]
                .1
                .detail
                .contains("at most 47")
        );
    }

    #[test]
    fn agent_takes_no_associations_and_duplicates_are_caught() {
        let i = AddonInput {
            addon_name: Input::Known(AGENT_ADDON.into()),
            entries: Input::Known(vec![given("a"), given("a")]),
            ..Default::default()
        };
        let p = check(&i);
        assert!(p.iter().any(|(_, p)| p.summary.contains("agent")));
        assert!(
            p.iter()
                .any(|(i, p)| *i == Some(1) && p.summary.contains("listed twice"))
        );
    }

    #[test]
    fn entries_use_the_role_source_rules() {
        let (sa, mut source) = given("aws-node");
        source.role_creation_set = vec!["well_known_policies"];
        let p = check(&AddonInput {
            entries: Input::Known(vec![(sa, source)]),
            ..Default::default()
        });
        assert_eq!(p[0].0, Some(0));
        assert_eq!(p[0].1.attr, "well_known_policies");
    }

    #[test]
    fn configuration_checks_list_what_is_supported() {
        let p = check_against_configuration(
            "vpc-cni",
            "v1.10.0",
            &[Input::Known("aws-node".into())],
            &[],
        );
        assert!(
            p[0].1
                .detail
                .contains("not supported for addon version v1.10.0")
        );
        let p = check_against_configuration(
            "vpc-cni",
            "v1.19.2",
            &[
                Input::Known("aws-node".into()),
                Input::Known("other".into()),
            ],
            &["aws-node".into()],
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, Some(1));
        assert!(p[0].1.detail.contains("It declares: aws-node"));
    }

    #[test]
    fn recommended_entries_ipv6_cni_gets_inline_policy() {
        let rec = vec![Recommended {
            service_account: "aws-node".into(),
            managed_policy_arns: vec!["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy".into()],
        }];
        let v4 = recommended_entries("vpc-cni", &rec, false);
        assert!(v4[0].permission_policy_arns.is_some());
        assert!(v4[0].well_known_policies.is_none());
        let v6 = recommended_entries("vpc-cni", &rec, true);
        assert!(v6[0].permission_policy_arns.is_none());
        assert_eq!(
            v6[0].well_known_policies,
            Some(["vpc-cni-ipv6".to_string()].into())
        );
        assert!(
            recommended_entries("aws-ebs-csi-driver", &rec, true)[0]
                .permission_policy_arns
                .is_some()
        );
    }
}
