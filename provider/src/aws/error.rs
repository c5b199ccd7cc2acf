//! The typed error of one AWS call, and "not found" as a value.
//!
//! Owns: [`AwsError`] (an AWS operation failed: code, message, operation,
//! and AWS's request ID and HTTP status, which support asks for),
//! the one translation of an SDK error into it ([`AwsError::from_sdk`]:
//! what AWS said, or which endpoint did not answer and how, or that no
//! credentials were found — never the SDK's `Debug` text), [`NoAnswer`]
//! (the endpoint a failed request went to, put into the error chain by
//! `super::clients`), and [`found`], which turns the service's "does not
//! exist" answers into `Ok(None)`. Does not own: deciding what to retry
//! (`super::retry`) or what to tell the user (`crate::errors`).

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use std::error::Error as StdError;

/// An AWS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The service answered with an error code.
    #[error("{operation}: {code}: {message}{}", answer_suffix(request_id.as_deref(), *status))]
    Service {
        /// Operation name, such as `CreatePodIdentityAssociation`.
        operation: &'static str,
        /// AWS error code, such as `ResourceInUseException`.
        code: String,
        /// The service's message.
        message: String,
        /// AWS's ID of the request (what AWS support asks for); `None` when
        /// the answer had none, or the error was made by the provider.
        request_id: Option<String>,
        /// The HTTP status of the answer; `None` when made by the provider.
        status: Option<u16>,
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
    /// The endpoint did not answer: connection refused, unknown host, or
    /// no answer within the timeouts of `super::clients`.
    #[error("{operation}: no answer from {endpoint}: {reason}")]
    Unreachable {
        /// Operation name.
        operation: &'static str,
        /// Scheme, host and port the request went to.
        endpoint: String,
        /// What happened, in words (`connection refused`, ...).
        reason: String,
    },
    /// The credential chain (or the named profile, or assume_role) gave no
    /// credentials.
    #[error("{operation}: no AWS credentials: {detail}")]
    NoCredentials {
        /// Operation name.
        operation: &'static str,
        /// What the credential providers said, without their Debug text.
        detail: String,
    },
    /// The provider configuration depends on values Terraform knows only
    /// at apply, so no AWS call may be made with it yet.
    #[error(
        "{operation}: not called, because the provider configuration ({attributes}) is known only at apply"
    )]
    ConfigUnknown {
        /// Operation name.
        operation: &'static str,
        /// The unknown attributes, comma-separated.
        attributes: String,
    },
    /// The provider block could not be made into clients (no region, a
    /// missing profile): said at the first AWS call, not at configure, so
    /// that what calls no AWS (functions, eks_well_known_policy) works.
    #[error("{operation}: not called, because the provider configuration is not usable: {problem}")]
    ConfigInvalid {
        /// Operation name.
        operation: &'static str,
        /// What is wrong and how to fix it.
        problem: String,
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
    /// The request ID comes from the error's metadata (IAM puts it in the
    /// body) or else the answer's headers (EKS, STS).
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match err.code() {
            Some(code) => AwsError::Service {
                operation,
                code: code.to_string(),
                message: shorten_message(err.message().unwrap_or_default()),
                request_id: err
                    .meta()
                    .request_id()
                    .or_else(|| err.request_id())
                    .map(str::to_string),
                status: err.raw_response().map(|r| r.status().as_u16()),
            },
            None => from_chain(operation, &err),
        }
    }

    /// An error the provider makes itself in the service's terms (a check
    /// of its own that failed as the service would have): no request ID,
    /// no HTTP status.
    pub fn service(operation: &'static str, code: &str, message: String) -> AwsError {
        AwsError::Service {
            operation,
            code: code.to_string(),
            message,
            request_id: None,
            status: None,
        }
    }

    /// AWS's request ID, when the service answered with one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            AwsError::Service { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the service's answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            AwsError::Service { status, .. } => *status,
            _ => None,
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

/// The request of a failed call went to `endpoint` and got no answer.
/// `super::clients` wraps connection and timeout errors in it, because the
/// SDK's own errors do not say where the request went.
#[derive(Debug, thiserror::Error)]
#[error("no answer from {endpoint}")]
pub struct NoAnswer {
    /// Scheme, host and port.
    pub endpoint: String,
    /// The SDK's error.
    #[source]
    pub source: Box<dyn StdError + Send + Sync>,
}

/// Refusal of every AWS call while the provider configuration is not known
/// (see `super::clients`).
#[derive(Debug, thiserror::Error)]
#[error("the provider configuration ({0}) is known only at apply")]
pub struct ConfigUnknown(pub String);

/// Refusal of every AWS call when the provider configuration is not usable
/// (see `super::clients`): what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigInvalid(pub String);

/// Every error of a chain, outermost first.
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = vec![err];
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push(e);
        cur = e.source();
    }
    out
}

