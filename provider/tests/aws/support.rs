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

/// `$MOTO_SERVER`, else moto_server of the repository's virtualenv, when present.
fn moto_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("MOTO_SERVER").filter(|b| !b.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    path.is_file().then_some(path)
}

/// The base URL of this binary's moto, started on first use. A shell
/// watches this process and kills moto when it exits. `None` (with a
/// message) when `.venv/bin/moto_server` is missing.
pub fn moto() -> Option<&'static str> {
    static MOTO: OnceLock<Option<String>> = OnceLock::new();
    MOTO.get_or_init(|| {
        let Some(bin) = moto_binary() else {
            eprintln!("SKIPPED: .venv/bin/moto_server is missing (run scripts/setup.sh); IAM tests do not run");
            return None;
        };
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
            assert!(Instant::now() < deadline, "moto did not listen within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(format!("http://127.0.0.1:{port}"))
    })
    .as_deref()
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

    /// An emulator that checks roles against moto; `None` when moto is missing.
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
        let moto = iam
            .map(str::to_string)
            .or_else(|| moto().map(str::to_string));
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
