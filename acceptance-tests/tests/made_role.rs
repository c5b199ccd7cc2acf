//! `eks_pod_identity_association` with roles the provider makes (issue 4):
//! every permission source alone and combined, in-place changes checked in
//! IAM, drift repaired, a role deleted by hand, switching between given and
//! made roles, import, bad input, and nothing left after destroy.

use acceptance_tests::hcl::{config, json, provider, resource, string};
use acceptance_tests::{Tf, World, acc_aws, acc_local, random_name};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ADDRESS: &str = "eks_pod_identity_association.test";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const EBS: &str = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";

/// An association whose role the provider makes, with `attrs` for its permissions.
fn made(cluster: &str, sa: &str, attrs: &[(&str, String)]) -> String {
    let mut all = vec![
        ("cluster_name", string(cluster)),
        ("namespace", string("default")),
        ("service_account", string(sa)),
    ];
    all.extend(attrs.iter().cloned());
    config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "test", &all),
    ])
}

fn set(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| string(i)).collect();
    format!("[{}]", quoted.join(", "))
}

fn s3_policy(action: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
}

/// The text of the first `<tag>` in an IAM answer.
fn xml_first(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(
        xml[start..end]
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}

/// Percent-decoding, as IAM documents need.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn role_name(tf: &Tf) -> String {
    tf.resource(ADDRESS)["role_name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn attached(w: &World, role: &str) -> BTreeSet<String> {
    w.list_attached_role_policies(role).into_iter().collect()
}

fn inline_doc(w: &World, role: &str, policy: &str) -> Option<Value> {
    let answer = w.iam(
        "GetRolePolicy",
        &[("RoleName", role), ("PolicyName", policy)],
    );
    if !answer.ok() {
        return None;
    }
    xml_first(&answer.body, "PolicyDocument").and_then(|d| serde_json::from_str(&decode(&d)).ok())
}

fn trust(w: &World, role: &str) -> Value {
    let answer = w.iam("GetRole", &[("RoleName", role)]);
    let doc = xml_first(&answer.body, "AssumeRolePolicyDocument").unwrap_or_default();
    serde_json::from_str(&decode(&doc)).unwrap_or(Value::Null)
}

fn boundary(w: &World, role: &str) -> Option<String> {
    let answer = w.iam("GetRole", &[("RoleName", role)]);
    xml_first(&answer.body, "PermissionsBoundaryArn")
}

fn assert_role_gone(w: &World, role: &str) {
    assert!(w.get_role(role).is_none(), "role {role} still exists");
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn made_role_basic() {
    let Some(w) = acc_aws("made_role_basic") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);

    // All three permission sources at once.
    tf.write(&made(
        &cluster,
        &sa,
        &[
            ("permission_policy_arns", set(&[READ_ONLY])),
            ("permission_policy", json(&s3_policy("s3:GetObject"))),
            (
                "well_known_policies",
                set(&["ebs-csi-controller", "externalDNS"]),
            ),
            ("tags", acceptance_tests::hcl::map(&[("team", "a")])),
        ],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let name = role_name(&tf);
    assert_eq!(r["created_role"], true);
    assert!(name.len() <= 64 && name.starts_with("eks-pi-"), "{name}");
    assert!(
        r["role_arn"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!(":role/{name}"))
    );
    assert_eq!(attached(w, &name), set_of(&[READ_ONLY, EBS]));
    let mut inline: Vec<String> = w.list_role_policies(&name);
    inline.sort();
    assert_eq!(inline, vec!["permission-policy", "well-known-policies"]);
    assert_eq!(
        inline_doc(w, &name, "permission-policy"),
        Some(s3_policy("s3:GetObject"))
    );
    let wk = inline_doc(w, &name, "well-known-policies")
        .unwrap_or(Value::Null)
        .to_string();
    assert!(wk.contains("route53:ChangeResourceRecordSets"), "{wk}");
    assert_eq!(
        trust(w, &name),
        json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]})
    );
    let remote = w
        .describe_association(&cluster, r["association_id"].as_str().unwrap_or_default())
        .unwrap_or(Value::Null);
    assert_eq!(remote["roleArn"], r["role_arn"]);
    tf.assert_plan_empty();
    let id = r["association_id"].clone();
    let arn = r["role_arn"].clone();

    // In place: managed set, inline policy, well-known set, boundary, trust.
    tf.write(&made(
        &cluster,
        &sa,
        &[
            ("permission_policy_arns", set(&[S3_READ])),
            ("permission_policy", json(&s3_policy("s3:PutObject"))),
            ("well_known_policies", set(&["ebs-csi-controller"])),
            ("permissions_boundary_arn", string(READ_ONLY)),
            ("restrict_to_cluster", "true".into()),
            ("tags", acceptance_tests::hcl::map(&[("team", "b")])),
        ],
    ));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["association_id"], id, "association was replaced");
    assert_eq!(r["role_arn"], arn, "role was replaced");
    assert_eq!(attached(w, &name), set_of(&[S3_READ, EBS]));
    assert_eq!(w.list_role_policies(&name), vec!["permission-policy"]);
    assert_eq!(
        inline_doc(w, &name, "permission-policy"),
        Some(s3_policy("s3:PutObject"))
    );
    assert_eq!(boundary(w, &name).as_deref(), Some(READ_ONLY));
    let t = trust(w, &name);
    // The documented session tag, not aws:SourceArn (issue 27: no AWS
    // source says EKS sends the cluster ARN there).
    let condition = &t["Statement"][0]["Condition"];
    assert_eq!(
        condition["StringEquals"]["aws:RequestTag/eks-cluster-arn"],
        format!(
            "arn:aws:eks:{}:{}:cluster/{cluster}",
            w.region, w.account_id
        )
    );
    assert_eq!(
        condition["StringEquals"]["aws:SourceAccount"],
        w.account_id.as_str()
    );
    assert!(condition.get("ArnEquals").is_none(), "{t}");
    tf.assert_plan_empty();

    // Import: the made role is recognised by its owner tag.
    tf.import_verify(ADDRESS, &format!("{cluster}/default/{sa}"), &[]);

    // Remove the boundary and the inline policy: deleted, nothing else touched.
    tf.write(&made(
        &cluster,
        &sa,
        &[
            ("permission_policy_arns", set(&[S3_READ])),
            ("well_known_policies", set(&["ebs-csi-controller"])),
        ],
    ));
    tf.apply();
    assert_eq!(boundary(w, &name), None);
    assert!(w.list_role_policies(&name).is_empty());
    assert_eq!(attached(w, &name), set_of(&[S3_READ, EBS]));
    tf.assert_plan_empty();

    tf.destroy();
    assert_role_gone(w, &name);
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn made_role_drift() {
    let Some(w) = acc_aws("made_role_drift") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&made(
        &cluster,
        &sa,
        &[
            ("permission_policy_arns", set(&[READ_ONLY, S3_READ])),
            ("permission_policy", json(&s3_policy("s3:GetObject"))),
        ],
    ));
    tf.apply();
    let name = role_name(&tf);

    // A policy detached and the inline policy changed by hand: both show, apply restores.
    w.iam(
        "DetachRolePolicy",
        &[("RoleName", &name), ("PolicyArn", READ_ONLY)],
    );
    let other = s3_policy("s3:*").to_string();
    w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", &name),
            ("PolicyName", "permission-policy"),
            ("PolicyDocument", &other),
        ],
    );
    let plan = tf.plan_output();
    assert!(plan.contains(READ_ONLY), "{plan}");
    assert!(plan.contains("inline_policies"), "{plan}");
    tf.apply();
    assert_eq!(attached(w, &name), set_of(&[READ_ONLY, S3_READ]));
    assert_eq!(
        inline_doc(w, &name, "permission-policy"),
        Some(s3_policy("s3:GetObject"))
    );
    tf.assert_plan_empty();

    // The role deleted by hand: the plan replaces association and role.
    for p in [READ_ONLY, S3_READ] {
        w.iam("DetachRolePolicy", &[("RoleName", &name), ("PolicyArn", p)]);
    }
    w.iam(
        "DeleteRolePolicy",
        &[("RoleName", &name), ("PolicyName", "permission-policy")],
    );
    w.delete_role(&name);
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["delete".to_string(), "create".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    assert_eq!(attached(w, &name), set_of(&[READ_ONLY, S3_READ]));
    tf.assert_plan_empty();
    tf.destroy();
    assert_role_gone(w, &name);
}

