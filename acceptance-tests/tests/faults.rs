//! The fault suite (issue 7 §3): whole applies under the emulator's faults
//! and under killed processes converge, lose nothing and leave nothing.
//!
//! - throttling (20%) and 5xx (5%) on every EKS operation plus IAM
//!   propagation delay: 100 associations, half on made roles;
//! - terraform and the provider SIGKILLed mid-apply (50 made roles, under
//!   throttling, 5xx and lost answers), then one re-apply converges;
//! - lost answers of every association create, and a failed addon tag call;
//! - Ctrl-C (SIGINT to terraform) while the provider waits for a new role;
//! - an addon stuck in DEGRADED times out with its health issues.
//!
//! A test binary of its own: faults hit the whole emulator, and the kill
//! test kills provider processes. Tests take turns ([`turn`]); processes are
//! found by their working directory (each [`Tf`] has its own), so nothing
//! outside this test's terraform is ever signalled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::hcl::{block, config, provider, resource, string};
use acceptance_tests::{Tf, World, acc, contains_ignoring_wrap, engine};
use rand::Rng;
use serde_json::{Value, json};

/// One test at a time; faults are cleared when the turn ends.
struct Turn {
    world: &'static World,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.world.set_faults(&json!({}));
    }
}

fn turn(w: &'static World) -> Turn {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    w.set_faults(&json!({}));
    Turn {
        world: w,
        _turn: guard,
    }
}

/// `given` associations named `given` (existing role) and `count` named
/// `made` (role made by the provider, cert-manager's well-known policy) in
/// `cluster`, service accounts `g-N` and `m-N` in namespace `default`.
fn half_made(
    cluster: &str,
    role_arn: &str,
    given: usize,
    count: usize,
    provider_attrs: &[(&str, String)],
) -> String {
    config(&[
        provider(provider_attrs),
        resource(
            "eks_pod_identity_association",
            "given",
            &[
                ("count", given.to_string()),
                ("cluster_name", string(cluster)),
                ("namespace", string("default")),
                ("service_account", "\"g-${count.index}\"".into()),
                ("role_arn", string(role_arn)),
            ],
        ),
        resource(
            "eks_pod_identity_association",
            "made",
            &[
                ("count", count.to_string()),
                ("cluster_name", string(cluster)),
                ("namespace", string("default")),
                ("service_account", "\"m-${count.index}\"".into()),
                ("well_known_policies", "[\"cert-manager\"]".into()),
            ],
        ),
    ])
}

