//! `eks_addon_pod_identity` end to end (issue 5): the agent, explicit
//! associations on made roles, recommended roles, in-place permission
//! changes, removing one of two associations, the explicit empty list, the
//! omitted-list error, IRSA → pod identity in one apply, plan-time checks,
//! preserve_on_delete, import, out-of-band deletion, nothing left behind.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ADDRESS: &str = "eks_addon_pod_identity.test";
const CNI: &str = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
const EFS: &str = "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy";
const EBS: &str = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

fn addon(cluster: &str, name: &str, attrs: &[(&str, String)]) -> String {
    let mut all = vec![
        ("cluster_name", string(cluster)),
        ("addon_name", string(name)),
    ];
    all.extend(attrs.iter().cloned());
    config(&[
        provider(&[]),
        resource("eks_addon_pod_identity", "test", &all),
    ])
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| string(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A `pod_identity_associations` entry with a made role.
fn made_entry(sa: &str, policies: &[&str]) -> String {
    format!(
        "{{ service_account = {}, permission_policy_arns = {} }}",
        string(sa),
        list(policies)
    )
}

fn entries(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn remote_addon(w: &World, cluster: &str, name: &str) -> Option<Value> {
    let a = w.eks("GET", &format!("/clusters/{cluster}/addons/{name}"), None);
    a.ok().then(|| a.json()["addon"].clone())
}

fn entry<'a>(r: &'a Value, sa: &str) -> &'a Value {
    r["pod_identity_associations"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["service_account"] == sa))
        .unwrap_or(&Value::Null)
}

fn attached(w: &World, role: &str) -> BTreeSet<String> {
    w.list_attached_role_policies(role).into_iter().collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

#[test]
fn addon_agent_and_warning() {
    let Some(w) = acc("addon_agent_and_warning") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    tf.write(&addon(&cluster, "eks-pod-identity-agent", &[]));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["status"], "ACTIVE");
    assert_eq!(r["id"], format!("{cluster}:eks-pod-identity-agent"));
    assert!(!str_of(&r["resolved_version"]).is_empty());
    assert_eq!(r["addon_version"], r["resolved_version"]);
    assert!(remote_addon(w, &cluster, "eks-pod-identity-agent").is_some());
    tf.assert_plan_empty();
    // Associations on the agent are refused at plan time.
    tf.write(&addon(
        &cluster,
        "eks-pod-identity-agent",
        &[(
            "pod_identity_associations",
            entries(&[made_entry("x", &[READ_ONLY])]),
        )],
    ));
    tf.plan_expect_error("takes no associations");
    tf.write(&addon(&cluster, "eks-pod-identity-agent", &[]));
    tf.destroy();
    assert!(remote_addon(w, &cluster, "eks-pod-identity-agent").is_none());
}

