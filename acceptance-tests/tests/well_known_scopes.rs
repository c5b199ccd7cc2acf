//! `well_known_policy_scopes` against IAM (moto): every scope on a made
//! role of `eks_pod_identity_association`, on an entry of
//! `eks_addon_pod_identity` and on `eks_pod_identity_role`, in two steps (the second an in-place update),
//! each checking that the statements that grant on the scoped kind of
//! resource carry exactly the given ARNs (and conditions) in IAM, and no
//! wildcard of that kind is left; then the plan-time errors. Karpenter
//! (written per cluster from its CloudFormation template) on a made role
//! and on `eks_pod_identity_role`.
//!
//! The expectations are written out here, not computed with the schema
//! crate, so that a wrong rule in the catalogue cannot agree with itself.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc};
use serde_json::{Value, json};

const ASSOCIATION: &str = "eks_pod_identity_association.test";
const ADDON: &str = "eks_addon_pod_identity.test";

/// The user's own resources, as ARNs of the world's account and region.
struct Arns {
    zone: String,
    key: String,
    bucket: String,
    path: String,
    secret: String,
    parameter: String,
    queue: String,
    ca: String,
    workspace: String,
    fsx_role: String,
    target_group: String,
}

fn arns(w: &World) -> Arns {
    let (r, a) = (&w.region, &w.account_id);
    Arns {
        zone: "arn:aws:route53:::hostedzone/Z0TFACCZONE1".into(),
        key: format!("arn:aws:kms:{r}:{a}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        bucket: "arn:aws:s3:::tf-acc-scoped-bucket".into(),
        path: "arn:aws:s3:::tf-acc-scoped-bucket/velero/*".into(),
        secret: format!("arn:aws:secretsmanager:{r}:{a}:secret:tf-acc/*"),
        parameter: format!("arn:aws:ssm:{r}:{a}:parameter/tf-acc/*"),
        queue: format!("arn:aws:sqs:{r}:{a}:tf-acc-interruptions"),
        ca: format!(
            "arn:aws:acm-pca:{r}:{a}:certificate-authority/12345678-1234-1234-1234-123456789012"
        ),
        workspace: format!("arn:aws:aps:{r}:{a}:workspace/ws-12345678-1234-1234-1234-123456789012"),
        fsx_role: format!(
            "arn:aws:iam::{a}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-0123456789abcdef0"
        ),
        target_group: format!(
            "arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/tf-acc/73e2d6bc24d8a067"
        ),
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| string(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Step A: hosted zones, cluster names, KMS keys, buckets and paths,
/// secrets and parameters.
fn step_a(a: &Arns, cluster: &str) -> (String, String) {
    let names = list(&[
        "external-dns",
        "cert-manager",
        "auto-scaler",
        "ebs-csi-controller",
        "velero",
        "external-secrets",
        "external-secrets-push",
    ]);
    let scopes = format!(
        "{{ hosted_zone_arns = {}, autoscaler_cluster_names = {}, kms_key_arns = {}, s3_bucket_arns = {}, s3_bucket_path_arns = {}, secrets_manager_arns = {}, ssm_parameter_arns = {} }}",
        list(&[&a.zone]),
        list(&[cluster]),
        list(&[&a.key]),
        list(&[&a.bucket]),
        list(&[&a.path]),
        list(&[&a.secret]),
        list(&[&a.parameter]),
    );
    (names, scopes)
}

/// Step B: queues, CAs, workspaces, FSx roles, target groups, and buckets
/// without paths (their objects are `BUCKET/*`).
fn step_b(a: &Arns) -> (String, String) {
    let names = list(&[
        "node-termination-handler",
        "privateca-issuer",
        "amazon-managed-service-prometheus",
        "fsx-lustre-csi",
        "lb-controller-targetgroup-binding-only",
        "mountpoint-s3-csi",
        "secrets-store-csi-provider-aws",
    ]);
    let scopes = format!(
        "{{ sqs_queue_arns = {}, acm_pca_arns = {}, prometheus_workspace_arns = {}, fsx_lustre_service_role_arns = {}, target_group_arns = {}, s3_bucket_arns = {}, secrets_manager_arns = {}, ssm_parameter_arns = {} }}",
        list(&[&a.queue]),
        list(&[&a.ca]),
        list(&[&a.workspace]),
        list(&[&a.fsx_role]),
        list(&[&a.target_group]),
        list(&[&a.bucket]),
        list(&[&a.secret]),
        list(&[&a.parameter]),
    );
    (names, scopes)
}

fn association(cluster: &str, sa: &str, names: &str, scopes: &str) -> String {
    config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "test",
            &[
                ("cluster_name", string(cluster)),
                ("namespace", string("default")),
                ("service_account", string(sa)),
                ("well_known_policies", names.to_string()),
                ("well_known_policy_scopes", scopes.to_string()),
            ],
        ),
    ])
}

fn addon(cluster: &str, names: &str, scopes: &str) -> String {
    let entry = format!(
        "[{{ service_account = \"ebs-csi-controller-sa\", well_known_policies = {names}, well_known_policy_scopes = {scopes} }}]"
    );
    config(&[
        provider(&[]),
        resource(
            "eks_addon_pod_identity",
            "test",
            &[
                ("cluster_name", string(cluster)),
                ("addon_name", string("aws-ebs-csi-driver")),
                ("pod_identity_associations", entry),
            ],
        ),
    ])
}

fn shared_role(name: &str, names: &str, scopes: &str) -> String {
    config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_role",
            "test",
            &[
                ("name", string(name)),
                ("well_known_policies", names.to_string()),
                ("well_known_policy_scopes", scopes.to_string()),
            ],
        ),
    ])
}