/// Every association of the state: service account → (association ID, made role name).
fn state_associations(tf: &Tf) -> BTreeMap<String, (String, Option<String>)> {
    let state = tf.state_json();
    state["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == "eks_pod_identity_association")
        .map(|r| {
            let v = &r["values"];
            (
                v["service_account"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                (
                    v["association_id"].as_str().unwrap_or_default().to_string(),
                    v["role_name"]
                        .as_str()
                        .filter(|_| v["created_role"] == true)
                        .map(str::to_string),
                ),
            )
        })
        .collect()
}

/// The cloud matches the state: one association per service account, with
/// the state's IDs; made roles exactly the state's (nothing orphaned).
fn assert_cloud_matches_state(w: &World, tf: &Tf, cluster: &str, expected: usize) {
    let state = state_associations(tf);
    assert_eq!(state.len(), expected, "resources in state: {state:?}");
    let cloud: Vec<Value> = w.list_associations(cluster);
    let mut by_sa: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &cloud {
        by_sa
            .entry(a["serviceAccount"].as_str().unwrap_or_default().to_string())
            .or_default()
            .push(a["associationId"].as_str().unwrap_or_default().to_string());
    }
    let duplicates: Vec<_> = by_sa.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "duplicate associations: {duplicates:?}"
    );
    let cloud_ids: BTreeMap<String, String> = by_sa
        .into_iter()
        .map(|(sa, mut ids)| (sa, ids.remove(0)))
        .collect();
    let state_ids: BTreeMap<String, String> = state
        .iter()
        .map(|(sa, (id, _))| (sa.clone(), id.clone()))
        .collect();
    assert_eq!(cloud_ids, state_ids, "associations in EKS vs in the state");
    let made: BTreeSet<String> = state.values().filter_map(|(_, r)| r.clone()).collect();
    let roles: BTreeSet<String> = w
        .list_roles()
        .into_iter()
        .filter(|r| r.contains(cluster))
        .collect();
    assert_eq!(
        roles, made,
        "IAM roles made for {cluster} vs made roles in the state"
    );
}

/// Nothing of the cluster left: no association, no made role.
fn assert_nothing_left(w: &World, cluster: &str) {
    assert!(w.list_associations(cluster).is_empty(), "associations left");
    let roles: Vec<String> = w
        .list_roles()
        .into_iter()
        .filter(|r| r.contains(cluster))
        .collect();
    assert!(roles.is_empty(), "roles left: {roles:?}");
}

/// PIDs of the processes whose working directory is `dir` and whose
/// command name starts with `comm` (terraform and the providers it started
/// run in the Tf directory; nothing else does).
fn processes_in(dir: &Path, comm: &str) -> Vec<i32> {
    let Ok(dir) = dir.canonicalize() else {
        return vec![];
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let base = format!("/proc/{pid}");
            std::fs::read_link(format!("{base}/cwd")).is_ok_and(|cwd| cwd == dir)
                && std::fs::read_to_string(format!("{base}/comm"))
                    .is_ok_and(|c| c.trim_end().starts_with(comm))
        })
        .collect()
}

/// Sends `signal` to the processes of `processes_in(dir, comm)`; how many.
fn signal_in(dir: &Path, comm: &str, signal: i32) -> usize {
    let pids = processes_in(dir, comm);
    for pid in &pids {
        // SAFETY: kill has no memory preconditions; a PID that has exited
        // meanwhile just makes it fail with ESRCH.
        unsafe {
            libc::kill(*pid, signal);
        }
    }
    pids.len()
}

const APPLY: [&str; 4] = ["apply", "-auto-approve", "-input=false", "-no-color"];

#[test]
fn faults_throttling_5xx_and_propagation() {
    let Some(w) = acc("faults_throttling_5xx_and_propagation") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    // Every EKS operation: 20% throttled, then 5% of the rest a 5xx; new
    // roles invisible to EKS for 3 s. The seed makes the draws repeatable.
    w.set_faults(&json!({
        "throttle_rate": 0.2,
        "error_5xx_rate": 0.05,
        "iam_propagation_delay_secs": 3,
        "seed": 11,
    }));
    let mut tf = Tf::new(w);
    tf.write(&half_made(&cluster, &role.arn, 50, 50, &[]));
    let started = Instant::now();
    tf.apply();
    let applied = started.elapsed();
    tf.assert_plan_empty();
    let errors = w.counters()["errors"].clone();
    eprintln!("apply of 100 took {applied:?}; injected errors so far: {errors}");
    assert!(
        errors["ThrottlingException"].as_u64().unwrap_or(0) > 0,
        "nothing was throttled: the test proves nothing"
    );
    // The checks below call the emulator too: without faults.
    w.set_faults(&json!({}));
    assert_cloud_matches_state(w, &tf, &cluster, 100);
    tf.destroy();
    assert_nothing_left(w, &cluster);
}

