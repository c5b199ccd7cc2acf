//! The provider's resources, one file each.
pub mod addon_pod_identity;
pub mod pod_identity_association;
pub mod pod_identity_migration;
