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

const ROLE: &str = "arn:aws:iam::123456789012:role/cni";

async fn create_addon(eks: &Eks, cluster: &str, body: Value) -> Value {
    eks.op(
        "CreateAddon",
        "POST",
        &format!("/clusters/{cluster}/addons"),
        Some(body),
    )
    .await["addon"]
        .clone()
}

async fn owned(eks: &Eks, cluster: &str) -> Vec<Value> {
    let l = eks
        .op(
            "ListPodIdentityAssociations",
            "GET",
            &format!("/clusters/{cluster}/pod-identity-associations"),
            None,
        )
        .await;
    l["associations"].as_array().unwrap().clone()
}

#[tokio::test]
async fn addon_pod_identity_associations() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    let addon = create_addon(
        &eks,
        "c1",
        json!({"addonName": "vpc-cni", "podIdentityAssociations": [
            {"serviceAccount": "aws-node", "roleArn": ROLE}]}),
    )
    .await;
    let addon_arn = addon["addonArn"].as_str().unwrap().to_owned();
    let list = owned(&eks, "c1").await;
    assert_eq!(list.len(), 1);
    let summary = &list[0];
    assert_eq!(summary["namespace"], "kube-system");
    assert_eq!(summary["serviceAccount"], "aws-node");
    assert_eq!(summary["ownerArn"], addon_arn.as_str());
    assert_eq!(
        addon["podIdentityAssociations"],
        json!([summary["associationArn"]])
    );
    let id = summary["associationId"].as_str().unwrap().to_owned();
    let path = format!("/clusters/c1/pod-identity-associations/{id}");
    let d = eks
        .op("DescribePodIdentityAssociation", "GET", &path, None)
        .await;
    assert_eq!(d["association"]["ownerArn"], addon_arn.as_str());
    assert_eq!(d["association"]["roleArn"], ROLE);

    // Updating or deleting an owned association directly is allowed
    // (FACTS.md F6); it stays owned.
    let u = eks
        .op(
            "UpdatePodIdentityAssociation",
            "POST",
            &path,
            Some(json!({"roleArn": "arn:aws:iam::123456789012:role/direct"})),
        )
        .await;
    assert_eq!(u["association"]["ownerArn"], addon_arn.as_str());
    assert_eq!(
        u["association"]["roleArn"],
        "arn:aws:iam::123456789012:role/direct"
    );

    // Updating while CREATING is refused with the real text (FACTS.md F4).
    eks.call(
        "POST",
        "/clusters/c1/addons/vpc-cni/update",
        Some(json!({"podIdentityAssociations": []})),
    )
    .await
    .assert_error(
        409,
        "ResourceInUseException",
        "Addon vpc-cni cannot be updated as it is currently in CREATING state",
    );
    wait_status(&eks, "c1", "vpc-cni", Some("ACTIVE")).await;

    // A new role for the same service account keeps the association.
    let u = eks
        .op(
            "UpdateAddon",
            "POST",
            "/clusters/c1/addons/vpc-cni/update",
            Some(json!({"podIdentityAssociations": [
                {"serviceAccount": "aws-node", "roleArn": "arn:aws:iam::123456789012:role/cni2"}]})),
        )
        .await;
    let update = &u["update"];
    assert_eq!(update["status"], "InProgress");
    assert_eq!(update["type"], "AddonUpdate");
    assert_eq!(update["params"][0]["type"], "PodIdentityAssociations");
    assert_eq!(
        status(&eks, "c1", "vpc-cni").await.as_deref(),
        Some("UPDATING")
    );
    let d = eks
        .op("DescribePodIdentityAssociation", "GET", &path, None)
        .await;
    assert_eq!(
        d["association"]["roleArn"],
        "arn:aws:iam::123456789012:role/cni2"
    );
    wait_status(&eks, "c1", "vpc-cni", Some("ACTIVE")).await;
    let update_id = update["id"].as_str().unwrap();
    let du = eks
        .op(
            "DescribeUpdate",
            "GET",
            &format!("/clusters/c1/updates/{update_id}?addonName=vpc-cni"),
            None,
        )
        .await;
    assert_eq!(du["update"]["status"], "Successful");
    let lu = eks
        .op(
            "ListUpdates",
            "GET",
            "/clusters/c1/updates?addonName=vpc-cni",
            None,
        )
        .await;
    assert_eq!(lu["updateIds"], json!([update_id]));
    let r = eks
        .call(
            "GET",
            "/clusters/c1/updates/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!(r.error_type.as_deref(), Some("ResourceNotFoundException"));

    // Omitted = no change; version change keeps them.
    eks.op(
        "UpdateAddon",
        "POST",
        "/clusters/c1/addons/vpc-cni/update",
        Some(json!({"addonVersion": "v1.19.2-eksbuild.1", "configurationValues": "{\"env\":{}}"})),
    )
    .await;
    wait_status(&eks, "c1", "vpc-cni", Some("ACTIVE")).await;
    assert_eq!(owned(&eks, "c1").await.len(), 1);
    let d = eks
        .op("DescribeAddon", "GET", "/clusters/c1/addons/vpc-cni", None)
        .await;
    assert_eq!(d["addon"]["addonVersion"], "v1.19.2-eksbuild.1");
    assert_eq!(d["addon"]["configurationValues"], "{\"env\":{}}");

    // [] = delete all owned.
    eks.op(
        "UpdateAddon",
        "POST",
        "/clusters/c1/addons/vpc-cni/update",
        Some(json!({"podIdentityAssociations": []})),
    )
    .await;
    assert!(owned(&eks, "c1").await.is_empty());
    wait_status(&eks, "c1", "vpc-cni", Some("ACTIVE")).await;
    let d = eks
        .op("DescribeAddon", "GET", "/clusters/c1/addons/vpc-cni", None)
        .await;
    assert_eq!(d["addon"]["podIdentityAssociations"], json!([]));
}