#[test]
fn addon_explicit_entries_update_remove_and_empty() {
    let Some(w) = acc("addon_explicit_entries_update_remove_and_empty") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let two = addon(
        &cluster,
        "aws-efs-csi-driver",
        &[(
            "pod_identity_associations",
            entries(&[
                made_entry("efs-csi-controller-sa", &[EFS]),
                made_entry("efs-csi-node-sa", &[EFS]),
            ]),
        )],
    );
    tf.write(&two);
    tf.apply();
    let r = tf.resource(ADDRESS);
    let controller = str_of(&entry(&r, "efs-csi-controller-sa")["role_name"]);
    let node = str_of(&entry(&r, "efs-csi-node-sa")["role_name"]);
    assert_eq!(attached(w, &controller), set_of(&[EFS]));
    assert_eq!(attached(w, &node), set_of(&[EFS]));
    let remote = remote_addon(w, &cluster, "aws-efs-csi-driver").unwrap_or(Value::Null);
    assert_eq!(
        remote["podIdentityAssociations"].as_array().map(Vec::len),
        Some(2)
    );
    let id = str_of(&entry(&r, "efs-csi-controller-sa")["association_id"]);
    let assoc = w.describe_association(&cluster, &id).unwrap_or(Value::Null);
    assert_eq!(assoc["ownerArn"], r["addon_arn"]);
    assert_eq!(
        assoc["roleArn"],
        entry(&r, "efs-csi-controller-sa")["role_arn"]
    );
    tf.assert_plan_empty();

    // Change permissions in place: same roles, one more policy.
    tf.write(&addon(
        &cluster,
        "aws-efs-csi-driver",
        &[(
            "pod_identity_associations",
            entries(&[
                made_entry("efs-csi-controller-sa", &[EFS, READ_ONLY]),
                made_entry("efs-csi-node-sa", &[EFS]),
            ]),
        )],
    ));
    tf.apply();
    assert_eq!(attached(w, &controller), set_of(&[EFS, READ_ONLY]));
    assert_eq!(
        str_of(&entry(&tf.resource(ADDRESS), "efs-csi-controller-sa")["role_name"]),
        controller
    );
    tf.assert_plan_empty();

    // Import rebuilds the list from the addon's associations.
    tf.import_verify(ADDRESS, &format!("{cluster}:aws-efs-csi-driver"), &[]);

    // Remove one of two: its role is gone, the other untouched.
    tf.write(&addon(
        &cluster,
        "aws-efs-csi-driver",
        &[(
            "pod_identity_associations",
            entries(&[made_entry("efs-csi-controller-sa", &[EFS, READ_ONLY])]),
        )],
    ));
    tf.apply();
    assert!(
        w.get_role(&node).is_none(),
        "the removed entry's role is still there"
    );
    assert_eq!(attached(w, &controller), set_of(&[EFS, READ_ONLY]));
    let remote = remote_addon(w, &cluster, "aws-efs-csi-driver").unwrap_or(Value::Null);
    assert_eq!(
        remote["podIdentityAssociations"].as_array().map(Vec::len),
        Some(1)
    );
    tf.assert_plan_empty();

    // Omitting the list now is a plan-time error; the explicit [] removes all.
    tf.write(&addon(&cluster, "aws-efs-csi-driver", &[]));
    tf.plan_expect_error("pod_identity_associations = []");
    tf.write(&addon(
        &cluster,
        "aws-efs-csi-driver",
        &[("pod_identity_associations", "[]".into())],
    ));
    tf.apply();
    assert!(w.get_role(&controller).is_none());
    let remote = remote_addon(w, &cluster, "aws-efs-csi-driver").unwrap_or(Value::Null);
    assert_eq!(
        remote["podIdentityAssociations"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        0
    );
    tf.assert_plan_empty();
    tf.destroy();
    assert!(remote_addon(w, &cluster, "aws-efs-csi-driver").is_none());
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn addon_recommended_and_out_of_band_deletion() {
    let Some(w) = acc("addon_recommended_and_out_of_band_deletion") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    tf.write(&addon(
        &cluster,
        "aws-ebs-csi-driver",
        &[("use_recommended_pod_identity", "true".into())],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let e = entry(&r, "ebs-csi-controller-sa");
    let role = str_of(&e["role_name"]);
    assert_eq!(e["created_role"], true);
    assert_eq!(attached(w, &role), set_of(&[EBS]));
    assert_eq!(
        r["recommended"][0]["service_account"],
        "ebs-csi-controller-sa"
    );
    tf.assert_plan_empty();

    // Deleted out of band: the next plan installs it again.
    w.eks(
        "DELETE",
        &format!("/clusters/{cluster}/addons/aws-ebs-csi-driver"),
        None,
    );
    let mut gone = false;
    for _ in 0..50 {
        if remote_addon(w, &cluster, "aws-ebs-csi-driver").is_none() {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(gone, "the addon was not deleted out of band");
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["create".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    assert_eq!(
        str_of(&entry(&tf.resource(ADDRESS), "ebs-csi-controller-sa")["role_name"]),
        role
    );
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&role).is_none());
}

#[test]
fn addon_irsa_to_pod_identity_in_one_apply() {
    let Some(w) = acc("addon_irsa_to_pod_identity_in_one_apply") else {
        return;
    };
    let cluster = w.new_cluster();
    let irsa = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[("service_account_role_arn", string(&irsa.arn))],
    ));
    tf.apply();
    assert_eq!(
        remote_addon(w, &cluster, "vpc-cni").unwrap_or(Value::Null)["serviceAccountRoleArn"],
        irsa.arn.as_str()
    );
    tf.assert_plan_empty();
    // Both at once is refused at plan time.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[
            ("service_account_role_arn", string(&irsa.arn)),
            (
                "pod_identity_associations",
                entries(&[made_entry("aws-node", &[CNI])]),
            ),
        ],
    ));
    tf.plan_expect_error("IRSA and pod identity on one addon");
    // The switch, in one apply.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "pod_identity_associations",
            entries(&[made_entry("aws-node", &[CNI])]),
        )],
    ));
    tf.apply();
    let remote = remote_addon(w, &cluster, "vpc-cni").unwrap_or(Value::Null);
    assert!(
        remote["serviceAccountRoleArn"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{remote}"
    );
    assert_eq!(
        remote["podIdentityAssociations"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        w.get_role(&irsa.name).is_some(),
        "a role we did not make was deleted"
    );
    tf.assert_plan_empty();
    tf.destroy();
}

#[test]
fn addon_plan_time_checks_and_preserve() {
    let Some(w) = acc("addon_plan_time_checks_and_preserve") else {
        return;
    };
    // Kubernetes 1.29, where vpc-cni versions without pod identity exist.
    let cluster = acceptance_tests::random_name();
    let made = w.eks(
        "POST",
        "/clusters",
        Some(&json!({"name": cluster, "version": "1.29", "roleArn": "arn:aws:iam::123456789012:role/eks-cluster", "resourcesVpcConfig": {}})),
    );
    assert!(made.ok(), "{}", made.body);
    let mut tf = Tf::new(w);
    // A version without pod identity support.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[
            ("addon_version", string("v1.15.1-eksbuild.1")),
            (
                "pod_identity_associations",
                entries(&[made_entry("aws-node", &[CNI])]),
            ),
        ],
    ));
    tf.plan_expect_error("not supported for addon version");
    // A service account the addon does not declare.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "pod_identity_associations",
            entries(&[made_entry("other-sa", &[CNI])]),
        )],
    ));
    tf.plan_expect_error("It declares: aws-node");
    // An unknown version lists compatible ones.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[("addon_version", string("v9.9.9"))],
    ));
    tf.plan_expect_error("Compatible versions");
    assert!(
        remote_addon(w, &cluster, "vpc-cni").is_none(),
        "a failing plan installed the addon"
    );

    // preserve_on_delete keeps software, associations and roles.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[
            ("addon_version", string("latest")),
            ("preserve_on_delete", "true".into()),
            (
                "pod_identity_associations",
                entries(&[made_entry("aws-node", &[CNI])]),
            ),
        ],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["addon_version"], "latest");
    assert_eq!(r["resolved_version"], "v1.19.2-eksbuild.1");
    let role = str_of(&entry(&r, "aws-node")["role_name"]);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(
        w.get_role(&role).is_some(),
        "preserve_on_delete lost the role"
    );
    assert_eq!(
        w.list_associations(&cluster).len(),
        1,
        "preserve_on_delete lost the association"
    );
    // Clean up what was preserved.
    let left = w.list_associations(&cluster);
    for a in left {
        w.delete_association(&cluster, a["associationId"].as_str().unwrap_or_default());
    }
    for p in w.list_attached_role_policies(&role) {
        w.iam(
            "DetachRolePolicy",
            &[("RoleName", &role), ("PolicyArn", &p)],
        );
    }
    w.delete_role(&role);
}

