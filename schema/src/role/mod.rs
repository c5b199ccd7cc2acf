//! Roles the provider makes for pod identity: names, trust policy, checks of
//! the role-creation attributes, and the smallest change from the role as it
//! is to the role as configured.
//!
//! Owns: everything about a made role that needs no AWS call. Used by
//! `eks_pod_identity_association` and (for its entries) `eks_addon_pod_identity`,
//! so both make roles the same way. Does not own: IAM calls.
//!
//! The rooms: [`name`] (generated names, where a cluster is), [`trust`]
//! (the trust policy), [`permissions`] (policy attributes), [`limits`]
//! (IAM's limits), [`config`] (rules between attributes), [`wanted`] (the
//! role a request asks for) and [`change`] (the smallest IAM change). Every
//! public item is re-exported here, so `crate::role::X` names it.

pub mod change;
pub mod config;
pub mod limits;
pub mod name;
pub mod permissions;
pub mod trust;
pub mod wanted;

pub use change::*;
pub use config::*;
pub use limits::*;
pub use name::*;
pub use permissions::*;
pub use trust::*;
pub use wanted::*;
