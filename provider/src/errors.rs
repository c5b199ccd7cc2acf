//! The one place where errors of the AWS layer become Terraform diagnostics.
//!
//! Owns: [`to_diagnostic`], which writes the summary ("creating EKS Pod
//! Identity Association (ns/sa)") and a detail with the cause and what to
//! do, and [`config_diagnostic`] for a provider block that cannot become
//! clients. Does not own: the error types (`crate::aws::error`,
//! `crate::aws::clients::ConfigError`), deciding what to retry
//! (`crate::aws::retry`), or made-role and Kubernetes errors (beside their
//! own types in `crate::ownership::made_role` and `crate::kube`).

use crate::aws::AwsError;
use crate::aws::clients::ConfigError;
use tfplugin::{AttrPath, Diagnostic};

/// Where the provider looks for credentials, in order (the advice when it
/// found none).
pub const CREDENTIAL_ORDER: &str = "The provider looks for AWS credentials in this order: the profile named in the provider block (its keys, credential_process, SSO or role settings; it wins over the environment); else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); AWS_PROFILE or the default profile of ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE); web identity (AWS_WEB_IDENTITY_TOKEN_FILE); the ECS container and EC2 instance metadata. assume_role then assumes its role with those. Set one of them, or run aws sso login for an SSO profile.";

/// What to tell the user to do about a known error.
pub(crate) fn advice(err: &AwsError) -> &'static str {
    match err {
        AwsError::Service { code, message, .. } => {
            if message.contains("Role provided in the request does not exist") {
                "Check that role_arn names an existing role in the cluster's account. A role created moments ago may need up to two minutes to become visible to EKS; the provider already waited that long."
            } else if message.contains("Trust policy of the role provided is invalid") {
                "The role must trust the EKS Pod Identity service: add a statement allowing Principal {\"Service\": \"pods.eks.amazonaws.com\"} the actions sts:AssumeRole and sts:TagSession to its trust policy."
            } else if message.contains("Cross-account pass role is not allowed") {
                "EKS passes only roles of the cluster's own account (or an empty role, which it refuses the same way): use a role in the cluster's account, and for another account's role use target_role_arn on the association. Not retried."
            } else if code == "ResourceNotFoundException" && message.contains("No cluster found") {
                "Check cluster_name and region (null: the provider's region)."
            } else if matches!(
                code.as_str(),
                "ThrottlingException" | "Throttling" | "TooManyRequestsException"
            ) {
                "AWS kept throttling after all retries. Lower Terraform's -parallelism or raise max_retries in the provider block."
            } else if code == "AccessDeniedException" || code == "AccessDenied" {
                "The credentials in use lack the IAM permission for this call; grant it to the identity Terraform runs as (see which one with aws sts get-caller-identity)."
            } else if matches!(
                code.as_str(),
                "UnrecognizedClientException"
                    | "InvalidClientTokenId"
                    | "SignatureDoesNotMatch"
                    | "ExpiredToken"
                    | "ExpiredTokenException"
            ) {
                "AWS did not accept the credentials in use: they are wrong, revoked or expired. Renew them (aws sso login, new keys) or check profile and the AWS_* environment variables."
            } else {
                ""
            }
        }
        AwsError::Unreachable { .. } => {
            "Check the endpoint: the provider's region and endpoints block, the AWS_ENDPOINT_URL_* variables, and that the network (proxy, VPC endpoint, firewall) reaches it. A call that gets no answer at all is not retried."
        }
        AwsError::NoCredentials { .. } => CREDENTIAL_ORDER,
        AwsError::ConfigInvalid { .. } => {
            "Fix the provider \"eks\" block (or the environment it reads: AWS_REGION, AWS_PROFILE, the shared config files)."
        }
        AwsError::ConfigUnknown { .. } => {
            "The provider block uses values of resources that do not exist yet, so the provider cannot know which region or account to read. Create those first (terraform apply -target=...) or set region, profile, assume_role and endpoints to known values."
        }
        AwsError::Transport { .. } => {
            "Check network access to the AWS endpoint and that credentials are available (environment, shared config, SSO login, instance role)."
        }
        AwsError::Stopped { .. } => "Run apply again; it continues from the saved state.",
        AwsError::Incomplete { .. } => "",
    }
}

/// Turns an error into a diagnostic with `summary` (what we were doing).
pub fn to_diagnostic(summary: impl Into<String>, err: &AwsError) -> Diagnostic {
    let advice = advice(err);
    let detail = if advice.is_empty() {
        err.to_string()
    } else {
        format!("{err}\n\n{advice}")
    };
    Diagnostic::error(summary, detail)
}

