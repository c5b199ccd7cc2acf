//! `eks_addon_pod_identity`: an EKS addon together with the pod identity
//! associations that give it IAM permissions, and the roles made for them.
//!
//! Owns, in order: the state structs, the spec (twins), the plan-time rules
//! that need no AWS call, and the rules that check a configuration against
//! the addon's own pod identity configuration once the provider fetched it.
//! Roles are described with `crate::role`, exactly as for associations.

use crate::input::{Input, Stage};
use crate::names::{check_cluster_name, check_dns1123_subdomain, check_role_arn};
use crate::reserved_tags;
use crate::role::{self, Presence, RoleConfig, RoleRequest, RoleSourceInput};
use crate::spec::{Attr, Kind, Problem, ResourceSpec};
use crate::tags::{self, Tags};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Resource type name.
pub const TYPE_NAME: &str = "eks_addon_pod_identity";
/// The addon that runs the pod identity agent; it takes no associations.
pub const AGENT_ADDON: &str = "eks-pod-identity-agent";
/// `addon_version` value asking for the newest compatible version.
pub const LATEST: &str = "latest";

/// The resource's state; field names are attribute names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AddonState {
    /// `cluster_name:addon_name`.
    pub id: Option<String>,
    /// Cluster name.
    pub cluster_name: String,
    /// Addon name.
    pub addon_name: String,
    /// Version asked for (absent: the cluster's default; `latest`).
    pub addon_version: Option<String>,
    /// Version installed.
    pub resolved_version: Option<String>,
    /// Namespace the addon runs in.
    pub namespace: Option<String>,
    /// Addon configuration JSON.
    pub configuration_values: Option<String>,
    /// Conflict resolution on create.
    pub resolve_conflicts_on_create: Option<String>,
    /// Conflict resolution on update.
    pub resolve_conflicts_on_update: Option<String>,
    /// Keep software, associations and roles on destroy.
    pub preserve_on_delete: Option<bool>,
    /// IRSA role of the addon.
    pub service_account_role_arn: Option<String>,
    /// The addon's pod identity associations.
    pub pod_identity_associations: Option<Vec<AddonAssociation>>,
    /// Make roles from the addon's recommended configuration.
    pub use_recommended_pod_identity: Option<bool>,
    /// The addon's own tags.
    pub tags: Option<Tags>,
    /// Tags merged with default tags.
    pub tags_all: Option<Tags>,
    /// Addon ARN.
    pub addon_arn: Option<String>,
    /// Addon status.
    pub status: Option<String>,
    /// The addon version's recommended pod identity configuration.
    pub recommended: Option<Vec<Recommended>>,
    /// When EKS installed the addon (RFC 3339).
    pub created_at: Option<String>,
    /// When EKS last changed the addon (RFC 3339).
    pub modified_at: Option<String>,
    /// `namespace_config { namespace }`: a namespace of the user's choice.
    pub namespace_config: Option<NamespaceConfig>,
    /// The addon's region (null in a state written before it was recorded).
    pub region: Option<String>,
    /// Wait limits.
    pub timeouts: Option<Timeouts>,
}

/// `namespace_config { ... }`: the namespace to install the addon in
/// (CreateAddon `namespaceConfig`), instead of the addon's default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NamespaceConfig {
    /// A DNS-1123 label.
    pub namespace: String,
}

/// `timeouts { ... }`: how long to wait for the addon, as `30s`, `20m`, `1h`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Timeouts {
    /// Create (until the addon leaves CREATING: ACTIVE, or DEGRADED with a warning).
    pub create: Option<String>,
    /// Update (until the Update that EKS reports for the change has finished).
    pub update: Option<String>,
    /// Delete (until gone).
    pub delete: Option<String>,
}

/// Default wait for each addon operation (as the AWS provider: 20 minutes).
pub const DEFAULT_TIMEOUT_SECS: u64 = 20 * 60;

/// Parses a duration such as `90s`, `20m`, `1h30m`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{s:?} is not a duration: write it like \"30s\", \"20m\" or \"1h30m\".");
    let mut total = 0u64;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total += match c {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            _ => return Err(bad()),
        };
    }
    if !digits.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(total))
}

