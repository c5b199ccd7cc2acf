//! AWS behaviours the emulator once believed otherwise (issue 13), each
//! named after the FACTS.md entry it checks: the IRSA role of UpdateAddon,
//! DEGRADED addons, the 409 text, direct changes of addon-owned
//! associations, the association quota, cross-account roles and
//! configurationValues against the served schema.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Eks, eventually};

const IRSA_ROLE: &str = "arn:aws:iam::123456789012:role/irsa-cni";
const FOREIGN_ROLE: &str = "arn:aws:iam::210987654321:role/irsa-cni";
const CROSS_ACCOUNT: &str = "Cross-account pass role is not allowed.";

async fn describe_addon(eks: &Eks, addon: &str) -> Value {
    eks.op(
        "DescribeAddon",
        "GET",
        &format!("/clusters/c1/addons/{addon}"),
        None,
    )
    .await["addon"]
        .clone()
}

async fn wait_for(eks: &Eks, addon: &str, status: &str) -> Value {
    eventually(Duration::from_secs(5), || async move {
        describe_addon(eks, addon).await["status"] == status
    })
    .await;
    describe_addon(eks, addon).await
}

async fn update(eks: &Eks, addon: &str, body: Value) -> Value {
    eks.op(
        "UpdateAddon",
        "POST",
        &format!("/clusters/c1/addons/{addon}/update"),
        Some(body),
    )
    .await["update"]
        .clone()
}

