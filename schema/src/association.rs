//! `eks_pod_identity_association`: one service account bound to one IAM role.
//!
//! Owns, in this order: the state struct, its spec (twins), the plan-time
//! rules, and the update plan (which calls an apply must make). Does not own:
//! the AWS calls themselves (provider crate).

use crate::input::{Input, Stage};
use crate::names::{
    check_cluster_name, check_dns1123_label, check_dns1123_subdomain, check_role_arn,
};
use crate::policy;
use crate::reserved_tags;
use crate::role::{self, RoleConfig};
use crate::settings::{self, OnUpdate, Setting};
use crate::spec::{Attr, Kind, Problem, ResourceSpec};
use crate::tags::{self, TagChange, Tags};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Resource type name.
pub const TYPE_NAME: &str = "eks_pod_identity_association";

/// The resource's state; field names are attribute names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AssociationState {
    /// Same as `association_id`.
    pub id: Option<String>,
    /// Cluster name.
    pub cluster_name: String,
    /// Kubernetes namespace.
    pub namespace: String,
    /// Kubernetes service account.
    pub service_account: String,
    /// IAM role the pods receive (given, or the one the provider made).
    pub role_arn: Option<String>,
    /// Name of the role the provider makes.
    pub role_name: Option<String>,
    /// Path of the role the provider makes.
    pub role_path: Option<String>,
    /// Managed policies for the made role.
    pub permission_policy_arns: Option<BTreeSet<String>>,
    /// Inline policy for the made role.
    pub permission_policy: Option<String>,
    /// Name of the inline policy holding it (null: `permission-policy`).
    pub permission_policy_name: Option<String>,
    /// Well-known policies for the made role.
    pub well_known_policies: Option<BTreeSet<String>>,
    /// Scopes of the well-known policies.
    pub well_known_policy_scopes: Option<crate::well_known::WellKnownScopes>,
    /// Permissions boundary of the made role.
    pub permissions_boundary_arn: Option<String>,
    /// Extra conditions on the made role's trust statement (JSON).
    pub trust_conditions: Option<String>,
    /// Restrict the made role's trust to this cluster.
    pub restrict_to_cluster: Option<bool>,
    /// Whether the provider made the role.
    pub created_role: Option<bool>,
    /// Managed policies attached to the made role, as found.
    pub attached_policy_arns: Option<BTreeSet<String>>,
    /// Inline policies of the made role, as found.
    pub inline_policies: Option<BTreeMap<String, String>>,
    /// Trust policy of the made role, as found.
    pub trust_policy: Option<String>,
    /// Role chained to from `role_arn`.
    pub target_role_arn: Option<String>,
    /// Session tags off.
    pub disable_session_tags: Option<bool>,
    /// Session policy JSON.
    pub session_policy: Option<String>,
    /// The resource's own tags.
    pub tags: Option<Tags>,
    /// `tags` merged with the provider's `default_tags`.
    pub tags_all: Option<Tags>,
    /// EKS association ID.
    pub association_id: Option<String>,
    /// EKS association ARN.
    pub association_arn: Option<String>,
    /// External ID EKS uses with `target_role_arn`.
    pub external_id: Option<String>,
    /// ARN of the addon that owns the association, if any.
    pub owner_arn: Option<String>,
    /// Also create the Kubernetes service account (and namespace) if missing.
    pub create_service_account: Option<bool>,
    /// Whether this resource created the service account (and deletes it).
    pub service_account_created: Option<bool>,
    /// UID of the service account as last found (with `create_service_account`).
    pub service_account_uid: Option<String>,
    /// When EKS made the association (RFC 3339).
    pub created_at: Option<String>,
    /// The association's region (null in a state written before it was recorded).
    pub region: Option<String>,
}