fn check_duration(s: &str) -> Result<(), String> {
    parse_duration(s).map(|_| ())
}

impl Timeouts {
    /// The wait for an operation: its setting, else the default.
    pub fn of(t: Option<&Timeouts>, pick: fn(&Timeouts) -> Option<&String>) -> std::time::Duration {
        t.and_then(pick)
            .and_then(|s| parse_duration(s).ok())
            .unwrap_or(std::time::Duration::from_secs(DEFAULT_TIMEOUT_SECS))
    }
}

/// One entry of `pod_identity_associations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AddonAssociation {
    /// Service account (in the addon's namespace).
    pub service_account: String,
    /// Given role, or the made role's ARN.
    pub role_arn: Option<String>,
    /// Made role name.
    pub role_name: Option<String>,
    /// Made role path.
    pub role_path: Option<String>,
    /// Managed policies of the made role.
    pub permission_policy_arns: Option<BTreeSet<String>>,
    /// Inline policy of the made role.
    pub permission_policy: Option<String>,
    /// Name of the inline policy holding it (null: `permission-policy`).
    pub permission_policy_name: Option<String>,
    /// Well-known policies of the made role.
    pub well_known_policies: Option<BTreeSet<String>>,
    /// Scopes of the well-known policies.
    pub well_known_policy_scopes: Option<crate::well_known::WellKnownScopes>,
    /// Permissions boundary of the made role.
    pub permissions_boundary_arn: Option<String>,
    /// Extra trust conditions of the made role.
    pub trust_conditions: Option<String>,
    /// Restrict the made role's trust to the cluster.
    pub restrict_to_cluster: Option<bool>,
    /// Whether the provider made the role.
    pub created_role: Option<bool>,
    /// Association ID.
    pub association_id: Option<String>,
    /// Association ARN.
    pub association_arn: Option<String>,
}

/// One service account of the addon's recommended configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Recommended {
    /// Service account.
    pub service_account: String,
    /// Recommended managed policies.
    pub managed_policy_arns: Vec<String>,
}

fn check_conflicts_on_create(s: &str) -> Result<(), String> {
    match s {
        "NONE" | "OVERWRITE" => Ok(()),
        other => Err(format!(
            "{other:?} is not valid on create: use \"NONE\" or \"OVERWRITE\"."
        )),
    }
}

fn check_conflicts_on_update(s: &str) -> Result<(), String> {
    match s {
        "NONE" | "OVERWRITE" | "PRESERVE" => Ok(()),
        other => Err(format!(
            "{other:?} is not valid: use \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
        )),
    }
}

fn check_json_object(s: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) if v.is_object() => Ok(()),
        Ok(_) => Err("configuration_values must be a JSON object, such as jsonencode({ env = { ENABLE_PREFIX_DELEGATION = \"true\" } }).".into()),
        Err(e) => Err(format!("configuration_values is not valid JSON: {e}.")),
    }
}

