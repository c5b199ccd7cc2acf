//! The ownership gate (issue 22): no path writes a role it cannot prove it
//! made. Each test reproduces one reported take-over and checks the foreign
//! role byte for byte before and after (its trust, policies and tags, as
//! GetRole, ListAttachedRolePolicies, ListRolePolicies and GetRolePolicy
//! answer), through the destroy.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc, contains_ignoring_wrap, random_name};
use serde_json::json;

const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// Everything IAM says of a role, as text: trust, tags, attached and inline
/// policies (with documents). Two snapshots equal means untouched.
fn snapshot(w: &World, name: &str) -> Option<String> {
    let role = w.iam("GetRole", &[("RoleName", name)]);
    if role.body.contains("NoSuchEntity") {
        return None;
    }
    let mut out = role.body.clone();
    // The request ID differs on every answer.
    out = out
        .lines()
        .filter(|l| !l.contains("RequestId") && !l.contains("RoleLastUsed"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut attached = w.list_attached_role_policies(name);
    attached.sort();
    out.push_str(&format!("\nattached: {attached:?}"));
    let mut inline = w.list_role_policies(name);
    inline.sort();
    for p in inline {
        let doc = w.iam("GetRolePolicy", &[("RoleName", name), ("PolicyName", &p)]);
        out.push_str(&format!(
            "\ninline {p}: {}",
            doc.body
                .lines()
                .filter(|l| !l.contains("RequestId"))
                .collect::<String>()
        ));
    }
    Some(out)
}

/// Another team's role: trusts pods.eks.amazonaws.com, has an inline policy.
fn foreign_role(w: &World) -> String {
    let name = format!("team-b-{}", random_name());
    w.create_role(
        &name,
        &json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"]
            }]
        }),
    );
    let put = w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", name.as_str()),
            ("PolicyName", "team-b-policy"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#,
            ),
        ],
    );
    assert!(put.ok(), "{}", put.body);
    name
}

/// The reported reproduction: an association with a given role is changed
/// to a made role named like another team's role. Before the gate the
/// update converged that role (tagged it ours, deleted its inline policy)
/// and destroy deleted it. Now the update is refused and the role is
/// byte-equal after apply and after destroy.
#[test]
fn gate_foreign_role_named_on_update_is_refused_and_survives() {
    let Some(w) = acc("gate_foreign_role_named_on_update_is_refused_and_survives") else {
        return;
    };
    let cluster = w.new_cluster();
    let given = w.create_pod_role();
    let team_b = foreign_role(w);
    let before = snapshot(w, &team_b).expect("the foreign role exists");
    let sa = random_name();
    let base = [
        ("cluster_name", string(&cluster)),
        ("namespace", string("default")),
        ("service_account", string(&sa)),
    ];
    let mut tf = Tf::new(w);
    let mut given_attrs = base.to_vec();
    given_attrs.push(("role_arn", string(&given.arn)));
    tf.write(&config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &given_attrs),
    ]));
    tf.apply();
    let mut made_attrs = base.to_vec();
    made_attrs.push(("role_name", string(&team_b)));
    made_attrs.push(("permission_policy_arns", format!("[{}]", string(S3_READ))));
    tf.write(&config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &made_attrs),
    ]));
    let out = tf.apply_expect_error("never takes over or changes a role it did not make");
    assert!(contains_ignoring_wrap(&out, &team_b), "{out}");
    assert_eq!(
        snapshot(w, &team_b).as_ref(),
        Some(&before),
        "the foreign role changed"
    );
    tf.destroy();
    assert_eq!(
        snapshot(w, &team_b).as_ref(),
        Some(&before),
        "destroy touched the foreign role"
    );
    assert!(
        w.get_role(&given.name).is_some(),
        "the given role was deleted"
    );
    assert!(w.list_associations(&cluster).is_empty());
}

/// An addon entry whose role name is a role another resource made (an
/// association resource's finished made role for the same service
/// account): the entry never adopts it. Before the gate the addon adopted
/// it on its owner tag alone and converged its policies.
#[test]
fn gate_addon_entry_never_takes_another_resources_role() {
    let Some(w) = acc("gate_addon_entry_never_takes_another_resources_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = "ebs-csi-controller-sa";
    let role_name = format!("tf-acc-{}", random_name());
    let mut owner = Tf::new(w);
    owner.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "owner",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("kube-system")),
                ("service_account", string(sa)),
                ("role_name", string(&role_name)),
                ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
            ],
        ),
    ]));
    owner.apply();
    // The owner's association deleted out of band: the service account is
    // free (so the addon's plan does not stop at "already have
    // associations"), while the owner keeps its finished role.
    let id = owner.resource("eks_pod_identity_association.owner")["association_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    w.delete_association(&cluster, &id);
    let before = snapshot(w, &role_name).expect("the made role exists");
    let mut other = Tf::new(w);
    other.write(&config(&[
        provider(&[]),
        resource(
            "eks_addon_pod_identity",
            "test",
            &[
                ("cluster_name", string(&cluster)),
                ("addon_name", string("aws-ebs-csi-driver")),
                (
                    "pod_identity_associations",
                    format!(
                        "[{{ service_account = {}, role_name = {}, permission_policy_arns = [{}] }}]",
                        string(sa),
                        string(&role_name),
                        string(S3_READ)
                    ),
                ),
            ],
        ),
    ]));
    let out = other.apply_expect_error("belongs to another Terraform resource");
    assert!(contains_ignoring_wrap(&out, &role_name), "{out}");
    assert_eq!(
        snapshot(w, &role_name).as_ref(),
        Some(&before),
        "the owner's role changed"
    );
    other.destroy();
    assert_eq!(snapshot(w, &role_name).as_ref(), Some(&before));
    // The owner makes its association again with its own role.
    owner.apply();
    owner.assert_plan_empty();
    owner.destroy();
    assert!(w.get_role(&role_name).is_none());
}

