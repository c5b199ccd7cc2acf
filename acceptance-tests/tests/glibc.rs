//! The glibc floor of the Linux release (issue 26): `scripts/check-glibc.sh`
//! must refuse a binary that needs a newer glibc than 2.17 and accept one
//! linked against 2.17, or the release check proves nothing.
//!
//! - the debug build of the provider, linked against this machine's glibc
//!   (2.34 or newer), must fail the check and name the symbols;
//! - a small C program linked by Zig against glibc 2.17 (the toolchain
//!   `scripts/release.sh` builds the release with, from scripts/zigbuild.sh)
//!   must pass it, and run.
//!
//! The provider itself built with cargo-zigbuild is a release build (many
//! minutes on two cores): `TF_ACC_RELEASE=1 cargo test -p acceptance-tests
//! --test release` builds it through scripts/release.sh (which runs the
//! check) and installs and runs it with terraform.
//! Run with `TF_ACC=1` like the other acceptance tests (no world needed;
//! skipped in AWS mode).

use acceptance_tests::acc_no_world;
use acceptance_tests::release::{provider_binary, run_script, text};
use std::process::Command;

#[test]
fn check_glibc_refuses_host_build() {
    if !acc_no_world("check_glibc_refuses_host_build") {
        return;
    }
    let binary = provider_binary();
    let out = run_script(
        "check-glibc.sh",
        &[&binary.display().to_string(), "2.17"],
        &[],
    );
    let report = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{report}\n(this test wants the host build: TF_ACC_PROVIDER_DIR must not name a zigbuild or musl binary)"
    );
    // Debian 12's glibc is 2.36; any host build needs at least 2.34's
    // __libc_start_main.
    assert!(report.contains("too new: GLIBC_2.3"), "{report}");
    assert!(report.contains("does not start on glibc 2.17"), "{report}");
    // The same binary passes against a floor at or above the host's glibc.
    let out = run_script(
        "check-glibc.sh",
        &[&binary.display().to_string(), "9.0"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn check_glibc_refuses_what_is_not_elf() {
    if !acc_no_world("check_glibc_refuses_what_is_not_elf") {
        return;
    }
    let out = run_script("check-glibc.sh", &["Cargo.toml", "2.17"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn check_glibc_accepts_zig_2_17() {
    if !acc_no_world("check_glibc_accepts_zig_2_17") {
        return;
    }
    let zigbuild = run_script("zigbuild.sh", &[], &[]);
    assert!(
        zigbuild.status.success(),
        "scripts/zigbuild.sh: {}",
        text(&zigbuild)
    );
    // .tools/zigbuild-<v>/cargo-zigbuild → .tools/zigbuild-<v>/venv/bin/python
    let stdout = String::from_utf8_lossy(&zigbuild.stdout);
    let wrapper = std::path::PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    let python = wrapper
        .parent()
        .map(|d| d.join("venv/bin/python"))
        .unwrap_or_else(|| panic!("no venv beside {}", wrapper.display()));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let source = tmp.path().join("hello.c");
    std::fs::write(
        &source,
        "#include <stdio.h>\n#include <string.h>\nint main(void) { char b[8]; memcpy(b, \"glibc\", 6); printf(\"%s 2.17\\n\", b); return 0; }\n",
    )
    .unwrap_or_else(|e| panic!("writing hello.c: {e}"));
    let binary = tmp.path().join("hello");
    let target = format!("{}-linux-gnu.2.17", std::env::consts::ARCH);
    let cc = Command::new(&python)
        .args(["-m", "ziglang", "cc", "-target", &target, "-o"])
        .arg(&binary)
        .arg(&source)
        // Zig's cache of glibc stubs is kept between runs; HOME may be unset in CI.
        .env("ZIG_GLOBAL_CACHE_DIR", wrapper.with_file_name("zig-cache"))
        .output()
        .unwrap_or_else(|e| panic!("running zig cc: {e}"));
    assert!(
        cc.status.success(),
        "zig cc -target {target}: {}",
        text(&cc)
    );
    let out = run_script(
        "check-glibc.sh",
        &[&binary.display().to_string(), "2.17"],
        &[],
    );
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(report.contains("needs GLIBC_2.2.5"), "{report}");
    assert!(!report.contains("too new"), "{report}");
    // Versions compare as versions, not strings: 2.2.5 is newer than 2.2.
    let out = run_script(
        "check-glibc.sh",
        &[&binary.display().to_string(), "2.2"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let run = Command::new(&binary)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
    assert_eq!(String::from_utf8_lossy(&run.stdout), "glibc 2.17\n");
}
