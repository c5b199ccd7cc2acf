//! `eks_pod_identity_association` with existing roles, end to end through
//! terraform. Each test is a short step script: config → checks → import
//! verify → changed config → destroy → nothing left in the emulator.

use acceptance_tests::hcl::{
    association, block, config, data, json, map, provider, provider_with_blocks, string,
};
use acceptance_tests::{Tf, World, acc_aws, acc_local, contains_ignoring_wrap, random_name};
use serde_json::{Value, json};

const ADDRESS: &str = "eks_pod_identity_association.test";

/// The one association `tf` manages, as the emulator describes it.
fn described(w: &World, cluster: &str, tf: &Tf) -> Value {
    let id = tf.resource(ADDRESS)["association_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    w.describe_association(cluster, &id)
        .unwrap_or_else(|| panic!("association {id} is not in the emulator"))
}

/// The association's tags in EKS. A finished apply leaves no marker of the
/// provider's own (issue 12: the creation-pending tag `eks-tools:creating`
/// is removed as soon as the create returns; the old permanent
/// `eks-tools:created-by` let two resources adopt one association).
fn visible_tags(remote: &Value) -> Value {
    let tags = remote["tags"].clone();
    for key in ["eks-tools:creating", "eks-tools:created-by"] {
        assert!(tags.get(key).is_none(), "marker tag {key} left on {remote}");
    }
    tags
}

fn assert_nothing_left(w: &World, cluster: &str) {
    let left = w.list_associations(cluster);
    assert!(left.is_empty(), "associations left after destroy: {left:?}");
}

fn provider_block() -> String {
    provider(&[])
}

#[test]
fn association_basic() {
    let Some(w) = acc_aws("association_basic") else {
        return;
    };
    let cluster = w.new_cluster();
    let (role1, role2) = (w.create_pod_role(), w.create_pod_role());
    let (namespace, service_account) = (random_name(), random_name());
    let mut tf = Tf::new(w);
    let with_role = |arn: &str| {
        config(&[
            provider_block(),
            association("test", &cluster, &namespace, &service_account, arn, &[]),
        ])
    };

    // Create.
    tf.write(&with_role(&role1.arn));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let id = r["association_id"].as_str().unwrap_or_default().to_string();
    assert_eq!(r["id"], id.as_str());
    assert_eq!(id.len(), 19, "association ID {id:?}");
    assert!(id.starts_with("a-"), "association ID {id:?}");
    assert_eq!(
        r["association_arn"],
        format!(
            "arn:aws:eks:{}:{}:podidentityassociation/{cluster}/{id}",
            w.region, w.account_id
        )
    );
    assert_eq!(r["role_arn"], role1.arn.as_str());
    assert_eq!(r["disable_session_tags"], false);
    let remote = described(w, &cluster, &tf);
    assert_eq!(remote["namespace"], namespace.as_str());
    assert_eq!(remote["serviceAccount"], service_account.as_str());
    assert_eq!(remote["roleArn"], role1.arn.as_str());
    tf.assert_plan_empty();

    // Another role: updated in place, same association.
    tf.write(&with_role(&role2.arn));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    assert_eq!(tf.resource(ADDRESS)["association_id"], id.as_str());
    assert_eq!(described(w, &cluster, &tf)["roleArn"], role2.arn.as_str());
    tf.assert_plan_empty();

    // Import, in both ID formats.
    tf.import_verify(ADDRESS, &format!("{cluster},{id}"), &[]);
    tf.import_verify(
        ADDRESS,
        &format!("{cluster}/{namespace}/{service_account}"),
        &[],
    );

    // Deleted out of band: the next plan creates it again.
    w.delete_association(&cluster, &id);
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["create".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    assert_ne!(tf.resource(ADDRESS)["association_id"], id.as_str());
    tf.assert_plan_empty();

    tf.destroy();
    assert_nothing_left(w, &cluster);
}

#[test]
fn association_tags() {
    let Some(w) = acc_aws("association_tags") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let mut tf = Tf::new(w);
    let with_tags = |tags: &[(&str, &str)]| {
        config(&[
            provider(&[("default_tags", map(&[("team", "platform"), ("env", "acc")]))]),
            association(
                "test",
                &cluster,
                "default",
                &sa,
                &role.arn,
                &[("tags", map(tags))],
            ),
        ])
    };

    tf.write(&with_tags(&[("env", "test"), ("app", "one")]));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["tags"], json!({"env": "test", "app": "one"}));
    // The resource's own tags win over default_tags.
    let all = json!({"team": "platform", "env": "test", "app": "one"});
    assert_eq!(r["tags_all"], all);
    assert_eq!(visible_tags(&described(w, &cluster, &tf)), all);
    tf.assert_plan_empty();
    let id = r["association_id"].as_str().unwrap_or_default().to_string();
    tf.import_verify(ADDRESS, &format!("{cluster},{id}"), &[]);

    // Change one tag, drop one: in place; the dropped one is gone remotely.
    tf.write(&with_tags(&[("app", "two")]));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["association_id"], id.as_str());
    let all = json!({"team": "platform", "env": "acc", "app": "two"});
    assert_eq!(r["tags_all"], all);
    assert_eq!(visible_tags(&described(w, &cluster, &tf)), all);
    tf.assert_plan_empty();

    tf.destroy();
    assert_nothing_left(w, &cluster);
}