/// The attributes of one `pod_identity_associations` entry.
fn entry_attrs() -> Vec<Attr> {
    vec![
        Attr::required("service_account", Kind::String, "Service account of the addon (in the addon's namespace) that the role is for. It must be one the addon declares.").check(check_dns1123_subdomain),
        Attr::optional_computed("role_arn", Kind::String, "ARN of an existing role that trusts `pods.eks.amazonaws.com`. Leave it out to have the provider make the role from the role-creation attributes below.").check(check_role_arn),
        Attr::optional_computed("role_name", Kind::String, "Name of the role the provider makes; generated when absent (unique per partition, account, region, cluster, namespace and service account; a role made by an earlier version keeps its name).").check(role::check_name),
        Attr::optional_computed("role_path", Kind::String, "Path of the role the provider makes; `/` when absent.").check(role::check_role_path),
        Attr::optional("permission_policy_arns", Kind::StringSet, "Managed policies for the role the provider makes.").check(role::check_policy_arn),
        Attr::optional("permission_policy", Kind::String, "Inline policy (JSON) for the role the provider makes.").check(role::check_permission_policy),
        Attr::optional("permission_policy_name", Kind::String, "Name of the inline policy that holds `permission_policy` on the role the provider makes (eksctl names it after its CloudFormation stack, `<stack>-Policy1`: set this to keep a name your policies or audits expect). Defaults to `permission-policy`. Changing it renames the policy in place: the new one is put before the old one is deleted, so the role never lacks the permission. Needs `permission_policy`; `well-known-policies` is reserved for `well_known_policies`. An import reads it back when the role has one inline policy besides the well-known one.").check(role::check_inline_policy_name),
        Attr::optional("well_known_policies", Kind::StringSet, "Well-known policies for the role the provider makes. Entries that grant on every hosted zone, bucket, secret, key, queue or CA are unscoped unless `well_known_policy_scopes` names yours."),
        crate::well_known_scope::attr(),
        Attr::optional("permissions_boundary_arn", Kind::String, "Permissions boundary of the role the provider makes.").check(role::check_policy_arn),
        Attr::optional("trust_conditions", Kind::String, "Extra conditions (JSON) on the trust statement of the role the provider makes.").check(role::check_trust_conditions),
        Attr::optional("restrict_to_cluster", Kind::Bool, "Limit the made role to pods of this cluster: `aws:SourceAccount` = the cluster's account and the `eks-cluster-arn` session tag (`aws:RequestTag/eks-cluster-arn`) = its ARN in the trust statement."),
        Attr::computed("created_role", Kind::Bool, "Whether the provider made the role."),
        Attr::computed("association_id", Kind::String, "ID of the association EKS made for the addon."),
        Attr::computed("association_arn", Kind::String, "ARN of the association EKS made for the addon."),
    ]
}

