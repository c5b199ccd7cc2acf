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