#[test]
fn made_role_switch_with_given_role() {
    let Some(w) = acc_aws("made_role_switch_with_given_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let given = w.create_pod_role();
    let sa = random_name();
    let mut tf = Tf::new(w);
    let with_given = made(&cluster, &sa, &[("role_arn", string(&given.arn))]);
    let with_made = made(
        &cluster,
        &sa,
        &[("well_known_policies", set(&["image-builder"]))],
    );

    tf.write(&with_given);
    tf.apply();
    let id = tf.resource(ADDRESS)["association_id"].clone();
    assert_eq!(tf.resource(ADDRESS)["created_role"], false);

    // Given → made: in place; the association points at the new role.
    tf.write(&with_made);
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    let r = tf.resource(ADDRESS);
    let name = role_name(&tf);
    assert_eq!(r["association_id"], id);
    assert_eq!(r["created_role"], true);
    let remote = w
        .describe_association(&cluster, id.as_str().unwrap_or_default())
        .unwrap_or(Value::Null);
    assert_eq!(remote["roleArn"], r["role_arn"]);
    tf.assert_plan_empty();

    // Made → given: in place; the made role is deleted after the switch.
    tf.write(&with_given);
    tf.apply();
    let remote = w
        .describe_association(&cluster, id.as_str().unwrap_or_default())
        .unwrap_or(Value::Null);
    assert_eq!(remote["roleArn"], given.arn.as_str());
    assert_role_gone(w, &name);
    tf.assert_plan_empty();

    // Destroy never touches a role we did not make.
    tf.destroy();
    assert!(
        w.get_role(&given.name).is_some(),
        "the given role was deleted"
    );
}

#[test]
fn made_role_names_never_collide() {
    let Some(w) = acc_local(
        "made_role_names_never_collide",
        "uses fixed namespaces (a, a-b) the sweeper would not know",
    ) else {
        return;
    };
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    let entry = |label: &str, ns: &str, sa: &str| {
        resource(
            "eks_pod_identity_association",
            label,
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string(ns)),
                ("service_account", string(sa)),
                ("well_known_policies", set(&["cert-manager"])),
            ],
        )
    };
    tf.write(&config(&[
        provider(&[]),
        entry("one", "a-b", "c"),
        entry("two", "a", "b-c"),
    ]));
    tf.apply();
    let one = tf.resource("eks_pod_identity_association.one")["role_name"].clone();
    let two = tf.resource("eks_pod_identity_association.two")["role_name"].clone();
    assert_ne!(one, two);
    tf.assert_plan_empty();
    tf.destroy();
    for r in [one, two] {
        assert_role_gone(w, r.as_str().unwrap_or_default());
    }
}

