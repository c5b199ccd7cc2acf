//! Acceptance-test harness: runs the real `terraform` (or OpenTofu's `tofu`)
//! binary with our provider against a local AWS world (moto for IAM/STS, `eks-emulator` for
//! EKS), both on free loopback ports.
//!
//! What it owns: starting that world once per test binary ([`world`]), the
//! helpers tests use to arrange and inspect it (IAM roles in moto, clusters,
//! associations, faults and counters in the emulator), a [`Tf`] working
//! directory that drives terraform, and small HCL builders ([`hcl`]).
//! What it does not own: the provider and the emulator themselves (they are
//! built from this workspace with cargo and run as separate processes).
//!
//! Tests run only when `TF_ACC=1` (the Terraform convention): without it,
//! each test returns at once after saying so, so that `cargo test
//! --workspace` stays quick and needs neither moto nor terraform.
//!
//! Environment:
//! - `TF_ACC=1`: run the acceptance tests.
//! - `TF_ACC_TERRAFORM`: terraform binary to use (default: `terraform` on
//!   PATH); an OpenTofu `tofu` binary works too ([`engine`] tells which).
//! - `TF_ACC_PROVIDER_DIR`: directory holding `terraform-provider-eks`
//!   (default: build it with cargo into this workspace's target dir).
//! - `EKS_EMULATOR_BIN`, `MOTO_SERVER`: the world's programs (defaults: the
//!   target dir's `eks-emulator`, the repo's `.venv/bin/moto_server`, else
//!   `moto_server` on PATH).
//! - `EKS_TEST_AWS=1` and the rest of [`aws`]'s settings: AWS mode (the
//!   account of the environment's credentials and one named cluster, no
//!   local world); `scripts/test.sh --aws` sets it up.
//!
//! Which tests run in AWS mode is declared by each test, where whoever
//! edits it sees it: [`acc_aws`] runs in both modes, [`acc`] only in the
//! local world (in AWS mode it is skipped, with its binary's reason), and
//! [`acc_local`] only locally with a reason of its own. A declaration
//! rather than a list kept elsewhere: a test that starts to need the
//! emulator changes its own first line, and a new test is local-only until
//! someone declares it safe for a real account.

pub mod aws;
pub mod engine;
pub mod hcl;
mod http;
mod place;
pub mod release;
mod tf;
mod world;

pub use engine::{Engine, Kind, engine};
pub use http::Answer;
pub use tf::{PlanAction, Tf, contains_ignoring_wrap, dev_overrides_config};
pub use world::{ACCOUNT_ID, REGION, Role, World, fixture_dir, provider_dir, spawn_logged, world};

use std::cell::RefCell;

use rand::Rng;

/// Whether acceptance tests should run (`TF_ACC` set to anything but empty or `0`).
pub fn enabled() -> bool {
    std::env::var("TF_ACC").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The world for a local-only acceptance test, or `None` (with a note on
/// stderr) when `TF_ACC` is not set, or in AWS mode (skipped, with the
/// reason of its test binary: [`local_only_reason`]). Tests start with
/// `let Some(w) = acceptance_tests::acc("name") else { return };`.
pub fn acc(test: &str) -> Option<&'static World> {
    acc_local(test, local_only_reason(&world::binary_name()))
}

/// For an acceptance test that needs no world (it runs the release scripts
/// and local tools: tests/glibc.rs, tests/registry.rs): whether to run it.
/// Skipped, as [`acc`] skips, without `TF_ACC` and in AWS mode.
pub fn acc_no_world(test: &str) -> bool {
    if !enabled() {
        eprintln!("{test}: skipped (acceptance test; set TF_ACC=1 to run it)");
        return false;
    }
    if aws::enabled() {
        let why = local_only_reason(&world::binary_name());
        eprintln!("[tf-acc] {test}: skipped in AWS mode: {why}");
        aws::record(test, Some(why));
        return false;
    }
    true
}

/// As [`acc`], with the reason this test needs the local world (for tests
/// in binaries whose other tests run in AWS mode).
pub fn acc_local(test: &str, why: &str) -> Option<&'static World> {
    if !enabled() {
        eprintln!("{test}: skipped (acceptance test; set TF_ACC=1 to run it)");
        return None;
    }
    if aws::enabled() {
        eprintln!("[tf-acc] {test}: skipped in AWS mode: {why}");
        aws::record(test, Some(why));
        return None;
    }
    start_test();
    Some(world())
}

