//! The `eks_pod_identity_associations` data source: filters and pagination.
//! The associations are made through the emulator's API directly (fast); the
//! data source must read them all, more than one page (100) of them. And
//! `eks_well_known_policy` with `well_known_policy_scopes` (issue 25), on
//! every engine (Terraform 1.0.3 included: the scopes are a map).

use acceptance_tests::hcl::{config, data, provider, string};
use acceptance_tests::{Tf, acc, random_name};
use serde_json::Value;

const KIND: &str = "eks_pod_identity_associations";

fn associations(tf: &Tf, label: &str) -> Vec<Value> {
    let values = tf.resource(&format!("data.{KIND}.{label}"));
    values["associations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn associations_filters_and_pagination() {
    let Some(w) = acc("associations_filters_and_pagination") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let (many, few) = (random_name(), random_name());
    for i in 0..105 {
        w.create_association(&cluster, &many, &format!("sa-{i}"), &role.arn);
    }
    let shared = w.create_association(&cluster, &few, "shared", &role.arn);
    w.create_association(&cluster, &few, "other", &role.arn);

    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        data(KIND, "all", &[("cluster_name", string(&cluster))]),
        data(
            KIND,
            "many",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string(&many)),
            ],
        ),
        data(
            KIND,
            "one",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string(&few)),
                ("service_account", string("shared")),
            ],
        ),
    ]));
    let lists_before = w.count("ListPodIdentityAssociations");
    tf.apply();

    assert_eq!(associations(&tf, "all").len(), 107);
    // 107 associations are two pages of 100: the provider followed nextToken
    // (no other test of this binary lists associations, so the counter is
    // ours alone).
    let lists = w.count("ListPodIdentityAssociations") - lists_before;
    assert!(
        lists >= 2,
        "{lists} ListPodIdentityAssociations calls for 107 associations"
    );
    let many_list = associations(&tf, "many");
    assert_eq!(many_list.len(), 105);
    assert!(many_list.iter().all(|a| a["namespace"] == many.as_str()));
    let one = associations(&tf, "one");
    assert_eq!(one.len(), 1, "{one:?}");
    let a = &one[0];
    assert_eq!(a["association_id"], shared["associationId"]);
    assert_eq!(a["association_arn"], shared["associationArn"]);
    assert_eq!(a["namespace"], few.as_str());
    assert_eq!(a["service_account"], "shared");
    // The list API has no roleArn: the data source must still return it.
    assert_eq!(a["role_arn"], role.arn.as_str());
    assert_eq!(a["disable_session_tags"], false);
    tf.assert_plan_empty();
}

/// A scoped document for the user's own roles: karpenter for one cluster
/// (its partition, region and account from the ARN), external-dns for one
/// zone; karpenter without its cluster is an error naming the scope.
#[test]
fn well_known_policy_scoped() {
    let Some(w) = acc("well_known_policy_scoped") else {
        return;
    };
    let (r, a) = (&w.region, &w.account_id);
    let cluster = format!("arn:aws:eks:{r}:{a}:cluster/prod");
    let zone = "arn:aws:route53:::hostedzone/Z1";
    let policy = |label: &str, name: &str, scopes: &str| {
        data(
            "eks_well_known_policy",
            label,
            &[
                ("name", string(name)),
                ("well_known_policy_scopes", scopes.to_string()),
            ],
        )
    };
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        policy(
            "karpenter",
            "karpenter",
            &format!("{{ cluster_arns = [{}] }}", string(&cluster)),
        ),
        policy(
            "dns",
            "external-dns",
            &format!("{{ hosted_zone_arns = [{}] }}", string(zone)),
        ),
    ]));
    tf.apply();
    let doc = |label: &str| -> Value {
        let d = tf.resource(&format!("data.eks_well_known_policy.{label}"));
        serde_json::from_str(d["policy_json"].as_str().unwrap_or("null")).unwrap_or_default()
    };
    let karpenter = doc("karpenter");
    let statements = karpenter["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(statements.len(), 18, "{karpenter}");
    let describe: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Action"] == "eks:DescribeCluster")
        .collect();
    assert_eq!(describe.len(), 1, "{karpenter}");
    assert_eq!(describe[0]["Resource"], cluster.as_str());
    let text = karpenter.to_string();
    assert!(
        text.contains(&format!("arn:aws:iam::{a}:role/KarpenterNodeRole-prod")),
        "{text}"
    );
    assert!(
        text.contains("aws:ResourceTag/kubernetes.io/cluster/prod"),
        "{text}"
    );
    assert!(!text.contains("${"), "{text}");
    let dns = doc("dns").to_string();
    assert!(dns.contains(zone) && !dns.contains("hostedzone/*"), "{dns}");
    tf.assert_plan_empty();

    tf.write(&config(&[
        provider(&[]),
        policy("karpenter", "karpenter", "{ sqs_queue_arns = [] }"),
    ]));
    tf.plan_expect_error("needs well_known_policy_scopes.cluster_arns");
    tf.write(&config(&[
        provider(&[]),
        policy(
            "dns",
            "velero",
            &format!("{{ hosted_zone_arns = [{}] }}", string(zone)),
        ),
    ]));
    tf.plan_expect_error("scopes none of the chosen");
}
