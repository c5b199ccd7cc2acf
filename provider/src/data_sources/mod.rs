//! The provider's data sources, one file each.
pub mod pod_identity_associations;
