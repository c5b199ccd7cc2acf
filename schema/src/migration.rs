//! `eks_pod_identity_migration`: a reviewable, idempotent IRSA → pod
//! identity migration of one cluster (design §4).
//!
//! Owns, in this order: the state struct and its spec (twins), the trust
//! policy rewrites (add the `pods.eks.amazonaws.com` statement only when
//! absent; remove only the statements federated to this cluster's OIDC
//! provider; everything else kept as it is), and the task planner that
//! turns what discovery found into the ordered task list shown in the plan.
//! Does not own: discovery or any call (provider crate).

use crate::names::{check_cluster_name, check_role_arn};
use crate::spec::{Attr, Kind, ResourceSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Resource type name.
pub const TYPE_NAME: &str = "eks_pod_identity_migration";
/// The service principal of EKS Pod Identity.
pub const POD_IDENTITY_PRINCIPAL: &str = "pods.eks.amazonaws.com";
/// Sid of the statement the migration adds.
pub const POD_IDENTITY_SID: &str = "EksPodIdentity";

/// Task steps, in the order they run for one subject.
pub mod step {
    /// Install the `eks-pod-identity-agent` addon.
    pub const INSTALL_AGENT: &str = "install_agent";
    /// Add the pods.eks.amazonaws.com statement to a role's trust policy.
    pub const UPDATE_TRUST: &str = "update_trust";
    /// Switch an addon from IRSA to pod identity (UpdateAddon).
    pub const SWITCH_ADDON: &str = "switch_addon";
    /// Create the pod identity association of a service account.
    pub const CREATE_ASSOCIATION: &str = "create_association";
    /// Remove the trust statements federated to this cluster's OIDC provider.
    pub const REMOVE_OIDC_TRUST: &str = "remove_oidc_trust";
    /// Remove the `eks.amazonaws.com/role-arn` annotation.
    pub const REMOVE_ANNOTATION: &str = "remove_annotation";
}

/// The resource's state; field names are attribute names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MigrationState {
    /// The cluster name.
    pub id: Option<String>,
    /// Cluster to migrate.
    pub cluster_name: String,
    /// Drop OIDC trust from migrated service-account roles and the annotation.
    pub remove_oidc_trust: Option<bool>,
    /// Install the agent addon when missing.
    pub install_agent: Option<bool>,
    /// Migrate addons on IRSA.
    pub include_addons: Option<bool>,
    /// Explicit service accounts instead of discovery.
    pub service_accounts: Option<Vec<ServiceAccountEntry>>,
    /// `namespace/name` to leave on IRSA.
    pub exclude: Option<BTreeSet<String>>,
    /// Destroy undoes the migration.
    pub rollback_on_destroy: Option<bool>,
    /// The tasks of the plan (and of the last apply).
    pub tasks: Option<Vec<Task>>,
    /// What has been migrated.
    pub migrated: Option<Vec<Migrated>>,
}

/// One entry of `service_accounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceAccountEntry {
    /// Namespace.
    pub namespace: String,
    /// Service account name.
    pub name: String,
    /// Its IRSA role.
    pub role_arn: String,
}

/// One task of the plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Task {
    /// What is done (see [`step`]).
    pub step: String,
    /// What it is done for: `namespace/name` of a service account, an addon
    /// name, or `eks-pod-identity-agent`.
    pub target: String,
    /// The IAM role concerned (empty for the agent).
    pub role_arn: String,
    /// True when the role was made for this cluster by eksctl or this
    /// provider (its tags say so); false for a role someone else owns.
    pub owned: bool,
    /// A sentence for the reviewer.
    pub detail: String,
}

/// One migrated subject.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Migrated {
    /// `agent`, `addon` or `service_account`.
    pub kind: String,
    /// `namespace/name`, addon name, or `eks-pod-identity-agent`.
    pub target: String,
    /// The role it uses.
    pub role_arn: String,
    /// Its association ID (service accounts; empty for addons and the agent).
    pub association_id: String,
    /// Whether this migration created the association (or installed the agent).
    pub created: bool,
    /// Whether the role no longer trusts this cluster's OIDC provider.
    pub oidc_trust_removed: bool,
    /// Whether the IRSA annotation was removed.
    pub annotation_removed: bool,
}

