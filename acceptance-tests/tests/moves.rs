//! `moved` blocks from the AWS provider (issue 26 item 1): objects made in
//! the world, a state in the AWS provider's format holding them, a config
//! of this provider with `moved { from = aws_… to = eks_… }` (and `removed`
//! blocks for the role's policy attachments); the plan shows the moves and
//! the owner tag the moved role gets, apply records them, the next plan is
//! empty and the objects in IAM and the emulator are what they were, but
//! for that tag.
//!
//! How the engine holds AWS-provider state without the AWS provider (a
//! 900 MB download): the test writes `terraform.tfstate` itself, as the AWS
//! provider's release would (provider
//! `provider["registry.terraform.io/hashicorp/aws"]`), and points
//! dev_overrides for `hashicorp/aws` at a stand-in, `terraform-provider-aws`
//! of this crate (src/bin), which serves only the two resource schemas and
//! refuses every change. Both engines need some `hashicorp/aws` for a state
//! that names it (Terraform: "This state requires provider …, but that
//! provider isn't available"; OpenTofu fails loading its schemas), but
//! neither calls it for the move: the stored JSON goes to our provider's
//! MoveResourceState.
//!
//! Engines: Terraform 1.8 and later, and OpenTofu (1.8 and later) move
//! across providers; the others are skipped with a printed reason.

use std::time::{Duration, Instant};

use acceptance_tests::hcl::{association, block, config, map, provider, resource, string};
use acceptance_tests::{REGION, Role, Tf, World, acc, contains_ignoring_wrap, engine, random_name};
use serde_json::{Value, json};

const ADDON: &str = "aws-efs-csi-driver";
const SERVICE_ACCOUNTS: [&str; 2] = ["efs-csi-controller-sa", "efs-csi-node-sa"];

/// The AWS provider release whose state format the test writes.
#[derive(Clone, Copy, PartialEq)]
enum Release {
    /// v6 (commit 00a35305dc1b): `region`, and on the association
    /// `disable_session_tags`, `target_role_arn`, `external_id`.
    V6,
    /// v5 (commit 93bd0baa44a9 for the association): none of those; the
    /// addon still has the deprecated `resolve_conflicts`.
    V5,
}

/// Whether the engine moves across providers; says why not when it does not.
fn engine_moves() -> bool {
    let e = engine();
    let ok = e.is_opentofu() || e.at_least(1, 8);
    if !ok {
        eprintln!("skipped: {e} has no moves across resource types or providers (Terraform 1.8)");
    }
    ok
}

/// A working directory whose `hashicorp/aws` is a copy of the stand-in
/// `terraform-provider-aws` (a copy, so that a rebuild during the run
/// cannot break the engine's plugin start), for both engines' hosts.
fn with_stand_in(w: &'static World) -> Tf {
    let tf = Tf::new(w);
    let dir = tf.path().join(".aws-stand-in");
    let bin = env!("CARGO_BIN_EXE_terraform-provider-aws");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    std::fs::copy(bin, dir.join("terraform-provider-aws"))
        .unwrap_or_else(|e| panic!("copying the stand-in: {e}"));
    for host in ["registry.terraform.io", "registry.opentofu.org"] {
        tf.add_dev_override(&format!("{host}/hashicorp/aws"), &dir);
    }
    tf
}

/// An association made as `aws_eks_pod_identity_association` would have,
/// with a tag.
fn create_tagged_association(w: &World, cluster: &str, role_arn: &str) -> Value {
    let (namespace, service_account) = (random_name(), random_name());
    let tags = json!({"owner": "platform"});
    create_association(w, cluster, [&namespace, &service_account], role_arn, tags)
}

/// An association of `namespace/service_account` with `tags`.
fn create_association(
    w: &World,
    cluster: &str,
    [namespace, service_account]: [&str; 2],
    role_arn: &str,
    tags: Value,
) -> Value {
    let body = json!({
        "namespace": namespace,
        "serviceAccount": service_account,
        "roleArn": role_arn,
        "tags": tags,
    });
    let path = format!("/clusters/{cluster}/pod-identity-associations");
    let answer = w.eks("POST", &path, Some(&body));
    assert!(answer.ok(), "CreatePodIdentityAssociation: {}", answer.body);
    answer.json()["association"].clone()
}

