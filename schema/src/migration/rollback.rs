//! The statement-level undo of a migration's trust rewrites on the
//! *current* trust policy (so a rollback keeps later edits), and the
//! rollback task list destroy runs with `rollback_on_destroy`.
//!
//! Owns: [`TrustChange`], [`rollback_trust`] and [`plan_rollback`]. Does
//! not own: the calls that carry the tasks out (provider crate).

use super::state::{Migrated, Task, role_label, step};
use super::trust::{
    POD_IDENTITY_PRINCIPAL, add_pod_identity_trust, is_federated_to, pod_identity_statement,
    statements,
};
use serde_json::Value;
use std::collections::BTreeMap;

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
    let mut tasks: Vec<Task> = input
        .original_trust
        .iter()
        .filter_map(|(arn, original)| restore_trust_task(input, arn, original))
        .collect();
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

/// The `restore_trust` task of one role, or `None` when the role is gone
/// or its current trust policy has nothing of the migration's to undo.
fn restore_trust_task(input: &RollbackInput, arn: &str, original: &Value) -> Option<Task> {
    let Some(Some(current)) = input.current_trust.get(arn) else {
        return None;
    };
    rollback_trust_for(input, arn)?;
    let oidc_removed = input
        .migrated
        .iter()
        .any(|m| m.role_arn == arn && m.oidc_trust_removed);
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
    Some(Task {
        step: step::RESTORE_TRUST.into(),
        target: arn.to_string(),
        role_arn: arn.to_string(),
        owned: false,
        detail: format!(
            "In the trust policy of {}: {}. Statements added or edited since the migration stay.",
            role_label(arn),
            parts.join(", and ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::migration::*;
    use serde_json::json;

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
}