fn task_attrs() -> Vec<Attr> {
    vec![
        Attr::computed(
            "step",
            Kind::String,
            "What is done: `install_agent`, `update_trust`, `switch_addon`, `create_association`, `remove_oidc_trust` or `remove_annotation`.",
        ),
        Attr::computed(
            "target",
            Kind::String,
            "What it is done for: `namespace/name` of a service account, an addon name, or `eks-pod-identity-agent`.",
        ),
        Attr::computed(
            "role_arn",
            Kind::String,
            "The IAM role concerned (empty for the agent).",
        ),
        Attr::computed(
            "owned",
            Kind::Bool,
            "True when the role was made for this cluster by eksctl or this provider (by its tags); false for a role owned elsewhere, which deserves a closer look.",
        ),
        Attr::computed(
            "detail",
            Kind::String,
            "What exactly changes, in a sentence.",
        ),
    ]
}

fn migrated_attrs() -> Vec<Attr> {
    vec![
        Attr::computed(
            "kind",
            Kind::String,
            "`agent`, `addon` or `service_account`.",
        ),
        Attr::computed(
            "target",
            Kind::String,
            "`namespace/name`, the addon name, or `eks-pod-identity-agent`.",
        ),
        Attr::computed(
            "role_arn",
            Kind::String,
            "The role it uses through pod identity.",
        ),
        Attr::computed(
            "association_id",
            Kind::String,
            "The pod identity association (service accounts).",
        ),
        Attr::computed(
            "created",
            Kind::Bool,
            "Whether this migration created the association (or installed the agent); rollback deletes only these.",
        ),
        Attr::computed(
            "oidc_trust_removed",
            Kind::Bool,
            "Whether the role no longer trusts this cluster's OIDC provider.",
        ),
        Attr::computed(
            "annotation_removed",
            Kind::Bool,
            "Whether the `eks.amazonaws.com/role-arn` annotation was removed.",
        ),
    ]
}

/// The resource's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "Migrates one EKS cluster from IRSA (IAM roles for service accounts) to EKS Pod Identity, like `eksctl utils migrate-to-pod-identity`: `terraform plan` shows the task list (read-only), `terraform apply` carries it out.\n\nApply runs in this order: install the `eks-pod-identity-agent` addon when missing; for each addon on IRSA that supports pod identity, add the pod identity trust to its role and switch the addon to pod identity (then remove the role's OIDC trust of this cluster); for each IRSA service account, add the pod identity trust to its role and create its association (and, with `remove_oidc_trust`, remove the OIDC trust and the annotation). Every step is idempotent: a trust statement is added only when absent, existing associations are recognised, and re-running changes nothing. One failing item does not stop the others; it is reported, `migrated` records what succeeded, and the next apply finishes the rest. Trust policies are rewritten keeping every statement and field the migration does not own.\n\nWhen the *first* apply fails for some items, Terraform marks the resource tainted and the next apply replaces it: without `rollback_on_destroy` that only forgets and runs the remaining tasks; with `rollback_on_destroy = true`, run `terraform untaint` first, or the replacement rolls back what was migrated before migrating again. If the cluster changes between `plan` and `apply` (a role deleted, a service account annotated), Terraform reports an inconsistent final plan and nothing is changed: plan again.",
        version: 0,
        attrs: vec![
            Attr::computed("id", Kind::String, "The cluster name.").stable(),
            Attr::required("cluster_name", Kind::String, "Name of the EKS cluster to migrate. Changing it replaces the resource.").replace().check(check_cluster_name),
            Attr::optional("remove_oidc_trust", Kind::Bool, "Also remove, from the roles of migrated service accounts, the trust statements federated to this cluster's OIDC provider (statements for other clusters stay), and remove the `eks.amazonaws.com/role-arn` annotation once the association exists. Addon roles always lose this cluster's OIDC trust after their addon was switched. A role still used through IRSA by a service account that is not migrated keeps its OIDC trust.").default(Value::Bool(false)),
            Attr::optional("install_agent", Kind::Bool, "Install the `eks-pod-identity-agent` addon when the cluster has none (never on EKS Auto Mode clusters, which include the agent).").default(Value::Bool(true)),
            Attr::optional("include_addons", Kind::Bool, "Migrate the cluster's addons that use IRSA (`service_account_role_arn`) and whose version supports pod identity.").default(Value::Bool(true)),
            Attr::optional("service_accounts", Kind::NestedList(vec![
                Attr::required("namespace", Kind::String, "Namespace of the service account."),
                Attr::required("name", Kind::String, "Name of the service account."),
                Attr::required("role_arn", Kind::String, "Its IRSA role, which will be used through pod identity.").check(check_role_arn),
            ]), "The service accounts to migrate. When absent, the provider discovers them through the cluster's Kubernetes API: every service account with the annotation `eks.amazonaws.com/role-arn`, in every namespace, except those of addons (they move with their addon)."),
            Attr::optional("exclude", Kind::StringSet, "Service accounts to leave on IRSA, as `namespace/name`.").check(check_exclude),
            Attr::optional("rollback_on_destroy", Kind::Bool, "On destroy, undo the migration: restore the saved trust policies and annotations, switch the migrated addons back to their IRSA roles, and delete the associations the migration created (the agent addon stays). Without it, destroy only forgets the migration.").default(Value::Bool(false)),
            Attr::computed("tasks", Kind::ObjectList(task_attrs()), "The tasks of the migration, in the order they run. In a plan: what apply will do (empty when there is nothing left to do, in which case the state keeps the tasks of the last apply)."),
            Attr::computed("migrated", Kind::ObjectList(migrated_attrs()), "What has been migrated: the agent, addons and service accounts, with their association IDs. An association deleted outside Terraform drops out of this list, and the next plan re-creates it."),
        ],
        blocks: vec![],
    }
}

