//! Every example under `examples/` works as written (issue 8): each one is
//! applied against the local world with its variables supplied, a second
//! plan must be empty, its import commands (`import.sh`) must adopt what it
//! made, and destroy must leave no association and no made role behind.
//!
//! The files are used as they are in the repository: resource and data
//! source examples get `examples/provider/provider.tf` beside them (they
//! show no provider block of their own, as on the registry); the scenarios
//! (`quickstart`, `addons`) are complete configurations.

use acceptance_tests::{ACCOUNT_ID, Tf, World, acc};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The account of the world (roles made there have ARNs in it).
const ROLE_ARN_PREFIX: &str = "arn:aws:iam::123456789012:role/";

fn examples_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join("examples")
}

/// The `.tf` files of an example folder, by name.
fn tf_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            (name, text)
        })
        .collect();
    files.sort();
    files
}

/// A working directory holding the example `rel` (plus the provider example
/// when it has no `terraform` block) and `terraform.tfvars.json` with `vars`.
fn example_tf(w: &'static World, rel: &str, vars: &Value) -> Tf {
    let dir = examples_dir().join(rel);
    let mut files = tf_files(&dir);
    assert!(!files.is_empty(), "no .tf files in {}", dir.display());
    if !files
        .iter()
        .any(|(_, text)| text.contains("required_providers"))
    {
        files.extend(tf_files(&examples_dir().join("provider")));
    }
    let mut tf = Tf::new(w);
    for (name, text) in &files {
        if name == "main.tf" {
            // Through write() so that a failing step shows it.
            tf.write(text);
        } else {
            write(&tf.path().join(name), text);
        }
    }
    write(
        &tf.path().join("terraform.tfvars.json"),
        &serde_json::to_string_pretty(vars).unwrap_or_default(),
    );
    tf
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Every IAM role ARN anywhere in `v`.
fn role_arns(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if s.starts_with(ROLE_ARN_PREFIX) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| role_arns(i, out)),
        Value::Object(map) => map.values().for_each(|i| role_arns(i, out)),
        _ => {}
    }
}

fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The `terraform import ADDRESS ID` lines of an example's `import.sh`.
fn import_commands(rel: &str) -> Vec<(String, String)> {
    let path = examples_dir().join(rel).join("import.sh");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let commands: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.as_slice() {
                ["terraform", "import", address, id] => Some((address.to_string(), id.to_string())),
                _ => None,
            }
        })
        .collect();
    assert!(
        !commands.is_empty(),
        "no import command in {}",
        path.display()
    );
    commands
}

/// Runs each import command of `rel` (with `substitute` applied to the ID)
/// in a fresh directory with the same files, then checks that the imported
/// resource matches `applied` on `same` attributes and that a plan changes
/// nothing on it but `tolerated` attributes.
fn check_imports(
    w: &'static World,
    rel: &str,
    vars: &Value,
    applied: &Tf,
    substitute: &dyn Fn(&str) -> String,
    same: &[&str],
    tolerated: &[&str],
) {
    for (address, id) in import_commands(rel) {
        let id = substitute(&id);
        let other = example_tf(w, rel, vars);
        other.import(&address, &id);
        let want = applied.resource(&address);
        let got = other.resource(&address);
        for attr in same {
            assert_eq!(
                want[attr], got[attr],
                "import of {address} by {id:?}: {attr} differs"
            );
        }
        // The imported resource must be a no-op, apart from `tolerated`
        // attributes (planned alone: the rest of the example is not in
        // this state).
        let changed = changed_attributes(&other, &address);
        let unexpected: Vec<&String> = changed
            .iter()
            .filter(|a| !tolerated.contains(&a.as_str()))
            .collect();
        assert!(
            unexpected.is_empty(),
            "plan after importing {address} by {id:?} changes {unexpected:?}"
        );
    }
}

