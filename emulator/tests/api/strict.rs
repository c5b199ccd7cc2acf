//! Strict mode (FACTS.md, "Strict mode"): what AWS may refuse where its
//! documentation is silent is refused, and each rule is checked against
//! the normal mode that accepts it. Also the external ID rules (F11) of
//! both modes.

use serde_json::{Value, json};

use eks_emulator::{Config, Strict};

use crate::support::{Eks, Reply};

const ROLE: &str = "arn:aws:iam::123456789012:role/app";
const ROLE2: &str = "arn:aws:iam::123456789012:role/app2";
const TARGET: &str = "arn:aws:iam::210987654321:role/target";
const TARGET2: &str = "arn:aws:iam::210987654321:role/target2";

async fn eks(strict: bool) -> Eks {
    eks_with(if strict { Strict::all() } else { Strict::off() }).await
}

async fn eks_with(strict: Strict) -> Eks {
    let eks = Eks::with_config(Config {
        strict,
        ..Config::default()
    })
    .await;
    eks.cluster("c1").await;
    eks
}

async fn update(eks: &Eks, association: &Value, body: Value) -> Reply {
    let id = association["associationId"].as_str().unwrap_or_default();
    eks.call(
        "POST",
        &format!("/clusters/c1/pod-identity-associations/{id}"),
        Some(body),
    )
    .await
}

#[track_caller]
fn assert_strict(r: &Reply, rule: &str) {
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    assert_eq!(r.error_type.as_deref(), Some("InvalidParameterException"));
    let m = r.body["message"].as_str().unwrap_or_default();
    assert!(
        m.starts_with(&format!("[eks-emulator strict mode, rule {rule}]")),
        "{m}"
    );
}

/// S1: UpdatePodIdentityAssociation without roleArn.
#[tokio::test]
async fn strict_s1_update_without_role_arn() {
    let body = json!({"disableSessionTags": true});
    let normal = eks(false).await;
    let a = normal.association("c1", "ns", "sa", json!({})).await;
    let r = update(&normal, &a, body.clone()).await.ok();
    assert_eq!(r["association"]["roleArn"], ROLE, "normal: role kept");

    let strict = eks(true).await;
    let a = strict.association("c1", "ns", "sa", json!({})).await;
    assert_strict(&update(&strict, &a, body).await, "S1");
    let r = update(
        &strict,
        &a,
        json!({"roleArn": ROLE, "disableSessionTags": true}),
    )
    .await
    .ok();
    assert_eq!(r["association"]["disableSessionTags"], true);
}

/// S2: `policy: ""` to clear the session policy.
#[tokio::test]
async fn strict_s2_empty_policy() {
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let extra = json!({"disableSessionTags": true, "policy": policy});
    let clear = json!({"roleArn": ROLE, "policy": ""});

    let normal = eks(false).await;
    let a = normal.association("c1", "ns", "sa", extra.clone()).await;
    let r = update(&normal, &a, clear.clone()).await.ok();
    assert!(r["association"].get("policy").is_none(), "normal: cleared");

    let strict = eks(true).await;
    let a = strict.association("c1", "ns", "sa", extra).await;
    assert_strict(&update(&strict, &a, clear).await, "S2");
}

/// S3: an update that changes nothing.
#[tokio::test]
async fn strict_s3_update_changing_nothing() {
    let normal = eks(false).await;
    let a = normal.association("c1", "ns", "sa", json!({})).await;
    update(&normal, &a, json!({"roleArn": ROLE})).await.ok();

    let strict = eks(true).await;
    let a = strict.association("c1", "ns", "sa", json!({})).await;
    assert_strict(&update(&strict, &a, json!({"roleArn": ROLE})).await, "S3");
    assert_strict(
        &update(
            &strict,
            &a,
            json!({"roleArn": ROLE, "targetRoleArn": "", "disableSessionTags": false}),
        )
        .await,
        "S3",
    );
    update(&strict, &a, json!({"roleArn": ROLE2})).await.ok();
}

/// F11, normal mode: externalId only with a target role, kept when the
/// target changes, gone when it is cleared.
#[tokio::test]
async fn external_id_normal_mode() {
    let eks = eks(false).await;
    let a = eks.association("c1", "ns", "sa", json!({})).await;
    assert!(a.get("externalId").is_none());
    let r = update(&eks, &a, json!({"roleArn": ROLE, "targetRoleArn": TARGET}))
        .await
        .ok();
    let first = r["association"]["externalId"].clone();
    assert!(first.is_string());
    let r = update(&eks, &a, json!({"roleArn": ROLE, "targetRoleArn": TARGET2}))
        .await
        .ok();
    assert_eq!(r["association"]["externalId"], first);
    let r = update(&eks, &a, json!({"roleArn": ROLE, "targetRoleArn": ""}))
        .await
        .ok();
    assert!(r["association"].get("externalId").is_none());
    assert!(r["association"].get("targetRoleArn").is_none());
}