/// Installs the addon with two pod identity associations and a tag, as
/// `aws_eks_addon` would have; waits until it is ACTIVE.
fn install_addon(w: &World, cluster: &str, roles: [&str; 2]) -> Value {
    let body = json!({
        "addonName": ADDON,
        "resolveConflicts": "OVERWRITE",
        "tags": {"team": "platform"},
        "podIdentityAssociations": [
            {"serviceAccount": SERVICE_ACCOUNTS[0], "roleArn": roles[0]},
            {"serviceAccount": SERVICE_ACCOUNTS[1], "roleArn": roles[1]},
        ],
    });
    let answer = w.eks("POST", &format!("/clusters/{cluster}/addons"), Some(&body));
    assert!(answer.ok(), "CreateAddon: {}", answer.body);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let addon = described_addon(w, cluster);
        if addon["status"] == "ACTIVE" {
            return addon;
        }
        assert!(Instant::now() < deadline, "addon not ACTIVE: {addon}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn described_addon(w: &World, cluster: &str) -> Value {
    let answer = w.eks("GET", &format!("/clusters/{cluster}/addons/{ADDON}"), None);
    assert!(answer.ok(), "DescribeAddon: {}", answer.body);
    answer.json()["addon"].clone()
}

/// The managed policies the moved role has, attached by
/// `aws_iam_role_policy_attachment`s.
const ROLE_POLICIES: [&str; 2] = [
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
];

/// A role as `aws_iam_role` (pod identity trust, a tag) with
/// [`ROLE_POLICIES`] attached as `aws_iam_role_policy_attachment` would;
/// returns it with its IAM RoleId.
fn create_aws_role(w: &World) -> (Role, String) {
    let role = w.create_pod_role();
    for arn in ROLE_POLICIES {
        let a = w.iam(
            "AttachRolePolicy",
            &[("RoleName", &role.name), ("PolicyArn", arn)],
        );
        assert!(a.ok(), "AttachRolePolicy: {}", a.body);
    }
    tag_role(w, &role.name, "team", "platform");
    let id = role_id(w, &role.name);
    (role, id)
}

/// Tags the role `name` with `key` = `value`.
fn tag_role(w: &World, name: &str, key: &str, value: &str) {
    let t = w.iam(
        "TagRole",
        &[
            ("RoleName", name),
            ("Tags.member.1.Key", key),
            ("Tags.member.1.Value", value),
        ],
    );
    assert!(t.ok(), "TagRole: {}", t.body);
}

/// IAM's RoleId of the role `name` (GetRole).
fn role_id(w: &World, name: &str) -> String {
    let body = w.iam("GetRole", &[("RoleName", name)]).body;
    body.split_once("<RoleId>")
        .and_then(|(_, rest)| rest.split_once("</RoleId>"))
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| panic!("GetRole {name}: no RoleId in {body}"))
}

/// The description of the role `moves_from` moves.
const MOVED_ROLE_DESCRIPTION: &str = "App role, made by the AWS provider";

/// The `aws_iam_role` instance the AWS provider writes
/// (internal/service/iam/role.go at 0040ea6911af; SDKv2: unset strings are
/// `""`; `managed_policy_arns` and `inline_policy` are computed and hold
/// what the role has, however attached).
fn role_instance(role: &Role, role_id: &str) -> Value {
    json!({
        "schema_version": 0,
        "attributes": {
            "arn": role.arn,
            "assume_role_policy": role.trust_policy.to_string(),
            "create_date": "2026-01-01T00:00:00Z",
            "description": "",
            "force_detach_policies": false,
            "id": role.name,
            "inline_policy": [],
            "managed_policy_arns": ROLE_POLICIES,
            "max_session_duration": 3600,
            "name": role.name,
            "name_prefix": "",
            "path": role.path,
            "permissions_boundary": "",
            "tags": {"team": "platform"},
            "tags_all": {"team": "platform"},
            "unique_id": role_id,
        },
        "sensitive_attributes": [],
        "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjAifQ==",
    })
}

