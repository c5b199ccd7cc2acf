//! `eks_pod_identity_migration` (issue 6) on an emulated cluster seeded
//! with IRSA service accounts: roles with and without a path, a role shared
//! by two service accounts, a role whose trust has array conditions, a
//! string principal and a Sid, a role that also trusts another cluster, an
//! addon on IRSA and an excluded service account.
//!
//! One long lifecycle (plan shows the tasks → apply → trust checked
//! statement by statement → empty plan and no-op apply → a new annotated
//! service account → a deleted association → remove_oidc_trust → rollback
//! on destroy), plus a fault on one role between plan and apply.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc, random_name};
use serde_json::{Value, json};

const ADDRESS: &str = "eks_pod_identity_migration.test";
const ACCOUNT: &str = "123456789012";
const EBS: &str = "aws-ebs-csi-driver";
/// Declares two service accounts in the emulator: efs-csi-controller-sa and efs-csi-node-sa.
const EFS: &str = "aws-efs-csi-driver";

fn migration(cluster: &str, extra: &[(&str, String)]) -> String {
    let mut attrs = vec![("cluster_name", string(cluster))];
    attrs.extend(extra.iter().cloned());
    config(&[
        provider(&[]),
        resource("eks_pod_identity_migration", "test", &attrs),
    ])
}

fn set(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| string(i)).collect();
    format!("[{}]", quoted.join(", "))
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

fn trust(w: &World, role: &str) -> Value {
    w.get_role(role).expect("role").trust_policy
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![doc["Statement"].clone()],
        _ => vec![],
    }
}

/// Same policy up to the order of its statements (which IAM ignores): the
/// rollback puts a removed statement back at the end.
fn same_meaning(a: &Value, b: &Value) -> bool {
    let sorted = |d: &Value| {
        let mut list: Vec<String> = statements(d).iter().map(Value::to_string).collect();
        list.sort();
        list
    };
    let rest = |d: &Value| {
        let mut d = d.clone();
        if let Some(o) = d.as_object_mut() {
            o.remove("Statement");
        }
        d
    };
    sorted(a) == sorted(b) && rest(a) == rest(b)
}

