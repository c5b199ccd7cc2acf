//! CreateCluster, DescribeCluster, ListClusters, DeleteCluster.

use serde_json::json;

use crate::support::Eks;

#[tokio::test]
async fn cluster_basic() {
    let eks = Eks::new().await;
    let c = eks.cluster("c1").await;
    assert_eq!(c["name"], "c1");
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["version"], "1.31");
    assert_eq!(c["arn"], "arn:aws:eks:us-west-2:123456789012:cluster/c1");
    let issuer = c["identity"]["oidc"]["issuer"].as_str().unwrap();
    let id = issuer
        .strip_prefix("https://oidc.eks.us-west-2.amazonaws.com/id/")
        .unwrap();
    assert_eq!(id.len(), 32);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    );
    assert!(c["createdAt"].is_number());
    assert!(c["certificateAuthority"]["data"].as_str().unwrap().len() > 20);
    assert!(c.get("computeConfig").is_none());

    let d = eks.op("DescribeCluster", "GET", "/clusters/c1", None).await;
    assert_eq!(d["cluster"], c);

    let other = eks.cluster("c2").await;
    assert_ne!(other["identity"], c["identity"]);

    let l = eks.op("ListClusters", "GET", "/clusters", None).await;
    assert_eq!(l["clusters"], json!(["c1", "c2"]));

    let del = eks
        .op("DeleteCluster", "DELETE", "/clusters/c1", None)
        .await;
    assert_eq!(del["cluster"]["status"], "DELETING");
    eks.call("GET", "/clusters/c1", None).await.assert_error(
        404,
        "ResourceNotFoundException",
        "No cluster found for name: c1.",
    );
}

#[tokio::test]
async fn cluster_errors() {
    let eks = Eks::new().await;
    eks.call("DELETE", "/clusters/nope", None)
        .await
        .assert_error(
            404,
            "ResourceNotFoundException",
            "No cluster found for name: nope.",
        );
    eks.cluster("dup").await;
    let r = eks
        .call(
            "POST",
            "/clusters",
            Some(json!({"name": "dup", "roleArn": "arn:aws:iam::123456789012:role/x", "resourcesVpcConfig": {}})),
        )
        .await;
    r.assert_error(
        409,
        "ResourceInUseException",
        "Cluster already exists with name: dup",
    );
    let r = eks
        .call(
            "POST",
            "/clusters",
            Some(json!({"name": "-bad", "roleArn": "arn:aws:iam::123456789012:role/x", "resourcesVpcConfig": {}})),
        )
        .await;
    assert_eq!(r.error_type.as_deref(), Some("InvalidParameterException"));
    let r = eks
        .call(
            "POST",
            "/clusters",
            Some(json!({"name": "v", "version": "1.10", "roleArn": "arn:aws:iam::123456789012:role/x", "resourcesVpcConfig": {}})),
        )
        .await;
    assert_eq!(r.error_type.as_deref(), Some("InvalidParameterException"));
    let r = eks.call("PUT", "/clusters", None).await;
    assert_eq!(r.status.as_u16(), 404);
    assert_eq!(r.error_type.as_deref(), Some("UnknownOperationException"));
}

#[tokio::test]
async fn cluster_auto_mode_and_ipv6() {
    let eks = Eks::new().await;
    let c = eks
        .op(
            "CreateCluster",
            "POST",
            "/clusters",
            Some(json!({
                "name": "auto",
                "version": "1.32",
                "roleArn": "arn:aws:iam::123456789012:role/cluster",
                "resourcesVpcConfig": {},
                "computeConfig": {"enabled": true, "nodePools": ["general-purpose"]},
                "kubernetesNetworkConfig": {"ipFamily": "ipv6"},
            })),
        )
        .await;
    assert_eq!(c["cluster"]["computeConfig"]["enabled"], true);
    assert_eq!(c["cluster"]["kubernetesNetworkConfig"]["ipFamily"], "ipv6");
    assert_eq!(c["cluster"]["version"], "1.32");
}