#[tokio::test]
async fn addon_delete_removes_or_preserves_owned_associations() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    let pia = json!([{"serviceAccount": "ebs-csi-controller-sa", "roleArn": ROLE}]);
    create_addon(
        &eks,
        "c1",
        json!({"addonName": "aws-ebs-csi-driver", "podIdentityAssociations": pia}),
    )
    .await;
    wait_status(&eks, "c1", "aws-ebs-csi-driver", Some("ACTIVE")).await;
    eks.op(
        "DeleteAddon",
        "DELETE",
        "/clusters/c1/addons/aws-ebs-csi-driver",
        None,
    )
    .await;
    wait_status(&eks, "c1", "aws-ebs-csi-driver", None).await;
    assert!(owned(&eks, "c1").await.is_empty());

    create_addon(
        &eks,
        "c1",
        json!({"addonName": "aws-ebs-csi-driver", "podIdentityAssociations": pia}),
    )
    .await;
    wait_status(&eks, "c1", "aws-ebs-csi-driver", Some("ACTIVE")).await;
    eks.op(
        "DeleteAddon",
        "DELETE",
        "/clusters/c1/addons/aws-ebs-csi-driver?preserve=true",
        None,
    )
    .await;
    wait_status(&eks, "c1", "aws-ebs-csi-driver", None).await;
    let left = owned(&eks, "c1").await;
    assert_eq!(left.len(), 1);
    assert!(left[0].get("ownerArn").is_none());
}

