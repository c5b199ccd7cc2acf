//! Security and hardening table of issue 14, through the real terraform:
//!
//! - plain-HTTP Kubernetes host refused at validate;
//! - a kubeconfig whose user runs a foreign exec plugin, or EKS tokens for
//!   another cluster, or whose server is plain HTTP, is refused and nothing
//!   at all reaches its server (a local listener counts connections);
//! - an endpoint that refuses connections fails the plan at once, and one
//!   that accepts and never answers (a black hole) within the documented
//!   timeouts, each naming the endpoint in words, not in Rust;
//! - no credentials, and `max_retries = 2.5`, are errors that say what to do;
//! - a `profile` named in the provider block wins over keys in the
//!   environment (a local listener reads which access key signed the call),
//!   and a profile that does not exist is a plan-time error;
//! - a provider configuration known only at apply makes no AWS call at plan
//!   with the environment's defaults;
//! - no secret (access key, secret key, session token, external_id, EKS
//!   token) in `TF_LOG=TRACE` output or in the state.
//!
//! The TLS-level tables (socket directory permissions, a foreign AutoMTLS
//! client certificate, hostile msgpack) are in `tfplugin/tests/security.rs`;
//! client certificates from a kubeconfig are unit-tested in
//! `provider/src/kube/` (the emulator's API does not ask for one).

use acceptance_tests::hcl::{
    association, block, config, data, provider, provider_with_blocks, string,
};
use acceptance_tests::{Tf, World, acc, random_name};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An EKS "not found" answer, enough for the provider to finish a read.
const NOT_FOUND: &str = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nX-Amzn-ErrorType: ResourceNotFoundException\r\nContent-Length: 30\r\nConnection: close\r\n\r\n{\"message\":\"No cluster found\"}";

/// A loopback listener that records what each connection sends first and
/// answers with `answer`, or never answers (`None`: a black hole).
struct Listener {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    fn start(answer: Option<&'static str>) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"))
            .port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = record.clone();
                thread::spawn(move || serve(stream, answer, &record));
            }
        });
        Listener {
            url: format!("http://127.0.0.1:{port}"),
            seen,
        }
    }

    /// Host and port, for an https:// URL to the same listener.
    fn host_port(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn serve(mut stream: TcpStream, answer: Option<&str>, record: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    if let Ok(mut r) = record.lock() {
        r.push(String::from_utf8_lossy(&head).to_string());
    }
    match answer {
        Some(a) => {
            let _ = stream.write_all(a.as_bytes());
        }
        // Keep the connection open and silent.
        None => thread::sleep(Duration::from_secs(3600)),
    }
}

/// A port where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("bind: {e}"))
}

/// A data source read at plan, on `cluster`.
fn associations_data(cluster: &str) -> String {
    data(
        "eks_pod_identity_associations",
        "all",
        &[("cluster_name", string(cluster))],
    )
}

fn eks_endpoint(url: &str) -> String {
    block("endpoints", &[("eks", string(url))])
}

/// Texts the SDK's and Rust's Debug output would show.
fn assert_no_rust(output: &str) {
    for debug in [
        "DispatchFailure(",
        "ConnectorError",
        "hyper_util",
        "ProviderChainError",
        "CredentialsNotLoaded(",
        "This is a bug in the provider",
    ] {
        assert!(!output.contains(debug), "{debug} in:\n{output}");
    }
}

#[test]
fn security_plain_http_host_is_refused_at_validate() {
    let Some(w) = acc("security_plain_http_host_is_refused_at_validate") else {
        return;
    };
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_with_blocks(
            &[],
            &[block(
                "kubernetes",
                &[("host", string("http://127.0.0.1:1"))],
            )],
        ),
        association(
            "test",
            "c",
            "default",
            "sa",
            "arn:aws:iam::123456789012:role/r",
            &[],
        ),
    ]));
    tf.validate_expect_error("plain HTTP");
}

