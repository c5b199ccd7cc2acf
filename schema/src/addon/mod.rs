//! `eks_addon_pod_identity`: an EKS addon together with the pod identity
//! associations that give it IAM permissions, and the roles made for them.
//!
//! Owns, in order: the state structs, the spec (twins), and the settings
//! tables of the addon ([`SETTINGS`]) and of an entry
//! ([`ENTRY_SETTINGS`]) with the functions they drive. A new setting of
//! the addon or of an entry is declared here (its state field, its
//! attribute, its row and its member) and mapped to the SDK in the
//! provider's `aws::eks::addon`: two files. Does not own: the plan-time
//! rules (`rules`) or the update (`update`). Roles are described with
//! `crate::role`, exactly as for associations.

mod rules;
mod update;

pub use rules::{
    AddonConfig, AddonInput, EntryProblem, check, check_against_configuration, check_config,
    recommended_entries,
};
pub use update::{entry_missing, entry_pairs, plan_addon_update};

use crate::names::{check_cluster_name, check_dns1123_subdomain, check_role_arn};
use crate::role::{self, RoleRequest};
use crate::settings::{self, OnUpdate, Setting};
use crate::spec::{Attr, Kind, ResourceSpec};
use crate::tags::Tags;
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

// ---- the settings EKS holds: one declaration each --------------------------

/// The settings EKS holds for an addon, under the API's member names
/// (CreateAddon, UpdateAddon, DescribeAddon): what a create sends, what an
/// update sends (`None`: not sent) and what EKS reports. The provider's AWS
/// layer maps this struct to and from the SDK in one place
/// (`aws::eks::addon`); everything else goes through [`SETTINGS`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonSettings {
    /// `addonVersion`: the version to be at, or installed.
    pub addon_version: Option<String>,
    /// `configurationValues` (JSON text; `""` removes them).
    pub configuration_values: Option<String>,
    /// `serviceAccountRoleArn`: the IRSA role.
    pub service_account_role_arn: Option<String>,
    /// `resolveConflicts`: a request option (`NONE`, `OVERWRITE`,
    /// `PRESERVE`), never reported.
    pub resolve_conflicts: Option<String>,
    /// `podIdentityAssociations`: the owned associations, replacing the
    /// set. DescribeAddon reports only their ARNs, read one by one.
    pub pod_identity_associations: Option<Vec<EntrySettings>>,
}

/// The settings of one entry of `podIdentityAssociations` (an
/// `AddonPodIdentityAssociations` of the request; read back from the
/// association EKS made, DescribePodIdentityAssociation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntrySettings {
    /// `serviceAccount`.
    pub service_account: Option<String>,
    /// `roleArn`.
    pub role_arn: Option<String>,
}

impl EntrySettings {
    /// The entry for `service_account` with `role_arn`, every other member
    /// unset: callers use this, so that a new member is declared here and
    /// mapped in the AWS layer only.
    // A struct update that has nothing to fill today: it fills the next
    // member.
    #[allow(clippy::needless_update)]
    pub fn new(service_account: &str, role_arn: &str) -> EntrySettings {
        EntrySettings {
            service_account: Some(service_account.to_string()),
            role_arn: Some(role_arn.to_string()),
            ..Default::default()
        }
    }
}

/// An entry's settings, one row each.
pub const ENTRY_SETTINGS: [Setting; 2] = [
    Setting::new("service_account", "serviceAccount"),
    Setting::new("role_arn", "roleArn"),
];

/// The entry attributes that are not EKS settings, besides the made
/// role's ([`role::ROLE_CREATION_ATTRS`], IAM): whether the provider made
/// the role, and the IDs EKS gives the association.
pub const ENTRY_NOT_SETTINGS: [&str; 3] = ["created_role", "association_id", "association_arn"];

/// The addon's settings, one row each. `resolved_version` (not
/// `addon_version`, which may say `latest`) is what is sent and read.
pub const SETTINGS: [Setting; 6] = [
    Setting::new("resolved_version", "addonVersion").on_update(OnUpdate::Always),
    Setting::new("configuration_values", "configurationValues").equivalent(same_json),
    // Sent on every update: left out, EKS removes IRSA (FACTS.md F1).
    Setting::new("service_account_role_arn", "serviceAccountRoleArn").on_update(OnUpdate::Always),
    Setting::new("resolve_conflicts_on_create", "resolveConflicts")
        .on_update(OnUpdate::Never)
        .not_reported(),
    Setting::new("resolve_conflicts_on_update", "resolveConflicts")
        .not_on_create()
        .on_update(OnUpdate::Alongside)
        .not_reported(),
    Setting::new("pod_identity_associations", "podIdentityAssociations")
        .items(&ENTRY_SETTINGS)
        .not_reported(),
];

/// The addon's attributes that are not EKS settings, each for a reason:
/// its identity and what EKS gives it, what the provider decides
/// (`addon_version` resolves to `resolved_version`, the recommendation),
/// tags (their own calls), the namespace (a replacement, read with its
/// own rule in the resource), DeleteAddon's `preserve`, and the waits.
/// With [`SETTINGS`] they cover [`spec`] exactly (a test enumerates both).
pub const NOT_SETTINGS: [&str; 17] = [
    "id",
    "cluster_name",
    "addon_name",
    "addon_version",
    "namespace",
    "namespace_config",
    "preserve_on_delete",
    "use_recommended_pod_identity",
    "tags",
    "tags_all",
    "addon_arn",
    "status",
    "recommended",
    "created_at",
    "modified_at",
    "region",
    "timeouts",
];

