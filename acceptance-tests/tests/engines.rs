//! Where the engines differ (issue 15): what `eks-tools/eks` means on each
//! (OpenTofu's default registry host is `registry.opentofu.org`), `import`
//! blocks with `plan -generate-config-out`, import by resource identity, and
//! provider-defined functions (through tfplugin's fixture provider: ours
//! defines none).
//! Each test runs on every engine the suite runs on (Terraform 1.0.3, the
//! newest Terraform, OpenTofu) and says so when the engine lacks the feature.

use acceptance_tests::hcl::{association, config, provider, resource, string};
use acceptance_tests::{
    REGION, Tf, acc, contains_ignoring_wrap, engine, fixture_dir, provider_dir, random_name,
};
use serde_json::{Value, json};

const ADDRESS: &str = "eks_pod_identity_association.test";

/// `import { to = ADDRESS, <body> }`.
fn import_block(body: &str) -> String {
    format!("import {{\n  to = {ADDRESS}\n  {body}\n}}\n")
}

/// The instance of `address` in the state file (`terraform.tfstate`), where
/// the resource identity lives (`show -json` does not show it everywhere).
fn state_instance(tf: &Tf, address: &str) -> Value {
    let text = std::fs::read_to_string(tf.path().join("terraform.tfstate"))
        .unwrap_or_else(|e| panic!("reading terraform.tfstate: {e}"));
    let state: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("state is not JSON ({e}):\n{text}"));
    let (kind, name) = address.split_once('.').unwrap_or((address, ""));
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["type"] == kind && r["name"] == name && r["mode"] == "managed")
        .map(|r| r["instances"][0].clone())
        .unwrap_or_else(|| panic!("{address} is not in the state file:\n{text}"))
}

/// `eks-tools/eks` is keyed by the engine's own registry host: a
/// dev_overrides entry under the other engine's host does not apply, the
/// one under its own does (so docs tell OpenTofu users to key
/// `registry.opentofu.org/eks-tools/eks`, or both).
#[test]
fn engines_short_source_means_the_engines_registry_host() {
    let Some(w) = acc("engines_short_source_means_the_engines_registry_host") else {
        return;
    };
    let e = engine();
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        association("test", &cluster, "default", &random_name(), &role.arn, &[]),
    ]));
    let dir = provider_dir();
    let other = match e.registry_host() {
        "registry.opentofu.org" => "registry.terraform.io",
        _ => "registry.opentofu.org",
    };
    let only = |host: &str| {
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{host}/eks-tools/eks\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            dir.display()
        )
    };
    let rc = tf.path().join(".terraformrc");
    let write_rc = |text: String| {
        std::fs::write(&rc, text).unwrap_or_else(|e| panic!("writing the CLI config: {e}"));
    };

    // Keyed by the other engine's host only: this engine looks for an
    // installed eks-tools/eks and finds none (no `init` was run).
    write_rc(only(other));
    let run = tf.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(
        run.code,
        Some(0),
        "{e} used a dev_overrides entry keyed {other}:\n{}",
        run.output
    );
    assert!(
        contains_ignoring_wrap(&run.output, "eks-tools/eks"),
        "{e}: the error does not name the provider:\n{}",
        run.output
    );

    // Keyed by its own host: the override applies.
    write_rc(only(e.registry_host()));
    tf.apply();
    assert_eq!(tf.resource(ADDRESS)["role_arn"], json!(role.arn));
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

