//! Crash safety of made roles (issue 4): the provider is killed (SIGKILL)
//! after it made the role and before the association exists. The role still
//! carries the dead apply's creation lease (issue 22): the next apply waits
//! until nobody renewed the lease for a whole lease period, takes it over
//! and adopts the role (owner tag and expired lease) instead of failing on
//! "already exists" or leaking it: one re-apply converges.
//!
//! Its own test binary, and only the provider whose working directory is
//! this test's is killed, so no other test's provider is hit.

use acceptance_tests::hcl::{config, provider, resource, string};
use acceptance_tests::{Tf, acc, random_name, world};
use serde_json::json;
use std::path::Path;
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
    tf.set_env("EKS_POD_IDENTITY_LEASE_SECONDS", "10");
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
        // Only this directory's provider: `pkill -f` by path would also hit
        // providers of other suites running on the machine (another engine's).
        assert!(
            kill_providers_in(tf.path()) > 0,
            "no provider process to kill"
        );
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

    // One apply converges, with no manual step (issue 22): it finds its
    // dead predecessor's lease on the role, waits until nobody has renewed
    // it for a whole lease (10 s here, EKS_POD_IDENTITY_LEASE_SECONDS), takes
    // it over and adopts the role: no "already exists", no second role.
    let started = Instant::now();
    let out = tf.apply();
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "the apply did not wait out the dead apply's lease:\n{out}"
    );
    let r = tf.resource("eks_pod_identity_association.test");
    assert_eq!(r["role_name"], killed.as_str());
    let mine: Vec<String> = world()
        .list_roles()
        .into_iter()
        .filter(|n| n.contains(&cluster))
        .collect();
    assert_eq!(mine, vec![killed.clone()]);
    assert_eq!(w.list_associations(&cluster).len(), 1);
    let tags = w.iam("ListRoleTags", &[("RoleName", killed.as_str())]);
    assert!(
        !tags.body.contains("eks-tools:creating"),
        "the pending marker outlived the apply: {}",
        tags.body
    );
    tf.assert_plan_empty();
    tf.destroy();
    assert!(w.get_role(&killed).is_none(), "role left after destroy");
    assert!(w.list_associations(&cluster).is_empty());
}

/// SIGKILLs the provider processes (command name `terraform-provider-eks`,
/// cut to 15 characters by the kernel) whose working directory is `dir`: the
/// engine starts its providers there. Returns how many.
fn kill_providers_in(dir: &Path) -> usize {
    let Ok(dir) = dir.canonicalize() else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let pids: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let base = format!("/proc/{pid}");
            std::fs::read_link(format!("{base}/cwd")).is_ok_and(|cwd| cwd == dir)
                && std::fs::read_to_string(format!("{base}/comm"))
                    .is_ok_and(|c| c.trim_end() == "terraform-provi")
        })
        .collect();
    for pid in &pids {
        // SAFETY: kill has no memory preconditions; a PID that has exited
        // meanwhile just makes it fail with ESRCH.
        unsafe {
            libc::kill(*pid, libc::SIGKILL);
        }
    }
    pids.len()
}
