//! The AWS layer: every call the provider makes to EKS, IAM and STS.
//!
//! Owns, one module per AWS concept: the clients of one configured provider
//! ([`clients`]), the typed error of an AWS call ([`error`]), EKS
//! associations, addons, clusters and tags ([`eks`]), IAM roles ([`iam`]),
//! the EKS bearer token ([`token`]), every retry and wait ([`retry`]), and
//! the [`grant`] type every role and association write takes (made by the
//! ownership gate alone).
//! Finders return `Result<Option<T>>` ("not found" is a value); mutators and
//! waiters take and return the provider's own types, never SDK types, so
//! resources never see `aws_sdk_*`. Does not own: Terraform diagnostics
//! (`crate::errors`) or what a resource decides to do.

pub mod clients;
pub mod eks;
pub mod error;
pub mod grant;
pub mod iam;
pub mod retry;
pub mod token;

pub use clients::Clients;
pub use error::AwsError;

use std::future::Future;
use std::pin::Pin;

/// What a call that waits or retries needs of its caller: a signal that
/// the work is to stop (Terraform's StopProvider). The AWS layer knows no
/// protocol type: the provider's edge implements this for its request
/// context (`crate::provider`), tests for whatever they hold.
pub trait Stop: Sync {
    /// Resolves once the work is to stop (never, for a caller that never
    /// stops it).
    fn stopped(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}
