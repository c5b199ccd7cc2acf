//! `eks_pod_identity_migration`: a reviewable, idempotent IRSA → pod
//! identity migration of one cluster (design §4).
//!
//! Owns, in this order: the state struct and its spec (twins), the trust
//! policy rewrites (add the `pods.eks.amazonaws.com` statement only when
//! absent; remove only the statements federated to this cluster's OIDC
//! provider; everything else kept as it is), which of an addon's service
//! accounts its IRSA trust allowed (only those get the role), the
//! statement-level undo of those rewrites on the *current* trust policy
//! (rollback keeps later edits) and the rollback task list, and the task
//! planner that turns what discovery found into the ordered task list
//! shown in the plan. Does not own: discovery or any call (provider crate).
//!
//! The rooms, in that order: [`state`] (state, spec, steps), [`trust`]
//! (rewrites), [`subjects`] (which service accounts the trust allowed),
//! [`rollback`] (undo and its tasks) and [`plan`] (the task planner). Every
//! public item is re-exported here, so `crate::migration::X` names it.

pub mod plan;
pub mod rollback;
pub mod state;
pub mod subjects;
pub mod trust;

#[cfg(test)]
mod fixtures;

pub use plan::*;
pub use rollback::*;
pub use state::*;
pub use subjects::*;
pub use trust::*;