/// F11, strict mode: externalId from creation on, a new one for a new
/// target role, kept when the target is cleared.
#[tokio::test]
async fn external_id_strict_mode() {
    let eks = eks(true).await;
    let a = eks.association("c1", "ns", "sa", json!({})).await;
    let created = a["externalId"].clone();
    assert!(created.is_string(), "{a}");
    let r = update(&eks, &a, json!({"roleArn": ROLE, "targetRoleArn": TARGET}))
        .await
        .ok();
    let first = r["association"]["externalId"].clone();
    assert!(first.is_string());
    assert_ne!(first, created);
    let r = update(&eks, &a, json!({"roleArn": ROLE, "targetRoleArn": TARGET2}))
        .await
        .ok();
    let second = r["association"]["externalId"].clone();
    assert_ne!(second, first);
    let r = update(&eks, &a, json!({"roleArn": ROLE, "targetRoleArn": ""}))
        .await
        .ok();
    assert_eq!(r["association"]["externalId"], second);
    assert!(r["association"].get("targetRoleArn").is_none());
}

/// One rule at a time: `S1` alone refuses S1 only; the rest is normal mode.
#[tokio::test]
async fn strict_rules_one_at_a_time() {
    let eks = eks_with(Strict::parse("S1").unwrap()).await;
    let a = eks.association("c1", "ns", "sa", json!({})).await;
    assert!(a.get("externalId").is_none(), "X1 is off");
    assert_strict(
        &update(&eks, &a, json!({"disableSessionTags": true})).await,
        "S1",
    );
    update(&eks, &a, json!({"roleArn": ROLE})).await.ok();

    let eks = eks_with(Strict::parse("X1").unwrap()).await;
    let a = eks.association("c1", "ns", "sa", json!({})).await;
    assert!(a["externalId"].is_string(), "X1 is on");
    update(&eks, &a, json!({"disableSessionTags": true}))
        .await
        .ok();
}

/// X2 (F14): tag calls move an association's `modifiedAt` in strict mode
/// only; Update… moves it in both.
#[tokio::test]
async fn strict_x2_tag_calls_move_modified_at() {
    for strict in [false, true] {
        let eks = eks(strict).await;
        let a = eks.association("c1", "ns", "sa", json!({})).await;
        let id = a["associationId"].as_str().unwrap_or_default().to_string();
        let arn = a["associationArn"].as_str().unwrap_or_default().to_string();
        let before = a["modifiedAt"].as_f64().unwrap_or_default();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        eks.call(
            "POST",
            &format!(
                "/tags/{}",
                percent_encoding::utf8_percent_encode(&arn, percent_encoding::NON_ALPHANUMERIC)
            ),
            Some(json!({"tags": {"k": "v"}})),
        )
        .await
        .ok();
        let now = eks
            .call(
                "GET",
                &format!("/clusters/c1/pod-identity-associations/{id}"),
                None,
            )
            .await
            .ok()["association"]["modifiedAt"]
            .as_f64()
            .unwrap_or_default();
        assert_eq!(now > before, strict, "strict={strict}: {before} -> {now}");
    }
}

/// S5 (F10): a session policy over 2,048 characters (the STS limit; EKS
/// documents none) is refused in strict mode only.
#[tokio::test]
async fn strict_s5_session_policy_over_2048_characters() {
    let statement =
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/key"}"#;
    let statements = vec![statement; 40].join(",");
    let policy = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    assert!(policy.len() > 2048, "{}", policy.len());
    let body = json!({"disableSessionTags": true, "policy": policy});
    let normal = eks(false).await;
    normal.association("c1", "ns", "sa", body.clone()).await;

    let strict = eks(true).await;
    let r = strict
        .call(
            "POST",
            "/clusters/c1/pod-identity-associations",
            Some(
                json!({"namespace": "ns", "serviceAccount": "sa", "roleArn": ROLE,
                "disableSessionTags": true, "policy": policy}),
            ),
        )
        .await;
    assert_strict(&r, "S5");
    let a = strict.association("c1", "ns", "sa", json!({})).await;
    assert_strict(
        &update(
            &strict,
            &a,
            json!({"roleArn": ROLE2, "disableSessionTags": true, "policy": policy}),
        )
        .await,
        "S5",
    );
}

/// S6 (F15): an association ID that is not 19 characters long is refused
/// before the look-up in strict mode; normal mode finds nothing (404).
#[tokio::test]
async fn strict_s6_association_id_length() {
    let strict = eks(true).await;
    for method in ["GET", "POST", "DELETE"] {
        let r = strict
            .call(
                method,
                "/clusters/c1/pod-identity-associations/a-short",
                Some(json!({"roleArn": ROLE})),
            )
            .await;
        assert_strict(&r, "S6");
    }
    let normal = eks(false).await;
    let r = normal
        .call(
            "GET",
            "/clusters/c1/pod-identity-associations/a-short",
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 404, "{r:?}");
}
