//! The provider's ephemeral resources: values Terraform obtains for one run
//! and never stores in plan or state.
pub mod cluster_auth;
