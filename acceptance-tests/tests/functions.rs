//! Issue 17: provider-defined functions and the ephemeral `eks_cluster_auth`,
//! live on every engine that has them (functions: Terraform ≥ 1.8, OpenTofu
//! ≥ 1.7; ephemeral resources: Terraform ≥ 1.10, OpenTofu ≥ 1.11). On older
//! engines each test says why it does not run (the protocol level is
//! covered by tfplugin's tests).

use acceptance_tests::hcl::{config, output, provider};
use acceptance_tests::{Tf, acc_aws, acc_local, engine, random_name};
use serde_json::Value;

#[test]
fn functions_basic() {
    let Some(w) = acc_aws("functions_basic") else {
        return;
    };
    let e = engine();
    if !e.has_provider_functions() {
        eprintln!("functions_basic: {e} has no provider-defined functions");
        return;
    }
    let cluster = w.new_cluster();
    let cluster_arn = w.describe_cluster(&cluster).map_or(String::new(), |c| {
        c["arn"].as_str().unwrap_or_default().to_string()
    });
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        output(
            "trust",
            r#"provider::eks::pod_identity_trust_policy({ source_account = "123456789012", namespace = "payments" })"#,
        ),
        output("plain", "provider::eks::pod_identity_trust_policy(null)"),
        output(
            "name",
            &format!(r#"provider::eks::role_name("{cluster_arn}", "default", "api")"#),
        ),
        output(
            "dns",
            r#"provider::eks::well_known_policy("external-dns")"#,
        ),
        output(
            "ebs_gov",
            r#"provider::eks::well_known_policy("ebs-csi-controller", "aws-us-gov").managed_policy_arns"#,
        ),
    ]));
    tf.apply();
    let out = tf.outputs();
    let value = |k: &str| out[k].clone();
    let trust: Value =
        serde_json::from_str(value("trust").as_str().unwrap_or("{}")).unwrap_or_default();
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        "123456789012"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"],
        "payments"
    );
    assert!(
        !value("plain")
            .as_str()
            .unwrap_or_default()
            .contains("Condition")
    );

    // The name the function gives is the name the provider makes.
    let name = value("name").as_str().unwrap_or_default().to_string();
    assert!(name.starts_with(&format!("eks-pi-{cluster}")), "{name}");
    tf.write(&config(&[
        provider(&[]),
        acceptance_tests::hcl::resource(
            "eks_pod_identity_association",
            "test",
            &[
                ("cluster_name", acceptance_tests::hcl::string(&cluster)),
                ("namespace", acceptance_tests::hcl::string("default")),
                ("service_account", acceptance_tests::hcl::string("api")),
                (
                    "permission_policy_arns",
                    r#"["arn:aws:iam::aws:policy/ReadOnlyAccess"]"#.into(),
                ),
            ],
        ),
    ]));
    tf.apply();
    assert_eq!(
        tf.resource("eks_pod_identity_association.test")["role_name"],
        name.as_str()
    );
    tf.destroy();

    assert!(
        value("dns")["policy_json"]
            .as_str()
            .unwrap_or_default()
            .contains("route53")
    );
    let gov = value("ebs_gov");
    assert!(
        gov.as_array().is_some_and(|a| !a.is_empty()
            && a.iter().all(|x| x
                .as_str()
                .unwrap_or_default()
                .starts_with("arn:aws-us-gov:"))),
        "{gov}"
    );

    // A bad argument is an error that names the function's argument.
    tf.write(&config(&[
        provider(&[]),
        output(
            "bad",
            r#"provider::eks::well_known_policy("no-such-policy")"#,
        ),
    ]));
    let text = tf.plan_expect_error("no-such-policy");
    assert!(text.contains("well_known_policy"), "{text}");
}