/// An `import` block and `plan -generate-config-out`: the engine asks the
/// provider to import, writes a resource block from the imported state, and
/// that block applies (importing) and then plans empty.
#[test]
fn engines_import_block_generate_config_out() {
    let Some(w) = acc("engines_import_block_generate_config_out") else {
        return;
    };
    let e = engine();
    if !e.has_import_blocks() {
        eprintln!("engines_import_block_generate_config_out: {e} has no import blocks; skipped");
        return;
    }
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let made = w.create_association(&cluster, "default", &sa, &role.arn);
    let id = made["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "no associationId in {made}");

    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        import_block(&format!("id = {}", string(&format!("{cluster},{id}")))),
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
        "{e}: plan -generate-config-out failed:\n{}\n--- generated.tf ---\n{generated}",
        run.output
    );
    assert!(
        generated.contains(r#"resource "eks_pod_identity_association" "test""#)
            && generated.contains(&cluster)
            && generated.contains(&role.arn),
        "{e}: generated.tf lacks the resource:\n{generated}"
    );
    // main.tf keeps the import block; generated.tf has the resource.
    tf.apply();
    assert_eq!(tf.resource(ADDRESS)["association_id"], json!(id));
    let (empty, plan) = tf.plan();
    assert!(
        empty,
        "{e}: the generated config does not plan empty:\n{plan}\n--- generated.tf ---\n{generated}"
    );
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

/// `import { identity = { cluster_name, association_id } }` (protocol 6.9
/// resource identity, OpenTofu ≥ 1.12 and Terraform ≥ 1.12): the provider
/// imports by the identity object instead of an ID string, the state
/// records the identity, and the plan is empty.
#[test]
fn engines_import_by_identity() {
    let Some(w) = acc("engines_import_by_identity") else {
        return;
    };
    let e = engine();
    if !e.has_import_by_identity() {
        eprintln!("engines_import_by_identity: {e} cannot import by identity; skipped");
        return;
    }
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let sa = random_name();
    let made = w.create_association(&cluster, "default", &sa, &role.arn);
    let id = made["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "no associationId in {made}");

    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        association("test", &cluster, "default", &sa, &role.arn, &[]),
        import_block(&format!(
            "identity = {{\n    cluster_name   = {}\n    association_id = {}\n  }}",
            string(&cluster),
            string(&id)
        )),
    ]));
    let out = tf.apply();
    assert!(
        contains_ignoring_wrap(&out, "1 imported"),
        "{e}: nothing imported:\n{out}"
    );
    assert_eq!(tf.resource(ADDRESS)["association_id"], json!(id));
    let instance = state_instance(&tf, ADDRESS);
    assert_eq!(
        instance["identity"],
        json!({"cluster_name": cluster, "association_id": id, "region": REGION}),
        "{e}: the state's identity: {instance}"
    );
    assert_eq!(
        instance["identity_schema_version"],
        json!(1),
        "{e}: {instance}"
    );
    tf.assert_plan_empty();

    // An identity stored by version 0 (before `region`): the engine asks
    // the provider to upgrade it, the plan stays empty, and the refreshed
    // state holds version 1 with the region recorded (issue 23 item 1).
    let path = tf.path().join("terraform.tfstate");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut state: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    for r in state["resources"].as_array_mut().into_iter().flatten() {
        for i in r["instances"].as_array_mut().into_iter().flatten() {
            i["identity_schema_version"] = json!(0);
            if let Some(o) = i["identity"].as_object_mut() {
                o.remove("region");
            }
        }
    }
    std::fs::write(&path, state.to_string()).unwrap_or_else(|e| panic!("writing the state: {e}"));
    tf.assert_plan_empty();
    tf.run(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    let instance = state_instance(&tf, ADDRESS);
    assert_eq!(
        instance["identity_schema_version"],
        json!(1),
        "{e}: {instance}"
    );
    assert_eq!(
        instance["identity"],
        json!({"cluster_name": cluster, "association_id": id, "region": REGION}),
        "{e}: the upgraded identity: {instance}"
    );
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

/// Import by identity of an association in another region (the
/// identity's `region`, as `@region` in an ID) and of an addon (its
/// identity: cluster_name, addon_name); both plan empty afterwards and
/// their state records the identities.
#[test]
fn engines_import_by_identity_region_and_addon() {
    let Some(w) = acc("engines_import_by_identity_region_and_addon") else {
        return;
    };
    let e = engine();
    if !e.has_import_by_identity() {
        eprintln!(
            "engines_import_by_identity_region_and_addon: {e} cannot import by identity; skipped"
        );
        return;
    }
    let west = "us-west-2";
    let far = random_name();
    w.create_cluster_in(west, &far);
    let near = w.new_cluster();
    w.create_addon(&near, "vpc-cni");
    let role = w.create_pod_role();
    let sa = random_name();
    let made = w.create_association_in(west, &far, "default", &sa, &role.arn);
    let id = made["associationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        association(
            "test",
            &far,
            "default",
            &sa,
            &role.arn,
            &[("region", string(west))],
        ),
        import_block(&format!(
            "identity = {{\n    cluster_name   = {}\n    association_id = {}\n    region         = {}\n  }}",
            string(&far),
            string(&id),
            string(west)
        )),
        resource(
            "eks_addon_pod_identity",
            "cni",
            &[
                ("cluster_name", string(&near)),
                ("addon_name", string("vpc-cni")),
            ],
        ),
        format!(
            "import {{\n  to = eks_addon_pod_identity.cni\n  identity = {{\n    cluster_name = {}\n    addon_name   = \"vpc-cni\"\n  }}\n}}\n",
            string(&near)
        ),
    ]));
    let out = tf.apply();
    assert!(
        contains_ignoring_wrap(&out, "2 imported"),
        "{e}: not both imported:\n{out}"
    );
    assert_eq!(tf.resource(ADDRESS)["association_id"], json!(id));
    assert_eq!(
        state_instance(&tf, ADDRESS)["identity"],
        json!({"cluster_name": far, "association_id": id, "region": west})
    );
    assert_eq!(
        state_instance(&tf, "eks_addon_pod_identity.cni")["identity"],
        json!({"cluster_name": near, "addon_name": "vpc-cni", "region": REGION})
    );
    tf.assert_plan_empty();
    tf.destroy();
    let left = w.eks_in(
        west,
        "GET",
        &format!("/clusters/{far}/pod-identity-associations"),
        None,
    );
    assert_eq!(left.json()["associations"], json!([]), "{e}: {}", left.body);
}