/// The resource's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "An EKS addon together with the pod identity associations that give it IAM permissions, and the roles made for them. The list `pod_identity_associations` is the single source of truth: entries missing on the cluster are created, entries removed are deleted with the roles made for them, changed permissions are updated in place. The addon switches first; old roles are deleted only after the addon update succeeded.\n\nAssociations created through an addon are owned by it (EKS reports the addon as their `owner_arn`); they cannot be managed with `eks_pod_identity_association`. To remove all of an addon's associations write `pod_identity_associations = []`: leaving the attribute out while the addon has associations is an error, so that permissions are never removed silently. Install the `eks-pod-identity-agent` addon itself with this resource too (it takes no associations).",
        version: 0,
        attrs: vec![
            Attr::computed("id", Kind::String, "`cluster_name:addon_name`.").stable(),
            Attr::required("cluster_name", Kind::String, "Name of the EKS cluster. Changing it replaces the addon.").replace().check(check_cluster_name),
            Attr::required("addon_name", Kind::String, "Name of the addon, such as `vpc-cni` or `aws-ebs-csi-driver`. Changing it replaces the addon.").replace(),
            Attr::optional_computed("addon_version", Kind::String, "Version to install, such as `v1.19.2-eksbuild.1`; `latest` for the newest version compatible with the cluster. Defaults to the addon's default version for the cluster's Kubernetes version."),
            Attr::computed("resolved_version", Kind::String, "The version installed (what `addon_version` resolved to)."),
            Attr::computed("namespace", Kind::String, "The Kubernetes namespace the addon runs in; its service accounts are there.").stable(),
            Attr::optional("configuration_values", Kind::String, "Addon configuration (JSON), as DescribeAddonConfiguration's schema allows. Compared by meaning: another layout or key order plans no change.").check(check_json_object).equivalent_by(same_json),
            Attr::optional("resolve_conflicts_on_create", Kind::String, "How to resolve conflicts with existing Kubernetes objects on create: `NONE` or `OVERWRITE`. Changing it alone makes no AWS call.").check(check_conflicts_on_create).inert(),
            Attr::optional("resolve_conflicts_on_update", Kind::String, "How to resolve conflicts on update: `NONE`, `OVERWRITE` or `PRESERVE`. Changing it alone makes no AWS call.").check(check_conflicts_on_update).inert(),
            Attr::optional("preserve_on_delete", Kind::Bool, "On destroy keep the addon's software on the cluster, its associations and the roles made for them. Changing it alone makes no AWS call.").default(serde_json::Value::Bool(false)).inert(),
            Attr::optional("service_account_role_arn", Kind::String, "IRSA: the role the addon's service account uses through the cluster's OIDC provider. Cannot be combined with pod identity; remove it and add `pod_identity_associations` (or `use_recommended_pod_identity`) to migrate the addon, in one apply.").check(check_role_arn),
            Attr::optional_computed("pod_identity_associations", Kind::NestedList(entry_attrs()), "The addon's pod identity associations, one per service account, each with an existing role (`role_arn`) or a role the provider makes. Omitted is not empty: write `[]` to remove all associations."),
            Attr::optional("use_recommended_pod_identity", Kind::Bool, "Make roles from the addon's recommended pod identity configuration (DescribeAddonConfiguration: service accounts and managed policies) when `pod_identity_associations` is not set. On IPv6 clusters vpc-cni gets the IPv6 inline policy instead of `AmazonEKS_CNI_Policy`."),
            Attr::optional("tags", Kind::StringMap, "Tags on the addon (and on the roles made for it). Merged with the provider's `default_tags`. Roles the provider makes also carry tags of its own (`eks-tools:pod-identity`, `eks-tools:well-known-policies`, and `eks-tools:creating` is reserved too), so with made roles at most 47 fit in IAM's 50, and keys and values must follow IAM's rules (letters, digits, spaces and `_ . : / = + - @`); checked at plan time."),
            Attr::computed("tags_all", Kind::StringMap, "All tags on the addon: `tags` merged with the provider's `default_tags`."),
            Attr::computed("addon_arn", Kind::String, "The addon's ARN.").stable(),
            Attr::computed("status", Kind::String, "The addon's status as EKS reports it (`ACTIVE`, or `DEGRADED` when the addon is unhealthy for reasons of its own, such as a cluster without nodes). Never planned: it shows as known after apply when something else changes."),
            Attr::computed(
                "recommended",
                Kind::ObjectList(vec![
                    Attr::computed("service_account", Kind::String, "Service account."),
                    Attr::computed("managed_policy_arns", Kind::StringList, "Recommended managed policies."),
                ]),
                "The recommended pod identity configuration of the installed version: service accounts and managed policies.",
            ),
            Attr::computed("created_at", Kind::String, "When EKS installed the addon (RFC 3339, from `createdAt`).").stable(),
            Attr::computed("modified_at", Kind::String, "When EKS last changed the addon (RFC 3339, from `modifiedAt`). Unknown in a plan that changes the resource."),
            Attr::optional_computed("region", Kind::String, "The region of the cluster (one provider block can serve every region of its partition, as in the AWS provider v6). Unset: the provider's region, recorded in the state as the AWS provider v6 does, so that the addon stays known where it is. A change of the region the addon is in, written here or by a change of the provider's region, is a replacement the plan shows; writing the provider's own region plans nothing. Import with `@region` after the ID for another region.").check(crate::names::check_region),
        ],
        blocks: vec![crate::spec::BlockSpec {
            name: "namespace_config",
            description: "Install the addon in a namespace of your choice instead of its default (`namespace` shows the default). Changing or removing it replaces the addon. The addon's service accounts, and so its pod identity associations and the owner tags of roles made for them, are in this namespace. Only addons that support it accept it (EKS refuses the others at apply).",
            attrs: vec![
                Attr::required("namespace", Kind::String, "The namespace, a DNS-1123 label (RFC 1123), such as `monitoring`.").replace().check(crate::names::check_dns1123_label),
            ],
        }, crate::spec::BlockSpec {
            name: "timeouts",
            description: "How long to wait for the addon: `create` (until the addon leaves CREATING), `update` (until the Update EKS reports has finished), `delete`; each like `20m` (the default).",
            attrs: vec![
                Attr::optional("create", Kind::String, "Wait for create, such as `20m`.").check(check_duration),
                Attr::optional("update", Kind::String, "Wait for update, such as `20m`.").check(check_duration),
                Attr::optional("delete", Kind::String, "Wait for delete, such as `20m`.").check(check_duration),
            ],
        }],
    }
}

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