/// The world for a test that runs in both modes: the local world, or in AWS
/// mode the account and cluster the environment names. Such a test makes
/// every name with [`random_name`], uses the cluster of
/// [`World::new_cluster`] (shared with the other tests in AWS mode) and
/// needs no emulator facility (faults, counters, state, another cluster or
/// region).
pub fn acc_aws(test: &str) -> Option<&'static World> {
    if !enabled() {
        eprintln!("{test}: skipped (acceptance test; set TF_ACC=1 to run it)");
        return None;
    }
    start_test();
    let w = world();
    if aws::enabled() {
        aws::record(test, None);
    }
    Some(w)
}

/// Why the tests of a binary that declares none of them safe for AWS mode
/// are skipped there.
pub fn local_only_reason(binary: &str) -> &'static str {
    match binary {
        "addon" => {
            "installs, changes and deletes cluster addons (vpc-cni, the EBS and EFS CSI drivers) \
             and their kube-system service accounts: not safe on a cluster of yours"
        }
        "association_faults" | "faults" | "harness_faults" => {
            "injects faults into the emulator (throttling, 5xx, propagation delays, lost answers)"
        }
        "made_role_crash" => "kills the provider mid-apply and plays the creation lease's clock",
        "gate" => "kills the provider between lease removals and reads emulator state",
        "calls" => "counts AWS calls with the emulator's counters",
        "harness" => "tests the local world itself (moto and the emulator's admin routes)",
        "model" => "the model-based test: emulator faults and state, several clusters and regions",
        "edges" => "deletes clusters and switches the provider between regions",
        "data_source" => {
            "makes 107 associations and counts every association and List call of its cluster"
        }
        "migration" | "migration_scale" => {
            "seeds IRSA service accounts and an OIDC provider through the emulator's Kubernetes API"
        }
        "service_account" => {
            "writes to the cluster's Kubernetes API (namespaces, service accounts) with minted tokens"
        }
        "security" => "points the provider at local listeners and at endpoints that never answer",
        "registry" | "glibc" => {
            "tests the release tooling on this machine (a loopback registry, gpg, the glibc check)"
        }
        "engines" | "query" | "examples" | "release" | "ownership" | "bad_input" => {
            "makes several clusters or reads the emulator's state (not yet declared AWS-safe)"
        }
        _ => "not declared safe for a real account (acc_aws)",
    }
}

thread_local! {
    /// The names [`random_name`] made in this thread's test: in AWS mode
    /// the cluster is shared, and [`World::list_associations`] shows a
    /// test only what is its own, as its own cluster would.
    static NAMES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the names of an earlier test of this thread.
fn start_test() {
    NAMES.with(|n| n.borrow_mut().clear());
}

/// Whether `name` was made by [`random_name`] in this thread's test.
pub(crate) fn is_own_name(name: &str) -> bool {
    NAMES.with(|n| n.borrow().iter().any(|m| m == name))
}

/// A random name with the `tf-acc-` prefix: lowercase letters and digits,
/// valid as cluster, role, namespace and service account name alike. In AWS
/// mode it carries the run ID, `tf-acc-<run>-<random>` (at most 30
/// characters), so the sweeper finds what a run left.
pub fn random_name() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..10)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    let name = if aws::enabled() {
        format!("{}{}-{suffix}", aws::NAME_PREFIX, aws::settings().run)
    } else {
        format!("{}{suffix}", aws::NAME_PREFIX)
    };
    NAMES.with(|n| n.borrow_mut().push(name.clone()));
    name
}
