//! AWS mode: the acceptance tests against a real account (or anything that
//! answers like one), instead of the world this harness starts.
//!
//! What it owns: reading the mode's settings from the environment
//! ([`Settings`]: the named cluster, region, run ID, endpoints), the signed
//! HTTP [`Client`] that the world and the sweeper (`src/bin/aws-acc.rs`)
//! call AWS with (real SigV4, credentials from the standard chain), and the
//! record of which tests ran and which were skipped in this mode ([`record`]).
//! What it does not own: which tests run in this mode (each test declares
//! it: [`crate::acc_aws`]) and the world's test helpers ([`crate::World`]).
//!
//! Environment (scripts/test-aws.sh sets all but the credentials):
//! - `EKS_TEST_AWS=1`: AWS mode.
//! - `EKS_TEST_AWS_CONFIRM=yes`: required; nothing starts without it.
//! - `EKS_TEST_CLUSTER`: the one existing cluster the tests use (never
//!   created or deleted); `AWS_REGION` (else `AWS_DEFAULT_REGION`): its region.
//! - `EKS_TEST_RUN`: the run ID in every name the tests make
//!   (`tf-acc-<run>-…`) and in the tag `eks-test-run` of the roles they make.
//! - `AWS_ENDPOINT_URL_EKS`, `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL_STS`
//!   (else `AWS_ENDPOINT_URL`): endpoints; else the region's and partition's own.
//! - `EKS_TEST_AWS_RECORD`: file each test that ran or was skipped is
//!   appended to (for the report); default `<target>/aws-acc/record.tsv`.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::http::Answer;

/// The tag on every role the harness makes in AWS mode; its value is the run ID.
pub const RUN_TAG: &str = "eks-test-run";
/// The prefix of every name the tests make ([`crate::random_name`]).
pub const NAME_PREFIX: &str = "tf-acc-";
/// The longest run ID: names stay well within IAM's 64 characters
/// (`tf-acc-` + run + `-` + 10 random characters ≤ 30).
pub const MAX_RUN_LEN: usize = 12;

/// Whether the tests run in AWS mode (`EKS_TEST_AWS` set, not empty or `0`).
pub fn enabled() -> bool {
    std::env::var("EKS_TEST_AWS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether `name` is a valid run ID: 1 to [`MAX_RUN_LEN`] lowercase letters
/// and digits (it goes into role, namespace and service account names).
pub fn valid_run(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_RUN_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The AWS mode's settings, read once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The cluster every test uses.
    pub cluster: String,
    /// Its region.
    pub region: String,
    /// The run ID.
    pub run: String,
    /// Where EKS, IAM and STS are.
    pub endpoints: Endpoints,
}

/// Endpoints of the three services the tests call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub eks: String,
    pub iam: String,
    pub sts: String,
}

impl Settings {
    /// The settings from the environment, or what is missing or wrong.
    pub fn from_env() -> Result<Settings, String> {
        if std::env::var("EKS_TEST_AWS_CONFIRM").as_deref() != Ok("yes") {
            return Err(
                "AWS mode makes IAM roles and pod identity associations in the \
                 account of your credentials: set EKS_TEST_AWS_CONFIRM=yes to go ahead"
                    .into(),
            );
        }
        let cluster = non_empty("EKS_TEST_CLUSTER")
            .ok_or("EKS_TEST_CLUSTER is not set: name an existing cluster the tests may use")?;
        let region = region().ok_or("AWS_REGION is not set: the region of EKS_TEST_CLUSTER")?;
        let run = match non_empty("EKS_TEST_RUN") {
            Some(run) if valid_run(&run) => run,
            Some(run) => {
                return Err(format!(
                    "EKS_TEST_RUN={run:?}: a run ID is 1 to {MAX_RUN_LEN} lowercase letters and digits"
                ));
            }
            None => new_run_id(),
        };
        Ok(Settings {
            endpoints: Endpoints::from_env(&region),
            cluster,
            region,
            run,
        })
    }
}

/// The settings of this process, read on first use; panics (in a test)
/// when they are incomplete.
pub fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| Settings::from_env().unwrap_or_else(|e| panic!("AWS mode: {e}")))
}