async fn update_status(eks: &Eks, addon: &str, id: &str) -> String {
    let u = eks
        .op(
            "DescribeUpdate",
            "GET",
            &format!("/clusters/c1/updates/{id}?addonName={addon}"),
            None,
        )
        .await;
    u["update"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn setup(eks: &Eks, addon: &str, extra: Value) -> Value {
    eks.cluster("c1").await;
    let mut body = json!({"addonName": addon});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    eks.op("CreateAddon", "POST", "/clusters/c1/addons", Some(body))
        .await;
    wait_for(eks, addon, "ACTIVE").await
}

/// F1: an UpdateAddon without serviceAccountRoleArn drops the IRSA role
/// (the addon falls back to the node role); re-sending it keeps it.
#[tokio::test]
async fn f1_update_addon_without_role_falls_back_to_node_role() {
    let eks = Eks::new().await;
    let a = setup(&eks, "vpc-cni", json!({"serviceAccountRoleArn": IRSA_ROLE})).await;
    assert_eq!(a["serviceAccountRoleArn"], IRSA_ROLE);

    update(
        &eks,
        "vpc-cni",
        json!({"addonVersion": "v1.19.2-eksbuild.1", "serviceAccountRoleArn": IRSA_ROLE}),
    )
    .await;
    let a = wait_for(&eks, "vpc-cni", "ACTIVE").await;
    assert_eq!(a["serviceAccountRoleArn"], IRSA_ROLE, "re-sent: kept");

    let u = update(&eks, "vpc-cni", json!({"configurationValues": "{}"})).await;
    let params: Vec<&str> = u["params"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["type"].as_str())
        .collect();
    assert!(!params.contains(&"ServiceAccountRoleArn"), "{params:?}");
    let a = wait_for(&eks, "vpc-cni", "ACTIVE").await;
    assert!(
        a.get("serviceAccountRoleArn").is_none(),
        "left out: the node role from now on: {a}"
    );
}

/// F2, F3: serviceAccountRoleArn "" and a role of another account are
/// refused at once with AccessDeniedException; nothing changes.
#[tokio::test]
async fn f2_f3_empty_or_foreign_service_account_role_is_refused() {
    let eks = Eks::new().await;
    setup(&eks, "vpc-cni", json!({"serviceAccountRoleArn": IRSA_ROLE})).await;
    for role in ["", FOREIGN_ROLE] {
        eks.call(
            "POST",
            "/clusters/c1/addons/vpc-cni/update",
            Some(json!({"serviceAccountRoleArn": role})),
        )
        .await
        .assert_error(403, "AccessDeniedException", CROSS_ACCOUNT);
    }
    let a = describe_addon(&eks, "vpc-cni").await;
    assert_eq!(a["status"], "ACTIVE");
    assert_eq!(a["serviceAccountRoleArn"], IRSA_ROLE);
    for role in ["", FOREIGN_ROLE] {
        eks.call(
            "POST",
            "/clusters/c1/addons",
            Some(json!({"addonName": "aws-ebs-csi-driver", "serviceAccountRoleArn": role})),
        )
        .await
        .assert_error(403, "AccessDeniedException", CROSS_ACCOUNT);
    }
    // Pod identity roles too, without any IAM endpoint configured.
    eks.call(
        "POST",
        "/clusters/c1/pod-identity-associations",
        Some(json!({"namespace": "ns", "serviceAccount": "sa", "roleArn": FOREIGN_ROLE})),
    )
    .await
    .assert_error(403, "AccessDeniedException", CROSS_ACCOUNT);
    eks.call(
        "POST",
        "/clusters/c1/addons/vpc-cni/update",
        Some(json!({"podIdentityAssociations": [
            {"serviceAccount": "aws-node", "roleArn": FOREIGN_ROLE}]})),
    )
    .await
    .assert_error(403, "AccessDeniedException", CROSS_ACCOUNT);
}

/// F4: UpdateAddon while an update runs: 409 with the real text.
#[tokio::test]
async fn f4_update_addon_while_updating_is_in_use() {
    let eks = Eks::new().await;
    setup(&eks, "coredns", json!({})).await;
    update(&eks, "coredns", json!({"configurationValues": "{}"})).await;
    eks.call(
        "POST",
        "/clusters/c1/addons/coredns/update",
        Some(json!({"configurationValues": "{}"})),
    )
    .await
    .assert_error(
        409,
        "ResourceInUseException",
        "Addon coredns cannot be updated as it is currently in UPDATING state",
    );
}

/// F5: a lasting health issue: the create ends DEGRADED, updates still
/// succeed (the Update is Successful) and the addon stays DEGRADED until
/// the cause goes away.
#[tokio::test]
async fn f5_degraded_addon_independent_of_updates() {
    let eks = Eks::new().await;
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"addon_transition_ms": 50, "addon_degraded": [{"addon_name": "coredns"}]}),
    )
    .await;
    eks.cluster("c1").await;
    eks.op(
        "CreateAddon",
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "coredns"})),
    )
    .await;
    let a = wait_for(&eks, "coredns", "DEGRADED").await;
    assert_eq!(
        a["health"]["issues"],
        json!([{
            "code": "InsufficientNumberOfReplicas",
            "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
            "resourceIds": [],
        }])
    );
    // Another addon of the cluster is not affected.
    eks.op(
        "CreateAddon",
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "kube-proxy"})),
    )
    .await;
    wait_for(&eks, "kube-proxy", "ACTIVE").await;

    // A DEGRADED addon can be updated, and the update succeeds.
    let u = update(&eks, "coredns", json!({"configurationValues": "{}"})).await;
    let id = u["id"].as_str().unwrap().to_owned();
    let (eks_ref, id_ref) = (&eks, id.as_str());
    eventually(Duration::from_secs(5), || async move {
        update_status(eks_ref, "coredns", id_ref).await == "Successful"
    })
    .await;
    let a = wait_for(&eks, "coredns", "DEGRADED").await;
    assert_eq!(a["configurationValues"], "{}");

    // The cause goes away: ACTIVE, no issues.
    eks.admin(
        "POST",
        "/_emulator/faults",
        json!({"addon_transition_ms": 50}),
    )
    .await;
    let a = wait_for(&eks, "coredns", "ACTIVE").await;
    assert_eq!(a["health"]["issues"], json!([]));
}