/// The resource's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "Binds one Kubernetes service account of an EKS cluster to an IAM role through EKS Pod Identity: pods running under the service account receive the role's temporary credentials. The role must trust the `pods.eks.amazonaws.com` service principal with `sts:AssumeRole` and `sts:TagSession`.\n\nA service account can have only one association. Associations that an EKS addon owns are managed with `eks_addon_pod_identity`, not with this resource. EKS needs the `eks-pod-identity-agent` addon on the cluster (EKS Auto Mode clusters include it); the provider warns at plan time when it is missing.",
        version: 0,
        attrs: vec![
            Attr::computed("id", Kind::String, "The association ID (same as `association_id`).").stable(),
            Attr::required("cluster_name", Kind::String, "Name of the EKS cluster. Changing it replaces the association.").replace().check(check_cluster_name),
            Attr::required("namespace", Kind::String, "Kubernetes namespace of the service account (a DNS-1123 label). Changing it replaces the association.").replace().check(check_dns1123_label),
            Attr::required("service_account", Kind::String, "Name of the Kubernetes service account (a DNS-1123 subdomain). Changing it replaces the association.").replace().check(check_dns1123_subdomain),
            Attr::optional_computed("role_arn", Kind::String, "ARN of an existing IAM role that pods using the service account assume. It must be in the cluster's account and trust `pods.eks.amazonaws.com`. Changing it updates the association in place. Leave it out to have the provider make the role (then it is the made role's ARN); it cannot be combined with the role-creation attributes. New roles take a few seconds to become visible to EKS; the provider retries for up to two minutes.").check(check_role_arn),
            Attr::optional_computed("role_name", Kind::String, "Name of the role the provider makes. Defaults to a name derived from cluster, namespace and service account, with a hash suffix of the partition, account, region, cluster, namespace and service account (at most 64 characters), so that no two service accounts share a made role, not even the same cluster name and service account in two regions. A role made by an earlier version keeps the name it has. Changing it replaces the role and the association.").check(role::check_name),
            Attr::optional_computed("role_path", Kind::String, "Path of the role the provider makes, such as `/pod-identity/`. Defaults to `/`. Changing it replaces the role and the association.").check(role::check_role_path),
            Attr::optional("permission_policy_arns", Kind::StringSet, "Managed policies to attach to the role the provider makes. Changes attach and detach only what changed.").check(role::check_policy_arn),
            Attr::optional("permission_policy", Kind::String, "An inline policy (JSON) for the role the provider makes, stored as the inline policy `permission-policy` (see `permission_policy_name`). Compared by meaning, not text.").check(role::check_permission_policy).equivalent_by(policy::equivalent),
            Attr::optional("permission_policy_name", Kind::String, "Name of the inline policy that holds `permission_policy` on the role the provider makes (eksctl names it after its CloudFormation stack, `<stack>-Policy1`: set this to keep a name your policies or audits expect). Defaults to `permission-policy`. Changing it renames the policy in place: the new one is put before the old one is deleted, so the role never lacks the permission. Needs `permission_policy`; `well-known-policies` is reserved for `well_known_policies`. An import reads it back when the role has one inline policy besides the well-known one.").check(role::check_inline_policy_name),
            Attr::optional("well_known_policies", Kind::StringSet, "Named, ready-made policies for the role the provider makes, such as `aws-load-balancer-controller` or `external-dns` (eksctl's names such as `awsLoadBalancerController` work too). See the `eks_well_known_policy` data source for their contents. Entries that grant on every hosted zone, bucket, secret, key, queue or CA are unscoped unless `well_known_policy_scopes` names yours."),
            crate::well_known_scope::attr(),
            Attr::optional("permissions_boundary_arn", Kind::String, "Permissions boundary of the role the provider makes.").check(role::check_policy_arn),
            Attr::optional("trust_conditions", Kind::String, "Extra conditions (an IAM Condition block in JSON) on the `pods.eks.amazonaws.com` trust statement of the role the provider makes.").check(role::check_trust_conditions),
            Attr::optional("restrict_to_cluster", Kind::Bool, "Limits the role the provider makes to pods of this cluster: its trust statement requires `aws:SourceAccount` = the cluster's account and the `eks-cluster-arn` session tag EKS adds when it assumes the role (`aws:RequestTag/eks-cluster-arn` = the cluster's ARN; EKS User Guide, session tags). Needs session tags: refused with `disable_session_tags = true`. Roles made by earlier versions with `aws:SourceArn` = the cluster ARN (which no AWS source says EKS sends, so it could lock pods out) show a trust to repair in the plan.").default(serde_json::Value::Bool(false)),
            Attr::computed("created_role", Kind::Bool, "Whether the provider made the role (and deletes it with the association)."),
            Attr::computed("attached_policy_arns", Kind::StringSet, "Managed policies attached to the role the provider made (from `permission_policy_arns` and `well_known_policies`). A policy detached outside Terraform shows here in the next plan, and apply attaches it again."),
            Attr::computed("inline_policies", Kind::StringMap, "Inline policies of the role the provider made, by name (`permission-policy`, `well-known-policies`). Changes made outside Terraform show here in the next plan."),
            Attr::computed("trust_policy", Kind::String, "Trust policy of the role the provider made. Changes made outside Terraform show here in the next plan."),
            Attr::optional("target_role_arn", Kind::String, "ARN of a role, possibly in another account, that EKS assumes with the credentials of `role_arn` (role chaining). As the EKS User Guide says: with session tags on (the default) the target role must trust `role_arn` with `sts:AssumeRole` and `sts:TagSession`; the `sts:ExternalId` condition equal to `external_id` applies only with `disable_session_tags = true`. Removing it clears the target role.").check(check_role_arn),
            Attr::optional("disable_session_tags", Kind::Bool, "Turn off the session tags EKS adds when it assumes the role (`eks-cluster-arn`, `kubernetes-namespace`, ...). Required for `session_policy`.").default(serde_json::Value::Bool(false)),
            Attr::optional("session_policy", Kind::String, "A session policy (JSON) that further limits the role's permissions for these pods. Requires `disable_session_tags = true`. At most 2,048 characters. Compared by meaning: a change of whitespace or key order plans no change. Removing it replaces the association: EKS documents no way to clear a session policy in place.").check(policy::check_session_policy).equivalent_by(policy::equivalent),
            Attr::optional("tags", Kind::StringMap, "Tags on the association. Merged with the provider's `default_tags`; these win. All 50 of EKS's limit are yours: while a create runs the provider adds its creation lease (`eks-tools:creating`), and with 50 tags it adds the 50th once the lease is gone. When the provider makes the role the tags go on it too, beside three tags of its own (`eks-tools:pod-identity`, `eks-tools:well-known-policies`, `eks-tools:creating` while it is being made): then at most 47 fit, and keys and values must follow IAM's rules (letters, digits, spaces and `_ . : / = + - @`; keys that differ only in case are one key). These keys and the legacy `eks-tools:created-by` are reserved. All of this is checked at plan time."),
            Attr::computed("tags_all", Kind::StringMap, "All tags on the association: `tags` merged with the provider's `default_tags`."),
            Attr::computed("association_id", Kind::String, "The association ID (`a-` followed by 17 characters).").stable(),
            Attr::computed("association_arn", Kind::String, "The association ARN.").stable(),
            Attr::computed("external_id", Kind::String, "The external ID EKS reports for the association (passed when it assumes `target_role_arn`). Unknown in the plan whenever an apply may change it (a new association or a changed target role); EKS decides when it exists, so it may stay after the target is cleared."),
            Attr::computed("owner_arn", Kind::String, "ARN of the addon that owns this association; always null for associations made by this resource.").stable(),
            Attr::optional("create_service_account", Kind::Bool, "Also create the Kubernetes service account, and its namespace, when they do not exist (through the cluster's Kubernetes API; see the provider's `kubernetes` block). What the provider creates carries the label `app.kubernetes.io/managed-by = terraform-provider-eks`. Destroying the association deletes the service account only if this resource created it, never a service account that existed before; a namespace it created is kept, since others may have put things in it. A service account deleted outside Terraform shows as a change in the next plan, and apply creates it again.").default(serde_json::Value::Bool(false)),
            Attr::computed("service_account_created", Kind::Bool, "Whether this resource created the service account (and so deletes it on destroy). Null without `create_service_account`."),
            Attr::computed("service_account_uid", Kind::String, "UID of the Kubernetes service account, with `create_service_account`; null (a planned change) when it is missing."),
            Attr::computed("created_at", Kind::String, "When EKS made the association (RFC 3339, from `createdAt`). There is no `modified_at`: whether EKS counts a tag change (such as the removal of the provider's creation-pending marker right after every create) as a modification is not documented, so knowing it after an apply would cost one more call per association.").stable(),
            Attr::optional_computed("region", Kind::String, "The region of the cluster (one provider block can serve every region of its partition, as in the AWS provider v6). Unset: the provider's region, recorded in the state as the AWS provider v6 does, so that the association stays known where it is. A change of the region the association is in, written here or by a change of the provider's region, is a replacement the plan shows; writing the provider's own region plans nothing. Import with `@region` after the ID for another region.").check(crate::names::check_region),
        ],
        blocks: vec![],
    }
}

