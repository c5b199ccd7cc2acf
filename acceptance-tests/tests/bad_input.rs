//! Bad input, all of it (issue 7 §4): every validation of
//! `eks_pod_identity_association`, `eks_addon_pod_identity` and the data
//! sources fails before anything is made, and points at the attribute.
//!
//! Table-driven and cheap: all validate-time cases go into one config (one
//! `terraform validate`, which reports every resource's diagnostics, then
//! one `terraform apply` of the same config to prove nothing is made); the
//! cases that need the cloud (plan time) into a second config; bad import
//! IDs one `terraform import` each. Each case has its own resource label,
//! and its diagnostic must name that resource and the line of the bad
//! attribute — that is how Terraform shows an attribute path.

use acceptance_tests::hcl::{TERRAFORM_BLOCK, provider, string};
use acceptance_tests::{Tf, World, acc, contains_ignoring_wrap, random_name};
use serde_json::{Value, json};

/// One bad configuration.
struct Case {
    /// `resource` or `data`.
    kind: &'static str,
    /// Resource or data source type.
    ty: &'static str,
    /// Block label, unique per case.
    label: &'static str,
    /// `name = expression` lines of the block.
    attrs: Vec<(&'static str, String)>,
    /// The attribute the diagnostic must point at (its line). Empty: an
    /// attribute not in the config (Terraform then shows the block's first
    /// line). For problems inside a `pod_identity_associations` entry
    /// Terraform also shows the block's first line: it does not resolve
    /// paths into nested attribute values, so either line is accepted.
    at: &'static str,
    /// Text the diagnostic must contain (summary or detail).
    expect: &'static str,
}

const ASSOC: &str = "eks_pod_identity_association";
const ADDON: &str = "eks_addon_pod_identity";
const ROLE: &str = "arn:aws:iam::123456789012:role/some-role";

fn assoc(
    label: &'static str,
    cluster: &str,
    extra: &[(&'static str, String)],
    at: &'static str,
    expect: &'static str,
) -> Case {
    let mut attrs = vec![
        ("cluster_name", string(cluster)),
        ("namespace", string("default")),
        ("service_account", string(&label_sa(label))),
    ];
    // Attributes given in `extra` replace the defaults above.
    for (k, v) in extra {
        attrs.retain(|(a, _)| a != k);
        attrs.push((*k, v.clone()));
    }
    Case {
        kind: "resource",
        ty: ASSOC,
        label,
        attrs,
        at,
        expect,
    }
}

fn label_sa(label: &str) -> String {
    label.replace('_', "-")
}

fn addon(
    label: &'static str,
    cluster: &str,
    extra: &[(&'static str, String)],
    at: &'static str,
    expect: &'static str,
) -> Case {
    let mut attrs = vec![
        ("cluster_name", string(cluster)),
        ("addon_name", string("aws-ebs-csi-driver")),
    ];
    for (k, v) in extra {
        attrs.retain(|(a, _)| a != k);
        attrs.push((*k, v.clone()));
    }
    Case {
        kind: "resource",
        ty: ADDON,
        label,
        attrs,
        at,
        expect,
    }
}

fn data(
    ty: &'static str,
    label: &'static str,
    attrs: &[(&'static str, String)],
    at: &'static str,
    expect: &'static str,
) -> Case {
    Case {
        kind: "data",
        ty,
        label,
        attrs: attrs.to_vec(),
        at,
        expect,
    }
}

fn wk(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| string(n)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A policy document of about `chars` characters (without whitespace).
fn big_policy(chars: usize) -> String {
    let statements: Vec<Value> = (0..chars / 90 + 1)
        .map(|i| json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket-{i:06}/*")}))
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Cases caught by ValidateResourceConfig / ValidateDataResourceConfig.
fn validate_cases(cluster: &str) -> Vec<Case> {
    let s = string;
    let made = ("well_known_policies", wk(&["cert-manager"]));
    vec![
        // eks_pod_identity_association: each attribute's bad values.
        assoc("cluster_bad_char", "bad cluster!", &[("role_arn", s(ROLE))], "cluster_name", "is not a valid EKS cluster name"),
        assoc("cluster_too_long", &"c".repeat(101), &[("role_arn", s(ROLE))], "cluster_name", "is not a valid EKS cluster name"),
        assoc("ns_upper", cluster, &[("namespace", s("Bad_NS")), ("role_arn", s(ROLE))], "namespace", "Invalid value for namespace"),
        assoc("ns_too_long", cluster, &[("namespace", s(&"n".repeat(64))), ("role_arn", s(ROLE))], "namespace", "Invalid value for namespace"),
        assoc("sa_space", cluster, &[("service_account", s("bad sa")), ("role_arn", s(ROLE))], "service_account", "Invalid value for service_account"),
        assoc("sa_dash", cluster, &[("service_account", s("-sa")), ("role_arn", s(ROLE))], "service_account", "Invalid value for service_account"),
        assoc("role_arn_garbage", cluster, &[("role_arn", s("not-an-arn"))], "role_arn", "Invalid value for role_arn"),
        assoc("role_arn_user", cluster, &[("role_arn", s("arn:aws:iam::123456789012:user/bob"))], "role_arn", "Invalid value for role_arn"),
        assoc("target_role_bad", cluster, &[("role_arn", s(ROLE)), ("target_role_arn", s("arn:aws:s3:::bucket"))], "target_role_arn", "Invalid value for target_role_arn"),
        assoc("role_name_bad", cluster, &[made.clone(), ("role_name", s("bad name!"))], "role_name", "Invalid value for role_name"),
        assoc("role_name_long", cluster, &[made.clone(), ("role_name", s(&"r".repeat(65)))], "role_name", "Invalid value for role_name"),
        assoc("role_path_bad", cluster, &[made.clone(), ("role_path", s("no-slashes"))], "role_path", "Invalid value for role_path"),
        assoc("policy_arn_bad", cluster, &[("permission_policy_arns", "[\"arn:aws:iam::aws:role/x\"]".into())], "permission_policy_arns", "Invalid value for permission_policy_arns"),
        assoc("boundary_bad", cluster, &[made.clone(), ("permissions_boundary_arn", s("boundary"))], "permissions_boundary_arn", "Invalid value for permissions_boundary_arn"),
        assoc("perm_policy_malformed", cluster, &[("permission_policy", s("{\"Version\": "))], "permission_policy", "Invalid value for permission_policy"),
        assoc("perm_policy_not_object", cluster, &[("permission_policy", s("[1, 2]"))], "permission_policy", "Invalid value for permission_policy"),
        assoc("perm_policy_oversized", cluster, &[("permission_policy", s(&big_policy(11_000)))], "permission_policy", "the limit is"),
        assoc("trust_cond_malformed", cluster, &[made.clone(), ("trust_conditions", s("{oops"))], "trust_conditions", "trust_conditions is not valid JSON"),
        assoc("trust_cond_shape", cluster, &[made.clone(), ("trust_conditions", s("{\"StringEquals\": \"x\"}"))], "trust_conditions", "Invalid value for trust_conditions"),
        assoc("well_known_unknown", cluster, &[("well_known_policies", wk(&["no-such-policy"]))], "well_known_policies", "Invalid value for well_known_policies"),
        assoc("session_policy_malformed", cluster, &[("role_arn", s(ROLE)), ("disable_session_tags", "true".into()), ("session_policy", s("{"))], "session_policy", "Invalid value for session_policy"),
        assoc("session_policy_oversized", cluster, &[("role_arn", s(ROLE)), ("disable_session_tags", "true".into()), ("session_policy", s(&big_policy(2_100)))], "session_policy", "the limit is 2048"),
        // Conflicting attributes.
        assoc("session_policy_with_tags", cluster, &[("role_arn", s(ROLE)), ("session_policy", s("{\"Version\":\"2012-10-17\",\"Statement\":[]}"))], "session_policy", "session_policy requires disable_session_tags = true"),
        assoc("role_arn_and_made", cluster, &[("role_arn", s(ROLE)), made.clone()], "well_known_policies", "well_known_policies cannot be combined with role_arn"),
        assoc("role_arn_and_name", cluster, &[("role_arn", s(ROLE)), ("role_name", s("x"))], "role_name", "role_name cannot be combined with role_arn"),
        assoc("no_role_no_permissions", cluster, &[("role_name", s("lonely"))], "", "No role and no permissions"),
        assoc("too_many_policies", cluster, &[("permission_policy_arns", format!("[{}]", (0..21).map(|i| s(&format!("arn:aws:iam::123456789012:policy/p{i}"))).collect::<Vec<_>>().join(", ")))], "permission_policy_arns", "Too many managed policies"),
        // eks_addon_pod_identity.
        addon("addon_cluster_bad", "-x", &[], "cluster_name", "is not a valid EKS cluster name"),
        addon("addon_config_malformed", cluster, &[("configuration_values", s("{not json"))], "configuration_values", "configuration_values is not valid JSON"),
        addon("addon_config_not_object", cluster, &[("configuration_values", s("\"text\""))], "configuration_values", "must be a JSON object"),
        addon("addon_conflicts_create", cluster, &[("resolve_conflicts_on_create", s("PRESERVE"))], "resolve_conflicts_on_create", "is not valid on create"),
        addon("addon_conflicts_update", cluster, &[("resolve_conflicts_on_update", s("SOMETIMES"))], "resolve_conflicts_on_update", "Invalid value for resolve_conflicts_on_update"),
        addon("addon_irsa_bad", cluster, &[("service_account_role_arn", s("role"))], "service_account_role_arn", "Invalid value for service_account_role_arn"),
        addon("addon_irsa_and_pi", cluster, &[("service_account_role_arn", s(ROLE)), ("pod_identity_associations", format!("[{{ service_account = \"ebs-csi-controller-sa\", role_arn = {} }}]", s(ROLE)))], "service_account_role_arn", "IRSA and pod identity on one addon"),
        addon("addon_recommended_and_list", cluster, &[("use_recommended_pod_identity", "true".into()), ("pod_identity_associations", format!("[{{ service_account = \"ebs-csi-controller-sa\", role_arn = {} }}]", s(ROLE)))], "use_recommended_pod_identity", "use_recommended_pod_identity with an explicit list"),
        addon("addon_agent_with_list", cluster, &[("addon_name", s("eks-pod-identity-agent")), ("pod_identity_associations", format!("[{{ service_account = \"x\", role_arn = {} }}]", s(ROLE)))], "pod_identity_associations", "The pod identity agent takes no associations"),
        addon("addon_entry_twice", cluster, &[("pod_identity_associations", format!("[{{ service_account = \"ebs-csi-controller-sa\", role_arn = {r} }}, {{ service_account = \"ebs-csi-controller-sa\", role_arn = {r} }}]", r = s(ROLE)))], "pod_identity_associations", "is listed twice"),
        addon("addon_entry_bad_role", cluster, &[("pod_identity_associations", "[{ service_account = \"ebs-csi-controller-sa\", role_arn = \"nope\" }]".into())], "pod_identity_associations", "Invalid value for role_arn"),
        addon("addon_entry_bad_sa", cluster, &[("pod_identity_associations", format!("[{{ service_account = \"Bad SA\", role_arn = {} }}]", s(ROLE)))], "pod_identity_associations", "Invalid value for service_account"),
        addon("addon_entry_unknown_wk", cluster, &[("pod_identity_associations", "[{ service_account = \"ebs-csi-controller-sa\", well_known_policies = [\"no-such-policy\"] }]".into())], "pod_identity_associations", "Invalid value for well_known_policies"),
        addon("addon_entry_role_and_made", cluster, &[("pod_identity_associations", format!("[{{ service_account = \"ebs-csi-controller-sa\", role_arn = {}, well_known_policies = [\"ebs-csi\"] }}]", s(ROLE)))], "pod_identity_associations", "cannot be combined with role_arn"),
        addon("addon_entry_no_permissions", cluster, &[("pod_identity_associations", "[{ service_account = \"ebs-csi-controller-sa\" }]".into())], "pod_identity_associations", "No role and no permissions"),
        addon("addon_entry_policy_malformed", cluster, &[("pod_identity_associations", "[{ service_account = \"ebs-csi-controller-sa\", permission_policy = \"{\" }]".into())], "pod_identity_associations", "Invalid value for permission_policy"),
        // Data sources.
        data("eks_pod_identity_associations", "ds_cluster_bad", &[("cluster_name", s("bad cluster"))], "cluster_name", "is not a valid EKS cluster name"),
        data("eks_pod_identity_associations", "ds_ns_bad", &[("cluster_name", s(cluster)), ("namespace", s("NS"))], "namespace", "Invalid value for namespace"),
        data("eks_pod_identity_associations", "ds_sa_bad", &[("cluster_name", s(cluster)), ("service_account", s("sa!"))], "service_account", "Invalid value for service_account"),
        data("eks_well_known_policy", "ds_wk_unknown", &[("name", s("no-such-policy"))], "name", "no-such-policy"),
        data("eks_well_known_policy", "ds_wk_partition", &[("name", s("cert-manager")), ("partition", s("aws-mars"))], "partition", "Invalid value for partition"),
        data("eks_addon_pod_identity_configuration", "ds_cfg_cluster_bad", &[("addon_name", s("vpc-cni")), ("cluster_name", s("bad/cluster"))], "cluster_name", "is not a valid EKS cluster name"),
    ]
}

/// Cases that need the cloud or the provider's configuration (plan time).
fn plan_cases(cluster: &str, cluster_129: &str) -> Vec<Case> {
    let s = string;
    vec![
        // Tags are checked with the provider's default_tags merged in.
        assoc(
            "tags_reserved",
            cluster,
            &[
                ("role_arn", s(ROLE)),
                ("tags", "{ \"aws:team\" = \"x\" }".into()),
            ],
            "tags",
            "Invalid tags",
        ),
        assoc(
            "tags_too_many",
            cluster,
            &[
                ("role_arn", s(ROLE)),
                (
                    "tags",
                    format!(
                        "{{ {} }}",
                        (0..51)
                            .map(|i| format!("k{i} = \"v\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            ],
            "tags",
            "Invalid tags",
        ),
        // The addon's own configuration decides which service accounts exist.
        addon(
            "addon_sa_undeclared",
            cluster,
            &[(
                "pod_identity_associations",
                format!(
                    "[{{ service_account = \"not-an-addon-sa\", role_arn = {} }}]",
                    s(ROLE)
                ),
            )],
            "pod_identity_associations",
            "has no service account not-an-addon-sa",
        ),
        addon(
            "addon_version_unknown",
            cluster,
            &[
                ("addon_name", s("vpc-cni")),
                ("addon_version", s("v1.14.1-eksbuild.1")),
            ],
            "addon_version",
            "is not available",
        ),
        addon(
            "addon_version_without_pi",
            cluster_129,
            &[
                ("addon_name", s("vpc-cni")),
                ("addon_version", s("v1.14.1-eksbuild.1")),
                (
                    "pod_identity_associations",
                    format!(
                        "[{{ service_account = \"aws-node\", role_arn = {} }}]",
                        s(ROLE)
                    ),
                ),
            ],
            "addon_version",
            "does not support pod identity",
        ),
    ]
}

/// The config of `cases` and, per case, the lines its diagnostic may point
/// at (see [`Case::at`]).
fn render(cases: &[Case]) -> (String, Vec<Vec<usize>>) {
    let mut text = TERRAFORM_BLOCK.to_string();
    text.push('\n');
    text.push_str(&provider(&[]));
    let mut lines = Vec::new();
    for c in cases {
        text.push('\n');
        let header = text.lines().count() + 1;
        text.push_str(&format!(
            "{} {} {} {{\n",
            c.kind,
            string(c.ty),
            string(c.label)
        ));
        let mut line = None;
        for (name, value) in &c.attrs {
            if *name == c.at {
                line = Some(text.lines().count() + 1);
            }
            text.push_str(&format!("  {name} = {value}\n"));
        }
        text.push_str("}\n");
        lines.push(match (c.at, line) {
            ("", _) => vec![header],
            ("pod_identity_associations", Some(l)) => vec![l, header],
            (_, Some(l)) => vec![l],
            (at, None) => panic!("case {}: no attribute {at}", c.label),
        });
    }
    (text, lines)
}

/// Terraform's diagnostics in `output`, one string each: from an `Error:`
/// or `Warning:` line to the next (box drawing, if any, removed).
fn diagnostics(output: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in output.lines() {
        let line = line.trim_start_matches(['│', '╷', '╵']).trim_start();
        if line.starts_with("Error: ") || line.starts_with("Warning: ") {
            out.push(String::new());
        }
        if let Some(d) = out.last_mut() {
            d.push_str(line);
            d.push('\n');
        }
    }
    out
}

/// Each case has an error diagnostic that names its block, the line of the
/// bad attribute, and the expected text. Returns the failures.
fn check_cases(cases: &[Case], lines: &[Vec<usize>], output: &str) -> Vec<String> {
    let diags = diagnostics(output);
    let mut failures = Vec::new();
    for (c, line) in cases.iter().zip(lines) {
        let address = match c.kind {
            "data" => format!("data.{}.{}", c.ty, c.label),
            _ => format!("{}.{}", c.ty, c.label),
        };
        let mine: Vec<&String> = diags
            .iter()
            .filter(|d| d.contains("Error:") && d.contains(&format!("with {address},")))
            .collect();
        let ok = mine.iter().any(|d| {
            contains_ignoring_wrap(d, c.expect)
                && line
                    .iter()
                    .any(|l| d.contains(&format!("on main.tf line {l},")))
        });
        if !ok {
            failures.push(format!(
                "{address}: no error with {:?} at line {line:?} ({}); its diagnostics:\n{}",
                c.expect,
                c.at,
                mine.iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    failures
}

/// What exists that a failed run might have made: EKS create calls so far
/// and IAM role names.
fn made_so_far(w: &World) -> (u64, usize) {
    let creates = [
        "CreatePodIdentityAssociation",
        "CreateAddon",
        "UpdateAddon",
        "UpdatePodIdentityAssociation",
    ]
    .iter()
    .map(|op| w.count(op))
    .sum();
    (creates, w.list_roles().len())
}

fn assert_cases(tf: &Tf, args: &[&str], cases: &[Case], lines: &[Vec<usize>]) {
    let run = tf.run(args);
    assert_ne!(
        run.code,
        Some(0),
        "terraform {args:?} accepted bad input:\n{}",
        run.output
    );
    let failures = check_cases(cases, lines, &run.output);
    assert!(
        failures.is_empty(),
        "terraform {args:?}: {} of {} cases not reported as expected:\n{}\n--- whole output ---\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n"),
        run.output
    );
}

const APPLY: [&str; 4] = ["apply", "-auto-approve", "-input=false", "-no-color"];

#[test]
fn bad_input_validate() {
    let Some(w) = acc("bad_input_validate") else {
        return;
    };
    let cluster = w.new_cluster();
    let cases = validate_cases(&cluster);
    let (text, lines) = render(&cases);
    let mut tf = Tf::new(w);
    tf.write(&text);
    let before = made_so_far(w);
    assert_cases(&tf, &["validate", "-no-color"], &cases, &lines);
    // Asked to apply, terraform stops at the same errors: nothing is made.
    assert_cases(&tf, &APPLY, &cases, &lines);
    assert_eq!(
        made_so_far(w),
        before,
        "something was made (EKS create calls, IAM roles)"
    );
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn bad_input_plan() {
    let Some(w) = acc("bad_input_plan") else {
        return;
    };
    let cluster = w.new_cluster();
    // Addon versions without pod identity exist only for Kubernetes 1.29.
    let cluster_129 = random_name();
    let made = w.eks(
        "POST",
        "/clusters",
        Some(&json!({
            "name": cluster_129,
            "version": "1.29",
            "roleArn": "arn:aws:iam::123456789012:role/eks-cluster",
            "resourcesVpcConfig": {},
        })),
    );
    assert!(made.ok(), "CreateCluster 1.29: {}", made.body);
    let cases = plan_cases(&cluster, &cluster_129);
    let (text, lines) = render(&cases);
    let mut tf = Tf::new(w);
    tf.write(&text);
    let before = made_so_far(w);
    assert_cases(&tf, &APPLY, &cases, &lines);
    assert_eq!(
        made_so_far(w),
        before,
        "something was made (EKS create calls, IAM roles)"
    );
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn bad_input_import_ids() {
    let Some(w) = acc("bad_input_import_ids") else {
        return;
    };
    let cluster = random_name();
    let mut tf = Tf::new(w);
    let (text, _) = render(&[
        assoc(
            "imp",
            &cluster,
            &[("role_arn", string(ROLE))],
            "role_arn",
            "",
        ),
        addon("imp", &cluster, &[], "addon_name", ""),
    ]);
    tf.write(&text);
    let before = made_so_far(w);
    for id in [
        "garbage",
        "cluster,a-short",
        "bad cluster,a-abcdefghijklmnopq",
        "c/NS/sa",
        "a/b/c/d",
    ] {
        tf.import_expect_error(
            "eks_pod_identity_association.imp",
            id,
            "Invalid import ID for eks_pod_identity_association",
        );
    }
    for id in ["no-separator", ":vpc-cni", "cluster:"] {
        tf.import_expect_error(
            "eks_addon_pod_identity.imp",
            id,
            "Invalid import ID for eks_addon_pod_identity",
        );
    }
    assert_eq!(made_so_far(w), before, "something was made");
    let state: Value = tf.state_json();
    assert!(
        state["values"]["root_module"]["resources"]
            .as_array()
            .is_none_or(|r| r.is_empty()),
        "a failed import left state: {state}"
    );
}
