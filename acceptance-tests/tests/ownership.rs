//! Ownership (issue 12): a resource owns exactly what it made, nothing is
//! shared between two resources, what it made is deleted with it even when
//! something else vanished first, and every out-of-band change to what it
//! owns shows in the plan and is repaired by apply.
//!
//! Each test reproduces one reported failure; the names say which.

use acceptance_tests::hcl::{association, config, provider, resource, string};
use acceptance_tests::{Tf, World, acc, contains_ignoring_wrap, random_name};
use serde_json::{Value, json};

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// `eks_pod_identity_association.<label>` whose role the provider makes.
fn made(label: &str, cluster: &str, sa: &str) -> String {
    resource(
        "eks_pod_identity_association",
        label,
        &[
            ("cluster_name", string(cluster)),
            ("namespace", string("default")),
            ("service_account", string(sa)),
            ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
        ],
    )
}

fn str_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The association's role in EKS.
fn remote_role(w: &World, cluster: &str, id: &str) -> String {
    w.describe_association(cluster, id)
        .map(|a| str_of(&a, "roleArn"))
        .unwrap_or_default()
}

/// Item 1: two resources for one service account (same role) in one
/// configuration: exactly one gets the association; the other fails with the
/// existing ID and the import command, and never deletes it.
#[test]
fn ownership_two_resources_same_service_account_given_role() {
    let Some(w) = acc("ownership_two_resources_same_service_account_given_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        association("a", &cluster, "default", &sa, &role.arn, &[]),
        association("b", &cluster, "default", &sa, &role.arn, &[]),
    ]));
    let out = tf.apply_expect_error("terraform import");
    let state = tf.state_json();
    let owners: Vec<String> = ["a", "b"]
        .iter()
        .filter_map(|l| tf.resource_opt(&format!("eks_pod_identity_association.{l}")))
        .map(|r| str_of(&r, "association_id"))
        .collect();
    assert_eq!(owners.len(), 1, "both resources claim it:\n{state}\n{out}");
    assert!(
        contains_ignoring_wrap(&out, &owners[0]),
        "the error does not name the existing association {}:\n{out}",
        owners[0]
    );
    assert_eq!(w.list_associations(&cluster).len(), 1);
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

/// Item 1 with made roles, across two working directories (two workspaces):
/// the second is refused, and destroying it leaves the first's association
/// and role alone.
#[test]
fn ownership_two_workspaces_same_service_account_made_role() {
    let Some(w) = acc("ownership_two_workspaces_same_service_account_made_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut first = Tf::new(w);
    first.write(&config(&[provider(&[]), made("test", &cluster, &sa)]));
    first.apply();
    let owned = first.resource("eks_pod_identity_association.test");
    let (id, role) = (
        str_of(&owned, "association_id"),
        str_of(&owned, "role_name"),
    );

    let mut second = Tf::new(w);
    second.write(&config(&[provider(&[]), made("test", &cluster, &sa)]));
    let out = second.apply_expect_error(&id);
    assert!(contains_ignoring_wrap(&out, "terraform import"), "{out}");
    assert!(
        second
            .resource_opt("eks_pod_identity_association.test")
            .is_none(),
        "the second workspace adopted the first's association"
    );
    second.destroy();
    assert!(w.describe_association(&cluster, &id).is_some());
    assert!(w.get_role(&role).is_some(), "the first's role was deleted");
    first.assert_plan_empty();
    first.destroy();
    assert!(w.get_role(&role).is_none());
    assert!(w.list_associations(&cluster).is_empty());
}

/// Item 2: the association deleted outside Terraform must not orphan the
/// role the provider made: the plan recreates the association, and a
/// destroy after another out-of-band deletion still deletes the role.
#[test]
fn ownership_made_role_survives_out_of_band_association_deletion() {
    let Some(w) = acc("ownership_made_role_survives_out_of_band_association_deletion") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[]), made("test", &cluster, &sa)]));
    tf.apply();
    let r = tf.resource("eks_pod_identity_association.test");
    let (id, role) = (str_of(&r, "association_id"), str_of(&r, "role_name"));

    w.delete_association(&cluster, &id);
    assert!(
        !tf.plan_is_empty(),
        "the plan ignores the deleted association"
    );
    tf.apply();
    let r = tf.resource("eks_pod_identity_association.test");
    let id2 = str_of(&r, "association_id");
    assert_ne!(id2, id);
    assert_eq!(str_of(&r, "role_name"), role, "the role was not kept");
    tf.assert_plan_empty();

    // Deleted out of band again, then destroyed: the role goes too.
    w.delete_association(&cluster, &id2);
    tf.destroy();
    assert!(w.get_role(&role).is_none(), "made role {role} leaked");
}

/// Item 4: the association pointed at another role by hand shows in the
/// plan and apply points it back at the made role.
#[test]
fn ownership_role_arn_changed_out_of_band_on_made_role() {
    let Some(w) = acc("ownership_role_arn_changed_out_of_band_on_made_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let intruder = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[]), made("test", &cluster, &sa)]));
    tf.apply();
    let r = tf.resource("eks_pod_identity_association.test");
    let (id, made_arn) = (str_of(&r, "association_id"), str_of(&r, "role_arn"));
    let answer = w.eks(
        "POST",
        &format!("/clusters/{cluster}/pod-identity-associations/{id}"),
        Some(&json!({"roleArn": intruder.arn})),
    );
    assert!(answer.ok(), "{}", answer.body);
    assert_eq!(remote_role(w, &cluster, &id), intruder.arn);

    assert!(!tf.plan_is_empty(), "the changed role_arn does not show");
    tf.apply();
    assert_eq!(remote_role(w, &cluster, &id), made_arn);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(
        w.get_role(&intruder.name).is_some(),
        "a given role was touched"
    );
}

/// Item 4: an inline policy added to the made role by hand, and the made
/// role's owner tag removed, both show in the plan and are repaired.
#[test]
fn ownership_made_role_extra_policy_and_tags_repaired() {
    let Some(w) = acc("ownership_made_role_extra_policy_and_tags_repaired") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[]), made("test", &cluster, &sa)]));
    tf.apply();
    let role = str_of(
        &tf.resource("eks_pod_identity_association.test"),
        "role_name",
    );

    let everything = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let answer = w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", role.as_str()),
            ("PolicyName", "added-by-hand"),
            ("PolicyDocument", &everything.to_string()),
        ],
    );
    assert!(answer.ok(), "{}", answer.body);
    assert!(
        !tf.plan_is_empty(),
        "an extra inline policy plans no change"
    );
    tf.apply();
    assert!(
        !w.list_role_policies(&role)
            .iter()
            .any(|p| p == "added-by-hand"),
        "the extra policy is still there"
    );
    tf.assert_plan_empty();

    let answer = w.iam(
        "UntagRole",
        &[
            ("RoleName", role.as_str()),
            ("TagKeys.member.1", "eks-tools:pod-identity"),
        ],
    );
    assert!(answer.ok(), "{}", answer.body);
    assert!(!tf.plan_is_empty(), "a removed owner tag plans no change");
    tf.apply();
    tf.assert_plan_empty();
    let tags = w.iam("ListRoleTags", &[("RoleName", role.as_str())]);
    assert!(
        tags.body.contains("eks-tools:pod-identity"),
        "{}",
        tags.body
    );
    tf.destroy();
    assert!(w.get_role(&role).is_none());
}
