//! The IAM checks of pod identity associations, against a real moto.

use serde_json::json;

use crate::support::{Eks, Moto, ec2_trust, pods_trust, pods_trust_without_tag_session};
use eks_emulator::{Config, Strict};

async fn eks_with_moto() -> (Eks, Moto) {
    let moto = Moto::start().await;
    let eks = eks_on(&moto, Strict::off()).await;
    (eks, moto)
}

async fn eks_on(moto: &Moto, strict: Strict) -> Eks {
    let eks = Eks::with_config(Config {
        iam_endpoint: Some(moto.endpoint.clone()),
        strict,
        ..Config::default()
    })
    .await;
    eks.cluster("c1").await;
    eks
}

const UNTRUSTED: &str = "Trust policy of the role provided is invalid";

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

/// F12, strict rule S4: a trust that allows pods.eks.amazonaws.com
/// `sts:AssumeRole` without `sts:TagSession` is refused in strict mode
/// with EKS's own text (create, update, and an addon's association), and
/// accepted in normal mode.
#[tokio::test]
async fn iam_trust_without_tag_session() {
    let moto = Moto::start().await;
    let half = moto
        .create_role("half", "/", &pods_trust_without_tag_session())
        .await;
    let full = moto.create_role("full", "/", &pods_trust()).await;

    let normal = eks_on(&moto, Strict::off()).await;
    create(&normal, "sa", &half).await.ok();

    let strict = eks_on(&moto, Strict::parse("S4").unwrap_or_default()).await;
    create(&strict, "sa", &half)
        .await
        .assert_error(400, "InvalidParameterException", UNTRUSTED);
    let a = create(&strict, "sa", &full).await.ok();
    let path = format!(
        "/clusters/c1/pod-identity-associations/{}",
        a["association"]["associationId"]
            .as_str()
            .unwrap_or_default()
    );
    strict
        .call("POST", &path, Some(json!({"roleArn": half})))
        .await
        .assert_error(400, "InvalidParameterException", UNTRUSTED);
    strict
        .call(
            "POST",
            "/clusters/c1/addons",
            Some(json!({"addonName": "vpc-cni", "podIdentityAssociations": [
                {"serviceAccount": "aws-node", "roleArn": half}]})),
        )
        .await
        .assert_error(400, "InvalidParameterException", UNTRUSTED);
}

/// F16, fault `trust_rewrite_delay_secs`: for that long after the emulator
/// first reads a rewritten trust, EKS judges the role by the previous
/// trust. A trust fixed to allow EKS is refused meanwhile, then accepted;
/// without the fault the fix counts at once.
#[tokio::test]
async fn iam_trust_rewrite_is_seen_late() {
    let (eks, moto) = eks_with_moto().await;
    let role = moto.create_role("fixed", "/", &ec2_trust()).await;
    create(&eks, "sa", &role)
        .await
        .assert_error(400, "InvalidParameterException", UNTRUSTED);
    moto.update_trust("fixed", &pods_trust()).await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"trust_rewrite_delay_secs": 1.0}),
    )
    .await;
    create(&eks, "sa", &role)
        .await
        .assert_error(400, "InvalidParameterException", UNTRUSTED);
    let (eks_ref, role_ref) = (&eks, role.as_str());
    crate::support::eventually(std::time::Duration::from_secs(10), || async move {
        let r = create(eks_ref, "sa", role_ref).await;
        if !r.status.is_success() {
            assert_eq!(r.body["message"], UNTRUSTED);
        }
        r.status.is_success()
    })
    .await;

    // A rewrite that takes EKS's trust away: the old (good) trust still
    // counts during the delay, then the role is refused.
    let other = moto.create_role("broken", "/", &pods_trust()).await;
    create(&eks, "sb", &other).await.ok();
    moto.update_trust("broken", &ec2_trust()).await;
    create(&eks, "sc", &other).await.ok();

    // Without the fault a fixed trust counts at once.
    eks.admin("POST", "/_emulator/faults", json!({})).await;
    let late = moto.create_role("late", "/", &ec2_trust()).await;
    create(&eks, "sd", &late)
        .await
        .assert_error(400, "InvalidParameterException", UNTRUSTED);
    moto.update_trust("late", &pods_trust()).await;
    create(&eks, "sd", &late).await.ok();
}
