//! The provider's own configuration block (design §1).
//!
//! Owns: its spec and typed form. Does not own: turning it into AWS clients.

use crate::names::check_role_arn;
use crate::spec::{Attr, BlockSpec, Kind, ResourceSpec};
use crate::tags::Tags;
use serde::{Deserialize, Serialize};

/// `provider "eks" { ... }` as typed state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProviderConfig {
    /// AWS region.
    pub region: Option<String>,
    /// Shared config profile.
    pub profile: Option<String>,
    /// Role to assume for every call.
    pub assume_role: Option<AssumeRole>,
    /// Endpoint overrides.
    pub endpoints: Option<Endpoints>,
    /// Tags merged into every taggable thing we create.
    pub default_tags: Option<Tags>,
    /// Most attempts per AWS call.
    pub max_retries: Option<i64>,
    /// Kubernetes API access overrides.
    pub kubernetes: Option<Kubernetes>,
}

/// `kubernetes { ... }`: how to reach the clusters' Kubernetes API instead
/// of DescribeCluster's endpoint and CA and an EKS token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Kubernetes {
    /// API server URL.
    pub host: Option<String>,
    /// PEM of the CA that signed the API server's certificate.
    pub cluster_ca_certificate: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
    /// Kubeconfig file to take server, CA and token from.
    pub config_path: Option<String>,
    /// Context of that kubeconfig (default: its current context).
    pub config_context: Option<String>,
}

/// `assume_role { ... }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AssumeRole {
    /// Role to assume.
    pub role_arn: Option<String>,
    /// Session name.
    pub session_name: Option<String>,
    /// External ID the role's trust policy asks for.
    pub external_id: Option<String>,
}

/// `endpoints { ... }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Endpoints {
    /// EKS endpoint URL.
    pub eks: Option<String>,
    /// IAM endpoint URL.
    pub iam: Option<String>,
    /// STS endpoint URL.
    pub sts: Option<String>,
}

/// Default number of attempts per AWS call (standard retry: exponential back-off with jitter).
pub const DEFAULT_MAX_RETRIES: i64 = 25;

fn check_url(s: &str) -> Result<(), String> {
    if s.starts_with("http://") || s.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a URL: write it as https://host[:port] (or http:// for a local endpoint)."
        ))
    }
}

/// The Kubernetes API server URL: https only, because the provider sends a
/// bearer token (its EKS token or the configured one) to it.
pub fn check_kubernetes_host(s: &str) -> Result<(), String> {
    if s.starts_with("https://") {
        Ok(())
    } else if s.starts_with("http://") {
        Err(format!(
            "{s:?} is plain HTTP: the provider sends a bearer token to the Kubernetes API and does so only over TLS. Write it as https://host[:port]."
        ))
    } else {
        Err(format!(
            "{s:?} is not a URL: write it as https://host[:port]."
        ))
    }
}