/// Issue 25: `well_known_policy` with scopes (a second argument, an
/// object), the partition taken from the scopes' ARNs or given after them,
/// and the errors naming the scope.
#[test]
fn functions_well_known_policy_scoped() {
    let Some(w) = acc_aws("functions_well_known_policy_scoped") else {
        return;
    };
    let e = engine();
    if !e.has_provider_functions() {
        eprintln!("functions_well_known_policy_scoped: {e} has no provider-defined functions");
        return;
    }
    let cluster = "arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/prod";
    let node = "arn:aws-us-gov:iam::123456789012:role/prod-nodes";
    let zone = "arn:aws-cn:route53:::hostedzone/Z1";
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        output(
            "karpenter",
            &format!(
                r#"provider::eks::well_known_policy("karpenter", {{ cluster_arns = ["{cluster}"], node_role_arns = ["{node}"] }}).policy_json"#
            ),
        ),
        output(
            "dns",
            &format!(
                r#"provider::eks::well_known_policy("external-dns", "aws-cn", {{ hosted_zone_arns = ["{zone}"] }}).policy_json"#
            ),
        ),
    ]));
    tf.apply();
    let out = tf.outputs();
    let doc = |k: &str| -> Value {
        serde_json::from_str(out[k].as_str().unwrap_or("null")).unwrap_or_default()
    };
    let karpenter = doc("karpenter");
    let statements = karpenter["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(statements.len(), 18, "{karpenter}");
    let with = |action: &str| -> Vec<Value> {
        statements
            .iter()
            .filter(|s| {
                s["Action"] == action
                    || s["Action"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == action))
            })
            .cloned()
            .collect()
    };
    assert_eq!(
        with("iam:PassRole")[0]["Resource"],
        serde_json::json!([node])
    );
    assert_eq!(with("eks:DescribeCluster")[0]["Resource"], cluster);
    assert_eq!(
        with("sqs:ReceiveMessage")[0]["Resource"],
        "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:prod"
    );
    assert!(!karpenter.to_string().contains("arn:aws:"), "{karpenter}");
    let dns = doc("dns").to_string();
    assert!(dns.contains(zone) && !dns.contains("hostedzone/*"), "{dns}");

    tf.write(&config(&[
        provider(&[]),
        output(
            "bad",
            r#"provider::eks::well_known_policy("karpenter", { sqs_queue_arns = [] })"#,
        ),
    ]));
    let text = tf.plan_expect_error("cluster_arns");
    assert!(text.contains("well_known_policy"), "{text}");
    tf.write(&config(&[
        provider(&[]),
        output(
            "bad",
            &format!(r#"provider::eks::well_known_policy("external-dns", {{ hosted_zone_arns = ["{zone}"] }}, "aws")"#),
        ),
    ]));
    tf.plan_expect_error("another partition");
}

#[test]
fn cluster_auth_ephemeral() {
    let Some(w) = acc_local(
        "cluster_auth_ephemeral",
        "writes a namespace and service account to the cluster's Kubernetes API",
    ) else {
        return;
    };
    let e = engine();
    let supported = if e.is_opentofu() {
        e.at_least(1, 11)
    } else {
        e.at_least(1, 10)
    };
    if !supported {
        eprintln!("cluster_auth_ephemeral: {e} has no ephemeral resources");
        return;
    }
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let (ns, sa) = (random_name(), random_name());
    let mut tf = Tf::new(w);
    // A second configuration of the provider reaches the cluster's Kubernetes
    // API with the ephemeral token (as a kubernetes or helm provider would):
    // the service account it creates proves the token works.
    tf.write(&config(&[
        provider(&[]),
        format!(
            r#"ephemeral "eks_cluster_auth" "c" {{
  name = "{cluster}"
}}

provider "eks" {{
  alias = "k8s"
  kubernetes {{
    host                   = ephemeral.eks_cluster_auth.c.endpoint
    cluster_ca_certificate = base64decode(ephemeral.eks_cluster_auth.c.cluster_ca_certificate)
    token                  = ephemeral.eks_cluster_auth.c.token
  }}
}}

resource "eks_pod_identity_association" "test" {{
  provider               = eks.k8s
  cluster_name           = "{cluster}"
  namespace              = "{ns}"
  service_account        = "{sa}"
  role_arn               = "{arn}"
  create_service_account = true
}}
"#,
            arn = role.arn
        ),
    ]));
    tf.apply();
    assert_eq!(
        tf.resource("eks_pod_identity_association.test")["service_account_created"],
        true
    );
    let state = tf.state_json().to_string();
    assert!(
        !state.contains("k8s-aws-v1."),
        "the EKS token is in the state"
    );
    tf.assert_plan_empty();

    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

/// The function examples under `examples/functions/` (shown in the docs)
/// apply as written.
#[test]
fn functions_examples_apply() {
    let Some(w) = acc_aws("functions_examples_apply") else {
        return;
    };
    let e = engine();
    if !e.has_provider_functions() {
        eprintln!("functions_examples_apply: {e} has no provider-defined functions");
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/functions");
    for name in [
        "pod_identity_trust_policy",
        "role_name",
        "well_known_policy",
    ] {
        let text = std::fs::read_to_string(root.join(name).join("function.tf"))
            .unwrap_or_else(|err| panic!("examples/functions/{name}/function.tf: {err}"));
        let mut tf = Tf::new(w);
        tf.write(&config(&[provider(&[]), text]));
        tf.apply();
        let out = tf.outputs();
        let map = out.as_object().cloned().unwrap_or_default();
        assert!(!map.is_empty(), "{name}: no outputs");
        for (k, v) in map {
            assert!(!v.is_null(), "{name}: output {k} is null");
        }
    }
}