#[tokio::test]
async fn addon_errors() {
    let eks = Eks::new().await;
    let r = eks
        .call(
            "POST",
            "/clusters/none/addons",
            Some(json!({"addonName": "vpc-cni"})),
        )
        .await;
    r.assert_error(
        404,
        "ResourceNotFoundException",
        "No cluster found for name: none.",
    );
    eks.cluster("c1").await;
    eks.op(
        "CreateCluster",
        "POST",
        "/clusters",
        Some(json!({"name": "old", "version": "1.29",
            "roleArn": "arn:aws:iam::123456789012:role/cluster", "resourcesVpcConfig": {}})),
    )
    .await;
    let post = |cluster: &'static str, body: Value| {
        let eks = &eks;
        async move {
            eks.call("POST", &format!("/clusters/{cluster}/addons"), Some(body))
                .await
        }
    };
    post("c1", json!({"addonName": "nope"})).await.assert_error(
        400,
        "InvalidParameterException",
        "Addon nope specified is not supported in 1.31 kubernetes version",
    );
    post(
        "c1",
        json!({"addonName": "vpc-cni", "addonVersion": "v9.9.9-eksbuild.1"}),
    )
    .await
    .assert_error(
        400,
        "InvalidParameterException",
        "Addon version specified is not supported",
    );
    // kube-proxy 1.32 does not run on 1.31.
    post(
        "c1",
        json!({"addonName": "kube-proxy", "addonVersion": "v1.32.0-eksbuild.2"}),
    )
    .await
    .assert_error(
        400,
        "InvalidParameterException",
        "Addon version specified is not supported",
    );
    post(
        "old",
        json!({"addonName": "vpc-cni", "addonVersion": "v1.15.1-eksbuild.1",
            "podIdentityAssociations": [{"serviceAccount": "aws-node", "roleArn": ROLE}]}),
    )
    .await
    .assert_error(
        400,
        "InvalidParameterException",
        "Pod Identity feature is not supported for addon version: v1.15.1-eksbuild.1",
    );
    post(
        "c1",
        json!({"addonName": "eks-pod-identity-agent",
            "podIdentityAssociations": [{"serviceAccount": "x", "roleArn": ROLE}]}),
    )
    .await
    .assert_error(
        400,
        "InvalidParameterException",
        "Pod Identity feature is not supported for addon version: v1.3.4-eksbuild.1",
    );
    post(
        "c1",
        json!({"addonName": "vpc-cni",
            "podIdentityAssociations": [{"serviceAccount": "default", "roleArn": ROLE}]}),
    )
    .await
    .assert_error(
        400,
        "InvalidParameterException",
        "Service account default in pod identity configuration is not supported for addon vpc-cni",
    );
    // A standalone association on the addon's service account blocks it.
    let a = eks
        .association("c1", "kube-system", "aws-node", json!({}))
        .await;
    post(
        "c1",
        json!({"addonName": "vpc-cni",
            "podIdentityAssociations": [{"serviceAccount": "aws-node", "roleArn": ROLE}]}),
    )
    .await
    .assert_error(
        409,
        "ResourceInUseException",
        &format!(
            "Association already exists: {}",
            a["associationId"].as_str().unwrap()
        ),
    );
    post("c1", json!({"addonName": "coredns"})).await.ok();
    post("c1", json!({"addonName": "coredns"}))
        .await
        .assert_error(409, "ResourceInUseException", "Addon already exists.");
    eks.call("DELETE", "/clusters/c1/addons/nope", None)
        .await
        .assert_error(
            404,
            "ResourceNotFoundException",
            "No addon: nope found in cluster: c1",
        );
    let r = eks
        .call("POST", "/clusters/c1/addons/nope/update", Some(json!({})))
        .await;
    assert_eq!(r.error_type.as_deref(), Some("ResourceNotFoundException"));
    // kube-proxy's default follows the cluster version.
    let kp = create_addon(&eks, "old", json!({"addonName": "kube-proxy"})).await;
    assert_eq!(kp["addonVersion"], "v1.29.10-eksbuild.3");
}

