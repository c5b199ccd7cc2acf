//! Test helpers: an emulator behind `app()` called without a network, a
//! response-shape checker against the EKS model's output shapes, and a moto
//! server started per test for the IAM checks.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use eks_emulator::{Config, Emulator, app};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tower::ServiceExt;

/// One response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub error_type: Option<String>,
    pub body: Value,
}

impl Reply {
    /// Asserts an error code and message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.error_type.as_deref(), Some(code), "{self:?}");
        assert_eq!(self.body["message"], message, "{self:?}");
    }

    /// Asserts success.
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.body
    }
}

/// An emulator and its router.
pub struct Eks {
    pub app: Router,
    pub region: String,
}

impl Eks {
    /// An emulator without IAM checks, with fast addon transitions.
    pub async fn new() -> Eks {
        Eks::with_config(Config::default()).await
    }

    /// An emulator with a configuration.
    pub async fn with_config(config: Config) -> Eks {
        let emulator = Emulator::new(config);
        let eks = Eks {
            app: app(emulator),
            region: "us-west-2".to_owned(),
        };
        eks.admin(
            "POST",
            "/_emulator/faults",
            json!({"addon_transition_ms": 50}),
        )
        .await;
        eks
    }

    /// Calls an EKS operation signed for `self.region`.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{}/eks/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
            self.region
        );
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(match body {
                Some(b) => Body::from(b.to_string()),
                None => Body::empty(),
            })
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let error_type = response
            .headers()
            .get("x-amzn-ErrorType")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!("non-JSON body {e}: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply {
            status,
            error_type,
            body,
        }
    }

    /// Calls an admin route and returns its JSON.
    pub async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let r = self.call(method, path, Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body
    }

    /// Calls an operation, checks success and the output shape.
    pub async fn op(
        &self,
        operation: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let v = self.call(method, path, body).await.ok();
        check_output(operation, &v);
        v
    }

    /// Creates a cluster.
    pub async fn cluster(&self, name: &str) -> Value {
        self.op(
            "CreateCluster",
            "POST",
            "/clusters",
            Some(json!({
                "name": name,
                "roleArn": "arn:aws:iam::123456789012:role/cluster",
                "resourcesVpcConfig": {"subnetIds": ["subnet-1", "subnet-2"]},
            })),
        )
        .await["cluster"]
            .clone()
    }

    /// Creates an association.
    pub async fn association(&self, cluster: &str, ns: &str, sa: &str, extra: Value) -> Value {
        let mut body = json!({
            "namespace": ns,
            "serviceAccount": sa,
            "roleArn": "arn:aws:iam::123456789012:role/app",
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        self.op(
            "CreatePodIdentityAssociation",
            "POST",
            &format!("/clusters/{cluster}/pod-identity-associations"),
            Some(body),
        )
        .await["association"]
            .clone()
    }
}

fn model() -> &'static Value {
    static MODEL: OnceLock<Value> = OnceLock::new();
    MODEL.get_or_init(|| serde_json::from_str(include_str!("model_shapes.json")).unwrap())
}

/// Checks a response body against the output shape of `operation`: every
/// member is declared in the model, with the right JSON type.
#[track_caller]
pub fn check_output(operation: &str, body: &Value) {
    let shape = model()["operations"][operation]
        .as_str()
        .unwrap_or_else(|| panic!("unknown operation {operation}"));
    check_shape(shape, body, operation);
}

#[track_caller]
pub fn check_shape(shape: &str, value: &Value, path: &str) {
    let spec = &model()["shapes"][shape];
    match spec["type"].as_str().unwrap() {
        "structure" => {
            let obj = value
                .as_object()
                .unwrap_or_else(|| panic!("{path}: expected object for {shape}, got {value}"));
            for (k, v) in obj {
                let member = spec["members"][k]
                    .as_str()
                    .unwrap_or_else(|| panic!("{path}: {shape} has no member {k}"));
                check_shape(member, v, &format!("{path}.{k}"));
            }
        }
        "list" => {
            let items = value
                .as_array()
                .unwrap_or_else(|| panic!("{path}: expected list for {shape}, got {value}"));
            for (i, v) in items.iter().enumerate() {
                check_shape(spec["member"].as_str().unwrap(), v, &format!("{path}[{i}]"));
            }
        }
        "map" => {
            let obj = value
                .as_object()
                .unwrap_or_else(|| panic!("{path}: expected map for {shape}, got {value}"));
            for (k, v) in obj {
                check_shape(spec["value"].as_str().unwrap(), v, &format!("{path}.{k}"));
            }
        }
        "string" => {
            let s = value
                .as_str()
                .unwrap_or_else(|| panic!("{path}: expected string, got {value}"));
            if let Some(allowed) = spec["enum"].as_array() {
                assert!(
                    allowed.iter().any(|a| a == s),
                    "{path}: {s} is not in the enum of {shape}"
                );
            }
        }
        "boolean" => assert!(value.is_boolean(), "{path}: expected boolean, got {value}"),
        "integer" | "long" => assert!(value.is_i64(), "{path}: expected integer, got {value}"),
        "timestamp" => assert!(
            value.is_number(),
            "{path}: expected epoch seconds, got {value}"
        ),
        other => panic!("{path}: unhandled type {other}"),
    }
}

/// Waits until `f` returns true, at most `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if f().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A moto server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

impl Moto {
    /// Starts moto (`$MOTO_SERVER`, else `moto_server` on PATH, else
    /// `python3 -m moto.server`) and waits until it answers.
    pub async fn start() -> Moto {
        let port = free_port();
        let mut cmd = match std::env::var("MOTO_SERVER") {
            Ok(c) if !c.is_empty() => Command::new(c),
            _ if on_path("moto_server") => Command::new("moto_server"),
            _ => {
                let mut c = Command::new("python3");
                c.args(["-m", "moto.server"]);
                c
            }
        };
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start moto (set MOTO_SERVER or install moto[server]): {e}")
        });
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port} within 60s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto
    }

    /// Calls IAM's query API; returns (status, body).
    pub async fn iam(&self, params: &[(&str, &str)]) -> (u16, String) {
        let form: String = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    k,
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request = hyper::Request::post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(Full::new(Bytes::from(form)))
            .unwrap();
        let response = client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Replaces a role's trust policy.
    pub async fn update_trust(&self, name: &str, trust: &Value) {
        let trust = trust.to_string();
        let (status, body) = self
            .iam(&[
                ("Action", "UpdateAssumeRolePolicy"),
                ("Version", "2010-05-08"),
                ("RoleName", name),
                ("PolicyDocument", &trust),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Creates a role with a trust policy; returns its ARN.
    pub async fn create_role(&self, name: &str, path: &str, trust: &Value) -> String {
        let trust = trust.to_string();
        let (status, body) = self
            .iam(&[
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", name),
                ("Path", path),
                ("AssumeRolePolicyDocument", &trust),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        eks_emulator::iam::xml_text(&body, "Arn").unwrap()
    }
}

/// The trust policy pod identity needs.
pub fn pods_trust() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]
    }]})
}

/// A pod identity trust without the `sts:TagSession` the User Guide asks
/// for (FACTS.md F12).
pub fn pods_trust_without_tag_session() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": "sts:AssumeRole"
    }]})
}

/// A trust policy for another service.
pub fn ec2_trust() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole"
    }]})
}