impl AddonAssociation {
    /// This entry's role-creation attributes as a role request.
    pub fn role_request<'a>(
        &'a self,
        cluster: &'a str,
        namespace: &'a str,
        tags: Option<&'a Tags>,
    ) -> RoleRequest<'a> {
        RoleRequest {
            cluster,
            namespace,
            service_account: &self.service_account,
            role_name: self.role_name.as_deref(),
            role_path: self.role_path.as_deref(),
            permission_policy_arns: self.permission_policy_arns.as_ref(),
            permission_policy: self.permission_policy.as_deref(),
            permission_policy_name: self.permission_policy_name.as_deref(),
            well_known_policies: self.well_known_policies.as_ref(),
            well_known_policy_scopes: self.well_known_policy_scopes.as_ref(),
            permissions_boundary_arn: self.permissions_boundary_arn.as_deref(),
            trust_conditions: self.trust_conditions.as_deref(),
            restrict_to_cluster: self.restrict_to_cluster.unwrap_or(false),
            tags,
        }
    }

    /// True when the provider makes this entry's role.
    pub fn makes_role(&self) -> bool {
        self.role_arn.is_none() || self.created_role == Some(true)
    }
}

/// The names of the inline policies a made role's shape holds.
pub fn inline_policy_names(shape: &crate::role::RoleShape) -> Vec<String> {
    let mut names = Vec::new();
    if shape.permission_policy.is_some() {
        names.push(shape.permission_policy_name().to_string());
    }
    if shape.well_known_policy.is_some() {
        names.push(crate::role::WELL_KNOWN_POLICY_NAME.to_string());
    }
    names
}

/// True when two JSON texts mean the same value (another layout or key
/// order); texts that are not JSON are compared as text.
pub fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
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

// ---- the update: what UpdateAddon sends, decided here -------------------------

/// What one UpdateAddon sends, decided by [`plan_addon_update`] (the rules
/// live here, where unit tests see them, not in the apply).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddonUpdateRequest {
    /// The version to be at: always sent (the one installed when it stays).
    pub version: String,
    /// `resolve_conflicts_on_update`, as configured.
    pub resolve_conflicts: Option<String>,
    /// New configuration values when their meaning changed; `Some("")`
    /// removes them.
    pub configuration_values: Option<String>,
    /// The IRSA role after the update: sent on every update while the
    /// addon keeps IRSA, because UpdateAddon without it removes IRSA
    /// (emulator/FACTS.md F1), and never `""` (refused, F2).
    pub service_account_role_arn: Option<String>,
    /// The owned associations, (service account, role ARN), when they
    /// changed or one of them is missing: the list replaces the set, so
    /// `Some([])` removes them all.
    pub pod_identity: Option<Vec<(String, String)>>,
}

