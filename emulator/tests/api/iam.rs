//! The IAM checks of pod identity associations, against a real moto.

use serde_json::json;

use crate::support::{Eks, Moto, ec2_trust, pods_trust};
use eks_emulator::Config;

async fn eks_with_moto() -> (Eks, Moto) {
    let moto = Moto::start().await;
    let eks = Eks::with_config(Config {
        iam_endpoint: Some(moto.endpoint.clone()),
        ..Config::default()
    })
    .await;
    eks.cluster("c1").await;
    (eks, moto)
}

async fn create(eks: &Eks, sa: &str, role: &str) -> crate::support::Reply {
    eks.call(
        "POST",
        "/clusters/c1/pod-identity-associations",
        Some(json!({"namespace": "ns", "serviceAccount": sa, "roleArn": role})),
    )
    .await
}

#[tokio::test]
async fn iam_role_checks() {
    let (eks, moto) = eks_with_moto().await;
    let trusted = moto.create_role("trusted", "/", &pods_trust()).await;
    let with_path = moto
        .create_role("pathed", "/some/path/", &pods_trust())
        .await;
    assert_eq!(with_path, "arn:aws:iam::123456789012:role/some/path/pathed");
    let untrusted = moto.create_role("untrusted", "/", &ec2_trust()).await;

    let a = create(&eks, "ok", &trusted).await.ok();
    assert_eq!(a["association"]["roleArn"], trusted.as_str());
    create(&eks, "pathed", &with_path).await.ok();
    create(&eks, "bad", &untrusted).await.assert_error(
        400,
        "InvalidParameterException",
        "Trust policy of the role provided is invalid",
    );
    create(&eks, "missing", "arn:aws:iam::123456789012:role/nope")
        .await
        .assert_error(
            400,
            "InvalidParameterException",
            "Role provided in the request does not exist",
        );
    // Right name, wrong path: another ARN.
    create(&eks, "wrongpath", "arn:aws:iam::123456789012:role/pathed")
        .await
        .assert_error(
            400,
            "InvalidParameterException",
            "Role provided in the request does not exist",
        );
    // Another account's role cannot be passed (FACTS.md F3), at once.
    create(&eks, "x", "arn:aws:iam::210987654321:role/trusted")
        .await
        .assert_error(
            403,
            "AccessDeniedException",
            "Cross-account pass role is not allowed.",
        );

    // Update checks the new role too.
    let path = format!(
        "/clusters/c1/pod-identity-associations/{}",
        a["association"]["associationId"].as_str().unwrap()
    );
    eks.call("POST", &path, Some(json!({"roleArn": untrusted})))
        .await
        .assert_error(
            400,
            "InvalidParameterException",
            "Trust policy of the role provided is invalid",
        );
    eks.call("POST", &path, Some(json!({"roleArn": with_path})))
        .await
        .ok();
}

#[tokio::test]
async fn iam_propagation_delay() {
    let (eks, moto) = eks_with_moto().await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"iam_propagation_delay_secs": 1.5}),
    )
    .await;
    let role = moto.create_role("fresh", "/", &pods_trust()).await;
    create(&eks, "sa", &role).await.assert_error(
        400,
        "InvalidParameterException",
        "Role provided in the request does not exist",
    );
    // Polled with a deadline instead of sleeping past the delay: only the
    // "not yet visible" refusal may come before success.
    let (eks, role) = (&eks, role.as_str());
    crate::support::eventually(std::time::Duration::from_secs(10), || async move {
        let r = create(eks, "sa", role).await;
        if !r.status.is_success() {
            assert_eq!(
                r.body["message"],
                "Role provided in the request does not exist"
            );
        }
        r.status.is_success()
    })
    .await;
}

#[tokio::test]
async fn iam_unreachable_is_a_server_error() {
    let eks = Eks::with_config(Config {
        iam_endpoint: Some("http://127.0.0.1:9".to_owned()),
        ..Config::default()
    })
    .await;
    eks.cluster("c1").await;
    let r = create(&eks, "sa", "arn:aws:iam::123456789012:role/x").await;
    assert_eq!(r.status.as_u16(), 500);
    assert_eq!(r.error_type.as_deref(), Some("ServerException"));
}

#[tokio::test]
async fn iam_addon_associations_are_checked() {
    let (eks, moto) = eks_with_moto().await;
    let trusted = moto.create_role("cni", "/", &pods_trust()).await;
    let untrusted = moto.create_role("cni-ec2", "/", &ec2_trust()).await;
    let r = eks
        .call(
            "POST",
            "/clusters/c1/addons",
            Some(json!({"addonName": "vpc-cni", "podIdentityAssociations": [
                {"serviceAccount": "aws-node", "roleArn": untrusted}]})),
        )
        .await;
    r.assert_error(
        400,
        "InvalidParameterException",
        "Trust policy of the role provided is invalid",
    );
    // Nothing was created by the refused call.
    let r = eks.call("GET", "/clusters/c1/addons/vpc-cni", None).await;
    assert_eq!(r.status.as_u16(), 404);
    eks.call(
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "vpc-cni", "podIdentityAssociations": [
            {"serviceAccount": "aws-node", "roleArn": trusted}]})),
    )
    .await
    .ok();
}
