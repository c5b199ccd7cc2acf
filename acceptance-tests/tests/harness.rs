//! The harness itself against the world (no terraform, no provider): moto's
//! IAM through our helpers, the emulator's EKS and admin routes.

use acceptance_tests::{acc, random_name};
use serde_json::json;

#[test]
fn harness_iam_roles() {
    let Some(w) = acc("harness_iam_roles") else {
        return;
    };
    let role = w.create_pod_role();
    assert_eq!(
        role.arn,
        format!("arn:aws:iam::123456789012:role/{}", role.name)
    );
    assert_eq!(
        role.trust_policy["Statement"][0]["Principal"]["Service"],
        "pods.eks.amazonaws.com"
    );
    let got = w
        .get_role(&role.name)
        .unwrap_or_else(|| panic!("role {} not found", role.name));
    assert_eq!(got.arn, role.arn);
    assert_eq!(got.trust_policy, role.trust_policy);
    assert!(w.list_roles().contains(&role.name));
    assert!(w.list_attached_role_policies(&role.name).is_empty());
    assert!(w.list_role_policies(&role.name).is_empty());
    w.delete_role(&role.name);
    assert!(w.get_role(&role.name).is_none());
    assert!(w.get_role(&random_name()).is_none());
}

#[test]
fn harness_emulator_associations() {
    let Some(w) = acc("harness_emulator_associations") else {
        return;
    };
    let cluster = w.new_cluster();
    assert_eq!(
        w.describe_cluster(&cluster).unwrap_or_default()["status"],
        "ACTIVE"
    );
    assert!(w.describe_cluster(&random_name()).is_none());
    let role = w.create_pod_role();
    let created = w.create_association(&cluster, "default", "sa", &role.arn);
    let id = created["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(id.len(), 19, "{created}");
    let described = w.describe_association(&cluster, &id).unwrap_or_default();
    assert_eq!(described["roleArn"], role.arn.as_str());
    assert_eq!(w.list_associations(&cluster).len(), 1);
    assert!(
        w.count("CreatePodIdentityAssociation") >= 1,
        "{}",
        w.counters()
    );
    assert!(w.state().to_string().contains(&id));
    w.delete_association(&cluster, &id);
    assert!(w.describe_association(&cluster, &id).is_none());
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn harness_emulator_checks_the_role() {
    let Some(w) = acc("harness_emulator_checks_the_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let path = format!("/clusters/{cluster}/pod-identity-associations");
    let missing = format!("arn:aws:iam::123456789012:role/{}", random_name());
    let answer = w.eks(
        "POST",
        &path,
        Some(&json!({"namespace": "default", "serviceAccount": "sa", "roleArn": missing})),
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("Role provided in the request does not exist"),
        "{}",
        answer.body
    );
}

#[test]
fn harness_emulator_addon() {
    let Some(w) = acc("harness_emulator_addon") else {
        return;
    };
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    let answer = w.eks("GET", &format!("/clusters/{cluster}/addons"), None);
    assert!(
        answer.body.contains("eks-pod-identity-agent"),
        "{}",
        answer.body
    );
}
