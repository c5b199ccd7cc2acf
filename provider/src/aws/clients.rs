//! AWS clients for one configured provider, built once in ConfigureProvider.
//!
//! Owns: turning the provider block into an `SdkConfig` (the credential
//! order: a `profile` named in the block first, else the standard chain;
//! then assume_role; endpoint overrides; standard retry; the timeouts of
//! every call), the one HTTPS client (rustls with ring) they share, the
//! per-call log line, the rule that an endpoint that does not answer at all
//! is not retried, the refusal of every call while the provider
//! configuration is unknown, small per-process caches, and [`ConfigError`].
//! Does not own: any EKS or IAM operation (the sibling modules).

use super::error::{ConfigInvalid, ConfigUnknown, NoAnswer};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut, FinalizerInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_types::region::Region;
use aws_types::request_id::RequestId;
use schema::partition::Partition;
use schema::provider_config::{DEFAULT_MAX_RETRIES, ProviderConfig};
use schema::tags::Tags;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Longest wait for a TCP (and TLS) connection to an AWS endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the first byte of an answer (and between bytes) from
/// an AWS endpoint: EKS and IAM answer in well under a second.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest one attempt of an AWS call may take, answer read included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest one AWS call may take with all its retries (throttling with the
/// default 25 attempts backs off for about three minutes at worst).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The provider block cannot be turned into clients.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No region anywhere.
    #[error("no AWS region is configured")]
    NoRegion,
    /// max_retries out of range.
    #[error("max_retries must be at least 1, got {0}")]
    MaxRetries(i64),
    /// The named profile is in neither shared file.
    #[error("the AWS profile {profile:?} is not defined in {files}")]
    NoProfile {
        /// The profile named in the provider block.
        profile: String,
        /// Where it was looked for.
        files: String,
    },
    /// The shared config or credentials file could not be read.
    #[error("reading the AWS shared config and credentials files failed: {0}")]
    ProfileFiles(String),
}

/// Why a resource's `region` cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    /// A region of another partition than the provider's.
    #[error(
        "region {region} is in the {partition} partition, the provider's region {provider} in {provider_partition}"
    )]
    OtherPartition {
        /// The resource's region.
        region: String,
        /// Its partition.
        partition: &'static str,
        /// The provider's region.
        provider: String,
        /// Its partition.
        provider_partition: &'static str,
    },
    /// Clients could not be made for it.
    #[error("no AWS clients could be made for region {region}")]
    Invalid {
        /// The resource's region.
        region: String,
    },
}

/// Everything a resource needs to talk to AWS, reached through `Ctx::data`.
/// Resources pass it to the functions of `crate::aws`; only those modules
/// make calls with the SDK clients (tests use them to set up the world).
pub struct Clients {
    /// EKS client.
    pub eks: aws_sdk_eks::Client,
    /// IAM client (global endpoint).
    pub iam: aws_sdk_iam::Client,
    /// STS client.
    pub sts: aws_sdk_sts::Client,
    /// Region of the EKS clusters.
    pub region: String,
    /// AWS partition of the region.
    pub partition: &'static str,
    /// Provider-level default tags.
    pub default_tags: Tags,
    /// Per-cluster answer to "does this cluster run the pod identity agent
    /// (or is it Auto Mode)?", so a plan of many associations asks once: the
    /// first plan of a cluster asks, the ones running meanwhile wait for it.
    pub agent_cache: Mutex<HashMap<String, Arc<OnceCell<bool>>>>,
    /// Per-cluster ARN, asked once per process the same way: a cluster's
    /// ARN is its partition, region, account and name, so it never changes
    /// for a name (a cluster made again under that name has the same one).
    pub arn_cache: Mutex<HashMap<String, Arc<OnceCell<String>>>>,
    /// What built these clients (`None` for [`Clients::deferred`]), so that
    /// a resource's own `region` gets clients for it ([`Clients::in_region`]).
    origin: Option<(SdkConfig, ProviderConfig)>,
    /// Clients for other regions, made once each.
    regional: Mutex<HashMap<String, Arc<Clients>>>,
    /// The AWS credentials (for signing EKS tokens for Kubernetes).
    pub credentials: Option<SharedCredentialsProvider>,
    /// The provider's `kubernetes {}` block, if set.
    pub kubernetes: Option<schema::provider_config::Kubernetes>,
    /// The provider-block attributes Terraform knows only at apply (empty
    /// once the configuration is known). While any that decides where or
    /// as whom calls go is unknown, every AWS call is refused
    /// ([`AwsError::ConfigUnknown`](super::AwsError::ConfigUnknown)) rather
    /// than made with the environment's defaults.
    pub unknown_config: Vec<String>,
    /// Why the provider block cannot be used for AWS calls (no region, a
    /// missing profile), when it cannot: every call is refused with it, and
    /// a resource's plan says it ([`Clients::refusing`]).
    pub config_problem: Option<String>,
}

