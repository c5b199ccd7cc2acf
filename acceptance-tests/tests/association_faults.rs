//! `eks_pod_identity_association` under injected faults. A test binary of its
//! own: faults apply to the whole emulator, so they must not reach the other
//! association tests running in parallel.

use std::time::Instant;

use acceptance_tests::hcl::{association, config, provider};
use acceptance_tests::{Tf, acc, random_name};
use serde_json::json;

#[test]
fn association_role_not_yet_visible() {
    let Some(w) = acc("association_role_not_yet_visible") else {
        return;
    };
    let cluster = w.new_cluster();
    // EKS does not see a new role for a while; the provider must retry.
    w.set_faults(&json!({"iam_propagation_delay_secs": 3}));
    let role = w.create_pod_role();
    let before = w.count("CreatePodIdentityAssociation");
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        association("test", &cluster, "default", &random_name(), &role.arn, &[]),
    ]));
    let started = Instant::now();
    tf.apply();
    let elapsed = started.elapsed();
    w.set_faults(&json!({"iam_propagation_delay_secs": 0}));

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
