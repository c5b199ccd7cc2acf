//! Schemas, typed state, validation and plan logic of the eks provider.
//!
//! Owns: the description of every resource, data source and the provider
//! configuration (as [`spec`] values, independent of Terraform's wire types),
//! the typed state structs that are their twins, and every rule that can be
//! decided without talking to AWS: name and ARN syntax, policy document
//! comparison, tag merging and diffing, cross-attribute checks, update plans.
//! Does not own: any I/O (AWS, Kubernetes, files) or the plugin protocol; the
//! provider crate maps these specs onto `tfplugin` and calls the rules.
#![deny(missing_docs)]

pub mod addon;
pub mod addon_config_data;
pub mod association;
pub mod associations_data;
pub mod cluster_auth;
pub mod functions;
pub mod input;
pub mod kubeconfig;
pub mod lists;
pub mod migration;
pub mod names;
pub mod partition;
pub mod pod_identity_role;
pub mod policy;
pub mod provider_config;
pub mod registry;
pub mod reserved_tags;
pub mod role;
pub mod settings;
pub mod spec;
pub mod tags;
pub mod well_known;
pub mod well_known_data;
pub mod well_known_scope;

pub use input::Input;
pub use spec::{Attr, BlockSpec, Kind, Mode, Problem, ResourceSpec};