#[test]
fn association_target_role() {
    let Some(w) = acc_aws("association_target_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    // The target trusts the first role, as cross-account chaining needs.
    let target = w.create_role(
        &random_name(),
        &json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": role.arn},
                "Action": ["sts:AssumeRole", "sts:TagSession"]
            }]
        }),
    );
    let sa = random_name();
    let mut tf = Tf::new(w);
    let with = |extra: &[(&str, String)]| {
        config(&[
            provider_block(),
            association("test", &cluster, "default", &sa, &role.arn, extra),
        ])
    };

    tf.write(&with(&[("target_role_arn", string(&target.arn))]));
    tf.apply();
    let r = tf.resource(ADDRESS);
    assert_eq!(r["target_role_arn"], target.arn.as_str());
    let external_id = r["external_id"].as_str().unwrap_or_default().to_string();
    assert!(!external_id.is_empty(), "external_id not set: {r}");
    let remote = described(w, &cluster, &tf);
    assert_eq!(remote["targetRoleArn"], target.arn.as_str());
    assert_eq!(remote["externalId"], external_id.as_str());
    tf.assert_plan_empty();
    let id = r["association_id"].as_str().unwrap_or_default().to_string();
    tf.import_verify(ADDRESS, &format!("{cluster},{id}"), &[]);

    // Removing target_role_arn really clears it in EKS.
    tf.write(&with(&[]));
    tf.apply();
    let remote = described(w, &cluster, &tf);
    let cleared = |v: &Value| v.is_null() || v == "";
    assert!(
        cleared(&remote["targetRoleArn"]),
        "targetRoleArn still set: {remote}"
    );
    // Whether EKS keeps the external ID once the target is cleared is
    // undocumented (emulator/FACTS.md F11; strict rule X1 keeps it): the
    // state says what EKS says.
    let r = tf.resource(ADDRESS);
    assert!(cleared(&r["target_role_arn"]), "{r}");
    assert_eq!(
        cleared(&r["external_id"]),
        cleared(&remote["externalId"]),
        "state {r} vs EKS {remote}"
    );
    if !cleared(&remote["externalId"]) {
        assert_eq!(r["external_id"], remote["externalId"]);
    }
    tf.assert_plan_empty();

    tf.destroy();
    assert_nothing_left(w, &cluster);
}