/// The spec of the provider block.
pub fn spec() -> ResourceSpec {
    ResourceSpec {
        name: "eks",
        description: "The `eks` provider manages EKS Pod Identity: associations, addons that receive their permissions through pod identity, and IRSA migrations. Credentials come from the standard AWS chain (environment, shared config and credentials files, SSO, web identity, instance metadata).",
        version: 0,
        attrs: vec![
            Attr::optional(
                "region",
                Kind::String,
                "AWS region of the clusters, such as `us-west-2`. Defaults to `AWS_REGION` / `AWS_DEFAULT_REGION` or the profile's region, as the AWS CLI does.",
            ),
            Attr::optional(
                "profile",
                Kind::String,
                "Named profile of the shared AWS config and credentials files (SSO profiles included). Defaults to `AWS_PROFILE`.",
            ),
            Attr::optional(
                "default_tags",
                Kind::StringMap,
                "Tags merged into every association and role this provider creates. A resource's own `tags` win on conflicts.",
            ),
            Attr::optional(
                "max_retries",
                Kind::Number,
                "Most attempts per AWS call; throttled and failed calls are retried with exponential back-off and jitter. Defaults to 25.",
            ),
        ],
        blocks: vec![
            BlockSpec {
                name: "assume_role",
                description: "Assume this IAM role (through STS) for every call the provider makes.",
                attrs: vec![
                    Attr::optional("role_arn", Kind::String, "ARN of the role to assume.")
                        .check(check_role_arn),
                    Attr::optional(
                        "session_name",
                        Kind::String,
                        "Session name of the assumed role. Defaults to `terraform-provider-eks`.",
                    ),
                    Attr::optional(
                        "external_id",
                        Kind::String,
                        "External ID required by the role's trust policy.",
                    )
                    .sensitive(),
                ],
            },
            BlockSpec {
                name: "endpoints",
                description: "Custom service endpoints, for local testing or private endpoints. `AWS_ENDPOINT_URL_EKS`, `AWS_ENDPOINT_URL_IAM` and `AWS_ENDPOINT_URL_STS` work too.",
                attrs: vec![
                    Attr::optional("eks", Kind::String, "EKS endpoint URL.").check(check_url),
                    Attr::optional("iam", Kind::String, "IAM endpoint URL.").check(check_url),
                    Attr::optional("sts", Kind::String, "STS endpoint URL.").check(check_url),
                ],
            },
            BlockSpec {
                name: "kubernetes",
                description: "How to reach the Kubernetes API of the clusters (used by `create_service_account` and `eks_pod_identity_migration`). By default the provider uses the endpoint and certificate authority that DescribeCluster reports and an EKS token signed with its AWS credentials, as `aws eks get-token` does; the identity needs an EKS access entry (or aws-auth mapping) that allows reading and changing namespaces and service accounts. Set these only to reach the API another way.",
                attrs: vec![
                    Attr::optional("host", Kind::String, "URL of the Kubernetes API server, such as `https://10.0.0.1:443` (https only: the provider sends a bearer token to it). Applies to every cluster of this provider configuration.").check(check_kubernetes_host),
                    Attr::optional("cluster_ca_certificate", Kind::String, "PEM of the certificate authority of the API server. Defaults to the cluster's CA from DescribeCluster (or, with `host`, the system roots)."),
                    Attr::optional("token", Kind::String, "Bearer token for the Kubernetes API. Defaults to an EKS token for the cluster, made from the provider's AWS credentials.").sensitive(),
                    Attr::optional("config_path", Kind::String, "A kubeconfig file to take the API server, certificate authority and token from (its context's `server`, `certificate-authority-data` or `certificate-authority`, and the user's `token` or client certificate; a user whose `exec` makes an EKS token for the same cluster — `aws eks get-token` or `aws-iam-authenticator token` — or that names no credentials gets the provider's own EKS token; any other `exec` plugin or `auth-provider` is refused, never answered with the EKS token; relative paths resolve against the kubeconfig's directory; the server must be https). host, cluster_ca_certificate and token set here win over it. Applies to every cluster of this provider configuration."),
                    Attr::optional("config_context", Kind::String, "Context of the kubeconfig in `config_path`; defaults to its current context."),
                ],
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_and_spec_are_twins() {
        crate::spec::twins::assert_twins::<ProviderConfig>(&spec());
    }

    #[test]
    fn endpoint_urls_are_checked() {
        assert!(check_url("http://127.0.0.1:4566").is_ok());
        assert!(check_url("127.0.0.1:4566").is_err());
    }

    #[test]
    fn kubernetes_host_must_be_https() {
        assert!(check_kubernetes_host("https://10.0.0.1:443").is_ok());
        let e = check_kubernetes_host("http://10.0.0.1").unwrap_err();
        assert!(e.contains("plain HTTP") && e.contains("https://"), "{e}");
        assert!(check_kubernetes_host("10.0.0.1").is_err());
    }
}
