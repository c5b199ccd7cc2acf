//! Kubernetes access to an EKS cluster: the few core/v1 calls the provider
//! makes (namespaces and service accounts), authenticated the way
//! `aws eks get-token` does it.
//!
//! Owns: where a cluster's API is (DescribeCluster's endpoint and CA, or the
//! provider's `kubernetes {}` block), when to renew the EKS bearer token
//! (made by `crate::aws::token`), the HTTPS client (rustls on ring,
//! trusting only the cluster CA), and [`KubeError`]. Does not own: what a
//! resource does with service accounts (the association's service-account
//! lifecycle is `resources::pod_identity_association::service_account`).
//!
//! Why not `kube` + `k8s-openapi`: we make six kinds of call on two object
//! kinds. A small client on the hyper/rustls stack the AWS SDK already
//! brings costs no extra compile time (k8s-openapi alone is one of the
//! slowest crates to build), and keeps a single rustls crypto provider.

mod auth;
mod calls;
mod error;
mod kubeconfig;

pub use calls::{
    CONNECT_TIMEOUT, Ensured, Kube, MANAGED_BY, MANAGED_BY_LABEL, REQUEST_TIMEOUT,
    ROLE_ARN_ANNOTATION, ServiceAccount, connect, ensure_service_account,
};
pub use error::{KubeError, error_chain, to_diagnostic};