fn kubeconfig(server: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: {server}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n{user}"
    )
}

fn with_kubeconfig(tf: &mut Tf, cluster: &str, role: &str, text: &str) {
    let path = tf.path().join("kubeconfig");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing kubeconfig: {e}"));
    tf.write(&config(&[
        provider_with_blocks(
            &[],
            &[block(
                "kubernetes",
                &[("config_path", string(&path.display().to_string()))],
            )],
        ),
        association(
            "test",
            cluster,
            "default",
            &random_name(),
            role,
            &[("create_service_account", "true".into())],
        ),
    ]));
}

#[test]
fn security_token_never_sent_to_a_foreign_kubeconfig_user() {
    let Some(w) = acc("security_token_never_sent_to_a_foreign_kubeconfig_user") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let server = Listener::start(None);
    let https = format!("https://{}", server.host_port());
    let mut tf = Tf::new(w);
    // A foreign exec plugin: the provider must not answer it with its EKS token.
    let foreign = "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n";
    with_kubeconfig(&mut tf, &cluster, &role.arn, &kubeconfig(&https, foreign));
    tf.apply_expect_error("gke-gcloud-auth-plugin");
    // An EKS token exec for another cluster.
    let other = "    exec:\n      command: aws\n      args: [eks, get-token, --cluster-name, someone-elses]\n";
    with_kubeconfig(&mut tf, &cluster, &role.arn, &kubeconfig(&https, other));
    tf.apply_expect_error("makes EKS tokens for cluster \"someone-elses\"");
    // The right exec, but a plain-HTTP server.
    let own = format!(
        "    exec:\n      command: aws\n      args: [eks, get-token, --cluster-name, {cluster}]\n"
    );
    with_kubeconfig(&mut tf, &cluster, &role.arn, &kubeconfig(&server.url, &own));
    let out = tf.apply_expect_error("only over https");
    assert_no_rust(&out);
    assert!(
        server.seen().is_empty(),
        "something reached the kubeconfig's server: {:?}",
        server.seen()
    );
    tf.destroy();
}

#[test]
fn security_connection_refused_fails_fast_naming_the_endpoint() {
    let Some(w) = acc("security_connection_refused_fails_fast_naming_the_endpoint") else {
        return;
    };
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_with_blocks(&[], &[eks_endpoint(&endpoint)]),
        associations_data("any"),
    ]));
    let started = Instant::now();
    let out = tf.plan_expect_error(&format!("no answer from {endpoint}: connection refused"));
    let took = started.elapsed();
    assert_no_rust(&out);
    // Default max_retries (25) used to keep this plan silent for minutes.
    assert!(took < Duration::from_secs(30), "plan took {took:?}:\n{out}");
}

#[test]
fn security_black_hole_endpoint_fails_within_the_timeouts() {
    let Some(w) = acc("security_black_hole_endpoint_fails_within_the_timeouts") else {
        return;
    };
    let hole = Listener::start(None);
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider_with_blocks(&[], &[eks_endpoint(&hole.url)]),
        associations_data("any"),
    ]));
    let started = Instant::now();
    let out = tf.plan_expect_error(&format!("no answer from {}", hole.url));
    let took = started.elapsed();
    assert_no_rust(&out);
    // The read timeout is 30 s and the attempt timeout 60 s; not retried.
    assert!(took < Duration::from_secs(90), "plan took {took:?}:\n{out}");
    assert!(
        !hole.seen().is_empty(),
        "the request never reached the hole"
    );
}