/// The partition of a region, from the SDK's partition data
/// ([`schema::partition`]); a region of no known partition is `aws`, as
/// the SDK's endpoint rules put it.
fn partition_of(region: &str) -> &'static Partition {
    schema::partition::resolve(region)
}

/// The one HTTPS client every SDK client shares. The SDK crates are
/// compiled without their default HTTPS client, so that exactly one rustls
/// crypto provider (ring) is in the binary. It speaks plain HTTP too (local
/// endpoints in tests).
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The timeouts of every AWS call (see the constants).
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Whether `profile` is defined in the shared config or credentials file
/// (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, or `~/.aws/...`).
async fn check_profile(profile: &str) -> Result<(), ConfigError> {
    use aws_types::os_shim_internal::{Env, Fs};
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
        .await
        .map_err(|e| ConfigError::ProfileFiles(super::error::chain_text(&e)))?;
    if set.get_profile(profile).is_some() {
        return Ok(());
    }
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    Err(ConfigError::NoProfile {
        profile: profile.to_string(),
        files: format!(
            "{} or {}",
            var("AWS_CONFIG_FILE", "~/.aws/config"),
            var("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
        ),
    })
}

/// `sdk` with the credentials of `profile` only. The standard chain reads
/// `AWS_ACCESS_KEY_ID` before any profile, so a profile named in the
/// provider block would lose to keys in the environment (and its
/// credential_process never run); as in the AWS provider, it wins.
fn with_profile_credentials(sdk: SdkConfig, profile: &str) -> SdkConfig {
    let provider_config = aws_config::provider_config::ProviderConfig::default()
        .with_http_client(http_client())
        .with_timeout_config(timeout_config())
        .with_region(sdk.region().cloned());
    let credentials = aws_config::profile::ProfileFileCredentialsProvider::builder()
        .profile_name(profile)
        .configure(&provider_config)
        .build();
    sdk.into_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}

impl Clients {
    /// Builds the clients from the provider block: the named profile's
    /// credentials (which win over the environment's keys, as in the AWS
    /// provider) or else the standard chain, then assume_role, then
    /// [`Clients::from_sdk`].
    pub async fn new(cfg: &ProviderConfig) -> Result<Clients, ConfigError> {
        let max_attempts = cfg.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        let max_attempts = u32::try_from(max_attempts)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or(ConfigError::MaxRetries(max_attempts))?;
        // Standard retry (exponential back-off with jitter, per call), as the
        // AWS provider does, not adaptive: adaptive mode puts one client-side
        // rate limiter in front of every call of the process, so a few
        // throttled calls slowed every resource of an apply (figures in
        // bench/results.md and the commit that made this change).
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .timeout_config(timeout_config())
            .retry_config(RetryConfig::standard().with_max_attempts(max_attempts));
        if let Some(region) = &cfg.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &cfg.profile {
            check_profile(profile).await?;
            loader = loader.profile_name(profile);
        }
        let mut sdk = loader.load().await;
        if let Some(profile) = &cfg.profile {
            sdk = with_profile_credentials(sdk, profile);
        }
        if let Some(role) = cfg.assume_role.as_ref().and_then(|a| a.role_arn.clone()) {
            let a = cfg.assume_role.clone().unwrap_or_default();
            // The STS endpoint override applies to the AssumeRole call too.
            let sts_conf = match cfg.endpoints.as_ref().and_then(|e| e.sts.clone()) {
                Some(url) => sdk.to_builder().endpoint_url(url).build(),
                None => sdk.clone(),
            };
            let mut b = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name(
                    a.session_name
                        .unwrap_or_else(|| "terraform-provider-eks".into()),
                )
                .configure(&sts_conf);
            if let Some(ext) = a.external_id {
                b = b.external_id(ext);
            }
            let provider = b.build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        Clients::from_sdk(&sdk, cfg)
    }

    /// The EKS, IAM and STS clients of a loaded SDK configuration (region,
    /// credentials, retry, HTTP client), with the provider block's endpoint
    /// overrides, default tags and Kubernetes settings. Tests give their own
    /// SDK configuration (fixed credentials, local endpoints).
    pub fn from_sdk(sdk: &SdkConfig, cfg: &ProviderConfig) -> Result<Clients, ConfigError> {
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or(ConfigError::NoRegion)?;
        let endpoints = cfg.endpoints.clone().unwrap_or_default();
        let partition = partition_of(&region);
        let mut eks = aws_sdk_eks::config::Builder::from(sdk)
            .interceptor(LogCalls)
            .retry_classifier(NoRetryWithoutAnswer);
        if let Some(url) = endpoints.eks {
            eks = eks.endpoint_url(url);
        }
        // IAM is global: requests are signed for the partition's IAM region
        // (the SDK's endpoint rules say so too, but an endpoint override
        // such as a local emulator carries no signing region of its own).
        let mut iam = aws_sdk_iam::config::Builder::from(sdk)
            .region(Region::new(partition.iam_signing_region))
            .interceptor(LogCalls)
            .retry_classifier(NoRetryWithoutAnswer);
        if let Some(url) = endpoints.iam {
            iam = iam.endpoint_url(url);
        }
        let mut sts = aws_sdk_sts::config::Builder::from(sdk)
            .interceptor(LogCalls)
            .retry_classifier(NoRetryWithoutAnswer);
        if let Some(url) = endpoints.sts {
            sts = sts.endpoint_url(url);
        }
        Ok(Clients {
            eks: aws_sdk_eks::Client::from_conf(eks.build()),
            iam: aws_sdk_iam::Client::from_conf(iam.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            region,
            partition: partition.id,
            default_tags: cfg.default_tags.clone().unwrap_or_default(),
            agent_cache: Mutex::new(HashMap::new()),
            arn_cache: Mutex::new(HashMap::new()),
            origin: Some((sdk.clone(), cfg.clone())),
            regional: Mutex::new(HashMap::new()),
            credentials: sdk.credentials_provider(),
            kubernetes: cfg.kubernetes.clone(),
            unknown_config: Vec::new(),
            config_problem: None,
        })
    }

    /// The clients for a resource's own `region` (the AWS provider v6
    /// style: one provider block, resources in several regions): the same
    /// credentials, retries, endpoints and default tags, EKS in `region`.
    /// `None`, or the provider's region, is these clients. A region of
    /// another partition is refused: its credentials are not these.
    pub fn in_region(self: &Arc<Self>, region: Option<&str>) -> Result<Arc<Clients>, RegionError> {
        let Some(region) = region.filter(|r| *r != self.region) else {
            return Ok(self.clone());
        };
        let partition = partition_of(region).id;
        if partition != self.partition {
            return Err(RegionError::OtherPartition {
                region: region.to_string(),
                partition,
                provider: self.region.clone(),
                provider_partition: self.partition,
            });
        }
        let Some((sdk, cfg)) = &self.origin else {
            // Deferred clients refuse every call whatever the region.
            return Ok(self.clone());
        };
        let mut cache = match self.regional.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(c) = cache.get(region) {
            return Ok(c.clone());
        }
        let sdk = sdk
            .to_builder()
            .region(Region::new(region.to_string()))
            .build();
        let clients = Arc::new(
            Clients::from_sdk(&sdk, cfg).map_err(|_| RegionError::Invalid {
                region: region.to_string(),
            })?,
        );
        cache.insert(region.to_string(), clients.clone());
        Ok(clients)
    }

    /// Clients for a plan whose provider configuration has `unknown`
    /// attributes: every AWS call they make is refused with
    /// [`AwsError::ConfigUnknown`](super::AwsError::ConfigUnknown) before
    /// it is sent, so that nothing is read from the environment's default
    /// region or account instead. `cfg` holds the known part.
    pub fn deferred(cfg: &ProviderConfig, unknown: Vec<String>) -> Clients {
        let refuse = Refuse::Unknown(unknown.join(", "));
        Clients::refusing_with(cfg, refuse, unknown)
    }

    /// Clients for a provider block that cannot be used (no region, a
    /// missing profile): every AWS call is refused with `problem`
    /// ([`AwsError::ConfigInvalid`](super::AwsError::ConfigInvalid)), so
    /// the error comes at the first AWS call, and what makes none (the
    /// functions, `eks_well_known_policy`) still works (issue 23 item 8).
    pub fn refusing(cfg: &ProviderConfig, problem: String) -> Clients {
        Clients::refusing_with(cfg, Refuse::Invalid(problem), vec![])
    }

    fn refusing_with(cfg: &ProviderConfig, refuse: Refuse, unknown: Vec<String>) -> Clients {
        let config_problem = match &refuse {
            Refuse::Invalid(p) => Some(p.clone()),
            Refuse::Unknown(_) => None,
        };
        let region = cfg.region.clone().unwrap_or_else(|| "unknown".to_string());
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .http_client(http_client())
            .build();
        let eks = aws_sdk_eks::config::Builder::from(&sdk).interceptor(refuse.clone());
        let iam = aws_sdk_iam::config::Builder::from(&sdk).interceptor(refuse.clone());
        let sts = aws_sdk_sts::config::Builder::from(&sdk).interceptor(refuse);
        Clients {
            eks: aws_sdk_eks::Client::from_conf(eks.build()),
            iam: aws_sdk_iam::Client::from_conf(iam.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            partition: partition_of(&region).id,
            region,
            default_tags: cfg.default_tags.clone().unwrap_or_default(),
            agent_cache: Mutex::new(HashMap::new()),
            arn_cache: Mutex::new(HashMap::new()),
            origin: None,
            regional: Mutex::new(HashMap::new()),
            credentials: None,
            kubernetes: cfg.kubernetes.clone(),
            unknown_config: unknown,
            config_problem,
        }
    }

    /// Whether the whole provider configuration is known (always at apply).
    /// Plan-time reads check it to plan unknown values instead of reading.
    pub fn config_known(&self) -> bool {
        self.unknown_config.is_empty()
    }
}

/// Refuses every call before it is sent (see [`Clients::deferred`]).
#[derive(Debug, Clone)]
enum Refuse {
    /// Attributes known only at apply (comma-separated).
    Unknown(String),
    /// What makes the configuration unusable.
    Invalid(String),
}

impl Intercept for Refuse {
    fn name(&self) -> &'static str {
        "RefuseConfig"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        Err(match self {
            Refuse::Unknown(a) => Box::new(ConfigUnknown(a.clone())),
            Refuse::Invalid(p) => Box::new(ConfigInvalid(p.clone())),
        })
    }
}

/// An endpoint that did not answer at all (connection refused, unknown
/// host, no answer within the timeouts) is not retried: the cause is a
/// wrong endpoint, a network that does not reach it, or a black hole, none
/// of which the next attempt fixes, and 25 attempts with back-off kept
/// `terraform plan` silent for minutes. Errors with an answer (throttling,
/// 5xx) and a connection lost mid-answer are still retried by the SDK.
#[derive(Debug)]
struct NoRetryWithoutAnswer;

impl NoRetryWithoutAnswer {
    fn never_answered(err: &ConnectorError) -> bool {
        if err.is_timeout() {
            return true;
        }
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::TimedOut
                )
            {
                return true;
            }
            let text = e.to_string();
            if text.contains("dns error") || text.contains("failed to lookup address") {
                return true;
            }
            cur = e.source();
        }
        false
    }
}

impl ClassifyRetry for NoRetryWithoutAnswer {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(e)) if e.is_timeout_error() => RetryAction::RetryForbidden,
            Some(Err(e)) if e.as_connector_error().is_some_and(Self::never_answered) => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "NoRetryWithoutAnswer"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Where the last attempt of a call went (scheme, host, port).
#[derive(Debug, Clone)]
struct SentTo(String);

impl Storable for SentTo {
    type Storer = StoreReplace<Self>;
}

/// Scheme, host and port of a URI, without path and query.
fn origin(uri: &str) -> String {
    match uri.find("://") {
        Some(i) => {
            let rest = &uri[i + 3..];
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            format!("{}{}", &uri[..i + 3], &rest[..end])
        }
        None => uri.to_string(),
    }
}

/// Logs one line per AWS operation: service, operation, path, HTTP status,
/// attempts' total duration. Never headers or bodies, so never credentials.
#[derive(Debug)]
struct LogCalls;

#[derive(Debug, Clone)]
struct StartedAt(Instant);

impl Storable for StartedAt {
    type Storer = StoreReplace<Self>;
}

impl Intercept for LogCalls {
    fn name(&self) -> &'static str {
        "LogCalls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(StartedAt(Instant::now()));
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let to = origin(context.request().uri());
        if cfg.load::<SentTo>().is_none() {
            tracing::info!("calling AWS at {to}");
        }
        cfg.interceptor_state().store_put(SentTo(to));
        Ok(())
    }

    /// Puts the endpoint into a connection or timeout error ([`NoAnswer`]):
    /// the SDK's own errors do not say where the request went.
    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(SentTo(endpoint)) = cfg.load::<SentTo>().cloned() else {
            return Ok(());
        };
        let Some(slot) = context.output_or_error_mut() else {
            return Ok(());
        };
        let no_answer = matches!(slot, Err(e) if e.is_connector_error() || e.is_timeout_error());
        if !no_answer {
            return Ok(());
        }
        let placeholder = Err(OrchestratorError::other("no answer"));
        if let Err(old) = std::mem::replace(slot, placeholder) {
            let timeout = old.is_timeout_error()
                || old
                    .as_connector_error()
                    .is_some_and(ConnectorError::is_timeout);
            let wrapped = Box::new(NoAnswer {
                endpoint,
                source: Box::new(old),
            });
            *slot = Err(if timeout {
                OrchestratorError::timeout(wrapped)
            } else {
                OrchestratorError::connector(ConnectorError::io(wrapped))
            });
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let elapsed = cfg
            .load::<StartedAt>()
            .map(|s| s.0.elapsed())
            .unwrap_or(Duration::ZERO);
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_default();
        let path = context
            .request()
            .map(|r| r.uri().split('?').next().unwrap_or_default().to_string())
            .unwrap_or_default();
        let status = context
            .response()
            .map(|r| r.status().as_u16().to_string())
            .unwrap_or_else(|| "no response".to_string());
        // What AWS support asks for when a call went wrong.
        let request_id = context
            .response()
            .and_then(|r| r.headers().request_id())
            .unwrap_or("none")
            .to_string();
        tracing::debug!(
            service = %service,
            operation = %operation,
            target = %path,
            status = %status,
            request_id = %request_id,
            duration_ms = elapsed.as_millis() as u64,
            "AWS call {service}.{operation} {path} -> {status} in {} ms (request ID {request_id})",
            elapsed.as_millis()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition_of("us-west-2").id, "aws");
        assert_eq!(partition_of("cn-north-1").id, "aws-cn");
        assert_eq!(partition_of("us-gov-east-1").id, "aws-us-gov");
        assert_eq!(partition_of("us-isob-east-1").id, "aws-iso-b");
        assert_eq!(partition_of("eusc-de-east-1").id, "aws-eusc");
        assert_eq!(partition_of("cn-north-1").iam_signing_region, "cn-north-1");
        // A region of no known partition: the SDK's own fallback.
        assert_eq!(partition_of("xx-east-1").id, "aws");
    }

    /// The IAM endpoint the SDK's rules give a region (no FIPS, no dual
    /// stack): its host and the signing region of its auth scheme.
    fn sdk_iam_endpoint(region: &str) -> (String, Option<String>) {
        use aws_sdk_iam::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
        use aws_smithy_types::Document;
        use futures::FutureExt;
        let params = Params::builder()
            .region(region)
            .use_fips(false)
            .use_dual_stack(false)
            .build()
            .expect("IAM endpoint parameters");
        let endpoint = DefaultResolver::new()
            .resolve_endpoint(&params)
            .now_or_never()
            .expect("the rules engine answers at once")
            .expect("an IAM endpoint");
        let host = origin(endpoint.url())
            .trim_start_matches("https://")
            .to_string();
        // The rules' `authSchemes` property, which this SDK version keeps
        // apart from the other properties.
        let signing_region =
            endpoint
                .auth_schemes()
                .iter()
                .find_map(|s| match s.get("signingRegion") {
                    Some(Document::String(r)) => Some(r.clone()),
                    _ => None,
                });
        (host, signing_region)
    }

    /// The schema's partition table against the SDK's own data: for one
    /// region of every partition, the SDK's IAM and STS endpoints are in
    /// the table's DNS suffix and IAM is signed for the table's region. An
    /// SDK update whose partition data the table misses fails here.
    #[test]
    fn partition_table_agrees_with_the_sdk() {
        for p in &schema::partition::PARTITIONS {
            let region = p.sample_region;
            assert_eq!(partition_of(region).id, p.id, "{region}");
            let suffix = format!(".{}", p.dns_suffix);
            let (iam_host, signing_region) = sdk_iam_endpoint(region);
            assert!(iam_host.ends_with(&suffix), "{}: IAM at {iam_host}", p.id);
            assert_eq!(
                signing_region.as_deref(),
                Some(p.iam_signing_region),
                "{}: IAM signing region",
                p.id
            );
            let sts_host = super::super::token::sts_host(region).expect("an STS endpoint");
            assert!(sts_host.ends_with(&suffix), "{}: STS at {sts_host}", p.id);
            let sdk = SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region))
                .build();
            let clients = Clients::from_sdk(&sdk, &ProviderConfig::default()).unwrap();
            assert_eq!(clients.partition, p.id, "{region}");
            // The SDK's IAM endpoint is the same from the partition's
            // signing region (where the clients sign IAM requests).
            assert_eq!(
                sdk_iam_endpoint(p.iam_signing_region).0,
                iam_host,
                "{}",
                p.id
            );
        }
        // A region of no known partition is the SDK's `aws` too.
        let (host, _) = sdk_iam_endpoint("xx-east-1");
        assert!(host.ends_with(".amazonaws.com"), "{host}");
        assert_eq!(partition_of("xx-east-1").id, "aws");
    }

    #[test]
    fn a_resource_region_gets_its_own_clients_once_and_only_in_the_partition() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let base = Arc::new(Clients::from_sdk(&sdk, &ProviderConfig::default()).unwrap());
        assert!(Arc::ptr_eq(&base.in_region(None).unwrap(), &base));
        assert!(Arc::ptr_eq(
            &base.in_region(Some("us-east-1")).unwrap(),
            &base
        ));
        let west = base.in_region(Some("us-west-2")).unwrap();
        assert_eq!(west.region, "us-west-2");
        assert_eq!(west.partition, "aws");
        assert!(Arc::ptr_eq(
            &west,
            &base.in_region(Some("us-west-2")).unwrap()
        ));
        let err = base.in_region(Some("cn-north-1")).err();
        assert!(
            matches!(
                err,
                Some(RegionError::OtherPartition {
                    partition: "aws-cn",
                    ..
                })
            ),
            "{err:?}"
        );
        // Deferred clients (unknown provider configuration) stay deferred.
        let deferred = Arc::new(Clients::deferred(
            &ProviderConfig::default(),
            vec!["region".into()],
        ));
        assert!(Arc::ptr_eq(
            &deferred.in_region(Some("us-west-2")).unwrap(),
            &deferred
        ));
    }

    #[test]
    fn origin_keeps_scheme_host_and_port() {
        assert_eq!(
            origin("https://eks.us-east-1.amazonaws.com/clusters/x?a=b"),
            "https://eks.us-east-1.amazonaws.com"
        );
        assert_eq!(origin("http://127.0.0.1:9/"), "http://127.0.0.1:9");
    }
}