/// Issue 22's "done when": 50 associations with made roles; terraform and
/// the provider are SIGKILLed mid-apply (as when a CI runner dies), under
/// throttling, 5xx and lost answers; then one re-apply, with the same
/// faults, converges: one association and one role per service account,
/// all in state, an empty plan, nothing leaked. No backdating: the
/// re-apply waits out the dead apply's leases itself (10 s here). Only
/// what the killed terraform finished but never saved needs the import
/// its error gives (see below).
#[test]
fn faults_provider_killed_during_apply() {
    let Some(w) = acc("faults_provider_killed_during_apply") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.set_env("EKS_POD_IDENTITY_LEASE_SECONDS", "10");
    tf.write(&half_made(&cluster, &role.arn, 0, 50, &[]));
    let faults = json!({
        "latency_ms": 100,
        "throttle_rate": 0.05,
        "error_5xx_rate": 0.03,
        "error_5xx_after_rate": 0.05,
        "iam_propagation_delay_secs": 1,
        "seed": 22
    });
    w.set_faults(&faults);
    let mut rng = rand::rng();
    let target = rng.random_range(5..40u64);
    // The emulator's counters run for the whole binary: count from here.
    let before = w.count("CreatePodIdentityAssociation");
    let (run, killed) = thread::scope(|s| {
        let apply = s.spawn(|| tf.run(&APPLY));
        let started = Instant::now();
        while w.count("CreatePodIdentityAssociation") < before + target
            && !apply.is_finished()
            && started.elapsed() < Duration::from_secs(90)
        {
            thread::sleep(Duration::from_millis(20));
        }
        // The engine (terraform or tofu) and the provider, as when the
        // runner dies.
        let killed = signal_in(tf.path(), engine().command(), libc::SIGKILL)
            + signal_in(tf.path(), "terraform-provi", libc::SIGKILL);
        eprintln!("killed {killed} engine and provider process(es) after {target} creates");
        let run = apply
            .join()
            .unwrap_or_else(|_| panic!("apply thread panicked"));
        (run, killed)
    });
    assert!(
        killed > 0 && run.code != Some(0),
        "the apply finished before the kill (killed {killed}): the test proves nothing"
    );
    // One re-apply, under the same faults, converges: it waits out the dead
    // apply's leases and adopts what they cover. The one thing it may not
    // take is what was finished (both leases gone) in the seconds before
    // the kill but that the killed terraform had not yet written to its
    // state: that looks like another resource's, and the error names the
    // import that takes it back (docs/guides/ownership.md, "one window").
    // Anything else is a failure of the test.
    let again = tf.run(&APPLY);
    if again.code != Some(0) {
        let errors = again.output.matches("Error: ").count();
        let imports = import_commands(&again.output);
        assert!(
            !imports.is_empty() && imports.len() == errors,
            "the re-apply failed other than in the window ({errors} errors, {} imports):\n{}",
            imports.len(),
            again.output
        );
        eprintln!(
            "{} association(s) finished but not saved by the killed terraform: imported as advised",
            imports.len()
        );
        w.set_faults(&json!({}));
        for (address, id) in &imports {
            tf.import(address, id);
        }
        tf.apply();
    }
    w.set_faults(&json!({}));
    tf.assert_plan_empty();
    assert_cloud_matches_state(w, &tf, &cluster, 50);
    tf.destroy();
    assert_nothing_left(w, &cluster);
}

/// (address, import ID) of every error in `output` that advises a
/// `terraform import` (the address is the error's `with` line).
fn import_commands(output: &str) -> Vec<(String, String)> {
    output
        .split("Error: ")
        .skip(1)
        .filter_map(|block| {
            let address = block
                .split("with ")
                .nth(1)?
                .split(',')
                .next()?
                .trim()
                .to_string();
            // The last command the error gives: the made role's error names
            // the general form (placeholders) before the service account's
            // actual association.
            if !block.contains("terraform import ") {
                return None;
            }
            let mut words = block.rsplit("terraform import ").next()?.split_whitespace();
            let _placeholder = words.next()?;
            let id = words.next()?.to_string();
            (!id.contains('<')).then_some((address, id))
        })
        .collect()
}

