//! No surprises at the edges (issue 23): each test reproduces one reported
//! surprise and fails without its fix.

use acceptance_tests::hcl::{config, data, output, provider, resource, string};
use acceptance_tests::{Tf, acc, engine, random_name};

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// Item 2: the cluster deleted first (its associations and addons go with
/// it). Destroy still succeeds on every engine and deletes every role the
/// resources made. Before: every destroy failed with "Cluster … not found"
/// from the migration's plan (a destroy plans the configuration first),
/// and the made roles stayed until `destroy -refresh=false`.
#[test]
fn edges_destroy_after_the_cluster_was_deleted() {
    let Some(w) = acc("edges_destroy_after_the_cluster_was_deleted") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "made",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("default")),
                ("service_account", string(&sa)),
                ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
            ],
        ),
        resource(
            "eks_addon_pod_identity",
            "ebs",
            &[
                ("cluster_name", string(&cluster)),
                ("addon_name", string("aws-ebs-csi-driver")),
                (
                    "pod_identity_associations",
                    format!(
                        "[{{ service_account = \"ebs-csi-controller-sa\", permission_policy_arns = [{}] }}]",
                        string(READ_ONLY)
                    ),
                ),
            ],
        ),
        resource(
            "eks_pod_identity_migration",
            "irsa",
            &[("cluster_name", string(&cluster))],
        ),
    ]));
    tf.apply();
    let made: Vec<String> = w
        .list_roles()
        .into_iter()
        .filter(|r| r.contains(&cluster))
        .collect();
    assert_eq!(made.len(), 2, "two made roles: {made:?}");
    let deleted = w.eks("DELETE", &format!("/clusters/{cluster}"), None);
    assert!(deleted.ok(), "{}", deleted.body);
    tf.destroy();
    let left: Vec<String> = w
        .list_roles()
        .into_iter()
        .filter(|r| r.contains(&cluster))
        .collect();
    assert!(left.is_empty(), "made roles left after destroy: {left:?}");
    assert!(
        tf.state_json()["values"]["root_module"]["resources"]
            .as_array()
            .is_none_or(|r| r.is_empty()),
        "resources left in state"
    );
}

/// Item 4: a change that makes no AWS call leaves computed attributes
/// known. After an import, a configuration that adds only
/// `resolve_conflicts_on_update` plans that attribute alone: `status` and
/// `modified_at` stay known, and the plan after the apply is empty.
/// Before: both planned "(known after apply)".
#[test]
fn edges_addon_setting_alone_plans_no_unknowns() {
    let Some(w) = acc("edges_addon_setting_alone_plans_no_unknowns") else {
        return;
    };
    let cluster = w.new_cluster();
    let addon = |extra: &[(&str, String)]| {
        let mut attrs = vec![
            ("cluster_name", string(&cluster)),
            ("addon_name", string("coredns")),
        ];
        attrs.extend(extra.iter().cloned());
        config(&[
            provider(&[]),
            resource("eks_addon_pod_identity", "test", &attrs),
        ])
    };
    let mut tf = Tf::new(w);
    tf.write(&addon(&[]));
    tf.apply();
    let released = tf.run(&["state", "rm", "eks_addon_pod_identity.test"]);
    assert_eq!(released.code, Some(0), "{}", released.output);
    tf.import("eks_addon_pod_identity.test", &format!("{cluster}:coredns"));
    tf.write(&addon(&[(
        "resolve_conflicts_on_update",
        string("OVERWRITE"),
    )]));
    let (empty, plan) = tf.plan();
    assert!(!empty, "the new setting is not in the plan:\n{plan}");
    assert!(
        !plan.contains("known after apply"),
        "a setting alone plans unknown values:\n{plan}"
    );
    tf.apply();
    tf.assert_plan_empty();
    tf.destroy();
}

/// Item 7: an ARN of another partition, or a role of another account than
/// the cluster's, is refused at plan, naming the attribute, and nothing is
/// made. Before: the plan passed, and the apply
/// retried "Role provided in the request does not exist" for two minutes.
#[test]
fn edges_arns_of_another_partition_are_refused_at_plan() {
    let Some(w) = acc("edges_arns_of_another_partition_are_refused_at_plan") else {
        return;
    };
    let cluster = w.new_cluster();
    let base = [
        ("cluster_name", string(&cluster)),
        ("namespace", string("default")),
        ("service_account", string(&random_name())),
    ];
    let mut tf = Tf::new(w);
    let mut given = base.to_vec();
    given.push((
        "role_arn",
        string("arn:aws-cn:iam::123456789012:role/somewhere-else"),
    ));
    tf.write(&config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &given),
    ]));
    let out = tf.plan_expect_error("role_arn is in another partition");
    assert!(out.contains("aws-cn"), "{out}");
    let mut made = base.to_vec();
    made.push((
        "permission_policy_arns",
        format!("[{}]", string("arn:aws-cn:iam::aws:policy/ReadOnlyAccess")),
    ));
    tf.write(&config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &made),
    ]));
    tf.plan_expect_error("permission_policy_arns is in another partition");
    // A role of another account than the cluster's (its ARN says which):
    // EKS refuses it, so the plan does.
    let mut other_account = base.to_vec();
    other_account.push((
        "role_arn",
        string("arn:aws:iam::999999999999:role/elsewhere"),
    ));
    tf.write(&config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &other_account),
    ]));
    let out = tf.plan_expect_error("role_arn is in another account than the cluster");
    assert!(out.contains("target_role_arn"), "{out}");
    assert!(w.list_associations(&cluster).is_empty());
}

