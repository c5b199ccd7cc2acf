//! The provider's data sources, one file each.
pub mod addon_pod_identity_configuration;
pub mod pod_identity_associations;
pub mod well_known_policy;
