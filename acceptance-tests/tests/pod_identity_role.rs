//! `eks_pod_identity_role` (issue 25 item 3): one role the provider makes
//! and owns, used by many associations through `role_arn`. Its lifecycle
//! (create, in-place update, import, deleted by hand, drift, destroy), a
//! taken name left untouched, a role a dead apply left adopted, and the
//! example (one role, three associations, two clusters). The role's own
//! settings (issue 25 item 3): `description`, `max_session_duration` and
//! `name_prefix` through create, update in place, drift, import and
//! destroy; a name made from a prefix that a dead apply left, adopted; and
//! their limits refused at plan.

use acceptance_tests::hcl::{config, json, map, provider, resource, string};
use acceptance_tests::{Tf, World, acc, contains_ignoring_wrap, engine, random_name};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const ADDRESS: &str = "eks_pod_identity_role.test";
const OWNER_TAG: &str = "eks-tools:pod-identity";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const EBS: &str = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";

/// The role `name` with `attrs`.
fn role(name: &str, attrs: &[(&str, String)]) -> String {
    let mut all = vec![("name", string(name))];
    all.extend(attrs.iter().cloned());
    config(&[
        provider(&[]),
        resource("eks_pod_identity_role", "test", &all),
    ])
}

fn set(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| string(i)).collect();
    format!("[{}]", quoted.join(", "))
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn s3_policy(action: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
}

fn attached(w: &World, role: &str) -> BTreeSet<String> {
    w.list_attached_role_policies(role).into_iter().collect()
}

fn inline(w: &World, role: &str) -> Vec<String> {
    let mut v = w.list_role_policies(role);
    v.sort();
    v
}