/// The (service account, role ARN) pairs of an addon state's entries.
pub fn entry_pairs(s: &AddonState) -> BTreeSet<(String, String)> {
    s.pod_identity_associations
        .iter()
        .flatten()
        .map(|e| {
            (
                e.service_account.clone(),
                e.role_arn.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// True when an entry of `s` has no association on the cluster (deleted
/// out of band, or never made because an update failed).
pub fn entry_missing(s: &AddonState) -> bool {
    s.pod_identity_associations
        .iter()
        .flatten()
        .any(|e| e.association_id.is_none())
}

/// The UpdateAddon that turns `prior` into `planned` at `version` (the
/// version the plan resolved), or `None` when the addon itself needs no
/// call (tags have calls of their own).
pub fn plan_addon_update(
    prior: &AddonState,
    planned: &AddonState,
    version: &str,
) -> Option<AddonUpdateRequest> {
    let entries_changed = entry_pairs(planned) != entry_pairs(prior)
        || entry_missing(prior)
        || planned.pod_identity_associations.is_some() != prior.pod_identity_associations.is_some();
    let config_changed = match (&prior.configuration_values, &planned.configuration_values) {
        (Some(a), Some(b)) => !same_json(a, b),
        (None, None) => false,
        _ => true,
    };
    let role_changed = prior.service_account_role_arn != planned.service_account_role_arn;
    let addon_changed =
        prior.resolved_version.as_deref() != Some(version) || config_changed || role_changed;
    if !entries_changed && !addon_changed {
        return None;
    }
    let pairs = || {
        planned
            .pod_identity_associations
            .iter()
            .flatten()
            .map(|e| {
                (
                    e.service_account.clone(),
                    e.role_arn.clone().unwrap_or_default(),
                )
            })
            .collect()
    };
    Some(AddonUpdateRequest {
        version: version.to_string(),
        resolve_conflicts: planned.resolve_conflicts_on_update.clone(),
        configuration_values: config_changed
            .then(|| planned.configuration_values.clone().unwrap_or_default()),
        service_account_role_arn: planned
            .service_account_role_arn
            .clone()
            .filter(|r| !r.is_empty()),
        pod_identity: entries_changed.then(pairs),
    })
}

#[cfg(test)]
mod update_tests {
    //! The update rules (issue 24 item 1: in the plan logic, seen by tests).
    use super::*;

    fn installed() -> AddonState {
        AddonState {
            cluster_name: "c".into(),
            addon_name: "vpc-cni".into(),
            resolved_version: Some("v1".into()),
            configuration_values: Some(r#"{"a": 1}"#.into()),
            service_account_role_arn: Some("arn:aws:iam::1:role/irsa".into()),
            ..Default::default()
        }
    }

    #[test]
    fn nothing_changed_no_call() {
        assert_eq!(plan_addon_update(&installed(), &installed(), "v1"), None);
        // The same configuration written another way is no change.
        let mut planned = installed();
        planned.configuration_values = Some(r#"{ "a" : 1 }"#.into());
        assert_eq!(plan_addon_update(&installed(), &planned, "v1"), None);
    }

    #[test]
    fn the_irsa_role_goes_with_every_update_and_version_always() {
        let sent = plan_addon_update(&installed(), &installed(), "v2").unwrap_or_default();
        assert_eq!(sent.version, "v2");
        // Unchanged, still sent: left out, EKS would remove IRSA (F1).
        assert_eq!(
            sent.service_account_role_arn.as_deref(),
            Some("arn:aws:iam::1:role/irsa")
        );
        assert_eq!(sent.configuration_values, None);
        assert_eq!(sent.pod_identity, None);
    }

    #[test]
    fn removed_configuration_is_cleared_and_irsa_removal_sends_none() {
        let mut planned = installed();
        planned.configuration_values = None;
        planned.service_account_role_arn = None;
        let sent = plan_addon_update(&installed(), &planned, "v1").unwrap_or_default();
        assert_eq!(sent.configuration_values.as_deref(), Some(""));
        assert_eq!(sent.service_account_role_arn, None);
    }

    #[test]
    fn entries_replace_the_set_and_a_missing_association_is_made_again() {
        let entry = |sa: &str, id: Option<&str>| AddonAssociation {
            service_account: sa.into(),
            role_arn: Some(format!("arn:aws:iam::1:role/{sa}")),
            association_id: id.map(str::to_string),
            ..Default::default()
        };
        let mut prior = installed();
        prior.pod_identity_associations = Some(vec![entry("a", Some("a-1"))]);
        let mut planned = prior.clone();
        assert_eq!(plan_addon_update(&prior, &planned, "v1"), None);
        planned.pod_identity_associations = Some(vec![]);
        let sent = plan_addon_update(&prior, &planned, "v1").unwrap_or_default();
        assert_eq!(sent.pod_identity, Some(vec![]));
        prior.pod_identity_associations = Some(vec![entry("a", None)]);
        let planned = prior.clone();
        let sent = plan_addon_update(&prior, &planned, "v1").unwrap_or_default();
        assert_eq!(
            sent.pod_identity,
            Some(vec![("a".to_string(), "arn:aws:iam::1:role/a".to_string())])
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<AddonState>(&spec());
        let spec = spec();
        let Some(Attr {
            kind: Kind::NestedList(attrs),
            ..
        }) = spec
            .attrs
            .iter()
            .find(|a| a.name == "pod_identity_associations")
        else {
            panic!("pod_identity_associations missing");
        };
        let item = serde_json::to_value(AddonAssociation::default()).unwrap();
        let mut a: Vec<_> = attrs.iter().map(|a| a.name.to_string()).collect();
        let mut b: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

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
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        for bad in ["", "5", "m", "5d", "0s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Timeouts::of(None, |t| t.create.as_ref()).as_secs(),
            DEFAULT_TIMEOUT_SECS
        );
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