/// What plan-time rules need to know of the configuration.
#[derive(Debug, Clone, Default)]
pub struct AssociationInput {
    /// `session_policy`.
    pub session_policy: Input<String>,
    /// `disable_session_tags`.
    pub disable_session_tags: Input<bool>,
    /// `tags` merged with default tags, when known.
    pub tags_all: Input<Tags>,
    /// What decides where the role comes from.
    pub role: RoleSourceInput,
}

pub use crate::role::{PERMISSION_SOURCES, ROLE_CREATION_ATTRS};

/// Cross-attribute rules, checked at validate and plan time.
///
/// Kept for callers that build an [`AssociationInput`]: the same rules as
/// [`check_config`] at [`Stage::Plan`], with the role attributes it cannot
/// see read as described at [`role::check_role_source`]. New callers use
/// [`check_config`].
pub fn check(input: &AssociationInput) -> Vec<Problem> {
    check_config(
        &AssociationConfig {
            session_policy: input.session_policy.clone(),
            disable_session_tags: input.disable_session_tags.clone(),
            tags_all: input.tags_all.clone(),
            role: RoleConfig::from(&input.role),
        },
        Stage::Plan,
    )
}

/// What the plan-time rules need of the configuration, every value as
/// planning sees it.
#[derive(Debug, Clone, Default)]
pub struct AssociationConfig {
    /// `session_policy`.
    pub session_policy: Input<String>,
    /// `disable_session_tags` after its default (false when not written).
    pub disable_session_tags: Input<bool>,
    /// `tags` merged with the provider's `default_tags`, when known (null
    /// at validate time, when default tags are not known yet).
    pub tags_all: Input<Tags>,
    /// The role-source attributes.
    pub role: RoleConfig,
}