fn tag(w: &World, role: &str, key: &str) -> Option<String> {
    w.role_tags(role)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
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

fn trust(w: &World, role: &str) -> Value {
    let answer = w.iam("GetRole", &[("RoleName", role)]);
    let doc = xml_first(&answer.body, "AssumeRolePolicyDocument").unwrap_or_default();
    serde_json::from_str(&decode(&doc)).unwrap_or(Value::Null)
}

#[test]
fn pod_identity_role_basic() {
    let Some(w) = acc("pod_identity_role_basic") else {
        return;
    };
    let name = random_name();
    let mut tf = Tf::new(w);
    let conditions = json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "web"}});
    tf.write(&role(
        &name,
        &[
            ("permission_policy_arns", set(&[READ_ONLY])),
            ("permission_policy", json(&s3_policy("s3:GetObject"))),
            (
                "well_known_policies",
                set(&["ebs-csi-controller", "external-dns"]),
            ),
            ("trust_conditions", json(&conditions)),
            ("tags", map(&[("team", "a")])),
        ],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["id"], name.as_str());
    assert_eq!(r["path"], "/");
    assert!(
        r["arn"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!(":role/{name}")),
        "{r}"
    );
    assert!(
        r["unique_id"].as_str().is_some_and(|u| !u.is_empty()),
        "{r}"
    );
    assert_eq!(attached(w, &name), set_of(&[READ_ONLY, EBS]));
    assert_eq!(
        inline(w, &name),
        vec!["permission-policy", "well-known-policies"]
    );
    let t = trust(w, &name);
    assert_eq!(
        t["Statement"][0]["Principal"]["Service"],
        "pods.eks.amazonaws.com"
    );
    assert_eq!(
        t["Statement"][0]["Action"],
        json!(["sts:AssumeRole", "sts:TagSession"])
    );
    assert_eq!(t["Statement"][0]["Condition"], conditions);
    assert_eq!(
        tag(w, &name, OWNER_TAG),
        Some(format!("pod-identity-role:{name}"))
    );
    assert_eq!(
        tag(w, &name, "eks-tools:well-known-policies").as_deref(),
        Some("ebs-csi-controller external-dns")
    );
    assert_eq!(tag(w, &name, "team").as_deref(), Some("a"));
    assert_eq!(tag(w, &name, "eks-tools:creating"), None);
    tf.assert_plan_empty();
    let arn = r["arn"].clone();

    // In place: policies and tags.
    tf.write(&role(
        &name,
        &[
            ("permission_policy_arns", set(&[S3_READ])),
            ("permission_policy", json(&s3_policy("s3:PutObject"))),
            ("trust_conditions", json(&conditions)),
            ("tags", map(&[("team", "b"), ("env", "dev")])),
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
    assert_eq!(r["arn"], arn, "role was replaced");
    assert_eq!(attached(w, &name), set_of(&[S3_READ]));
    assert_eq!(inline(w, &name), vec!["permission-policy"]);
    assert_eq!(tag(w, &name, "team").as_deref(), Some("b"));
    assert_eq!(tag(w, &name, "env").as_deref(), Some("dev"));
    assert_eq!(tag(w, &name, "eks-tools:well-known-policies"), None);
    tf.assert_plan_empty();

    // Import: by name, equal to the applied state.
    tf.import_verify(ADDRESS, &name, &[]);

    // Deleted by hand: made again.
    w.delete_role_and_policies(&name);
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["create".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    assert_eq!(attached(w, &name), set_of(&[S3_READ]));
    tf.assert_plan_empty();

    // Drift: an inline policy added, a policy detached, a tag changed.
    w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", &name),
            ("PolicyName", "added-by-hand"),
            ("PolicyDocument", &s3_policy("s3:*").to_string()),
        ],
    );
    w.iam(
        "DetachRolePolicy",
        &[("RoleName", &name), ("PolicyArn", S3_READ)],
    );
    w.iam(
        "TagRole",
        &[
            ("RoleName", &name),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "z"),
        ],
    );
    // ...and the trust and boundary changed.
    let open_trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]});
    w.iam(
        "UpdateAssumeRolePolicy",
        &[
            ("RoleName", &name),
            ("PolicyDocument", &open_trust.to_string()),
        ],
    );
    w.iam(
        "PutRolePermissionsBoundary",
        &[("RoleName", &name), ("PermissionsBoundary", READ_ONLY)],
    );
    let plan = tf.plan_output();
    assert!(plan.contains("added-by-hand"), "{plan}");
    assert!(plan.contains(S3_READ), "{plan}");
    assert!(plan.contains("trust_policy"), "{plan}");
    assert!(plan.contains("permissions_boundary_arn"), "{plan}");
    tf.apply();
    assert_eq!(inline(w, &name), vec!["permission-policy"]);
    assert_eq!(attached(w, &name), set_of(&[S3_READ]));
    assert_eq!(tag(w, &name, "team").as_deref(), Some("b"));
    assert_eq!(trust(w, &name)["Statement"][0]["Condition"], conditions);
    let role_xml = w.iam("GetRole", &[("RoleName", &name)]).body;
    assert!(!role_xml.contains("PermissionsBoundaryArn"), "{role_xml}");
    tf.assert_plan_empty();

    // The owner tag changed by hand: shown, and written again.
    w.iam(
        "TagRole",
        &[
            ("RoleName", &name),
            ("Tags.member.1.Key", "eks-tools:well-known-policies"),
            ("Tags.member.1.Value", "external-dns"),
        ],
    );
    assert!(!tf.plan_is_empty(), "a changed provider tag plans nothing");
    tf.apply();
    assert_eq!(tag(w, &name, "eks-tools:well-known-policies"), None);
    tf.assert_plan_empty();

    // The owner tag removed by hand: the same role (its RoleId is the
    // recorded unique_id), so it is shown and tagged again.
    w.iam(
        "UntagRole",
        &[("RoleName", &name), ("TagKeys.member.1", OWNER_TAG)],
    );
    assert!(!tf.plan_is_empty(), "a removed owner tag plans nothing");
    tf.apply();
    assert_eq!(
        tag(w, &name, OWNER_TAG),
        Some(format!("pod-identity-role:{name}"))
    );
    tf.assert_plan_empty();

    // Destroy deletes the role even when its owner tag went by hand.
    w.iam(
        "UntagRole",
        &[("RoleName", &name), ("TagKeys.member.1", OWNER_TAG)],
    );
    tf.destroy();
    assert!(
        w.get_role(&name).is_none(),
        "role {name} left after destroy"
    );
}

