//! List resources (`list` blocks in `.tfquery.hcl`, `terraform query`,
//! protocol 6.10; Terraform >= 1.14, no OpenTofu yet): what a query
//! finds and leaves out (issue 22: what another workspace made, and the
//! warning of its import), the objects it carries (equal to the applied
//! state), and `-generate-config-out` followed by an import that plans
//! nothing. On an engine without `terraform query` each test says so and
//! returns; the protocol itself is tested without an engine in tfplugin's
//! tests and provider/tests/aws/list.rs.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{REGION, Tf, World, acc, contains_ignoring_wrap, engine, random_name};
use serde_json::{Value, json};

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const EFS: &str = "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy";

/// The world for a query test, or `None` (with a message) when the world
/// or the engine's `terraform query` is missing.
fn query_world(test: &str) -> Option<&'static World> {
    let w = acc(test)?;
    let e = engine();
    if !e.has_list_resources() {
        eprintln!("{test}: {e} has no `terraform query` (list resources); skipped");
        return None;
    }
    Some(w)
}

/// A `list` block for `kind` with `config` attributes.
fn list_block(kind: &str, label: &str, cfg: &[(&str, String)], extra: &str) -> String {
    let body: Vec<String> = cfg.iter().map(|(k, v)| format!("    {k} = {v}")).collect();
    format!(
        "list \"{kind}\" \"{label}\" {{\n  provider = eks\n{extra}  config {{\n{}\n  }}\n}}\n",
        body.join("\n")
    )
}

/// Writes the query file of a directory.
fn write_query(tf: &Tf, text: &str) {
    let path = tf.path().join("main.tfquery.hcl");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `terraform query -json`'s results: (list address, display name,
/// identity, resource object).
fn query_json(tf: &Tf) -> (Vec<(String, String, Value, Value)>, String) {
    let run = tf.run(&["query", "-json", "-no-color"]);
    assert_eq!(run.code, Some(0), "query -json failed:\n{}", run.output);
    let mut found = vec![];
    for line in run.output.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["type"] == "list_resource_found" {
            let r = &v["list_resource_found"];
            found.push((
                r["address"].as_str().unwrap_or_default().to_string(),
                r["display_name"].as_str().unwrap_or_default().to_string(),
                r["identity"].clone(),
                r["resource_object"].clone(),
            ));
        }
    }
    (found, run.output)
}

