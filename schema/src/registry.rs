//! The one list of what the provider serves: the type names of its
//! resources and data sources.
//!
//! Owns: [`RESOURCE_TYPES`], [`DATA_SOURCE_TYPES`], [`EPHEMERAL_TYPES`],
//! [`LIST_TYPES`] and [`FUNCTIONS`]. The provider
//! registers exactly these (a test in the provider crate checks it), and
//! `docgen` writes a page for each, without compiling the provider.

/// Type names of the resources, in registration order.
pub const RESOURCE_TYPES: [&str; 4] = [
    crate::association::TYPE_NAME,
    crate::addon::TYPE_NAME,
    crate::migration::TYPE_NAME,
    crate::pod_identity_role::TYPE_NAME,
];

/// Type names of the data sources, in registration order.
pub const DATA_SOURCE_TYPES: [&str; 3] = [
    crate::associations_data::TYPE_NAME,
    crate::well_known_data::TYPE_NAME,
    crate::addon_config_data::TYPE_NAME,
];

/// Type names of the ephemeral resources, in registration order.
pub const EPHEMERAL_TYPES: [&str; 1] = [crate::cluster_auth::TYPE_NAME];

/// Type names of the list resources (each a managed resource's), in
/// registration order.
pub const LIST_TYPES: [&str; 3] = [
    crate::association::TYPE_NAME,
    crate::addon::TYPE_NAME,
    crate::pod_identity_role::TYPE_NAME,
];

/// Names of the provider-defined functions, in registration order.
pub const FUNCTIONS: [&str; 3] = crate::functions::FUNCTION_NAMES;