#[test]
fn faults_interrupted_apply_stops_promptly() {
    let Some(w) = acc("faults_interrupted_apply_stops_promptly") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.write(&half_made(&cluster, &role.arn, 3, 3, &[]));
    // New roles stay invisible to EKS for a minute: the made-role creates
    // retry (up to PROPAGATION_TIMEOUT) until StopProvider ends them.
    w.set_faults(&json!({"iam_propagation_delay_secs": 60}));
    // The error counters are the world's: earlier fault tests of this binary
    // raised them already, so wait for a rise, not for a non-zero value
    // (else the interrupt could come during the plan, and Terraform 1.0.3
    // then goes on to apply).
    let refused = || {
        w.counters()["errors"]["InvalidParameterException"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = refused();
    let (run, stopped_in) = thread::scope(|s| {
        let apply = s.spawn(|| tf.run(&APPLY));
        let started = Instant::now();
        // Wait until a made-role create was refused (the provider is now retrying).
        while refused() == before {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no create met the propagation delay"
            );
            thread::sleep(Duration::from_millis(50));
        }
        thread::sleep(Duration::from_millis(500));
        let interrupted = Instant::now();
        assert!(
            // `terraform` or `tofu`: the engine's own process.
            signal_in(tf.path(), engine().command(), libc::SIGINT) > 0,
            "no terraform to interrupt"
        );
        let run = apply
            .join()
            .unwrap_or_else(|_| panic!("apply thread panicked"));
        (run, interrupted.elapsed())
    });
    eprintln!("terraform exited {stopped_in:?} after SIGINT");
    assert_ne!(
        run.code,
        Some(0),
        "interrupted apply succeeded:\n{}",
        run.output
    );
    assert!(
        stopped_in < Duration::from_secs(15),
        "terraform took {stopped_in:?} to stop after SIGINT (the role delay is 60 s):\n{}",
        run.output
    );
    // Terraform reports it ("Interrupt received", "execution halted"); the
    // provider's own error says "interrupted" when a wait was cut short.
    assert!(
        contains_ignoring_wrap(&run.output.to_lowercase(), "interrupt"),
        "no interruption reported:\n{}",
        run.output
    );
    w.set_faults(&json!({}));
    tf.apply();
    tf.assert_plan_empty();
    assert_cloud_matches_state(w, &tf, &cluster, 6);
    tf.destroy();
    assert_nothing_left(w, &cluster);
}

/// An addon that ends its create DEGRADED (for reasons of its own, such as a
/// cluster without nodes) is no failed apply: the create ends with a warning
/// that carries the health issue, and the next plan is empty (status is never
/// planned). Emulator/FACTS.md F5; the AWS CLI's addon waiter stops at
/// DEGRADED too.
#[test]
fn faults_addon_degraded_at_create_is_a_warning() {
    let Some(w) = acc("faults_addon_degraded_at_create_is_a_warning") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    w.set_faults(&json!({
        "addon_transition_ms": 200,
        "addon_fail": {
            "addon_name": "vpc-cni",
            "status": "DEGRADED",
            "code": "InsufficientNumberOfReplicas",
            "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
        },
    }));
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        addon_with_create_timeout(&cluster, "30s"),
    ]));
    let out = tf.apply();
    assert!(
        contains_ignoring_wrap(&out, "InsufficientNumberOfReplicas")
            && contains_ignoring_wrap(&out, "doesn't have the desired number of replicas"),
        "no warning with the health issue:\n{out}"
    );
    assert_eq!(
        tf.resource("eks_addon_pod_identity.test")["status"],
        "DEGRADED"
    );
    tf.assert_plan_empty();
    w.set_faults(&json!({}));
    tf.destroy();
    let left = w.eks("GET", &format!("/clusters/{cluster}/addons/vpc-cni"), None);
    assert_eq!(left.status, 404, "addon left: {}", left.body);
}

/// An addon that never leaves CREATING fails the apply at the `create`
/// timeout, not after the default 20 minutes, and destroy cleans up.
#[test]
fn faults_addon_stuck_creating_times_out() {
    let Some(w) = acc("faults_addon_stuck_creating_times_out") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    w.set_faults(&json!({"addon_transition_ms": 600_000}));
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        addon_with_create_timeout(&cluster, "10s"),
    ]));
    let started = Instant::now();
    let out = tf.apply_expect_error("CREATING");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "the 10 s create timeout took {took:?}:\n{out}"
    );
    w.set_faults(&json!({"addon_transition_ms": 200}));
    tf.destroy();
    w.set_faults(&json!({}));
    let left = w.eks("GET", &format!("/clusters/{cluster}/addons/vpc-cni"), None);
    assert_eq!(left.status, 404, "addon left: {}", left.body);
}