/// A query of one cluster finds the associations made outside Terraform
/// and, with `include_managed = true` (and a warning), the one whose role
/// the provider made, leaves out (and counts) the one an addon owns,
/// filters by namespace, and carries objects equal to the applied state;
/// the addon list finds the addon. A missing cluster is an error that
/// names `cluster_name`.
#[test]
fn query_finds_what_it_should_and_objects_equal_the_state() {
    let Some(w) = query_world("query_finds_what_it_should_and_objects_equal_the_state") else {
        return;
    };
    let e = engine();
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let (sa_a, sa_b, sa_made) = (random_name(), random_name(), random_name());
    w.create_association(&cluster, "default", &sa_a, &role.arn);
    w.create_association(&cluster, "apps", &sa_b, &role.arn);

    // What Terraform manages: an association with a made role, and an
    // addon whose association the addon owns.
    let mut owner = Tf::new(w);
    owner.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "made",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("made")),
                ("service_account", string(&sa_made)),
                ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
            ],
        ),
        resource(
            "eks_addon_pod_identity",
            "efs",
            &[
                ("cluster_name", string(&cluster)),
                ("addon_name", string("aws-efs-csi-driver")),
                (
                    "pod_identity_associations",
                    format!(
                        "[{{ service_account = \"efs-csi-controller-sa\", permission_policy_arns = [{}] }}]",
                        string(EFS)
                    ),
                ),
            ],
        ),
    ]));
    owner.apply();
    let made_state = owner.resource("eks_pod_identity_association.made");
    let addon_state = owner.resource("eks_addon_pod_identity.efs");

    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[])]));
    write_query(
        &tf,
        &[
            list_block(
                "eks_pod_identity_association",
                "all",
                &[
                    ("cluster_name", string(&cluster)),
                    ("include_managed", "true".into()),
                ],
                "  include_resource = true\n",
            ),
            list_block(
                "eks_addon_pod_identity",
                "all",
                &[
                    ("cluster_name", string(&cluster)),
                    ("include_managed", "true".into()),
                ],
                "  include_resource = true\n",
            ),
            list_block(
                "eks_pod_identity_association",
                "apps",
                &[
                    ("cluster_name", string(&cluster)),
                    ("namespace", string("apps")),
                ],
                "",
            ),
        ]
        .concat(),
    );
    let human = tf.run(&["query", "-no-color"]);
    assert_eq!(human.code, Some(0), "{e}: query failed:\n{}", human.output);
    for shown in [
        format!("{cluster}: default/{sa_a}"),
        format!("{cluster}: apps/{sa_b}"),
        format!("{cluster}: made/{sa_made}"),
        format!("{cluster}: aws-efs-csi-driver"),
    ] {
        assert!(
            human.output.contains(&shown),
            "{e}: the query does not show {shown:?}:\n{}",
            human.output
        );
    }
    for warning in [
        "1 addon-owned association(s) left out",
        "1 listed association(s) with roles this provider made",
        "1 listed addon(s) with roles this provider made",
    ] {
        assert!(
            contains_ignoring_wrap(&human.output, warning),
            "{e}: no warning {warning:?}:\n{}",
            human.output
        );
    }

    let (found, raw) = query_json(&tf);
    let at = |address: &str| -> Vec<&(String, String, Value, Value)> {
        found.iter().filter(|f| f.0 == address).collect()
    };
    let all = at("list.eks_pod_identity_association.all");
    let names: Vec<&str> = all.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("{cluster}: apps/{sa_b}"),
            format!("{cluster}: default/{sa_a}"),
            format!("{cluster}: made/{sa_made}"),
        ],
        "{e}: associations (sorted by namespace; the addon's left out):\n{raw}"
    );
    let made = all[2];
    assert_eq!(
        made.2,
        json!({"cluster_name": cluster, "association_id": made_state["association_id"], "region": REGION}),
        "{e}: the made association's identity"
    );
    // The object is what Terraform holds after applying it (an import's
    // state): equal, attribute by attribute, to the owner's state except
    // the timeouts block (never imported) and what a read recomputes.
    let object = &made.3;
    for (k, v) in made_state.as_object().into_iter().flatten() {
        if ["timeouts"].contains(&k.as_str()) {
            continue;
        }
        assert_eq!(
            &object[k], v,
            "{e}: the listed object's {k} differs: {object}"
        );
    }
    let apps = at("list.eks_pod_identity_association.apps");
    assert_eq!(apps.len(), 1, "{e}: the namespace filter:\n{raw}");
    assert!(
        apps[0].3.is_null(),
        "{e}: an object without include_resource"
    );
    let addons = at("list.eks_addon_pod_identity.all");
    assert_eq!(addons.len(), 1, "{e}: addons:\n{raw}");
    assert_eq!(
        addons[0].2,
        json!({"cluster_name": cluster, "addon_name": "aws-efs-csi-driver", "region": REGION})
    );
    for (k, v) in addon_state.as_object().into_iter().flatten() {
        if ["timeouts"].contains(&k.as_str()) {
            continue;
        }
        assert_eq!(
            &addons[0].3[k], v,
            "{e}: the listed addon's {k} differs: {}",
            addons[0].3
        );
    }

    // A cluster that does not exist: an error naming cluster_name.
    write_query(
        &tf,
        &list_block(
            "eks_pod_identity_association",
            "missing",
            &[("cluster_name", string("no-such-cluster"))],
            "",
        ),
    );
    let run = tf.run(&["query", "-no-color"]);
    assert_ne!(
        run.code,
        Some(0),
        "{e}: a missing cluster listed:\n{}",
        run.output
    );
    assert!(
        contains_ignoring_wrap(&run.output, "No such EKS cluster")
            && run.output.contains("cluster_name"),
        "{e}: {}",
        run.output
    );

    owner.destroy();
    let left: Vec<Value> = w.list_associations(&cluster);
    assert_eq!(
        left.len(),
        2,
        "{e}: only the two made outside are left: {left:?}"
    );
}