/// Item 8: the functions and `eks_well_known_policy` make no AWS call, so
/// they work when the provider block cannot be used for AWS (no region
/// anywhere, or a profile that does not exist); the error comes at the
/// first AWS call, naming what to fix. Before: on OpenTofu (which
/// configures the provider to call its functions) every function failed
/// with "No AWS region".
#[test]
fn edges_functions_need_no_usable_provider_configuration() {
    let Some(w) = acc("edges_functions_need_no_usable_provider_configuration") else {
        return;
    };
    let mut tf = Tf::new(w);
    for key in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        tf.unset_env(key);
    }
    let functions = engine().has_provider_functions();
    let mut blocks = vec![
        provider(&[]),
        data(
            "eks_well_known_policy",
            "dns",
            &[("name", string("external-dns"))],
        ),
        output("dns_doc", "data.eks_well_known_policy.dns.policy_json"),
    ];
    if functions {
        blocks.push(output(
            "plain",
            "provider::eks::pod_identity_trust_policy(null)",
        ));
    }
    tf.write(&config(&blocks));
    tf.apply();
    let out = tf.outputs();
    assert!(
        out["dns_doc"]
            .as_str()
            .is_some_and(|d| d.contains("route53")),
        "{out}"
    );
    if functions {
        assert!(
            out["plain"]
                .as_str()
                .is_some_and(|d| d.contains("pods.eks.amazonaws.com"))
        );
    }
    // What does call AWS says what is wrong, at its first call.
    blocks.push(resource(
        "eks_pod_identity_association",
        "test",
        &[
            ("cluster_name", string("c")),
            ("namespace", string("default")),
            ("service_account", string("sa")),
            ("role_arn", string("arn:aws:iam::123456789012:role/r")),
        ],
    ));
    tf.write(&config(&blocks));
    let err = tf.plan_expect_error("No AWS region");
    assert!(err.contains("region"), "{err}");
    blocks.pop();
    tf.write(&config(&blocks));
    tf.destroy();
}

/// Item 1: the region an object is in is recorded in its state (as the
/// AWS provider v6 does). Writing the provider's own region plans nothing;
/// a change of the provider's region under an object made without
/// `region` is a replacement the plan shows, never "is gone"; a state
/// written before the region was recorded (null) is read where its ARN
/// says; destroy deletes the objects and the made role where they are.
/// Before: the plan said the association "is gone" and made another in the
/// new region with the same role; destroy then deleted the role under the
/// old association; and an explicit provider region planned an update.
#[test]
fn edges_provider_region_change_keeps_objects_where_they_are() {
    let Some(w) = acc("edges_provider_region_change_keeps_objects_where_they_are") else {
        return;
    };
    let east = w.new_cluster();
    let mut tf = Tf::new(w);
    tf.set_env("AWS_REGION", "us-east-1");
    let sa = random_name();
    let made = |region: Option<&str>| {
        let mut attrs = vec![
            ("cluster_name", string(&east)),
            ("namespace", string("default")),
            ("service_account", string(&sa)),
            ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
        ];
        if let Some(r) = region {
            attrs.push(("region", string(r)));
        }
        config(&[
            provider(&[]),
            resource("eks_pod_identity_association", "made", &attrs),
        ])
    };
    tf.write(&made(None));
    tf.apply();
    let state = tf.resource("eks_pod_identity_association.made");
    assert_eq!(
        state["region"], "us-east-1",
        "the region is recorded: {state}"
    );
    let id = state["association_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let role = state["role_name"].as_str().unwrap_or_default().to_string();

    // The provider's own region written out, and taken out again: nothing.
    tf.write(&made(Some("us-east-1")));
    tf.assert_plan_empty();
    tf.write(&made(None));
    tf.assert_plan_empty();

    // The same configuration, the provider now in us-west-2: a replacement
    // the plan shows, the association not taken for gone.
    tf.set_env("AWS_REGION", "us-west-2");
    let (empty, plan) = tf.plan();
    assert!(
        !empty,
        "a change of the provider's region planned nothing:\n{plan}"
    );
    assert!(plan.contains("must be replaced"), "{plan}");
    assert!(plan.contains("\"us-east-1\" -> \"us-west-2\""), "{plan}");
    assert!(!plan.contains("is gone"), "{plan}");
    // Pinning the region where the object is plans nothing.
    tf.write(&made(Some("us-east-1")));
    tf.assert_plan_empty();
    tf.write(&made(None));

    // A state written before the region was recorded: read where its ARN
    // says, so the change is still a replacement, and with the provider
    // back in us-east-1 nothing changes.
    tf.edit_state(|r| {
        if let Some(a) = r["attributes"].as_object_mut() {
            a.insert("region".into(), serde_json::Value::Null);
        }
    });
    let (_, plan) = tf.plan();
    assert!(plan.contains("must be replaced"), "{plan}");
    assert!(!plan.contains("is gone"), "{plan}");
    tf.set_env("AWS_REGION", "us-east-1");
    tf.assert_plan_empty();

    // Destroy from the other region deletes where the objects are.
    tf.edit_state(|r| {
        if let Some(a) = r["attributes"].as_object_mut() {
            a.insert("region".into(), serde_json::Value::Null);
        }
    });
    tf.set_env("AWS_REGION", "us-west-2");
    tf.destroy();
    assert!(
        w.describe_association(&east, &id).is_none(),
        "association left"
    );
    assert!(w.get_role(&role).is_none(), "made role left");
}