#[test]
fn association_session_policy() {
    let Some(w) = acc_aws("association_session_policy") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
    });
    let mut tf = Tf::new(w);

    // Without disable_session_tags: refused at plan time, nothing created.
    tf.write(&config(&[
        provider_block(),
        association(
            "test",
            &cluster,
            "default",
            &sa,
            &role.arn,
            &[("session_policy", json(&policy))],
        ),
    ]));
    let output = tf.plan_expect_error("session_policy");
    assert!(
        output.contains("disable_session_tags"),
        "the error does not say what session_policy needs:\n{output}"
    );
    assert_nothing_left(w, &cluster);

    tf.write(&config(&[
        provider_block(),
        association(
            "test",
            &cluster,
            "default",
            &sa,
            &role.arn,
            &[
                ("disable_session_tags", "true".into()),
                ("session_policy", json(&policy)),
            ],
        ),
    ]));
    tf.apply();
    let remote = described(w, &cluster, &tf);
    assert_eq!(remote["disableSessionTags"], true);
    let sent: Value =
        serde_json::from_str(remote["policy"].as_str().unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(sent, policy, "session policy in EKS: {remote}");
    tf.assert_plan_empty();
    let id = tf.resource(ADDRESS)["association_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    tf.import_verify(ADDRESS, &format!("{cluster},{id}"), &[]);

    // The same policy written another way (keys reordered, whitespace):
    // at most one apply, which makes no AWS call, then empty plans; every
    // computed attribute stays known (issue 23 item 4: it planned
    // `owner_arn = (known after apply)` on every plan, forever).
    let rewritten = "<<EOT\n{\n  \"Statement\" : [ { \"Resource\": \"*\", \"Action\": \"s3:GetObject\", \"Effect\": \"Allow\" } ],\n  \"Version\" : \"2012-10-17\"\n}\nEOT".to_string();
    tf.write(&config(&[
        provider_block(),
        association(
            "test",
            &cluster,
            "default",
            &sa,
            &role.arn,
            &[
                ("disable_session_tags", "true".into()),
                ("session_policy", rewritten),
            ],
        ),
    ]));
    let (_, first) = tf.plan();
    assert!(
        !first.contains("known after apply"),
        "a rewritten policy plans unknown values:\n{first}"
    );
    tf.apply();
    tf.assert_plan_empty();
    tf.assert_plan_empty();

    // Removed: the association is replaced (issue 23 item 9: EKS documents
    // no way to clear it in place, and the strict emulator refuses
    // `policy: ""`); it works in both emulator modes and ends without one.
    tf.write(&config(&[
        provider_block(),
        association(
            "test",
            &cluster,
            "default",
            &sa,
            &role.arn,
            &[("disable_session_tags", "true".into())],
        ),
    ]));
    let actions = tf.plan_actions();
    assert_eq!(
        actions.get(ADDRESS).map(Vec::as_slice),
        Some(&["delete".to_string(), "create".to_string()][..]),
        "{actions:?}"
    );
    tf.apply();
    let remote = described(w, &cluster, &tf);
    assert!(
        remote["policy"].as_str().is_none_or(str::is_empty),
        "the session policy is still there: {remote}"
    );
    tf.assert_plan_empty();

    tf.destroy();
    assert_nothing_left(w, &cluster);
}

#[test]
fn association_duplicate_service_account() {
    let Some(w) = acc_aws("association_duplicate_service_account") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let existing = w.create_association(&cluster, "default", &sa, &role.arn);
    let existing_id = existing["associationId"].as_str().unwrap_or_default();
    assert!(!existing_id.is_empty(), "{existing}");

    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_block(),
        association("test", &cluster, "default", &sa, &role.arn, &[]),
    ]));
    let output = tf.apply_expect_error(existing_id);
    assert!(
        contains_ignoring_wrap(&output, "terraform import"),
        "no import hint:\n{output}"
    );
    // The existing association is untouched and alone.
    assert_eq!(w.list_associations(&cluster).len(), 1);
}

#[test]
fn association_untrusted_role() {
    let Some(w) = acc_aws("association_untrusted_role") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_role(
        &random_name(),
        &json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        }),
    );
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_block(),
        association("test", &cluster, "default", &random_name(), &role.arn, &[]),
    ]));
    tf.apply_expect_error("Trust policy of the role provided is invalid");
    assert_nothing_left(w, &cluster);
    assert!(
        tf.resource_opt(ADDRESS).is_none(),
        "a failed create left state"
    );
}

#[test]
fn association_bad_namespace() {
    let Some(w) = acc_aws("association_bad_namespace") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_block(),
        association("test", &cluster, "Bad_NS", &random_name(), &role.arn, &[]),
    ]));
    // The diagnostic points at the attribute: terraform quotes its line.
    tf.plan_expect_error(r#"namespace = "Bad_NS""#);
    assert_nothing_left(w, &cluster);
}