/// `terraform query -generate-config-out` writes import blocks (by
/// identity) and resource blocks; planning them imports every association
/// and changes nothing; after the apply the plan is empty, and destroy
/// deletes them.
#[test]
fn query_generate_config_out_imports_with_an_empty_plan() {
    let Some(w) = query_world("query_generate_config_out_imports_with_an_empty_plan") else {
        return;
    };
    let e = engine();
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let ids: Vec<String> = (0..3)
        .map(|_| {
            let made = w.create_association(&cluster, "team", &random_name(), &role.arn);
            made["associationId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[])]));
    write_query(
        &tf,
        &list_block(
            "eks_pod_identity_association",
            "team",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("team")),
            ],
            "",
        ),
    );
    let generated = generate_import_destroy(&tf, 3);
    for id in &ids {
        assert!(
            generated.contains(id),
            "{e}: generated.tf lacks {id}:\n{generated}"
        );
    }
    assert!(w.list_associations(&cluster).is_empty());
}

/// A directory with a provider block and the list example of `kind`
/// (`examples/list-resources/<kind>/`), and `vars` in terraform.tfvars.json.
/// Not the provider example: its default_tags would (rightly) plan tag
/// additions on everything imported that lacks them.
fn example_dir(w: &'static World, kind: &str, vars: &Value) -> Tf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = manifest.parent().unwrap_or(manifest).join("examples");
    let read = |p: std::path::PathBuf| {
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    };
    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[])]));
    write_query(
        &tf,
        &read(examples.join(format!("list-resources/{kind}/list-resource.tfquery.hcl"))),
    );
    let path = tf.path().join("terraform.tfvars.json");
    std::fs::write(&path, vars.to_string())
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    tf
}