/// The top-level attributes the plan changes on `address` (empty: no-op).
fn changed_attributes(tf: &Tf, address: &str) -> Vec<String> {
    // Only the imported resource: the rest of the example is not in this
    // state, and planning it would install it again beside the first
    // workspace's (an addon whose associations exist is refused at plan).
    let target = format!("-target={address}");
    let planned = tf.run(&["plan", "-input=false", "-no-color", &target, "-out=tfplan"]);
    assert_eq!(
        planned.code,
        Some(0),
        "the plan after importing {address} failed:\n{}",
        planned.output
    );
    let shown = tf.run(&["show", "-json", "-no-color", "tfplan"]);
    let plan: Value = serde_json::from_str(&shown.output)
        .unwrap_or_else(|e| panic!("show -json printed no JSON ({e}):\n{}", shown.output));
    let Some(change) = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["address"] == address)
    else {
        return vec![];
    };
    if change["change"]["actions"] == json!(["no-op"]) {
        return vec![];
    }
    let before = change["change"]["before"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let after = change["change"]["after"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let unknown = change["change"]["after_unknown"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut keys: BTreeSet<String> = before.keys().chain(after.keys()).cloned().collect();
    keys.retain(|k| before.get(k) != after.get(k) || unknown.get(k).is_some_and(has_unknown));
    keys.into_iter().collect()
}

/// Whether an `after_unknown` value marks anything unknown: `true` at any
/// depth (Terraform writes `{}`, `[]` or nested `false` for known ones).
fn has_unknown(u: &Value) -> bool {
    match u {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(has_unknown),
        Value::Object(o) => o.values().any(has_unknown),
        _ => false,
    }
}

/// Apply, empty second plan, (caller's checks), destroy; then no
/// association is left on the cluster and no role the example made (every
/// role in the state but those in `given`) is left in IAM.
fn apply_plan_destroy(w: &World, tf: &Tf, cluster: &str, given: &[&str], checks: impl FnOnce(&Tf)) {
    tf.apply();
    tf.assert_plan_empty();
    let mut roles = BTreeSet::new();
    role_arns(&tf.state_json(), &mut roles);
    checks(tf);
    tf.destroy();
    let state = tf.state_json();
    assert!(
        state["values"]["root_module"]["resources"]
            .as_array()
            .is_none_or(|r| r.is_empty()),
        "state not empty after destroy: {state}"
    );
    let left = w.list_associations(cluster);
    assert!(left.is_empty(), "associations left after destroy: {left:?}");
    for arn in roles.iter().filter(|a| !given.contains(&a.as_str())) {
        assert!(
            w.get_role(role_name(arn)).is_none(),
            "role {arn} made by the example is left after destroy"
        );
    }
    for arn in given {
        assert!(
            w.get_role(role_name(arn)).is_some(),
            "the given role {arn} was deleted"
        );
    }
}

/// A cluster with the pod identity agent, as the examples assume.
fn cluster_with_agent(w: &World) -> String {
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    cluster
}

#[test]
fn example_provider() {
    let Some(w) = acc("example_provider") else {
        return;
    };
    // The provider block alone manages nothing; a data source makes it
    // configure and call through it.
    let cluster = w.new_cluster();
    let mut tf = example_tf(w, "provider", &json!({}));
    tf.write(&format!(
        "data \"eks_pod_identity_associations\" \"check\" {{\n  cluster_name = \"{cluster}\"\n}}\n"
    ));
    tf.apply();
    tf.assert_plan_empty();
    tf.destroy();
}

#[test]
fn example_pod_identity_association() {
    let Some(w) = acc("example_pod_identity_association") else {
        return;
    };
    let rel = "resources/eks_pod_identity_association";
    let cluster = cluster_with_agent(w);
    let role = w.create_pod_role();
    let west = acceptance_tests::random_name();
    w.create_cluster_in("us-west-2", &west);
    let vars = json!({"cluster_name": cluster, "role_arn": role.arn, "other_cluster_name": west});
    let tf = example_tf(w, rel, &vars);
    let west_associations = || {
        w.eks_in(
            "us-west-2",
            "GET",
            &format!("/clusters/{west}/pod-identity-associations"),
            None,
        )
        .json()["associations"]
            .as_array()
            .map(Vec::len)
    };
    apply_plan_destroy(w, &tf, &cluster, &[&role.arn], |tf| {
        let api_west = tf.resource("eks_pod_identity_association.api_west[0]");
        assert!(
            api_west["association_arn"]
                .as_str()
                .is_some_and(|a| a.contains(":us-west-2:")),
            "{api_west}"
        );
        assert_eq!(west_associations(), Some(1));
        let api = tf.resource("eks_pod_identity_association.api");
        assert_eq!(api["role_arn"], json!(role.arn));
        assert_eq!(api["created_role"], json!(false));
        let dns = tf.resource("eks_pod_identity_association.external_dns");
        assert_eq!(dns["created_role"], json!(true));
        let reports = tf.resource("eks_pod_identity_association.reports");
        assert_eq!(reports["service_account_created"], json!(true));
        let reports_role = reports["role_name"].as_str().unwrap_or_default();
        assert_eq!(
            w.list_role_policies(reports_role),
            vec!["report-exporter-sqs".to_string()]
        );
        let association_id = api["association_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        check_imports(
            w,
            rel,
            &vars,
            tf,
            &|id| {
                id.replace("my-cluster", &cluster)
                    .replace("a-0123456789abcdefg", &association_id)
            },
            &[
                "association_id",
                "role_arn",
                "tags",
                "namespace",
                "created_at",
            ],
            &[],
        );
    });
    assert_eq!(west_associations(), Some(0), "left behind in us-west-2");
}

#[test]
fn example_addon_pod_identity() {
    let Some(w) = acc("example_addon_pod_identity") else {
        return;
    };
    let rel = "resources/eks_addon_pod_identity";
    let cluster = w.new_cluster();
    let vars = json!({"cluster_name": cluster});
    let tf = example_tf(w, rel, &vars);
    apply_plan_destroy(w, &tf, &cluster, &[], |tf| {
        let ebs = tf.resource("eks_addon_pod_identity.ebs_csi");
        assert_eq!(ebs["namespace"], json!("storage"), "{ebs}");
        let remote = w
            .eks(
                "GET",
                &format!("/clusters/{cluster}/addons/aws-ebs-csi-driver"),
                None,
            )
            .json();
        assert_eq!(
            remote["addon"]["namespaceConfig"]["namespace"],
            json!("storage"),
            "{remote}"
        );
        let efs = tf.resource("eks_addon_pod_identity.efs_csi");
        assert_eq!(efs["status"], json!("ACTIVE"));
        let entries = efs["pod_identity_associations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(entries.len(), 2, "{efs}");
        assert!(
            entries.iter().all(|e| e["created_role"] == json!(true)),
            "{efs}"
        );
        check_imports(
            w,
            rel,
            &vars,
            tf,
            &|id| id.replace("my-cluster", &cluster),
            &["addon_arn", "resolved_version", "tags", "created_at"],
            // Known gaps, reported: an import cannot know that the version
            // was asked for as `latest`, and it does not restore an entry's
            // `well_known_policies` (the association resource does, from
            // the role's `eks-tools:well-known-policies` tag).
            // `status` and `modified_at` are never planned: unknown
            // whenever something else changes (here `addon_version =
            // "latest"`, which import cannot know).
            &[
                "timeouts",
                "addon_version",
                "pod_identity_associations",
                "status",
                "modified_at",
            ],
        );
    });
}

#[test]
fn example_pod_identity_associations_data_source() {
    let Some(w) = acc("example_pod_identity_associations_data_source") else {
        return;
    };
    let cluster = cluster_with_agent(w);
    let role = w.create_pod_role();
    w.create_association(&cluster, "kube-system", "external-dns", &role.arn);
    w.create_association(&cluster, "payments", "api", &role.arn);
    let far = acceptance_tests::random_name();
    w.create_cluster_in("us-west-2", &far);
    w.create_association_in("us-west-2", &far, "west", "api", &role.arn);
    let tf = example_tf(
        w,
        "data-sources/eks_pod_identity_associations",
        &json!({"cluster_name": cluster, "other_cluster_name": far}),
    );
    tf.apply();
    tf.assert_plan_empty();
    let out = tf.outputs();
    assert_eq!(
        out["roles_by_service_account"]["payments/api"],
        json!(role.arn)
    );
    assert_eq!(
        out["roles_by_service_account"].as_object().map(|m| m.len()),
        Some(2)
    );
    assert_eq!(out["addon_owned_in_kube_system"], json!([]));
    assert_eq!(out["other_region_service_accounts"], json!([["west/api"]]));
    tf.destroy();
}

#[test]
fn example_well_known_policy_data_source() {
    let Some(w) = acc("example_well_known_policy_data_source") else {
        return;
    };
    let tf = example_tf(w, "data-sources/eks_well_known_policy", &json!({}));
    tf.apply();
    tf.assert_plan_empty();
    let out = tf.outputs();
    assert!(
        out["external_dns_policy"].as_str().is_some_and(|p| p
            .contains("hostedzone/Z0123456789ABCDEFGHIJ")
            && !p.contains("hostedzone/*")),
        "{out}"
    );
    assert!(
        out["karpenter_policy"].as_str().is_some_and(|p| {
            p.contains("aws:ResourceTag/kubernetes.io/cluster/prod")
                && p.contains("arn:aws:iam::123456789012:role/prod-karpenter-nodes")
        }),
        "{out}"
    );
    assert_eq!(
        out["ebs_csi_managed_policies"],
        json!(["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"])
    );
    tf.destroy();
}

#[test]
fn example_addon_pod_identity_configuration_data_source() {
    let rel = "data-sources/eks_addon_pod_identity_configuration";
    // A missing example is a failure, with or without TF_ACC: the
    // documentation points at it.
    assert!(
        examples_dir().join(rel).is_dir(),
        "the example {rel} is missing from {}",
        examples_dir().display()
    );
    let Some(w) = acc("example_addon_pod_identity_configuration_data_source") else {
        return;
    };
    let cluster = w.new_cluster();
    let tf = example_tf(w, rel, &json!({"cluster_name": cluster}));
    tf.apply();
    tf.assert_plan_empty();
    let out = tf.outputs();
    assert_eq!(
        out["ebs_csi"]["supports_pod_identity"],
        json!(true),
        "{out}"
    );
    tf.destroy();
}

/// A cluster whose workloads use IRSA: `apps/web` and the excluded
/// `legacy/batch-runner`, each annotated with a role that trusts the
/// cluster's OIDC provider. Returns the cluster and the two roles' names.
fn irsa_cluster(w: &World) -> (String, String, String) {
    let cluster = w.new_cluster();
    let described = w.describe_cluster(&cluster).unwrap_or_default();
    let host = described["identity"]["oidc"]["issuer"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("https://")
        .to_string();
    assert!(!host.is_empty(), "no OIDC issuer: {described}");
    let provider = format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}");
    let mut roles = Vec::new();
    for (ns, sa) in [("apps", "web"), ("legacy", "batch-runner")] {
        let trust = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{host}:sub"): format!("system:serviceaccount:{ns}:{sa}"),
                format!("{host}:aud"): "sts.amazonaws.com"
            }}
        }]});
        let role = w.create_role(&acceptance_tests::random_name(), &trust);
        let meta = json!({"name": sa, "namespace": ns,
            "annotations": {"eks.amazonaws.com/role-arn": role.arn}});
        let seeded = w.eks(
            "POST",
            &format!("/_emulator/kubernetes/{cluster}"),
            Some(&json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})),
        );
        assert!(seeded.ok(), "seeding {ns}/{sa}: {}", seeded.body);
        roles.push(role.name);
    }
    let legacy = roles.pop().unwrap_or_default();
    let web = roles.pop().unwrap_or_default();
    (cluster, web, legacy)
}

