//! The migration planner: what discovery found ([`Discovery`]) turned into
//! the ordered task list shown in the plan (agent, then addons, then
//! service accounts), with what is left out and why.
//!
//! Owns: [`plan_migration`] and the findings it reads. Does not own:
//! discovery or any call (provider crate).

use super::state::{Task, role_label, step};
use super::subjects::{TrustedAccounts, trusted_service_accounts};
use super::trust::{
    POD_IDENTITY_PRINCIPAL, add_pod_identity_trust, has_oidc_trust, has_pod_identity_trust,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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
    /// What is planned but may be refused (plan warnings): a trust policy
    /// that the added statement takes over IAM's default size.
    pub warnings: Vec<Skipped>,
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
    let mut planner = Planner::new(d);
    planner.install_agent();
    for a in &d.addons {
        planner.addon(a, addon_namespaces.get(&a.name).map(String::as_str));
    }
    for sa in &d.service_accounts {
        planner.service_account(sa);
    }
    planner.plan
}

/// [`plan_migration`] at work: the plan so far, and which roles already
/// have the trust tasks that every subject of the role shares.
struct Planner<'d> {
    /// What discovery found.
    d: &'d Discovery,
    /// The plan so far.
    plan: MigrationPlan,
    /// Roles that have their `update_trust` task.
    trust_planned: BTreeSet<String>,
    /// Roles whose OIDC trust removal is planned already, or left to their
    /// addon: a service account of an addon's role never adds one.
    oidc_planned: BTreeSet<String>,
}

impl<'d> Planner<'d> {
    fn new(d: &'d Discovery) -> Self {
        Planner {
            d,
            plan: MigrationPlan::default(),
            trust_planned: BTreeSet::new(),
            oidc_planned: d.addons.iter().map(|a| a.role_arn.clone()).collect(),
        }
    }

    /// What discovery found of a role (a missing one has no trust).
    fn role(&self, arn: &str) -> RoleFinding {
        self.d.roles.get(arn).cloned().unwrap_or_default()
    }

    fn push(&mut self, step: &str, target: &str, role_arn: &str, owned: bool, detail: String) {
        self.plan.tasks.push(Task {
            step: step.into(),
            target: target.into(),
            role_arn: role_arn.into(),
            owned,
            detail,
        });
    }

    fn skip(&mut self, target: String, reason: String) {
        self.plan.skipped.push(Skipped { target, reason });
    }

    /// Step 1: the agent addon, when it is missing and may be installed.
    fn install_agent(&mut self) {
        if self.d.agent == Agent::Missing && self.d.install_agent {
            self.push(
                step::INSTALL_AGENT,
                "eks-pod-identity-agent",
                "",
                false,
                "Install the eks-pod-identity-agent addon (default version) and wait until it is ACTIVE.".into(),
            );
        }
    }

    /// The pod identity statement for a role that lacks it, once per role.
    fn update_trust(&mut self, target: &str, arn: &str, f: &RoleFinding) {
        if let Some(trust) = &f.trust
            && !has_pod_identity_trust(trust)
            && self.trust_planned.insert(arn.to_string())
        {
            let size = add_pod_identity_trust(trust).map(|t| crate::role::policy_size(&t));
            let what = format!(
                "The trust policy of {} with the pod identity statement added",
                role_label(arn)
            );
            if let Some(reason) = size.and_then(|n| crate::role::trust_size_warning(&what, n)) {
                self.plan.warnings.push(Skipped {
                    target: target.to_string(),
                    reason,
                });
            }
            self.push(
                step::UPDATE_TRUST,
                target,
                arn,
                f.owned,
                format!(
                    "Add a statement allowing {POD_IDENTITY_PRINCIPAL} sts:AssumeRole and sts:TagSession to the trust policy of {}; every other statement stays.",
                    role_label(arn)
                ),
            );
        }
    }

    /// Whether the role trusts this cluster's OIDC provider and no service
    /// account left on IRSA still needs that.
    fn oidc_removable(&self, arn: &str, f: &RoleFinding) -> bool {
        match (&self.d.oidc_provider_arn, &f.trust) {
            (Some(p), Some(t)) => has_oidc_trust(t, p) && !self.d.roles_kept_on_irsa.contains(arn),
            _ => false,
        }
    }

    /// Step 2, per addon on IRSA: its role's trust, the switch (only for
    /// the service accounts the IRSA trust allowed) and the OIDC trust.
    fn addon(&mut self, a: &AddonFinding, namespace: Option<&str>) {
        let f = self.role(&a.role_arn);
        let Some(trust) = &f.trust else {
            self.skip(
                a.name.clone(),
                format!("its IRSA role {} does not exist", a.role_arn),
            );
            return;
        };
        let trusted = trusted_service_accounts(
            trust,
            self.d.oidc_provider_arn.as_deref(),
            namespace,
            &a.service_accounts,
        );
        for sa in &trusted.refused {
            self.skip(
                format!("{} service account {sa}", a.name),
                refused_reason(a, &trusted),
            );
        }
        if trusted.allowed.is_empty() {
            return;
        }
        self.update_trust(&a.name, &a.role_arn, &f);
        self.switch_addon(a, &f, &trusted);
        if self.oidc_removable(&a.role_arn, &f) {
            self.push(
                step::REMOVE_OIDC_TRUST,
                &a.name,
                &a.role_arn,
                f.owned,
                "After the switch succeeded, remove the trust statements federated to this cluster's OIDC provider (other clusters' statements stay).".into(),
            );
        }
    }