/// `query -generate-config-out`, then a plan that imports `n` and changes
/// nothing, the apply, an empty plan, and destroy; the generated file.
fn generate_import_destroy(tf: &Tf, n: usize) -> String {
    let e = engine();
    let run = tf.run(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(tf.path().join("generated.tf")).unwrap_or_default();
    assert_eq!(
        run.code,
        Some(0),
        "{e}: query -generate-config-out failed:\n{}\n--- generated.tf ---\n{generated}",
        run.output
    );
    let (_, plan) = tf.plan();
    assert!(
        contains_ignoring_wrap(
            &plan,
            &format!("{n} to import, 0 to add, 0 to change, 0 to destroy")
        ),
        "{e}: the generated configuration does not import cleanly:\n{plan}\n--- generated.tf ---\n{generated}"
    );
    tf.apply();
    let (empty, plan) = tf.plan();
    assert!(
        empty,
        "{e}: not empty after the import:\n{plan}\n--- generated.tf ---\n{generated}"
    );
    tf.destroy();
    generated
}

/// The list examples under `examples/list-resources/` (shown in the docs),
/// run as a user would: query, generate, import, plan empty, destroy.
#[test]
fn example_list_resources() {
    let Some(w) = query_world("example_list_resources") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    for _ in 0..2 {
        w.create_association(&cluster, "payments", &random_name(), &role.arn);
    }
    w.create_association(&cluster, "other", &random_name(), &role.arn);
    let west = "us-west-2";
    let far = random_name();
    w.create_cluster_in(west, &far);
    w.create_association_in(west, &far, "default", &random_name(), &role.arn);

    let tf = example_dir(
        w,
        "eks_pod_identity_association",
        &json!({"cluster_name": cluster, "other_region": west}),
    );
    generate_import_destroy(&tf, 3);
    let left: Vec<String> = w
        .list_associations(&cluster)
        .iter()
        .map(|a| a["namespace"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(left, ["other"], "only the one not listed is left");

    // The addon example: only the addon with pod identity is listed.
    w.create_addon(&cluster, "vpc-cni");
    let addon = w.eks(
        "POST",
        &format!("/clusters/{cluster}/addons"),
        Some(&json!({
            "addonName": "aws-efs-csi-driver",
            "podIdentityAssociations": [{"serviceAccount": "efs-csi-controller-sa", "roleArn": role.arn}]
        })),
    );
    assert!(addon.ok(), "{}", addon.body);
    let tf = example_dir(
        w,
        "eks_addon_pod_identity",
        &json!({"cluster_name": cluster}),
    );
    let (found, raw) = query_json(&tf);
    let names: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(names, [format!("{cluster}: aws-efs-csi-driver")], "{raw}");
    generate_import_destroy(&tf, 1);
    let gone = w.eks(
        "GET",
        &format!("/clusters/{cluster}/addons/aws-efs-csi-driver"),
        None,
    );
    assert!(
        !gone.ok(),
        "the imported addon outlived destroy: {}",
        gone.body
    );
}

/// An `eks_pod_identity_association` that makes its role (ReadOnlyAccess)
/// for `namespace/service_account`.
fn made_association(label: &str, cluster: &str, namespace: &str, sa: &str) -> String {
    resource(
        "eks_pod_identity_association",
        label,
        &[
            ("cluster_name", string(cluster)),
            ("namespace", string(namespace)),
            ("service_account", string(sa)),
            ("permission_policy_arns", format!("[{}]", string(READ_ONLY))),
        ],
    )
}

/// The role name of an ARN.
fn role_name(arn: &Value) -> String {
    arn.as_str()
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or_default()
        .to_string()
}

/// Issue 22: a second workspace runs `terraform query
/// -generate-config-out` on a cluster a first workspace manages, imports
/// what it generated and destroys it. What the first one made (two
/// associations with made roles, an addon whose entry's role it made) is
/// left out of the query and the generated configuration, with warnings
/// that count them; the second workspace imports and destroys only the
/// associations made outside Terraform, and the first one's objects
/// outlive that destroy with an empty plan.
#[test]
fn query_of_a_cluster_another_workspace_manages_leaves_out_what_it_made() {
    let Some(w) =
        query_world("query_of_a_cluster_another_workspace_manages_leaves_out_what_it_made")
    else {
        return;
    };
    let e = engine();
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let outside: Vec<String> = (0..2)
        .map(|_| {
            let sa = random_name();
            w.create_association(&cluster, "team", &sa, &role.arn);
            sa
        })
        .collect();

    let (sa_a, sa_b) = (random_name(), random_name());
    let mut owner = Tf::new(w);
    owner.write(&config(&[
        provider(&[]),
        made_association("a", &cluster, "apps", &sa_a),
        made_association("b", &cluster, "apps", &sa_b),
        resource(
            "eks_addon_pod_identity",
            "efs",
            &[
                ("cluster_name", string(&cluster)),
                ("addon_name", string("aws-efs-csi-driver")),
                (
                    "pod_identity_associations",
                    format!(
                        "[{{ service_account = \"efs-csi-controller-sa\", permission_policy_arns = [{}] }}]",
                        string(EFS)
                    ),
                ),
            ],
        ),
    ]));
    owner.apply();
    let owned: Vec<Value> = ["a", "b"]
        .iter()
        .map(|l| owner.resource(&format!("eks_pod_identity_association.{l}")))
        .collect();
    let addon = owner.resource("eks_addon_pod_identity.efs");
    let mut made_roles: Vec<String> = owned.iter().map(|s| role_name(&s["role_arn"])).collect();
    made_roles.extend(
        addon["pod_identity_associations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| role_name(&entry["role_arn"])),
    );
    assert_eq!(made_roles.len(), 3, "{e}: the made roles: {made_roles:?}");

    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[])]));
    write_query(
        &tf,
        &[
            list_block(
                "eks_pod_identity_association",
                "cluster",
                &[("cluster_name", string(&cluster))],
                "",
            ),
            list_block(
                "eks_addon_pod_identity",
                "cluster",
                &[
                    ("cluster_name", string(&cluster)),
                    ("with_pod_identity_only", "true".into()),
                ],
                "",
            ),
        ]
        .concat(),
    );
    let human = tf.run(&["query", "-no-color"]);
    assert_eq!(human.code, Some(0), "{e}: query failed:\n{}", human.output);
    for warning in [
        "2 association(s) with a role this provider made left out",
        "1 addon(s) with roles this provider made left out",
        "1 addon-owned association(s) left out",
        "terraform state mv",
    ] {
        assert!(
            contains_ignoring_wrap(&human.output, warning),
            "{e}: the query does not say {warning:?}:\n{}",
            human.output
        );
    }
    for sa in &outside {
        assert!(
            human.output.contains(&format!("{cluster}: team/{sa}")),
            "{e}: {sa} made outside Terraform is not listed:\n{}",
            human.output
        );
    }
    for shown in [
        format!("apps/{sa_a}"),
        format!("apps/{sa_b}"),
        format!("{cluster}: aws-efs-csi-driver"),
    ] {
        assert!(
            !human.output.contains(&shown),
            "{e}: the query offers {shown}, which another workspace made:\n{}",
            human.output
        );
    }

    let generated = generate_import_destroy(&tf, 2);
    for sa in &outside {
        assert!(
            generated.contains(sa.as_str()),
            "{e}: generated.tf lacks {sa}:\n{generated}"
        );
    }
    let ids: Vec<&str> = owned
        .iter()
        .filter_map(|s| s["association_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{e}: the owner's association IDs");
    for left_out in [ids[0], ids[1], &sa_a, &sa_b, "aws-efs-csi-driver"] {
        assert!(
            !generated.contains(left_out),
            "{e}: generated.tf takes over {left_out}:\n{generated}"
        );
    }

    // The second workspace's destroy deleted only what it imported.
    let namespaces: Vec<String> = w
        .list_associations(&cluster)
        .iter()
        .map(|a| a["namespace"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        !namespaces.iter().any(|n| n == "team"),
        "{e}: the imported associations outlived destroy: {namespaces:?}"
    );
    for id in &ids {
        assert!(
            w.describe_association(&cluster, id).is_some(),
            "{e}: the owner's association {id} was deleted"
        );
    }
    for name in &made_roles {
        assert!(
            w.get_role(name).is_some(),
            "{e}: the owner's role {name} was deleted"
        );
    }
    let still = w.eks(
        "GET",
        &format!("/clusters/{cluster}/addons/aws-efs-csi-driver"),
        None,
    );
    assert!(
        still.ok(),
        "{e}: the owner's addon was deleted: {}",
        still.body
    );
    owner.assert_plan_empty();
    owner.destroy();
    for name in &made_roles {
        assert!(w.get_role(name).is_none(), "{e}: {name} outlived destroy");
    }
}

/// Issue 22: `terraform import` of an association whose role another
/// workspace's resource made succeeds (it is how a lost state is
/// recovered) and warns that another state may own it; the importing
/// workspace lets go again (`terraform state rm`) and the owner's plan
/// stays empty.
#[test]
fn import_of_an_association_another_workspace_made_warns() {
    let Some(w) = acc("import_of_an_association_another_workspace_made_warns") else {
        return;
    };
    let e = engine();
    let cluster = w.new_cluster();
    let sa = random_name();
    let cfg = config(&[
        provider(&[]),
        made_association("made", &cluster, "apps", &sa),
    ]);
    let mut owner = Tf::new(w);
    owner.write(&cfg);
    owner.apply();
    let owned = owner.resource("eks_pod_identity_association.made");

    let mut other = Tf::new(w);
    other.write(&cfg);
    let out = other.import(
        "eks_pod_identity_association.made",
        &format!("{cluster}/apps/{sa}"),
    );
    let id = owned["association_id"].as_str().unwrap_or_default();
    assert!(
        contains_ignoring_wrap(
            &out,
            &format!("Another Terraform state may already own association {id} (apps/{sa})")
        ) && contains_ignoring_wrap(&out, &role_name(&owned["role_arn"])),
        "{e}: the import does not warn:\n{out}"
    );
    let imported = other.resource("eks_pod_identity_association.made");
    assert_eq!(imported["created_role"], json!(true), "{e}: {imported}");
    let rm = other.run(&[
        "state",
        "rm",
        "-no-color",
        "eks_pod_identity_association.made",
    ]);
    assert_eq!(rm.code, Some(0), "{e}: state rm:\n{}", rm.output);
    owner.assert_plan_empty();
    owner.destroy();
}

/// `list "eks_pod_identity_role"` lists only the roles that resource kind
/// made (a fixed name and one made from `name_prefix`), in path and name
/// order, with identities and objects equal to the applied state; it
/// leaves out a role anybody else made, a service account's made role, and
/// (with a warning) one still being created. Once the owning state lets go
/// of them (`state rm`), `-generate-config-out` imports both with an empty
/// plan, and destroy deletes them.
#[test]
fn query_of_pod_identity_roles_lists_only_what_that_kind_made() {
    let Some(w) = query_world("query_of_pod_identity_roles_lists_only_what_that_kind_made") else {
        return;
    };
    let e = engine();
    let prefix = format!("{}-", random_name());
    let (named, made_prefix) = (format!("{prefix}named"), format!("{prefix}made-"));
    let mut owner = Tf::new(w);
    let policies = ("permission_policy_arns", format!("[{}]", string(READ_ONLY)));
    owner.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_role",
            "named",
            &[
                ("name", string(&named)),
                ("description", string("fixed name")),
                policies.clone(),
            ],
        ),
        resource(
            "eks_pod_identity_role",
            "made",
            &[
                ("name_prefix", string(&made_prefix)),
                ("max_session_duration", "7200".into()),
                policies.clone(),
            ],
        ),
    ]));
    owner.apply();
    let named_state = owner.resource("eks_pod_identity_role.named");
    let made_state = owner.resource("eks_pod_identity_role.made");
    let made = made_state["name"].as_str().unwrap_or_default().to_string();

    // Not this kind's: no owner tag, a service account's, and one being made.
    let trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]});
    let (foreign, sa_role, creating) = (
        format!("{prefix}foreign"),
        format!("{prefix}sa"),
        format!("{prefix}creating"),
    );
    for r in [&foreign, &sa_role, &creating] {
        w.create_role(r, &trust);
    }
    let tag = |role: &str, key: &str, value: &str| {
        w.iam(
            "TagRole",
            &[
                ("RoleName", role),
                ("Tags.member.1.Key", key),
                ("Tags.member.1.Value", value),
            ],
        );
    };
    tag(&sa_role, "eks-tools:pod-identity", "c/ns/sa");
    tag(
        &creating,
        "eks-tools:pod-identity",
        &format!("pod-identity-role:{creating}"),
    );
    tag(
        &creating,
        "eks-tools:creating",
        "2999-01-01T00:00:00Z/0123456789abcdef",
    );

    let mut tf = Tf::new(w);
    tf.write(&config(&[provider(&[])]));
    write_query(
        &tf,
        &[
            list_block(
                "eks_pod_identity_role",
                "mine",
                &[("name_prefix", string(&prefix))],
                "  include_resource = true\n",
            ),
            list_block(
                "eks_pod_identity_role",
                "ids",
                &[
                    ("path_prefix", string("/")),
                    ("name_prefix", string(&made_prefix)),
                ],
                "",
            ),
        ]
        .concat(),
    );
    let human = tf.run(&["query", "-no-color"]);
    assert_eq!(human.code, Some(0), "{e}: query failed:\n{}", human.output);
    assert!(
        contains_ignoring_wrap(&human.output, "1 IAM role(s) being created left out"),
        "{e}: no warning for the role being created:\n{}",
        human.output
    );
    let (found, raw) = query_json(&tf);
    let mine: Vec<_> = found
        .iter()
        .filter(|f| f.0 == "list.eks_pod_identity_role.mine")
        .collect();
    let names: Vec<&str> = mine.iter().map(|f| f.1.as_str()).collect();
    let mut expected = vec![format!("/{made}"), format!("/{named}")];
    expected.sort();
    assert_eq!(names, expected, "{e}: only this kind's, sorted:\n{raw}");
    for (listed, state) in [(&named, &named_state), (&made, &made_state)] {
        let f = mine
            .iter()
            .find(|f| f.1 == format!("/{listed}"))
            .unwrap_or_else(|| panic!("{e}: {listed} not listed:\n{raw}"));
        assert_eq!(f.2, json!({ "name": listed }), "{e}: identity of {listed}");
        for (k, v) in state.as_object().into_iter().flatten() {
            assert_eq!(
                &f.3[k], v,
                "{e}: the listed {listed}'s {k} differs: {}",
                f.3
            );
        }
    }
    let ids: Vec<_> = found
        .iter()
        .filter(|f| f.0 == "list.eks_pod_identity_role.ids")
        .collect();
    assert_eq!(ids.len(), 1, "{e}: the name_prefix filter:\n{raw}");
    assert_eq!(ids[0].2, json!({ "name": made }));
    assert!(
        ids[0].3.is_null(),
        "{e}: an object without include_resource"
    );

    // The owner lets go; the list example's generated configuration
    // (examples/list-resources/eks_pod_identity_role) takes them.
    for address in ["eks_pod_identity_role.named", "eks_pod_identity_role.made"] {
        let run = owner.run(&["state", "rm", address]);
        assert_eq!(run.code, Some(0), "{}", run.output);
    }
    let tf = example_dir(w, "eks_pod_identity_role", &json!({"name_prefix": prefix}));
    let generated = generate_import_destroy(&tf, 2);
    assert!(generated.contains(&made), "{e}: {generated}");
    for gone in [&named, &made] {
        assert!(w.get_role(gone).is_none(), "{e}: {gone} outlived destroy");
    }
    for r in [&foreign, &sa_role, &creating] {
        assert!(w.get_role(r).is_some(), "{e}: {r} was touched");
        w.delete_role_and_policies(r);
    }
}
