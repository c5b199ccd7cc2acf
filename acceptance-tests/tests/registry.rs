//! Installing the provider the way a registry user does (issue 26): `terraform
//! init` (or `tofu init`) from a provider registry over TLS, which is the
//! path where the engine checks the GPG signature of `SHA256SUMS`.
//!
//! Once per test binary: a throwaway RSA key in a temp `GNUPGHOME` (RSA:
//! the public registry refuses ECC keys), a test CA and a server
//! certificate for `localhost` (openssl), and `scripts/release.sh` run on a
//! stripped copy of the debug build (`RELEASE_BINARY`, so no release build)
//! with that key: zip, manifest, `SHA256SUMS`, `SHA256SUMS.sig` and the
//! armoured public key. Each test then serves its own copy of that release
//! (`registry/registry_server.py`: service discovery, versions, download
//! with `shasums_url`, `shasums_signature_url` and the signing key) on a
//! free loopback port, trusted through `SSL_CERT_FILE`, and the engine
//! installs `localhost:<port>/eks-tools/eks` from it. The negative tests
//! change the copy first: init must fail with the engine's own checksum or
//! signature error and install no provider binary.

use acceptance_tests::hcl::{data, output, provider, string};
use acceptance_tests::release::{NAME, init, platform, provider_binary, run_script, text, version};
use acceptance_tests::{Tf, World, acc, acc_no_world, engine, spawn_logged};
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the registry server may take to say it listens.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(15);

/// The release every test of this binary serves (a copy of it).
struct Published {
    /// Where it all is: `<target>/tmp/registry-<pid>` (removed by the next
    /// run once this process is gone; statics are never dropped).
    dir: PathBuf,
    /// The release dir `scripts/release.sh` wrote.
    dist: PathBuf,
    /// The signing key's long ID, as the registry names it.
    key_id: String,
    /// The test CA (for `SSL_CERT_FILE`), the server's certificate and key.
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Runs `program` with `args`; panics with its output unless it succeeds.
fn run_ok(program: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
    let mut command = Command::new(program);
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {}: {}\n{}",
        args.join(" "),
        out.status,
        text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new RSA signing key in `home`, protected by `passphrase` (none when
/// empty); returns its fingerprint.
fn gpg_key(home: &Path, uid: &str, passphrase: &str) -> String {
    std::fs::create_dir_all(home).unwrap_or_else(|e| panic!("creating {}: {e}", home.display()));
    set_private(home);
    let env = [("GNUPGHOME", home)];
    run_ok(
        "gpg",
        &[
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            uid,
            "rsa3072",
            "sign",
            "never",
        ],
        &env,
    );
    let colons = run_ok(
        "gpg",
        &["--batch", "--with-colons", "--fingerprint", uid],
        &env,
    );
    colons
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no fingerprint for {uid} in:\n{colons}"))
}

/// `gpg --detach-sign` of `file` into `sig` with the only key in `home`.
fn gpg_sign(home: &Path, file: &Path, sig: &Path) {
    let (file, sig) = (file.display().to_string(), sig.display().to_string());
    run_ok(
        "gpg",
        &["--batch", "--yes", "--detach-sign", "--output", &sig, &file],
        &[("GNUPGHOME", home)],
    );
}

/// Stops the agent gpg started for `home`, so no daemon outlives the test.
fn stop_gpg_agent(home: &Path) {
    // Best effort: a missing gpgconf or agent leaves nothing to stop.
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", home)
        .output();
}

fn set_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .unwrap_or_else(|e| panic!("chmod 700 {}: {e}", dir.display()));
}

/// A test CA and a certificate for `localhost` and 127.0.0.1 signed by it
/// (Go checks the subject alternative names, not the common name).
fn test_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name).display().to_string();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca_args = vec!["req", "-x509"];
    ca_args.extend(ec);
    let (ca_key, ca_pem) = (p("ca.key"), p("ca.pem"));
    ca_args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_pem,
        "-days",
        "2",
        "-subj",
        "/CN=eks-acc-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run_ok("openssl", &ca_args, &[]);
    let (key, csr, cert, ext) = (
        p("server.key"),
        p("server.csr"),
        p("server.pem"),
        p("ext.cnf"),
    );
    let mut csr_args = vec!["req"];
    csr_args.extend(ec);
    csr_args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    run_ok("openssl", &csr_args, &[]);
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap_or_else(|e| panic!("writing {ext}: {e}"));
    run_ok(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
        &[],
    );
    (
        PathBuf::from(ca_pem),
        PathBuf::from(cert),
        PathBuf::from(key),
    )
}