#[test]
fn security_errors_read_as_errors() {
    let Some(w) = acc("security_errors_read_as_errors") else {
        return;
    };
    let cluster = w.new_cluster();
    // No credentials anywhere: the error says where they are looked for.
    let mut tf = Tf::new(w);
    tf.unset_env("AWS_ACCESS_KEY_ID");
    tf.unset_env("AWS_SECRET_ACCESS_KEY");
    tf.write(&config(&[provider(&[]), associations_data(&cluster)]));
    let out = tf.plan_expect_error("no AWS credentials");
    eprintln!("{out}");
    assert!(out.contains("AWS_ACCESS_KEY_ID"), "{out}");
    assert_no_rust(&out);
    // A number of the wrong kind is the user's error, on the attribute.
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[("max_retries", "2.5".into())]),
        associations_data(&cluster),
    ]));
    let out = tf.plan_expect_error("max_retries is 2.5, which is not a whole number");
    eprintln!("{out}");
    assert_no_rust(&out);
}

/// The access key IDs that signed the requests a listener saw.
fn signing_keys(seen: &[String]) -> Vec<String> {
    seen.iter()
        .filter_map(|head| {
            let rest = head.split("Credential=").nth(1)?;
            Some(rest.split('/').next()?.to_string())
        })
        .collect()
}

#[test]
fn security_named_profile_wins_over_environment_keys() {
    let Some(w) = acc("security_named_profile_wins_over_environment_keys") else {
        return;
    };
    let recorder = Listener::start(Some(NOT_FOUND));
    let mut tf = Tf::new(w);
    let credentials = tf.path().join("aws-credentials");
    std::fs::write(
        &credentials,
        "[other]\naws_access_key_id = AKIAPROFILEOTHER0001\naws_secret_access_key = profile-secret\n",
    )
    .unwrap_or_else(|e| panic!("writing credentials: {e}"));
    tf.set_env(
        "AWS_SHARED_CREDENTIALS_FILE",
        &credentials.display().to_string(),
    );
    let with_profile = |profile: &str| {
        config(&[
            provider_with_blocks(
                &[("profile", string(profile))],
                &[eks_endpoint(&recorder.url)],
            ),
            associations_data("any"),
        ])
    };
    tf.write(&with_profile("other"));
    let _ = tf.run(&["plan", "-input=false", "-no-color"]);
    let keys = signing_keys(&recorder.seen());
    assert!(!keys.is_empty(), "no signed request: {:?}", recorder.seen());
    assert!(
        keys.iter().all(|k| k == "AKIAPROFILEOTHER0001"),
        "the environment's keys were used instead of profile \"other\": {keys:?}"
    );
    // A credential_process profile runs although the environment has keys.
    let aws_config = tf.path().join("aws-config");
    std::fs::write(
        &aws_config,
        "[profile proc]\ncredential_process = printf '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESS000000001\", \"SecretAccessKey\": \"x\"}'\n",
    )
    .unwrap_or_else(|e| panic!("writing config: {e}"));
    tf.set_env("AWS_CONFIG_FILE", &aws_config.display().to_string());
    let before = recorder.seen().len();
    tf.write(&with_profile("proc"));
    let _ = tf.run(&["plan", "-input=false", "-no-color"]);
    let keys = signing_keys(&recorder.seen()[before..]);
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k == "AKIAPROCESS000000001"),
        "credential_process of profile \"proc\" did not sign the calls: {keys:?}"
    );
    // A profile that does not exist is an error at plan, naming it.
    tf.write(&with_profile("nonexistent"));
    let out = tf.plan_expect_error("AWS profile not found");
    assert!(out.contains("\"nonexistent\""), "{out}");
}

#[test]
fn security_unknown_provider_configuration_is_not_read_from_the_environment() {
    let Some(w) = acc("security_unknown_provider_configuration_is_not_read_from_the_environment")
    else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    // timestamp() is known only at apply: so is the region.
    let region = r#""${substr(timestamp(), 0, 0)}us-east-1""#.to_string();
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[("region", region.clone())]),
        associations_data(&cluster),
    ]));
    let out = tf.plan_expect_error("is known only at apply");
    assert_no_rust(&out);
    // A resource plans without reading and is created once the region is known.
    let sa = random_name();
    tf.write(&config(&[
        provider(&[("region", region)]),
        association("test", &cluster, "default", &sa, &role.arn, &[]),
    ]));
    tf.apply();
    assert_eq!(w.list_associations(&cluster).len(), 1);
    let run = tf.run(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-refresh=false",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(w.list_associations(&cluster).is_empty());
}