fn non_empty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
pub fn region() -> Option<String> {
    non_empty("AWS_REGION").or_else(|| non_empty("AWS_DEFAULT_REGION"))
}

/// A fresh run ID: 8 lowercase letters and digits.
pub fn new_run_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso*`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// The DNS suffix of a partition's endpoints.
fn dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        _ => "amazonaws.com",
    }
}

/// Where IAM is for a partition, and the region its requests are signed for
/// (IAM is global: one endpoint per partition).
fn iam_endpoint(partition: &str) -> (String, &'static str) {
    match partition {
        "aws-cn" => (
            "https://iam.cn-north-1.amazonaws.com.cn".into(),
            "cn-north-1",
        ),
        "aws-us-gov" => ("https://iam.us-gov.amazonaws.com".into(), "us-gov-west-1"),
        "aws-iso" => (
            "https://iam.us-iso-east-1.c2s.ic.gov".into(),
            "us-iso-east-1",
        ),
        "aws-iso-b" => (
            "https://iam.us-isob-east-1.sc2s.sgov.gov".into(),
            "us-isob-east-1",
        ),
        _ => ("https://iam.amazonaws.com".into(), "us-east-1"),
    }
}

/// The region IAM requests are signed for: the partition's IAM region on
/// AWS's own endpoint, the configured region on any other (a local world
/// routes on it).
fn iam_signing_region(endpoints: &Endpoints, region: &str) -> String {
    let (real, signing) = iam_endpoint(partition(region));
    if endpoints.iam == real {
        signing.to_string()
    } else {
        region.to_string()
    }
}

impl Endpoints {
    /// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else AWS's
    /// own endpoint for `region` (IAM: its partition's).
    pub fn from_env(region: &str) -> Endpoints {
        let suffix = dns_suffix(partition(region));
        let pick = |service: &str, default: String| {
            non_empty(&format!("AWS_ENDPOINT_URL_{service}"))
                .or_else(|| non_empty("AWS_ENDPOINT_URL"))
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or(default)
        };
        Endpoints {
            eks: pick("EKS", format!("https://eks.{region}.{suffix}")),
            iam: pick("IAM", iam_endpoint(partition(region)).0),
            sts: pick("STS", format!("https://sts.{region}.{suffix}")),
        }
    }
}

// ---- signing -------------------------------------------------------------------

/// How requests are signed.
pub enum Signer {
    /// The fake header moto and the emulator accept (they route on its
    /// credential scope and check no signature): the local world.
    Fake,
    /// Real SigV4 with credentials from the standard chain.
    SigV4(Box<Chain>),
}

/// The standard credential chain (environment, profiles, SSO, web
/// identity, container and instance metadata), with the runtime its
/// asynchronous providers need. Credentials are cached by the chain and
/// refreshed when they expire.
pub struct Chain {
    runtime: tokio::runtime::Runtime,
    provider: aws_config::default_provider::credentials::DefaultCredentialsChain,
}

impl Chain {
    /// The chain for `region` (profiles may depend on it).
    pub fn new(region: &str) -> Result<Chain, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("starting a runtime for the credential chain: {e}"))?;
        // The SDK crates come without their default HTTPS client (as in the
        // provider: one rustls crypto provider, ring); the chain's own
        // calls (SSO, web identity, instance metadata) need one.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let region = aws_config::Region::new(region.to_string());
        let config = aws_config::provider_config::ProviderConfig::default()
            .with_http_client(http)
            .with_region(Some(region.clone()));
        let provider = runtime.block_on(
            aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                .configure(config)
                .region(region)
                .build(),
        );
        Ok(Chain { runtime, provider })
    }

    fn identity(&self) -> Result<Identity, String> {
        let credentials = self
            .runtime
            .block_on(self.provider.provide_credentials())
            .map_err(|e| format!("no AWS credentials: {}", error_chain(&e)))?;
        Ok(credentials.into())
    }
}

/// An error and its sources, `: `-joined.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

/// A signed HTTP client for EKS, IAM and STS. Every call returns the
/// answer whatever its status; `Err` only when no answer came.
pub struct Client {
    pub endpoints: Endpoints,
    /// The region requests to EKS and STS are signed for.
    pub region: String,
    signer: Signer,
}

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl Client {
    /// A client for `endpoints` in `region`.
    pub fn new(endpoints: Endpoints, region: &str, signer: Signer) -> Client {
        Client {
            endpoints,
            region: region.to_string(),
            signer,
        }
    }

    /// The AWS-mode client: endpoints from the environment, credentials
    /// from the standard chain.
    pub fn from_settings(settings: &Settings) -> Result<Client, String> {
        let chain = Chain::new(&settings.region)?;
        Ok(Client::new(
            settings.endpoints.clone(),
            &settings.region,
            Signer::SigV4(Box::new(chain)),
        ))
    }

    /// One IAM query call.
    pub fn iam(&self, action: &str, params: &[(&str, &str)]) -> Result<Answer, String> {
        let form = query_form(action, "2010-05-08", params);
        let region = iam_signing_region(&self.endpoints, &self.region);
        let url = format!("{}/", self.endpoints.iam);
        self.send(
            &region,
            "POST",
            &url,
            "iam",
            Some(("application/x-www-form-urlencoded", &form)),
        )
    }

    /// One STS query call.
    pub fn sts(&self, action: &str, params: &[(&str, &str)]) -> Result<Answer, String> {
        let form = query_form(action, "2011-06-15", params);
        let url = format!("{}/", self.endpoints.sts);
        self.send(
            &self.region,
            "POST",
            &url,
            "sts",
            Some(("application/x-www-form-urlencoded", &form)),
        )
    }

    /// One EKS call in `region` (`path` with its query, already encoded).
    pub fn eks_in(
        &self,
        region: &str,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Answer, String> {
        let url = format!("{}{path}", self.endpoints.eks);
        self.send(
            region,
            method,
            &url,
            "eks",
            body.map(|b| ("application/json", b)),
        )
    }

    /// One EKS call in the client's region.
    pub fn eks(&self, method: &str, path: &str, body: Option<&str>) -> Result<Answer, String> {
        self.eks_in(&self.region, method, path, body)
    }

    /// The account of the credentials (STS GetCallerIdentity).
    pub fn account_id(&self) -> Result<String, String> {
        let answer = self.sts("GetCallerIdentity", &[])?;
        if !answer.ok() {
            return Err(format!(
                "STS GetCallerIdentity: HTTP {}: {}",
                answer.status, answer.body
            ));
        }
        crate::http::xml_first(&answer.body, "Account")
            .ok_or_else(|| format!("STS GetCallerIdentity: no Account in {}", answer.body))
    }

    fn send(
        &self,
        region: &str,
        method: &str,
        url: &str,
        service: &str,
        body: Option<(&str, &str)>,
    ) -> Result<Answer, String> {
        let agent = ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build();
        let mut request = agent.request(method, url);
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some((content_type, _)) = body {
            headers.push(("content-type".into(), content_type.into()));
        }
        match &self.signer {
            Signer::Fake => headers.push((
                "authorization".into(),
                format!(
                    "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, \
                     SignedHeaders=host, Signature=0"
                ),
            )),
            Signer::SigV4(chain) => {
                let identity = chain.identity()?;
                let signed = sign_headers(
                    &identity,
                    region,
                    service,
                    method,
                    url,
                    &headers,
                    body.map_or("", |(_, text)| text),
                )?;
                headers.extend(signed);
            }
        }
        for (name, value) in &headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some((_, text)) => request.send_string(text),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(e) => return Err(format!("{method} {url}: {e}")),
        };
        let status = response.status();
        let body = response
            .into_string()
            .map_err(|e| format!("{method} {url}: reading the body: {e}"))?;
        Ok(Answer { status, body })
    }
}

/// The headers SigV4 adds (`authorization`, `x-amz-date`, and
/// `x-amz-security-token` for temporary credentials), for this request.
fn sign_headers(
    identity: &Identity,
    region: &str,
    service: &str,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> Result<Vec<(String, String)>, String> {
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing {method} {url}: {e}"))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| format!("signing {method} {url}: {e}"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| format!("signing {method} {url}: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A query-protocol form: `Action`, `Version`, then `params`, encoded.
fn query_form(action: &str, version: &str, params: &[(&str, &str)]) -> String {
    let mut form = format!("Action={action}&Version={version}");
    for (k, v) in params {
        form.push_str(&format!("&{k}={}", crate::http::encode(v)));
    }
    form
}

// ---- the record ------------------------------------------------------------------

/// Appends `test<TAB>ran` or `test<TAB>skipped<TAB>reason` (`skipped` is
/// `Some(reason)`) to the record (see the module's doc): cargo says `ok`
/// for a test that returned early, so the report counts as passed only a
/// test recorded as ran.
pub fn record(test: &str, skipped: Option<&str>) {
    let path = match std::env::var_os("EKS_TEST_AWS_RECORD") {
        Some(p) => std::path::PathBuf::from(p),
        None => match crate::place::target_dir() {
            Ok(t) => t.join("aws-acc").join("record.tsv"),
            Err(_) => return,
        },
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // One short write per line with O_APPEND: lines of parallel tests never mix.
    let line = match skipped {
        Some(reason) => format!("{test}\tskipped\t{}\n", reason.replace(['\t', '\n'], " ")),
        None => format!("{test}\tran\n"),
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_default_to_the_partitions_own() {
        // Only the defaults: the environment of `cargo test` may set others.
        let (iam, signing) = iam_endpoint(partition("cn-northwest-1"));
        assert_eq!(iam, "https://iam.cn-north-1.amazonaws.com.cn");
        assert_eq!(signing, "cn-north-1");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(dns_suffix(partition("eu-west-1")), "amazonaws.com");
    }

    #[test]
    fn iam_is_signed_for_its_partitions_region_only_on_aws() {
        let real = Endpoints {
            eks: "https://eks.eu-west-1.amazonaws.com".into(),
            iam: "https://iam.amazonaws.com".into(),
            sts: "https://sts.eu-west-1.amazonaws.com".into(),
        };
        assert_eq!(iam_signing_region(&real, "eu-west-1"), "us-east-1");
        let local = Endpoints {
            iam: "http://127.0.0.1:5000".into(),
            ..real
        };
        assert_eq!(iam_signing_region(&local, "eu-west-1"), "eu-west-1");
    }

    #[test]
    fn run_ids_fit_in_names() {
        assert!(valid_run("abc123"));
        assert!(!valid_run("ABC"));
        assert!(!valid_run("a-b"));
        assert!(!valid_run(&"a".repeat(MAX_RUN_LEN + 1)));
        assert!(valid_run(&new_run_id()));
    }

    #[test]
    fn sigv4_signs_with_the_credentials() {
        let credentials = aws_credential_types::Credentials::new("AKID", "secret", None, None, "t");
        let identity: Identity = credentials.into();
        let headers = sign_headers(
            &identity,
            "eu-west-1",
            "eks",
            "GET",
            "https://eks.eu-west-1.amazonaws.com/clusters/x",
            &[],
            "",
        )
        .unwrap_or_default();
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/")
                && auth.contains("/eu-west-1/eks/aws4_request"),
            "{auth}"
        );
        assert!(
            headers.iter().any(|(k, _)| k == "x-amz-date"),
            "{headers:?}"
        );
    }
}