/// vpc-cni with no associations and a `create` timeout.
/// Issue 22 item 4, no answer is not a "no": every
/// CreatePodIdentityAssociation makes its association and then answers 5xx
/// (the SDK's own retries too). The create is looked up and, carrying this
/// apply's lease, is its own: one apply converges, nothing duplicated or
/// leaked, and the plan after it is empty. Before: the apply failed, the
/// made roles were deleted under associations that used them, and the
/// associations stayed behind with their creation markers.
#[test]
fn faults_lost_answers_of_every_create_converge_in_one_apply() {
    let Some(w) = acc("faults_lost_answers_of_every_create_converge_in_one_apply") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    // One attempt per call (the SDK's retries would all be answered 5xx
    // too, 25 of them with back-off): the provider's own lookup is tested.
    tf.write(&half_made(
        &cluster,
        &role.arn,
        3,
        3,
        &[("max_retries", "1".into())],
    ));
    w.set_faults(&json!({
        "error_5xx_after_rate": 1.0,
        "operations": ["CreatePodIdentityAssociation"],
    }));
    tf.apply();
    w.set_faults(&json!({}));
    tf.assert_plan_empty();
    assert_cloud_matches_state(w, &tf, &cluster, 6);
    tf.destroy();
    assert_nothing_left(w, &cluster);
}

/// Issue 22 item 3, an addon update that fails at its tag call: the state
/// is the addon as updated (its new entry's role recorded), so nothing
/// made is forgotten, and the next apply finishes the tags. Before: the
/// prior state came back, the new role leaked and the old one stayed.
#[test]
fn faults_addon_tag_failure_keeps_what_the_update_made() {
    let Some(w) = acc("faults_addon_tag_failure_keeps_what_the_update_made") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let entry = |sa: &str| {
        format!(
            "{{ service_account = {}, permission_policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"] }}",
            string(sa)
        )
    };
    let addon = |entries: &[String], tags: &str| {
        config(&[
            // One attempt per call: the failing tag call fails at once.
            provider(&[("max_retries", "1".into())]),
            resource(
                "eks_addon_pod_identity",
                "test",
                &[
                    ("cluster_name", string(&cluster)),
                    ("addon_name", string("aws-efs-csi-driver")),
                    (
                        "pod_identity_associations",
                        format!("[{}]", entries.join(", ")),
                    ),
                    ("tags", tags.to_string()),
                ],
            ),
        ])
    };
    let mut tf = Tf::new(w);
    tf.write(&addon(
        &[entry("efs-csi-controller-sa")],
        "{ team = \"a\" }",
    ));
    tf.apply();
    let mine = |w: &World| -> BTreeSet<String> {
        w.list_roles()
            .into_iter()
            .filter(|r| r.contains(&cluster))
            .collect()
    };
    let before = mine(w);
    assert_eq!(before.len(), 1, "{before:?}");
    // A second entry and a tag change; the tag call fails.
    tf.write(&addon(
        &[entry("efs-csi-controller-sa"), entry("efs-csi-node-sa")],
        "{ team = \"b\" }",
    ));
    w.set_faults(&json!({"error_5xx_rate": 1.0, "operations": ["TagResource"]}));
    let out = tf.run(&APPLY);
    w.set_faults(&json!({}));
    assert_ne!(
        out.code,
        Some(0),
        "the tag call did not fail:\n{}",
        out.output
    );
    let made = mine(w);
    assert_eq!(made.len(), 2, "{made:?}");
    let recorded: BTreeSet<String> =
        tf.resource("eks_addon_pod_identity.test")["pod_identity_associations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["role_name"].as_str().map(str::to_string))
            .collect();
    assert_eq!(recorded, made, "a role the update made is not in the state");
    tf.apply();
    tf.assert_plan_empty();
    tf.destroy();
    assert!(mine(w).is_empty(), "roles left: {:?}", mine(w));
}