/// Cross-attribute rules of `eks_pod_identity_association`, for `stage`
/// (see [`Stage`]: at validate, only known values are judged).
///
/// Besides the role-source rules ([`role::check_role_config`]): a session
/// policy needs `disable_session_tags = true`; the tags must fit EKS's
/// limit (the creation lease, [`reserved_tags::ASSOCIATION_TAGS`], is not
/// counted: it is gone before a 50th tag goes on); and when the provider makes the role, the tags are
/// copied onto it, so they must also follow IAM's rules and fit IAM's limit
/// beside the role's own reserved tags. Tag problems are at `tags`.
pub fn check_config(input: &AssociationConfig, stage: Stage) -> Vec<Problem> {
    let mut problems = Vec::new();
    let policy_counts = match stage {
        Stage::Validate => input.session_policy.known().is_some(),
        Stage::Plan => input.session_policy.is_set(),
    };
    if policy_counts
        && input.disable_session_tags.is_decided()
        && input.disable_session_tags.known() != Some(&true)
    {
        problems.push(Problem::new(
            "session_policy",
            "session_policy requires disable_session_tags = true",
            "EKS applies a session policy only when its session tags are turned off. Add `disable_session_tags = true` to this resource, or remove `session_policy`.",
        ));
    }
    if input.role.restrict_to_cluster.known() == Some(&true)
        && input.disable_session_tags.known() == Some(&true)
    {
        // The restriction is a condition on the eks-cluster-arn session
        // tag (role::CLUSTER_ARN_TAG_KEY): without session tags it never
        // holds, and pods would get no credentials without any API error.
        problems.push(Problem::new(
            "restrict_to_cluster",
            "restrict_to_cluster requires session tags",
            "restrict_to_cluster limits the made role to pods of this cluster through the eks-cluster-arn session tag EKS adds when it assumes the role; with disable_session_tags = true EKS adds none, so the role could never be assumed. Remove restrict_to_cluster (aws:SourceAccount in trust_conditions still limits the role to this account's clusters), or set disable_session_tags = false.",
        ));
    }
    if let Input::Known(all) = &input.tags_all {
        problems.extend(tag_problems(all, input.role.makes_role()));
    }
    problems.extend(role::check_role_config(&input.role, stage));
    problems
}

/// Problems of the merged tags of an association, at `tags`: AWS's rules
/// and limits counting the provider's own tags, and IAM's rules when the
/// provider makes the role (`makes_role` known true).
pub fn tag_problems(all: &Tags, makes_role: Input<bool>) -> Vec<Problem> {
    let details = if makes_role == Input::Known(true) {
        // IAM's rules are the stricter ones (48 tags, fewer characters);
        // EKS's own only add the `aws:` prefix rule.
        let mut d = reserved_tags::made_role_tag_problems(all);
        if all.len() <= tags::MAX_TAGS
            && let Err(e) = tags::check(all)
            && e.contains("reserved prefix")
        {
            d.push(e);
        }
        d
    } else {
        let mut d = reserved_tags::association_tag_problems(all);
        if all.len() <= tags::MAX_TAGS
            && let Err(e) = tags::check(all)
        {
            d.push(e);
        }
        d
    };
    dedup_problems(
        details
            .into_iter()
            .map(|d| Problem::new("tags", "Invalid tags", d))
            .collect(),
    )
}

fn dedup_problems(mut v: Vec<Problem>) -> Vec<Problem> {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|p| seen.insert(p.detail.clone()));
    v
}

pub use crate::role::{RoleSourceInput, WantedRole};

impl AssociationState {
    /// The role-creation attributes of this state, as a role request.
    pub fn role_request(&self) -> role::RoleRequest<'_> {
        role::RoleRequest {
            cluster: &self.cluster_name,
            namespace: &self.namespace,
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
            tags: self.tags_all.as_ref(),
        }
    }
}

/// The made role a (known) planned state asks for. `cluster_arn` is needed
/// only with `restrict_to_cluster`.
pub fn wanted_role(
    s: &AssociationState,
    partition: &str,
    cluster_arn: Option<&str>,
) -> Result<WantedRole, String> {
    role::wanted_role(&s.role_request(), partition, cluster_arn)
}

/// As [`wanted_role`]; a state without `role_name` gets the scoped name for
/// `location` ([`role::wanted_role_in`]).
pub fn wanted_role_in(
    s: &AssociationState,
    partition: &str,
    cluster_arn: Option<&str>,
    location: Option<&role::RoleLocation<'_>>,
) -> Result<WantedRole, String> {
    role::wanted_role_in(&s.role_request(), partition, cluster_arn, location)
}