/// What CreateAddon sends for state `s` (its `resolved_version` is the
/// version to install).
pub fn create_settings(s: &AddonState) -> AddonSettings {
    settings::create_request(&SETTINGS, s)
}

/// `base` with the settings DescribeAddon `reported` (the IRSA role, the
/// configuration values in `base`'s own text when they mean the same, the
/// version installed as `resolved_version`).
pub fn with_addon_settings(base: &AddonState, reported: &AddonSettings) -> AddonState {
    settings::with_reported(&SETTINGS, base, reported)
}

/// `base` with the settings of the association EKS made for it.
pub fn with_entry_settings(base: &AddonAssociation, reported: &EntrySettings) -> AddonAssociation {
    settings::with_reported(&ENTRY_SETTINGS, base, reported)
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

    /// The tables cover the spec: every attribute of the addon and of an
    /// entry is a setting or named as not one, and every member is a field
    /// of [`AddonSettings`] / [`EntrySettings`]. A new attribute fails here
    /// until it is classified.
    #[test]
    fn the_settings_tables_cover_every_attribute() {
        let spec = spec();
        settings::table_tests::assert_covers::<AddonSettings>(
            &SETTINGS,
            &NOT_SETTINGS,
            &spec.names(),
        );
        let Some(Kind::NestedList(entry)) = spec
            .attrs
            .iter()
            .find(|a| a.name == "pod_identity_associations")
            .map(|a| &a.kind)
        else {
            panic!("pod_identity_associations missing");
        };
        let names: Vec<&str> = entry.iter().map(|a| a.name).collect();
        let others = [&ENTRY_NOT_SETTINGS[..], &role::ROLE_CREATION_ATTRS[..]].concat();
        settings::table_tests::assert_covers::<EntrySettings>(&ENTRY_SETTINGS, &others, &names);
    }

    /// A setting the provider sends whose change alone makes no call is
    /// `inert` in the spec (the plan keeps `status` and `modified_at` for
    /// it), and the other way round. (A setting EKS only reports is
    /// computed: no configuration changes it.)
    #[test]
    fn inert_attributes_are_the_settings_that_call_for_nothing() {
        let spec = spec();
        let sent = |r: &&Setting| r.on_create || r.on_update != OnUpdate::Never;
        for row in SETTINGS.iter().filter(sent) {
            let Some(attr) = spec.attrs.iter().find(|a| a.name == row.attr) else {
                panic!("{} is not an attribute", row.attr);
            };
            assert_eq!(attr.inert, !row.on_update.triggers(), "{}", row.attr);
        }
    }

    /// Each setting, set to a value of its own, goes to EKS under its
    /// member as its row says (create, update), comes back into the state
    /// as it was when EKS reports it, and counts in adoption.
    #[test]
    fn every_setting_round_trips() {
        use serde_json::json;
        let role = "arn:aws:iam::123456789012:role/x";
        let addon = [
            ("resolved_version", json!("v1.2.0-eksbuild.1"), None),
            ("configuration_values", json!(r#"{"a":1}"#), None),
            ("service_account_role_arn", json!(role), None),
            ("resolve_conflicts_on_create", json!("OVERWRITE"), None),
            ("resolve_conflicts_on_update", json!("PRESERVE"), None),
            (
                "pod_identity_associations",
                json!([{ "service_account": "sa", "role_arn": role }]),
                Some(json!([{ "serviceAccount": "sa", "roleArn": role }])),
            ),
        ];
        assert_eq!(addon.len(), SETTINGS.len());
        for (attr, v, sent) in addon {
            let sent = sent.unwrap_or_else(|| v.clone());
            settings::table_tests::assert_round_trip::<AddonState, AddonSettings>(
                &SETTINGS,
                &AddonState::default(),
                attr,
                v,
                sent,
            );
        }
        let entry = [("service_account", json!("sa")), ("role_arn", json!(role))];
        assert_eq!(entry.len(), ENTRY_SETTINGS.len());
        let base = AddonAssociation {
            service_account: "other".into(),
            ..Default::default()
        };
        for (attr, v) in entry {
            settings::table_tests::assert_round_trip::<AddonAssociation, EntrySettings>(
                &ENTRY_SETTINGS,
                &base,
                attr,
                v.clone(),
                v,
            );
        }
    }

    #[test]
    fn a_create_sends_entries_only_when_they_are_written() {
        assert_eq!(
            create_settings(&AddonState::default()).pod_identity_associations,
            None
        );
        let s = AddonState {
            pod_identity_associations: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(create_settings(&s).pod_identity_associations, Some(vec![]));
    }

    #[test]
    fn read_keeps_the_states_text_of_the_same_configuration() {
        let base = AddonState {
            configuration_values: Some(r#"{ "a": 1 }"#.into()),
            ..Default::default()
        };
        let reported = AddonSettings {
            configuration_values: Some(r#"{"a":1}"#.into()),
            service_account_role_arn: Some(String::new()),
            ..Default::default()
        };
        let s = with_addon_settings(&base, &reported);
        assert_eq!(s.configuration_values, base.configuration_values);
        assert_eq!(s.service_account_role_arn, None, "\"\" is no IRSA role");
        assert!(settings::same_as_reported(&SETTINGS, &s, &reported));
    }
}
