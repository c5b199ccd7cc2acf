//! Installing the provider from a filesystem mirror, as a user of a release
//! does (issue 8): `terraform init` (or `tofu init`) with a CLI config whose
//! `provider_installation` has a `filesystem_mirror` (no dev_overrides),
//! then apply, an empty plan and destroy against the local world.
//!
//! The mirror is keyed by registry host: `eks-tools/eks` is
//! `registry.terraform.io/eks-tools/eks` to Terraform and
//! `registry.opentofu.org/eks-tools/eks` to OpenTofu, so the mirror holds
//! both (as `scripts/release.sh` lays it out) and the lock file names the
//! engine's own host.
//!
//! With `TF_ACC_RELEASE=1` the mirror is the one `scripts/release.sh` builds
//! in `dist/` (release binaries, slow), and the zips and `SHA256SUMS` are
//! checked too; otherwise the test lays out a mirror of the debug binary in a
//! temp dir, so the normal suite stays fast.

use acceptance_tests::hcl::{data, provider, resource, string};
use acceptance_tests::release::{NAME, init, platform, provider_binary, repo_root, version};
use acceptance_tests::{Tf, acc, engine, random_name};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `scripts/release.sh VERSION` into `dist/`, for this machine's platform
/// only (each platform is a release build: minutes); RELEASE_PLATFORMS in
/// the environment overrides that. Linux builds are linked against glibc
/// 2.17 with cargo-zigbuild and checked (scripts/check-glibc.sh), so the
/// install below proves that binary completes the plugin handshake.
fn build_release(version: &str) {
    let status = Command::new(repo_root().join("scripts/release.sh"))
        .arg(version)
        .env(
            "RELEASE_PLATFORMS",
            std::env::var("RELEASE_PLATFORMS").unwrap_or_else(|_| platform()),
        )
        .current_dir(repo_root())
        .status()
        .unwrap_or_else(|e| panic!("running scripts/release.sh: {e}"));
    assert!(status.success(), "scripts/release.sh {version}: {status}");
}

/// `scripts/release.sh`'s mirror, or one made of the debug binary in `tmp`.
fn mirror(tmp: &Path, version: &str) -> PathBuf {
    if std::env::var("TF_ACC_RELEASE").is_ok_and(|v| v == "1") {
        build_release(version);
        return repo_root().join("dist/mirror");
    }
    let built = provider_binary();
    for host in ["registry.terraform.io", "registry.opentofu.org"] {
        let dir = tmp
            .join("mirror")
            .join(host)
            .join("eks-tools/eks")
            .join(version)
            .join(platform());
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        std::fs::copy(&built, dir.join(format!("{NAME}_v{version}")))
            .unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
    }
    tmp.join("mirror")
}

/// Points the working directory's CLI config at `mirror` (replacing the
/// harness's dev_overrides), for the engine's own address of the provider:
/// the config docs/index.md gives users.
fn use_mirror(tf: &Tf, mirror: &Path) {
    let address = engine().provider_address();
    let cli = format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{address}\"]\n  }}\n  direct {{\n    exclude = [\"{address}\"]\n  }}\n}}\n",
        mirror.display()
    );
    std::fs::write(tf.path().join(".terraformrc"), cli)
        .unwrap_or_else(|e| panic!("writing the CLI config: {e}"));
}

/// A small config pinned to exactly `version` (the harness's terraform block
/// has no version constraint, so this one is written out).
fn release_config(version: &str, cluster: &str, role_arn: &str) -> String {
    let blocks = [
        provider(&[]),
        resource(
            "eks_pod_identity_association",
            "test",
            &[
                ("cluster_name", string(cluster)),
                ("namespace", string("default")),
                ("service_account", string(&random_name())),
                ("role_arn", string(role_arn)),
            ],
        ),
        data(
            "eks_well_known_policy",
            "dns",
            &[("name", string("external-dns"))],
        ),
    ];
    format!(
        "terraform {{\n  required_providers {{\n    eks = {{\n      source  = \"eks-tools/eks\"\n      version = \"{version}\"\n    }}\n  }}\n}}\n\n{}",
        blocks.join("\n")
    )
}

#[test]
fn release_install_from_filesystem_mirror() {
    let Some(w) = acc("release_install_from_filesystem_mirror") else {
        return;
    };
    let version = version();
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let mut tf = Tf::new(w);
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let mirror = mirror(tmp.path(), &version);
    use_mirror(&tf, &mirror);
    tf.write(&release_config(&version, &cluster, &role.arn));
    let init = init(&tf);
    assert!(
        init.contains(&format!("eks-tools/eks v{version}")),
        "init did not install eks-tools/eks v{version}:\n{}",
        init
    );
    assert!(
        !init.contains("development overrides"),
        "dev_overrides still in effect:\n{}",
        init
    );
    let lock = std::fs::read_to_string(tf.path().join(".terraform.lock.hcl"))
        .unwrap_or_else(|e| panic!("no lock file after init: {e}"));
    // The lock file names the engine's own registry host.
    assert!(
        lock.contains(&format!("provider \"{}\"", engine().provider_address()))
            && lock.contains("h1:"),
        "{lock}"
    );

    tf.apply();
    tf.assert_plan_empty();
    assert_eq!(
        tf.resource("eks_pod_identity_association.test")["role_arn"],
        json!(role.arn)
    );
    tf.destroy();
    assert!(w.list_associations(&cluster).is_empty());
}

/// With `TF_ACC_RELEASE=1`: the artefacts next to the mirror are complete
/// and their checksums hold.
#[test]
fn release_artefacts_are_complete() {
    if !std::env::var("TF_ACC_RELEASE").is_ok_and(|v| v == "1") {
        eprintln!("release_artefacts_are_complete: skipped (set TF_ACC_RELEASE=1)");
        return;
    }
    let version = version();
    let dist = repo_root().join("dist");
    if !dist.join(format!("{NAME}_{version}_SHA256SUMS")).is_file() {
        build_release(&version);
    }
    let sums = std::fs::read_to_string(dist.join(format!("{NAME}_{version}_SHA256SUMS")))
        .unwrap_or_else(|e| panic!("reading SHA256SUMS: {e}"));
    let zip = format!("{NAME}_{version}_{}.zip", platform());
    assert!(sums.contains(&zip), "{zip} not in SHA256SUMS:\n{sums}");
    assert!(sums.contains(&format!("{NAME}_{version}_manifest.json")));
    let check = Command::new("sha256sum")
        .args(["-c", &format!("{NAME}_{version}_SHA256SUMS")])
        .current_dir(&dist)
        .output()
        .unwrap_or_else(|e| panic!("running sha256sum: {e}"));
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dist.join(format!("{NAME}_{version}_manifest.json")))
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    assert_eq!(
        manifest,
        json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );
    // The zip holds exactly the binary, named as the registry expects.
    let listing = Command::new("python3")
        .args(["-m", "zipfile", "-l"])
        .arg(dist.join(&zip))
        .output()
        .unwrap_or_else(|e| panic!("listing {zip}: {e}"));
    let listing = String::from_utf8_lossy(&listing.stdout);
    let names: Vec<&str> = listing
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, vec![format!("{NAME}_v{version}")], "{listing}");
}