#[test]
fn association_agent_addon_warning() {
    let Some(w) = acc_local(
        "association_agent_addon_warning",
        "makes two clusters and installs the agent addon",
    ) else {
        return;
    };
    let role = w.create_pod_role();

    // No eks-pod-identity-agent addon: a warning that names it.
    let cluster = w.new_cluster();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_block(),
        association("test", &cluster, "default", &random_name(), &role.arn, &[]),
    ]));
    let output = tf.apply();
    assert!(
        output.contains("Warning") && output.contains("eks-pod-identity-agent"),
        "no warning about the missing agent addon:\n{output}"
    );
    tf.destroy();

    // With the addon: no such warning.
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_block(),
        association("test", &cluster, "default", &random_name(), &role.arn, &[]),
    ]));
    let output = tf.apply();
    assert!(
        !output.contains("eks-pod-identity-agent"),
        "warning although the agent addon is installed:\n{output}"
    );
    tf.destroy();
    assert_nothing_left(w, &cluster);
}

#[test]
fn association_provider_endpoints() {
    let Some(w) = acc_local(
        "association_provider_endpoints",
        "names the emulator and moto in the provider block",
    ) else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    // Only the provider block says where AWS is and which region.
    for key in [
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_REGION",
    ] {
        tf.unset_env(key);
    }
    let endpoints = block(
        "endpoints",
        &[
            ("eks", string(&w.eks_url)),
            ("iam", string(&w.moto_url)),
            ("sts", string(&w.moto_url)),
        ],
    );
    tf.write(&config(&[
        provider_with_blocks(
            &[("region", string("us-east-1")), ("max_retries", "5".into())],
            &[endpoints],
        ),
        association("test", &cluster, "default", &random_name(), &role.arn, &[]),
    ]));
    tf.apply();
    assert_eq!(described(w, &cluster, &tf)["roleArn"], role.arn.as_str());
    tf.assert_plan_empty();
    tf.destroy();
    assert_nothing_left(w, &cluster);
}