/// The text of the first `<tag>` in an IAM answer, unescaped.
fn xml_first(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(
        xml[start..end]
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}

/// Percent-decoding, as IAM documents need.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The well-known inline policy of a role, as IAM holds it.
fn well_known_doc(w: &World, role: &str) -> Value {
    let answer = w.iam(
        "GetRolePolicy",
        &[("RoleName", role), ("PolicyName", "well-known-policies")],
    );
    assert!(answer.ok(), "GetRolePolicy {role}: {}", answer.body);
    xml_first(&answer.body, "PolicyDocument")
        .and_then(|d| serde_json::from_str(&decode(&d)).ok())
        .unwrap_or(Value::Null)
}

fn actions(s: &Value) -> Vec<String> {
    match &s["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => vec![],
    }
}

/// The statements that grant `action`.
fn granting<'a>(doc: &'a Value, action: &str) -> Vec<&'a Value> {
    doc["Statement"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|s| actions(s).iter().any(|a| a == action))
                .collect()
        })
        .unwrap_or_default()
}

/// Every statement granting `action` has exactly `resources` (and no
/// condition); there is at least one.
fn assert_scoped(doc: &Value, action: &str, resources: &[&str]) {
    let found = granting(doc, action);
    assert!(!found.is_empty(), "nothing grants {action}: {doc}");
    for s in found {
        assert_eq!(s["Resource"], json!(resources), "{action}: {s}");
    }
}

/// The one statement granting `action`.
fn only<'a>(doc: &'a Value, action: &str) -> &'a Value {
    let found = granting(doc, action);
    assert_eq!(found.len(), 1, "{action}: {found:?}");
    found[0]
}

fn assert_no_wildcards(doc: &Value, wildcards: &[&str]) {
    let text = doc.to_string();
    for w in wildcards {
        assert!(!text.contains(w), "{w} is still granted: {text}");
    }
}

