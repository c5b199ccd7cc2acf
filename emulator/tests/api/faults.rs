//! The admin API: faults, counters, reset and the state dump.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::Eks;

#[tokio::test]
async fn faults_throttle_and_counters() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"throttle_rate": 1.0, "operations": ["DescribeCluster"]}),
    )
    .await;
    eks.call("GET", "/clusters/c1", None).await.assert_error(
        429,
        "ThrottlingException",
        "Rate exceeded",
    );
    eks.call("GET", "/clusters", None).await.ok();
    let counters = eks.admin("GET", "/_emulator/counters", json!({})).await;
    assert_eq!(counters["DescribeCluster"], 1);
    assert_eq!(counters["ListClusters"], 1);
    assert_eq!(counters["CreateCluster"], 1);
    assert_eq!(counters["errors"]["ThrottlingException"], 1);
    eks.admin("POST", "/_emulator/counters/reset", json!({}))
        .await;
    let counters = eks.admin("GET", "/_emulator/counters", json!({})).await;
    assert!(counters.get("DescribeCluster").is_none());
    assert_eq!(counters["errors"], json!({}));

    let f = eks.admin("GET", "/_emulator/faults", json!({})).await;
    assert_eq!(f["throttle_rate"], 1.0);
    eks.admin("POST", "/_emulator/faults", json!({})).await;
    eks.call("GET", "/clusters/c1", None).await.ok();
}

#[tokio::test]
async fn faults_5xx_are_json() {
    let eks = Eks::new().await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"error_5xx_rate": 1.0, "seed": 1}),
    )
    .await;
    for _ in 0..10 {
        let r = eks.call("GET", "/clusters", None).await;
        assert!(r.status.is_server_error(), "{r:?}");
        let code = r.error_type.as_deref().unwrap();
        assert!(
            code == "InternalFailure" || code == "ServiceUnavailableException",
            "{code}"
        );
        assert!(r.body["message"].is_string());
    }
}

#[tokio::test]
async fn faults_seeded_rates_are_reproducible() {
    let eks = Eks::new().await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        eks.admin(
            "POST",
            "/_emulator/faults",
            json!({"throttle_rate": 0.5, "seed": 42}),
        )
        .await;
        let mut outcomes = Vec::new();
        for _ in 0..30 {
            outcomes.push(eks.call("GET", "/clusters", None).await.status.as_u16());
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&429) && runs[0].contains(&200));
}

#[tokio::test]
async fn faults_latency() {
    let eks = Eks::new().await;
    eks.admin("POST", "/_emulator/faults", json!({"latency_ms": 100}))
        .await;
    let start = Instant::now();
    eks.call("GET", "/clusters", None).await.ok();
    assert!(start.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn faults_bad_config_is_refused() {
    let eks = Eks::new().await;
    let r = eks
        .call("POST", "/_emulator/faults", Some(json!({"throttle": 1})))
        .await;
    assert_eq!(r.status.as_u16(), 400);
    let r = eks
        .call(
            "POST",
            "/_emulator/faults",
            Some(json!({"throttle_rate": 3})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400);
}

#[tokio::test]
async fn reset_and_state() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    eks.association("c1", "ns", "sa", json!({})).await;
    let state = eks.admin("GET", "/_emulator/state", json!({})).await;
    let region = &state["regions"][0];
    assert_eq!(region["region"], "us-west-2");
    assert_eq!(region["account"], "123456789012");
    assert_eq!(region["clusters"][0]["name"], "c1");
    assert_eq!(
        region["associations"][0]["roleArn"],
        "arn:aws:iam::123456789012:role/app"
    );
    eks.admin("POST", "/_emulator/faults", json!({"throttle_rate": 1.0}))
        .await;
    eks.admin("POST", "/_emulator/reset", json!({})).await;
    let state = eks.admin("GET", "/_emulator/state", json!({})).await;
    assert_eq!(state["regions"], json!([]));
    let f = eks.admin("GET", "/_emulator/faults", json!({})).await;
    assert_eq!(f["throttle_rate"], 0.0);
    let counters = eks.admin("GET", "/_emulator/counters", json!({})).await;
    assert_eq!(counters, json!({"errors": {}}));
}

#[tokio::test]
async fn faults_lost_response_then_idempotent_retry() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"error_5xx_after_rate": 1.0, "operations": ["CreatePodIdentityAssociation"]}),
    )
    .await;
    let body = json!({"namespace": "n", "serviceAccount": "s",
        "roleArn": "arn:aws:iam::123456789012:role/x", "clientRequestToken": "tok"});
    let path = "/clusters/c1/pod-identity-associations";
    let r = eks.call("POST", path, Some(body.clone())).await;
    assert!(r.status.is_server_error(), "{r:?}");
    // The association exists although the client saw an error.
    let l = eks.call("GET", path, None).await.ok();
    assert_eq!(l["associations"].as_array().unwrap().len(), 1);
    eks.admin("POST", "/_emulator/faults", json!({})).await;
    let retry = eks.call("POST", path, Some(body)).await.ok();
    assert_eq!(
        retry["association"]["associationId"],
        l["associations"][0]["associationId"]
    );
}