/// The `aws_iam_role_policy_attachment` instances (for_each by key) of the
/// role's policies.
fn attachment_instances(role: &str, keys: [&str; 2]) -> Vec<Value> {
    keys.iter()
        .zip(ROLE_POLICIES)
        .enumerate()
        .map(|(i, (key, arn))| {
            json!({
                "index_key": key,
                "schema_version": 0,
                "attributes": {
                    "id": format!("{role}-2026010100000000000000000{i}"),
                    "policy_arn": arn,
                    "role": role,
                },
                "sensitive_attributes": [],
                "private": "bnVsbA==",
            })
        })
        .collect()
}

/// One resource of a state file as the AWS provider leaves it; `module`:
/// its module address (`module.pod_identity`), if any.
fn aws_resource(module: Option<&str>, kind: &str, name: &str, instances: Vec<Value>) -> Value {
    let mut r = json!({
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": instances,
    });
    if let Some(m) = module {
        r["module"] = json!(m);
    }
    r
}

/// A state file of `resources`.
fn state_file(resources: Vec<Value>) -> Value {
    json!({
        "version": 4,
        "terraform_version": "1.8.0",
        "serial": 1,
        "lineage": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "outputs": {},
        "resources": resources,
        "check_results": null,
    })
}

/// The role as IAM has it, with its tags apart.
fn role_without_tags(w: &World, name: &str) -> (String, Vec<(String, String)>) {
    let snapshot = w
        .role_snapshot(name)
        .unwrap_or_else(|| panic!("role {name} is gone"));
    let body = snapshot
        .lines()
        .filter(|l| !l.starts_with("tags: "))
        .collect::<Vec<_>>()
        .join("\n");
    (body, w.role_tags(name))
}

/// Checks that the plan shows the move of `from` to `to` (an object that
/// also changes shows it as "(moved from …)" under its change).
fn assert_moved(plan: &str, from: &str, to: &str) {
    assert!(
        plan.contains(&format!("{from} has moved to {to}"))
            || plan.contains(&format!("(moved from {from})")),
        "the plan does not show the move of {from} to {to}:\n{plan}"
    );
}

/// Checks that the plan shows the role's move, the owner tag it gets (the
/// warning) and nothing else but `expected` updates and forgotten
/// attachments.
fn assert_role_plan(tf: &Tf, plan: &str, role: &str, expected: &[&str]) {
    assert!(
        contains_ignoring_wrap(
            plan,
            &format!("IAM role {role} becomes this provider's own")
        ) && contains_ignoring_wrap(plan, &format!("pod-identity-role:{role}")),
        "the plan does not show the owner tag being added:\n{plan}"
    );
    let actions = tf.plan_actions();
    let changed: Vec<&String> = actions
        .iter()
        .filter(|(_, a)| a.as_slice() != ["forget"])
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, expected, "{actions:?}\n{plan}");
    assert!(
        actions
            .iter()
            .all(|(k, a)| expected.contains(&k.as_str()) || a.as_slice() == ["forget"]),
        "{actions:?}"
    );
    for k in expected {
        assert_eq!(actions[*k], ["update"], "{actions:?}");
    }
}

/// After the apply: the role is what it was plus the owner tag, its
/// attachments untouched.
fn assert_role_kept(w: &World, role: &str, before: &(String, Vec<(String, String)>)) {
    let (body, tags) = role_without_tags(w, role);
    assert_eq!(body, before.0, "the move changed the role beyond its tags");
    let mut expected = before.1.clone();
    expected.push((
        "eks-tools:pod-identity".to_string(),
        format!("pod-identity-role:{role}"),
    ));
    expected.sort();
    assert_eq!(tags, expected, "the role's tags: only the owner tag added");
    let mut attached = w.list_attached_role_policies(role);
    attached.sort();
    let mut wanted: Vec<String> = ROLE_POLICIES.iter().map(|s| s.to_string()).collect();
    wanted.sort();
    assert_eq!(attached, wanted, "the attachments are untouched");
}

/// What the world holds of the two objects: the association, the addon
/// and every association of the cluster (the addon's included).
fn snapshot(w: &World, cluster: &str, association_id: &str) -> Value {
    let mut all: Vec<Value> = w
        .list_associations(cluster)
        .iter()
        .filter_map(|a| {
            let id = a["associationId"].as_str()?;
            w.describe_association(cluster, id)
        })
        .collect();
    all.sort_by_key(|a| a["associationId"].as_str().unwrap_or_default().to_string());
    json!({
        "association": w.describe_association(cluster, association_id),
        "addon": described_addon(w, cluster),
        "associations": all,
    })
}

