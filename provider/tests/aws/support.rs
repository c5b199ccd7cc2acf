//! The local AWS world of the AWS-layer tests: an `eks-emulator` served from
//! its `app()` on a free loopback port of the test's own runtime, and one
//! moto (IAM, STS) for the whole test binary, and the provider's
//! [`Clients`] pointed at them with fixed credentials.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::region::Region;
use eks_emulator::{Config, Emulator, app};
use schema::provider_config::{Endpoints, ProviderConfig};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use terraform_provider_eks::aws::Clients;
use tfplugin::Ctx;

/// The region every test uses.
pub const REGION: &str = "us-west-2";
/// The emulator's (and moto's) account.
pub const ACCOUNT: &str = "123456789012";

/// How a test finds moto, one rule for every test that needs it:
/// `MOTO_SERVER` names the moto_server binary (scripts/test.sh sets it).
/// Unset, such a test fails and says how to set it, unless
/// `EKS_SKIP_MOTO=1` says to skip them: then it prints "skipped: …" and
/// passes. A test that needs moto never passes silently without it.
pub const MOTO_RULE: &str = "set MOTO_SERVER to the moto_server binary (scripts/setup.sh installs it in .venv: MOTO_SERVER=$PWD/.venv/bin/moto_server cargo test ...), or EKS_SKIP_MOTO=1 to skip the tests that need it";

/// `$MOTO_SERVER`, or why there is none.
fn moto_binary() -> Result<PathBuf, String> {
    let Some(bin) = std::env::var_os("MOTO_SERVER").filter(|b| !b.is_empty()) else {
        return Err(format!("MOTO_SERVER is not set: {MOTO_RULE}"));
    };
    let bin = PathBuf::from(bin);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "MOTO_SERVER={} is not a file: {MOTO_RULE}",
            bin.display()
        ))
    }
}

/// This binary's moto, started on first use: its base URL, or why there
/// is none. A shell watches this process and kills moto when it exits.
fn started_moto() -> Result<&'static str, &'static str> {
    static MOTO: OnceLock<Result<String, String>> = OnceLock::new();
    MOTO.get_or_init(|| {
        let bin = moto_binary()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        // The watching shell lives exactly as long as this test process,
        // so it is never waited on; init reaps it.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args([
                "-c",
                r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & m=$!; while kill -0 $PPID 2>/dev/null; do sleep 1; done; kill $m"#,
            ])
            .arg(&bin)
            .arg(port.to_string())
            // AWS managed policies (ReadOnlyAccess…) exist only with this.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .spawn()
            .expect("moto starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() >= deadline {
                return Err(format!(
                    "moto ({}) did not listen within 60 s",
                    bin.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(format!("http://127.0.0.1:{port}"))
    })
    .as_ref()
    .map(String::as_str)
    .map_err(String::as_str)
}

/// The base URL of this binary's moto, for a test that needs it. Without
/// moto the test fails saying how to set it, or, with `EKS_SKIP_MOTO=1`,
/// prints "skipped: …" and gets `None` (see [`MOTO_RULE`]).
pub fn moto() -> Option<&'static str> {
    match started_moto() {
        Ok(url) => Some(url),
        Err(why) if std::env::var("EKS_SKIP_MOTO").is_ok_and(|v| v == "1") => {
            let thread = std::thread::current();
            let test = thread.name().unwrap_or("a test");
            // Straight to stderr: the test harness hides eprintln! of a
            // passing test, and a skip must be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {test} needs moto, and EKS_SKIP_MOTO=1 ({why})"
            );
            None
        }
        Err(why) => panic!("this test needs moto: {why}"),
    }
}

/// An emulator served on a free port of the current runtime.
pub struct World {
    /// The provider's clients, pointed at the emulator and moto.
    pub clients: Arc<Clients>,
    /// The emulator's base URL.
    pub url: String,
}

impl World {
    /// An emulator without IAM checks (every role exists and trusts pods).
    pub async fn new() -> World {
        World::start(None).await
    }

    /// An emulator that checks roles against moto; `None` only when the
    /// tests that need moto are skipped (see [`moto`]).
    pub async fn with_iam() -> Option<World> {
        Some(World::start(Some(moto()?)).await)
    }

    async fn start(iam: Option<&str>) -> World {
        let emulator = Emulator::new(Config {
            iam_endpoint: iam.map(str::to_string),
            kubernetes_api: false,
            ..Config::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let router = app(emulator);
        tokio::spawn(async move { axum::serve(listener, router).await });
        // IAM and STS of the clients: moto when it runs (these worlds do
        // not need it, so its absence is no failure here).
        let moto = iam.or_else(|| started_moto().ok()).map(str::to_string);
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            )))
            .http_client(terraform_provider_eks::aws::clients::http_client())
            .retry_config(RetryConfig::disabled())
            .load()
            .await;
        let cfg = ProviderConfig {
            region: Some(REGION.into()),
            endpoints: Some(Endpoints {
                eks: Some(url.clone()),
                iam: moto.clone(),
                sts: moto,
            }),
            ..Default::default()
        };
        let clients = Arc::new(Clients::from_sdk(&sdk, &cfg).expect("clients"));
        World { clients, url }
    }

    /// A context with these clients that is never stopped.
    pub fn ctx(&self) -> Ctx {
        Ctx::detached(Some(self.clients.clone()))
    }

    /// Creates a cluster (ACTIVE at once) and returns its name.
    pub async fn cluster(&self, name: &str) -> String {
        create_cluster(&self.clients, name).await
    }
}

/// Creates a cluster with `clients` (those of another region too) and
/// returns its name.
pub async fn create_cluster(clients: &Clients, name: &str) -> String {
    clients
        .eks
        .create_cluster()
        .name(name)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/cluster"))
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-1")
                .subnet_ids("subnet-2")
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster");
    name.to_string()
}

/// A unique name for IAM objects in the shared moto.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The trust policy pod identity needs.
pub fn pods_trust() -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]
    }]})
    .to_string()
}

/// A trust policy for another service.
pub fn ec2_trust() -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole"
    }]})
    .to_string()
}

impl World {
    /// Sets the emulator's faults through its admin API (as the acceptance
    /// tests do).
    pub async fn faults(&self, faults: serde_json::Value) {
        use http_body_util::{BodyExt, Full};
        use hyper::body::Bytes;
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<Bytes>>();
        let request = hyper::Request::post(format!("{}/_emulator/faults", self.url))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(faults.to_string())))
            .expect("a request");
        let response = client.request(request).await.expect("the emulator answers");
        let status = response.status();
        let body = response.into_body().collect().await.map(|b| b.to_bytes());
        assert!(status.is_success(), "faults refused: {status} {body:?}");
    }
}