#[tokio::test]
async fn cluster_list_pagination_and_regions() {
    let mut eks = Eks::new().await;
    for i in 0..5 {
        eks.cluster(&format!("p{i}")).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/clusters?maxResults=2&nextToken={t}"),
            None => "/clusters?maxResults=2".to_owned(),
        };
        let page = eks.op("ListClusters", "GET", &path, None).await;
        for c in page["clusters"].as_array().unwrap() {
            seen.push(c.as_str().unwrap().to_owned());
        }
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["p0", "p1", "p2", "p3", "p4"]);
    let r = eks.call("GET", "/clusters?maxResults=0", None).await;
    assert_eq!(r.error_type.as_deref(), Some("InvalidParameterException"));
    let r = eks.call("GET", "/clusters?maxResults=101", None).await;
    assert_eq!(r.error_type.as_deref(), Some("InvalidParameterException"));

    eks.region = "eu-west-1".to_owned();
    let l = eks.op("ListClusters", "GET", "/clusters", None).await;
    assert_eq!(l["clusters"], json!([]));
}

#[tokio::test]
async fn cluster_creating_fault() {
    let eks = Eks::new().await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"cluster_creating_ms": 200}),
    )
    .await;
    let c = eks.cluster("slow").await;
    assert_eq!(c["status"], "CREATING");
    let body = json!({"namespace": "n", "serviceAccount": "s",
        "roleArn": "arn:aws:iam::123456789012:role/x"});
    eks.call(
        "POST",
        "/clusters/slow/pod-identity-associations",
        Some(body.clone()),
    )
    .await
    .assert_error(
        400,
        "InvalidRequestException",
        "Cluster 'slow' is not in ACTIVE status",
    );
    eks.call(
        "POST",
        "/clusters/slow/addons",
        Some(json!({"addonName": "coredns"})),
    )
    .await
    .assert_error(
        400,
        "InvalidRequestException",
        "Cluster 'slow' is not in ACTIVE status",
    );
    let eks_ref = &eks;
    crate::support::eventually(std::time::Duration::from_secs(5), || async move {
        let d = eks_ref
            .op("DescribeCluster", "GET", "/clusters/slow", None)
            .await;
        d["cluster"]["status"] == "ACTIVE"
    })
    .await;
    eks.call(
        "POST",
        "/clusters/slow/pod-identity-associations",
        Some(body),
    )
    .await
    .ok();
}

/// FACTS.md F13: ARNs are made in the partition of the request's region
/// (cluster, association and addon), and the tagging API takes them back.
#[tokio::test]
async fn clusters_arns_in_the_partition_of_the_region() {
    for (region, partition) in [
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("eusc-de-east-1", "aws-eusc"),
        ("us-west-2", "aws"),
    ] {
        let mut eks = Eks::new().await;
        eks.region = region.to_owned();
        let c = eks.cluster("c1").await;
        let prefix = format!("arn:{partition}:eks:{region}:123456789012:");
        assert_eq!(c["arn"], format!("{prefix}cluster/c1"));
        let a = eks.association("c1", "ns", "sa", json!({})).await;
        let arn = a["associationArn"].as_str().unwrap_or_default();
        assert!(
            arn.starts_with(&format!("{prefix}podidentityassociation/c1/")),
            "{arn}"
        );
        let encoded =
            percent_encoding::utf8_percent_encode(arn, percent_encoding::NON_ALPHANUMERIC);
        eks.call("GET", &format!("/tags/{encoded}"), None)
            .await
            .ok();
        let addon = eks
            .op(
                "CreateAddon",
                "POST",
                "/clusters/c1/addons",
                Some(json!({"addonName": "kube-proxy"})),
            )
            .await;
        let addon_arn = addon["addon"]["addonArn"].as_str().unwrap_or_default();
        assert!(
            addon_arn.starts_with(&format!("{prefix}addon/c1/kube-proxy/")),
            "{addon_arn}"
        );
    }
}