// ---- trust policies ----------------------------------------------------------

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => vec![],
    }
}

fn allows(stmt: &Value, action: &str) -> bool {
    stmt.get("Effect").and_then(Value::as_str) == Some("Allow")
        && stmt.get("Action").is_some_and(|a| {
            strings(a)
                .iter()
                .any(|x| x.eq_ignore_ascii_case(action) || *x == "sts:*" || *x == "*")
        })
}

fn trusts_pod_identity(stmt: &Value) -> bool {
    stmt.get("Principal")
        .and_then(|p| p.get("Service"))
        .is_some_and(|s| strings(s).contains(&POD_IDENTITY_PRINCIPAL))
}

/// True when a statement already lets EKS Pod Identity assume the role with
/// session tags (`sts:AssumeRole` and `sts:TagSession`), however written.
pub fn has_pod_identity_trust(doc: &Value) -> bool {
    let stmts: Vec<&Value> = statements(doc)
        .into_iter()
        .filter(|s| trusts_pod_identity(s) && s.get("Condition").is_none())
        .collect();
    stmts.iter().any(|s| allows(s, "sts:AssumeRole"))
        && stmts.iter().any(|s| allows(s, "sts:TagSession"))
}

/// The statement the migration adds.
pub fn pod_identity_statement() -> Value {
    json!({
        "Sid": POD_IDENTITY_SID,
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
        "Action": ["sts:AssumeRole", "sts:TagSession"]
    })
}

/// The document with the pod identity statement added, or `None` when it
/// already has one (so re-running never duplicates it). Every other member
/// and statement is kept as it is.
pub fn add_pod_identity_trust(doc: &Value) -> Option<Value> {
    if has_pod_identity_trust(doc) {
        return None;
    }
    let mut out = doc.clone();
    let obj = out.as_object_mut()?;
    obj.entry("Version")
        .or_insert_with(|| Value::String("2012-10-17".into()));
    let new = pod_identity_statement();
    match obj.get_mut("Statement") {
        Some(Value::Array(items)) => items.push(new),
        Some(single @ Value::Object(_)) => {
            let first = single.take();
            *single = Value::Array(vec![first, new]);
        }
        _ => {
            obj.insert("Statement".into(), Value::Array(vec![new]));
        }
    }
    Some(out)
}