#[test]
fn pod_identity_role_name_taken_is_refused_and_untouched() {
    let Some(w) = acc("pod_identity_role_name_taken_is_refused_and_untouched") else {
        return;
    };
    let name = random_name();
    w.create_owned_role(&name);
    let before = w.role_snapshot(&name);
    let mut tf = Tf::new(w);
    tf.write(&role(
        &name,
        &[("permission_policy_arns", set(&[READ_ONLY]))],
    ));
    let out = tf.apply_expect_error("already exists");
    assert!(out.contains("never takes over"), "{out}");
    assert_eq!(w.role_snapshot(&name), before, "the taken role was changed");
    let out = tf.import_expect_error(ADDRESS, &name, "did not make it");
    assert!(out.contains(OWNER_TAG), "{out}");
    assert_eq!(w.role_snapshot(&name), before, "the taken role was changed");
    // A role of a service account's association is not this kind's either.
    let other = random_name();
    let r = w.create_role(
        &other,
        &json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}),
    );
    let _ = r;
    w.iam(
        "TagRole",
        &[
            ("RoleName", &other),
            ("Tags.member.1.Key", OWNER_TAG),
            ("Tags.member.1.Value", "c/ns/sa"),
        ],
    );
    let before = w.role_snapshot(&other);
    tf.write(&role(
        &other,
        &[("permission_policy_arns", set(&[READ_ONLY]))],
    ));
    tf.apply_expect_error("already exists");
    assert_eq!(w.role_snapshot(&other), before);
    tf.destroy();
    assert!(w.get_role(&name).is_some() && w.get_role(&other).is_some());
    w.delete_role_and_policies(&name);
    w.delete_role_and_policies(&other);
}

#[test]
fn pod_identity_role_left_by_a_dead_apply_is_adopted() {
    let Some(w) = acc("pod_identity_role_left_by_a_dead_apply_is_adopted") else {
        return;
    };
    // What a kill right after CreateRole leaves: the owner tag and an
    // expired creation lease, no policies yet.
    let name = random_name();
    w.create_role(
        &name,
        &json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}),
    );
    let owner = format!("pod-identity-role:{name}");
    w.iam(
        "TagRole",
        &[
            ("RoleName", &name),
            ("Tags.member.1.Key", OWNER_TAG),
            ("Tags.member.1.Value", &owner),
            ("Tags.member.2.Key", "eks-tools:creating"),
            (
                "Tags.member.2.Value",
                "2020-01-01T00:00:00Z/0123456789abcdef",
            ),
        ],
    );
    let mut tf = Tf::new(w);
    tf.write(&role(
        &name,
        &[("permission_policy_arns", set(&[READ_ONLY]))],
    ));
    tf.apply();
    assert_eq!(attached(w, &name), set_of(&[READ_ONLY]));
    assert_eq!(tag(w, &name, "eks-tools:creating"), None);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&name).is_none());
}

/// The role made from `prefix` with `attrs` (no `name`).
fn prefixed(prefix: &str, attrs: &[(&str, String)]) -> String {
    let mut all = vec![("name_prefix", string(prefix))];
    all.extend(attrs.iter().cloned());
    config(&[
        provider(&[]),
        resource("eks_pod_identity_role", "test", &all),
    ])
}

/// The role's Description and MaxSessionDuration as IAM's GetRole says.
fn settings(w: &World, role: &str) -> (Option<String>, Option<String>) {
    let xml = w.iam("GetRole", &[("RoleName", role)]).body;
    (
        xml_first(&xml, "Description").filter(|d| !d.is_empty()),
        xml_first(&xml, "MaxSessionDuration"),
    )
}