/// Killed between the role's lease removal and the association's (the
/// role's goes first): a finished made role, and an association with a
/// dead apply's lease pointing at it, in no state. The association's lease
/// covers the role: one apply adopts both, with no import, and the plan
/// after it is empty. Before the gate this failed 20 of 20 times with "the
/// role belongs to another Terraform resource".
#[test]
fn gate_killed_between_the_two_lease_removals_converges() {
    let Some(w) = acc("gate_killed_between_the_two_lease_removals_converges") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let role_name = format!("tf-acc-{}", random_name());
    // What the dead apply left: the role finished (owner tag, no lease)...
    let role = w.create_role(
        &role_name,
        &json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"]
            }]
        }),
    );
    let owner = format!("{cluster}/default/{sa}");
    let tagged = w.iam(
        "TagRole",
        &[
            ("RoleName", role_name.as_str()),
            ("Tags.member.1.Key", "eks-tools:pod-identity"),
            ("Tags.member.1.Value", owner.as_str()),
        ],
    );
    assert!(tagged.ok(), "{}", tagged.body);
    // ...and its association still leased, by an apply long dead.
    let answer = w.eks(
        "POST",
        &format!("/clusters/{cluster}/pod-identity-associations"),
        Some(&json!({
            "namespace": "default",
            "serviceAccount": sa,
            "roleArn": role.arn,
            "disableSessionTags": false,
            "tags": {"eks-tools:creating": "2000-01-01T00:00:00Z/deadbeefdeadbeef"},
        })),
    );
    assert!(answer.ok(), "{}", answer.body);
    let id = answer.json()["association"]["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut tf = Tf::new(w);
    tf.set_env("EKS_POD_IDENTITY_LEASE_SECONDS", "10");
    tf.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "test",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("default")),
                ("service_account", string(&sa)),
                ("role_name", string(&role_name)),
                ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
            ],
        ),
    ]));
    tf.apply();
    let r = tf.resource("eks_pod_identity_association.test");
    assert_eq!(r["association_id"], id.as_str());
    assert_eq!(r["role_name"], role_name.as_str());
    assert_eq!(r["created_role"], true);
    let remote = w.describe_association(&cluster, &id).unwrap_or_default();
    assert!(
        remote["tags"].get("eks-tools:creating").is_none(),
        "{remote}"
    );
    let tags = w.iam("ListRoleTags", &[("RoleName", role_name.as_str())]);
    assert!(!tags.body.contains("eks-tools:creating"), "{}", tags.body);
    assert!(
        w.list_attached_role_policies(&role_name)
            .iter()
            .any(|p| p == READ_ONLY)
    );
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&role_name).is_none());
    assert!(w.list_associations(&cluster).is_empty());
}

/// A switch from a made role to a given one whose old role cannot be
/// deleted (IAM refuses: it is in an instance profile) keeps the old role
/// in the resource's private state: the apply says so, the next plan shows
/// a change with a warning naming it, and once IAM lets go the next apply
/// deletes it. Before: forgotten (orphaned) after the warning.
#[test]
fn gate_old_made_role_whose_deletion_failed_is_deleted_later() {
    let Some(w) = acc("gate_old_made_role_whose_deletion_failed_is_deleted_later") else {
        return;
    };
    let cluster = w.new_cluster();
    let given = w.create_pod_role();
    let sa = random_name();
    let base = [
        ("cluster_name", string(&cluster)),
        ("namespace", string("default")),
        ("service_account", string(&sa)),
    ];
    let mut made_attrs = base.to_vec();
    made_attrs.push(("permission_policy_arns", format!("[{}]", string(READ_ONLY))));
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &made_attrs),
    ]));
    tf.apply();
    let old = tf.resource("eks_pod_identity_association.test")["role_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let profile = random_name();
    assert!(
        w.iam(
            "CreateInstanceProfile",
            &[("InstanceProfileName", &profile)]
        )
        .ok()
    );
    let added = w.iam(
        "AddRoleToInstanceProfile",
        &[("InstanceProfileName", &profile), ("RoleName", &old)],
    );
    assert!(added.ok(), "{}", added.body);
    let mut given_attrs = base.to_vec();
    given_attrs.push(("role_arn", string(&given.arn)));
    tf.write(&config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &given_attrs),
    ]));
    let out = tf.apply_expect_error("kept to delete at the next apply or destroy");
    assert!(contains_ignoring_wrap(&out, &old), "{out}");
    assert_eq!(
        tf.resource("eks_pod_identity_association.test")["role_arn"],
        given.arn.as_str()
    );
    assert!(w.get_role(&old).is_some());
    let (empty, plan) = tf.plan();
    assert!(
        !empty,
        "the role left to delete is not in the plan:\n{plan}"
    );
    assert!(contains_ignoring_wrap(&plan, &old), "{plan}");
    let removed = w.iam(
        "RemoveRoleFromInstanceProfile",
        &[("InstanceProfileName", &profile), ("RoleName", &old)],
    );
    assert!(removed.ok(), "{}", removed.body);
    tf.apply();
    assert!(w.get_role(&old).is_none(), "the old made role leaked");
    tf.assert_plan_empty();
    tf.destroy();
    assert!(
        w.get_role(&given.name).is_some(),
        "the given role was deleted"
    );
    assert!(w.list_associations(&cluster).is_empty());
}
