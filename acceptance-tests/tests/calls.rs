//! AWS calls per operation (issue 16): every row of bench/results.md's calls
//! table, counted from the provider's own debug log (`AWS call
//! SERVICE.OPERATION`, one line per HTTP attempt) for `plan -out` and for
//! `apply` of that plan. Counts, not timings: a call added to any operation
//! fails CI here.
//!
//! The expected lists are the minimum each operation needs (see the table in
//! bench/results.md for why each call is there). A resource's plan in the
//! apply process (Terraform plans each resource again before applying it)
//! is part of the apply's calls.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, World, acc};
use std::collections::BTreeMap;
use std::path::Path;

const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const EBS: &str = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";

/// The calls in a provider debug log, as `SERVICE.Operation` → count.
fn calls_in(log: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.split("AWS call ").nth(1) else {
            continue;
        };
        let op = rest.split_whitespace().next().unwrap_or_default();
        *out.entry(op.to_string()).or_default() += 1;
    }
    out
}

/// `expected` ("EKS.DescribeAddon" or "IAM.GetRole x2", one per item) as counts.
fn counts(expected: &[&str]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in expected {
        let (op, n) = match e.split_once(" x") {
            Some((op, n)) => (op, n.parse().unwrap_or(0)),
            None => (*e, 1),
        };
        *out.entry(op.to_string()).or_default() += n;
    }
    out
}

/// Runs `args` with the provider's debug log in a fresh file; the calls it made.
fn counted(tf: &mut Tf, name: &str, args: &[&str]) -> BTreeMap<String, usize> {
    let log = tf.path().join(format!("calls-{name}.log"));
    tf.set_env("TF_LOG_PROVIDER", "DEBUG");
    tf.set_env("TF_LOG_PATH", &log.display().to_string());
    let run = tf.run(args);
    tf.unset_env("TF_LOG_PROVIDER");
    assert_eq!(
        run.code,
        Some(0),
        "{name}: {} failed:\n{}",
        args.join(" "),
        run.output
    );
    calls_in(&log)
}

/// Operations whose count depends on timing (a waiter's polls): present or
/// not is compared, not how often.
const POLLS: [&str; 1] = ["EKS.DescribeAddon"];

/// Compares, leaving the polls' counts out when `polled` (a wait ran).
fn compare(
    what: &str,
    mut got: BTreeMap<String, usize>,
    mut want: BTreeMap<String, usize>,
    polled: bool,
) -> Option<String> {
    if polled {
        for p in POLLS {
            if let Some(n) = got.get_mut(p) {
                *n = 1;
            }
            if let Some(n) = want.get_mut(p) {
                *n = 1;
            }
        }
    }
    (got != want).then(|| format!("{what}:\n  got  {got:?}\n  want {want:?}"))
}

/// The mismatches of one test, reported together at its end.
#[derive(Default)]
struct Report(Vec<String>);

impl Report {
    fn check(&mut self, m: Option<String>) {
        if let Some(m) = m {
            eprintln!("[calls] {m}");
            self.0.push(m);
        }
    }
    fn assert_none(&self) {
        assert!(
            self.0.is_empty(),
            "calls above (or below) the minimum:\n{}",
            self.0.join("\n")
        );
    }
}

/// `plan -out`, then apply of that plan, of `cfg`: checks the calls of each
/// (`polled`: the apply waits, so the waiter's polls count once).
fn step(
    r: &mut Report,
    tf: &mut Tf,
    name: &str,
    cfg: &str,
    plan: &[&str],
    apply: &[&str],
    polled: bool,
) {
    tf.write(cfg);
    let got_plan = counted(
        tf,
        &format!("{name}-plan"),
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
    );
    let got_apply = counted(
        tf,
        &format!("{name}-apply"),
        &["apply", "-input=false", "-no-color", "tfplan"],
    );
    r.check(compare(
        &format!("{name} plan"),
        got_plan,
        counts(plan),
        false,
    ));
    r.check(compare(
        &format!("{name} apply"),
        got_apply,
        counts(apply),
        polled,
    ));
}

/// A plan with nothing to change: the refresh's calls.
fn refresh(r: &mut Report, tf: &mut Tf, name: &str, plan: &[&str]) {
    let got = counted(tf, name, &["plan", "-input=false", "-no-color"]);
    r.check(compare(name, got, counts(plan), false));
}

