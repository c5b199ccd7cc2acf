//! The `eks` Terraform provider: EKS Pod Identity as resources.
//!
//! Owns: the provider (configuration, registration), the AWS layer (clients,
//! finders, retries, errors → diagnostics) and the resources and data
//! sources. Schemas, typed state and pure rules are in the `schema` crate;
//! the plugin protocol is in `tfplugin`.
#![deny(missing_docs)]

pub mod clients;
pub mod data_sources;
pub mod eks;
pub mod errors;
pub mod iam;
pub mod kube;
pub mod made_role;
pub mod provider;
pub mod resources;
pub mod retry;
pub mod spec_map;