/// The roles whose names begin with `prefix`.
fn roles_with_prefix(w: &World, prefix: &str) -> Vec<String> {
    w.list_roles()
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[test]
fn pod_identity_role_settings_and_name_prefix() {
    let Some(w) = acc("pod_identity_role_settings_and_name_prefix") else {
        return;
    };
    let prefix = format!("{}-", random_name());
    let mut tf = Tf::new(w);
    let body = |description: Option<&str>, seconds: Option<u32>| {
        let mut attrs = vec![("permission_policy_arns", set(&[READ_ONLY]))];
        if let Some(d) = description {
            attrs.push(("description", string(d)));
        }
        if let Some(s) = seconds {
            attrs.push(("max_session_duration", s.to_string()));
        }
        prefixed(&prefix, &attrs)
    };
    tf.write(&body(Some("Shared by web"), Some(7200)));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let name = r["name"].as_str().unwrap_or_default().to_string();
    assert!(name.starts_with(&prefix), "{r}");
    assert_eq!(name.len(), prefix.len() + 26, "{r}");
    assert_eq!(r["id"], name.as_str());
    assert_eq!(r["name_prefix"], prefix.as_str());
    assert_eq!(r["description"], "Shared by web");
    assert_eq!(r["max_session_duration"], 7200);
    assert_eq!(
        settings(w, &name),
        (Some("Shared by web".into()), Some("7200".into()))
    );
    assert_eq!(
        tag(w, &name, OWNER_TAG),
        Some(format!("pod-identity-role:{name}"))
    );
    assert_eq!(tag(w, &name, "eks-tools:creating"), None);
    assert_eq!(roles_with_prefix(w, &prefix), vec![name.clone()]);
    // The made name is stable across plans.
    tf.assert_plan_empty();
    tf.assert_plan_empty();
    let arn = r["arn"].clone();

    // In place: both settings.
    tf.write(&body(Some("Shared by web and api"), Some(10800)));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!((&r["arn"], &r["name"]), (&arn, &json!(name)), "replaced");
    assert_eq!(
        settings(w, &name),
        (Some("Shared by web and api".into()), Some("10800".into()))
    );
    tf.assert_plan_empty();

    // Changed outside Terraform: shown, and put back.
    w.iam(
        "UpdateRole",
        &[
            ("RoleName", &name),
            ("Description", "changed by hand"),
            ("MaxSessionDuration", "3600"),
        ],
    );
    let plan = tf.plan_output();
    assert!(plan.contains("changed by hand"), "{plan}");
    assert!(plan.contains("max_session_duration"), "{plan}");
    assert!(plan.contains("3600 -> 10800"), "{plan}");
    tf.apply();
    assert_eq!(
        settings(w, &name),
        (Some("Shared by web and api".into()), Some("10800".into()))
    );
    tf.assert_plan_empty();

    // Import: by the made name, equal to the applied state (name_prefix
    // read back from the name), and an empty plan.
    tf.import_verify(ADDRESS, &name, &[]);

    // The description removed: cleared in place; the session length, no
    // longer configured, stays.
    tf.write(&body(None, None));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["arn"], arn, "replaced");
    assert_eq!(r["description"], Value::Null);
    assert_eq!(settings(w, &name), (None, Some("10800".into())));
    tf.assert_plan_empty();

    // A description added by hand to a role without one shows too.
    w.iam(
        "UpdateRole",
        &[
            ("RoleName", &name),
            ("Description", "added by hand"),
            ("MaxSessionDuration", "10800"),
        ],
    );
    let plan = tf.plan_output();
    assert!(plan.contains("added by hand"), "{plan}");
    tf.apply();
    assert_eq!(settings(w, &name), (None, Some("10800".into())));
    tf.assert_plan_empty();

    // Another prefix replaces the role.
    let other = format!("{prefix}b-");
    tf.write(&prefixed(
        &other,
        &[("permission_policy_arns", set(&[READ_ONLY]))],
    ));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["delete".to_string(), "create".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    let replaced = tf.resource(ADDRESS)["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(replaced.starts_with(&other), "{replaced}");
    assert_eq!(roles_with_prefix(w, &prefix), vec![replaced.clone()]);
    tf.assert_plan_empty();
    tf.destroy();
    assert_eq!(roles_with_prefix(w, &prefix), Vec::<String>::new());
}

/// What a kill right after CreateRole leaves under a name made from a
/// prefix: the owner tag for that name and a creation lease nobody renews.
/// The next apply finds it by the prefix and adopts it (one role, no
/// orphan); a finished role of this kind under the same prefix (another
/// state's) is left alone. `lease`: the dead apply's lease tag value.
/// False when the test did not run.
fn name_prefix_left_role_is_adopted(test: &str, lease: &str) -> bool {
    let Some(w) = acc(test) else {
        return false;
    };
    let prefix = format!("{}-", random_name());
    let left = format!("{prefix}0190000000000123456789abcd");
    let finished = format!("{prefix}0190000000000fedcba9876543");
    let trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]});
    for name in [&left, &finished] {
        w.create_role(name, &trust);
        let owner = format!("pod-identity-role:{name}");
        w.iam(
            "TagRole",
            &[
                ("RoleName", name),
                ("Tags.member.1.Key", OWNER_TAG),
                ("Tags.member.1.Value", &owner),
            ],
        );
    }
    w.iam(
        "TagRole",
        &[
            ("RoleName", &left),
            ("Tags.member.1.Key", "eks-tools:creating"),
            ("Tags.member.1.Value", lease),
        ],
    );
    let before = w.role_snapshot(&finished);
    let mut tf = Tf::new(w);
    tf.set_env("EKS_POD_IDENTITY_LEASE_SECONDS", "10");
    tf.write(&prefixed(
        &prefix,
        &[
            ("permission_policy_arns", set(&[READ_ONLY])),
            ("description", string("adopted")),
        ],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["name"], left.as_str(), "{r}");
    assert_eq!(attached(w, &left), set_of(&[READ_ONLY]));
    assert_eq!(settings(w, &left).0.as_deref(), Some("adopted"));
    assert_eq!(tag(w, &left, "eks-tools:creating"), None);
    let mut all = roles_with_prefix(w, &prefix);
    all.sort();
    assert_eq!(all, vec![left.clone(), finished.clone()]);
    assert_eq!(
        w.role_snapshot(&finished),
        before,
        "a finished role was changed"
    );
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&left).is_none());
    assert_eq!(w.role_snapshot(&finished), before);
    w.delete_role_and_policies(&finished);
    true
}

