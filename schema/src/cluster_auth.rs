//! Ephemeral resource `eks_cluster_auth`: what a Kubernetes or Helm
//! provider needs to reach a cluster — endpoint, CA and a short-lived EKS
//! token — without the token ever being written to plan or state
//! (Terraform ≥ 1.10, OpenTofu ≥ 1.11).
//!
//! Owns: its result struct and spec. The token itself is made by the
//! provider crate (`aws::token`), the way `aws eks get-token` makes it.

use crate::names::check_cluster_name;
use crate::spec::{Attr, Kind, ResourceSpec};
use serde::{Deserialize, Serialize};

/// Ephemeral resource type name.
pub const TYPE_NAME: &str = "eks_cluster_auth";

/// How long the token is valid after it is opened, in minutes (the
/// provider presigns it for this long; EKS accepts up to 15).
pub const TOKEN_MINUTES: u64 = 14;

/// The ephemeral resource's result.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterAuth {
    /// Cluster name.
    pub name: String,
    /// API server endpoint.
    pub endpoint: Option<String>,
    /// Base64 PEM of the cluster's certificate authority.
    pub cluster_ca_certificate: Option<String>,
    /// The EKS bearer token.
    pub token: Option<String>,
    /// When the token stops being accepted (RFC 3339).
    pub expiration: Option<String>,
    /// The region (null: the provider's).
    pub region: Option<String>,
}

/// The ephemeral resource's spec.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: TYPE_NAME,
        description: "Endpoint, certificate authority and a short-lived EKS token for one cluster, to configure the Kubernetes or Helm provider. An ephemeral resource: Terraform opens it for each plan and apply and never writes its values to the plan or the state (Terraform ≥ 1.10, OpenTofu ≥ 1.11). The token is made as `aws eks get-token` makes it, with the provider's credentials, and is accepted for 14 minutes after it is opened: a run that talks to the cluster for longer needs the Kubernetes provider's `exec` instead.",
        version: 0,
        attrs: vec![
            Attr::required("name", Kind::String, "Name of the EKS cluster.")
                .check(check_cluster_name),
            Attr::computed(
                "endpoint",
                Kind::String,
                "URL of the cluster's Kubernetes API server.",
            ),
            Attr::computed(
                "cluster_ca_certificate",
                Kind::String,
                "Base64 PEM of the cluster's certificate authority, as DescribeCluster returns it (decode it with `base64decode()` for the Kubernetes provider's `cluster_ca_certificate`).",
            ),
            Attr::computed(
                "token",
                Kind::String,
                "The EKS bearer token (`k8s-aws-v1.…`), valid for 14 minutes.",
            )
            .sensitive(),
            Attr::computed(
                "expiration",
                Kind::String,
                "When the token stops being accepted (RFC 3339, UTC).",
            ),
            Attr::optional(
                "region",
                Kind::String,
                "The region to read in, when it is not the provider's (one provider block serves every region of its partition, as in the AWS provider v6). Null means the provider's region; a region of another partition is refused.",
            )
            .check(crate::names::check_region),
        ],
        blocks: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<ClusterAuth>(&spec());
    }
}
