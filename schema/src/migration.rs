//! `eks_pod_identity_migration`: a reviewable, idempotent IRSA → pod
//! identity migration of one cluster (design §4).
//!
//! Owns, in this order: the state struct and its spec (twins), the trust
//! policy rewrites (add the `pods.eks.amazonaws.com` statement only when
//! absent; remove only the statements federated to this cluster's OIDC
//! provider; everything else kept as it is), which of an addon's service
//! accounts its IRSA trust allowed (only those get the role), the
//! statement-level undo of those rewrites on the *current* trust policy
//! (rollback keeps later edits) and the rollback task list, and the task
//! planner that turns what discovery found into the ordered task list
//! shown in the plan. Does not own: discovery or any call (provider crate).

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
    /// Rollback: undo the migration's trust policy change on a role.
    pub const RESTORE_TRUST: &str = "restore_trust";
    /// Rollback: switch an addon back to its IRSA role.
    pub const SWITCH_ADDON_BACK: &str = "switch_addon_back";
    /// Rollback: put the `eks.amazonaws.com/role-arn` annotation back.
    pub const RESTORE_ANNOTATION: &str = "restore_annotation";
    /// Rollback: delete an association the migration created.
    pub const DELETE_ASSOCIATION: &str = "delete_association";
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
    /// What destroy will do with `rollback_on_destroy` (see [`plan_rollback`]).
    pub rollback_tasks: Option<Vec<Task>>,
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
            Attr::optional("rollback_on_destroy", Kind::Bool, "On destroy, undo the migration, and only what it changed: in each role's current trust policy remove the pod identity statement it added and put back the OIDC statements it removed (statements added since stay), restore the annotations, switch the migrated addons back to their IRSA roles, and delete the associations the migration created (the agent addon stays). `rollback_tasks` shows what that will be. Without it, destroy only forgets the migration.").default(Value::Bool(false)),
            Attr::computed("tasks", Kind::ObjectList(task_attrs()), "The tasks of the migration, in the order they run. In a plan: what apply will do (empty when there is nothing left to do, in which case the state keeps the tasks of the last apply)."),
            Attr::computed("migrated", Kind::ObjectList(migrated_attrs()), "What has been migrated: the agent, addons and service accounts, with their association IDs. An association deleted outside Terraform drops out of this list, and the next plan re-creates it."),
            Attr::computed("rollback_tasks", Kind::ObjectList(task_attrs()), "What destroy will do when `rollback_on_destroy` is true, in order, kept up to date by every refresh (so a destroy plan shows it): `restore_trust` removes from a role's *current* trust policy exactly the statement the migration added and puts back the OIDC statements it removed, keeping every statement added since; `switch_addon_back`, `restore_annotation` and `delete_association` undo the rest. Empty when `rollback_on_destroy` is false or there is nothing to undo."),
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

// ---- who the IRSA trust allowed ------------------------------------------------

/// Which of an addon's service accounts its IRSA role's trust allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedAccounts {
    /// Service accounts that get the role through pod identity.
    pub allowed: Vec<String>,
    /// Service accounts that do not (reported as skipped).
    pub refused: Vec<String>,
    /// The subjects the trust names (`system:serviceaccount:ns:sa`
    /// patterns), for messages; empty when it names none.
    pub named: Vec<String>,
    /// Whether the trust has any web-identity statement for this cluster's
    /// OIDC provider at all.
    pub trusts_cluster: bool,
}

const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
const SUBJECT_PREFIX: &str = "system:serviceaccount:";