/// How many statements of `role`'s trust let EKS Pod Identity assume it.
fn pod_identity_statements(w: &World, role: &str) -> usize {
    let trust = w.get_role(role).map(|r| r.trust_policy).unwrap_or_default();
    let statements = match &trust["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Null => vec![],
        one => vec![one.clone()],
    };
    statements
        .iter()
        .filter(|s| s["Principal"]["Service"] == "pods.eks.amazonaws.com")
        .count()
}

/// Both migration examples on a cluster whose workloads use IRSA: the
/// apply installs the agent, gives `apps/web` an association with its IRSA
/// role and the pod identity trust statement, and leaves the excluded
/// `legacy/batch-runner` alone; destroy rolls it all back.
#[test]
fn example_pod_identity_migration() {
    let Some(w) = acc("example_pod_identity_migration") else {
        return;
    };
    for rel in ["resources/eks_pod_identity_migration", "migration"] {
        let (cluster, web, legacy) = irsa_cluster(w);
        let tf = example_tf(w, rel, &json!({"cluster_name": cluster}));
        tf.apply();
        tf.assert_plan_empty();
        let associations = w.list_associations(&cluster);
        let pairs: Vec<String> = associations
            .iter()
            .map(|a| {
                format!(
                    "{}/{}",
                    a["namespace"].as_str().unwrap_or(""),
                    a["serviceAccount"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            pairs,
            vec!["apps/web".to_string()],
            "{rel}: {associations:?}"
        );
        let id = associations[0]["associationId"]
            .as_str()
            .unwrap_or_default();
        let described = w.describe_association(&cluster, id).unwrap_or_default();
        assert!(
            described["roleArn"]
                .as_str()
                .is_some_and(|r| r.ends_with(&format!("/{web}"))),
            "{rel}: {described}"
        );
        assert_eq!(pod_identity_statements(w, &web), 1, "{rel}: web's trust");
        assert_eq!(
            pod_identity_statements(w, &legacy),
            0,
            "{rel}: the excluded role's trust"
        );
        let agent = w.eks(
            "GET",
            &format!("/clusters/{cluster}/addons/eks-pod-identity-agent"),
            None,
        );
        assert!(agent.ok(), "{rel}: the agent is installed: {}", agent.body);
        let tasks = tf.outputs()["tasks"].to_string();
        assert!(tasks.contains("apps/web"), "{rel}: {tasks}");
        assert!(!tasks.contains("batch-runner"), "{rel}: {tasks}");
        tf.destroy();
        // Rolled back: no association, the trust as it was.
        assert!(w.list_associations(&cluster).is_empty(), "{rel}");
        assert_eq!(
            pod_identity_statements(w, &web),
            0,
            "{rel}: web's trust after rollback"
        );
        for role in [&web, &legacy] {
            w.delete_role_and_policies(role);
        }
    }
}

#[test]
fn example_quickstart() {
    let Some(w) = acc("example_quickstart") else {
        return;
    };
    let cluster = cluster_with_agent(w);
    let role = w.create_pod_role();
    let tf = example_tf(
        w,
        "quickstart",
        &json!({"cluster_name": cluster, "role_arn": role.arn}),
    );
    apply_plan_destroy(w, &tf, &cluster, &[&role.arn], |tf| {
        let out = tf.outputs();
        assert_eq!(
            out["associations_in_default_namespace"],
            json!([format!("default/app -> {}", role.arn)])
        );
    });
}

#[test]
fn example_addons() {
    let Some(w) = acc("example_addons") else {
        return;
    };
    let cluster = w.new_cluster();
    let tf = example_tf(w, "addons", &json!({"cluster_name": cluster}));
    apply_plan_destroy(w, &tf, &cluster, &[], |tf| {
        let out = tf.outputs();
        let cni_role = out["roles"]["aws-node"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let ebs_role = out["roles"]["ebs-csi-controller-sa"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            ebs_role,
            format!("{ROLE_ARN_PREFIX}addons/{cluster}-ebs-csi-controller")
        );
        assert!(w.get_role(role_name(&cni_role)).is_some(), "{cni_role}");
        assert_eq!(
            w.list_attached_role_policies(role_name(&cni_role)),
            vec!["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy".to_string()]
        );
        assert_eq!(
            w.list_attached_role_policies(role_name(&ebs_role)),
            vec!["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy".to_string()]
        );
        // Both associations belong to their addons.
        let owners = out["associations"].as_object().cloned().unwrap_or_default();
        assert_eq!(owners.len(), 2, "{owners:?}");
        assert!(
            owners
                .values()
                .all(|o| o.as_str().is_some_and(|a| a.contains(":addon/"))),
            "{owners:?}"
        );
    });
}
