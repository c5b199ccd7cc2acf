//! `eks_addon_pod_identity` end to end (issue 5): the agent, explicit
//! associations on made roles, recommended roles, in-place permission
//! changes, removing one of two associations, the explicit empty list, the
//! omitted-list error, IRSA → pod identity in one apply, plan-time checks,
//! preserve_on_delete, import, out-of-band deletion, nothing left behind.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc, contains_ignoring_wrap};
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
    // The import equals the applied state (issue 23 item 6: the
    // recommended entries' restrict_to_cluster was false where an import
    // reads null). The flag itself is the configuration's, which no import
    // can read (as the AWS provider's ImportStateVerifyIgnore), so the
    // entries are compared here rather than with import_verify, whose plan
    // would show the flag.
    let mut other = Tf::new(w);
    other.write(&addon(&cluster, "aws-ebs-csi-driver", &[]));
    other.import(ADDRESS, &format!("{cluster}:aws-ebs-csi-driver"));
    assert_eq!(
        other.resource(ADDRESS)["pod_identity_associations"],
        r["pod_identity_associations"],
        "the imported entries differ from the applied ones"
    );
    let released = other.run(&["state", "rm", ADDRESS]);
    assert_eq!(released.code, Some(0), "{}", released.output);

    // Deleted out of band: the resource stays for the role made for it
    // (issue 12), and the next plan installs the addon again with it.
    delete_addon_out_of_band(w, &cluster, "aws-ebs-csi-driver");
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
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
    // The switch, in one apply. The plan says the IRSA role stays (the
    // provider never makes IRSA roles, so it never deletes one).
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "pod_identity_associations",
            entries(&[made_entry("aws-node", &[CNI])]),
        )],
    ));
    let out = tf.plan_output();
    assert!(
        contains_ignoring_wrap(&out, "Addon vpc-cni stops using its IRSA role")
            && contains_ignoring_wrap(&out, &irsa.arn),
        "{out}"
    );
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
    // Installing it again is refused at plan, naming the kept association
    // and what to do (issue 23 item 10: before, a bare "Association already
    // exists" from CreateAddon at apply).
    let kept = w.list_associations(&cluster)[0]["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let out = tf.plan_expect_error("already have associations");
    assert!(contains_ignoring_wrap(&out, &kept), "{out}");
    assert!(
        contains_ignoring_wrap(&out, "delete-pod-identity-association"),
        "{out}"
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

/// Tests that set emulator faults (which hit every test of this binary)
/// hold this lock, so they never overwrite each other's faults. The faults
/// name addons no other test here installs (coredns, cloudwatch).
static FAULTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Resets the emulator's faults when dropped (also when a test panics).
struct FaultsOff(&'static World);

impl Drop for FaultsOff {
    fn drop(&mut self) {
        self.0.set_faults(&json!({}));
    }
}

fn remote_role(w: &World, cluster: &str, name: &str) -> String {
    str_of(&remote_addon(w, cluster, name).unwrap_or(Value::Null)["serviceAccountRoleArn"])
}

/// Issue 13 item 1: UpdateAddon without serviceAccountRoleArn strips the
/// IRSA role (FACTS.md F1), so every update of an IRSA addon re-sends it.
#[test]
fn addon_irsa_keeps_role_on_version_and_configuration_change() {
    let Some(w) = acc("addon_irsa_keeps_role_on_version_and_configuration_change") else {
        return;
    };
    let cluster = w.new_cluster();
    let irsa = w.create_pod_role();
    let mut tf = Tf::new(w);
    let irsa_attr = ("service_account_role_arn", string(&irsa.arn));
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[
            irsa_attr.clone(),
            ("addon_version", string("v1.19.0-eksbuild.1")),
        ],
    ));
    tf.apply();
    assert_eq!(remote_role(w, &cluster, "vpc-cni"), irsa.arn);
    // A version change keeps the role.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[
            irsa_attr.clone(),
            ("addon_version", string("v1.19.2-eksbuild.1")),
        ],
    ));
    tf.apply();
    let remote = remote_addon(w, &cluster, "vpc-cni").unwrap_or(Value::Null);
    assert_eq!(remote["addonVersion"], "v1.19.2-eksbuild.1");
    assert_eq!(
        str_of(&remote["serviceAccountRoleArn"]),
        irsa.arn,
        "{remote}"
    );
    tf.assert_plan_empty();
    // So does a configuration change.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[
            irsa_attr,
            ("addon_version", string("v1.19.2-eksbuild.1")),
            (
                "configuration_values",
                "jsonencode({ env = { WARM_IP_TARGET = \"5\" } })".into(),
            ),
        ],
    ));
    tf.apply();
    assert_eq!(remote_role(w, &cluster, "vpc-cni"), irsa.arn);
    tf.assert_plan_empty();
    // Removing the attribute removes IRSA (the member left out, never "").
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[("addon_version", string("v1.19.2-eksbuild.1"))],
    ));
    tf.apply();
    assert_eq!(remote_role(w, &cluster, "vpc-cni"), "");
    tf.assert_plan_empty();
    tf.destroy();
}