#[test]
fn made_role_bad_input() {
    let Some(w) = acc_local(
        "made_role_bad_input",
        "lists every role whose name holds the cluster's: other tests' made roles on a shared cluster match",
    ) else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let mut tf = Tf::new(w);
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![
                ("role_arn", string(&role.arn)),
                ("well_known_policies", set(&["cert-manager"])),
            ],
            "well_known_policies cannot be combined with role_arn",
        ),
        (
            vec![("role_name", string("only-a-name"))],
            "No role and no permissions",
        ),
        (
            vec![("well_known_policies", set(&["no-such-thing"]))],
            "aws-load-balancer-controller",
        ),
        (
            vec![("permission_policy_arns", set(&["AmazonS3ReadOnlyAccess"]))],
            "not an IAM managed policy ARN",
        ),
        (
            vec![
                ("role_path", string("no-slashes")),
                ("well_known_policies", set(&["cert-manager"])),
            ],
            "not a valid IAM role path",
        ),
        (
            vec![("permission_policy", string("{not json"))],
            "not valid JSON",
        ),
        (
            vec![
                ("role_name", string(&"x".repeat(65))),
                ("well_known_policies", set(&["cert-manager"])),
            ],
            "not a valid IAM role name",
        ),
    ];
    for (attrs, message) in cases {
        tf.write(&made(&cluster, &sa, &attrs));
        tf.plan_expect_error(message);
    }
    assert!(w.list_associations(&cluster).is_empty());
    let made: Vec<String> = w
        .list_roles()
        .into_iter()
        .filter(|r| r.contains(&cluster))
        .collect();
    assert!(made.is_empty(), "a failing plan created roles: {made:?}");
}