fn check_step_a(doc: &Value, a: &Arns, cluster: &str) {
    // One statement for both external-dns and cert-manager.
    let zone = only(doc, "route53:ChangeResourceRecordSets");
    assert_eq!(zone["Resource"], json!([a.zone]), "{zone}");
    assert!(zone.get("Condition").is_none(), "{zone}");
    let resize = only(doc, "autoscaling:SetDesiredCapacity");
    assert_eq!(
        actions(resize),
        [
            "autoscaling:SetDesiredCapacity",
            "autoscaling:TerminateInstanceInAutoScalingGroup"
        ]
    );
    assert_eq!(resize["Resource"], "*");
    assert_eq!(
        resize["Condition"],
        json!({"StringEquals": {format!("aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}"): "owned"}})
    );
    assert_eq!(only(doc, "ec2:DescribeImages")["Resource"], "*");
    // EBS CSI's grant statement (with its condition) and Velero's.
    assert_scoped_with(doc, "kms:CreateGrant", &a.key);
    let ebs_grant = granting(doc, "kms:CreateGrant")
        .into_iter()
        .find(|s| s.get("Condition").is_some())
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        ebs_grant["Condition"],
        json!({"Bool": {"kms:GrantIsForAWSResource": "true"}})
    );
    assert_eq!(granting(doc, "kms:Decrypt").len(), 3, "{doc}");
    assert_scoped(doc, "kms:Decrypt", &[&a.key]);
    assert_scoped(doc, "s3:ListBucket", &[&a.bucket]);
    assert_scoped(doc, "s3:PutObjectTagging", &[&a.path]);
    assert_scoped(doc, "secretsmanager:GetSecretValue", &[&a.secret]);
    assert_scoped(doc, "secretsmanager:CreateSecret", &[&a.secret]);
    let delete = only(doc, "secretsmanager:DeleteSecret");
    assert_eq!(delete["Resource"], json!([a.secret]));
    assert_eq!(
        delete["Condition"],
        json!({"StringEquals": {"secretsmanager:ResourceTag/managed-by": "external-secrets"}})
    );
    assert_scoped(doc, "ssm:GetParameter", &[&a.parameter]);
    assert_no_wildcards(
        doc,
        &["hostedzone/*", "s3:::*", "secret:*", "parameter/*", "key/*"],
    );
}

/// Every statement granting `action` has exactly `[resource]` as Resource.
fn assert_scoped_with(doc: &Value, action: &str, resource: &str) {
    let found = granting(doc, action);
    assert!(!found.is_empty(), "nothing grants {action}: {doc}");
    for s in found {
        assert_eq!(s["Resource"], json!([resource]), "{action}: {s}");
    }
}

fn check_step_b(doc: &Value, a: &Arns) {
    assert_scoped(doc, "sqs:ReceiveMessage", &[&a.queue]);
    assert_scoped(doc, "acm-pca:IssueCertificate", &[&a.ca]);
    assert_scoped(doc, "aps:RemoteWrite", &[&a.workspace]);
    assert_scoped(doc, "iam:PutRolePolicy", &[&a.fsx_role]);
    let targets = only(doc, "elasticloadbalancing:RegisterTargets");
    assert_eq!(targets["Resource"], json!([a.target_group]));
    assert_eq!(actions(targets).len(), 4, "{targets}");
    assert!(targets.get("Condition").is_none(), "{targets}");
    assert_eq!(only(doc, "ec2:DescribeVpcs")["Resource"], "*");
    // fsx-lustre-csi lists buckets on "*" beside its fsx actions (its
    // source does, and no scope of the module covers it): only
    // mountpoint-s3-csi's bucket statement is scoped.
    let list_bucket: Vec<&Value> = granting(doc, "s3:ListBucket")
        .into_iter()
        .filter(|s| actions(s) == ["s3:ListBucket"])
        .collect();
    assert_eq!(list_bucket.len(), 1, "{doc}");
    assert_eq!(list_bucket[0]["Resource"], json!([a.bucket]));
    let objects = format!("{}/*", a.bucket);
    assert_scoped(doc, "s3:GetObject", &[&objects]);
    assert_scoped(doc, "secretsmanager:GetSecretValue", &[&a.secret]);
    assert_scoped(doc, "ssm:GetParameters", &[&a.parameter]);
    assert_no_wildcards(
        doc,
        &[
            "sqs:*:*:*",
            "certificate-authority/*",
            "workspace/*",
            "s3.data-source.lustre.fsx.amazonaws.com/*",
            "s3:::*",
            "secret:*",
            "parameter/*",
        ],
    );
}