/// Removes `registry-<pid>` dirs of test binaries that are gone.
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("registry-")
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let parent = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_stale(&parent);
        let dir = parent.join(format!("registry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let home = dir.join("gnupg");
        let fingerprint = gpg_key(&home, "eks acceptance test <tf-acc@example.invalid>", "");
        let (ca, cert, key) = test_ca(&dir);
        // A stripped copy: a third of the debug build's size, so the zip is quick.
        let binary = dir.join(NAME);
        std::fs::copy(provider_binary(), &binary)
            .unwrap_or_else(|e| panic!("copying {}: {e}", provider_binary().display()));
        run_ok("strip", &[&binary.display().to_string()], &[]);
        let dist = dir.join("dist");
        let out = run_script(
            "release.sh",
            &[&version()],
            &[
                ("RELEASE_BINARY", binary.as_os_str()),
                ("RELEASE_PLATFORMS", OsStr::new(&platform())),
                // A debug build needs this machine's glibc (tests/glibc.rs).
                ("RELEASE_GLIBC_CHECK", OsStr::new("0")),
                ("RELEASE_DIST", dist.as_os_str()),
                ("RELEASE_GPG_KEY_ID", OsStr::new(&fingerprint)),
                ("RELEASE_REQUIRE_SIGNATURE", OsStr::new("1")),
                ("GNUPGHOME", home.as_os_str()),
            ],
        );
        stop_gpg_agent(&home);
        assert!(
            out.status.success(),
            "scripts/release.sh: {}\n{}",
            out.status,
            text(&out)
        );
        let _ = std::fs::remove_dir_all(dist.join("mirror"));
        let _ = std::fs::remove_file(&binary);
        Published {
            dir,
            dist,
            key_id: fingerprint[fingerprint.len().saturating_sub(16)..].to_string(),
            ca,
            cert,
            key,
        }
    })
}

/// The artefact of this release named `suffix` (`SHA256SUMS`, `linux_amd64.zip`).
fn artefact(dist: &Path, suffix: &str) -> PathBuf {
    dist.join(format!("{NAME}_{}_{suffix}", version()))
}

