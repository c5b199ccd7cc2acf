//! The emulator's faults through the harness (a binary of its own: faults
//! apply to every test of the binary).

use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::acc;
use serde_json::json;

#[test]
fn harness_iam_propagation_delay() {
    let Some(w) = acc("harness_iam_propagation_delay") else {
        return;
    };
    let cluster = w.new_cluster();
    w.set_faults(&json!({"iam_propagation_delay_secs": 2}));
    let role = w.create_pod_role();
    let created = Instant::now();
    let path = format!("/clusters/{cluster}/pod-identity-associations");
    let body = json!({"namespace": "default", "serviceAccount": "sa", "roleArn": role.arn});
    let early = w.eks("POST", &path, Some(&body));
    assert_eq!(early.status, 400, "{}", early.body);
    assert!(
        early
            .body
            .contains("Role provided in the request does not exist"),
        "{}",
        early.body
    );
    thread::sleep(
        Duration::from_secs(2).saturating_sub(created.elapsed()) + Duration::from_millis(200),
    );
    let late = w.eks("POST", &path, Some(&body));
    assert_eq!(late.status, 200, "{}", late.body);
    w.set_faults(&json!({}));
}