/// A provider-defined function (`provider::fixture::upper`) served by our
/// protocol layer, tfplugin, through its fixture provider, next to a
/// resource and a data source of the same provider: the engine's
/// GetFunctions/CallFunction client (OpenTofu's is its own code) gets the
/// function's value at plan time.
#[test]
fn engines_provider_function_through_tfplugin() {
    let Some(w) = acc("engines_provider_function_through_tfplugin") else {
        return;
    };
    let e = engine();
    if !e.has_provider_functions() {
        eprintln!(
            "engines_provider_function_through_tfplugin: {e} has no provider functions; skipped"
        );
        return;
    }
    let dir = fixture_dir();
    let mut tf = Tf::new(w);
    let overrides: String = ["registry.terraform.io", "registry.opentofu.org"]
        .iter()
        .map(|host| format!("    \"{host}/eks-tools/fixture\" = \"{}\"\n", dir.display()))
        .collect();
    std::fs::write(
        tf.path().join(".terraformrc"),
        format!(
            "provider_installation {{\n  dev_overrides {{\n{overrides}  }}\n  direct {{}}\n}}\n"
        ),
    )
    .unwrap_or_else(|e| panic!("writing the CLI config: {e}"));
    let name = random_name();
    tf.write(&format!(
        r#"terraform {{
  required_providers {{
    fixture = {{ source = "eks-tools/fixture" }}
  }}
}}
provider "fixture" {{ prefix = "t" }}
resource "fixture_thing" "a" {{
  name        = "{name}"
  description = "d"
  tags        = {{ env = "test" }}
  labels      = ["x"]
  secret      = "s"
  rules       = [{{ port = 80, protocol = "tcp" }}]
}}
data "fixture_echo" "e" {{ input = fixture_thing.a.id }}
output "up" {{ value = provider::fixture::upper("{name}") }}
output "echo" {{ value = data.fixture_echo.e.output }}
"#
    ));
    let plan = tf.plan_output();
    assert!(
        contains_ignoring_wrap(&plan, &format!("up = \"{}\"", name.to_uppercase())),
        "{e}: the function's value is not in the plan:\n{plan}"
    );
    tf.apply();
    assert_eq!(
        tf.outputs(),
        json!({"up": name.to_uppercase(), "echo": format!("echo:t-{name}")})
    );
    tf.destroy();
}

/// A refined unknown in the config: `role_arn` is a template with a known
/// prefix around the made role's ARN, unknown until apply. Terraform ≥ 1.6
/// and OpenTofu send such values with their refinements (msgpack extension
/// 12, "known prefix"), Terraform 1.0.3 as a plain unknown; the provider
/// plans through either and applies the final value.
#[test]
fn engines_refined_unknown_in_config() {
    let Some(w) = acc("engines_refined_unknown_in_config") else {
        return;
    };
    let e = engine();
    let cluster = w.new_cluster();
    // The account's role ARN prefix, `arn:aws:iam::<account>:role`.
    let given = w.create_pod_role();
    let prefix = given
        .arn
        .rsplit_once('/')
        .map_or(given.arn.as_str(), |(p, _)| p)
        .to_string();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "made",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("default")),
                ("service_account", string(&random_name())),
                (
                    "permission_policy_arns",
                    r#"["arn:aws:iam::aws:policy/ReadOnlyAccess"]"#.into(),
                ),
            ],
        ),
        resource(
            "eks_pod_identity_association",
            "test",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("default")),
                ("service_account", string(&random_name())),
                (
                    "role_arn",
                    format!(
                        r#""{prefix}/${{element(split("/", eks_pod_identity_association.made.role_arn), 1)}}""#
                    ),
                ),
            ],
        ),
    ]));
    // The plan (with the refined unknown sent to the provider) creates both.
    let actions = tf.plan_actions();
    assert_eq!(
        actions.values().collect::<Vec<_>>(),
        vec![&vec!["create".to_string()]; 2],
        "{e}: {actions:?}"
    );
    tf.apply();
    let made = tf.resource("eks_pod_identity_association.made");
    let test = tf.resource(ADDRESS);
    assert!(
        made["role_arn"]
            .as_str()
            .is_some_and(|a| a.starts_with(&prefix)),
        "{e}: made role_arn {}",
        made["role_arn"]
    );
    assert_eq!(test["role_arn"], made["role_arn"], "{e}");
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}