#[test]
fn well_known_policy_data_source() {
    let Some(w) = acc_aws("well_known_policy_data_source") else {
        return;
    };
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        acceptance_tests::hcl::data(
            "eks_well_known_policy",
            "dns",
            &[("name", string("externalDNS"))],
        ),
        acceptance_tests::hcl::data(
            "eks_well_known_policy",
            "ebs",
            &[
                ("name", string("ebs-csi-controller")),
                ("partition", string("aws-us-gov")),
            ],
        ),
        acceptance_tests::hcl::output("dns_policy", "data.eks_well_known_policy.dns.policy_json"),
        acceptance_tests::hcl::output("dns_name", "data.eks_well_known_policy.dns.canonical_name"),
        acceptance_tests::hcl::output(
            "ebs_arns",
            "data.eks_well_known_policy.ebs.managed_policy_arns",
        ),
    ]));
    tf.apply();
    let out = tf.outputs();
    assert_eq!(out["dns_name"], "external-dns");
    let doc: Value =
        serde_json::from_str(out["dns_policy"].as_str().unwrap_or_default()).unwrap_or(Value::Null);
    assert!(
        doc["Statement"]
            .to_string()
            .contains("arn:aws:route53:::hostedzone/*"),
        "{doc}"
    );
    assert_eq!(
        out["ebs_arns"],
        json!(["arn:aws-us-gov:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"])
    );
    tf.write(&config(&[
        provider(&[]),
        acceptance_tests::hcl::data("eks_well_known_policy", "x", &[("name", string("nope"))]),
    ]));
    tf.plan_expect_error("aws-load-balancer-controller");
}