#[test]
fn addon_configuration_data_source() {
    let Some(w) = acc("addon_configuration_data_source") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let data = |label: &str, attrs: &[(&str, String)]| {
        acceptance_tests::hcl::data("eks_addon_pod_identity_configuration", label, attrs)
    };
    tf.write(&config(&[
        provider(&[]),
        data(
            "ebs",
            &[
                ("addon_name", string("aws-ebs-csi-driver")),
                ("cluster_name", string(&cluster)),
            ],
        ),
        data(
            "old",
            &[
                ("addon_name", string("vpc-cni")),
                ("addon_version", string("v1.15.1-eksbuild.1")),
            ],
        ),
        data(
            "latest",
            &[
                ("addon_name", string("vpc-cni")),
                ("addon_version", string("latest")),
                ("kubernetes_version", string("1.31")),
            ],
        ),
        acceptance_tests::hcl::output("ebs", "data.eks_addon_pod_identity_configuration.ebs"),
        acceptance_tests::hcl::output("old", "data.eks_addon_pod_identity_configuration.old"),
        acceptance_tests::hcl::output(
            "latest",
            "data.eks_addon_pod_identity_configuration.latest.resolved_version",
        ),
    ]));
    tf.apply();
    let out = tf.outputs();
    assert_eq!(out["ebs"]["supports_pod_identity"], true);
    assert_eq!(out["ebs"]["requires_iam_permissions"], true);
    assert_eq!(
        out["ebs"]["service_accounts"][0]["service_account"],
        "ebs-csi-controller-sa"
    );
    assert_eq!(
        out["ebs"]["service_accounts"][0]["managed_policy_arns"],
        json!([EBS])
    );
    assert_eq!(out["old"]["supports_pod_identity"], false);
    assert_eq!(out["latest"], "v1.19.2-eksbuild.1");
}