/// The `sub` patterns of a web-identity statement, with whether they are
/// globs (`StringLike`); `None` when the statement has no `sub` condition.
fn sub_patterns(stmt: &Value, host: Option<&str>) -> Option<Vec<(String, bool)>> {
    let cond = stmt.get("Condition")?.as_object()?;
    let mut out = Vec::new();
    let mut found = false;
    for (op, keys) in cond {
        let glob = match op.as_str() {
            "StringEquals" => false,
            "StringLike" => true,
            _ => continue,
        };
        let Some(keys) = keys.as_object() else {
            continue;
        };
        for (key, values) in keys {
            let key_lc = key.to_ascii_lowercase();
            let is_sub = match host {
                Some(h) => key_lc == format!("{}:sub", h.to_ascii_lowercase()),
                None => key_lc.ends_with(":sub"),
            };
            if is_sub {
                found = true;
                out.extend(strings(values).into_iter().map(|v| (v.to_string(), glob)));
            }
        }
    }
    found.then_some(out)
}

/// IAM's `StringLike` match: `*` any run of characters, `?` one character.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn subject_allows(pattern: &str, glob: bool, namespace: Option<&str>, sa: &str) -> bool {
    match namespace {
        Some(ns) => {
            let subject = format!("{SUBJECT_PREFIX}{ns}:{sa}");
            if glob {
                glob_match(pattern, &subject)
            } else {
                pattern == subject
            }
        }
        // Namespace unknown: the service account part of the subject only.
        None => {
            let Some(rest) = pattern.strip_prefix(SUBJECT_PREFIX) else {
                return glob && glob_match(pattern, &format!("{SUBJECT_PREFIX}x:{sa}"));
            };
            let Some((_, name)) = rest.rsplit_once(':') else {
                return false;
            };
            if glob {
                glob_match(name, sa)
            } else {
                name == sa
            }
        }
    }
}

/// Which of `service_accounts` (an addon's, in `namespace`) the IRSA trust
/// `trust` allowed, read as eksctl reads it: the statements that allow
/// `sts:AssumeRoleWithWebIdentity` to this cluster's OIDC provider
/// (`oidc_provider_arn`; any OIDC provider when unknown), and their
/// `<issuer>:sub` condition under `StringEquals` (exact) or `StringLike`
/// (with `*` and `?`), such as `system:serviceaccount:kube-system:efs-csi-controller-sa`.
///
/// A service account is allowed when a named subject matches it; none is
/// when no statement trusts this cluster's provider. When the trust names
/// no subject at all (no `sub` condition), the role cannot be
/// tied to one service account: an addon with a single service account
/// gets it (as eksctl does), one with several gets none (each is refused,
/// to be given a role explicitly). `namespace` unknown (`None`) matches the
/// service account's name in any namespace.
pub fn trusted_service_accounts(
    trust: &Value,
    oidc_provider_arn: Option<&str>,
    namespace: Option<&str>,
    service_accounts: &[String],
) -> TrustedAccounts {
    let host = oidc_provider_arn.and_then(|a| a.split_once("oidc-provider/").map(|(_, h)| h));
    let mut patterns: Vec<(String, bool)> = Vec::new();
    let mut trusts_cluster = false;
    for stmt in statements(trust) {
        let federated = stmt
            .get("Principal")
            .and_then(|p| p.get("Federated"))
            .is_some_and(|f| match oidc_provider_arn {
                Some(arn) => strings(f).contains(&arn),
                None => strings(f).iter().any(|x| x.contains(":oidc-provider/")),
            });
        if !federated || !allows(stmt, WEB_IDENTITY) {
            continue;
        }
        trusts_cluster = true;
        if let Some(p) = sub_patterns(stmt, host) {
            patterns.extend(p);
        }
    }
    let mut out = TrustedAccounts {
        named: patterns.iter().map(|(p, _)| p.clone()).collect(),
        trusts_cluster,
        ..Default::default()
    };
    out.named.sort();
    out.named.dedup();
    for sa in service_accounts {
        let ok = if !trusts_cluster {
            false
        } else if patterns.is_empty() {
            service_accounts.len() == 1
        } else {
            patterns
                .iter()
                .any(|(p, glob)| subject_allows(p, *glob, namespace, sa))
        };
        if ok {
            out.allowed.push(sa.clone());
        } else {
            out.refused.push(sa.clone());
        }
    }
    out
}