fn cluster_with_agent(w: &World) -> String {
    let cluster = w.new_cluster();
    w.create_addon(&cluster, "eks-pod-identity-agent");
    cluster
}

fn association(cluster: &str, attrs: &[(&str, String)]) -> String {
    let mut all = vec![
        ("cluster_name", string(cluster)),
        ("namespace", string("calls")),
        ("service_account", string("app")),
    ];
    all.extend(attrs.iter().cloned());
    config(&[
        provider(&[]),
        resource("eks_pod_identity_association", "a", &all),
    ])
}

const CREATE_ASSOCIATION: [&str; 2] = [
    "EKS.CreatePodIdentityAssociation",
    // The creation-pending marker goes once the association exists
    // (docs/guides/ownership.md).
    "EKS.UntagResource",
];

#[test]
fn calls_given_role() {
    let Some(w) = acc("calls_given_role") else {
        return;
    };
    let cluster = cluster_with_agent(w);
    let role = w.create_pod_role();
    let role2 = w.create_pod_role();
    let mut tf = Tf::new(w);
    let mut r = Report::default();
    let empty = config(&[provider(&[])]);
    // The agent check asks for the agent addon once per cluster and process;
    // a new role_arn is checked against the cluster's account (its ARN,
    // once per cluster and process: issue 23 item 7), in the plan and in
    // the apply process's own plan.
    step(
        &mut r,
        &mut tf,
        "create-given",
        &association(&cluster, &[("role_arn", string(&role.arn))]),
        &["EKS.DescribeAddon", "EKS.DescribeCluster"],
        &[
            &CREATE_ASSOCIATION[..],
            &["EKS.DescribeAddon", "EKS.DescribeCluster"],
        ]
        .concat(),
        false,
    );
    refresh(
        &mut r,
        &mut tf,
        "read-given",
        &["EKS.DescribePodIdentityAssociation"],
    );
    step(
        &mut r,
        &mut tf,
        "update-role",
        &association(&cluster, &[("role_arn", string(&role2.arn))]),
        &["EKS.DescribePodIdentityAssociation", "EKS.DescribeCluster"],
        &["EKS.UpdatePodIdentityAssociation", "EKS.DescribeCluster"],
        false,
    );
    step(
        &mut r,
        &mut tf,
        "update-tags",
        &association(
            &cluster,
            &[
                ("role_arn", string(&role2.arn)),
                ("tags", "{ team = \"a\" }".into()),
            ],
        ),
        &["EKS.DescribePodIdentityAssociation"],
        &["EKS.TagResource"],
        false,
    );
    // Import (in another directory, same configuration): the association,
    // GetRole alone to see the role is not one this provider made, and the
    // read Terraform runs after it.
    let id = tf.resource("eks_pod_identity_association.a")["association_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut other = Tf::new(w);
    other.write(&association(
        &cluster,
        &[
            ("role_arn", string(&role2.arn)),
            ("tags", "{ team = \"a\" }".into()),
        ],
    ));
    let got = counted(
        &mut other,
        "import-given",
        &[
            "import",
            "-input=false",
            "-no-color",
            "eks_pod_identity_association.a",
            &format!("{cluster},{id}"),
        ],
    );
    r.check(compare(
        "import-given",
        got,
        counts(&["EKS.DescribePodIdentityAssociation x2", "IAM.GetRole"]),
        false,
    ));
    step(
        &mut r,
        &mut tf,
        "delete-given",
        &empty,
        &["EKS.DescribePodIdentityAssociation"],
        &["EKS.DeletePodIdentityAssociation"],
        false,
    );
    r.assert_none();
}

#[test]
fn calls_made_role() {
    let Some(w) = acc("calls_made_role") else {
        return;
    };
    let cluster = cluster_with_agent(w);
    let mut tf = Tf::new(w);
    let mut r = Report::default();
    let empty = config(&[provider(&[])]);
    let made = [
        ("well_known_policies", "[\"cert-manager\"]".to_string()),
        ("permission_policy_arns", format!("[{}]", string(S3_READ))),
    ];
    let read_role = [
        "EKS.DescribePodIdentityAssociation",
        "IAM.GetRole",
        "IAM.ListAttachedRolePolicies",
        "IAM.ListRolePolicies",
        "IAM.GetRolePolicy",
    ];
    step(
        &mut r,
        &mut tf,
        "create-made",
        &association(&cluster, &made),
        // A new role's generated name is scoped to the cluster's partition,
        // account and region: its ARN, once per cluster and process.
        &["EKS.DescribeAddon", "EKS.DescribeCluster"],
        &[
            &CREATE_ASSOCIATION[..],
            &[
                "EKS.DescribeAddon",
                "EKS.DescribeCluster",
                "IAM.CreateRole",
                "IAM.AttachRolePolicy",
                "IAM.PutRolePolicy",
                // The role's pending marker, once its association exists.
                "IAM.UntagRole",
            ],
        ]
        .concat(),
        false,
    );
    refresh(&mut r, &mut tf, "read-made", &read_role);
    let policy = "jsonencode({Version = \"2012-10-17\", Statement = [{Effect = \"Allow\", Action = \"s3:ListBucket\", Resource = \"*\"}]})";
    let mut updated = made.to_vec();
    updated.push(("permission_policy", policy.to_string()));
    step(
        &mut r,
        &mut tf,
        "update-made",
        &association(&cluster, &updated),
        &read_role,
        &["IAM.PutRolePolicy"],
        false,
    );
    // What the state knows of the role is what destroy removes: no listing.
    step(
        &mut r,
        &mut tf,
        "delete-made",
        &empty,
        &[&read_role[..], &["IAM.GetRolePolicy"]].concat(),
        &[
            "EKS.DeletePodIdentityAssociation",
            // The gate (issue 22): the role still carries our owner tag,
            // or it was made again by somebody else and is left alone.
            "IAM.GetRole",
            "IAM.DetachRolePolicy",
            "IAM.DeleteRolePolicy x2",
            "IAM.DeleteRole",
        ],
        false,
    );
    r.assert_none();
    assert!(w.list_roles().iter().all(|r| !r.contains("calls-app")));
}

#[test]
fn calls_addon() {
    let Some(w) = acc("calls_addon") else {
        return;
    };
    let cluster = cluster_with_agent(w);
    let mut tf = Tf::new(w);
    let mut r = Report::default();
    let empty = config(&[provider(&[])]);
    let addon = |policy: &str| {
        config(&[
            provider(&[]),
            resource(
                "eks_addon_pod_identity",
                "ebs",
                &[
                    ("cluster_name", string(&cluster)),
                    ("addon_name", string("aws-ebs-csi-driver")),
                    (
                        "pod_identity_associations",
                        format!(
                            "[{{ service_account = \"ebs-csi-controller-sa\", permission_policy_arns = [{}] }}]",
                            string(policy)
                        ),
                    ),
                ],
            ),
        ])
    };
    let resolve = [
        "EKS.DescribeCluster",
        "EKS.DescribeAddonVersions",
        "EKS.DescribeAddonConfiguration",
    ];
    // The addon, its one association, and the role made for it (drift).
    let read = [
        "EKS.DescribeAddon",
        "EKS.DescribePodIdentityAssociation",
        "IAM.GetRole",
        "IAM.ListAttachedRolePolicies",
        "IAM.ListRolePolicies",
    ];
    step(
        &mut r,
        &mut tf,
        "addon-create",
        &addon(EBS),
        // An install also asks whether its entries' service accounts are
        // free (issue 23 item 10: a preserved association is said at plan).
        &[&resolve[..], &["EKS.ListPodIdentityAssociations"]].concat(),
        // The plan again in the apply process (no prior state to plan from).
        &[
            &resolve[..],
            &[
                "EKS.ListPodIdentityAssociations",
                "IAM.CreateRole",
                "IAM.AttachRolePolicy",
                "EKS.CreateAddon",
                // The wait until ACTIVE (polls).
                "EKS.DescribeAddon",
                // The association's ID for the state.
                "EKS.DescribePodIdentityAssociation",
                // The role's creation lease goes once the addon's
                // association uses it (issue 22: an entry never adopts a
                // finished role, so its role is leased like an association's).
                "IAM.UntagRole",
            ],
        ]
        .concat(),
        true,
    );
    refresh(&mut r, &mut tf, "addon-read", &read);
    // Same version and configuration: planned from the state, no catalogue.
    step(
        &mut r,
        &mut tf,
        "addon-update",
        &addon(S3_READ),
        &read,
        // The refresh vouched for the role: changed without reading it.
        &["IAM.AttachRolePolicy", "IAM.DetachRolePolicy"],
        false,
    );
    step(
        &mut r,
        &mut tf,
        "addon-delete",
        &empty,
        &read,
        &[
            "EKS.DeleteAddon",
            // The wait until gone (polls).
            "EKS.DescribeAddon",
            // The gate: the role still carries our owner tag.
            "IAM.GetRole",
            // What the entry put on the role goes, then the role: no listing.
            "IAM.DetachRolePolicy",
            "IAM.DeleteRole",
        ],
        true,
    );
    r.assert_none();
}

/// An IRSA service account `apps/<sa>` on `cluster`, with its own role.
fn seed_irsa(w: &World, cluster: &str, sa: &str) {
    let c = w.describe_cluster(cluster).unwrap_or_default();
    let host = c["identity"]["oidc"]["issuer"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("https://")
        .to_string();
    let account = "123456789012";
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{account}:oidc-provider/{host}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            format!("{host}:sub"): format!("system:serviceaccount:apps:{sa}"),
            format!("{host}:aud"): "sts.amazonaws.com"
        }}
    }]});
    let role = format!("irsa-{cluster}-{sa}");
    let answer = w.iam(
        "CreateRole",
        &[
            ("RoleName", role.as_str()),
            ("AssumeRolePolicyDocument", &trust.to_string()),
        ],
    );
    assert!(answer.ok(), "{}", answer.body);
    let meta = serde_json::json!({"name": sa, "namespace": "apps", "annotations": {
        "eks.amazonaws.com/role-arn": format!("arn:aws:iam::{account}:role/{role}")
    }});
    let answer = w.eks(
        "POST",
        &format!("/_emulator/kubernetes/{cluster}"),
        Some(&serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})),
    );
    assert!(answer.ok(), "{}", answer.body);
}