/// F6: an addon-owned association can be deleted directly; the addon no
/// longer lists it.
#[tokio::test]
async fn f6_owned_association_deleted_directly() {
    let eks = Eks::new().await;
    let a = setup(
        &eks,
        "vpc-cni",
        json!({"podIdentityAssociations": [
            {"serviceAccount": "aws-node", "roleArn": "arn:aws:iam::123456789012:role/cni"}]}),
    )
    .await;
    let arn = a["podIdentityAssociations"][0].as_str().unwrap().to_owned();
    let id = arn.rsplit('/').next().unwrap();
    let d = eks
        .op(
            "DeletePodIdentityAssociation",
            "DELETE",
            &format!("/clusters/c1/pod-identity-associations/{id}"),
            None,
        )
        .await;
    assert_eq!(d["association"]["ownerArn"], a["addonArn"]);
    let a = describe_addon(&eks, "vpc-cni").await;
    assert_eq!(a["podIdentityAssociations"], json!([]));
}

/// F7: 5,000 associations per cluster (the current User Guide; the older
/// quotas page said 1,000), then ResourceLimitExceededException; another
/// cluster has its own quota.
#[tokio::test]
async fn f7_association_quota_is_5000_per_cluster() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    eks.cluster("c2").await;
    for i in 0..5000 {
        let body = json!({"namespace": "ns", "serviceAccount": format!("sa-{i}"),
            "roleArn": "arn:aws:iam::123456789012:role/app"});
        let r = eks
            .call("POST", "/clusters/c1/pod-identity-associations", Some(body))
            .await;
        assert!(r.status.is_success(), "{i}: {r:?}");
    }
    let body = json!({"namespace": "ns", "serviceAccount": "one-more",
        "roleArn": "arn:aws:iam::123456789012:role/app"});
    let r = eks
        .call(
            "POST",
            "/clusters/c1/pod-identity-associations",
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{r:?}");
    assert_eq!(
        r.error_type.as_deref(),
        Some("ResourceLimitExceededException")
    );
    assert_eq!(
        r.body["message"],
        "Cluster c1 already has the maximum of 5000 pod identity associations"
    );
    eks.call("POST", "/clusters/c2/pod-identity-associations", Some(body))
        .await
        .ok();
}

/// F8: configurationValues are validated against the schema
/// DescribeAddonConfiguration serves, on create and update (YAML passes
/// unchecked).
#[tokio::test]
async fn f8_configuration_values_follow_the_served_schema() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    let conf = eks
        .op(
            "DescribeAddonConfiguration",
            "GET",
            "/addons/configuration-schemas?addonName=vpc-cni&addonVersion=v1.19.2-eksbuild.1",
            None,
        )
        .await;
    let schema: Value =
        serde_json::from_str(conf["configurationSchema"].as_str().unwrap()).unwrap();
    // The published vpc-cni schema (FACTS.md F8): the top level and `env`
    // are closed objects, reached through `$ref`s.
    assert_eq!(schema["$ref"], "#/definitions/VpcCni");
    assert_eq!(
        schema["definitions"]["VpcCni"]["additionalProperties"],
        false
    );
    assert_eq!(schema["definitions"]["Env"]["additionalProperties"], false);

    eks.call(
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "vpc-cni", "configurationValues": "{\"nodeSelector\": {\"a\": \"b\"}}"})),
    )
    .await
    .assert_error(
        400,
        "InvalidParameterException",
        "ConfigurationValue provided in request is not supported: Json schema validation failed with error: [$.nodeSelector: is not defined in the schema and the schema does not allow additional properties]",
    );
    assert_eq!(
        eks.call("GET", "/clusters/c1/addons/vpc-cni", None)
            .await
            .status
            .as_u16(),
        404,
        "nothing created"
    );
    setup_existing(&eks, "env:\n  WARM_IP_TARGET: \"2\"\n").await;
    let r = eks
        .call(
            "POST",
            "/clusters/c1/addons/vpc-cni/update",
            Some(json!({"configurationValues": "{\"env\": \"x\"}"})),
        )
        .await;
    assert_eq!(r.error_type.as_deref(), Some("InvalidParameterException"));
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .ends_with("[$.env: string found, object expected]"),
        "{r:?}"
    );
    update(
        &eks,
        "vpc-cni",
        json!({"configurationValues": "{\"enableNetworkPolicy\": \"true\"}"}),
    )
    .await;
    let a = wait_for(&eks, "vpc-cni", "ACTIVE").await;
    assert_eq!(
        a["configurationValues"],
        "{\"enableNetworkPolicy\": \"true\"}"
    );
}

