//! Typed errors of the provider's AWS layer, and the one place where they
//! become Terraform diagnostics.
//!
//! Owns: [`AwsError`] (an AWS operation failed: code, message, operation),
//! [`ConfigError`], and [`to_diagnostic`], which writes the summary ("creating
//! EKS Pod Identity Association (ns/sa)") and a detail with the cause and what
//! to do. Does not own: deciding what to retry (see `retry`).

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tfplugin::{AttrPath, Diagnostic};

/// An AWS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The service answered with an error code.
    #[error("{operation}: {code}: {message}")]
    Service {
        /// Operation name, such as `CreatePodIdentityAssociation`.
        operation: &'static str,
        /// AWS error code, such as `ResourceInUseException`.
        code: String,
        /// The service's message.
        message: String,
    },
    /// No usable answer: connection, timeout, credentials, unparseable response.
    #[error("{operation}: {detail}")]
    Transport {
        /// Operation name.
        operation: &'static str,
        /// The SDK's description of the cause chain.
        detail: String,
    },
    /// The answer lacked a field the API promises.
    #[error("{operation}: the response has no {field}")]
    Incomplete {
        /// Operation name.
        operation: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// The provider was asked to stop (Ctrl-C) while waiting.
    #[error("{operation}: stopped before it finished because Terraform was interrupted")]
    Stopped {
        /// What was interrupted.
        operation: &'static str,
    },
}

impl AwsError {
    /// Wraps an SDK error of `operation`.
    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match err.code() {
            Some(code) => AwsError::Service {
                operation,
                code: code.to_string(),
                message: err.message().unwrap_or_default().to_string(),
            },
            None => AwsError::Transport {
                operation,
                detail: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    /// The AWS error code, when the service answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The service's message, when it answered.
    pub fn message(&self) -> &str {
        match self {
            AwsError::Service { message, .. } => message,
            _ => "",
        }
    }

    /// True for "the thing does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code(),
            Some("ResourceNotFoundException" | "NoSuchEntity" | "NotFoundException")
        )
    }

    /// True when the code is `code` and the message contains `fragment`.
    pub fn is(&self, code: &str, fragment: &str) -> bool {
        self.code() == Some(code) && self.message().contains(fragment)
    }
}

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

/// What to tell the user to do about a known error.
fn advice(err: &AwsError) -> &'static str {
    match err {
        AwsError::Service { code, message, .. } => {
            if message.contains("Role provided in the request does not exist") {
                "Check that role_arn names an existing role in the cluster's account. A role created moments ago may need up to two minutes to become visible to EKS; the provider already waited that long."
            } else if message.contains("Trust policy of the role provided is invalid") {
                "The role must trust the EKS Pod Identity service: add a statement allowing Principal {\"Service\": \"pods.eks.amazonaws.com\"} the actions sts:AssumeRole and sts:TagSession to its trust policy."
            } else if code == "ResourceNotFoundException" && message.contains("No cluster found") {
                "Check cluster_name and the provider's region."
            } else if code == "ThrottlingException" {
                "AWS kept throttling after all retries. Lower Terraform's -parallelism or raise max_retries in the provider block."
            } else if code == "AccessDeniedException" || code == "AccessDenied" {
                "The credentials in use lack the IAM permission for this call; grant it to the identity Terraform runs as."
            } else {
                ""
            }
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
    };
    Diagnostic::error(summary, format!("{err}. {detail}")).at(AttrPath::root(attr))
}

/// A made-role error as a diagnostic.
pub fn made_role_diagnostic(
    summary: impl Into<String>,
    err: &crate::made_role::MadeRoleError,
) -> Diagnostic {
    use crate::made_role::MadeRoleError;
    match err {
        MadeRoleError::Aws(e) => to_diagnostic(summary, e),
        MadeRoleError::NameTaken { found_owner, .. } => Diagnostic::error(
            summary,
            format!(
                "{err}{}. The provider never takes over or changes a role it did not make. Set role_name to a name that is not in use, or set role_arn to use the existing role as it is.",
                match found_owner {
                    Some(o) => format!(" (it was made for {o})"),
                    None => String::new(),
                }
            ),
        )
        .at(AttrPath::root("role_name")),
    }
}