// ---- rollback --------------------------------------------------------------------

/// The statement-level change the migration made to one trust policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustChange {
    /// Statements it added (the pod identity statement).
    pub added: Vec<Value>,
    /// Statements it removed (federated to this cluster's provider alone).
    pub removed: Vec<Value>,
    /// Statements it changed, as (before, after): one federated to several
    /// providers lost this cluster's.
    pub replaced: Vec<(Value, Value)>,
}

impl TrustChange {
    /// True when the migration changed nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.replaced.is_empty()
    }
}

/// What the migration did to a trust policy, from the policy as it was
/// before the migration first changed it (`original`, saved by apply):
/// added the pod identity statement when it had none, and — when the OIDC
/// trust was removed (`oidc_removed_for`: this cluster's provider ARN) —
/// removed or trimmed the statements federated to that provider. Both
/// rewrites are deterministic, so the change is recomputed, not stored.
pub fn migration_trust_change(original: &Value, oidc_removed_for: Option<&str>) -> TrustChange {
    let mut change = TrustChange::default();
    if add_pod_identity_trust(original).is_some() {
        change.added.push(pod_identity_statement());
    }
    if let Some(provider) = oidc_removed_for {
        for stmt in statements(original) {
            if !is_federated_to(stmt, provider) {
                continue;
            }
            let mut after = stmt.clone();
            match after.pointer_mut("/Principal/Federated") {
                Some(Value::Array(providers)) => {
                    providers.retain(|p| p.as_str() != Some(provider));
                    if providers.is_empty() {
                        change.removed.push(stmt.clone());
                    } else {
                        change.replaced.push((stmt.clone(), after));
                    }
                }
                _ => change.removed.push(stmt.clone()),
            }
        }
    }
    change
}

