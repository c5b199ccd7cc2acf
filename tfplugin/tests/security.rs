//! Security tests of the protocol layer, driven against the fixture provider
//! binary the way a hostile or broken peer would drive it:
//!
//! | threat | test |
//! |---|---|
//! | another local user reaches the plugin's socket | `socket_directory_is_private` |
//! | malformed or hostile msgpack from a fake Terraform | `malformed_msgpack_is_a_diagnostic_not_a_crash` |
//! | a client that connects under AutoMTLS and never handshakes | `stalled_tls_client_is_disconnected` |
//!
//! (A foreign AutoMTLS client certificate is refused:
//! `integration.rs::auto_mtls_requires_the_pinned_client_certificate`.)

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;

const FIXTURE: &str = env!("CARGO_BIN_EXE_terraform-provider-fixture");
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p =
            std::env::temp_dir().join(format!("tfplugin-sec-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The fixture plugin, terminated (SIGTERM, so it removes its socket) on drop.
struct Plugin {
    child: Child,
    addr: String,
    /// The handshake line's server certificate field (empty without AutoMTLS).
    cert: String,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Plugin {
    fn start(store: &Path, client_cert: Option<String>) -> Plugin {
        let mut cmd = Command::new(FIXTURE);
        cmd.env(tfplugin::serve::MAGIC_COOKIE_KEY, COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("FIXTURE_DIR", store)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        match client_cert {
            Some(pem) => cmd.env("PLUGIN_CLIENT_CERT", pem),
            None => cmd.env_remove("PLUGIN_CLIENT_CERT"),
        };
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let parts: Vec<&str> = line.trim_end().split('|').collect();
        assert_eq!(parts.len(), 6, "handshake line {line:?}");
        Plugin {
            addr: parts[3].to_string(),
            cert: parts[5].to_string(),
            child,
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

async fn channel(addr: &str) -> tonic::transport::Channel {
    let path = addr.to_string();
    tonic::transport::Endpoint::try_from("http://[::1]:1")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let p = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(p).await?,
                ))
            }
        }))
        .await
        .unwrap()
}

#[test]
fn socket_directory_is_private() {
    let store = TempDir::new("perm");
    let plugin = Plugin::start(&store.0, None);
    let sock = Path::new(&plugin.addr);
    let dir = sock.parent().unwrap();
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode,
        0o700,
        "socket directory {} has mode {mode:o}",
        dir.display()
    );
    // The directory is the plugin's own, not a shared one such as /tmp.
    assert_ne!(dir, std::env::temp_dir());
}

/// msgpack payloads a fake Terraform could send for `fixture_thing`'s config.
fn hostile_payloads() -> Vec<(&'static str, Vec<u8>)> {
    // 100,000 nested one-element arrays: a stack overflow if decoding recursed
    // without a depth bound.
    let mut deep = vec![0x91; 100_000];
    deep.push(0xc0);
    vec![
        ("truncated map", vec![0x82, 0xa4, b'n', b'a']),
        // map32 declaring 4 billion entries: must not allocate for them.
        ("huge map length", vec![0xdf, 0xff, 0xff, 0xff, 0xff]),
        // {"labels": array32 of 4 billion}: must not allocate for them.
        (
            "huge array length",
            [
                &[0x81, 0xa6][..],
                b"labels",
                &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
            ]
            .concat(),
        ),
        // {"name": str32 declaring 4 GiB}
        (
            "huge string length",
            [
                &[0x81, 0xa4][..],
                b"name",
                &[0xdb, 0xff, 0xff, 0xff, 0xff][..],
            ]
            .concat(),
        ),
        // {"name": invalid UTF-8}
        (
            "invalid utf-8",
            [&[0x81, 0xa4][..], b"name", &[0xa2, 0xff, 0xfe][..]].concat(),
        ),
        // {"size": "not a number"}
        (
            "wrong type",
            [&[0x81, 0xa4][..], b"size", &[0xa3][..], b"abc"].concat(),
        ),
        // {"nope": 1}: an attribute the schema does not have
        (
            "unknown attribute",
            [&[0x81, 0xa4][..], b"nope", &[0x01][..]].concat(),
        ),
        ("deep nesting", deep),
        ("trailing garbage", vec![0x80, 0xff, 0xff]),
    ]
}

#[tokio::test]
async fn malformed_msgpack_is_a_diagnostic_not_a_crash() {
    let store = TempDir::new("msgpack");
    let mut plugin = Plugin::start(&store.0, None);
    let mut c = ProviderClient::new(channel(&plugin.addr).await);
    for (what, bytes) in hostile_payloads() {
        let dv = Some(pb::DynamicValue {
            msgpack: bytes,
            json: vec![],
        });
        let v = c
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "fixture_thing".into(),
                config: dv.clone(),
                client_capabilities: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{what}: transport error {e}"))
            .into_inner();
        let errors: Vec<_> = v.diagnostics.iter().filter(|d| d.severity == 1).collect();
        assert!(!errors.is_empty(), "{what}: accepted without an error");
        for d in &errors {
            let text = format!("{} {}", d.summary, d.detail);
            assert!(
                !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
                "{what}: {text}"
            );
        }
        let p = c
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: "fixture_thing".into(),
                prior_state: None,
                proposed_new_state: dv.clone(),
                config: dv,
                prior_private: vec![],
                provider_meta: None,
                client_capabilities: None,
                prior_identity: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{what}: transport error {e}"))
            .into_inner();
        assert!(
            p.diagnostics.iter().any(|d| d.severity == 1),
            "{what}: planned without an error"
        );
        assert!(plugin.alive(), "{what}: the plugin died");
    }
    // Still serving.
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(s.resource_schemas.contains_key("fixture_thing"));
}

#[tokio::test]
async fn stalled_tls_client_is_disconnected() {
    use base64::Engine;
    use tokio::io::AsyncReadExt;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = tfplugin::tls::generate_server_cert().unwrap();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(&client.cert_der)
    );
    let store = TempDir::new("stall");
    let mut plugin = Plugin::start(&store.0, Some(pem));
    assert!(!plugin.cert.is_empty(), "AutoMTLS expected");
    // Connect and say nothing: the server must hang up on us.
    let mut stalled = tokio::net::UnixStream::connect(&plugin.addr).await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(30), stalled.read(&mut buf))
        .await
        .expect("the server kept a silent client's connection open for 30 s");
    let elapsed = start.elapsed();
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "expected the connection to be closed, read {n:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(5),
        "closed after {elapsed:?}: too soon for a handshake timeout"
    );
    assert!(plugin.alive());
}
