//! The typed error of one AWS call, and "not found" as a value.
//!
//! Owns: [`AwsError`] (an AWS operation failed: code, message, operation)
//! and [`found`], which turns the service's "does not exist" answers into
//! `Ok(None)`. Does not own: deciding what to retry (`super::retry`) or
//! what to tell the user (`crate::errors`).

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

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
    AwsError::Service {
        operation: "Op",
        code: code.into(),
        message: message.into(),
    }
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
