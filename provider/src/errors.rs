//! The one place where errors of the AWS layer become Terraform diagnostics.
//!
//! Owns: [`to_diagnostic`], which writes the summary ("creating EKS Pod
//! Identity Association (ns/sa)") and a detail with the cause and what to
//! do, and [`config_diagnostic`] for a provider block that cannot become
//! clients. Does not own: the error types (`crate::aws::error`,
//! `crate::aws::clients::ConfigError`), deciding what to retry
//! (`crate::aws::retry`), or made-role and Kubernetes errors (beside their
//! own types in `crate::made_role` and `crate::kube`).

use crate::aws::AwsError;
use crate::aws::clients::ConfigError;
use tfplugin::{AttrPath, Diagnostic};

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
