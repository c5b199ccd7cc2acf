//! The resource's state struct and its spec (twins), the task steps, and
//! the words of a task: `eks_pod_identity_migration` as Terraform sees it.
//!
//! Owns: attribute names, descriptions and checks; the `namespace/name`
//! form of a target. Does not own: what goes into the task lists
//! (`super::plan`, `super::rollback`).

use crate::names::{check_cluster_name, check_role_arn};
use crate::spec::{Attr, Kind, ResourceSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// Resource type name.
pub const TYPE_NAME: &str = "eks_pod_identity_migration";

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
    /// What destroy will do with `rollback_on_destroy` (see [`plan_rollback`](super::plan_rollback)).
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

/// `role path/name` of a role ARN, for task details; the ARN itself when
/// it is not a role ARN.
pub(super) fn role_label(arn: &str) -> String {
    match crate::names::parse_role_arn(arn) {
        Ok(r) => format!("role {}{}", r.path, r.name),
        Err(_) => arn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<MigrationState>(&spec());
    }

    #[test]
    fn exclude_entries() {
        assert!(check_exclude("kube-system/x").is_ok());
        assert!(check_exclude("x").is_err());
        assert!(check_exclude("a/b/c").is_err());
    }
}
