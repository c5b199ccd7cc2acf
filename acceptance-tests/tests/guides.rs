//! The guide for teams coming from eksctl (docs/guides/moving-from-eksctl.md,
//! issue 26 item 2), applied as written (examples/moving-from-eksctl) from
//! what `eksctl create podidentityassociation` leaves.
//!
//! Our world has no CloudFormation, so the test makes what eksctl's stack
//! would, directly: the IAM role (named as CloudFormation names a stack's
//! role, `eksctl-<cluster>-podidentityrole-<ns>-<sa>-Role1-<suffix>`, cut to
//! IAM's 64 characters) with eksctl's tags and the pod identity trust and
//! the managed policy of `permissionPolicyARNs`, and the association, which
//! eksctl makes with the EKS API (pkg/actions/podidentityassociation at
//! commit 1e69cf0105f7: the stack holds the role only). Deleting the stack
//! deletes the role; the test does that by deleting the role.
//!
//! The other guides (from the AWS provider and from
//! terraform-aws-modules/eks-pod-identity) need the AWS provider's state
//! and live beside the moves in tests/moves.rs.

use acceptance_tests::{Tf, World, acc, engine};
use serde_json::{Value, json};

const POLICY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/// The role eksctl's stack makes for `app/app` in `cluster`.
fn create_eksctl_role(w: &World, cluster: &str) -> acceptance_tests::Role {
    let name: String = format!("eksctl-{cluster}-podidentityrole-app-app-Role1-A1B2C3D4E5F6")
        .chars()
        .take(64)
        .collect();
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        }]
    });
    let role = w.create_role(&name, &trust);
    let tags = [
        ("alpha.eksctl.io/cluster-name", cluster),
        ("alpha.eksctl.io/eksctl-version", "0.210.0"),
        ("alpha.eksctl.io/podidentityassociation-name", "app/app"),
    ];
    let mut params = vec![("RoleName".to_string(), name.clone())];
    for (i, (k, v)) in tags.iter().enumerate() {
        params.push((format!("Tags.member.{}.Key", i + 1), k.to_string()));
        params.push((format!("Tags.member.{}.Value", i + 1), v.to_string()));
    }
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let t = w.iam("TagRole", &refs);
    assert!(t.ok(), "TagRole: {}", t.body);
    let a = w.iam(
        "AttachRolePolicy",
        &[("RoleName", &name), ("PolicyArn", POLICY)],
    );
    assert!(a.ok(), "AttachRolePolicy: {}", a.body);
    role
}

/// The example as written, with `vars`.
fn example(w: &'static World, rel: &str, vars: &Value) -> Tf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root
        .parent()
        .unwrap_or(root)
        .join("examples")
        .join(rel)
        .join("main.tf");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let mut tf = Tf::new(w);
    std::fs::write(tf.path().join("terraform.tfvars.json"), vars.to_string())
        .unwrap_or_else(|e| panic!("writing the variables: {e}"));
    tf.write(&text);
    tf
}

/// Import of eksctl's association with its role kept as a given one (the
/// plan: the import and nothing else; IAM and EKS unchanged), then the
/// switch to a made role in place (the association keeps its ID: no gap
/// for the pods), then eksctl's role gone with its stack: the plan stays
/// empty.
#[test]
fn guide_moving_from_eksctl() {
    let Some(w) = acc("guide_moving_from_eksctl") else {
        return;
    };
    let e = engine();
    if !(e.is_opentofu() || e.at_least(1, 8)) {
        eprintln!("skipped: the example needs Terraform 1.8 (import blocks with expressions)");
        return;
    }
    let cluster = w.new_cluster();
    let eksctl_role = create_eksctl_role(w, &cluster);
    let body = json!({"namespace": "app", "serviceAccount": "app", "roleArn": eksctl_role.arn});
    let path = format!("/clusters/{cluster}/pod-identity-associations");
    let answer = w.eks("POST", &path, Some(&body));
    assert!(answer.ok(), "CreatePodIdentityAssociation: {}", answer.body);
    let id = answer.json()["association"]["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let before = w.describe_association(&cluster, &id);
    let role_before = w.role_snapshot(&eksctl_role.name);

    // Step 1: import; eksctl's role stays a given role, untouched.
    let mut vars = json!({
        "cluster_name": cluster,
        "association_id": id,
        "eksctl_role_arn": eksctl_role.arn,
    });
    let tf = example(w, "moving-from-eksctl", &vars);
    let plan = tf.plan_output();
    assert!(
        plan.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    let actions = tf.plan_actions();
    assert!(actions.is_empty(), "{actions:?}");
    tf.apply();
    tf.assert_plan_empty();
    let imported = tf.resource("eks_pod_identity_association.app");
    assert_eq!(imported["association_id"], id.as_str());
    assert_eq!(
        imported["created_role"], false,
        "a given role: never deleted"
    );
    assert_eq!(w.describe_association(&cluster, &id), before, "EKS changed");
    assert_eq!(
        w.role_snapshot(&eksctl_role.name),
        role_before,
        "eksctl's role was changed: the provider must leave a role it did not make alone"
    );

    // Step 2: a made role, switched to in place.
    vars["use_made_role"] = json!(true);
    std::fs::write(tf.path().join("terraform.tfvars.json"), vars.to_string())
        .unwrap_or_else(|e| panic!("writing the variables: {e}"));
    let actions = tf.plan_actions();
    let expected: Vec<(&str, Vec<String>)> = vec![
        ("eks_pod_identity_association.app", vec!["update".into()]),
        ("eks_pod_identity_role.app[0]", vec!["create".into()]),
    ];
    let found: Vec<(&str, Vec<String>)> = actions
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    assert_eq!(found, expected);
    tf.apply();
    tf.assert_plan_empty();
    let made = tf.resource("eks_pod_identity_role.app[0]");
    let now = w
        .describe_association(&cluster, &id)
        .unwrap_or_else(|| panic!("the association {id} is gone"));
    assert_eq!(now["associationId"], id.as_str(), "updated in place");
    assert_eq!(now["roleArn"], made["arn"]);

    // eksctl's stack deleted (with its role): nothing here depends on it.
    w.delete_role_and_policies(&eksctl_role.name);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.describe_association(&cluster, &id).is_none());
    let made_name = made["name"].as_str().unwrap_or_default();
    assert!(
        w.get_role(made_name).is_none(),
        "the made role is deleted with it"
    );
}

/// Each guide shows its example as the acceptance tests apply it: the
/// example's main.tf, verbatim, inside the guide (runs without TF_ACC).
#[test]
fn guides_embed_their_examples_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = root.parent().unwrap_or(root);
    for (guide, example) in [
        (
            "moving-from-the-aws-provider",
            "moving-from-the-aws-provider",
        ),
        (
            "moving-from-the-eks-pod-identity-module",
            "moving-from-eks-pod-identity-module",
        ),
        ("moving-from-eksctl", "moving-from-eksctl"),
    ] {
        let read = |p: std::path::PathBuf| {
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
        };
        let text = read(repo.join("docs/guides").join(format!("{guide}.md")));
        let tf = read(repo.join("examples").join(example).join("main.tf"));
        assert!(
            text.contains(&format!("```terraform\n{tf}```")),
            "docs/guides/{guide}.md does not show examples/{example}/main.tf as it is"
        );
    }
}