/// The apply came long after the kill: the lease has expired.
#[test]
fn pod_identity_role_name_prefix_left_by_a_dead_apply_is_adopted() {
    name_prefix_left_role_is_adopted(
        "pod_identity_role_name_prefix_left_by_a_dead_apply_is_adopted",
        "2020-01-01T00:00:00Z/0123456789abcdef",
    );
}

/// The apply came right after the kill: the lease is not expired by its
/// time (here one in the future, as a skewed clock could write), so the
/// apply waits until nobody renewed it for a whole lease (10 s here), then
/// adopts the role.
#[test]
fn pod_identity_role_name_prefix_fresh_lease_is_waited_out_then_adopted() {
    let started = std::time::Instant::now();
    let ran = name_prefix_left_role_is_adopted(
        "pod_identity_role_name_prefix_fresh_lease_is_waited_out_then_adopted",
        "2999-01-01T00:00:00Z/0123456789abcdef",
    );
    if ran {
        assert!(
            started.elapsed() >= std::time::Duration::from_secs(10),
            "the live-looking lease was not waited out"
        );
    }
}

/// Three roles from one prefix in one apply (created concurrently): each
/// create sees the others' live leases and leaves those roles alone, so
/// there are three roles, one per resource, and the plan is empty.
#[test]
fn pod_identity_role_name_prefix_shared_by_concurrent_creates() {
    let Some(w) = acc("pod_identity_role_name_prefix_shared_by_concurrent_creates") else {
        return;
    };
    let prefix = format!("{}-", random_name());
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_role",
            "test",
            &[
                ("for_each", format!("toset({})", set(&["a", "b", "c"]))),
                ("name_prefix", string(&prefix)),
                ("description", "each.key".into()),
                ("permission_policy_arns", set(&[READ_ONLY])),
            ],
        ),
    ]));
    tf.apply();
    let mut names: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|k| {
            let r = tf.resource(&format!("{ADDRESS}[\"{k}\"]"));
            assert_eq!(r["description"], *k, "{r}");
            r["name"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3, "one role per resource: {names:?}");
    let mut found = roles_with_prefix(w, &prefix);
    found.sort();
    assert_eq!(found, names, "no role beside the three");
    for n in &names {
        assert_eq!(tag(w, n, "eks-tools:creating"), None);
    }
    tf.assert_plan_empty();
    tf.destroy();
    assert_eq!(roles_with_prefix(w, &prefix), Vec::<String>::new());
}