/// Issue 17: `created_at` from EKS (RFC 3339, whole seconds), kept by
/// every update (tags, role) and equal after import; no `modified_at` (see
/// its absence in the schema's description of `created_at`).
#[test]
fn association_timestamps() {
    let Some(w) = acc_aws("association_timestamps") else {
        return;
    };
    let cluster = w.new_cluster();
    let (role, role2) = (w.create_pod_role(), w.create_pod_role());
    let sa = random_name();
    let mut tf = Tf::new(w);
    let cfg = |role: &str, tags: &str| {
        config(&[
            provider_block(),
            association(
                "test",
                &cluster,
                "default",
                &sa,
                role,
                &[("tags", tags.to_string())],
            ),
        ])
    };
    tf.write(&cfg(&role.arn, "{ a = \"1\" }"));
    tf.apply();
    let created = tf.resource(ADDRESS)["created_at"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        created.len() == 20 && created.ends_with('Z') && created.as_bytes().get(10) == Some(&b'T'),
        "not RFC 3339: {created:?}"
    );
    assert!(tf.resource(ADDRESS).get("modified_at").is_none());
    tf.assert_plan_empty();
    tf.write(&cfg(&role.arn, "{ a = \"2\" }"));
    tf.apply();
    tf.assert_plan_empty();
    tf.write(&cfg(&role2.arn, "{ a = \"2\" }"));
    tf.apply();
    tf.assert_plan_empty();
    assert_eq!(
        tf.resource(ADDRESS)["created_at"].as_str(),
        Some(created.as_str())
    );
    let id = tf.resource(ADDRESS)["association_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    tf.import_verify(ADDRESS, &format!("{cluster},{id}"), &[]);
    tf.destroy();
    assert_nothing_left(w, &cluster);
}

/// Issue 17: a resource's own `region` (one provider block, several
/// regions): the association is made, read, imported (`@region`) and
/// destroyed in that region; writing the provider's own region on another
/// association changes nothing in AWS (no replacement).
#[test]
fn association_in_another_region() {
    let Some(w) = acc_local(
        "association_in_another_region",
        "makes clusters in another region",
    ) else {
        return;
    };
    let west = "us-west-2";
    let far = random_name();
    w.create_cluster_in(west, &far);
    let near = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let mut tf = Tf::new(w);
    let far_block = association(
        "test",
        &far,
        "default",
        &sa,
        &role.arn,
        &[("region", string(west))],
    );
    let cfg = |near_region: Option<&str>| {
        let mut near_attrs = vec![];
        if let Some(r) = near_region {
            near_attrs.push(("region", string(r)));
        }
        config(&[
            provider_block(),
            far_block.clone(),
            association("near", &near, "default", &sa, &role.arn, &near_attrs),
        ])
    };
    tf.write(&config(&[provider_block(), far_block.clone()]));
    tf.apply();
    let r = tf.resource(ADDRESS);
    let id = r["association_id"].as_str().unwrap_or_default().to_string();
    let listed = w.eks_in(
        west,
        "GET",
        &format!("/clusters/{far}/pod-identity-associations"),
        None,
    );
    assert!(listed.ok(), "{}", listed.body);
    assert_eq!(
        listed.json()["associations"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        r["association_arn"]
            .as_str()
            .is_some_and(|a| a.contains(":us-west-2:")),
        "{r}"
    );
    tf.assert_plan_empty();
    tf.import_verify(ADDRESS, &format!("{far},{id}@{west}"), &[]);
    tf.write(&cfg(None));
    tf.apply();

    // The provider's own region written out plans nothing: the state
    // records the region (issue 23 item 1; before, an update that changed
    // nothing).
    let near_id = tf.resource("eks_pod_identity_association.near")["association_id"].clone();
    assert_eq!(
        tf.resource("eks_pod_identity_association.near")["region"],
        "us-east-1"
    );
    tf.write(&cfg(Some("us-east-1")));
    tf.assert_plan_empty();
    tf.apply();
    assert_eq!(
        tf.resource("eks_pod_identity_association.near")["association_id"],
        near_id
    );

    tf.destroy();
    let listed = w.eks_in(
        west,
        "GET",
        &format!("/clusters/{far}/pod-identity-associations"),
        None,
    );
    assert_eq!(
        listed.json()["associations"].as_array().map(Vec::len),
        Some(0),
        "{}",
        listed.body
    );
    assert_nothing_left(w, &near);
}

/// The data sources (and, where the engine has them, the ephemeral
/// `eks_cluster_auth`) read another region with `region`, as the resources
/// do; without it they look in the provider's region.
#[test]
fn data_sources_in_another_region() {
    let Some(w) = acc_local(
        "data_sources_in_another_region",
        "makes clusters in another region",
    ) else {
        return;
    };
    let west = "us-west-2";
    let far = random_name();
    w.create_cluster_in(west, &far);
    let role = w.create_pod_role();
    let sa = random_name();
    w.create_association_in(west, &far, "default", &sa, &role.arn);
    let e = acceptance_tests::engine();
    let ephemeral = if e.is_opentofu() {
        e.at_least(1, 11)
    } else {
        e.at_least(1, 10)
    };
    let mut blocks = vec![
        provider_block(),
        data(
            "eks_pod_identity_associations",
            "far",
            &[("cluster_name", string(&far)), ("region", string(west))],
        ),
        data(
            "eks_addon_pod_identity_configuration",
            "far",
            &[
                ("addon_name", string("aws-ebs-csi-driver")),
                ("cluster_name", string(&far)),
                ("region", string(west)),
            ],
        ),
        "output \"far_accounts\" {\n  value = [for a in data.eks_pod_identity_associations.far.associations : a.service_account]\n}\n".to_string(),
    ];
    if ephemeral {
        blocks.push(format!(
            "ephemeral \"eks_cluster_auth\" \"far\" {{\n  name   = {}\n  region = {}\n}}\n",
            string(&far),
            string(west)
        ));
    }
    let mut tf = Tf::new(w);
    tf.write(&config(&blocks));
    tf.apply();
    assert_eq!(tf.outputs()["far_accounts"], json!([sa]));
    let conf = tf.resource("data.eks_addon_pod_identity_configuration.far");
    assert!(
        conf["resolved_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "{conf}"
    );
    // Without `region`: the provider's region has no such cluster.
    tf.write(&config(&[
        provider_block(),
        data(
            "eks_pod_identity_associations",
            "near",
            &[("cluster_name", string(&far))],
        ),
    ]));
    tf.plan_expect_error("Check cluster_name and region");
    if ephemeral {
        tf.write(&config(&[
            provider_block(),
            format!(
                "ephemeral \"eks_cluster_auth\" \"near\" {{\n  name = {}\n}}\n",
                string(&far)
            ),
        ]));
        tf.plan_expect_error("EKS cluster not found");
    }
    tf.write(&config(&[provider_block()]));
    tf.destroy();
}