/// The migration's calls for `n` IRSA service accounts: (plan, apply).
fn migration_calls(
    w: &'static World,
    n: usize,
) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let cluster = cluster_with_agent(w);
    for i in 0..n {
        seed_irsa(w, &cluster, &format!("sa-{i}"));
    }
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_migration",
            "m",
            &[("cluster_name", string(&cluster))],
        ),
    ]));
    let plan = counted(
        &mut tf,
        "migration-plan",
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
    );
    let apply = counted(
        &mut tf,
        "migration-apply",
        &["apply", "-input=false", "-no-color", "tfplan"],
    );
    tf.destroy();
    (plan, apply)
}

/// What each further service account costs: (calls for 3) - (calls for 1), halved.
fn per_item(
    one: &BTreeMap<String, usize>,
    three: &BTreeMap<String, usize>,
) -> BTreeMap<String, usize> {
    three
        .iter()
        .filter_map(|(op, n)| {
            let extra = n.saturating_sub(one.get(op).copied().unwrap_or(0));
            (extra > 0).then(|| (op.clone(), extra / 2))
        })
        .collect()
}

#[test]
fn calls_migration_per_service_account() {
    let Some(w) = acc("calls_migration_per_service_account") else {
        return;
    };
    let mut r = Report::default();
    let (plan1, apply1) = migration_calls(w, 1);
    let (plan3, apply3) = migration_calls(w, 3);
    eprintln!("[calls] migration of 1: plan {plan1:?}\n  apply {apply1:?}");
    // Reading each role's trust.
    r.check(compare(
        "migration plan, per service account",
        per_item(&plan1, &plan3),
        counts(&["IAM.GetRole"]),
        false,
    ));
    r.check(compare(
        "migration apply, per service account",
        per_item(&apply1, &apply3),
        // The plan again in the apply process (it has no prior state to
        // plan from) reads the trust; the rewrite reads it once more right
        // before writing it (IAM has no conditional write: a statement added
        // since the plan must not be lost), then writes it and makes the
        // association.
        counts(&[
            "IAM.GetRole x2",
            "IAM.UpdateAssumeRolePolicy",
            "EKS.CreatePodIdentityAssociation",
        ]),
        false,
    ));
    r.assert_none();
}
