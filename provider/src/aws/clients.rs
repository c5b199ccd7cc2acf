//! AWS clients for one configured provider, built once in ConfigureProvider.
//!
//! Owns: turning the provider block into an `SdkConfig` (standard credential
//! chain, SSO profiles, assume_role, endpoint overrides, standard retry), the
//! one HTTPS client (rustls with ring) they share, the per-call log line, and
//! small per-process caches, and [`ConfigError`]. Does not own: any EKS or
//! IAM operation (the sibling modules).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_types::region::Region;
use schema::provider_config::{DEFAULT_MAX_RETRIES, ProviderConfig};
use schema::tags::Tags;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// The provider block cannot be turned into clients.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No region anywhere.
    #[error("no AWS region is configured")]
    NoRegion,
    /// max_retries out of range.
    #[error("max_retries must be at least 1, got {0}")]
    MaxRetries(i64),
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
    /// The AWS credentials (for signing EKS tokens for Kubernetes).
    pub credentials: Option<SharedCredentialsProvider>,
    /// The provider's `kubernetes {}` block, if set.
    pub kubernetes: Option<schema::provider_config::Kubernetes>,
}

/// The partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The region IAM requests are signed for in a partition (IAM is global).
fn iam_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
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

impl Clients {
    /// Builds the clients from the provider block: the standard credential
    /// chain (or the profile), then assume_role, then [`Clients::from_sdk`].
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
            .retry_config(RetryConfig::standard().with_max_attempts(max_attempts));
        if let Some(region) = &cfg.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &cfg.profile {
            loader = loader.profile_name(profile);
        }
        let mut sdk = loader.load().await;
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
        let mut eks = aws_sdk_eks::config::Builder::from(sdk).interceptor(LogCalls);
        if let Some(url) = endpoints.eks {
            eks = eks.endpoint_url(url);
        }
        let mut iam = aws_sdk_iam::config::Builder::from(sdk)
            .region(Region::new(iam_region(partition)))
            .interceptor(LogCalls);
        if let Some(url) = endpoints.iam {
            iam = iam.endpoint_url(url);
        }
        let mut sts = aws_sdk_sts::config::Builder::from(sdk).interceptor(LogCalls);
        if let Some(url) = endpoints.sts {
            sts = sts.endpoint_url(url);
        }
        Ok(Clients {
            eks: aws_sdk_eks::Client::from_conf(eks.build()),
            iam: aws_sdk_iam::Client::from_conf(iam.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            region,
            partition,
            default_tags: cfg.default_tags.clone().unwrap_or_default(),
            agent_cache: Mutex::new(HashMap::new()),
            credentials: sdk.credentials_provider(),
            kubernetes: cfg.kubernetes.clone(),
        })
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
        tracing::debug!(
            service = %service,
            operation = %operation,
            target = %path,
            status = %status,
            duration_ms = elapsed.as_millis() as u64,
            "AWS call {service}.{operation} {path} -> {status} in {} ms",
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
        assert_eq!(partition_of("us-west-2"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-east-1"), "aws-us-gov");
        assert_eq!(iam_region("aws-cn"), "cn-north-1");
    }
}