/// Issue 13 item 7: a role of another account is refused by EKS at once
/// ("Cross-account pass role is not allowed.") and the apply fails at once
/// with advice, instead of retrying for minutes.
#[test]
fn addon_cross_account_role_fails_at_once() {
    let Some(w) = acc("addon_cross_account_role_fails_at_once") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "service_account_role_arn",
            string("arn:aws:iam::999999999999:role/elsewhere"),
        )],
    ));
    let started = std::time::Instant::now();
    tf.apply_expect_error("must be in the EKS cluster's own account");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "a cross-account role was retried for {:?}",
        started.elapsed()
    );
    tf.destroy();
}

/// Issue 13 item 2: an addon that stays DEGRADED for reasons of its own
/// (coredns without nodes; FACTS.md F5) neither fails the apply nor plans
/// a diff, at create and after an update (judged by the Update's status).
#[test]
fn addon_degraded_neither_fails_nor_plans_a_diff() {
    let Some(w) = acc("addon_degraded_neither_fails_nor_plans_a_diff") else {
        return;
    };
    let _lock = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
    let _off = FaultsOff(w);
    w.set_faults(&json!({"addon_degraded": [{"addon_name": "coredns"}]}));
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let timeouts = "{\n    create = \"1m\"\n    update = \"1m\"\n  }";
    let with = |values: Option<&str>| {
        let mut attrs = vec![("timeouts", timeouts.to_string())];
        if let Some(v) = values {
            attrs.push(("configuration_values", v.to_string()));
        }
        addon(&cluster, "coredns", &attrs)
    };
    tf.write(&with(None).replace("timeouts =", "timeouts"));
    let out = tf.apply();
    assert!(
        acceptance_tests::contains_ignoring_wrap(&out, "the addon is DEGRADED"),
        "{out}"
    );
    assert_eq!(tf.resource(ADDRESS)["status"], "DEGRADED");
    tf.assert_plan_empty();
    // An update: done when the Update is Successful, DEGRADED or not.
    tf.write(&with(Some("jsonencode({ replicaCount = 3 })")).replace("timeouts =", "timeouts"));
    tf.apply();
    let remote = remote_addon(w, &cluster, "coredns").unwrap_or(Value::Null);
    assert_eq!(remote["status"], "DEGRADED", "{remote}");
    tf.assert_plan_empty();
    // Healthy again: refresh shows it, and still no diff.
    w.set_faults(&json!({}));
    tf.assert_plan_empty();
    tf.destroy();
}

/// Issue 13 item 8: configuration_values are checked at plan against the
/// addon version's JSON schema, naming the attribute and the bad key.
#[test]
fn addon_configuration_values_checked_at_plan() {
    let Some(w) = acc("addon_configuration_values_checked_at_plan") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "configuration_values",
            "jsonencode({ nodeSelector = { a = \"b\" } })".into(),
        )],
    ));
    let out = tf.plan_expect_error("key `nodeSelector` is not a setting");
    assert!(
        acceptance_tests::contains_ignoring_wrap(&out, "Invalid configuration_values"),
        "{out}"
    );
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "configuration_values",
            "jsonencode({ enableNetworkPolicy = true })".into(),
        )],
    ));
    tf.plan_expect_error("`enableNetworkPolicy` must be string, not boolean");
    assert!(remote_addon(w, &cluster, "vpc-cni").is_none());
    // A valid value, written differently later, plans no change.
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "configuration_values",
            string(r#"{"env":{"WARM_IP_TARGET":"5"}}"#),
        )],
    ));
    tf.apply();
    tf.write(&addon(
        &cluster,
        "vpc-cni",
        &[(
            "configuration_values",
            string(r#"{ "env": { "WARM_IP_TARGET": "5" } }"#),
        )],
    ));
    tf.assert_plan_empty();
    tf.destroy();
}