fn addon_with_create_timeout(cluster: &str, create: &str) -> String {
    let mut addon = resource(
        "eks_addon_pod_identity",
        "test",
        &[
            ("cluster_name", string(cluster)),
            ("addon_name", string("vpc-cni")),
            ("pod_identity_associations", "[]".into()),
        ],
    );
    addon.truncate(addon.len() - "}\n".len());
    for line in block("timeouts", &[("create", string(create))]).lines() {
        addon.push_str(&format!("  {line}\n"));
    }
    addon.push_str("}\n");
    addon
}

/// Issue 27: the migration's retry after its own trust rewrite. The
/// emulator's `trust_rewrite_delay_secs` fault (FACTS.md F16) has EKS judge
/// a role by its previous trust for a while after a rewrite, as IAM's
/// eventual consistency may: the migration adds the pod identity statement
/// to an IRSA role's trust and at once creates the association, which EKS
/// refuses ("Trust policy of the role provided is invalid") until the new
/// trust is seen. The migration retries that answer only after its own
/// rewrite (`retry::is_rewritten_trust_not_visible`) and converges in one
/// apply; before this fault the retry was never exercised.
#[test]
fn faults_migration_retries_after_its_own_trust_rewrite() {
    let Some(w) = acc("faults_migration_retries_after_its_own_trust_rewrite") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let described = w.describe_cluster(&cluster).unwrap_or_default();
    let host = described["identity"]["oidc"]["issuer"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("https://")
        .to_string();
    let oidc_provider = format!("arn:aws:iam::{}:oidc-provider/{host}", w.account_id);
    let irsa = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            format!("{host}:sub"): "system:serviceaccount:apps:web",
            format!("{host}:aud"): "sts.amazonaws.com"
        }}
    }]});
    let role = w.create_role(&acceptance_tests::random_name(), &irsa);
    let meta = json!({"name": "web", "namespace": "apps",
        "annotations": {"eks.amazonaws.com/role-arn": role.arn}});
    let seeded = w.eks(
        "POST",
        &format!("/_emulator/kubernetes/{cluster}"),
        Some(&json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})),
    );
    assert!(seeded.ok(), "seeding apps/web: {}", seeded.body);
    // EKS has read the IRSA-only trust (and refused it): the rewrite the
    // migration makes is one EKS sees late.
    let refused = w.eks(
        "POST",
        &format!("/clusters/{cluster}/pod-identity-associations"),
        Some(&json!({"namespace": "apps", "serviceAccount": "web", "roleArn": role.arn})),
    );
    assert!(
        !refused.ok(),
        "the IRSA-only trust was accepted: {}",
        refused.body
    );
    w.set_faults(&json!({"trust_rewrite_delay_secs": 4}));
    let creates_before = w.count("CreatePodIdentityAssociation");
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_migration",
            "this",
            &[
                ("cluster_name", string(&cluster)),
                ("rollback_on_destroy", "true".into()),
            ],
        ),
    ]));
    let started = Instant::now();
    tf.apply();
    let creates = w.count("CreatePodIdentityAssociation") - creates_before;
    assert!(
        creates >= 2,
        "the association was created at the first attempt ({creates} call(s)): the fault did not hold"
    );
    let associations = w.list_associations(&cluster);
    assert_eq!(associations.len(), 1, "{associations:?}");
    assert_eq!(associations[0]["serviceAccount"], "web");
    eprintln!(
        "migration converged after {creates} CreatePodIdentityAssociation calls in {:?}",
        started.elapsed()
    );
    w.set_faults(&json!({}));
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
    w.delete_role_and_policies(&role.name);
}
