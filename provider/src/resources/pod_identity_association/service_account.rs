//! `create_service_account` of `eks_pod_identity_association`: the
//! Kubernetes service account an association may make, through its life.
//!
//! Owns: planning `service_account_created` / `service_account_uid`, and
//! making, reading and deleting the service account (only one this resource
//! made, and only while it is the same object). Does not own: the
//! Kubernetes client (`crate::kube`).

use crate::aws::Clients;
use crate::kube::{self, KubeError, connect, ensure_service_account, to_diagnostic};
use schema::association::AssociationState;
use std::sync::Arc;
use tfplugin::{Diagnostic, Diagnostics};

/// Plans `service_account_created` / `service_account_uid`: kept when the
/// service account was there at the last read, unknown when it must be made.
pub(super) fn plan(prior: Option<&AssociationState>, planned: &mut tfplugin::Value) {
    use tfplugin::Value;
    let same_target = |p: &AssociationState| {
        planned.get("cluster_name").as_str() == Some(p.cluster_name.as_str())
            && planned.get("namespace").as_str() == Some(p.namespace.as_str())
            && planned.get("service_account").as_str() == Some(p.service_account.as_str())
    };
    let (created, uid) = match planned.get("create_service_account") {
        Value::Bool(false) => (Value::Null, Value::Null),
        Value::Bool(true) => match prior.filter(|p| same_target(p)) {
            Some(AssociationState {
                create_service_account: Some(true),
                service_account_created: Some(c),
                service_account_uid: Some(u),
                ..
            }) => (Value::Bool(*c), Value::string(u)),
            _ => (Value::Unknown, Value::Unknown),
        },
        _ => (Value::Unknown, Value::Unknown),
    };
    planned.set("service_account_created", created);
    planned.set("service_account_uid", uid);
}

/// After create or update: with `create_service_account`, makes the
/// namespace and service account when missing and records what it made.
/// A failure is an error diagnostic; the association itself stays.
pub(super) async fn apply(
    clients: &Arc<Clients>,
    prior: Option<&AssociationState>,
    state: &mut AssociationState,
    diags: &mut Diagnostics,
) {
    if state.create_service_account != Some(true) {
        state.service_account_created = None;
        state.service_account_uid = None;
        return;
    }
    let label = format!("{}/{}", state.namespace, state.service_account);
    let ensured = match connect(clients, &state.cluster_name).await {
        Ok(kube) => ensure_service_account(&kube, &state.namespace, &state.service_account).await,
        Err(e) => Err(e),
    };
    match ensured {
        Ok(found) => {
            // Ours if we made it now, or made it before and it is the same object.
            let ours_before = prior.is_some_and(|p| {
                p.service_account_created == Some(true)
                    && p.service_account_uid.as_deref() == Some(found.uid.as_str())
            });
            state.service_account_created = Some(found.created || ours_before);
            state.service_account_uid = Some(found.uid);
        }
        Err(e) => {
            state.service_account_created = None;
            state.service_account_uid = None;
            diags.push(to_diagnostic(
                format!("creating Kubernetes service account {label}"),
                &e,
            ));
        }
    }
}

/// Read: with `create_service_account`, a missing service account becomes a
/// null UID (the next plan creates it again); a replaced one is not ours.
pub(super) async fn read(
    clients: &Arc<Clients>,
    prior: &AssociationState,
    state: &mut AssociationState,
    diags: &mut Diagnostics,
) {
    state.create_service_account = Some(prior.create_service_account.unwrap_or(false));
    state.service_account_created = prior.service_account_created;
    state.service_account_uid = prior.service_account_uid.clone();
    if prior.create_service_account != Some(true) {
        return;
    }
    let label = format!("{}/{}", prior.namespace, prior.service_account);
    let found = match connect(clients, &prior.cluster_name).await {
        Ok(kube) => {
            kube.find_service_account(&prior.namespace, &prior.service_account)
                .await
        }
        Err(e) => Err(e),
    };
    match found {
        Ok(Some(sa)) => {
            if prior.service_account_uid.as_deref() != Some(sa.uid.as_str()) {
                state.service_account_created = Some(false);
            }
            state.service_account_uid = Some(sa.uid);
        }
        Ok(None) => {
            diags.push(Diagnostic::warning(
                format!("Kubernetes service account {label} is gone"),
                "It was deleted outside Terraform. The next apply creates it again.",
            ));
            state.service_account_created = None;
            state.service_account_uid = None;
        }
        Err(e) => diags.push(Diagnostic::warning(
            format!("Could not read Kubernetes service account {label}"),
            format!("{}. Its state is kept as it was.", kube::error_chain(&e)),
        )),
    }
}

/// Delete: removes the service account only if this resource created it and
/// it is still the same object.
pub(super) async fn delete(
    clients: &Arc<Clients>,
    prior: &AssociationState,
    diags: &mut Diagnostics,
) {
    let (Some(true), Some(uid)) = (prior.service_account_created, &prior.service_account_uid)
    else {
        return;
    };
    let label = format!("{}/{}", prior.namespace, prior.service_account);
    let result = match connect(clients, &prior.cluster_name).await {
        Ok(kube) => {
            kube.delete_service_account(&prior.namespace, &prior.service_account, uid)
                .await
        }
        // The cluster itself is gone: so is the service account.
        Err(KubeError::NoCluster { .. }) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        diags.push(to_diagnostic(
            format!("deleting Kubernetes service account {label}"),
            &e,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::Value;

    fn planned(create: Value) -> Value {
        let mut v = Value::Null;
        v.set("cluster_name", Value::string("c"));
        v.set("namespace", Value::string("ns"));
        v.set("service_account", Value::string("sa"));
        v.set("create_service_account", create);
        v
    }

    fn made_before() -> AssociationState {
        AssociationState {
            cluster_name: "c".into(),
            namespace: "ns".into(),
            service_account: "sa".into(),
            create_service_account: Some(true),
            service_account_created: Some(true),
            service_account_uid: Some("u-1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn plan_keeps_what_the_last_read_saw() {
        let mut v = planned(Value::Bool(true));
        plan(Some(&made_before()), &mut v);
        assert_eq!(v.get("service_account_created"), &Value::Bool(true));
        assert_eq!(v.get("service_account_uid").as_str(), Some("u-1"));
    }

    #[test]
    fn plan_is_unknown_for_a_new_target_and_null_when_off() {
        let mut v = planned(Value::Bool(true));
        v.set("namespace", Value::string("other"));
        plan(Some(&made_before()), &mut v);
        assert_eq!(v.get("service_account_uid"), &Value::Unknown);
        let mut v = planned(Value::Bool(false));
        plan(Some(&made_before()), &mut v);
        assert!(v.get("service_account_created").is_null());
        let mut v = planned(Value::Unknown);
        plan(None, &mut v);
        assert_eq!(v.get("service_account_created"), &Value::Unknown);
    }
}