/// Issue 13 item 6: addon-owned associations can be changed and deleted
/// directly (FACTS.md F6); the plan shows it and apply repairs it.
#[test]
fn addon_owned_association_drift_is_repaired() {
    let Some(w) = acc("addon_owned_association_drift_is_repaired") else {
        return;
    };
    let cluster = w.new_cluster();
    let given = w.create_pod_role();
    let other = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.write(&addon(
        &cluster,
        "aws-efs-csi-driver",
        &[(
            "pod_identity_associations",
            entries(&[
                made_entry("efs-csi-controller-sa", &[EFS]),
                format!(
                    "{{ service_account = \"efs-csi-node-sa\", role_arn = {} }}",
                    string(&given.arn)
                ),
            ]),
        )],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let made_arn = str_of(&entry(&r, "efs-csi-controller-sa")["role_arn"]);
    let controller_id = str_of(&entry(&r, "efs-csi-controller-sa")["association_id"]);
    let node_id = str_of(&entry(&r, "efs-csi-node-sa")["association_id"]);
    tf.assert_plan_empty();
    let by_sa = |sa: &str| {
        w.list_associations(&cluster)
            .into_iter()
            .find(|a| a["serviceAccount"] == sa)
            .and_then(|a| {
                w.describe_association(&cluster, a["associationId"].as_str().unwrap_or_default())
            })
            .unwrap_or(Value::Null)
    };
    let update_planned = |tf: &Tf| {
        let actions = tf.plan_actions();
        assert_eq!(
            actions.get(ADDRESS).map(Vec::as_slice),
            Some(&["update".to_string()][..]),
            "{actions:?}"
        );
    };
    // By hand, the made role's association gets another role: drift.
    let changed = w.eks(
        "POST",
        &format!("/clusters/{cluster}/pod-identity-associations/{controller_id}"),
        Some(&json!({"roleArn": other.arn})),
    );
    assert!(changed.ok(), "{}", changed.body);
    update_planned(&tf);
    tf.apply();
    assert_eq!(str_of(&by_sa("efs-csi-controller-sa")["roleArn"]), made_arn);
    tf.assert_plan_empty();
    // By hand, an owned association is deleted: made again.
    w.delete_association(&cluster, &node_id);
    update_planned(&tf);
    tf.apply();
    assert_eq!(str_of(&by_sa("efs-csi-node-sa")["roleArn"]), given.arn);
    let remote = remote_addon(w, &cluster, "aws-efs-csi-driver").unwrap_or(Value::Null);
    assert_eq!(
        remote["podIdentityAssociations"].as_array().map(Vec::len),
        Some(2),
        "{remote}"
    );
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

/// Schema wiring (issue 12 item 5): `service_account_role_arn` beside
/// `pod_identity_associations = var.x` with `var.x` null validates and plans.
#[test]
fn addon_irsa_beside_a_null_variable_validates() {
    let Some(w) = acc("addon_irsa_beside_a_null_variable_validates") else {
        return;
    };
    let cluster = w.new_cluster();
    let irsa = w.create_pod_role();
    let mut tf = Tf::new(w);
    let body = addon(
        &cluster,
        "vpc-cni",
        &[
            ("service_account_role_arn", string(&irsa.arn)),
            ("pod_identity_associations", "var.entries".into()),
        ],
    );
    let variable = "variable \"entries\" {\n  type = list(object({ service_account = string, role_arn = string }))\n  default = null\n}\n";
    tf.write(&format!("{variable}\n{body}"));
    let run = tf.run(&["validate", "-no-color"]);
    assert_eq!(run.code, Some(0), "{}", run.output);
    tf.apply();
    assert_eq!(remote_role(w, &cluster, "vpc-cni"), irsa.arn);
    tf.assert_plan_empty();
    tf.destroy();
}

/// Issue 12 item 2: the addon deleted out of band while roles made for it
/// exist: the resource stays for them, and destroy deletes them.
#[test]
fn addon_deleted_out_of_band_keeps_its_roles_until_destroy() {
    let Some(w) = acc("addon_deleted_out_of_band_keeps_its_roles_until_destroy") else {
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
    let role = str_of(&entry(&tf.resource(ADDRESS), "ebs-csi-controller-sa")["role_name"]);
    delete_addon_out_of_band(w, &cluster, "aws-ebs-csi-driver");
    tf.destroy();
    assert!(
        w.get_role(&role).is_none(),
        "destroy after an out-of-band deletion left the made role"
    );
}

fn delete_addon_out_of_band(w: &World, cluster: &str, name: &str) {
    w.eks(
        "DELETE",
        &format!("/clusters/{cluster}/addons/{name}"),
        None,
    );
    for _ in 0..50 {
        if remote_addon(w, cluster, name).is_none() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the addon was not deleted out of band");
}

/// Issue 12 item 2: after an addon update that failed, the state lists the
/// entries whose roles were made for it, so backing out with `[]` deletes
/// those roles too.
#[test]
fn addon_failed_update_keeps_made_roles_in_state() {
    let Some(w) = acc("addon_failed_update_keeps_made_roles_in_state") else {
        return;
    };
    let _lock = FAULTS.lock().unwrap_or_else(|p| p.into_inner());
    let _off = FaultsOff(w);
    let cluster = w.new_cluster();
    let name = "amazon-cloudwatch-observability";
    let mut tf = Tf::new(w);
    tf.write(&addon(
        &cluster,
        name,
        &[("pod_identity_associations", "[]".into())],
    ));
    tf.apply();
    w.set_faults(&json!({"addon_fail": {
        "addon_name": name, "status": "UPDATE_FAILED",
        "code": "ConfigurationConflict", "message": "conflicts with existing objects"
    }}));
    tf.write(&addon(
        &cluster,
        name,
        &[(
            "pod_identity_associations",
            entries(&[made_entry("cloudwatch-agent", &[READ_ONLY])]),
        )],
    ));
    tf.apply_expect_error("conflicts with existing objects");
    w.set_faults(&json!({}));
    let r = tf.resource(ADDRESS);
    let role = str_of(&entry(&r, "cloudwatch-agent")["role_name"]);
    assert!(
        !role.is_empty(),
        "the failed update forgot the made role: {r}"
    );
    assert!(w.get_role(&role).is_some());
    // Back out.
    tf.write(&addon(
        &cluster,
        name,
        &[("pod_identity_associations", "[]".into())],
    ));
    tf.apply();
    assert!(
        w.get_role(&role).is_none(),
        "backing out leaked the made role"
    );
    tf.assert_plan_empty();
    tf.destroy();
}

/// Issue 12 item 7: `plan -generate-config-out` for an addon whose entries
/// have made roles (well-known policies, managed policies) writes a
/// configuration that plans empty.
#[test]
fn addon_import_block_generate_config_plans_empty() {
    let Some(w) = acc("addon_import_block_generate_config_plans_empty") else {
        return;
    };
    let e = acceptance_tests::engine();
    if !e.has_import_blocks() {
        eprintln!(
            "addon_import_block_generate_config_plans_empty: {e} has no import blocks; skipped"
        );
        return;
    }
    let cluster = w.new_cluster();
    let mut made = Tf::new(w);
    made.write(&addon(
        &cluster,
        "aws-efs-csi-driver",
        &[(
            "pod_identity_associations",
            entries(&[
                "{ service_account = \"efs-csi-controller-sa\", well_known_policies = [\"efs-csi-controller\"] }".to_string(),
                made_entry("efs-csi-node-sa", &[EFS]),
            ]),
        )],
    ));
    made.apply();
    let roles: Vec<String> = ["efs-csi-controller-sa", "efs-csi-node-sa"]
        .iter()
        .map(|sa| str_of(&entry(&made.resource(ADDRESS), sa)["role_name"]))
        .collect();
    // Forget it, then import it into a fresh configuration.
    made.run(&["state", "rm", ADDRESS]);
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        format!(
            "import {{\n  to = {ADDRESS}\n  id = {}\n}}\n",
            string(&format!("{cluster}:aws-efs-csi-driver"))
        ),
    ]));
    let run = tf.run(&[
        "plan",
        "-input=false",
        "-no-color",
        "-generate-config-out=generated.tf",
    ]);
    let generated = std::fs::read_to_string(tf.path().join("generated.tf")).unwrap_or_default();
    assert_eq!(
        run.code,
        Some(0),
        "{e}: plan -generate-config-out failed:\n{}\n--- generated.tf ---\n{generated}",
        run.output
    );
    assert!(generated.contains("efs-csi-controller\""), "{generated}");
    tf.apply();
    let (empty, output) = tf.plan();
    assert!(
        empty,
        "generated config does not plan empty:\n{output}\n--- generated.tf ---\n{generated}"
    );
    tf.destroy();
    for role in roles {
        assert!(w.get_role(&role).is_none(), "{role} is left");
    }
}

/// Issue 16: the refresh reads the roles made for the entries, so a made
/// role changed outside Terraform shows in the plan (the entry's role_arn
/// changes, with a warning that says what changed) and apply puts it back;
/// an update of a role the refresh vouched for makes only the calls that
/// differ (acceptance-tests/tests/calls.rs counts them).
#[test]
fn addon_made_role_drift_shows_and_is_repaired() {
    let Some(w) = acc("addon_made_role_drift_shows_and_is_repaired") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let sa = "ebs-csi-controller-sa";
    tf.write(&addon(
        &cluster,
        "aws-ebs-csi-driver",
        &[(
            "pod_identity_associations",
            entries(&[made_entry(sa, &[EBS])]),
        )],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let role = str_of(&entry(&r, sa)["role_name"]);
    tf.assert_plan_empty();

    // A policy attached and an inline policy added by hand.
    let answer = w.iam(
        "AttachRolePolicy",
        &[("RoleName", role.as_str()), ("PolicyArn", READ_ONLY)],
    );
    assert!(answer.ok(), "{}", answer.body);
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}).to_string();
    let answer = w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", role.as_str()),
            ("PolicyName", "by-hand"),
            ("PolicyDocument", doc.as_str()),
        ],
    );
    assert!(answer.ok(), "{}", answer.body);
    let (empty, out) = tf.plan();
    assert!(!empty, "the drifted made role does not show:\n{out}");
    for said in [
        "changed outside Terraform",
        READ_ONLY,
        "inline policies added: by-hand",
    ] {
        assert!(contains_ignoring_wrap(&out, said), "{said}:\n{out}");
    }
    tf.apply();
    assert_eq!(attached(w, &role), set_of(&[EBS]));
    assert!(w.list_role_policies(&role).is_empty());
    tf.assert_plan_empty();

    // Deleted by hand: the plan shows it, apply makes it again.
    for p in w.list_attached_role_policies(&role) {
        w.iam(
            "DetachRolePolicy",
            &[("RoleName", role.as_str()), ("PolicyArn", p.as_str())],
        );
    }
    w.delete_role(&role);
    let (empty, out) = tf.plan();
    assert!(!empty, "the deleted made role does not show:\n{out}");
    tf.apply();
    assert_eq!(attached(w, &role), set_of(&[EBS]));
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&role).is_none(), "the made role is left behind");
}