/// Secrets of [`security_no_secret_in_trace_log_or_state`].
const ACCESS_KEY: &str = "AKIATFACCSECRET00001";
const SECRET_KEY: &str = "tfAccSecretKey0123456789abcdefABCDEF";
const SESSION_TOKEN: &str = "tfAccSessionToken0123456789abcdefABCDEF";
const EXTERNAL_ID: &str = "tf-acc-external-id-0123456789";

fn assert_no_secret(what: &str, text: &str) {
    for secret in [
        ACCESS_KEY,
        SECRET_KEY,
        SESSION_TOKEN,
        EXTERNAL_ID,
        "k8s-aws-v1.",
        "X-Amz-Signature",
        "x-amz-security-token:",
    ] {
        assert!(!text.contains(secret), "{secret} is in the {what}");
    }
}

/// Runs `apply` with `TF_LOG=TRACE` and checks the output, the log and
/// the state; returns the log.
fn apply_traced(tf: &mut Tf) -> String {
    let log = tf.path().join("trace.log");
    tf.set_env("TF_LOG", "TRACE");
    tf.set_env("TF_LOG_PATH", &log.display().to_string());
    let output = tf.apply();
    let trace = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("reading log: {e}"));
    assert!(
        trace.len() > 10_000,
        "TF_LOG=TRACE wrote little: {}",
        trace.len()
    );
    assert_no_secret("terraform output", &output);
    assert_no_secret("TF_LOG=TRACE log", &trace);
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate"))
        .unwrap_or_else(|e| panic!("reading state: {e}"));
    assert_no_secret("state", &state);
    assert!(
        !state.contains(ACCESS_KEY),
        "the access key is in the state"
    );
    trace
}

#[test]
fn security_no_secret_in_trace_log_or_state() {
    let Some(w) = acc("security_no_secret_in_trace_log_or_state") else {
        return;
    };
    let cluster = w.new_cluster();
    let role = w.create_pod_role();
    let assumed = w.create_role(&random_name(), &acceptance_tests_trust(w));
    // Keys, session token and external_id of an assumed role.
    let mut tf = Tf::new(w);
    tf.set_env("AWS_ACCESS_KEY_ID", ACCESS_KEY);
    tf.set_env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    tf.set_env("AWS_SESSION_TOKEN", SESSION_TOKEN);
    tf.write(&config(&[
        provider_with_blocks(
            &[],
            &[block(
                "assume_role",
                &[
                    ("role_arn", string(&assumed.arn)),
                    ("external_id", string(EXTERNAL_ID)),
                ],
            )],
        ),
        association("test", &cluster, "default", &random_name(), &role.arn, &[]),
    ]));
    apply_traced(&mut tf);
    tf.destroy();
    // The EKS token, made for a service account (the emulator's Kubernetes
    // API accepts only tokens signed with the world's own keys).
    let mut tf = Tf::new(w);
    tf.write(&config(&[
        provider(&[]),
        association(
            "test",
            &cluster,
            "default",
            &random_name(),
            &role.arn,
            &[("create_service_account", "true".into())],
        ),
    ]));
    let trace = apply_traced(&mut tf);
    assert!(
        trace.contains("Kubernetes API of cluster"),
        "the apply did not reach the Kubernetes API"
    );
    assert_eq!(
        tf.resource("eks_pod_identity_association.test")["service_account_created"],
        true
    );
    tf.destroy();
}

/// A trust policy that lets the test's identity assume the role (moto does
/// not check it; it is there for realism).
fn acceptance_tests_trust(_w: &World) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole"
        }]
    })
}
