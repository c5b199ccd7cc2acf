//! Which engine the tests drive: Terraform or OpenTofu, and which version.
//!
//! What it owns: finding the binary (`TF_ACC_TERRAFORM`, else `terraform` on
//! PATH), asking it `version` once per test binary, and the few facts the
//! harness and the tests need to treat both engines alike: the registry host
//! that `eks-tools/eks` means there (OpenTofu's default host is
//! `registry.opentofu.org`, Terraform's `registry.terraform.io`), the process
//! name to signal, and which features its version has.
//! What it does not own: running commands (that is [`crate::Tf`]).

use std::fmt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The two engines that speak the provider protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HashiCorp Terraform.
    Terraform,
    /// OpenTofu (the Linux Foundation fork of Terraform 1.5).
    OpenTofu,
}

/// The engine binary the tests run, and its version.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Terraform or OpenTofu.
    pub kind: Kind,
    /// `(major, minor, patch)` of its own release line.
    pub version: (u32, u32, u32),
    /// The binary.
    pub binary: PathBuf,
}

impl Engine {
    /// Whether this is OpenTofu.
    pub fn is_opentofu(&self) -> bool {
        self.kind == Kind::OpenTofu
    }

    /// Whether its version is at least `major.minor` (of its own line:
    /// OpenTofu 1.6 and Terraform 1.6 are different programs).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.version.0, self.version.1) >= (major, minor)
    }

    /// The executable's name, which is also its process name (`comm`).
    pub fn command(&self) -> &'static str {
        match self.kind {
            Kind::Terraform => "terraform",
            Kind::OpenTofu => "tofu",
        }
    }

    /// The registry host a source address without one (`eks-tools/eks`)
    /// gets: dev_overrides, mirrors and lock files are keyed by it.
    pub fn registry_host(&self) -> &'static str {
        match self.kind {
            Kind::Terraform => "registry.terraform.io",
            Kind::OpenTofu => "registry.opentofu.org",
        }
    }

    /// Our provider's full source address on this engine.
    pub fn provider_address(&self) -> String {
        format!("{}/eks-tools/eks", self.registry_host())
    }

    /// `import` blocks and `plan -generate-config-out` (Terraform 1.5,
    /// every OpenTofu release).
    pub fn has_import_blocks(&self) -> bool {
        self.is_opentofu() || self.at_least(1, 5)
    }

    /// Provider-defined functions, `provider::NAME::FUNCTION(…)` (protocol
    /// 6.5; Terraform 1.8, OpenTofu 1.7).
    pub fn has_provider_functions(&self) -> bool {
        if self.is_opentofu() {
            self.at_least(1, 7)
        } else {
            self.at_least(1, 8)
        }
    }

    /// `import { identity = { … } }`: importing by the resource identity
    /// (protocol 6.9; Terraform 1.12, OpenTofu 1.12).
    pub fn has_import_by_identity(&self) -> bool {
        self.at_least(1, 12)
    }

    /// `list` blocks and `terraform query` (protocol 6.10; Terraform 1.14;
    /// OpenTofu 1.12 has no `query` command).
    pub fn has_list_resources(&self) -> bool {
        !self.is_opentofu() && self.at_least(1, 14)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.version;
        let name = match self.kind {
            Kind::Terraform => "Terraform",
            Kind::OpenTofu => "OpenTofu",
        };
        write!(f, "{name} {a}.{b}.{c}")
    }
}

/// The engine of this test run (asked once, on first use).
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let binary = std::env::var_os("TF_ACC_TERRAFORM")
            .map_or_else(|| PathBuf::from("terraform"), PathBuf::from);
        let out = Command::new(&binary)
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap_or_else(|e| panic!("running {} version: {e}", binary.display()));
        let text = String::from_utf8_lossy(&out.stdout);
        let (kind, version) = parse_version(&text).unwrap_or_else(|| {
            panic!(
                "{} version: not Terraform or OpenTofu:\n{text}{}",
                binary.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let engine = Engine {
            kind,
            version,
            binary,
        };
        eprintln!("[tf-acc] engine: {engine} ({})", engine.binary.display());
        engine
    })
}

/// The engine and version from `version`'s output: its first line that
/// reads `Terraform v1.11.4` or `OpenTofu v1.12.6` (a `-dev`/`-beta1` suffix
/// is ignored). Not simply the first line: OpenTofu prints CLI configuration
/// warnings (a `TF_CLI_CONFIG_FILE` that does not exist) on stdout before it.
pub fn parse_version(output: &str) -> Option<(Kind, (u32, u32, u32))> {
    let (kind, rest) = output.lines().find_map(|line| {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Terraform v") {
            Some((Kind::Terraform, rest))
        } else {
            line.strip_prefix("OpenTofu v")
                .map(|rest| (Kind::OpenTofu, rest))
        }
    })?;
    let numbers = rest.split(['-', '+']).next()?;
    let mut parts = numbers.split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Ok(a)), Some(Ok(b)), Some(Ok(c)), None) => Some((kind, (a, b, c))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_version_tells_the_engines_apart() {
        assert_eq!(
            parse_version("Terraform v1.11.4\non linux_amd64\n"),
            Some((Kind::Terraform, (1, 11, 4)))
        );
        assert_eq!(
            parse_version("OpenTofu v1.12.6\non linux_amd64\n"),
            Some((Kind::OpenTofu, (1, 12, 6)))
        );
        assert_eq!(
            parse_version("OpenTofu v1.12.6-dev\n"),
            Some((Kind::OpenTofu, (1, 12, 6)))
        );
        assert_eq!(
            parse_version("Terraform v1.0.3"),
            Some((Kind::Terraform, (1, 0, 3)))
        );
        assert_eq!(
            parse_version("\nWarning: Unable to open CLI configuration file\n\nOpenTofu v1.12.6\n"),
            Some((Kind::OpenTofu, (1, 12, 6)))
        );
        assert_eq!(parse_version("Pulumi v3.0.0"), None);
        assert_eq!(parse_version("Terraform v1.x"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn features_follow_each_engines_own_versions() {
        let e = |kind, version| Engine {
            kind,
            version,
            binary: PathBuf::new(),
        };
        let tf103 = e(Kind::Terraform, (1, 0, 3));
        let tf111 = e(Kind::Terraform, (1, 11, 4));
        let tofu = e(Kind::OpenTofu, (1, 12, 6));
        assert!(!tf103.has_import_blocks() && tf111.has_import_blocks());
        assert!(e(Kind::OpenTofu, (1, 6, 0)).has_import_blocks());
        assert!(!tf111.has_import_by_identity() && tofu.has_import_by_identity());
        assert!(!e(Kind::OpenTofu, (1, 11, 0)).has_import_by_identity());
        assert!(e(Kind::OpenTofu, (1, 7, 0)).has_provider_functions());
        assert!(!e(Kind::Terraform, (1, 7, 5)).has_provider_functions());
        assert!(tf111.has_provider_functions() && !tf103.has_provider_functions());
        assert_eq!(
            tofu.provider_address(),
            "registry.opentofu.org/eks-tools/eks"
        );
        assert_eq!(
            tf111.provider_address(),
            "registry.terraform.io/eks-tools/eks"
        );
        assert_eq!((tofu.command(), tf103.command()), ("tofu", "terraform"));
        assert_eq!(tofu.to_string(), "OpenTofu 1.12.6");
    }
}