/// Issue 17: the addon's `created_at` and `modified_at` (RFC 3339); a tag
/// change plans `modified_at` unknown and leaves `created_at`.
#[test]
fn addon_timestamps() {
    let Some(w) = acc("addon_timestamps") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let cfg = |tags: &str| {
        addon(
            &cluster,
            "coredns",
            &[
                ("pod_identity_associations", "[]".to_string()),
                ("tags", tags.to_string()),
            ],
        )
    };
    tf.write(&cfg("{ a = \"1\" }"));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let created = str_of(&r["created_at"]);
    assert!(created.ends_with('Z') && created.len() == 20, "{created:?}");
    assert!(str_of(&r["modified_at"]).ends_with('Z'), "{r}");
    tf.assert_plan_empty();
    tf.write(&cfg("{ a = \"2\" }"));
    let (empty, out) = tf.plan();
    assert!(
        !empty && contains_ignoring_wrap(&out, "modified_at"),
        "{out}"
    );
    tf.apply();
    tf.assert_plan_empty();
    assert_eq!(str_of(&tf.resource(ADDRESS)["created_at"]), created);
    // After a tag change the addon is read back: the state is what a
    // refresh reads, also where tag calls move modifiedAt (strict rule X2).
    let applied = str_of(&tf.resource(ADDRESS)["modified_at"]);
    let run = tf.run(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_eq!(str_of(&tf.resource(ADDRESS)["modified_at"]), applied);
    tf.destroy();
}

/// Issue 17: `namespace_config` installs the addon in a namespace of the
/// user's choice: its association and made role are for that namespace, the
/// plan is empty, an import restores the block, and changing or removing it
/// replaces the addon.
#[test]
fn addon_namespace_config() {
    let Some(w) = acc("addon_namespace_config") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let sa = "ebs-csi-controller-sa";
    let cfg = |ns: Option<&str>| {
        let mut body = addon(
            &cluster,
            "aws-ebs-csi-driver",
            &[(
                "pod_identity_associations",
                entries(&[made_entry(sa, &[EBS])]),
            )],
        );
        if let Some(ns) = ns {
            let block = format!(
                "  namespace_config {{\n    namespace = {}\n  }}\n",
                string(ns)
            );
            let at = body.rfind('}').unwrap_or(body.len());
            body.insert_str(at, &block);
        }
        body
    };
    tf.write(&cfg(Some("storage")));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["namespace"], json!("storage"), "{r}");
    assert_eq!(r["namespace_config"]["namespace"], json!("storage"), "{r}");
    let remote = w.list_associations(&cluster);
    assert_eq!(remote.len(), 1, "{remote:?}");
    assert_eq!(remote[0]["namespace"], json!("storage"));
    let role = str_of(&entry(&r, sa)["role_name"]);
    let owner = w.iam("ListRoleTags", &[("RoleName", role.as_str())]).body;
    assert!(
        owner.contains(&format!("{cluster}/storage/{sa}")),
        "{owner}"
    );
    tf.assert_plan_empty();
    tf.import_verify(ADDRESS, &format!("{cluster}:aws-ebs-csi-driver"), &[]);

    for next in [Some("storage2"), None] {
        tf.write(&cfg(next));
        let actions = tf.plan_actions();
        assert_eq!(
            actions.get(ADDRESS).map(Vec::as_slice),
            Some(&["delete".to_string(), "create".to_string()][..]),
            "{next:?}: {actions:?}"
        );
        tf.apply();
        tf.assert_plan_empty();
    }
    let r = tf.resource(ADDRESS);
    assert_eq!(r["namespace"], json!("kube-system"), "{r}");
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
    assert!(w.get_role(&role).is_none(), "made role left behind");
}