/// The `aws_eks_pod_identity_association` instance the release writes.
fn association_instance(release: Release, a: &Value) -> Value {
    let mut attrs = json!({
        "association_arn": a["associationArn"],
        "association_id": a["associationId"],
        "cluster_name": a["clusterName"],
        "id": a["associationId"],
        "namespace": a["namespace"],
        "role_arn": a["roleArn"],
        "service_account": a["serviceAccount"],
        "tags": a.get("tags").cloned().unwrap_or(json!({})),
        "tags_all": a.get("tags").cloned().unwrap_or(json!({})),
    });
    if release == Release::V6 {
        attrs["disable_session_tags"] = json!(false);
        attrs["external_id"] = a.get("externalId").cloned().unwrap_or(Value::Null);
        attrs["region"] = json!(REGION);
        attrs["target_role_arn"] = Value::Null;
    }
    json!({"schema_version": 0, "attributes": attrs, "sensitive_attributes": []})
}

/// The `aws_eks_addon` instance the release writes (SDKv2: unset strings
/// are `""`, the private data records the schema version).
fn addon_instance(release: Release, addon: &Value, roles: [&str; 2]) -> Value {
    let mut attrs = json!({
        "addon_name": ADDON,
        "addon_version": addon["addonVersion"],
        "arn": addon["addonArn"],
        "cluster_name": addon["clusterName"],
        "configuration_values": "",
        "created_at": addon["createdAt"],
        "id": format!("{}:{ADDON}", addon["clusterName"].as_str().unwrap_or_default()),
        "modified_at": addon["modifiedAt"],
        "pod_identity_association": [
            {"role_arn": roles[0], "service_account": SERVICE_ACCOUNTS[0]},
            {"role_arn": roles[1], "service_account": SERVICE_ACCOUNTS[1]},
        ],
        "preserve": true,
        "resolve_conflicts_on_create": "OVERWRITE",
        "resolve_conflicts_on_update": "",
        "service_account_role_arn": "",
        "tags": {"team": "platform"},
        "tags_all": {"team": "platform"},
        "timeouts": null,
    });
    match release {
        Release::V6 => attrs["region"] = json!(REGION),
        Release::V5 => attrs["resolve_conflicts"] = json!(""),
    }
    json!({
        "schema_version": 0,
        "attributes": attrs,
        "sensitive_attributes": [],
        "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjAifQ==",
    })
}

/// A state file as the AWS provider leaves it: one instance of each
/// `(type, instance)`, all named `x`.
fn aws_state(instances: Vec<(&str, Value)>) -> Value {
    state_file(
        instances
            .into_iter()
            .map(|(kind, instance)| aws_resource(None, kind, "x", vec![instance]))
            .collect(),
    )
}

/// The `removed` block that leaves the role's attachments in IAM
/// (Terraform ≥ 1.7; OpenTofu as well, see the guide).
fn removed_attachments(address: &str) -> String {
    format!("removed {{\n  from = {address}\n  lifecycle {{\n    destroy = false\n  }}\n}}\n")
}

/// `eks_pod_identity_role.x` of the role `name` made by [`create_aws_role`]
/// (with its `description`, if it has one), and its `moved` block from
/// `aws_iam_role.x`.
fn moved_role_config(name: &str, description: Option<&str>) -> String {
    let mut attrs = vec![("name", string(name))];
    if let Some(d) = description {
        attrs.push(("description", string(d)));
    }
    let role = resource(
        "eks_pod_identity_role",
        "x",
        &[
            attrs,
            vec![
                (
                    "permission_policy_arns",
                    format!(
                        "[{}, {}]",
                        string(ROLE_POLICIES[0]),
                        string(ROLE_POLICIES[1])
                    ),
                ),
                ("tags", map(&[("team", "platform")])),
            ],
        ]
        .concat(),
    );
    let moved = block(
        "moved",
        &[
            ("from", "aws_iam_role.x".into()),
            ("to", "eks_pod_identity_role.x".into()),
        ],
    );
    format!("{role}\n{moved}")
}