/// Like [`to_diagnostic`], pointing at an attribute.
pub fn to_diagnostic_at(summary: impl Into<String>, err: &AwsError, attr: &str) -> Diagnostic {
    to_diagnostic(summary, err).at(AttrPath::root(attr))
}

/// A configuration error as a diagnostic.
pub fn config_diagnostic(err: &ConfigError) -> Diagnostic {
    let (summary, attr, detail) = match err {
        ConfigError::NoRegion => (
            "No AWS region",
            "region",
            "Set region in the provider \"eks\" block, or AWS_REGION in the environment, or a region in the AWS profile in use.",
        ),
        ConfigError::MaxRetries(_) => (
            "Invalid max_retries",
            "max_retries",
            "Set max_retries to a whole number of at least 1 (the default is 25).",
        ),
        ConfigError::NoProfile { .. } => (
            "AWS profile not found",
            "profile",
            "Check the profile name in the provider block, or define it (aws configure --profile NAME, or aws configure sso). The provider does not fall back to other credentials when a named profile is missing.",
        ),
        ConfigError::ProfileFiles(_) => (
            "Unreadable AWS config files",
            "profile",
            "Fix the file named above, or point AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at readable ones.",
        ),
    };
    Diagnostic::error(summary, format!("{err}. {detail}")).at(AttrPath::root(attr))
}

#[cfg(test)]
mod tests {
    //! Old and new texts side by side: the old one is what the provider
    //! printed before issue 14 (`DisplayErrorContext`, i.e. the SDK's
    //! `Debug` text), the new one what it prints now.
    use super::*;
    use crate::aws::clients::{Clients, http_client, timeout_config};
    use crate::aws::eks::cluster;
    use aws_config::BehaviorVersion;
    use aws_config::retry::RetryConfig;
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
    use aws_types::region::Region;
    use schema::provider_config::{Endpoints, ProviderConfig};
    use std::time::{Duration, Instant};

    /// A credential chain that finds nothing, as the default chain does on
    /// a machine without credentials.
    #[derive(Debug)]
    struct NoCredentials;

