//! The provider's resources, one file each.
pub mod pod_identity_association;
