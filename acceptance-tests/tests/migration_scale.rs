//! `eks_pod_identity_migration` at scale (issue 6): 50 IRSA service
//! accounts sharing 25 roles. A binary of its own, because it reads the
//! emulator's call counters, which every test of a binary shares.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc, random_name};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";

fn migration(cluster: &str, extra: &[(&str, String)]) -> String {
    let mut attrs = vec![("cluster_name", string(cluster))];
    attrs.extend(extra.iter().cloned());
    config(&[
        provider(&[]),
        resource("eks_pod_identity_migration", "test", &attrs),
    ])
}

/// (OIDC provider ARN, issuer host/path) of a cluster.
fn oidc(w: &World, cluster: &str) -> (String, String) {
    let c = w.describe_cluster(cluster).expect("cluster");
    let host = c["identity"]["oidc"]["issuer"]
        .as_str()
        .expect("issuer")
        .trim_start_matches("https://")
        .to_string();
    (format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"), host)
}

/// The IRSA trust statement for `subjects` (one string, or an array).
fn irsa_statement(provider_arn: &str, host: &str, subjects: Value) -> Value {
    json!({
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            format!("{host}:sub"): subjects,
            format!("{host}:aud"): "sts.amazonaws.com"
        }}
    })
}

fn create_role(w: &World, name: &str, path: &str, trust: &Value) -> String {
    let answer = w.iam(
        "CreateRole",
        &[
            ("RoleName", name),
            ("Path", path),
            ("AssumeRolePolicyDocument", &trust.to_string()),
        ],
    );
    assert!(answer.ok(), "CreateRole {name}: {}", answer.body);
    format!("arn:aws:iam::{ACCOUNT}:role{path}{name}")
}

fn seed_sa(w: &World, cluster: &str, ns: &str, name: &str, role: Option<&str>) {
    let mut meta = json!({"name": name, "namespace": ns});
    if let Some(r) = role {
        meta["annotations"] = json!({"eks.amazonaws.com/role-arn": r});
    }
    let answer = w.eks(
        "POST",
        &format!("/_emulator/kubernetes/{cluster}"),
        Some(&json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})),
    );
    assert!(answer.ok(), "seeding {ns}/{name}: {}", answer.body);
}

/// (namespace/name → association ID) of a cluster.
fn associations(w: &World, cluster: &str) -> std::collections::BTreeMap<String, String> {
    w.list_associations(cluster)
        .into_iter()
        .map(|a| {
            (
                format!(
                    "{}/{}",
                    a["namespace"].as_str().unwrap_or_default(),
                    a["serviceAccount"].as_str().unwrap_or_default()
                ),
                a["associationId"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Calls of every EKS operation between two counter snapshots.
fn delta(before: &Value, after: &Value) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in after.as_object().into_iter().flatten() {
        let (Some(a), b) = (v.as_u64(), before[k].as_u64().unwrap_or(0)) else {
            continue;
        };
        if a > b {
            out.insert(k.clone(), a - b);
        }
    }
    out
}

/// 50 IRSA service accounts (25 roles, each shared by two): the EKS calls
/// of plan, apply and the re-plan stay proportional and small. Run with
/// `TF_LOG_PROVIDER=debug TF_LOG_PATH=...` to count IAM and Kubernetes
/// calls from the provider's log too.
#[test]
fn migration_scale_50_service_accounts() {
    let Some(w) = acc("migration_scale_50_service_accounts") else {
        return;
    };
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    let (provider_arn, host) = oidc(w, &cluster);
    for r in 0..25 {
        let ns = format!("team{}", r % 5);
        let subs = json!([
            format!("system:serviceaccount:{ns}:app{r}a"),
            format!("system:serviceaccount:{ns}:app{r}b")
        ]);
        let doc = json!({"Version": "2012-10-17", "Statement": [irsa_statement(&provider_arn, &host, subs)]});
        let arn = create_role(w, &random_name(), "/", &doc);
        seed_sa(w, &cluster, &ns, &format!("app{r}a"), Some(&arn));
        seed_sa(w, &cluster, &ns, &format!("app{r}b"), Some(&arn));
    }
    let mut tf = Tf::new(w);
    tf.write(&migration(&cluster, &[]));
    let c0 = w.counters();
    let plan = tf.plan_output();
    let c1 = w.counters();
    tf.apply();
    let c2 = w.counters();
    tf.assert_plan_empty();
    let c3 = w.counters();
    let (plan_calls, apply_calls, replan_calls) =
        (delta(&c0, &c1), delta(&c1, &c2), delta(&c2, &c3));
    eprintln!("[scale] EKS calls of plan: {plan_calls:?}");
    eprintln!("[scale] EKS calls of apply (with its refresh and plan): {apply_calls:?}");
    eprintln!("[scale] EKS calls of the empty re-plan: {replan_calls:?}");
    assert_eq!(plan.matches("create_association").count(), 50, "{plan}");
    assert_eq!(plan.matches("\"update_trust\"").count(), 25);
    assert_eq!(associations(w, &cluster).len(), 50);
    assert_eq!(apply_calls.get("CreatePodIdentityAssociation"), Some(&50));
    // Discovery never describes associations that do not exist.
    assert_eq!(plan_calls.get("DescribePodIdentityAssociation"), None);
    let total = |m: &std::collections::BTreeMap<String, u64>| m.values().sum::<u64>();
    assert!(total(&plan_calls) <= 10, "{plan_calls:?}");
}