/// True when the statement trusts `provider_arn` (alone or among others).
pub fn is_federated_to(stmt: &Value, provider_arn: &str) -> bool {
    stmt.get("Principal")
        .and_then(|p| p.get("Federated"))
        .is_some_and(|f| strings(f).contains(&provider_arn))
}

/// True when the document has a statement federated to `provider_arn`.
pub fn has_oidc_trust(doc: &Value, provider_arn: &str) -> bool {
    statements(doc)
        .iter()
        .any(|s| is_federated_to(s, provider_arn))
}

/// The document without the trust of `provider_arn`, or `None` when there
/// is none. A statement federated to this provider alone is removed; one
/// that lists several providers keeps the others. Statements for other
/// clusters, services and accounts stay, and so does every other member.
pub fn remove_oidc_trust(doc: &Value, provider_arn: &str) -> Option<Value> {
    if !has_oidc_trust(doc, provider_arn) {
        return None;
    }
    let mut out = doc.clone();
    let obj = out.as_object_mut()?;
    let list: Vec<Value> = match obj.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => vec![],
    };
    let mut kept = Vec::new();
    for mut stmt in list {
        if !is_federated_to(&stmt, provider_arn) {
            kept.push(stmt);
            continue;
        }
        let Some(Value::Array(providers)) = stmt.pointer_mut("/Principal/Federated") else {
            continue; // federated to this provider alone: dropped
        };
        providers.retain(|p| p.as_str() != Some(provider_arn));
        if !providers.is_empty() {
            kept.push(stmt);
        }
    }
    obj.insert("Statement".into(), Value::Array(kept));
    Some(out)
}

/// The OIDC provider ARN of a cluster's issuer URL.
pub fn oidc_provider_arn(partition: &str, account: &str, issuer: &str) -> String {
    let host_path = issuer
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    format!("arn:{partition}:iam::{account}:oidc-provider/{host_path}")
}

// ---- planning ----------------------------------------------------------------

/// Whether the cluster can hand out pod identity credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Agent {
    /// The agent addon is installed.
    #[default]
    Present,
    /// EKS Auto Mode: built in.
    AutoMode,
    /// Neither.
    Missing,
}

/// What discovery found of one role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleFinding {
    /// Its trust policy (decoded, parsed); `None` when the role is missing.
    pub trust: Option<Value>,
    /// Made for this cluster by eksctl or this provider.
    pub owned: bool,
}

/// An addon on IRSA that supports pod identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddonFinding {
    /// Addon name.
    pub name: String,
    /// Its IRSA role (`serviceAccountRoleArn`).
    pub role_arn: String,
    /// Its service accounts from DescribeAddonConfiguration.
    pub service_accounts: Vec<String>,
}

/// An IRSA service account to migrate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceAccountFinding {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The role to use.
    pub role_arn: String,
    /// Whether it still carries the IRSA annotation.
    pub annotated: bool,
    /// Its existing association: (ID, role ARN).
    pub association: Option<(String, String)>,
}

impl ServiceAccountFinding {
    /// `namespace/name`.
    pub fn target(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Everything planning needs, found read-only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    /// Agent state.
    pub agent: Agent,
    /// `install_agent`.
    pub install_agent: bool,
    /// `remove_oidc_trust`.
    pub remove_oidc_trust: bool,
    /// This cluster's OIDC provider ARN (none without OIDC issuer).
    pub oidc_provider_arn: Option<String>,
    /// Addons to switch.
    pub addons: Vec<AddonFinding>,
    /// Service accounts to migrate (sorted).
    pub service_accounts: Vec<ServiceAccountFinding>,
    /// The roles, by ARN.
    pub roles: BTreeMap<String, RoleFinding>,
    /// Roles still used through IRSA by service accounts left on IRSA
    /// (excluded ones): their OIDC trust must stay.
    pub roles_kept_on_irsa: BTreeSet<String>,
}

/// A service account or addon left out, and why (a plan warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `namespace/name` or addon name.
    pub target: String,
    /// Why.
    pub reason: String,
}