/// An import reads the well-known policies' scopes back from the inline
/// policy they render (the role's tag holds only the names): the imported
/// state equals the applied one and plans nothing. A scoped policy edited
/// by hand shows in the plan and is put back.
#[test]
fn pod_identity_role_import_reads_back_scopes() {
    let Some(w) = acc("pod_identity_role_import_reads_back_scopes") else {
        return;
    };
    let name = random_name();
    let zone = "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ";
    let mut tf = Tf::new(w);
    tf.write(&role(
        &name,
        &[
            ("well_known_policies", set(&["external-dns", "auto-scaler"])),
            (
                "well_known_policy_scopes",
                format!(
                    "{{\n    hosted_zone_arns = {}\n    autoscaler_cluster_names = {}\n  }}",
                    set(&[zone]),
                    set(&["blue", "green"])
                ),
            ),
        ],
    ));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(
        r["well_known_policy_scopes"],
        json!({"hosted_zone_arns": [zone], "autoscaler_cluster_names": ["blue", "green"]}),
        "{r}"
    );
    tf.assert_plan_empty();
    tf.import_verify(ADDRESS, &name, &[]);

    // Widened by hand: the plan shows it, apply scopes it again, and an
    // import still reads the scopes back.
    let answer = w.iam(
        "GetRolePolicy",
        &[("RoleName", &name), ("PolicyName", "well-known-policies")],
    );
    let doc = decode(&xml_first(&answer.body, "PolicyDocument").unwrap_or_default());
    assert!(doc.contains(zone), "{doc}");
    w.iam(
        "PutRolePolicy",
        &[
            ("RoleName", &name),
            ("PolicyName", "well-known-policies"),
            (
                "PolicyDocument",
                &doc.replace(zone, "arn:aws:route53:::hostedzone/*"),
            ),
        ],
    );
    let plan = tf.plan_output();
    assert!(plan.contains("inline_policies"), "{plan}");
    tf.apply();
    tf.assert_plan_empty();
    tf.import_verify(ADDRESS, &name, &[]);
    tf.destroy();
    assert!(w.get_role(&name).is_none());
}

/// The settings' limits are refused at plan, naming the attribute.
#[test]
fn pod_identity_role_settings_checked_at_plan() {
    let Some(w) = acc("pod_identity_role_settings_checked_at_plan") else {
        return;
    };
    let mut tf = Tf::new(w);
    let policy = ("permission_policy_arns", set(&[READ_ONLY]));
    let cases: Vec<(String, &str)> = vec![
        (
            role(
                "r",
                &[policy.clone(), ("max_session_duration", "1800".into())],
            ),
            "max_session_duration is 1800",
        ),
        (
            role(
                "r",
                &[policy.clone(), ("max_session_duration", "43201".into())],
            ),
            "43200",
        ),
        (
            prefixed(&"p".repeat(39), std::slice::from_ref(&policy)),
            "at most 38",
        ),
        (
            role("r", &[policy.clone(), ("name_prefix", string("p-"))]),
            "cannot both be set",
        ),
        (
            role("r", &[policy.clone(), ("description", string("snow ☃"))]),
            "U+2603",
        ),
        (
            role(
                "r",
                &[policy.clone(), ("description", string(&"d".repeat(1001)))],
            ),
            "at most 1000",
        ),
        (
            config(&[
                provider(&[]),
                resource(
                    "eks_pod_identity_role",
                    "test",
                    std::slice::from_ref(&policy),
                ),
            ]),
            "Set name to name the role",
        ),
    ];
    for (body, error) in cases {
        tf.write(&body);
        let out = tf.plan_expect_error(error);
        assert!(!out.contains("Apply complete"), "{out}");
    }
    assert!(w.get_role("r").is_none());
}