#[test]
fn well_known_scopes_made_role() {
    let Some(w) = acc("well_known_scopes_made_role") else {
        return;
    };
    let a = arns(w);
    let cluster = w.new_cluster();
    let sa = acceptance_tests::random_name();
    let mut tf = Tf::new(w);

    let (names, scopes) = step_a(&a, &cluster);
    tf.write(&association(&cluster, &sa, &names, &scopes));
    tf.apply();
    let role = tf.resource(ASSOCIATION)["role_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    check_step_a(&well_known_doc(w, &role), &a, &cluster);
    tf.assert_plan_empty();
    let id = tf.resource(ASSOCIATION)["association_id"].clone();

    let (names, scopes) = step_b(&a);
    tf.write(&association(&cluster, &sa, &names, &scopes));
    tf.apply();
    assert_eq!(tf.resource(ASSOCIATION)["association_id"], id, "replaced");
    check_step_b(&well_known_doc(w, &role), &a);
    tf.assert_plan_empty();

    // Errors before any AWS call: a scope no chosen entry takes and a
    // value of the wrong kind (validation), a value of another partition
    // (plan, which knows the region).
    let bad = format!(
        "{{ hosted_zone_arns = {}, sqs_queue_arns = {} }}",
        list(&[&a.zone]),
        list(&[&format!("arn:aws:sns:{}:{}:topic", w.region, w.account_id)]),
    );
    tf.write(&association(&cluster, &sa, &list(&["velero"]), &bad));
    let out = tf.plan_expect_error("scopes none of the chosen");
    for needle in [
        "well_known_policy_scopes.hosted_zone_arns",
        "cert-manager, external-dns",
        "not of \"sqs\"",
    ] {
        assert!(
            acceptance_tests::contains_ignoring_wrap(&out, needle),
            "{needle}: {out}"
        );
    }
    let other = format!(
        "{{ kms_key_arns = {} }}",
        list(&["arn:aws-cn:kms:cn-north-1:123456789012:key/k"])
    );
    tf.write(&association(&cluster, &sa, &list(&["velero"]), &other));
    tf.plan_expect_error("another partition");

    tf.write(&association(&cluster, &sa, &names, &scopes));
    tf.destroy();
    assert!(w.get_role(&role).is_none(), "role {role} left behind");
}

#[test]
fn well_known_scopes_addon_entry() {
    let Some(w) = acc("well_known_scopes_addon_entry") else {
        return;
    };
    let a = arns(w);
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);

    let role_of = |tf: &Tf| {
        tf.resource(ADDON)["pod_identity_associations"][0]["role_name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (names, scopes) = step_a(&a, &cluster);
    tf.write(&addon(&cluster, &names, &scopes));
    tf.apply();
    let role = role_of(&tf);
    check_step_a(&well_known_doc(w, &role), &a, &cluster);
    tf.assert_plan_empty();

    let (names, scopes) = step_b(&a);
    tf.write(&addon(&cluster, &names, &scopes));
    tf.apply();
    assert_eq!(role_of(&tf), role, "role replaced");
    check_step_b(&well_known_doc(w, &role), &a);
    tf.assert_plan_empty();

    tf.write(&addon(
        &cluster,
        &list(&["velero"]),
        &format!("{{ sqs_queue_arns = {} }}", list(&[&a.queue])),
    ));
    let out = tf.plan_expect_error("scopes none of the chosen");
    assert!(
        acceptance_tests::contains_ignoring_wrap(&out, "node-termination-handler"),
        "{out}"
    );

    tf.write(&addon(&cluster, &names, &scopes));
    tf.destroy();
    assert!(w.get_role(&role).is_none(), "role {role} left behind");
}

/// Karpenter's grants for one cluster, as its v1.14 CloudFormation
/// template writes them with the cluster's name, region and account.
struct Karpenter<'a> {
    cluster: &'a str,
    cluster_arn: &'a str,
    region: &'a str,
    account: &'a str,
}

impl Karpenter<'_> {
    /// Checks the document: exactly the template's statements, the
    /// cluster's values in every condition and ARN, `node_role` the one
    /// role PassRole may pass, `queue` the interruption queue (`None`: no
    /// interruption statement).
    fn check(&self, doc: &Value, node_role: &Value, queue: Option<&str>) {
        let (c, r, a) = (self.cluster, self.region, self.account);
        let text = doc.to_string();
        assert!(!text.contains("${") && !text.contains("\"Sid\""), "{text}");
        let count = doc["Statement"].as_array().map_or(0, Vec::len);
        assert_eq!(count, if queue.is_some() { 18 } else { 17 }, "{text}");
        let pass = only(doc, "iam:PassRole");
        assert_eq!(&pass["Resource"], node_role, "{pass}");
        assert_eq!(
            pass["Condition"],
            json!({"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}})
        );
        match queue {
            Some(q) => {
                let s = only(doc, "sqs:ReceiveMessage");
                assert_eq!(s["Resource"], json!([q]), "{s}");
                assert_eq!(
                    actions(s),
                    ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
                );
            }
            None => assert!(granting(doc, "sqs:ReceiveMessage").is_empty(), "{text}"),
        }
        let describe = only(doc, "eks:DescribeCluster");
        assert_eq!(describe["Resource"], self.cluster_arn, "{describe}");
        let delete = only(doc, "ec2:TerminateInstances");
        assert_eq!(
            delete["Resource"],
            json!([
                format!("arn:aws:ec2:{r}:*:instance/*"),
                format!("arn:aws:ec2:{r}:*:launch-template/*")
            ])
        );
        assert_eq!(
            delete["Condition"],
            json!({
                "StringEquals": {format!("aws:ResourceTag/kubernetes.io/cluster/{c}"): "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
            })
        );
        let profile = only(doc, "iam:CreateInstanceProfile");
        assert_eq!(
            profile["Resource"],
            format!("arn:aws:iam::{a}:instance-profile/*")
        );
        assert_eq!(
            profile["Condition"],
            json!({
                "StringEquals": {
                    format!("aws:RequestTag/kubernetes.io/cluster/{c}"): "owned",
                    "aws:RequestTag/eks:eks-cluster-name": c,
                    "aws:RequestTag/topology.kubernetes.io/region": r
                },
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}
            })
        );
        assert_eq!(
            only(doc, "arc-zonal-shift:GetManagedResource")["Condition"],
            json!({"StringEquals": {"arc-zonal-shift:ResourceIdentifier": self.cluster_arn}})
        );
        let read = only(doc, "ec2:DescribeSubnets");
        assert_eq!(read["Resource"], "*");
        assert_eq!(
            read["Condition"],
            json!({"StringEquals": {"aws:RequestedRegion": r}})
        );
        assert_eq!(
            only(doc, "ssm:GetParameter")["Resource"],
            format!("arn:aws:ssm:{r}::parameter/aws/service/*")
        );
    }
}

/// Every scope of steps A and B on `eks_pod_identity_role` (issue 25: the
/// same inputs on the role resource), the second step in place.
#[test]
fn well_known_scopes_shared_role() {
    let Some(w) = acc("well_known_scopes_shared_role") else {
        return;
    };
    let a = arns(w);
    let cluster = w.new_cluster();
    let role = acceptance_tests::random_name();
    let mut tf = Tf::new(w);

    let (names, scopes) = step_a(&a, &cluster);
    tf.write(&shared_role(&role, &names, &scopes));
    tf.apply();
    check_step_a(&well_known_doc(w, &role), &a, &cluster);
    tf.assert_plan_empty();
    let id = tf.resource("eks_pod_identity_role.test")["unique_id"].clone();

    let (names, scopes) = step_b(&a);
    tf.write(&shared_role(&role, &names, &scopes));
    tf.apply();
    assert_eq!(
        tf.resource("eks_pod_identity_role.test")["unique_id"],
        id,
        "replaced"
    );
    check_step_b(&well_known_doc(w, &role), &a);
    tf.assert_plan_empty();

    tf.destroy();
    assert!(w.get_role(&role).is_none(), "role {role} left behind");
}

/// A made role of an association and an `eks_pod_identity_role`, both
/// with `karpenter` and the same scopes.
fn karpenter_config(cluster: &str, sa: &str, role_name: &str, scopes: &str) -> String {
    let names = list(&["karpenter"]);
    config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "test",
            &[
                ("cluster_name", string(cluster)),
                ("namespace", string("kube-system")),
                ("service_account", string(sa)),
                ("well_known_policies", names.clone()),
                ("well_known_policy_scopes", scopes.to_string()),
            ],
        ),
        resource(
            "eks_pod_identity_role",
            "karpenter",
            &[
                ("name", string(role_name)),
                ("well_known_policies", names),
                ("well_known_policy_scopes", scopes.to_string()),
            ],
        ),
    ])
}