fn pods_statements(doc: &Value) -> usize {
    statements(doc)
        .iter()
        .filter(|s| s["Principal"]["Service"] == "pods.eks.amazonaws.com")
        .count()
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

fn sa_annotation(w: &World, cluster: &str, ns: &str, name: &str) -> Option<String> {
    let dump = w
        .eks("GET", &format!("/_emulator/kubernetes/{cluster}"), None)
        .json();
    dump["serviceAccounts"]
        .as_array()?
        .iter()
        .find(|s| s["metadata"]["namespace"] == ns && s["metadata"]["name"] == name)?
        ["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        .as_str()
        .map(str::to_string)
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

fn addon(w: &World, cluster: &str, name: &str) -> Value {
    w.eks("GET", &format!("/clusters/{cluster}/addons/{name}"), None)
        .json()["addon"]
        .clone()
}

fn create_irsa_addon(w: &World, cluster: &str, name: &str, role_arn: &str) {
    let answer = w.eks(
        "POST",
        &format!("/clusters/{cluster}/addons"),
        Some(&json!({"addonName": name, "serviceAccountRoleArn": role_arn})),
    );
    assert!(answer.ok(), "CreateAddon: {}", answer.body);
    for _ in 0..600 {
        if addon(w, cluster, name)["status"] == "ACTIVE" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("addon not ACTIVE");
}

struct Seeded {
    cluster: String,
    shared: String,
    pathy: String,
    odd: String,
    odd_original: Value,
    excluded: String,
    addon_role: String,
    other_provider: String,
}

/// A cluster with IRSA service accounts, an IRSA addon, and their roles.
fn seed(w: &World) -> Seeded {
    let cluster = w.new_cluster();
    let (provider_arn, host) = oidc(w, &cluster);
    let other_provider = format!(
        "arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    );
    let sub = |ns: &str, sa: &str| json!(format!("system:serviceaccount:{ns}:{sa}"));
    let doc = |stmts: Vec<Value>| json!({"Version": "2012-10-17", "Statement": stmts});

    let shared = create_role(
        w,
        &random_name(),
        "/",
        &doc(vec![irsa_statement(
            &provider_arn,
            &host,
            json!(["system:serviceaccount:a:one", "system:serviceaccount:a:two"]),
        )]),
    );
    let pathy = create_role(
        w,
        &random_name(),
        "/team/irsa/",
        &doc(vec![
            irsa_statement(&provider_arn, &host, sub("b", "pathy")),
            irsa_statement(
                &other_provider,
                "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF",
                sub("b", "pathy"),
            ),
        ]),
    );
    let odd_original = doc(vec![
        json!({
            "Sid": "Humans",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"aws:PrincipalTag/team": ["platform", "sre"]},
                          "Bool": {"aws:MultiFactorAuthPresent": "true"}}
        }),
        json!({"Sid": "Irsa", "Effect": "Allow", "Principal": {"Federated": provider_arn},
               "Action": ["sts:AssumeRoleWithWebIdentity"],
               "Condition": {"StringEquals": {format!("{host}:sub"): ["system:serviceaccount:c:odd"]}}}),
    ]);
    let odd = create_role(w, &random_name(), "/", &odd_original);
    let excluded = create_role(
        w,
        &random_name(),
        "/",
        &doc(vec![irsa_statement(
            &provider_arn,
            &host,
            sub("d", "excluded"),
        )]),
    );
    let addon_role = create_role(
        w,
        &random_name(),
        "/",
        &doc(vec![irsa_statement(
            &provider_arn,
            &host,
            sub("kube-system", "ebs-csi-controller-sa"),
        )]),
    );
    seed_sa(w, &cluster, "a", "one", Some(&shared));
    seed_sa(w, &cluster, "a", "two", Some(&shared));
    seed_sa(w, &cluster, "b", "pathy", Some(&pathy));
    seed_sa(w, &cluster, "c", "odd", Some(&odd));
    seed_sa(w, &cluster, "d", "excluded", Some(&excluded));
    seed_sa(w, &cluster, "a", "plain", None);
    create_irsa_addon(w, &cluster, EBS, &addon_role);
    // EKS annotates the addon's service account with its IRSA role.
    seed_sa(
        w,
        &cluster,
        "kube-system",
        "ebs-csi-controller-sa",
        Some(&addon_role),
    );
    Seeded {
        cluster,
        shared,
        pathy,
        odd,
        odd_original,
        excluded,
        addon_role,
        other_provider,
    }
}

fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or_default()
}

#[test]
fn migration_basic() {
    let Some(w) = acc("migration_basic") else {
        return;
    };
    let s = seed(w);
    let (provider_arn, _) = oidc(w, &s.cluster);
    let originals: Vec<(String, Value)> = [&s.shared, &s.pathy, &s.odd, &s.excluded, &s.addon_role]
        .iter()
        .map(|arn| (arn.to_string(), trust(w, name_of(arn))))
        .collect();
    let mut tf = Tf::new(w);
    let exclude = ("exclude", set(&["d/excluded"]));
    tf.write(&migration(&s.cluster, std::slice::from_ref(&exclude)));

    // The plan shows the task tree, and changes nothing.
    let plan = tf.plan_output();
    eprintln!("[migration plan]\n{plan}");
    for needle in [
        "install_agent",
        "switch_addon",
        "a/one",
        "a/two",
        "b/pathy",
        "c/odd",
        "create_association",
        "update_trust",
        "/team/irsa/",
    ] {
        assert!(plan.contains(needle), "plan lacks {needle}:\n{plan}");
    }
    let targets: Vec<&str> = plan.lines().filter(|l| l.contains("target")).collect();
    assert!(!targets.iter().any(|l| l.contains("d/excluded")), "{plan}");
    assert!(!targets.iter().any(|l| l.contains("a/plain")), "{plan}");
    assert!(
        !targets.iter().any(|l| l.contains("ebs-csi-controller-sa")),
        "{plan}"
    );
    assert!(associations(w, &s.cluster).is_empty());
    assert_eq!(trust(w, name_of(&s.shared)), originals[0].1);

    let before = w.counters();
    tf.apply();
    let after = w.counters();
    eprintln!("[migration counters before] {before}\n[migration counters after] {after}");

    let assoc = associations(w, &s.cluster);
    for sa in ["a/one", "a/two", "b/pathy", "c/odd"] {
        assert!(assoc.contains_key(sa), "{sa} has no association: {assoc:?}");
    }
    assert!(!assoc.contains_key("d/excluded"));
    assert!(!assoc.contains_key("a/plain"));
    assert!(addon(w, &s.cluster, "eks-pod-identity-agent")["status"] == "ACTIVE");
    let ebs = addon(w, &s.cluster, EBS);
    assert_eq!(
        ebs["podIdentityAssociations"].as_array().map(Vec::len),
        Some(1),
        "{ebs}"
    );
    assert!(
        ebs["serviceAccountRoleArn"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{ebs}"
    );

    // Trust statement by statement: every original one kept, one pods statement added.
    for (arn, original) in &originals {
        let now = trust(w, name_of(arn));
        if arn == &s.excluded {
            assert_eq!(&now, original, "the excluded role changed");
            continue;
        }
        if arn == &s.addon_role {
            // Addon roles always lose this cluster's OIDC trust.
            assert_eq!(pods_statements(&now), 1, "{now}");
            assert!(!now.to_string().contains(&provider_arn), "{now}");
            continue;
        }
        assert_eq!(pods_statements(&now), 1, "{arn}: {now}");
        for stmt in statements(original) {
            assert!(statements(&now).contains(&stmt), "{arn} lost {stmt}: {now}");
        }
        assert_eq!(statements(&now).len(), statements(original).len() + 1);
    }
    assert_eq!(trust(w, name_of(&s.odd))["Statement"][0]["Sid"], "Humans");
    // Annotations stay without remove_oidc_trust.
    assert_eq!(
        sa_annotation(w, &s.cluster, "a", "one").as_deref(),
        Some(s.shared.as_str())
    );

    let state = tf.resource(ADDRESS);
    let migrated = state["migrated"].as_array().cloned().unwrap_or_default();
    assert!(
        migrated
            .iter()
            .any(|m| m["target"] == "b/pathy" && m["created"] == true)
    );
    assert!(
        migrated
            .iter()
            .any(|m| m["kind"] == "addon" && m["target"] == EBS)
    );

    // Idempotent: empty plan, and an apply that changes nothing.
    tf.assert_plan_empty();
    tf.apply();
    for (arn, _) in &originals {
        assert!(pods_statements(&trust(w, name_of(arn))) <= 1);
    }
    assert_eq!(associations(w, &s.cluster), assoc);

    // A newly annotated service account is picked up.
    seed_sa(w, &s.cluster, "e", "new", Some(&s.pathy));
    let plan = tf.plan_output();
    assert!(plan.contains("e/new"), "{plan}");
    tf.apply();
    assert!(associations(w, &s.cluster).contains_key("e/new"));
    assert_eq!(pods_statements(&trust(w, name_of(&s.pathy))), 1);

    // An association deleted by hand shows as drift and comes back.
    let id = assoc["a/one"].clone();
    w.delete_association(&s.cluster, &id);
    assert!(!tf.plan_is_empty());
    tf.apply();
    assert!(associations(w, &s.cluster).contains_key("a/one"));
    tf.assert_plan_empty();

    // remove_oidc_trust: only this cluster's OIDC statements go, and the annotations.
    tf.write(&migration(
        &s.cluster,
        &[
            exclude.clone(),
            ("remove_oidc_trust", "true".into()),
            ("rollback_on_destroy", "true".into()),
        ],
    ));
    tf.apply();
    for arn in [&s.shared, &s.pathy, &s.odd] {
        let now = trust(w, name_of(arn));
        assert!(!now.to_string().contains(&provider_arn), "{arn}: {now}");
        assert_eq!(pods_statements(&now), 1);
    }
    assert!(
        trust(w, name_of(&s.pathy))
            .to_string()
            .contains(&s.other_provider)
    );
    assert_eq!(
        statements(&trust(w, name_of(&s.odd)))[0],
        statements(&s.odd_original)[0]
    );
    assert_eq!(trust(w, name_of(&s.excluded)), originals[3].1);
    assert_eq!(sa_annotation(w, &s.cluster, "a", "one"), None);
    assert_eq!(
        sa_annotation(w, &s.cluster, "d", "excluded").as_deref(),
        Some(s.excluded.as_str())
    );
    tf.assert_plan_empty();

    // Rollback: trust policies mean what they meant, annotations and the addon are back,
    // and the associations the migration made are gone.
    tf.destroy();
    for (arn, original) in &originals {
        let now = trust(w, name_of(arn));
        assert!(same_meaning(&now, original), "{arn} not restored: {now}");
    }
    assert_eq!(
        sa_annotation(w, &s.cluster, "a", "one").as_deref(),
        Some(s.shared.as_str())
    );
    assert!(
        associations(w, &s.cluster).is_empty(),
        "{:?}",
        associations(w, &s.cluster)
    );
    let ebs = addon(w, &s.cluster, EBS);
    assert_eq!(ebs["serviceAccountRoleArn"], s.addon_role.as_str(), "{ebs}");
}

#[test]
fn migration_fault_on_one_role() {
    let Some(w) = acc("migration_fault_on_one_role") else {
        return;
    };
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    let (provider_arn, host) = oidc(w, &cluster);
    let mut roles = Vec::new();
    for i in 0..3 {
        let sa = format!("sa{i}");
        // The role of apps/sa1 has a trust policy IAM stored once but now
        // refuses to take back (an outdated Version): its update fails.
        let version = if i == 1 { "2019-01-01" } else { "2012-10-17" };
        let statement = irsa_statement(
            &provider_arn,
            &host,
            json!(format!("system:serviceaccount:apps:{sa}")),
        );
        let arn = create_role(
            w,
            &random_name(),
            "/",
            &json!({"Version": version, "Statement": [statement.clone()]}),
        );
        seed_sa(w, &cluster, "apps", &sa, Some(&arn));
        roles.push((sa, arn, statement));
    }
    let mut tf = Tf::new(w);
    tf.write(&migration(&cluster, &[]));
    let out = tf.apply_expect_error("apps/sa1");
    assert!(out.contains("MalformedPolicyDocument"), "{out}");
    let assoc = associations(w, &cluster);
    assert!(
        assoc.contains_key("apps/sa0") && assoc.contains_key("apps/sa2"),
        "{assoc:?}"
    );
    assert!(!assoc.contains_key("apps/sa1"));
    let state = tf.resource(ADDRESS);
    assert_eq!(
        state["migrated"].as_array().map(Vec::len),
        Some(2),
        "{state}"
    );

    // The role is fixed: the next apply finishes the rest.
    let (_, broken_arn, statement) = roles[1].clone();
    w.delete_role(name_of(&broken_arn));
    create_role(
        w,
        name_of(&broken_arn),
        "/",
        &json!({"Version": "2012-10-17", "Statement": [statement]}),
    );
    tf.apply();
    let assoc = associations(w, &cluster);
    assert_eq!(assoc.len(), 3, "{assoc:?}");
    for (_, arn, _) in &roles {
        assert_eq!(pods_statements(&trust(w, name_of(arn))), 1);
    }
    tf.assert_plan_empty();
    tf.destroy();
    // Without rollback_on_destroy, destroy only forgets.
    assert_eq!(associations(w, &cluster).len(), 3);
}

/// Issue 12 item 9: an addon on IRSA whose role trusts only one of its
/// service accounts gets a pod identity association for that one only (the
/// provider used to give the role to every service account of the addon).
#[test]
fn migration_addon_trusted_service_accounts_only() {
    let Some(w) = acc("migration_addon_trusted_service_accounts_only") else {
        return;
    };
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    let (provider_arn, host) = oidc(w, &cluster);
    let role = create_role(
        w,
        &random_name(),
        "/",
        &json!({"Version": "2012-10-17", "Statement": [irsa_statement(
            &provider_arn,
            &host,
            json!("system:serviceaccount:kube-system:efs-csi-controller-sa"),
        )]}),
    );
    create_irsa_addon(w, &cluster, EFS, &role);
    let mut tf = Tf::new(w);
    tf.write(&migration(&cluster, &[]));
    let (_, plan) = tf.plan();
    assert!(plan.contains("switch_addon"), "{plan}");
    assert!(
        plan.contains("efs-csi-node-sa is not migrated"),
        "the plan does not say the node service account is left out:\n{plan}"
    );
    tf.apply();

    let efs = addon(w, &cluster, EFS);
    let owned = efs["podIdentityAssociations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(owned.len(), 1, "{efs}");
    let assoc = associations(w, &cluster);
    assert!(
        assoc.contains_key("kube-system/efs-csi-controller-sa"),
        "{assoc:?}"
    );
    assert!(
        !assoc.contains_key("kube-system/efs-csi-node-sa"),
        "the node service account got a role its old trust never allowed: {assoc:?}"
    );
    assert!(
        efs["serviceAccountRoleArn"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{efs}"
    );
    tf.assert_plan_empty();
    tf.destroy();
}

/// Issue 12 item 10: with `rollback_on_destroy`, destroy undoes only what
/// the migration changed in a role's trust, on the trust as it is then: a
/// statement added after the migration stays (the provider used to write
/// back the saved trust whole). `rollback_tasks` shows it before destroy.
#[test]
fn migration_rollback_keeps_later_trust_statements() {
    let Some(w) = acc("migration_rollback_keeps_later_trust_statements") else {
        return;
    };
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    let (provider_arn, host) = oidc(w, &cluster);
    let original = json!({"Version": "2012-10-17", "Statement": [irsa_statement(
        &provider_arn,
        &host,
        json!("system:serviceaccount:apps:web"),
    )]});
    let role = create_role(w, &random_name(), "/", &original);
    seed_sa(w, &cluster, "apps", "web", Some(&role));
    let mut tf = Tf::new(w);
    tf.write(&migration(
        &cluster,
        &[("rollback_on_destroy", "true".into())],
    ));
    tf.apply();
    assert_eq!(pods_statements(&trust(w, name_of(&role))), 1);
    let steps = |state: &Value| -> Vec<String> {
        state["rollback_tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| {
                format!(
                    "{} {}",
                    t["step"].as_str().unwrap_or_default(),
                    t["target"].as_str().unwrap_or_default()
                )
            })
            .collect()
    };
    let after_apply = steps(&tf.resource(ADDRESS));
    assert!(
        after_apply.contains(&format!("restore_trust {role}"))
            && after_apply.contains(&"delete_association apps/web".to_string()),
        "{after_apply:?}"
    );
    tf.assert_plan_empty();

    // Someone adds a statement to the migrated role's trust afterwards.
    let later = json!({
        "Sid": "AddedLater",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "sts:AssumeRole"
    });
    let mut edited = trust(w, name_of(&role));
    edited["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(later.clone());
    let answer = w.iam(
        "UpdateAssumeRolePolicy",
        &[
            ("RoleName", name_of(&role)),
            ("PolicyDocument", &edited.to_string()),
        ],
    );
    assert!(answer.ok(), "UpdateAssumeRolePolicy: {}", answer.body);

    // The destroy plan says what destroy will do.
    let run = tf.run(&["plan", "-destroy", "-input=false", "-no-color"]);
    assert!(
        run.output.contains("restore_trust") && run.output.contains("delete_association"),
        "the destroy plan does not show the rollback:\n{}",
        run.output
    );

    tf.destroy();
    let now = trust(w, name_of(&role));
    assert_eq!(pods_statements(&now), 0, "{now}");
    for stmt in statements(&original) {
        assert!(statements(&now).contains(&stmt), "lost {stmt}: {now}");
    }
    assert!(
        statements(&now).contains(&later),
        "the rollback deleted a statement added after the migration: {now}"
    );
    assert!(associations(w, &cluster).is_empty());
}