/// Our configuration of the same objects, with the moves.
fn moved_config(cluster: &str, a: &Value, roles: [&str; 2], moved_role: &str) -> String {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let entries = format!(
        "[{{ service_account = {}, role_arn = {} }}, {{ service_account = {}, role_arn = {} }}]",
        string(SERVICE_ACCOUNTS[0]),
        string(roles[0]),
        string(SERVICE_ACCOUNTS[1]),
        string(roles[1]),
    );
    config(&[
        provider(&[]),
        association(
            "x",
            cluster,
            &text(&a["namespace"]),
            &text(&a["serviceAccount"]),
            &text(&a["roleArn"]),
            &[("tags", map(&[("owner", "platform")]))],
        ),
        resource(
            "eks_addon_pod_identity",
            "x",
            &[
                ("cluster_name", string(cluster)),
                ("addon_name", string(ADDON)),
                ("resolve_conflicts_on_create", string("OVERWRITE")),
                ("preserve_on_delete", "true".into()),
                ("tags", map(&[("team", "platform")])),
                ("pod_identity_associations", entries),
            ],
        ),
        block(
            "moved",
            &[
                ("from", "aws_eks_pod_identity_association.x".into()),
                ("to", "eks_pod_identity_association.x".into()),
            ],
        ),
        block(
            "moved",
            &[
                ("from", "aws_eks_addon.x".into()),
                ("to", "eks_addon_pod_identity.x".into()),
            ],
        ),
        moved_role_config(moved_role, Some(MOVED_ROLE_DESCRIPTION)),
        removed_attachments("aws_iam_role_policy_attachment.x"),
    ])
}

