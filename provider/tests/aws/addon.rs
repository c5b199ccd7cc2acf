//! `aws::eks::addon` against the emulator: finders, the catalogue, create,
//! update and delete with their waits, and a wait's deadline on a DEGRADED
//! addon. Each waiter the provider uses (`wait_settled`, `wait_update`,
//! `wait_deleted`) has tests of its own, named after it: it waits out the
//! transition and reports the failure EKS gives.

use crate::support::World;
use schema::addon::{AddonSettings, EntrySettings};
use std::time::Duration;
use terraform_provider_eks::aws::eks::addon::{self, AGENT_ADDON, AddonUpdate, NewAddon};
use terraform_provider_eks::aws::retry::WaitError;

const MINUTE: Duration = Duration::from_secs(60);

fn new(cluster: &str, name: &str) -> NewAddon {
    NewAddon {
        cluster: cluster.into(),
        name: name.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn find_by_name_is_none_for_an_unknown_addon_or_cluster() {
    let w = World::new().await;
    let c = w.cluster("none").await;
    assert_eq!(
        addon::find_by_name(&w.clients, &c, "vpc-cni").await.ok(),
        Some(None)
    );
    assert_eq!(
        addon::find_by_name(&w.clients, "no-such-cluster", "vpc-cni")
            .await
            .ok(),
        Some(None)
    );
    assert_eq!(addon::list_names(&w.clients, &c).await.ok(), Some(vec![]));
}

#[tokio::test]
async fn catalogue_versions_configuration_and_iam() {
    let w = World::new().await;
    let versions = addon::find_versions(&w.clients, "vpc-cni", "1.31").await;
    let versions = versions.ok().flatten().expect("vpc-cni is known");
    assert_eq!(versions.namespace, "kube-system");
    assert!(!versions.versions.is_empty());
    let default = versions.default.clone().expect("a default version");
    assert!(versions.versions.contains(&default));
    let unknown = addon::find_versions(&w.clients, "no-such-addon", "1.31").await;
    assert_eq!(unknown.ok(), Some(None));
    let newest = addon::newest(&versions.versions).unwrap_or_default();
    let config = addon::find_pod_identity_configuration(&w.clients, "vpc-cni", &newest).await;
    let config = config.unwrap_or_default();
    assert!(config.iter().any(|(sa, _)| sa == "aws-node"), "{config:?}");
    let needs_iam = addon::find_requires_iam(&w.clients, "vpc-cni", &newest).await;
    assert_eq!(needs_iam.ok(), Some(true));
    let agent = addon::find_versions(&w.clients, AGENT_ADDON, "1.31")
        .await
        .ok()
        .flatten();
    let agent_version = agent.and_then(|v| v.default).unwrap_or_default();
    let none =
        addon::find_pod_identity_configuration(&w.clients, AGENT_ADDON, &agent_version).await;
    assert_eq!(none.ok(), Some(vec![]));
}

#[tokio::test]
async fn create_waits_until_active_and_lists_the_addon() {
    let w = World::new().await;
    let c = w.cluster("create").await;
    addon::create(&w.ctx(), &w.clients, &new(&c, AGENT_ADDON))
        .await
        .expect("created");
    let active = addon::wait_active(&w.ctx(), &w.clients, &c, AGENT_ADDON, MINUTE).await;
    let active = active.expect("ACTIVE");
    assert_eq!(active.status.as_deref(), Some("ACTIVE"));
    assert_eq!(active.cluster, c);
    assert!(active.arn.is_some());
    assert_eq!(
        addon::list_names(&w.clients, &c).await.ok(),
        Some(vec![AGENT_ADDON.to_string()])
    );
    let again = addon::create(&w.ctx(), &w.clients, &new(&c, AGENT_ADDON)).await;
    assert!(again.is_err_and(|e| terraform_provider_eks::aws::retry::is_in_use(&e)));
}

#[tokio::test]
async fn update_with_associations_then_delete() {
    let w = World::new().await;
    let c = w.cluster("update").await;
    addon::create(&w.ctx(), &w.clients, &new(&c, "vpc-cni"))
        .await
        .expect("created");
    addon::wait_active(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("ACTIVE");
    let update = AddonUpdate {
        cluster: c.clone(),
        name: "vpc-cni".into(),
        settings: AddonSettings {
            pod_identity_associations: Some(vec![EntrySettings::new(
                "aws-node",
                "arn:aws:iam::123456789012:role/cni",
            )]),
            ..Default::default()
        },
    };
    let id = addon::update(&w.ctx(), &w.clients, &update)
        .await
        .expect("updating");
    let id = id.expect("an update ID");
    addon::wait_update(&w.ctx(), &w.clients, &c, "vpc-cni", &id, MINUTE)
        .await
        .expect("Successful");
    let now = addon::wait_active(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("ACTIVE");
    assert_eq!(now.association_arns.len(), 1, "{now:?}");
    addon::delete(&w.clients, &c, "vpc-cni", false)
        .await
        .expect("deleting");
    addon::wait_deleted(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("gone");
    addon::delete(&w.clients, &c, "vpc-cni", false)
        .await
        .expect("gone is done");
}

#[tokio::test]
async fn a_degraded_addon_times_out_with_its_health_issue() {
    let w = World::new().await;
    w.faults(serde_json::json!({"addon_degraded": [{"addon_name": "coredns"}]}))
        .await;
    let c = w.cluster("degraded").await;
    addon::create(&w.ctx(), &w.clients, &new(&c, "coredns"))
        .await
        .expect("created");
    let r = addon::wait_active(&w.ctx(), &w.clients, &c, "coredns", Duration::from_secs(2)).await;
    match r {
        Err(WaitError::Timeout { state, detail, .. }) => {
            assert_eq!(state, "DEGRADED");
            assert!(detail.contains("InsufficientNumberOfReplicas"), "{detail}");
        }
        other => panic!("expected a timeout in DEGRADED, got {other:?}"),
    }
}

#[tokio::test]
async fn waiting_for_a_missing_addon_is_gone() {
    let w = World::new().await;
    let c = w.cluster("missing").await;
    let r = addon::wait_active(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE).await;
    assert!(matches!(r, Err(WaitError::Gone { .. })), "{r:?}");
    addon::wait_deleted(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("nothing to wait for");
}

#[tokio::test]
async fn a_create_settles_in_degraded() {
    let w = World::new().await;
    w.faults(serde_json::json!({"addon_degraded": [{"addon_name": "coredns"}]}))
        .await;
    let c = w.cluster("settled").await;
    addon::create(&w.ctx(), &w.clients, &new(&c, "coredns"))
        .await
        .expect("created");
    let a = addon::wait_settled(&w.ctx(), &w.clients, &c, "coredns", MINUTE)
        .await
        .expect("DEGRADED ends a create");
    assert_eq!(a.status.as_deref(), Some("DEGRADED"));
    assert!(
        a.health.contains("InsufficientNumberOfReplicas"),
        "{}",
        a.health
    );
}

#[tokio::test]
async fn update_waits_out_an_update_in_progress() {
    let w = World::new().await;
    w.faults(serde_json::json!({"addon_transition_ms": 1500}))
        .await;
    let c = w.cluster("busy").await;
    addon::create(&w.ctx(), &w.clients, &new(&c, "vpc-cni"))
        .await
        .expect("created");
    addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("active");
    let first = AddonUpdate {
        cluster: c.clone(),
        name: "vpc-cni".into(),
        settings: AddonSettings {
            configuration_values: Some(r#"{"env":{"WARM_IP_TARGET":"1"}}"#.into()),
            ..Default::default()
        },
    };
    addon::update(&w.ctx(), &w.clients, &first)
        .await
        .expect("first update");
    // The addon is UPDATING now: EKS answers 409, which is waited out.
    let second = AddonUpdate {
        settings: AddonSettings {
            configuration_values: Some(r#"{"env":{"WARM_IP_TARGET":"2"}}"#.into()),
            ..Default::default()
        },
        ..first.clone()
    };
    let id = addon::update(&w.ctx(), &w.clients, &second)
        .await
        .expect("second update after the first finished")
        .expect("an update ID");
    addon::wait_update(&w.ctx(), &w.clients, &c, "vpc-cni", &id, MINUTE)
        .await
        .expect("successful");
}

#[tokio::test]
async fn update_leaves_out_an_empty_role_and_refuses_another_account_at_once() {
    let w = World::new().await;
    let c = w.cluster("irsa").await;
    let role = format!("arn:aws:iam::{}:role/irsa", crate::support::ACCOUNT);
    let irsa = NewAddon {
        settings: AddonSettings {
            service_account_role_arn: Some(role.clone()),
            ..Default::default()
        },
        ..new(&c, "vpc-cni")
    };
    addon::create(&w.ctx(), &w.clients, &irsa)
        .await
        .expect("created");
    addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("active");
    // Some("") means "remove IRSA": the member is left out, never sent empty.
    let remove = AddonUpdate {
        cluster: c.clone(),
        name: "vpc-cni".into(),
        settings: AddonSettings {
            service_account_role_arn: Some(String::new()),
            ..Default::default()
        },
    };
    let id = addon::update(&w.ctx(), &w.clients, &remove)
        .await
        .expect("removing IRSA")
        .unwrap_or_default();
    addon::wait_update(&w.ctx(), &w.clients, &c, "vpc-cni", &id, MINUTE)
        .await
        .expect("successful");
    let now = addon::find_by_name(&w.clients, &c, "vpc-cni")
        .await
        .ok()
        .flatten();
    assert_eq!(now.and_then(|a| a.settings.service_account_role_arn), None);
    let started = std::time::Instant::now();
    let foreign = AddonUpdate {
        settings: AddonSettings {
            service_account_role_arn: Some("arn:aws:iam::999999999999:role/x".into()),
            ..Default::default()
        },
        ..remove
    };
    let r = addon::update(&w.ctx(), &w.clients, &foreign).await;
    assert!(
        r.as_ref()
            .is_err_and(terraform_provider_eks::aws::retry::is_cross_account_role),
        "{r:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// An addon created (not yet waited on) on a new cluster `name`, with
/// transitions that take `transition_ms` (the waits see them).
async fn created_addon(w: &World, name: &str, addon_name: &str, transition_ms: u64) -> String {
    w.faults(serde_json::json!({"addon_transition_ms": transition_ms}))
        .await;
    let c = w.cluster(name).await;
    addon::create(&w.ctx(), &w.clients, &new(&c, addon_name))
        .await
        .expect("created");
    c
}

#[tokio::test]
async fn wait_settled_waits_out_creating() {
    let w = World::new().await;
    let c = created_addon(&w, "settle-creating", "vpc-cni", 1500).await;
    let now = addon::find_by_name(&w.clients, &c, "vpc-cni")
        .await
        .expect("found")
        .expect("there");
    assert_eq!(now.status.as_deref(), Some("CREATING"));
    let a = addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("settles");
    assert_eq!(a.status.as_deref(), Some("ACTIVE"));
}

#[tokio::test]
async fn wait_settled_fails_on_create_failed_with_the_health_issue() {
    let w = World::new().await;
    w.faults(serde_json::json!({"addon_fail": {
        "addon_name": "coredns", "status": "CREATE_FAILED",
        "message": "pods of coredns are not ready"}}))
        .await;
    let c = w.cluster("settle-failed").await;
    addon::create(&w.ctx(), &w.clients, &new(&c, "coredns"))
        .await
        .expect("created");
    let r = addon::wait_settled(&w.ctx(), &w.clients, &c, "coredns", MINUTE).await;
    match r {
        Err(WaitError::Failed { state, detail, .. }) => {
            assert_eq!(state, "CREATE_FAILED");
            assert!(detail.contains("pods of coredns are not ready"), "{detail}");
        }
        other => panic!("expected CREATE_FAILED with its health issue, got {other:?}"),
    }
}

#[tokio::test]
async fn wait_settled_of_a_missing_addon_is_gone() {
    let w = World::new().await;
    let c = w.cluster("settle-missing").await;
    let r = addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE).await;
    assert!(matches!(r, Err(WaitError::Gone { .. })), "{r:?}");
}

#[tokio::test]
async fn wait_update_waits_out_in_progress() {
    let w = World::new().await;
    let c = created_addon(&w, "update-progress", "vpc-cni", 1000).await;
    addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("settles");
    let update = AddonUpdate {
        cluster: c.clone(),
        name: "vpc-cni".into(),
        settings: AddonSettings {
            configuration_values: Some(r#"{"env":{"WARM_IP_TARGET":"1"}}"#.into()),
            ..Default::default()
        },
    };
    let id = addon::update(&w.ctx(), &w.clients, &update)
        .await
        .expect("updating")
        .expect("an update ID");
    addon::wait_update(&w.ctx(), &w.clients, &c, "vpc-cni", &id, MINUTE)
        .await
        .expect("Successful");
    let now = addon::find_by_name(&w.clients, &c, "vpc-cni")
        .await
        .expect("found")
        .expect("there");
    assert_eq!(now.status.as_deref(), Some("ACTIVE"), "{now:?}");
    assert_eq!(
        now.settings.configuration_values.as_deref(),
        Some(r#"{"env":{"WARM_IP_TARGET":"1"}}"#)
    );
}

#[tokio::test]
async fn wait_update_fails_with_the_errors_eks_gives() {
    let w = World::new().await;
    let c = w.cluster("update-failed").await;
    addon::create(&w.ctx(), &w.clients, &new(&c, "vpc-cni"))
        .await
        .expect("created");
    addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("settles");
    w.faults(serde_json::json!({"addon_fail": {
        "addon_name": "vpc-cni", "status": "UPDATE_FAILED",
        "message": "aws-node pods crash"}}))
        .await;
    let update = AddonUpdate {
        cluster: c.clone(),
        name: "vpc-cni".into(),
        settings: AddonSettings {
            configuration_values: Some(r#"{"env":{"WARM_IP_TARGET":"2"}}"#.into()),
            ..Default::default()
        },
    };
    let id = addon::update(&w.ctx(), &w.clients, &update)
        .await
        .expect("updating")
        .expect("an update ID");
    let r = addon::wait_update(&w.ctx(), &w.clients, &c, "vpc-cni", &id, MINUTE).await;
    match r {
        Err(WaitError::Failed { state, detail, .. }) => {
            assert_eq!(state, "Failed");
            assert!(detail.contains("aws-node pods crash"), "{detail}");
        }
        other => panic!("expected a Failed update with EKS's error, got {other:?}"),
    }
}

#[tokio::test]
async fn wait_deleted_waits_until_the_addon_is_gone() {
    let w = World::new().await;
    let c = created_addon(&w, "delete-wait", "vpc-cni", 1000).await;
    addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("settles");
    addon::delete(&w.clients, &c, "vpc-cni", false)
        .await
        .expect("deleting");
    let deleting = addon::find_by_name(&w.clients, &c, "vpc-cni")
        .await
        .expect("found");
    assert_eq!(deleting.and_then(|a| a.status).as_deref(), Some("DELETING"));
    addon::wait_deleted(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("gone");
    let gone = addon::find_by_name(&w.clients, &c, "vpc-cni").await;
    assert!(matches!(gone, Ok(None)), "{gone:?}");
}

#[tokio::test]
async fn wait_deleted_times_out_while_the_addon_is_still_deleting() {
    let w = World::new().await;
    let c = created_addon(&w, "delete-slow", "vpc-cni", 5000).await;
    addon::wait_settled(&w.ctx(), &w.clients, &c, "vpc-cni", MINUTE)
        .await
        .expect("settles");
    addon::delete(&w.clients, &c, "vpc-cni", false)
        .await
        .expect("deleting");
    let r = addon::wait_deleted(&w.ctx(), &w.clients, &c, "vpc-cni", Duration::from_secs(1)).await;
    match r {
        Err(WaitError::Timeout { state, .. }) => assert_eq!(state, "DELETING"),
        other => panic!("expected a timeout in DELETING, got {other:?}"),
    }
}