#[tokio::test]
async fn addon_namespace_and_idempotency() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    let body = json!({"addonName": "amazon-cloudwatch-observability",
        "clientRequestToken": "t1",
        "podIdentityAssociations": [{"serviceAccount": "cloudwatch-agent", "roleArn": ROLE}]});
    let first = create_addon(&eks, "c1", body.clone()).await;
    let again = create_addon(&eks, "c1", body).await;
    assert_eq!(first, again);
    let list = owned(&eks, "c1").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["namespace"], "amazon-cloudwatch");

    let custom = create_addon(
        &eks,
        "c1",
        json!({"addonName": "aws-efs-csi-driver", "namespaceConfig": {"namespace": "storage"},
            "podIdentityAssociations": [{"serviceAccount": "efs-csi-controller-sa", "roleArn": ROLE}]}),
    )
    .await;
    assert_eq!(custom["namespaceConfig"]["namespace"], "storage");
    let l = eks
        .op(
            "ListPodIdentityAssociations",
            "GET",
            "/clusters/c1/pod-identity-associations?namespace=storage",
            None,
        )
        .await;
    assert_eq!(
        l["associations"][0]["serviceAccount"],
        "efs-csi-controller-sa"
    );
}

#[tokio::test]
async fn addon_failure_fault() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"addon_transition_ms": 30,
            "addon_fail": {"addon_name": "vpc-cni", "status": "DEGRADED", "message": "aws-node pods crash"}}),
    )
    .await;
    create_addon(&eks, "c1", json!({"addonName": "vpc-cni"})).await;
    create_addon(&eks, "c1", json!({"addonName": "coredns"})).await;
    wait_status(&eks, "c1", "vpc-cni", Some("DEGRADED")).await;
    wait_status(&eks, "c1", "coredns", Some("ACTIVE")).await;
    let d = eks
        .op("DescribeAddon", "GET", "/clusters/c1/addons/vpc-cni", None)
        .await;
    assert_eq!(
        d["addon"]["health"]["issues"][0]["message"],
        "aws-node pods crash"
    );
    assert_eq!(
        d["addon"]["health"]["issues"][0]["code"],
        "InsufficientNumberOfReplicas"
    );

    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"addon_transition_ms": 30,
            "addon_fail": {"addon_name": "coredns", "status": "CREATE_FAILED"}}),
    )
    .await;
    let u = eks
        .op(
            "UpdateAddon",
            "POST",
            "/clusters/c1/addons/coredns/update",
            Some(json!({"addonVersion": "v1.11.4-eksbuild.2"})),
        )
        .await;
    wait_status(&eks, "c1", "coredns", Some("UPDATE_FAILED")).await;
    let du = eks
        .op(
            "DescribeUpdate",
            "GET",
            &format!(
                "/clusters/c1/updates/{}",
                u["update"]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(du["update"]["status"], "Failed");
    assert!(du["update"]["errors"][0]["errorMessage"].is_string());

    create_addon(&eks, "c1", json!({"addonName": "metrics-server"})).await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"addon_transition_ms": 30,
            "addon_fail": {"addon_name": "kube-proxy", "status": "CREATE_FAILED"}}),
    )
    .await;
    create_addon(&eks, "c1", json!({"addonName": "kube-proxy"})).await;
    wait_status(&eks, "c1", "kube-proxy", Some("CREATE_FAILED")).await;
}