    /// The switch of an addon to pod identity, for its allowed service accounts.
    fn switch_addon(&mut self, a: &AddonFinding, f: &RoleFinding, trusted: &TrustedAccounts) {
        let left_out = if trusted.refused.is_empty() {
            String::new()
        } else {
            format!(
                " {} stay(s) without the role: the old trust did not allow it.",
                trusted.refused.join(", ")
            )
        };
        self.push(
            step::SWITCH_ADDON,
            &a.name,
            &a.role_arn,
            f.owned,
            format!(
                "Update the addon to pod identity ({} → {}) and clear its service_account_role_arn; EKS creates the association(s).{left_out}",
                trusted.allowed.join(", "),
                role_label(&a.role_arn)
            ),
        );
        self.plan
            .addon_service_accounts
            .insert(a.name.clone(), trusted.allowed.clone());
    }

    /// Step 3, per IRSA service account: its role's trust, its association,
    /// then (with `remove_oidc_trust`) the OIDC trust and the annotation.
    fn service_account(&mut self, sa: &ServiceAccountFinding) {
        let target = sa.target();
        let f = self.role(&sa.role_arn);
        if f.trust.is_none() {
            self.skip(target, format!("its role {} does not exist", sa.role_arn));
            return;
        }
        if let Some((id, r)) = &sa.association
            && r != &sa.role_arn
        {
            self.skip(
                target,
                format!(
                    "it already has association {id} with another role ({r}); it is left as it is"
                ),
            );
            return;
        }
        self.update_trust(&target, &sa.role_arn, &f);
        if sa.association.is_none() {
            self.push(
                step::CREATE_ASSOCIATION,
                &target,
                &sa.role_arn,
                f.owned,
                format!(
                    "Create the pod identity association {target} → {}.",
                    role_label(&sa.role_arn)
                ),
            );
        }
        if self.d.remove_oidc_trust {
            self.leave_irsa(sa, &target, &f);
        }
    }

    /// The IRSA remains of a migrated service account: its role's OIDC
    /// trust (once per role) and its annotation.
    fn leave_irsa(&mut self, sa: &ServiceAccountFinding, target: &str, f: &RoleFinding) {
        if self.oidc_removable(&sa.role_arn, f) && self.oidc_planned.insert(sa.role_arn.clone()) {
            self.push(
                step::REMOVE_OIDC_TRUST,
                target,
                &sa.role_arn,
                f.owned,
                "Once every migrated service account of this role has its association, remove the trust statements federated to this cluster's OIDC provider (other clusters' statements stay).".into(),
            );
        }
        if sa.annotated {
            self.push(
                step::REMOVE_ANNOTATION,
                target,
                &sa.role_arn,
                f.owned,
                "Once the association exists, remove the eks.amazonaws.com/role-arn annotation."
                    .into(),
            );
        }
    }
}

/// Why an addon's service account does not get the addon's role.
fn refused_reason(a: &AddonFinding, trusted: &TrustedAccounts) -> String {
    if !trusted.trusts_cluster {
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
        let allows = if trusted.named.is_empty() {
            "no service account by name".to_string()
        } else {
            trusted.named.join(", ")
        };
        format!(
            "the trust policy of the addon's IRSA role {} does not allow it (it allows {allows}), so it does not get the role through pod identity either; give it a role of its own with eks_addon_pod_identity if it needs one",
            a.role_arn
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use serde_json::json;

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

    /// Issue 25 item 4: a trust policy that the added pod identity
    /// statement takes over IAM's default 2,048 characters is still planned,
    /// with a warning that gives the size; a small one gives none.
    #[test]
    fn a_trust_grown_over_the_default_size_warns() {
        let mut d = discovery();
        let statements: Vec<Value> = (0..30)
            .map(|i| {
                irsa(
                    PROVIDER,
                    &format!("system:serviceaccount:team-{i:02}:service-account-{i:02}"),
                )
            })
            .collect();
        let big = json!({"Statement": statements});
        let arn = "arn:aws:iam::123456789012:role/shared".to_string();
        d.roles.insert(
            arn,
            RoleFinding {
                trust: Some(big),
                owned: false,
            },
        );
        let p = plan_migration(&d, &BTreeMap::new());
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].reason.contains("2048"),
            "{}",
            p.warnings[0].reason
        );
        assert!(
            p.tasks
                .iter()
                .any(|t| t.step == step::UPDATE_TRUST && t.role_arn.ends_with("/shared"))
        );
        assert!(
            plan_migration(&discovery(), &BTreeMap::new())
                .warnings
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
}