#[test]
fn well_known_scopes_karpenter() {
    let Some(w) = acc("well_known_scopes_karpenter") else {
        return;
    };
    let cluster = w.new_cluster();
    let cluster_arn = w
        .describe_cluster(&cluster)
        .and_then(|c| c["arn"].as_str().map(String::from))
        .unwrap_or_default();
    assert!(
        cluster_arn.ends_with(&format!(":cluster/{cluster}")),
        "{cluster_arn}"
    );
    let (r, a) = (&w.region, &w.account_id);
    let k = Karpenter {
        cluster: &cluster,
        cluster_arn: &cluster_arn,
        region: r,
        account: a,
    };
    let node_role = format!("arn:aws:iam::{a}:role/tf-acc-karpenter-nodes");
    let queue = format!("arn:aws:sqs:{r}:{a}:tf-acc-karpenter");
    let sa = acceptance_tests::random_name();
    let shared = acceptance_tests::random_name();
    let mut tf = Tf::new(w);

    // Step 1: the cluster, a node role and a queue of the user's.
    let scopes = format!(
        "{{ cluster_arns = {}, node_role_arns = {}, sqs_queue_arns = {} }}",
        list(&[&cluster_arn]),
        list(&[&node_role]),
        list(&[&queue])
    );
    tf.write(&karpenter_config(&cluster, &sa, &shared, &scopes));
    tf.apply();
    let made = tf.resource(ASSOCIATION)["role_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let doc = well_known_doc(w, &made);
    k.check(&doc, &json!([node_role]), Some(&queue));
    assert_eq!(well_known_doc(w, &shared), doc, "eks_pod_identity_role");
    tf.assert_plan_empty();
    let id = tf.resource(ASSOCIATION)["association_id"].clone();

    // Step 2, in place: the template's node role, and no queue.
    let scopes = format!(
        "{{ cluster_arns = {}, sqs_queue_arns = [] }}",
        list(&[&cluster_arn])
    );
    tf.write(&karpenter_config(&cluster, &sa, &shared, &scopes));
    tf.apply();
    assert_eq!(tf.resource(ASSOCIATION)["association_id"], id, "replaced");
    let template_role = json!(format!("arn:aws:iam::{a}:role/KarpenterNodeRole-{cluster}"));
    let doc = well_known_doc(w, &made);
    k.check(&doc, &template_role, None);
    assert_eq!(well_known_doc(w, &shared), doc, "eks_pod_identity_role");
    tf.assert_plan_empty();

    // Plan-time errors: no cluster, a cluster ARN with a wildcard.
    tf.write(&karpenter_config(
        &cluster,
        &sa,
        &shared,
        "{ sqs_queue_arns = [] }",
    ));
    let out = tf.plan_expect_error("needs well_known_policy_scopes.cluster_arns");
    assert!(
        acceptance_tests::contains_ignoring_wrap(&out, "data.aws_eks_cluster.this.arn"),
        "{out}"
    );
    let wildcard = format!(
        "{{ cluster_arns = {} }}",
        list(&[&format!("arn:aws:eks:{r}:*:cluster/{cluster}")])
    );
    tf.write(&karpenter_config(&cluster, &sa, &shared, &wildcard));
    tf.plan_expect_error("no wildcard");

    tf.write(&karpenter_config(&cluster, &sa, &shared, &scopes));
    tf.destroy();
    assert!(w.get_role(&made).is_none(), "role {made} left behind");
    assert!(w.get_role(&shared).is_none(), "role {shared} left behind");
}