/// The whole step script for a state of `release`.
fn moves_from(test: &str, release: Release) {
    let Some(w) = acc(test) else {
        return;
    };
    if !engine_moves() {
        return;
    }
    let cluster = w.new_cluster();
    let (role, a_role, b_role) = (
        w.create_pod_role(),
        w.create_pod_role(),
        w.create_pod_role(),
    );
    let roles = [a_role.arn.as_str(), b_role.arn.as_str()];
    let created = create_tagged_association(w, &cluster, &role.arn);
    let id = created["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let a = w
        .describe_association(&cluster, &id)
        .unwrap_or_else(|| panic!("association {id} is not in the emulator"));
    let addon = install_addon(w, &cluster, roles);
    let before = snapshot(w, &cluster, &id);
    let (moved_role, moved_role_id) = create_aws_role(w);
    // A description and a longer session, as `aws_iam_role` would set
    // them: both move with the role and are left as they are.
    let u = w.iam(
        "UpdateRole",
        &[
            ("RoleName", &moved_role.name),
            ("Description", MOVED_ROLE_DESCRIPTION),
            ("MaxSessionDuration", "7200"),
        ],
    );
    assert!(u.ok(), "UpdateRole: {}", u.body);
    let role_before = role_without_tags(w, &moved_role.name);
    let mut moved_role_instance = role_instance(&moved_role, &moved_role_id);
    moved_role_instance["attributes"]["description"] = json!(MOVED_ROLE_DESCRIPTION);
    moved_role_instance["attributes"]["max_session_duration"] = json!(7200);

    let mut tf = with_stand_in(w);
    let state = state_file(vec![
        aws_resource(
            None,
            "aws_eks_pod_identity_association",
            "x",
            vec![association_instance(release, &a)],
        ),
        aws_resource(
            None,
            "aws_eks_addon",
            "x",
            vec![addon_instance(release, &addon, roles)],
        ),
        aws_resource(None, "aws_iam_role", "x", vec![moved_role_instance]),
        aws_resource(
            None,
            "aws_iam_role_policy_attachment",
            "x",
            attachment_instances(&moved_role.name, ["s3", "ecr"]),
        ),
    ]);
    std::fs::write(tf.path().join("terraform.tfstate"), state.to_string())
        .unwrap_or_else(|e| panic!("writing the state: {e}"));
    tf.write(&moved_config(&cluster, &a, roles, &moved_role.name));

    // The plan shows the moves and, for the role, the owner tag it gets
    // (an update) and nothing else: the first read of the moved addon
    // fills in what the AWS provider never stored (the namespace and the
    // recommended configuration, from EKS's catalogue, which the move
    // itself cannot ask: Terraform moves before it configures the
    // provider), as an import does. The attachments are forgotten.
    let plan = tf.plan_output();
    for (from, to) in [
        (
            "aws_eks_pod_identity_association.x",
            "eks_pod_identity_association.x",
        ),
        ("aws_eks_addon.x", "eks_addon_pod_identity.x"),
        ("aws_iam_role.x", "eks_pod_identity_role.x"),
    ] {
        assert_moved(&plan, from, to);
    }
    assert_role_plan(&tf, &plan, &moved_role.name, &["eks_pod_identity_role.x"]);
    // The description and the session length moved with the role: the
    // plan changes neither.
    for attr in ["description", "max_session_duration"] {
        assert!(
            !plan.lines().any(|l| {
                let l = l.trim_start();
                ["~ ", "+ ", "- "]
                    .iter()
                    .any(|sign| l.starts_with(&format!("{sign}{attr} ")))
            }),
            "the plan changes {attr} of the moved role:\n{plan}"
        );
    }

    // Apply records the moves; nothing else is planned after it.
    tf.apply();
    let moved = tf.resource("eks_pod_identity_association.x");
    assert_eq!(moved["association_id"], id.as_str());
    assert_eq!(moved["role_arn"], role.arn.as_str());
    assert_eq!(
        moved["created_role"], false,
        "a given role is never deleted"
    );
    assert_eq!(moved["region"], REGION);
    let addon_state = tf.resource("eks_addon_pod_identity.x");
    let entries = addon_state["pod_identity_associations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 2, "{addon_state}");
    assert!(entries.iter().all(|e| e["created_role"] == false));
    assert_eq!(addon_state["addon_arn"], addon["addonArn"]);
    assert_eq!(addon_state["preserve_on_delete"], true);
    let role_state = tf.resource("eks_pod_identity_role.x");
    assert_eq!(role_state["unique_id"], moved_role_id.as_str());
    assert_eq!(role_state["arn"], moved_role.arn.as_str());
    assert_eq!(role_state["description"], MOVED_ROLE_DESCRIPTION);
    assert_eq!(role_state["max_session_duration"], 7200);
    tf.assert_plan_empty();
    let listed = tf.run(&["state", "list"]).output;
    assert!(
        !listed.contains("aws_"),
        "AWS provider resources left:\n{listed}"
    );
    assert_role_kept(w, &moved_role.name, &role_before);
    let got = w.iam("GetRole", &[("RoleName", &moved_role.name)]).body;
    assert!(
        got.contains(&format!(
            "<Description>{MOVED_ROLE_DESCRIPTION}</Description>"
        )) && got.contains("<MaxSessionDuration>7200</MaxSessionDuration>"),
        "the moved role's description and session length changed:\n{got}"
    );

    // The objects are what they were (an UpdateAddon or a tag change
    // would show in modifiedAt, tags or the associations).
    assert_eq!(
        snapshot(w, &cluster, &id),
        before,
        "the moves changed the world"
    );
}

#[test]
fn moves_from_aws_provider_v6() {
    moves_from("moves_from_aws_provider_v6", Release::V6);
}

#[test]
fn moves_from_aws_provider_v5() {
    moves_from("moves_from_aws_provider_v5", Release::V5);
}

/// Another resource type of the AWS provider is refused, naming what moves.
#[test]
fn moves_refuse_other_types() {
    let Some(w) = acc("moves_refuse_other_types") else {
        return;
    };
    if !engine_moves() {
        return;
    }
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let a = create_tagged_association(w, &cluster, &role.arn);
    let mut tf = with_stand_in(w);
    // An addon's state moved to the association type.
    let addon = json!({"addonVersion": "v2.1.4-eksbuild.1", "clusterName": cluster});
    let state = aws_state(vec![(
        "aws_eks_addon",
        addon_instance(Release::V6, &addon, [role.arn.as_str(); 2]),
    )]);
    std::fs::write(tf.path().join("terraform.tfstate"), state.to_string())
        .unwrap_or_else(|e| panic!("writing the state: {e}"));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    tf.write(&config(&[
        provider(&[]),
        association(
            "x",
            &cluster,
            &text(&a["namespace"]),
            &text(&a["serviceAccount"]),
            &role.arn,
            &[],
        ),
        block(
            "moved",
            &[
                ("from", "aws_eks_addon.x".into()),
                ("to", "eks_pod_identity_association.x".into()),
            ],
        ),
    ]));
    let out = tf.plan_expect_error("Cannot move this state to eks_pod_identity_association");
    assert!(
        contains_ignoring_wrap(&out, "aws_eks_addon to eks_addon_pod_identity"),
        "{out}"
    );
}

// ---- the guides' examples (issue 26 item 2), applied as written ----------

/// A working directory with the stand-in AWS provider, the example `rel`
/// (examples/<rel>/main.tf, as written), `terraform.tfvars.json` with
/// `vars` and `state` as `terraform.tfstate`.
fn example_with_state(w: &'static World, rel: &str, vars: &Value, state: &Value) -> Tf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root
        .parent()
        .unwrap_or(root)
        .join("examples")
        .join(rel)
        .join("main.tf");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let mut tf = with_stand_in(w);
    std::fs::write(tf.path().join("terraform.tfstate"), state.to_string())
        .unwrap_or_else(|e| panic!("writing the state: {e}"));
    std::fs::write(tf.path().join("terraform.tfvars.json"), vars.to_string())
        .unwrap_or_else(|e| panic!("writing the variables: {e}"));
    tf.write(&text);
    tf
}

/// examples/moving-from-the-aws-provider (docs/guides/moving-from-the-aws-provider.md)
/// from a state the AWS provider (v6) wrote: an association whose role is
/// an `aws_iam_role` with two attachments, and an addon with two
/// associations. The plan shows the three moves, the owner tag and the
/// forgotten attachments; after apply the plan is empty and IAM and EKS
/// hold what they held, but for that tag.
#[test]
fn guide_moving_from_the_aws_provider() {
    let Some(w) = acc("guide_moving_from_the_aws_provider") else {
        return;
    };
    if !engine_moves() {
        return;
    }
    let cluster = w.new_cluster();
    let (role, role_id) = create_aws_role(w);
    let (a_role, b_role) = (w.create_pod_role(), w.create_pod_role());
    let roles = [a_role.arn.as_str(), b_role.arn.as_str()];
    let created = create_association(w, &cluster, ["app", "app"], &role.arn, json!({}));
    let id = created["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let a = w
        .describe_association(&cluster, &id)
        .unwrap_or_else(|| panic!("association {id} is not in the emulator"));
    let addon = install_addon(w, &cluster, roles);
    let before = snapshot(w, &cluster, &id);
    let role_before = role_without_tags(w, &role.name);

    let state = state_file(vec![
        aws_resource(
            None,
            "aws_iam_role",
            "app",
            vec![role_instance(&role, &role_id)],
        ),
        aws_resource(
            None,
            "aws_iam_role_policy_attachment",
            "app",
            attachment_instances(&role.name, ROLE_POLICIES),
        ),
        aws_resource(
            None,
            "aws_eks_pod_identity_association",
            "app",
            vec![association_instance(Release::V6, &a)],
        ),
        aws_resource(
            None,
            "aws_eks_addon",
            "efs",
            vec![addon_instance(Release::V6, &addon, roles)],
        ),
    ]);
    let vars = json!({
        "cluster_name": cluster,
        "app_role_name": role.name,
        "efs_controller_role_arn": roles[0],
        "efs_node_role_arn": roles[1],
    });
    let tf = example_with_state(w, "moving-from-the-aws-provider", &vars, &state);
    let plan = tf.plan_output();
    assert_moved(&plan, "aws_iam_role.app", "eks_pod_identity_role.app");
    assert_moved(
        &plan,
        "aws_eks_pod_identity_association.app",
        "eks_pod_identity_association.app",
    );
    assert_moved(&plan, "aws_eks_addon.efs", "eks_addon_pod_identity.efs");
    assert_role_plan(&tf, &plan, &role.name, &["eks_pod_identity_role.app"]);

    tf.apply();
    tf.assert_plan_empty();
    assert_eq!(snapshot(w, &cluster, &id), before, "EKS changed");
    assert_role_kept(w, &role.name, &role_before);
}

/// examples/moving-from-eks-pod-identity-module
/// (docs/guides/moving-from-the-eks-pod-identity-module.md) from a state
/// terraform-aws-modules/eks-pod-identity v2.x wrote (its addresses:
/// `module.app_pod_identity.aws_iam_role.this[0]`, `…aws_iam_role_policy_attachment.this["s3"]`,
/// `…aws_eks_pod_identity_association.this["app"]`; the module's main.tf at
/// commit 54809fc3a4d1).
#[test]
fn guide_moving_from_the_eks_pod_identity_module() {
    let Some(w) = acc("guide_moving_from_the_eks_pod_identity_module") else {
        return;
    };
    if !engine_moves() {
        return;
    }
    let cluster = w.new_cluster();
    let (role, role_id) = create_aws_role(w);
    let tags = json!({"team": "platform"});
    let created = create_association(w, &cluster, ["app", "app"], &role.arn, tags);
    let id = created["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let a = w
        .describe_association(&cluster, &id)
        .unwrap_or_else(|| panic!("association {id} is not in the emulator"));
    let before = w.describe_association(&cluster, &id);
    let role_before = role_without_tags(w, &role.name);

    let module = Some("module.app_pod_identity");
    let mut role_state = role_instance(&role, &role_id);
    role_state["index_key"] = json!(0);
    let mut association = association_instance(Release::V6, &a);
    association["index_key"] = json!("app");
    let state = state_file(vec![
        aws_resource(module, "aws_iam_role", "this", vec![role_state]),
        aws_resource(
            module,
            "aws_iam_role_policy_attachment",
            "this",
            attachment_instances(&role.name, ["s3", "ecr"]),
        ),
        aws_resource(
            module,
            "aws_eks_pod_identity_association",
            "this",
            vec![association],
        ),
    ]);
    let vars = json!({"cluster_name": cluster, "role_name": role.name});
    let tf = example_with_state(w, "moving-from-eks-pod-identity-module", &vars, &state);
    let plan = tf.plan_output();
    assert_moved(
        &plan,
        "module.app_pod_identity.aws_iam_role.this[0]",
        "eks_pod_identity_role.app",
    );
    assert_moved(
        &plan,
        "module.app_pod_identity.aws_eks_pod_identity_association.this[\"app\"]",
        "eks_pod_identity_association.app",
    );
    assert_role_plan(&tf, &plan, &role.name, &["eks_pod_identity_role.app"]);

    tf.apply();
    tf.assert_plan_empty();
    let listed = tf.run(&["state", "list"]).output;
    assert!(
        !listed.contains("module."),
        "module resources left:\n{listed}"
    );
    assert_eq!(w.describe_association(&cluster, &id), before, "EKS changed");
    assert_role_kept(w, &role.name, &role_before);
}

/// A moved block is the user's statement of ownership, but never over a
/// role another resource of this provider owns: a role carrying another
/// owner tag is refused at apply, and left as it is.
#[test]
fn moves_refuse_a_role_another_resource_owns() {
    let Some(w) = acc("moves_refuse_a_role_another_resource_owns") else {
        return;
    };
    if !engine_moves() {
        return;
    }
    let (role, role_id) = create_aws_role(w);
    tag_role(
        w,
        &role.name,
        "eks-tools:pod-identity",
        "pod-identity-role:another",
    );
    let before = w.role_snapshot(&role.name);
    let mut tf = with_stand_in(w);
    let state = state_file(vec![aws_resource(
        None,
        "aws_iam_role",
        "x",
        vec![role_instance(&role, &role_id)],
    )]);
    std::fs::write(tf.path().join("terraform.tfstate"), state.to_string())
        .unwrap_or_else(|e| panic!("writing the state: {e}"));
    tf.write(&config(&[
        provider(&[]),
        moved_role_config(&role.name, None),
    ]));
    let out = tf.apply_expect_error("did not make it as an eks_pod_identity_role");
    assert!(
        contains_ignoring_wrap(&out, "pod-identity-role:another"),
        "the refusal names the other owner:\n{out}"
    );
    assert_eq!(
        w.role_snapshot(&role.name),
        before,
        "the refused role was changed"
    );
}
