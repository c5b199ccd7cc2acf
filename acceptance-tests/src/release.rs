//! What the release tests share (tests/release.rs, tests/registry.rs,
//! tests/glibc.rs): the repository's paths and version, this machine's
//! platform as Terraform names it, and running `scripts/release.sh` and the
//! other scripts. It does not build anything itself: the scripts do.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The provider's binary name (and the prefix of every release artefact).
pub const NAME: &str = "terraform-provider-eks";

pub use crate::place::repo_root;

/// The workspace version (`[workspace.package] version` in Cargo.toml).
pub fn version() -> String {
    let toml = std::fs::read_to_string(repo_root().join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("reading Cargo.toml: {e}"));
    let mut in_package = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package && let Some(rest) = line.strip_prefix("version") {
            return rest
                .trim_start_matches([' ', '='])
                .trim()
                .trim_matches('"')
                .to_string();
        }
    }
    panic!("no [workspace.package] version in Cargo.toml")
}

/// Terraform's name for this machine's platform (`linux_amd64`).
pub fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// The provider binary the harness uses (in `TF_ACC_PROVIDER_DIR`, else
/// built into this target dir).
pub fn provider_binary() -> PathBuf {
    crate::provider_dir().join(NAME)
}

/// Runs `scripts/<script>` with `args` and `env` from the repository root;
/// never panics on its exit status (stdout and stderr are captured).
pub fn run_script(script: &str, args: &[&str], env: &[(&str, &OsStr)]) -> Output {
    let mut command = Command::new(repo_root().join("scripts").join(script));
    command.args(args).current_dir(repo_root());
    for (k, v) in env {
        command.env(k, v);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("running scripts/{script}: {e}"))
}

/// stdout and stderr of `output`, for assertions and failure messages.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `init -input=false -no-color` in `tf`; panics with the engine's output
/// unless it succeeds, and returns that output.
pub fn init(tf: &crate::Tf) -> String {
    let init = tf.run(&["init", "-input=false", "-no-color"]);
    assert_eq!(
        init.code,
        Some(0),
        "{} init failed:\n{}",
        crate::engine().command(),
        init.output
    );
    init.output
}
