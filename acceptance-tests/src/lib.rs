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

pub mod engine;
pub mod hcl;
mod http;
mod tf;
mod world;

pub use engine::{Engine, Kind, engine};
pub use tf::{PlanAction, Tf, contains_ignoring_wrap, dev_overrides_config};
pub use world::{ACCOUNT_ID, REGION, Role, World, fixture_dir, provider_dir, world};

use rand::Rng;

/// Whether acceptance tests should run (`TF_ACC` set to anything but empty or `0`).
pub fn enabled() -> bool {
    std::env::var("TF_ACC").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The world for an acceptance test, or `None` (with a note on stderr) when
/// `TF_ACC` is not set. Tests start with
/// `let Some(w) = acceptance_tests::acc("name") else { return };`.
pub fn acc(test: &str) -> Option<&'static World> {
    if enabled() {
        Some(world())
    } else {
        eprintln!("{test}: skipped (acceptance test; set TF_ACC=1 to run it)");
        None
    }
}

/// A random name with the `tf-acc-` prefix: lowercase letters and digits,
/// valid as cluster, role, namespace and service account name alike.
pub fn random_name() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..10)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("tf-acc-{suffix}")
}