/// The inline policies of a role shape as the `inline_policies` attribute shows them.
pub fn inline_policies_of(shape: &role::RoleShape) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(p) = &shape.permission_policy {
        m.insert(shape.permission_policy_name().to_string(), p.clone());
    }
    if let Some(p) = &shape.well_known_policy {
        m.insert(role::WELL_KNOWN_POLICY_NAME.to_string(), p.clone());
    }
    m
}

// ---- the settings EKS holds: one declaration each --------------------------

/// The settings EKS holds for an association, under the API's member names
/// (the same in CreatePodIdentityAssociation, UpdatePodIdentityAssociation
/// and DescribePodIdentityAssociation): what a create sends, what an update
/// sends (`None`: not sent) and what EKS reports. The provider's AWS layer
/// maps this struct to and from the SDK in one place
/// (`aws::eks::association`); everything else reads it through
/// [`SETTINGS`], so a new setting is a field here, a row there, its
/// attribute in [`spec`] and [`AssociationState`], and its SDK mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `roleArn`: the role pods get.
    pub role_arn: Option<String>,
    /// `targetRoleArn`: the role chained to (`""` clears it).
    pub target_role_arn: Option<String>,
    /// `disableSessionTags`.
    pub disable_session_tags: Option<bool>,
    /// `policy`: the session policy (`""` clears it).
    pub policy: Option<String>,
}

/// The association's settings, one row each.
pub const SETTINGS: [Setting; 4] = [
    Setting::new("role_arn", "roleArn").on_update(OnUpdate::Always),
    Setting::new("target_role_arn", "targetRoleArn"),
    Setting::new("disable_session_tags", "disableSessionTags").unset(settings::no),
    Setting::new("session_policy", "policy").equivalent(policy::equivalent),
];

/// The attributes that are not EKS settings of the association, each for
/// a reason: its identity and the IDs EKS gives, the made role (IAM: these
/// and [`role::ROLE_CREATION_ATTRS`]), the service account (Kubernetes),
/// tags (their own calls) and where it is. With [`SETTINGS`] they cover
/// [`spec`] exactly (a test enumerates both).
pub const NOT_SETTINGS: [&str; 19] = [
    "id",
    "cluster_name",
    "namespace",
    "service_account",
    "association_id",
    "association_arn",
    "external_id",
    "owner_arn",
    "created_at",
    "region",
    "created_role",
    "attached_policy_arns",
    "inline_policies",
    "trust_policy",
    "create_service_account",
    "service_account_created",
    "service_account_uid",
    "tags",
    "tags_all",
];

/// The settings a create sends for state `s` (every one, unset ones as
/// their unset value where that is not null).
pub fn settings_of(s: &AssociationState) -> Settings {
    settings::create_request(&SETTINGS, s)
}

/// Whether EKS's `reported` settings are those state `s` asks for.
pub fn same_settings(s: &AssociationState, reported: &Settings) -> bool {
    settings::same_as_reported(&SETTINGS, s, reported)
}

/// `base` with the settings EKS `reported`, each as the state holds it
/// (unset as its unset value; `base`'s own text of a value that means the
/// same).
pub fn with_settings(base: &AssociationState, reported: &Settings) -> AssociationState {
    settings::with_reported(&SETTINGS, base, reported)
}

/// The calls an update needs, derived from prior and planned state.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AssociationChange {
    /// What UpdatePodIdentityAssociation sends (`None`: no update): the
    /// settings whose meaning changed, and those sent on every update.
    pub update: Option<Settings>,
    /// Tag calls on the association.
    pub tags: TagChange,
}

/// Plans the calls that turn `prior` into `planned`.
pub fn plan_update(prior: &AssociationState, planned: &AssociationState) -> AssociationChange {
    let update = settings::update_request(&SETTINGS, prior, planned, &[]);
    AssociationChange {
        update,
        tags: tags::diff(
            &prior.tags_all.clone().unwrap_or_default(),
            &planned.tags_all.clone().unwrap_or_default(),
        ),
    }
}

/// What the plan knows of `external_id`: `None` means unknown until apply.
pub fn planned_external_id(
    prior: Option<&AssociationState>,
    target_role_arn: &Input<String>,
) -> Option<Option<String>> {
    match (prior, target_role_arn) {
        (_, Input::Null) => Some(None),
        (Some(p), Input::Known(t)) if p.target_role_arn.as_ref() == Some(t) => {
            Some(p.external_id.clone())
        }
        _ => None,
    }
}