/// Issue 17: an addon in another region than the provider's, with a role
/// made for it (its name scoped to that region), imported with `@region`.
#[test]
fn addon_in_another_region() {
    let Some(w) = acc("addon_in_another_region") else {
        return;
    };
    let west = "us-west-2";
    let cluster = acceptance_tests::random_name();
    w.create_cluster_in(west, &cluster);
    let mut tf = Tf::new(w);
    let sa = "ebs-csi-controller-sa";
    tf.write(&addon(
        &cluster,
        "aws-ebs-csi-driver",
        &[
            ("region", string(west)),
            (
                "pod_identity_associations",
                entries(&[made_entry(sa, &[EBS])]),
            ),
        ],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert!(
        r["addon_arn"]
            .as_str()
            .is_some_and(|a| a.contains(":us-west-2:")),
        "{r}"
    );
    let role = str_of(&entry(&r, sa)["role_name"]);
    assert_eq!(attached(w, &role), set_of(&[EBS]));
    tf.assert_plan_empty();
    tf.import_verify(
        ADDRESS,
        &format!("{cluster}:aws-ebs-csi-driver@{west}"),
        &[],
    );
    tf.destroy();
    let gone = w.eks_in(
        west,
        "GET",
        &format!("/clusters/{cluster}/addons/aws-ebs-csi-driver"),
        None,
    );
    assert!(!gone.ok(), "{}", gone.body);
    assert!(w.get_role(&role).is_none(), "made role left behind");
}

/// An entry's `permission_policy_name`: its made role's inline policy gets
/// that name; renaming it updates the addon's role in place, leaving only
/// the new name; import restores it.
#[test]
fn addon_entry_permission_policy_name() {
    let Some(w) = acc("addon_entry_permission_policy_name") else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"elasticfilesystem:DescribeFileSystems","Resource":"*"}]}"#;
    let with_name = |name: &str| {
        addon(
            &cluster,
            "aws-efs-csi-driver",
            &[(
                "pod_identity_associations",
                format!(
                    "[{{ service_account = \"efs-csi-controller-sa\", permission_policy = {}, permission_policy_name = {} }}]",
                    string(policy),
                    string(name)
                ),
            )],
        )
    };
    tf.write(&with_name("efs-describe"));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let role = str_of(&entry(&r, "efs-csi-controller-sa")["role_name"]);
    assert_eq!(
        w.list_role_policies(&role),
        vec!["efs-describe".to_string()]
    );
    tf.assert_plan_empty();
    tf.import_verify(ADDRESS, &format!("{cluster}:aws-efs-csi-driver"), &[]);

    tf.write(&with_name("efs-read"));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    assert_eq!(w.list_role_policies(&role), vec!["efs-read".to_string()]);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(
        w.get_role(&role).is_none(),
        "the made role outlived destroy"
    );
}