#[tokio::test]
async fn addon_versions_and_configuration() {
    let eks = Eks::new().await;
    let v = eks
        .op(
            "DescribeAddonVersions",
            "GET",
            "/addons/supported-versions?kubernetesVersion=1.31&addonName=vpc-cni",
            None,
        )
        .await;
    let info = &v["addons"][0];
    assert_eq!(info["addonName"], "vpc-cni");
    assert_eq!(info["defaultNamespace"], "kube-system");
    let versions = info["addonVersions"].as_array().unwrap();
    assert!(versions.iter().all(|x| {
        x["compatibilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["clusterVersion"] == "1.31")
    }));
    let default: Vec<&Value> = versions
        .iter()
        .filter(|x| {
            x["compatibilities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["clusterVersion"] == "1.31" && c["defaultVersion"] == true)
        })
        .collect();
    assert_eq!(default.len(), 1);
    assert_eq!(default[0]["addonVersion"], "v1.19.0-eksbuild.1");
    assert_eq!(default[0]["requiresIamPermissions"], true);

    let all = eks
        .op(
            "DescribeAddonVersions",
            "GET",
            "/addons/supported-versions",
            None,
        )
        .await;
    assert_eq!(all["addons"].as_array().unwrap().len(), 8);
    let page = eks
        .op(
            "DescribeAddonVersions",
            "GET",
            "/addons/supported-versions?maxResults=3",
            None,
        )
        .await;
    assert_eq!(page["addons"].as_array().unwrap().len(), 3);
    let token = page["nextToken"].as_str().unwrap();
    let page2 = eks
        .op(
            "DescribeAddonVersions",
            "GET",
            &format!("/addons/supported-versions?maxResults=3&nextToken={token}"),
            None,
        )
        .await;
    assert_ne!(page["addons"][0], page2["addons"][0]);
    let community = eks
        .op(
            "DescribeAddonVersions",
            "GET",
            "/addons/supported-versions?owners=community",
            None,
        )
        .await;
    assert_eq!(community["addons"][0]["addonName"], "metrics-server");
    let storage = eks
        .op(
            "DescribeAddonVersions",
            "GET",
            "/addons/supported-versions?types=storage&types=security",
            None,
        )
        .await;
    assert_eq!(storage["addons"].as_array().unwrap().len(), 3);

    let c = eks
        .op(
            "DescribeAddonConfiguration",
            "GET",
            "/addons/configuration-schemas?addonName=vpc-cni&addonVersion=v1.19.0-eksbuild.1",
            None,
        )
        .await;
    assert_eq!(
        c["podIdentityConfiguration"][0]["serviceAccount"],
        "aws-node"
    );
    assert_eq!(
        c["podIdentityConfiguration"][0]["recommendedManagedPolicies"],
        json!(["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"])
    );
    // vpc-cni's published schema (FACTS.md F8), served as published.
    let schema: Value = serde_json::from_str(c["configurationSchema"].as_str().unwrap()).unwrap();
    assert_eq!(schema["$ref"], "#/definitions/VpcCni");
    assert!(
        c["configurationSchema"]
            .as_str()
            .unwrap()
            .starts_with(r##"{"$ref":"#/definitions/VpcCni","$schema":"##)
    );
    let old = eks
        .op(
            "DescribeAddonConfiguration",
            "GET",
            "/addons/configuration-schemas?addonName=vpc-cni&addonVersion=v1.15.1-eksbuild.1",
            None,
        )
        .await;
    assert_eq!(old["podIdentityConfiguration"], json!([]));
    let r = eks
        .call(
            "GET",
            "/addons/configuration-schemas?addonName=vpc-cni&addonVersion=v0",
            None,
        )
        .await;
    r.assert_error(
        400,
        "InvalidParameterException",
        "Addon version specified is not supported",
    );
    let r = eks
        .call(
            "GET",
            "/addons/configuration-schemas?addonName=nope&addonVersion=v0",
            None,
        )
        .await;
    assert_eq!(r.error_type.as_deref(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn addon_delete_overtakes_update() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    create_addon(&eks, "c1", json!({"addonName": "coredns"})).await;
    wait_status(&eks, "c1", "coredns", Some("ACTIVE")).await;
    let u = eks
        .op(
            "UpdateAddon",
            "POST",
            "/clusters/c1/addons/coredns/update",
            Some(json!({"configurationValues": "{\"replicaCount\": 3}"})),
        )
        .await;
    eks.op("DeleteAddon", "DELETE", "/clusters/c1/addons/coredns", None)
        .await;
    let du = eks
        .op(
            "DescribeUpdate",
            "GET",
            &format!(
                "/clusters/c1/updates/{}",
                u["update"]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(du["update"]["status"], "Cancelled");
    // Deleting again while DELETING answers the same.
    let again = eks
        .op("DeleteAddon", "DELETE", "/clusters/c1/addons/coredns", None)
        .await;
    assert_eq!(again["addon"]["status"], "DELETING");
    wait_status(&eks, "c1", "coredns", None).await;
}
