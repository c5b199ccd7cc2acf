//! The `eks` Terraform provider: EKS Pod Identity as resources.
//!
//! Owns: the provider (configuration, registration), the AWS layer
//! ([`aws`]: clients, typed finders, mutators, waiters and retries), the
//! one place errors become diagnostics ([`errors`]), the Kubernetes client
//! ([`kube`]), the ownership gate every write to a role or association
//! passes, with the life of made roles ([`ownership`]), and the resources
//! and data sources. Schemas, typed state and pure rules are in the
//! `schema` crate; the plugin protocol is in `tfplugin`.
#![deny(missing_docs)]

pub mod aws;
pub mod data_sources;
pub mod ephemeral_resources;
pub mod errors;
pub mod functions;
pub mod kube;
pub mod ownership;
pub mod provider;
pub mod resources;
pub mod spec_map;