/// The command that adopts an existing association into this resource.
pub fn import_command(
    address: &str,
    cluster: &str,
    association_id: &str,
    region: Option<&str>,
) -> String {
    match region {
        Some(r) => format!("terraform import {address} {cluster},{association_id}@{r}"),
        None => format!("terraform import {address} {cluster},{association_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_command_names_the_region_of_a_resource_in_another() {
        assert_eq!(
            import_command("a.b", "c", "a-1", None),
            "terraform import a.b c,a-1"
        );
        assert_eq!(
            import_command("a.b", "c", "a-1", Some("us-west-2")),
            "terraform import a.b c,a-1@us-west-2"
        );
    }

    fn state() -> AssociationState {
        AssociationState {
            cluster_name: "c".into(),
            namespace: "ns".into(),
            service_account: "sa".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/a".into()),
            ..Default::default()
        }
    }

    #[test]
    fn state_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<AssociationState>(&spec());
    }

    #[test]
    fn session_policy_needs_disabled_session_tags() {
        let mut i = AssociationInput {
            session_policy: Input::Known("{}".into()),
            role: RoleSourceInput {
                role_arn: Input::Known("arn:aws:iam::123456789012:role/a".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let p = check(&i);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].attr, "session_policy");
        assert!(p[0].detail.contains("disable_session_tags = true"));
        i.disable_session_tags = Input::Known(false);
        assert_eq!(check(&i).len(), 1);
        i.disable_session_tags = Input::Known(true);
        assert!(check(&i).is_empty());
        // Not yet known: decided at apply, no error now.
        i.disable_session_tags = Input::Unknown;
        assert!(check(&i).is_empty());
        // An unknown policy still needs the flag.
        i.session_policy = Input::Unknown;
        i.disable_session_tags = Input::Null;
        assert_eq!(check(&i).len(), 1);
    }

    #[test]
    fn merged_tags_are_limited() {
        let many: Tags = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        let p = check(&AssociationInput {
            tags_all: Input::Known(many),
            role: RoleSourceInput {
                role_arn: Input::Unknown,
                ..Default::default()
            },
            ..Default::default()
        });
        assert_eq!(p[0].attr, "tags");
    }

    fn made(attrs: &[&'static str]) -> AssociationInput {
        AssociationInput {
            role: RoleSourceInput {
                role_creation_set: attrs.to_vec(),
                partition: "aws".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn role_arn_excludes_role_creation_attributes() {
        let mut i = made(&["role_name", "well_known_policies"]);
        i.role.role_arn = Input::Known("arn:aws:iam::123456789012:role/a".into());
        let p = check(&i);
        assert_eq!(
            p.iter().map(|p| p.attr).collect::<Vec<_>>(),
            vec!["role_name", "well_known_policies"]
        );
        assert!(p[0].summary.contains("role_arn"));
        // Unknown role_arn is set all the same.
        i.role.role_arn = Input::Unknown;
        assert_eq!(check(&i).len(), 2);
    }

    #[test]
    fn made_role_needs_a_permission_source() {
        let p = check(&made(&["role_name"]));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].attr, "role_arn");
        assert!(p[0].detail.contains("permission_policy_arns"));
        assert!(check(&made(&["permission_policy"])).is_empty());
    }

    #[test]
    fn made_role_limits_and_unknown_names() {
        let mut i = made(&["permission_policy_arns", "well_known_policies"]);
        i.role.permission_policy_arns = Input::Known(
            (0..21)
                .map(|n| format!("arn:aws:iam::aws:policy/P{n}"))
                .collect(),
        );
        assert_eq!(check(&i)[0].attr, "permission_policy_arns");
        i.role.permission_policy_arns = Input::Null;
        i.role.well_known_policies = Input::Known(["no-such-policy".to_string()].into());
        let p = check(&i);
        assert_eq!(p[0].attr, "well_known_policies");
        assert!(p[0].detail.contains("external-dns"));
        let mut big = made(&["permission_policy"]);
        big.role.permission_policy = Input::Known(format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"{}"}}]}}"#,
            "x".repeat(11000)
        ));
        assert_eq!(check(&big)[0].attr, "permission_policy");
    }

    #[test]
    fn wanted_role_from_state() {
        let mut s = state();
        s.role_arn = None;
        s.well_known_policies =
            Some(["externalDNS".to_string(), "ebs-csi-controller".to_string()].into());
        s.permission_policy_arns =
            Some(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into());
        s.restrict_to_cluster = Some(true);
        let w = wanted_role(
            &s,
            "aws",
            Some("arn:aws:eks:us-east-1:123456789012:cluster/c"),
        )
        .unwrap();
        assert_eq!(w.name, role::generated_role_name("c", "ns", "sa"));
        assert_eq!(w.path, "/");
        assert!(
            w.shape
                .managed_policy_arns
                .contains("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
        assert!(
            w.shape
                .managed_policy_arns
                .contains("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
        );
        assert!(
            w.shape
                .well_known_policy
                .as_deref()
                .unwrap_or_default()
                .contains("route53:ChangeResourceRecordSets")
        );
        assert!(
            w.shape
                .trust_policy
                .contains("aws:RequestTag/eks-cluster-arn")
        );
        assert!(!w.shape.trust_policy.contains("aws:SourceArn"));
        assert_eq!(
            w.shape.tags.get(role::OWNER_TAG).map(String::as_str),
            Some("c/ns/sa")
        );
        assert!(w.shape.tags.contains_key(role::WELL_KNOWN_TAG));
        let cn = wanted_role(&s, "aws-cn", None).unwrap();
        assert!(
            cn.shape
                .managed_policy_arns
                .iter()
                .all(|a| a.starts_with("arn:aws"))
        );
        assert!(!cn.shape.trust_policy.contains("eks-cluster-arn"));
    }

    fn config(role: RoleConfig) -> AssociationConfig {
        AssociationConfig {
            disable_session_tags: Input::Known(false),
            role: RoleConfig {
                partition: "aws".into(),
                ..role
            },
            ..Default::default()
        }
    }

    #[test]
    fn validate_unknown_session_policy_is_judged_at_plan() {
        // session_policy = each.value.policy (null for some instances).
        let mut c = config(RoleConfig {
            role_arn: Input::Known("arn:aws:iam::123456789012:role/a".into()),
            ..Default::default()
        });
        c.session_policy = Input::Unknown;
        assert_eq!(check_config(&c, Stage::Validate), vec![]);
        assert_eq!(check_config(&c, Stage::Plan)[0].attr, "session_policy");
        c.session_policy = Input::Known("{}".into());
        assert_eq!(check_config(&c, Stage::Validate)[0].attr, "session_policy");
    }

    /// Issue 27: the restriction is a session-tag condition, so it needs
    /// session tags; refused at validate and plan, at restrict_to_cluster.
    #[test]
    fn restrict_to_cluster_needs_session_tags() {
        let mut c = config(RoleConfig {
            permission_policy_arns: Input::Known(
                ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
            ),
            restrict_to_cluster: Input::Known(true),
            ..Default::default()
        });
        assert_eq!(check_config(&c, Stage::Plan), vec![]);
        c.disable_session_tags = Input::Known(true);
        for stage in [Stage::Validate, Stage::Plan] {
            let problems = check_config(&c, stage);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].attr, "restrict_to_cluster");
            assert!(problems[0].detail.contains("disable_session_tags"));
        }
    }

    fn tags(n: usize) -> Tags {
        (0..n).map(|i| (format!("k{i}"), "v".into())).collect()
    }

    #[test]
    fn tags_count_the_providers_own_tags() {
        // Given role: all 50 are the user's (the creation lease is gone
        // before the 50th goes on).
        let mut given = config(RoleConfig {
            role_arn: Input::Known("arn:aws:iam::123456789012:role/a".into()),
            ..Default::default()
        });
        given.tags_all = Input::Known(tags(50));
        assert_eq!(check_config(&given, Stage::Plan), vec![]);
        given.tags_all = Input::Known(tags(51));
        let p = check_config(&given, Stage::Plan);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].attr, "tags");
        assert!(p[0].detail.contains("EKS allows 50"), "{}", p[0].detail);
        // The older entry point counts them too.
        let old = AssociationInput {
            tags_all: Input::Known(tags(51)),
            role: RoleSourceInput {
                role_arn: Input::Known("arn:aws:iam::123456789012:role/a".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(check(&old)[0].attr, "tags");
        // Made role: three more on the role.
        let mut made = config(RoleConfig {
            permission_policy_arns: Input::Known(
                ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
            ),
            ..Default::default()
        });
        made.tags_all = Input::Known(tags(47));
        assert_eq!(check_config(&made, Stage::Plan), vec![]);
        made.tags_all = Input::Known(tags(48));
        let p = check_config(&made, Stage::Plan);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].detail.contains("at most 47"), "{}", p[0].detail);
    }

    #[test]
    fn made_role_tags_follow_iam_rules() {
        let odd: Tags = [("cost-center".to_string(), "a,b".to_string())].into();
        let mut given = config(RoleConfig {
            role_arn: Input::Known("arn:aws:iam::123456789012:role/a".into()),
            ..Default::default()
        });
        given.tags_all = Input::Known(odd.clone());
        assert_eq!(check_config(&given, Stage::Plan), vec![]);
        let mut made = config(RoleConfig {
            permission_policy: Input::Known(r#"{"Statement":[]}"#.into()),
            ..Default::default()
        });
        made.tags_all = Input::Known(odd);
        let p = check_config(&made, Stage::Plan);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].attr, "tags");
        assert!(p[0].detail.contains("\"cost-center\""), "{}", p[0].detail);
        assert!(p[0].detail.contains("','"), "{}", p[0].detail);
        // A reserved key is refused either way.
        given.tags_all =
            Input::Known([(reserved_tags::CREATED_BY_TAG.to_string(), "x".to_string())].into());
        assert!(
            check_config(&given, Stage::Plan)[0]
                .detail
                .contains("reserved")
        );
    }

    #[test]
    fn no_change_no_calls() {
        let c = plan_update(&state(), &state());
        assert!(c.update.is_none());
        assert!(c.tags.is_empty());
    }

    #[test]
    fn removing_target_role_sends_empty_value_and_the_role() {
        let mut prior = state();
        prior.target_role_arn = Some("arn:aws:iam::210987654321:role/t".into());
        let sent = plan_update(&prior, &state()).update.unwrap_or_default();
        assert_eq!(sent.target_role_arn.as_deref(), Some(""));
        // roleArn goes with every update (FACTS.md F9, strict S1).
        assert_eq!(sent.role_arn, state().role_arn);
        assert_eq!(sent.policy, None);
        assert_eq!(sent.disable_session_tags, None);
    }

    #[test]
    fn role_change_and_tags_only_what_changed() {
        let mut planned = state();
        planned.role_arn = Some("arn:aws:iam::123456789012:role/b".into());
        planned.tags_all = Some([("a".to_string(), "1".to_string())].into());
        let c = plan_update(&state(), &planned);
        let sent = c.update.unwrap_or_default();
        assert_eq!(
            sent.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/b")
        );
        assert_eq!(sent.target_role_arn, None);
        assert_eq!(sent.disable_session_tags, None);
        assert_eq!(c.tags.set.len(), 1);
    }

    #[test]
    fn turning_session_tags_back_on_sends_false() {
        let mut prior = state();
        prior.disable_session_tags = Some(true);
        let mut planned = state();
        planned.disable_session_tags = None;
        let sent = plan_update(&prior, &planned).update.unwrap_or_default();
        assert_eq!(sent.disable_session_tags, Some(false));
    }

    #[test]
    fn equivalent_policy_text_needs_no_call() {
        let mut prior = state();
        prior.session_policy = Some(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#.into());
        let mut planned = prior.clone();
        planned.session_policy =
            Some(r#"{ "Statement": [ { "Action": ["s3:*"], "Effect": "Allow" } ] }"#.into());
        assert!(plan_update(&prior, &planned).update.is_none());
        // EKS's text of the same policy: the state keeps its own.
        let reported = Settings {
            policy: Some(r#"{"Statement":[{"Action":"s3:*","Effect":"Allow"}]}"#.into()),
            ..settings_of(&prior)
        };
        assert!(same_settings(&prior, &reported));
        assert_eq!(
            with_settings(&prior, &reported).session_policy,
            prior.session_policy
        );
    }

    /// The table covers the spec: every attribute is a setting or named as
    /// not one, and every setting's member is a field of [`Settings`]. A
    /// new attribute fails here until it is classified.
    #[test]
    fn the_settings_table_covers_every_attribute() {
        let others = [&NOT_SETTINGS[..], &role::ROLE_CREATION_ATTRS[..]].concat();
        crate::settings::table_tests::assert_covers::<Settings>(
            &SETTINGS,
            &others,
            &spec().names(),
        );
    }

    /// Each setting, set to a value of its own, goes to EKS under its
    /// member (create and update), comes back into the state as it was,
    /// and counts in adoption. The same checks, through this module's own
    /// functions: they are the table's.
    #[test]
    fn every_setting_round_trips() {
        let values = [
            (
                "role_arn",
                serde_json::json!("arn:aws:iam::123456789012:role/x"),
            ),
            (
                "target_role_arn",
                serde_json::json!("arn:aws:iam::210987654321:role/t"),
            ),
            ("disable_session_tags", serde_json::json!(true)),
            ("session_policy", serde_json::json!(r#"{"Statement":[]}"#)),
        ];
        assert_eq!(values.len(), SETTINGS.len());
        for (attr, v) in values {
            crate::settings::table_tests::assert_round_trip::<AssociationState, Settings>(
                &SETTINGS,
                &state(),
                attr,
                v.clone(),
                v.clone(),
            );
            let mut m = settings::fields(&AssociationState::default());
            m.insert(attr.to_string(), v.clone());
            let s: AssociationState = settings::from_fields(m, AssociationState::default());
            let back = with_settings(&AssociationState::default(), &settings_of(&s));
            assert!(same_settings(&back, &settings_of(&s)), "{attr}");
            assert!(
                plan_update(&AssociationState::default(), &s)
                    .update
                    .is_some()
            );
        }
    }

    #[test]
    fn external_id_is_unknown_when_target_changes() {
        let mut prior = state();
        prior.target_role_arn = Some("t1".into());
        prior.external_id = Some("x".into());
        assert_eq!(
            planned_external_id(Some(&prior), &Input::Known("t1".into())),
            Some(Some("x".into()))
        );
        assert_eq!(
            planned_external_id(Some(&prior), &Input::Known("t2".into())),
            None
        );
        assert_eq!(planned_external_id(Some(&prior), &Input::Null), Some(None));
        assert_eq!(planned_external_id(None, &Input::Known("t1".into())), None);
        assert_eq!(planned_external_id(None, &Input::Unknown), None);
    }
}