/// Issue 27 / F8: a key nested under `env` that the published vpc-cni
/// schema does not define is refused on CreateAddon and on UpdateAddon,
/// with the text the AWS provider's TestAccEKSAddon_configurationValues
/// expects (`InvalidParameterException: ConfigurationValue provided in
/// request is not supported`).
#[tokio::test]
async fn f8_nested_unknown_configuration_key_is_refused() {
    let eks = Eks::new().await;
    eks.cluster("c1").await;
    let invalid = "{\"env\": {\"INVALID_FIELD\":\"2\"}}";
    let text = "ConfigurationValue provided in request is not supported: Json schema validation failed with error: [$.env.INVALID_FIELD: is not defined in the schema and the schema does not allow additional properties]";
    eks.call(
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "vpc-cni", "configurationValues": invalid})),
    )
    .await
    .assert_error(400, "InvalidParameterException", text);
    // The values of the AWS provider's test are taken.
    let valid = "{\"env\": {\"WARM_ENI_TARGET\":\"2\",\"ENABLE_POD_ENI\":\"true\"},\"resources\": {\"limits\":{\"cpu\":\"100m\",\"memory\":\"100Mi\"},\"requests\":{\"cpu\":\"100m\",\"memory\":\"100Mi\"}}}";
    eks.op(
        "CreateAddon",
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "vpc-cni", "configurationValues": valid})),
    )
    .await;
    wait_for(&eks, "vpc-cni", "ACTIVE").await;
    eks.call(
        "POST",
        "/clusters/c1/addons/vpc-cni/update",
        Some(json!({"configurationValues": invalid})),
    )
    .await
    .assert_error(400, "InvalidParameterException", text);
    let a = wait_for(&eks, "vpc-cni", "ACTIVE").await;
    assert_eq!(a["configurationValues"], valid, "unchanged");
}

async fn setup_existing(eks: &Eks, yaml: &str) {
    eks.op(
        "CreateAddon",
        "POST",
        "/clusters/c1/addons",
        Some(json!({"addonName": "vpc-cni", "configurationValues": yaml})),
    )
    .await;
    let a = wait_for(eks, "vpc-cni", "ACTIVE").await;
    assert_eq!(a["configurationValues"], yaml);
}

/// F9: UpdatePodIdentityAssociation with `roleArn: ""` is refused in both
/// modes as EKS refuses it ("Cross-account pass role is not allowed",
/// eksctl #8718 / #8717), and the association keeps its role.
#[tokio::test]
async fn f9_update_association_with_empty_role_is_refused() {
    for strict in [eks_emulator::Strict::off(), eks_emulator::Strict::all()] {
        let eks = Eks::with_config(eks_emulator::Config {
            strict,
            ..eks_emulator::Config::default()
        })
        .await;
        eks.cluster("c1").await;
        let a = eks.association("c1", "ns", "sa", json!({})).await;
        let path = format!(
            "/clusters/c1/pod-identity-associations/{}",
            a["associationId"].as_str().unwrap_or_default()
        );
        eks.call(
            "POST",
            &path,
            Some(json!({"roleArn": "", "disableSessionTags": true})),
        )
        .await
        .assert_error(403, "AccessDeniedException", CROSS_ACCOUNT);
        let d = eks.call("GET", &path, None).await.ok();
        assert_eq!(d["association"]["roleArn"], a["roleArn"]);
        assert_eq!(d["association"]["disableSessionTags"], false);
    }
}