/// Issue 12 item 7: `terraform plan -generate-config-out` for an association
/// with a made role writes `role_arn` beside the role-creation attributes;
/// that config validates, applies (importing) and then plans empty.
#[test]
fn made_role_import_generate_config_out_plans_empty() {
    let Some(w) = acc_aws("made_role_import_generate_config_out_plans_empty") else {
        return;
    };
    if !acceptance_tests::engine().has_import_blocks() {
        eprintln!("made_role_import_generate_config_out_plans_empty: no import blocks; skipped");
        return;
    }
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&made(
        &cluster,
        &sa,
        &[
            ("well_known_policies", set(&["cert-manager"])),
            ("permission_policy", json(&s3_policy("s3:GetObject"))),
        ],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let (id, name) = (
        r["association_id"].as_str().unwrap_or_default().to_string(),
        r["role_name"].as_str().unwrap_or_default().to_string(),
    );
    let rm = tf.run(&["state", "rm", ADDRESS]);
    assert_eq!(rm.code, Some(0), "{}", rm.output);
    tf.write(&config(&[
        provider(&[]),
        acceptance_tests::hcl::block(
            "import",
            &[
                ("to", ADDRESS.to_string()),
                ("id", string(&format!("{cluster},{id}"))),
            ],
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
        "{}\n--- generated.tf ---\n{generated}",
        run.output
    );
    assert!(
        generated.contains("role_arn") && generated.contains("role_name"),
        "{generated}"
    );
    tf.apply();
    assert_eq!(tf.resource(ADDRESS)["created_role"], json!(true));
    let (empty, plan) = tf.plan();
    assert!(
        empty,
        "generated config does not plan empty:\n{plan}\n--- generated.tf ---\n{generated}"
    );
    tf.destroy();
    assert_role_gone(w, &name);
    assert!(w.list_associations(&cluster).is_empty());
}

/// Issue 12 item 8: a `for_each` key renamed without a `moved` block either
/// converges in one apply or fails with advice to write `moved`; never a
/// timing-dependent IAM error. The next apply converges either way, leaving
/// one association and one role.
#[test]
fn made_role_for_each_key_renamed_without_moved() {
    let Some(w) = acc_aws("made_role_for_each_key_renamed_without_moved") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let keyed = |key: &str| {
        config(&[
            provider(&[]),
            resource(
                "eks_pod_identity_association",
                "test",
                &[
                    ("for_each", format!("{{ {key} = {} }}", string(&sa))),
                    ("cluster_name", string(&cluster)),
                    ("namespace", string("default")),
                    ("service_account", "each.value".into()),
                    ("well_known_policies", set(&["cert-manager"])),
                ],
            ),
        ])
    };
    let mut tf = Tf::new(w);
    tf.write(&keyed("old"));
    tf.apply();
    tf.write(&keyed("new"));
    let run = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    if run.code != Some(0) {
        assert!(
            acceptance_tests::contains_ignoring_wrap(&run.output, "moved block"),
            "failed without advice to write moved:\n{}",
            run.output
        );
        for bad in ["EntityAlreadyExists", "NoSuchEntity"] {
            assert!(
                !run.output.contains(bad),
                "timing-dependent IAM error:\n{}",
                run.output
            );
        }
        tf.apply();
    }
    let r = tf.resource(r#"eks_pod_identity_association.test["new"]"#);
    assert!(
        tf.resource_opt(r#"eks_pod_identity_association.test["old"]"#)
            .is_none()
    );
    let name = r["role_name"].as_str().unwrap_or_default().to_string();
    assert!(w.get_role(&name).is_some());
    assert_eq!(w.list_associations(&cluster).len(), 1);
    tf.assert_plan_empty();
    tf.destroy();
    assert_role_gone(w, &name);
    assert!(w.list_associations(&cluster).is_empty());
}

/// Issue 16: update and destroy compute their IAM calls from what the
/// refreshed state knows of the made role. When the role changed after that
/// refresh (here: `-refresh=false`), the calls fall back to reading it:
/// a destroy whose DeleteRole meets a policy attached since then lists and
/// detaches it, and an update that finds the role gone makes it again.
#[test]
fn made_role_stale_state_falls_back_to_reading() {
    let Some(w) = acc_aws("made_role_stale_state_falls_back_to_reading") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&made(
        &cluster,
        &sa,
        &[("permission_policy_arns", set(&[S3_READ]))],
    ));
    tf.apply();
    let role = role_name(&tf);

    // Deleted by hand; an update planned without refresh still converges.
    for p in w.list_attached_role_policies(&role) {
        w.iam(
            "DetachRolePolicy",
            &[("RoleName", role.as_str()), ("PolicyArn", p.as_str())],
        );
    }
    w.delete_role(&role);
    tf.write(&made(
        &cluster,
        &sa,
        &[
            ("permission_policy_arns", set(&[S3_READ])),
            ("permission_policy", json(&s3_policy("s3:ListBucket"))),
        ],
    ));
    let run = tf.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-refresh=false",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_eq!(attached(w, &role), set_of(&[S3_READ]));
    assert_eq!(
        inline_doc(w, &role, "permission-policy"),
        Some(s3_policy("s3:ListBucket"))
    );
    tf.assert_plan_empty();

    // Attached by hand after the last refresh: DeleteRole refuses, and the
    // destroy lists what the role holds and deletes it all.
    let answer = w.iam(
        "AttachRolePolicy",
        &[("RoleName", role.as_str()), ("PolicyArn", READ_ONLY)],
    );
    assert!(answer.ok(), "{}", answer.body);
    let run = tf.run(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-refresh=false",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_role_gone(w, &role);
    assert!(w.list_associations(&cluster).is_empty());
}

/// `permission_policy_name` (eksctl stores a made role's inline policy as
/// `<stack>-Policy1`): the inline policy gets that name, renaming it is an
/// in-place update that leaves only the new name, import restores the
/// name, going back to the default renames again, a hand-added policy
/// under the default name is drift, and the bad inputs are refused at
/// validate naming the attribute.
#[test]
fn made_role_permission_policy_name() {
    let Some(w) = acc_aws("made_role_permission_policy_name") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    let named = |name: Option<&str>, action: &str| {
        let mut attrs = vec![("permission_policy", json(&s3_policy(action)))];
        if let Some(n) = name {
            attrs.push(("permission_policy_name", string(n)));
        }
        made(&cluster, &sa, &attrs)
    };
    let eksctl_name = format!("eksctl-{cluster}-podidentityrole-default-{sa}-Policy1");
    tf.write(&named(Some(&eksctl_name), "s3:GetObject"));
    tf.apply();
    let name = role_name(&tf);
    let id = tf.resource(ADDRESS)["association_id"].clone();
    assert_eq!(w.list_role_policies(&name), vec![eksctl_name.clone()]);
    assert_eq!(
        inline_doc(w, &name, &eksctl_name),
        Some(s3_policy("s3:GetObject"))
    );
    assert_eq!(
        tf.resource(ADDRESS)["inline_policies"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec![eksctl_name.clone()])
    );
    tf.assert_plan_empty();
    // Import finds the single inline policy under its own name.
    tf.import_verify(ADDRESS, &format!("{cluster}/default/{sa}"), &[]);

    // Rename (and change the document): in place, only the new name left.
    tf.write(&named(Some("s3-access"), "s3:PutObject"));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    assert_eq!(tf.resource(ADDRESS)["association_id"], id);
    assert_eq!(w.list_role_policies(&name), vec!["s3-access".to_string()]);
    assert_eq!(
        inline_doc(w, &name, "s3-access"),
        Some(s3_policy("s3:PutObject"))
    );
    tf.assert_plan_empty();

    // A policy added by hand under the default name is drift: the plan
    // shows it and the apply removes it, keeping the named one.
    w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", &name),
            ("PolicyName", "permission-policy"),
            ("PolicyDocument", &s3_policy("s3:*").to_string()),
        ],
    );
    assert!(
        !tf.plan_is_empty(),
        "the hand-added policy is not in the plan"
    );
    tf.apply();
    assert_eq!(w.list_role_policies(&name), vec!["s3-access".to_string()]);
    tf.assert_plan_empty();

    // Back to the default name.
    tf.write(&named(None, "s3:PutObject"));
    tf.apply();
    assert_eq!(
        w.list_role_policies(&name),
        vec!["permission-policy".to_string()]
    );
    tf.assert_plan_empty();

    // Renamed onto the name of a policy someone added by hand (issue 23
    // item 3): grant before taking away, and never delete what was just
    // put. Before: PutRolePolicy(new), DeleteRolePolicy(old), then
    // DeleteRolePolicy(new) as an extra policy, and the role had none.
    w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", &name),
            ("PolicyName", "by-hand"),
            ("PolicyDocument", &s3_policy("s3:*").to_string()),
        ],
    );
    tf.write(&named(Some("by-hand"), "s3:PutObject"));
    tf.apply();
    assert_eq!(w.list_role_policies(&name), vec!["by-hand".to_string()]);
    assert_eq!(
        inline_doc(w, &name, "by-hand"),
        Some(s3_policy("s3:PutObject"))
    );
    tf.assert_plan_empty();

    // Bad inputs, at validate, naming the attribute.
    tf.write(&made(
        &cluster,
        &sa,
        &[
            ("permission_policy_arns", set(&[READ_ONLY])),
            ("permission_policy_name", string("lonely")),
        ],
    ));
    tf.validate_expect_error("permission_policy_name without permission_policy");
    tf.write(&named(Some("well-known-policies"), "s3:GetObject"));
    tf.validate_expect_error("well_known_policies");
    tf.write(&named(Some("has space"), "s3:GetObject"));
    tf.validate_expect_error("is not an IAM policy name");

    tf.write(&named(None, "s3:PutObject"));
    tf.destroy();
    assert!(
        w.get_role(&name).is_none(),
        "the made role outlived destroy"
    );
}