/// The ordered task list: agent, then addons, then service accounts.
pub fn plan_tasks(d: &Discovery) -> (Vec<Task>, Vec<Skipped>) {
    let mut tasks = Vec::new();
    let mut skipped = Vec::new();
    if d.agent == Agent::Missing && d.install_agent {
        tasks.push(Task {
            step: step::INSTALL_AGENT.into(),
            target: "eks-pod-identity-agent".into(),
            role_arn: String::new(),
            owned: false,
            detail: "Install the eks-pod-identity-agent addon (default version) and wait until it is ACTIVE.".into(),
        });
    }
    let mut trust_planned: BTreeSet<String> = BTreeSet::new();
    let role = |arn: &str| d.roles.get(arn).cloned().unwrap_or_default();
    let mut trust_task = |tasks: &mut Vec<Task>, target: &str, arn: &str, f: &RoleFinding| {
        if let Some(trust) = &f.trust
            && !has_pod_identity_trust(trust)
            && trust_planned.insert(arn.to_string())
        {
            tasks.push(Task {
                step: step::UPDATE_TRUST.into(),
                target: target.into(),
                role_arn: arn.into(),
                owned: f.owned,
                detail: format!(
                    "Add a statement allowing {POD_IDENTITY_PRINCIPAL} sts:AssumeRole and sts:TagSession to the trust policy of {}; every other statement stays.",
                    role_label(arn)
                ),
            });
        }
    };
    let oidc_removable = |arn: &str, f: &RoleFinding| -> bool {
        match (&d.oidc_provider_arn, &f.trust) {
            (Some(p), Some(t)) => has_oidc_trust(t, p) && !d.roles_kept_on_irsa.contains(arn),
            _ => false,
        }
    };
    for a in &d.addons {
        let f = role(&a.role_arn);
        if f.trust.is_none() {
            skipped.push(Skipped {
                target: a.name.clone(),
                reason: format!("its IRSA role {} does not exist", a.role_arn),
            });
            continue;
        }
        trust_task(&mut tasks, &a.name, &a.role_arn, &f);
        tasks.push(Task {
            step: step::SWITCH_ADDON.into(),
            target: a.name.clone(),
            role_arn: a.role_arn.clone(),
            owned: f.owned,
            detail: format!(
                "Update the addon to pod identity ({} → {}) and clear its service_account_role_arn; EKS creates the association(s).",
                a.service_accounts.join(", "),
                role_label(&a.role_arn)
            ),
        });
        if oidc_removable(&a.role_arn, &f) {
            tasks.push(Task {
                step: step::REMOVE_OIDC_TRUST.into(),
                target: a.name.clone(),
                role_arn: a.role_arn.clone(),
                owned: f.owned,
                detail: "After the switch succeeded, remove the trust statements federated to this cluster's OIDC provider (other clusters' statements stay).".into(),
            });
        }
    }
    let mut oidc_planned: BTreeSet<String> = d.addons.iter().map(|a| a.role_arn.clone()).collect();
    for sa in &d.service_accounts {
        let target = sa.target();
        let f = role(&sa.role_arn);
        if f.trust.is_none() {
            skipped.push(Skipped {
                target,
                reason: format!("its role {} does not exist", sa.role_arn),
            });
            continue;
        }
        match &sa.association {
            Some((id, r)) if r != &sa.role_arn => {
                skipped.push(Skipped {
                    target,
                    reason: format!(
                        "it already has association {id} with another role ({r}); it is left as it is"
                    ),
                });
                continue;
            }
            _ => {}
        }
        trust_task(&mut tasks, &target, &sa.role_arn, &f);
        if sa.association.is_none() {
            tasks.push(Task {
                step: step::CREATE_ASSOCIATION.into(),
                target: target.clone(),
                role_arn: sa.role_arn.clone(),
                owned: f.owned,
                detail: format!(
                    "Create the pod identity association {target} → {}.",
                    role_label(&sa.role_arn)
                ),
            });
        }
        if d.remove_oidc_trust {
            if oidc_removable(&sa.role_arn, &f) && oidc_planned.insert(sa.role_arn.clone()) {
                tasks.push(Task {
                    step: step::REMOVE_OIDC_TRUST.into(),
                    target: target.clone(),
                    role_arn: sa.role_arn.clone(),
                    owned: f.owned,
                    detail: "Once every migrated service account of this role has its association, remove the trust statements federated to this cluster's OIDC provider (other clusters' statements stay).".into(),
                });
            }
            if sa.annotated {
                tasks.push(Task {
                    step: step::REMOVE_ANNOTATION.into(),
                    target: target.clone(),
                    role_arn: sa.role_arn.clone(),
                    owned: f.owned,
                    detail: "Once the association exists, remove the eks.amazonaws.com/role-arn annotation.".into(),
                });
            }
        }
    }
    (tasks, skipped)
}