/// `import { identity = { name } }` (Terraform and OpenTofu 1.12 and later):
/// the role is imported by its identity, the state records it, and the
/// plan is empty.
#[test]
fn pod_identity_role_import_by_identity() {
    let Some(w) = acc("pod_identity_role_import_by_identity") else {
        return;
    };
    let e = engine();
    if !e.has_import_by_identity() {
        eprintln!("pod_identity_role_import_by_identity: {e} cannot import by identity; skipped");
        return;
    }
    let name = random_name();
    let mut tf = Tf::new(w);
    let body = role(&name, &[("permission_policy_arns", set(&[READ_ONLY]))]);
    tf.write(&body);
    tf.apply();
    let applied = tf.resource(ADDRESS);
    let run = tf.run(&["state", "rm", ADDRESS]);
    assert_eq!(run.code, Some(0), "{}", run.output);
    tf.write(&format!(
        "{body}\nimport {{\n  to = {ADDRESS}\n  identity = {{\n    name = {}\n  }}\n}}\n",
        string(&name)
    ));
    let out = tf.apply();
    assert!(
        contains_ignoring_wrap(&out, "1 imported"),
        "{e}: nothing imported:\n{out}"
    );
    assert_eq!(tf.resource(ADDRESS), applied);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&name).is_none());
}

/// A working directory with the example and the provider example.
fn example_tf(w: &'static World, vars: &Value) -> Tf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("examples"))
        .unwrap_or_default();
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    };
    let mut tf = Tf::new(w);
    tf.write(&read(
        &root.join("resources/eks_pod_identity_role/resource.tf"),
    ));
    let write = |name: &str, text: &str| {
        std::fs::write(tf.path().join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    write("provider.tf", &read(&root.join("provider/provider.tf")));
    write(
        "terraform.tfvars.json",
        &serde_json::to_string_pretty(vars).unwrap_or_default(),
    );
    tf
}

#[test]
fn example_pod_identity_role() {
    let Some(w) = acc("example_pod_identity_role") else {
        return;
    };
    let (one, two) = (w.new_cluster(), w.new_cluster());
    for c in [&one, &two] {
        w.create_addon(c, "eks-pod-identity-agent");
    }
    let tf = example_tf(w, &json!({"cluster_name": one, "other_cluster_name": two}));
    tf.apply();
    tf.assert_plan_empty();
    let arn = tf.resource("eks_pod_identity_role.orders")["arn"].clone();
    assert!(
        arn.as_str()
            .is_some_and(|a| a.ends_with(":role/pod-identity/orders-app")),
        "{arn}"
    );
    let orders = tf.resource("eks_pod_identity_role.orders");
    assert_eq!(orders["max_session_duration"], 7200);
    assert_eq!(
        settings(w, "orders-app"),
        (
            Some("Orders application, every cluster".into()),
            Some("7200".into())
        )
    );
    let reports = tf.resource("eks_pod_identity_role.reports");
    let reports_name = reports["name"].as_str().unwrap_or_default().to_string();
    assert!(reports_name.starts_with("reports-"), "{reports}");
    let mut used = 0;
    for c in [&one, &two] {
        for a in w.list_associations(c) {
            let id = a["associationId"].as_str().unwrap_or_default().to_string();
            let d = w.describe_association(c, &id).unwrap_or(Value::Null);
            if d["roleArn"] == reports["arn"] {
                continue;
            }
            assert_eq!(d["roleArn"], arn, "{d}");
            used += 1;
        }
    }
    assert_eq!(used, 3, "three associations use the role");
    assert_eq!(
        tag(w, "orders-app", "managed-by").as_deref(),
        Some("terraform"),
        "default_tags reach the role"
    );
    tf.destroy();
    assert!(w.list_associations(&one).is_empty() && w.list_associations(&two).is_empty());
    assert!(
        w.get_role("orders-app").is_none() && w.get_role(&reports_name).is_none(),
        "role left after destroy"
    );
}