    impl ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            )))
        }
    }

    async fn clients(endpoint: &str, creds: SharedCredentialsProvider) -> Clients {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .http_client(http_client())
            .timeout_config(timeout_config())
            .retry_config(RetryConfig::standard().with_max_attempts(25))
            .credentials_provider(creds)
            .load()
            .await;
        let cfg = ProviderConfig {
            endpoints: Some(Endpoints {
                eks: Some(endpoint.to_string()),
                ..Endpoints::default()
            }),
            ..ProviderConfig::default()
        };
        Clients::from_sdk(&sdk, &cfg).unwrap()
    }

    fn keys() -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(Credentials::new("AKID", "SECRET", None, None, "test"))
    }

    /// A loopback port where nothing listens.
    fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    fn assert_no_rust(text: &str) {
        for debug in [
            "DispatchFailure(",
            "ConnectorError",
            "hyper_util",
            "ProviderChainError",
            "CredentialsNotLoaded(",
            "source: ",
        ] {
            assert!(!text.contains(debug), "{debug} in: {text}");
        }
    }

    #[tokio::test]
    async fn connection_refused_names_the_endpoint_fails_fast_and_is_not_rust() {
        let endpoint = format!("http://127.0.0.1:{}", closed_port());
        let c = clients(&endpoint, keys()).await;
        let started = Instant::now();
        let old = c.eks.describe_cluster().name("x").send().await.unwrap_err();
        let old = aws_smithy_types::error::display::DisplayErrorContext(&old).to_string();
        let err = cluster::find_by_name(&c, "x").await.unwrap_err();
        let new = to_diagnostic("looking up cluster x", &err).detail;
        eprintln!("OLD: {old}\nNEW: {new}");
        assert!(old.contains("DispatchFailure("), "{old}");
        assert!(new.contains(&endpoint), "{new}");
        assert!(new.contains("connection refused"), "{new}");
        assert!(new.contains("region and endpoints block"), "{new}");
        assert_no_rust(&new);
        // Not retried 25 times with back-off.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn no_credentials_says_where_they_are_looked_for() {
        let endpoint = format!("http://127.0.0.1:{}", closed_port());
        let c = clients(&endpoint, SharedCredentialsProvider::new(NoCredentials)).await;
        let old = c.eks.describe_cluster().name("x").send().await.unwrap_err();
        let old = aws_smithy_types::error::display::DisplayErrorContext(&old).to_string();
        let err = cluster::find_by_name(&c, "x").await.unwrap_err();
        assert!(matches!(err, AwsError::NoCredentials { .. }), "{err:?}");
        let new = to_diagnostic("looking up cluster x", &err).detail;
        eprintln!("OLD: {old}\nNEW: {new}");
        assert!(old.contains("CredentialsNotLoaded("), "{old}");
        assert!(new.contains("DescribeCluster: no AWS credentials"), "{new}");
        assert!(new.contains("AWS_ACCESS_KEY_ID"), "{new}");
        assert_no_rust(&new);
    }

    #[tokio::test]
    async fn unknown_configuration_refuses_the_call() {
        let c = Clients::deferred(&ProviderConfig::default(), vec!["region".into()]);
        let err = cluster::find_by_name(&c, "x").await.unwrap_err();
        assert!(matches!(err, AwsError::ConfigUnknown { .. }), "{err:?}");
        let new = to_diagnostic("looking up cluster x", &err).detail;
        assert!(new.contains("(region) is known only at apply"), "{new}");
        assert_no_rust(&new);
    }

    #[test]
    fn iam_validation_errors_do_not_echo_every_tag() {
        let tags: Vec<String> = (0..60)
            .map(|i| format!("Tag(key=team-{i}, value=platform-{i})"))
            .collect();
        let old = format!(
            "1 validation error detected: Value '[{}]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
            tags.join(", ")
        );
        let new = crate::aws::error::shorten_message(&old);
        eprintln!("OLD ({} chars): {old}\nNEW: {new}", old.len());
        assert_eq!(
            new,
            "1 validation error detected: Value '…' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
        );
        assert_eq!(crate::aws::error::shorten_message("short"), "short");
    }

    #[test]
    fn throttling_and_access_denied_say_what_to_do() {
        let throttled = crate::aws::error::service("ThrottlingException", "Rate exceeded");
        assert!(
            to_diagnostic("s", &throttled)
                .detail
                .contains("-parallelism")
        );
        let denied =
            crate::aws::error::service("AccessDeniedException", "User: x is not authorized");
        assert!(
            to_diagnostic("s", &denied)
                .detail
                .contains("IAM permission")
        );
        let cross = crate::aws::error::service(
            "AccessDeniedException",
            "Cross-account pass role is not allowed.",
        );
        let text = to_diagnostic("s", &cross).detail;
        assert!(text.contains("cluster's own account"), "{text}");
        assert!(!text.contains("IAM permission"), "{text}");
        let expired = crate::aws::error::service("ExpiredTokenException", "expired");
        assert!(
            to_diagnostic("s", &expired)
                .detail
                .contains("aws sso login")
        );
    }

    /// A service error as the SDK hands it over: `status`, the request ID
    /// in the headers (EKS) or only in the error's metadata (IAM's XML body).
    fn sdk_error(
        status: u16,
        header_id: Option<&str>,
        body_id: Option<&str>,
    ) -> aws_smithy_runtime_api::client::result::SdkError<
        aws_sdk_iam::operation::get_role::GetRoleError,
        aws_smithy_runtime_api::http::Response,
    > {
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;
        let mut meta = ErrorMetadata::builder()
            .code("NoSuchEntity")
            .message("The role with name r cannot be found.");
        if let Some(id) = body_id {
            meta = meta.custom("aws_request_id", id);
        }
        let err = aws_sdk_iam::operation::get_role::GetRoleError::generic(meta.build());
        let mut raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        if let Some(id) = header_id {
            raw.headers_mut().insert("x-amzn-RequestId", id.to_string());
        }
        aws_smithy_runtime_api::client::result::SdkError::service_error(err, raw)
    }

    #[test]
    fn service_errors_keep_request_id_and_http_status() {
        let err = AwsError::from_sdk("GetRole", sdk_error(404, Some("4c1b-eks"), None));
        assert_eq!(err.request_id(), Some("4c1b-eks"));
        assert_eq!(err.status(), Some(404));
        assert!(err.is_not_found(), "{err}");
        let detail = to_diagnostic("reading IAM role r", &err).detail;
        assert!(
            detail.contains("GetRole: NoSuchEntity: The role with name r cannot be found. (request ID 4c1b-eks, HTTP 404)"),
            "{detail}"
        );
        // IAM answers in XML: the ID is in the body, parsed into metadata.
        let err = AwsError::from_sdk("GetRole", sdk_error(400, None, Some("9f2e-iam")));
        assert_eq!(err.request_id(), Some("9f2e-iam"));
        let detail = to_diagnostic("s", &err).detail;
        assert!(
            detail.contains("(request ID 9f2e-iam, HTTP 400)"),
            "{detail}"
        );
        // Made by the provider: nothing to add.
        let made = AwsError::service("GetRole", "NoSuchEntity", "gone".into());
        assert_eq!(made.to_string(), "GetRole: NoSuchEntity: gone");
    }
}