fn role_label(arn: &str) -> String {
    match crate::names::parse_role_arn(arn) {
        Ok(r) => format!("role {}{}", r.path, r.name),
        Err(_) => arn.to_string(),
    }
}

/// `namespace/name` → (namespace, name).
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    target.split_once('/')
}

/// Checks an `exclude` entry.
pub fn check_exclude(s: &str) -> Result<(), String> {
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => Ok(()),
        _ => Err(format!(
            "{s:?} is not namespace/name: write the service account as \"namespace/name\", such as \"kube-system/external-dns\"."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER: &str =
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AAA";
    const OTHER: &str =
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/BBB";

    fn irsa(provider: &str, sub: &str) -> Value {
        let host = provider.split("oidc-provider/").nth(1).unwrap();
        json!({"Effect": "Allow", "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{host}:sub"): sub, format!("{host}:aud"): "sts.amazonaws.com"}}})
    }

    #[test]
    fn state_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<MigrationState>(&spec());
    }

    #[test]
    fn pod_identity_statement_is_added_once() {
        let doc = json!({"Version": "2012-10-17", "Statement": [irsa(PROVIDER, "system:serviceaccount:a:b")]});
        let once = add_pod_identity_trust(&doc).unwrap();
        assert_eq!(once["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(once["Statement"][0], doc["Statement"][0]);
        assert!(add_pod_identity_trust(&once).is_none());
    }

    #[test]
    fn odd_shapes_are_kept() {
        // A single statement object, string principal, array conditions, Sids.
        let doc = json!({"Version": "2012-10-17", "Id": "keep-me", "Statement": {
            "Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com", "AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"aws:PrincipalTag/team": ["a", "b"]}}}});
        let out = add_pod_identity_trust(&doc).unwrap();
        assert_eq!(out["Id"], "keep-me");
        assert_eq!(out["Statement"][0], doc["Statement"]);
        assert_eq!(out["Statement"][1]["Sid"], POD_IDENTITY_SID);
        let star = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["pods.eks.amazonaws.com", "x"]}, "Action": "sts:*"}]});
        assert!(add_pod_identity_trust(&star).is_none());
        // AssumeRole without TagSession is not enough for pod identity.
        let partial = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(add_pod_identity_trust(&partial).is_some());
    }

    #[test]
    fn only_this_clusters_oidc_trust_is_removed() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            irsa(PROVIDER, "system:serviceaccount:a:b"),
            irsa(OTHER, "system:serviceaccount:a:b"),
            {"Effect": "Allow", "Principal": {"Federated": [PROVIDER, OTHER]}, "Action": "sts:AssumeRoleWithWebIdentity"},
            pod_identity_statement(),
        ]});
        let out = remove_oidc_trust(&doc, PROVIDER).unwrap();
        let stmts = out["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 3);
        assert_eq!(stmts[0], irsa(OTHER, "system:serviceaccount:a:b"));
        assert_eq!(stmts[1]["Principal"]["Federated"], json!([OTHER]));
        assert!(!has_oidc_trust(&out, PROVIDER));
        assert!(has_oidc_trust(&out, OTHER));
        assert!(remove_oidc_trust(&out, PROVIDER).is_none());
    }

    #[test]
    fn provider_arn_from_issuer() {
        assert_eq!(
            oidc_provider_arn(
                "aws",
                "123456789012",
                "https://oidc.eks.us-east-1.amazonaws.com/id/AAA"
            ),
            PROVIDER
        );
    }

    fn discovery() -> Discovery {
        let role = |n: &str| format!("arn:aws:iam::123456789012:role/{n}");
        let trust = json!({"Statement": [irsa(PROVIDER, "x")]});
        let mut roles = BTreeMap::new();
        for n in ["shared", "team/with-path", "addon", "done"] {
            roles.insert(
                role(n),
                RoleFinding {
                    trust: Some(trust.clone()),
                    owned: n == "addon",
                },
            );
        }
        roles.insert(
            role("done"),
            RoleFinding {
                trust: Some(add_pod_identity_trust(&trust).unwrap()),
                owned: false,
            },
        );
        let sa = |ns: &str, n: &str, r: &str| ServiceAccountFinding {
            namespace: ns.into(),
            name: n.into(),
            role_arn: role(r),
            annotated: true,
            association: None,
        };
        Discovery {
            agent: Agent::Missing,
            install_agent: true,
            remove_oidc_trust: false,
            oidc_provider_arn: Some(PROVIDER.into()),
            addons: vec![AddonFinding {
                name: "aws-ebs-csi-driver".into(),
                role_arn: role("addon"),
                service_accounts: vec!["ebs-csi-controller-sa".into()],
            }],
            service_accounts: vec![
                sa("a", "one", "shared"),
                sa("a", "two", "shared"),
                sa("b", "pathy", "team/with-path"),
                ServiceAccountFinding {
                    association: Some(("a-1".into(), role("done"))),
                    ..sa("c", "done", "done")
                },
                sa("d", "ghost", "missing"),
            ],
            roles,
            roles_kept_on_irsa: BTreeSet::new(),
        }
    }

    #[test]
    fn tasks_in_order_with_shared_roles_once() {
        let (tasks, skipped) = plan_tasks(&discovery());
        let steps: Vec<(String, String)> = tasks
            .iter()
            .map(|t| (t.step.clone(), t.target.clone()))
            .collect();
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            steps,
            vec![
                s("install_agent", "eks-pod-identity-agent"),
                s("update_trust", "aws-ebs-csi-driver"),
                s("switch_addon", "aws-ebs-csi-driver"),
                s("remove_oidc_trust", "aws-ebs-csi-driver"),
                s("update_trust", "a/one"),
                s("create_association", "a/one"),
                s("create_association", "a/two"),
                s("update_trust", "b/pathy"),
                s("create_association", "b/pathy"),
            ]
        );
        assert!(tasks[1].owned);
        assert!(tasks[7].detail.contains("/team/with-path"));
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].reason.contains("does not exist"));
    }

    #[test]
    fn remove_oidc_trust_spares_roles_still_on_irsa() {
        let mut d = discovery();
        d.remove_oidc_trust = true;
        d.roles_kept_on_irsa
            .insert("arn:aws:iam::123456789012:role/team/with-path".into());
        let (tasks, _) = plan_tasks(&d);
        let removals: Vec<&str> = tasks
            .iter()
            .filter(|t| t.step == step::REMOVE_OIDC_TRUST)
            .map(|t| t.target.as_str())
            .collect();
        assert_eq!(removals, vec!["aws-ebs-csi-driver", "a/one", "c/done"]);
        let annotations = tasks
            .iter()
            .filter(|t| t.step == step::REMOVE_ANNOTATION)
            .count();
        assert_eq!(annotations, 4);
    }

    #[test]
    fn nothing_to_do_is_no_tasks() {
        let mut d = discovery();
        d.agent = Agent::AutoMode;
        d.addons.clear();
        d.service_accounts.retain(|s| s.name == "done");
        assert!(plan_tasks(&d).0.is_empty());
    }

    #[test]
    fn exclude_entries() {
        assert!(check_exclude("kube-system/x").is_ok());
        assert!(check_exclude("x").is_err());
        assert!(check_exclude("a/b/c").is_err());
    }
}