/// Undoes `change` on the trust policy as it is *now* (`current`), and
/// only that: the added statement is removed if it is still there
/// unchanged; a removed statement comes back unless an equal one is there;
/// a trimmed statement gets its provider back (or the original statement
/// is added when the trimmed one was edited since). Every statement added
/// or edited after the migration stays, and so does every other member.
/// `None` when there is nothing to undo.
pub fn rollback_trust(current: &Value, change: &TrustChange) -> Option<Value> {
    let mut list: Vec<Value> = statements(current).into_iter().cloned().collect();
    let mut changed = false;
    let find = |list: &[Value], s: &Value| {
        list.iter()
            .position(|x| crate::policy::same_statement(x, s))
    };
    for added in &change.added {
        if let Some(i) = find(&list, added) {
            list.remove(i);
            changed = true;
        }
    }
    for (before, after) in &change.replaced {
        if find(&list, before).is_some() {
            continue;
        }
        match find(&list, after) {
            Some(i) => list[i] = before.clone(),
            None => list.push(before.clone()),
        }
        changed = true;
    }
    for removed in &change.removed {
        if find(&list, removed).is_none() {
            list.push(removed.clone());
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let mut out = current.clone();
    let obj = out.as_object_mut()?;
    obj.insert("Statement".into(), Value::Array(list));
    Some(out)
}

/// Everything [`plan_rollback`] needs, from state, private state and IAM.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollbackInput {
    /// `rollback_on_destroy`.
    pub rollback_on_destroy: bool,
    /// Role ARN → its trust policy before the migration first changed it (saved by apply).
    pub original_trust: BTreeMap<String, Value>,
    /// Role ARN → its trust policy now (`None`: the role is gone).
    pub current_trust: BTreeMap<String, Option<Value>>,
    /// This cluster's OIDC provider ARN.
    pub oidc_provider_arn: Option<String>,
    /// Addon → the IRSA role it had before the switch (saved by apply).
    pub addons: BTreeMap<String, String>,
    /// `namespace/name` → the role ARN of the annotation apply removed.
    pub annotations: BTreeMap<String, String>,
    /// What was migrated (state).
    pub migrated: Vec<Migrated>,
}

/// The trust policy a rollback writes for one role, or `None` when there is
/// nothing to undo (or the role is gone): [`rollback_trust`] of the
/// migration's change ([`migration_trust_change`]) on the current policy.
/// The OIDC trust counts as removed when any migrated item of the role says so.
pub fn rollback_trust_for(input: &RollbackInput, role_arn: &str) -> Option<Value> {
    let original = input.original_trust.get(role_arn)?;
    let current = input.current_trust.get(role_arn)?.as_ref()?;
    let oidc_removed = input
        .migrated
        .iter()
        .any(|m| m.role_arn == role_arn && m.oidc_trust_removed);
    let provider = input.oidc_provider_arn.as_deref().filter(|_| oidc_removed);
    rollback_trust(current, &migration_trust_change(original, provider))
}

/// What destroy will do with `rollback_on_destroy`, in the order it runs:
/// trust policies first (so IRSA works again), addons back to IRSA,
/// annotations back, then the associations the migration created. Empty
/// without `rollback_on_destroy`. The resource shows it as `rollback_tasks`.
pub fn plan_rollback(input: &RollbackInput) -> Vec<Task> {
    if !input.rollback_on_destroy {
        return vec![];
    }
    let mut tasks = Vec::new();
    for (arn, original) in &input.original_trust {
        let Some(Some(current)) = input.current_trust.get(arn) else {
            continue;
        };
        if rollback_trust_for(input, arn).is_none() {
            continue;
        }
        let oidc_removed = input
            .migrated
            .iter()
            .any(|m| &m.role_arn == arn && m.oidc_trust_removed);
        let provider = input.oidc_provider_arn.as_deref().filter(|_| oidc_removed);
        let change = migration_trust_change(original, provider);
        let mut parts = Vec::new();
        let same = |s: &Value| {
            statements(current)
                .iter()
                .any(|x| crate::policy::same_statement(x, s))
        };
        if change.added.iter().any(&same) {
            parts.push(format!(
                "remove the {POD_IDENTITY_PRINCIPAL} statement the migration added"
            ));
        }
        let back = change.removed.iter().filter(|s| !same(s)).count()
            + change.replaced.iter().filter(|(b, _)| !same(b)).count();
        if back > 0 {
            parts.push(format!(
                "put back {back} OIDC trust statement(s) of this cluster"
            ));
        }
        tasks.push(Task {
            step: step::RESTORE_TRUST.into(),
            target: arn.clone(),
            role_arn: arn.clone(),
            owned: false,
            detail: format!(
                "In the trust policy of {}: {}. Statements added or edited since the migration stay.",
                role_label(arn),
                parts.join(", and ")
            ),
        });
    }
    for (addon, role) in &input.addons {
        tasks.push(Task {
            step: step::SWITCH_ADDON_BACK.into(),
            target: addon.clone(),
            role_arn: role.clone(),
            owned: false,
            detail: format!(
                "Switch the addon back to IRSA with {} and remove its pod identity associations.",
                role_label(role)
            ),
        });
    }
    for (target, role) in &input.annotations {
        tasks.push(Task {
            step: step::RESTORE_ANNOTATION.into(),
            target: target.clone(),
            role_arn: role.clone(),
            owned: false,
            detail: format!("Put back the annotation eks.amazonaws.com/role-arn = {role}."),
        });
    }
    for m in &input.migrated {
        if m.kind == "service_account" && m.created && !m.association_id.is_empty() {
            tasks.push(Task {
                step: step::DELETE_ASSOCIATION.into(),
                target: m.target.clone(),
                role_arn: m.role_arn.clone(),
                owned: false,
                detail: format!(
                    "Delete the association {} the migration created (the role stays).",
                    m.association_id
                ),
            });
        }
    }
    tasks
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
///
/// Kept for callers without the addons' namespaces: [`plan_migration`]
/// with none known, so an addon's service accounts are matched against its
/// role's trust by name in any namespace.
pub fn plan_tasks(d: &Discovery) -> (Vec<Task>, Vec<Skipped>) {
    let p = plan_migration(d, &BTreeMap::new());
    (p.tasks, p.skipped)
}

/// A migration plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MigrationPlan {
    /// The ordered tasks (agent, addons, service accounts).
    pub tasks: Vec<Task>,
    /// What is left out, and why (plan warnings).
    pub skipped: Vec<Skipped>,
    /// For each addon to switch, the service accounts that get its role
    /// through pod identity: only those its IRSA trust allowed (see
    /// [`trusted_service_accounts`]). The addon switch must send exactly these.
    pub addon_service_accounts: BTreeMap<String, Vec<String>>,
}

/// The ordered task list, as [`plan_tasks`], with each addon's namespace
/// (`addon_namespaces`: addon name → namespace; an addon missing there is
/// matched in any namespace).
///
/// An addon on IRSA gets associations only for the service accounts its
/// role's trust allowed (as eksctl reads the `sub` condition): the others
/// are reported in `skipped` and named in the switch task's detail; an
/// addon none of whose service accounts is allowed is not switched.
pub fn plan_migration(d: &Discovery, addon_namespaces: &BTreeMap<String, String>) -> MigrationPlan {
    let mut tasks = Vec::new();
    let mut skipped = Vec::new();
    let mut addon_service_accounts = BTreeMap::new();
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
        let trusted = trusted_service_accounts(
            f.trust.as_ref().unwrap_or(&Value::Null),
            d.oidc_provider_arn.as_deref(),
            addon_namespaces.get(&a.name).map(String::as_str),
            &a.service_accounts,
        );
        for sa in &trusted.refused {
            skipped.push(Skipped {
                target: format!("{} service account {sa}", a.name),
                reason: if !trusted.trusts_cluster {
                    format!(
                        "the trust policy of the addon's IRSA role {} has no sts:AssumeRoleWithWebIdentity statement for this cluster's OIDC provider, so none of the addon's service accounts could use it",
                        a.role_arn
                    )
                } else if trusted.allowed.is_empty() && trusted.named.is_empty() {
                    format!(
                        "the trust policy of the addon's IRSA role {} names no service account (no `sub` condition), and the addon has several, so the provider cannot tell which one the role is for; give them roles with eks_addon_pod_identity",
                        a.role_arn
                    )
                } else {
                    format!(
                        "the trust policy of the addon's IRSA role {} does not allow it (it allows {}), so it does not get the role through pod identity either; give it a role of its own with eks_addon_pod_identity if it needs one",
                        a.role_arn,
                        if trusted.named.is_empty() { "no service account by name".to_string() } else { trusted.named.join(", ") }
                    )
                },
            });
        }
        if trusted.allowed.is_empty() {
            continue;
        }
        trust_task(&mut tasks, &a.name, &a.role_arn, &f);
        let left_out = if trusted.refused.is_empty() {
            String::new()
        } else {
            format!(
                " {} stay(s) without the role: the old trust did not allow it.",
                trusted.refused.join(", ")
            )
        };
        tasks.push(Task {
            step: step::SWITCH_ADDON.into(),
            target: a.name.clone(),
            role_arn: a.role_arn.clone(),
            owned: f.owned,
            detail: format!(
                "Update the addon to pod identity ({} → {}) and clear its service_account_role_arn; EKS creates the association(s).{left_out}",
                trusted.allowed.join(", "),
                role_label(&a.role_arn)
            ),
        });
        addon_service_accounts.insert(a.name.clone(), trusted.allowed.clone());
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
    MigrationPlan {
        tasks,
        skipped,
        addon_service_accounts,
    }
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
        // The addon's IRSA role trusts its service account.
        roles.insert(
            role("addon"),
            RoleFinding {
                trust: Some(json!({"Statement": [irsa(PROVIDER, "system:serviceaccount:kube-system:ebs-csi-controller-sa")]})),
                owned: true,
            },
        );
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

    const EFS_CONTROLLER: &str = "efs-csi-controller-sa";
    const EFS_NODE: &str = "efs-csi-node-sa";

    fn efs(trust: Value) -> Discovery {
        let arn = "arn:aws:iam::123456789012:role/efs".to_string();
        Discovery {
            agent: Agent::Present,
            oidc_provider_arn: Some(PROVIDER.into()),
            addons: vec![AddonFinding {
                name: "aws-efs-csi-driver".into(),
                role_arn: arn.clone(),
                service_accounts: vec![EFS_CONTROLLER.into(), EFS_NODE.into()],
            }],
            roles: [(
                arn,
                RoleFinding {
                    trust: Some(trust),
                    owned: false,
                },
            )]
            .into(),
            ..Default::default()
        }
    }

    fn kube_system() -> BTreeMap<String, String> {
        [("aws-efs-csi-driver".to_string(), "kube-system".to_string())].into()
    }

    #[test]
    fn addon_gets_associations_only_for_service_accounts_its_trust_allowed() {
        let d = efs(
            json!({"Statement": [irsa(PROVIDER, "system:serviceaccount:kube-system:efs-csi-controller-sa")]}),
        );
        for namespaces in [kube_system(), BTreeMap::new()] {
            let p = plan_migration(&d, &namespaces);
            assert_eq!(
                p.addon_service_accounts.get("aws-efs-csi-driver"),
                Some(&vec![EFS_CONTROLLER.to_string()])
            );
            let switch = p
                .tasks
                .iter()
                .find(|t| t.step == step::SWITCH_ADDON)
                .unwrap();
            assert!(
                switch
                    .detail
                    .contains(&format!("({EFS_CONTROLLER} → role /efs)")),
                "{}",
                switch.detail
            );
            assert!(
                switch
                    .detail
                    .contains(&format!("{EFS_NODE} stay(s) without the role")),
                "{}",
                switch.detail
            );
            assert_eq!(p.skipped.len(), 1);
            assert_eq!(
                p.skipped[0].target,
                format!("aws-efs-csi-driver service account {EFS_NODE}")
            );
            assert!(
                p.skipped[0].reason.contains("does not allow it"),
                "{}",
                p.skipped[0].reason
            );
        }
        // Through the older entry point: the same tasks.
        assert_eq!(plan_tasks(&d).0, plan_migration(&d, &BTreeMap::new()).tasks);
    }

    #[test]
    fn addon_trust_with_wildcards_or_lists_allows_what_it_matches() {
        let like = json!({"Statement": [{"Effect": "Allow", "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/AAA:sub": "system:serviceaccount:kube-system:efs-csi-*"}}}]});
        let p = plan_migration(&efs(like), &kube_system());
        assert_eq!(
            p.addon_service_accounts["aws-efs-csi-driver"],
            vec![EFS_CONTROLLER.to_string(), EFS_NODE.to_string()]
        );
        assert!(p.skipped.is_empty());
        let list = json!({"Statement": [irsa(PROVIDER, "x")]});
        let mut list = list;
        list["Statement"][0]["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/AAA:sub"] =
            json!([
                "system:serviceaccount:kube-system:efs-csi-node-sa",
                "system:serviceaccount:other:efs-csi-controller-sa"
            ]);
        let t = trusted_service_accounts(
            &list,
            Some(PROVIDER),
            Some("kube-system"),
            &[EFS_CONTROLLER.into(), EFS_NODE.into()],
        );
        assert_eq!(t.allowed, vec![EFS_NODE.to_string()]);
        assert_eq!(t.refused, vec![EFS_CONTROLLER.to_string()]);
        // Another cluster's provider naming the service account does not count.
        let other = json!({"Statement": [irsa(OTHER, "system:serviceaccount:kube-system:efs-csi-controller-sa")]});
        let t = trusted_service_accounts(
            &other,
            Some(PROVIDER),
            Some("kube-system"),
            &[EFS_CONTROLLER.into()],
        );
        assert!(t.allowed.is_empty() && !t.trusts_cluster);
        let p = plan_migration(&efs(other), &kube_system());
        assert!(
            p.skipped[0]
                .reason
                .contains("no sts:AssumeRoleWithWebIdentity statement"),
            "{}",
            p.skipped[0].reason
        );
        // A Deny or another action does not allow.
        let mut deny = json!({"Statement": [irsa(PROVIDER, "system:serviceaccount:kube-system:efs-csi-controller-sa")]});
        deny["Statement"][0]["Effect"] = json!("Deny");
        assert!(
            trusted_service_accounts(
                &deny,
                Some(PROVIDER),
                Some("kube-system"),
                &[EFS_CONTROLLER.into(), EFS_NODE.into()]
            )
            .allowed
            .is_empty()
        );
    }

    #[test]
    fn addon_trust_naming_no_service_account_is_skipped_with_a_warning() {
        let open = json!({"Statement": [{"Effect": "Allow", "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/AAA:aud": "sts.amazonaws.com"}}}]});
        let p = plan_migration(&efs(open.clone()), &kube_system());
        assert!(
            p.tasks.iter().all(|t| t.target != "aws-efs-csi-driver"),
            "{:?}",
            p.tasks
        );
        assert!(p.addon_service_accounts.is_empty());
        assert_eq!(p.skipped.len(), 2);
        assert!(
            p.skipped[0].reason.contains("names no service account"),
            "{}",
            p.skipped[0].reason
        );
        // A single service account is the one the role is for (as eksctl).
        let t = trusted_service_accounts(
            &open,
            Some(PROVIDER),
            Some("kube-system"),
            &[EFS_CONTROLLER.into()],
        );
        assert_eq!(t.allowed, vec![EFS_CONTROLLER.to_string()]);
    }

    #[test]
    fn string_like_globs() {
        assert!(glob_match("a*c", "abbbc"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*", ""));
        assert!(glob_match(
            "system:serviceaccount:*:x",
            "system:serviceaccount:ns:x"
        ));
        assert!(!glob_match(
            "system:serviceaccount:*:x",
            "system:serviceaccount:ns:y"
        ));
    }

    fn migrated_trust(original: &Value, provider: Option<&str>) -> Value {
        let added = add_pod_identity_trust(original).unwrap_or_else(|| original.clone());
        match provider {
            Some(p) => remove_oidc_trust(&added, p).unwrap_or(added),
            None => added,
        }
    }

    #[test]
    fn rollback_keeps_statements_added_after_the_migration() {
        let ec2 = json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
        let original = json!({"Version": "2012-10-17", "Statement": [irsa(PROVIDER, "system:serviceaccount:a:b"), irsa(OTHER, "system:serviceaccount:a:b")]});
        let migrated = migrated_trust(&original, Some(PROVIDER));
        // Someone adds a statement after the migration (and reformats ours).
        let mut current = migrated.clone();
        current["Statement"]
            .as_array_mut()
            .unwrap()
            .push(ec2.clone());
        let change = migration_trust_change(&original, Some(PROVIDER));
        assert_eq!(change.added, vec![pod_identity_statement()]);
        assert_eq!(
            change.removed,
            vec![irsa(PROVIDER, "system:serviceaccount:a:b")]
        );
        let back = rollback_trust(&current, &change).unwrap();
        let stmts = back["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 3, "{back}");
        assert!(stmts.contains(&ec2), "the later statement stays");
        assert!(stmts.contains(&irsa(PROVIDER, "system:serviceaccount:a:b")));
        assert!(stmts.contains(&irsa(OTHER, "system:serviceaccount:a:b")));
        assert!(!has_pod_identity_trust(&back));
        // Restoring the saved document whole (the old way) would drop it.
        assert!(!statements(&original).contains(&&ec2));
        // Undone already: nothing to do.
        assert_eq!(rollback_trust(&back, &change), None);
    }

    #[test]
    fn rollback_restores_a_trimmed_statement_and_keeps_a_pre_existing_pod_statement() {
        let both = json!({"Effect": "Allow", "Principal": {"Federated": [PROVIDER, OTHER]}, "Action": "sts:AssumeRoleWithWebIdentity"});
        let original = json!({"Statement": [both.clone()]});
        let change = migration_trust_change(&original, Some(PROVIDER));
        assert_eq!(change.replaced.len(), 1);
        let back = rollback_trust(&migrated_trust(&original, Some(PROVIDER)), &change).unwrap();
        assert_eq!(back["Statement"], json!([both]));
        // The role trusted pod identity before: rollback leaves that statement.
        let pre = json!({"Statement": [irsa(PROVIDER, "system:serviceaccount:a:b"), pod_identity_statement()]});
        let change = migration_trust_change(&pre, None);
        assert!(change.is_empty());
        assert_eq!(rollback_trust(&pre, &change), None);
    }

    #[test]
    fn plan_rollback_shows_what_destroy_will_do() {
        let arn = "arn:aws:iam::123456789012:role/r".to_string();
        let original = json!({"Statement": [irsa(PROVIDER, "system:serviceaccount:a:b")]});
        let mut input = RollbackInput {
            rollback_on_destroy: true,
            original_trust: [(arn.clone(), original.clone())].into(),
            current_trust: [(arn.clone(), Some(migrated_trust(&original, Some(PROVIDER))))].into(),
            oidc_provider_arn: Some(PROVIDER.into()),
            addons: [("vpc-cni".to_string(), arn.clone())].into(),
            annotations: [("a/b".to_string(), arn.clone())].into(),
            migrated: vec![Migrated {
                kind: "service_account".into(),
                target: "a/b".into(),
                role_arn: arn.clone(),
                association_id: "a-12345678901234567".into(),
                created: true,
                oidc_trust_removed: true,
                annotation_removed: true,
            }],
        };
        let tasks = plan_rollback(&input);
        let steps: Vec<&str> = tasks.iter().map(|t| t.step.as_str()).collect();
        assert_eq!(
            steps,
            vec![
                "restore_trust",
                "switch_addon_back",
                "restore_annotation",
                "delete_association"
            ]
        );
        assert!(
            tasks[0]
                .detail
                .contains("remove the pods.eks.amazonaws.com statement"),
            "{}",
            tasks[0].detail
        );
        assert!(
            tasks[0].detail.contains("put back 1 OIDC trust statement"),
            "{}",
            tasks[0].detail
        );
        let restored = rollback_trust_for(&input, &arn).unwrap();
        assert!(has_oidc_trust(&restored, PROVIDER) && !has_pod_identity_trust(&restored));
        // Without the OIDC removal recorded, only the added statement goes.
        input.migrated[0].oidc_trust_removed = false;
        input
            .current_trust
            .insert(arn.clone(), Some(migrated_trust(&original, None)));
        assert_eq!(
            rollback_trust_for(&input, &arn).map(|d| d["Statement"].clone()),
            Some(original["Statement"].clone())
        );
        input.rollback_on_destroy = false;
        assert!(plan_rollback(&input).is_empty());
    }

    #[test]
    fn exclude_entries() {
        assert!(check_exclude("kube-system/x").is_ok());
        assert!(check_exclude("x").is_err());
        assert!(check_exclude("a/b/c").is_err());
    }
}
