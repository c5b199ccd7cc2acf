//! `eks_pod_identity_association` under injected faults. A test binary of its
//! own: faults apply to the whole emulator, so they must not reach the other
//! association tests; within this binary the tests take turns ([`turn`]).

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use acceptance_tests::hcl::{association, config, provider};
use acceptance_tests::{Tf, World, acc};
use serde_json::json;

const ADDRESS: &str = "eks_pod_identity_association.test";

/// One test at a time (whole tests: a fault must not hit another test's
/// steps); faults are cleared when the turn ends.
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

fn simple(cluster: &str, role_arn: &str, provider_attrs: &[(&str, String)]) -> String {
    config(&[
        provider(provider_attrs),
        association("test", cluster, "default", "app", role_arn, &[]),
    ])
}

fn errors(w: &World, code: &str) -> u64 {
    w.counters()["errors"][code].as_u64().unwrap_or(0)
}

#[test]
fn association_role_not_yet_visible() {
    let Some(w) = acc("association_role_not_yet_visible") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    // EKS does not see a new role for a while; the provider must retry.
    w.set_faults(&json!({"iam_propagation_delay_secs": 3}));
    let role = w.create_pod_role();
    let before = w.count("CreatePodIdentityAssociation");
    let mut tf = Tf::new(w);
    tf.write(&simple(&cluster, &role.arn, &[]));
    let started = Instant::now();
    tf.apply();
    let elapsed = started.elapsed();
    w.set_faults(&json!({}));

    let attempts = w.count("CreatePodIdentityAssociation") - before;
    assert!(
        attempts > 1,
        "apply succeeded without a retry ({attempts} attempt)"
    );
    eprintln!("apply took {elapsed:?} with {attempts} create attempts");
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn association_recreate_after_delete() {
    let Some(w) = acc("association_recreate_after_delete") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    tf.write(&simple(&cluster, &role.arn, &[]));
    tf.apply();
    let old_id = tf.resource(ADDRESS)["association_id"].clone();

    // Replace = delete, then create for the same service account, which EKS
    // refuses for a moment after the delete.
    w.set_faults(&json!({"delete_consistency_delay_secs": 3}));
    let before = errors(w, "ResourceInUseException");
    tf.taint(ADDRESS);
    tf.apply();
    assert_ne!(tf.resource(ADDRESS)["association_id"], old_id);
    assert!(
        errors(w, "ResourceInUseException") > before,
        "the re-create never met the delete's eventual consistency"
    );
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

#[test]
fn association_throttled() {
    let Some(w) = acc("association_throttled") else {
        return;
    };
    let _turn = turn(w);
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    // A quarter of the writes throttled; with max_retries = 10 a call fails
    // after all retries about once in a million; the seed makes the fault
    // sequence repeatable. (Reads are left alone to keep the test short: at
    // a 20% throttle rate on Describe a one-resource plan took 20 s, the
    // SDK's backoff.)
    w.set_faults(&json!({
        "throttle_rate": 0.25,
        "seed": 7,
        "operations": ["CreatePodIdentityAssociation", "DeletePodIdentityAssociation"],
    }));
    let before = errors(w, "ThrottlingException");
    let mut tf = Tf::new(w);
    tf.write(&simple(
        &cluster,
        &role.arn,
        &[("max_retries", "10".into())],
    ));
    let started = Instant::now();
    tf.apply();
    tf.assert_plan_empty();
    tf.destroy();
    let throttled = errors(w, "ThrottlingException") - before;
    eprintln!(
        "apply, plan, destroy took {:?} with {throttled} throttled calls",
        started.elapsed()
    );
    assert!(
        throttled > 0,
        "no call was throttled: the test proves nothing"
    );
    assert!(w.list_associations(&cluster).is_empty());
}
