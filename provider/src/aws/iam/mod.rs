//! IAM: the roles the provider makes and the roles it migrates.
//!
//! Owns nothing itself; [`role`] has the finders and mutators.

pub mod role;
