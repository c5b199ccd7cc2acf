//! The addon operations, their owned associations and the catalogue.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Eks, eventually};

async fn status(eks: &Eks, cluster: &str, addon: &str) -> Option<String> {
    let r = eks
        .call("GET", &format!("/clusters/{cluster}/addons/{addon}"), None)
        .await;
    if r.status.as_u16() == 404 {
        return None;
    }
    r.body["addon"]["status"].as_str().map(str::to_owned)
}

async fn wait_status(eks: &Eks, cluster: &str, addon: &str, want: Option<&str>) {
    eventually(Duration::from_secs(5), || async {
        status(eks, cluster, addon).await.as_deref() == want
    })
    .await;
}

#[tokio::test]
async fn addon_basic() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    let created = eks
        .op(
            "CreateAddon",
            "POST",
            "/clusters/c1/addons",
            Some(json!({"addonName": "eks-pod-identity-agent", "tags": {"t": "1"}})),
        )
        .await;
    let addon = &created["addon"];
    assert_eq!(addon["status"], "CREATING");
    assert_eq!(addon["addonVersion"], "v1.3.4-eksbuild.1");
    let arn = addon["addonArn"].as_str().unwrap();
    let rest = arn
        .strip_prefix("arn:aws:eks:us-west-2:123456789012:addon/c1/eks-pod-identity-agent/")
        .unwrap();
    assert!(uuid::Uuid::parse_str(rest).is_ok());
    assert_eq!(addon["podIdentityAssociations"], json!([]));
    wait_status(&eks, "c1", "eks-pod-identity-agent", Some("ACTIVE")).await;
    let d = eks
        .op(
            "DescribeAddon",
            "GET",
            "/clusters/c1/addons/eks-pod-identity-agent",
            None,
        )
        .await;
    assert_eq!(d["addon"]["tags"], json!({"t": "1"}));
    assert_eq!(d["addon"]["health"], json!({"issues": []}));
    let l = eks
        .op("ListAddons", "GET", "/clusters/c1/addons", None)
        .await;
    assert_eq!(l["addons"], json!(["eks-pod-identity-agent"]));

    let del = eks
        .op(
            "DeleteAddon",
            "DELETE",
            "/clusters/c1/addons/eks-pod-identity-agent",
            None,
        )
        .await;
    assert_eq!(del["addon"]["status"], "DELETING");
    wait_status(&eks, "c1", "eks-pod-identity-agent", None).await;
    eks.call("GET", "/clusters/c1/addons/eks-pod-identity-agent", None)
        .await
        .assert_error(
            404,
            "ResourceNotFoundException",
            "No addon: eks-pod-identity-agent found in cluster: c1",
        );
    let l: Value = eks
        .op("ListAddons", "GET", "/clusters/c1/addons", None)
        .await;
    assert_eq!(l["addons"], json!([]));
}
