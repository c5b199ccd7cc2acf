//! TagResource, UntagResource, ListTagsForResource.

use serde_json::json;

use crate::support::Eks;

fn tags_path(arn: &str) -> String {
    format!(
        "/tags/{}",
        percent_encoding::utf8_percent_encode(arn, percent_encoding::NON_ALPHANUMERIC)
    )
}

#[tokio::test]
async fn tags_on_clusters_associations_and_addons() {
    let eks = Eks::new().await;
    let c = eks.cluster("c1").await;
    let a = eks
        .association("c1", "ns", "sa", json!({"tags": {"a": "1"}}))
        .await;
    let addon = eks
        .op(
            "CreateAddon",
            "POST",
            "/clusters/c1/addons",
            Some(json!({"addonName": "coredns"})),
        )
        .await;
    for arn in [
        c["arn"].as_str().unwrap(),
        a["associationArn"].as_str().unwrap(),
        addon["addon"]["addonArn"].as_str().unwrap(),
    ] {
        let path = tags_path(arn);
        eks.op(
            "TagResource",
            "POST",
            &path,
            Some(json!({"tags": {"k1": "v1", "k2": "v2"}})),
        )
        .await;
        let l = eks.op("ListTagsForResource", "GET", &path, None).await;
        assert_eq!(l["tags"]["k1"], "v1");
        assert_eq!(l["tags"]["k2"], "v2");
        eks.op(
            "UntagResource",
            "DELETE",
            &format!("{path}?tagKeys=k1&tagKeys=k2"),
            None,
        )
        .await;
        let l = eks.op("ListTagsForResource", "GET", &path, None).await;
        assert!(l["tags"].get("k1").is_none() && l["tags"].get("k2").is_none());
    }
    let d = eks
        .call(
            "GET",
            &format!(
                "/clusters/c1/pod-identity-associations/{}",
                a["associationId"].as_str().unwrap()
            ),
            None,
        )
        .await
        .ok();
    assert_eq!(d["association"]["tags"], json!({"a": "1"}));
}

#[tokio::test]
async fn tags_errors() {
    let eks = Eks::new().await;
    let r = eks.call("GET", "/tags/not-an-arn", None).await;
    assert_eq!(r.status.as_u16(), 400);
    assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
    let r = eks
        .call(
            "GET",
            &tags_path("arn:aws:eks:us-west-2:123456789012:cluster/none"),
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 404);
    assert_eq!(r.error_type.as_deref(), Some("NotFoundException"));
    let c = eks.cluster("c1").await;
    let path = tags_path(c["arn"].as_str().unwrap());
    let r = eks.call("DELETE", &path, None).await;
    assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
    let r = eks
        .call("POST", &path, Some(json!({"tags": {"aws:reserved": "x"}})))
        .await;
    assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
    // The ARN may also arrive with its slashes unencoded.
    let raw = format!("/tags/{}", c["arn"].as_str().unwrap());
    eks.call("GET", &raw, None).await.ok();
}

/// The `aws:` prefix is reserved for tag values as well as keys (the EKS
/// model's TagMap, FACTS.md F17): refused by TagResource and by a create's
/// `tags`, in any case.
#[tokio::test]
async fn tags_reserved_prefix_in_values() {
    let eks = Eks::new().await;
    let c = eks.cluster("c1").await;
    let path = tags_path(c["arn"].as_str().unwrap_or_default());
    for value in ["aws:x", "AWS:x", "Aws:"] {
        let r = eks
            .call("POST", &path, Some(json!({"tags": {"team": value}})))
            .await;
        assert_eq!(r.status.as_u16(), 400, "{value}: {r:?}");
        assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
    }
    let r = eks
        .call(
            "POST",
            "/clusters/c1/pod-identity-associations",
            Some(json!({"namespace": "ns", "serviceAccount": "sa",
                "roleArn": "arn:aws:iam::123456789012:role/app",
                "tags": {"team": "aws:platform"}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    assert_eq!(r.error_type.as_deref(), Some("InvalidParameterException"));
    // Not a prefix: fine.
    eks.call("POST", &path, Some(json!({"tags": {"team": "x-aws:y"}})))
        .await
        .ok();
}
