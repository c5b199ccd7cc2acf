//! Crash safety of made roles (issue 4): the provider is killed (SIGKILL)
//! after it made the role and before the association exists; the next apply
//! adopts the role (recognised by its owner tag) instead of failing on
//! "already exists" or leaking it.
//!
//! Its own test binary, so that killing this binary's provider processes
//! cannot hit another test's.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, acc, random_name, world};
use serde_json::json;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn made_role_crash_between_role_and_association() {
    let Some(w) = acc("made_role_crash_between_role_and_association") else {
        return;
    };
    let cluster = w.new_cluster();
    let sa = random_name();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "test",
            &[
                ("cluster_name", string(&cluster)),
                ("namespace", string("default")),
                ("service_account", string(&sa)),
                ("well_known_policies", "[\"cert-manager\"]".into()),
            ],
        ),
    ]));
    // The association call hangs long enough for us to kill the provider.
    w.set_faults(&json!({"latency_ms": 60_000, "operations": ["CreatePodIdentityAssociation"]}));
    let killed = thread::scope(|s| {
        let apply = s.spawn(|| tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"]));
        // Wait for the role, then kill the provider (only this binary runs one).
        let started = Instant::now();
        let role = loop {
            let mine: Vec<String> = w
                .list_roles()
                .into_iter()
                .filter(|r| r.contains(&cluster))
                .collect();
            if let Some(r) = mine.first() {
                break r.clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the role was never made"
            );
            thread::sleep(Duration::from_millis(100));
        };
        // Let the attachments finish and the association call start.
        let started = Instant::now();
        while w.count("CreatePodIdentityAssociation") == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the association call never started"
            );
            thread::sleep(Duration::from_millis(50));
        }
        let status = Command::new("pkill")
            .args(["-KILL", "-f", "target/debug/terraform-provider-eks"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(status, "no provider process to kill");
        let run = apply
            .join()
            .unwrap_or_else(|_| panic!("apply thread panicked"));
        assert_ne!(
            run.code,
            Some(0),
            "apply succeeded although the provider was killed:\n{}",
            run.output
        );
        role
    });
    w.set_faults(&json!({}));
    assert!(
        w.list_associations(&cluster).is_empty(),
        "the association exists after all"
    );
    assert!(
        w.get_role(&killed).is_some(),
        "the role made before the crash is gone"
    );

    // The next apply adopts the role: no "already exists", no second role.
    tf.apply();
    let r = tf.resource("eks_pod_identity_association.test");
    assert_eq!(r["role_name"], killed.as_str());
    let mine: Vec<String> = world()
        .list_roles()
        .into_iter()
        .filter(|n| n.contains(&cluster))
        .collect();
    assert_eq!(mine, vec![killed.clone()]);
    assert_eq!(w.list_associations(&cluster).len(), 1);
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&killed).is_none(), "role left after destroy");
    assert!(w.list_associations(&cluster).is_empty());
}