/// The `Display` texts of a chain joined with ": ", leaving out a text
/// that repeats what the previous one said. Never `Debug`.
pub fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain(err) {
        let text = e.to_string();
        if text.is_empty() || parts.last().is_some_and(|p| p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// A no-answer error in words: refused, unknown host, timed out, or the
/// innermost cause.
fn no_answer_reason(causes: &[&(dyn StdError + 'static)]) -> String {
    for e in causes {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return "connection refused (nothing listens at that address and port)".into();
                }
                std::io::ErrorKind::TimedOut => return "timed out".into(),
                _ => {}
            }
        }
        let text = e.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return "the host name does not resolve (DNS)".into();
        }
    }
    let innermost = causes.last().map(|e| e.to_string()).unwrap_or_default();
    if causes
        .iter()
        .any(|e| e.to_string().contains("timeout") || e.to_string().contains("timed out"))
    {
        format!("no answer within the timeouts ({innermost})")
    } else {
        innermost
    }
}

/// An SDK error that carries no AWS error code, in words.
fn from_chain(operation: &'static str, err: &(dyn StdError + 'static)) -> AwsError {
    let causes = chain(err);
    if let Some(c) = causes
        .iter()
        .find_map(|e| e.downcast_ref::<ConfigUnknown>())
    {
        return AwsError::ConfigUnknown {
            operation,
            attributes: c.0.clone(),
        };
    }
    if let Some(c) = causes
        .iter()
        .find_map(|e| e.downcast_ref::<ConfigInvalid>())
    {
        return AwsError::ConfigInvalid {
            operation,
            problem: c.0.clone(),
        };
    }
    if let Some(i) = causes
        .iter()
        .position(|e| e.downcast_ref::<CredentialsError>().is_some())
    {
        return AwsError::NoCredentials {
            operation,
            detail: chain_text(causes[i]),
        };
    }
    if let Some(i) = causes.iter().position(|e| e.is::<NoAnswer>()) {
        let endpoint = causes[i]
            .downcast_ref::<NoAnswer>()
            .map(|n| n.endpoint.clone())
            .unwrap_or_default();
        return AwsError::Unreachable {
            operation,
            endpoint,
            reason: no_answer_reason(&causes[i + 1..]),
        };
    }
    AwsError::Transport {
        operation,
        detail: chain_text(err),
    }
}

/// What identifies the answer to a failed call: ` (request ID …, HTTP 400)`,
/// or as much of it as is known; empty when nothing is.
fn answer_suffix(request_id: Option<&str>, status: Option<u16>) -> String {
    match (request_id, status) {
        (Some(id), Some(code)) => format!(" (request ID {id}, HTTP {code})"),
        (Some(id), None) => format!(" (request ID {id})"),
        (None, Some(code)) => format!(" (HTTP {code})"),
        (None, None) => String::new(),
    }
}

/// Longest service message kept whole.
const MAX_MESSAGE: usize = 600;

/// A service message without the echo of a long request value: IAM's
/// validation errors quote the whole rejected value (every tag of a
/// request), which says nothing the user's configuration does not.
pub fn shorten_message(message: &str) -> String {
    let mut out = message.to_string();
    if let Some(start) = out.find("Value '")
        && let Some(len) = out[start + 7..].find("' at '")
        && len > 80
    {
        out.replace_range(start + 7..start + 7 + len, "…");
    }
    if out.chars().count() > MAX_MESSAGE {
        out = out.chars().take(MAX_MESSAGE).collect::<String>() + "…";
    }
    out
}

/// Maps "not found" to `None`: the finders' `Result<Option<T>>`.
pub fn found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Maps "not found" to success: deleting what is gone is done.
pub fn gone_is_ok(r: Result<(), AwsError>) -> Result<(), AwsError> {
    found(r).map(|_| ())
}

/// A service error of operation `Op`, for unit tests.
#[cfg(test)]
pub(crate) fn service(code: &str, message: &str) -> AwsError {
    AwsError::service("Op", code, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_codes_of_every_service_are_none() {
        for code in [
            "ResourceNotFoundException",
            "NoSuchEntity",
            "NotFoundException",
        ] {
            assert!(matches!(found::<()>(Err(service(code, "x"))), Ok(None)));
        }
        assert!(found::<()>(Err(service("AccessDenied", "x"))).is_err());
        assert!(matches!(found(Ok(3)), Ok(Some(3))));
    }

    #[test]
    fn is_matches_code_and_message_fragment() {
        let e = service("ResourceInUseException", "Association already exists: a-1");
        assert!(e.is("ResourceInUseException", "already exists"));
        assert!(e.is("ResourceInUseException", ""));
        assert!(!e.is("ResourceInUseException", "nope"));
        assert!(!e.is("InvalidParameterException", ""));
        let t = AwsError::Transport {
            operation: "Op",
            detail: "dns".into(),
        };
        assert_eq!(t.code(), None);
        assert_eq!(t.message(), "");
    }
}