/// A registry serving a copy of the published release; killed when dropped
/// (and, should the test's thread end first, by `PR_SET_PDEATHSIG`).
struct Registry {
    child: Child,
    /// The copy it serves, which a test may change.
    dist: PathBuf,
    /// `localhost:<port>`, the host part of the provider's source address.
    host: String,
    _tmp: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// Copies the published release (`tamper` may then change the copy) and
    /// serves it.
    fn start(tamper: impl FnOnce(&Path)) -> Registry {
        let p = published();
        let tmp = tempfile::Builder::new()
            .prefix("tf-acc-registry-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        let dist = tmp.path().join("dist");
        std::fs::create_dir_all(&dist)
            .unwrap_or_else(|e| panic!("creating {}: {e}", dist.display()));
        for entry in std::fs::read_dir(&p.dist)
            .unwrap_or_else(|e| panic!("reading {}: {e}", p.dist.display()))
            .flatten()
        {
            if entry.path().is_file() {
                std::fs::copy(entry.path(), dist.join(entry.file_name()))
                    .unwrap_or_else(|e| panic!("copying {}: {e}", entry.path().display()));
            }
        }
        tamper(&dist);
        let log = tmp.path().join("registry.log");
        let mut command = Command::new("python3");
        command
            .arg(
                acceptance_tests::release::repo_root()
                    .join("acceptance-tests/registry/registry_server.py"),
            )
            .arg("--dist")
            .arg(&dist)
            .arg("--cert")
            .arg(&p.cert)
            .arg("--key")
            .arg(&p.key)
            .arg("--key-id")
            .arg(&p.key_id);
        let child = spawn_logged(command, &log).unwrap_or_else(|e| panic!("{e}"));
        let mut registry = Registry {
            child,
            dist,
            host: String::new(),
            _tmp: tmp,
        };
        registry.host = wait_for_host(&mut registry.child, &log);
        registry
    }

    /// The provider's source address on this registry.
    fn source(&self) -> String {
        format!("{}/eks-tools/eks", self.host)
    }
}

/// Waits for the server's "listening on https://localhost:PORT".
fn wait_for_host(child: &mut Child, log: &Path) -> String {
    let started = Instant::now();
    loop {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(log) {
            let _ = f.read_to_string(&mut text);
        }
        if let Some(host) = text
            .lines()
            .find_map(|l| l.strip_prefix("listening on https://"))
        {
            return host.trim().to_string();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the registry server exited ({status}):\n{text}");
        }
        assert!(
            started.elapsed() < SERVER_START_TIMEOUT,
            "the registry server did not start within {SERVER_START_TIMEOUT:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A working directory whose engine installs `eks` from `registry` (no
/// dev_overrides, no mirror: the CLI config is empty) and trusts the test CA.
fn tf_for(w: &'static World, registry: &Registry) -> Tf {
    let mut tf = Tf::new(w);
    std::fs::write(
        tf.path().join(".terraformrc"),
        "# no provider_installation: the registry\n",
    )
    .unwrap_or_else(|e| panic!("writing the CLI config: {e}"));
    tf.set_env("SSL_CERT_FILE", &published().ca.display().to_string());
    tf.write(&format!(
        "terraform {{\n  required_providers {{\n    eks = {{\n      source  = \"{}\"\n      version = \"{}\"\n    }}\n  }}\n}}\n\n{}",
        registry.source(),
        version(),
        [
            provider(&[]),
            data("eks_well_known_policy", "dns", &[("name", string("external-dns"))]),
            output("canonical", "data.eks_well_known_policy.dns.canonical_name"),
        ]
        .join("\n")
    ));
    tf
}

/// `init` must fail with `error` and install no provider binary.
fn assert_init_fails(tf: &Tf, registry: &Registry, error: &str) {
    let run = tf.run(&["init", "-input=false", "-no-color"]);
    assert_ne!(
        run.code,
        Some(0),
        "{} init succeeded:\n{}",
        engine().command(),
        run.output
    );
    assert!(
        acceptance_tests::contains_ignoring_wrap(&run.output, error),
        "{} init failed, but without {error:?}:\n{}",
        engine().command(),
        run.output
    );
    // (OpenTofu leaves an empty platform dir with a lock file behind.)
    let installed = tf
        .path()
        .join(".terraform/providers")
        .join(registry.source())
        .join(version())
        .join(platform())
        .join(format!("{NAME}_v{}", version()));
    assert!(
        !installed.exists(),
        "init left {} installed after: {error}",
        installed.display()
    );
}

#[test]
fn registry_install_signed() {
    let Some(w) = acc("registry_install_signed") else {
        return;
    };
    let registry = Registry::start(|_| {});
    let tf = tf_for(w, &registry);
    let init = init(&tf);
    // Terraform: "(self-signed, key ID …)"; OpenTofu: "(signed, key ID …)".
    let key_id = &published().key_id;
    let installed = format!("Installed {} v{}", registry.source(), version());
    assert!(
        init.lines().any(|l| l.contains(&installed)
            && l.contains("signed, key ID ")
            && l.contains(key_id.as_str())),
        "init did not report a signed install by {key_id}:\n{}",
        init
    );
    // The lock file holds the zip's checksum from the signed SHA256SUMS.
    let lock = std::fs::read_to_string(tf.path().join(".terraform.lock.hcl"))
        .unwrap_or_else(|e| panic!("no lock file after init: {e}"));
    let sums = std::fs::read_to_string(artefact(&registry.dist, "SHA256SUMS"))
        .unwrap_or_else(|e| panic!("reading SHA256SUMS: {e}"));
    let zip = format!("{NAME}_{}_{}.zip", version(), platform());
    let zip_sum = sums
        .lines()
        .find(|l| l.ends_with(&zip))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{zip} not in SHA256SUMS:\n{sums}"));
    assert!(
        lock.contains(&format!("provider \"{}\"", registry.source()))
            && lock.contains(&format!("\"zh:{zip_sum}\""))
            && lock.contains("\"h1:"),
        "{lock}"
    );
    // The installed provider runs: validate, then a plan that reads a data source.
    let validate = tf.run(&["validate", "-no-color"]);
    assert_eq!(validate.code, Some(0), "validate:\n{}", validate.output);
    let (_, plan) = tf.plan();
    assert!(plan.contains("canonical = \"external-dns\""), "{plan}");
}

#[test]
fn registry_rejects_tampered_zip() {
    let Some(w) = acc("registry_rejects_tampered_zip") else {
        return;
    };
    let registry =
        Registry::start(|dist| flip_byte(&artefact(dist, &format!("{}.zip", platform()))));
    assert_init_fails(&tf_for(w, &registry), &registry, "incorrect checksum");
}

/// The zip changed and `SHA256SUMS` recomputed to match, as someone without
/// the key would: only the signature can tell.
#[test]
fn registry_rejects_tampered_zip_with_new_checksums() {
    let Some(w) = acc("registry_rejects_tampered_zip_with_new_checksums") else {
        return;
    };
    let registry = Registry::start(|dist| {
        let zip = format!("{NAME}_{}_{}.zip", version(), platform());
        flip_byte(&dist.join(&zip));
        let sums = run_ok("sha256sum", &[&dist.join(&zip).display().to_string()], &[]);
        let sum = sums
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let path = artefact(dist, "SHA256SUMS");
        let old =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading SHA256SUMS: {e}"));
        let new: Vec<String> = old
            .lines()
            .map(|l| {
                if l.ends_with(&zip) {
                    format!("{sum}  {zip}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        assert_ne!(
            old.lines().collect::<Vec<_>>(),
            new,
            "the checksum line did not change"
        );
        std::fs::write(&path, new.join("\n") + "\n")
            .unwrap_or_else(|e| panic!("writing SHA256SUMS: {e}"));
    });
    assert_init_fails(&tf_for(w, &registry), &registry, "invalid signature");
}

#[test]
fn registry_rejects_signature_by_another_key() {
    let Some(w) = acc("registry_rejects_signature_by_another_key") else {
        return;
    };
    let other = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let home = other.path().join("gnupg");
    gpg_key(&home, "someone else <other@example.invalid>", "");
    let registry = Registry::start(|dist| {
        let sums = artefact(dist, "SHA256SUMS");
        gpg_sign(&home, &sums, &artefact(dist, "SHA256SUMS.sig"));
    });
    stop_gpg_agent(&home);
    assert_init_fails(
        &tf_for(w, &registry),
        &registry,
        "signature from unknown issuer",
    );
}

#[test]
fn registry_rejects_signature_over_other_content() {
    let Some(w) = acc("registry_rejects_signature_over_other_content") else {
        return;
    };
    let p = published();
    let home = p.dir.join("gnupg");
    let registry = Registry::start(|dist| {
        let other = dist.join("other.txt");
        std::fs::write(&other, "not the checksums\n").unwrap_or_else(|e| panic!("writing: {e}"));
        gpg_sign(&home, &other, &artefact(dist, "SHA256SUMS.sig"));
    });
    stop_gpg_agent(&home);
    assert_init_fails(&tf_for(w, &registry), &registry, "invalid signature");
}

/// Inverts one byte in the middle of `path`.
fn flip_byte(path: &Path) {
    let mut bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let middle = bytes.len() / 2;
    match bytes.get_mut(middle) {
        Some(b) => *b ^= 0xff,
        None => panic!("{} is empty", path.display()),
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `scripts/release.sh` of a tiny stand-in binary into `dist` (seconds, not
/// the provider's zip), with `env` added.
fn release_stand_in(dist: &Path, env: &[(&str, &OsStr)]) -> std::process::Output {
    let binary = dist.with_file_name("stand-in");
    std::fs::copy("/bin/true", &binary).unwrap_or_else(|e| panic!("copying /bin/true: {e}"));
    let mut all: Vec<(&str, &OsStr)> = vec![
        ("RELEASE_BINARY", binary.as_os_str()),
        ("RELEASE_PLATFORMS", OsStr::new("linux_amd64")),
        ("RELEASE_GLIBC_CHECK", OsStr::new("0")),
        ("RELEASE_DIST", dist.as_os_str()),
    ];
    all.extend_from_slice(env);
    run_script("release.sh", &[&version()], &all)
}

/// Without a key the release says loudly that it is unsigned, and with
/// RELEASE_REQUIRE_SIGNATURE=1 (the workflow's setting) it fails.
#[test]
fn release_without_key_is_unsigned_or_fails() {
    if !acc_no_world("release_without_key_is_unsigned_or_fails") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let dist = tmp.path().join("dist");
    let out = release_stand_in(&dist, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("is UNSIGNED"), "{}", text(&out));
    assert!(artefact(&dist, "SHA256SUMS").is_file());
    assert!(!artefact(&dist, "SHA256SUMS.sig").exists());
    let out = release_stand_in(&dist, &[("RELEASE_REQUIRE_SIGNATURE", OsStr::new("1"))]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no signing key"), "{}", text(&out));
}

/// A key with a passphrase, given as the workflow gives it (goreleaser's
/// names GPG_FINGERPRINT and PASSPHRASE): the signature verifies, and the
/// exported public key is that key.
#[test]
fn release_signs_with_passphrase_key() {
    if !acc_no_world("release_signs_with_passphrase_key") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let home = tmp.path().join("gnupg");
    let fingerprint = gpg_key(
        &home,
        "with passphrase <pass@example.invalid>",
        "s3cret pass",
    );
    let dist = tmp.path().join("dist");
    let out = release_stand_in(
        &dist,
        &[
            ("GNUPGHOME", home.as_os_str()),
            ("GPG_FINGERPRINT", OsStr::new(&fingerprint)),
            ("PASSPHRASE", OsStr::new("s3cret pass")),
        ],
    );
    let verify = Command::new("gpg")
        .args(["--batch", "--status-fd", "1", "--verify"])
        .arg(artefact(&dist, "SHA256SUMS.sig"))
        .arg(artefact(&dist, "SHA256SUMS"))
        .env("GNUPGHOME", &home)
        .output();
    let shown = Command::new("gpg")
        .args(["--batch", "--with-colons", "--show-keys"])
        .arg(artefact(&dist, "signing-key.asc"))
        .env("GNUPGHOME", &home)
        .output();
    stop_gpg_agent(&home);
    assert!(out.status.success(), "{}", text(&out));
    let verify = verify.unwrap_or_else(|e| panic!("running gpg --verify: {e}"));
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains(&format!("VALIDSIG {fingerprint}")),
        "{}",
        text(&verify)
    );
    let shown = shown.unwrap_or_else(|e| panic!("running gpg --show-keys: {e}"));
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains(&format!("fpr:::::::::{fingerprint}:")),
        "{}",
        text(&shown)
    );
}
