//! Why the Kubernetes API of a cluster could not be used, and what to tell
//! the user about it.
//!
//! Owns: [`KubeError`], its advice, and its one conversion to a diagnostic
//! (kept beside the error rather than in `crate::errors`, which is about
//! AWS). Does not own: AWS errors (DescribeCluster's are wrapped here and
//! advised by `crate::errors`).

use crate::aws::AwsError;

/// Why the Kubernetes API of a cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// DescribeCluster failed.
    #[error("looking up cluster {cluster}")]
    Describe {
        /// The cluster.
        cluster: String,
        /// The AWS error.
        #[source]
        source: AwsError,
    },
    /// The cluster does not exist.
    #[error("cluster {cluster} does not exist")]
    NoCluster {
        /// The cluster.
        cluster: String,
    },
    /// DescribeCluster gave no endpoint or CA.
    #[error("cluster {cluster} has no Kubernetes API endpoint or certificate authority yet")]
    NoEndpoint {
        /// The cluster.
        cluster: String,
    },
    /// The kubeconfig named by `config_path` cannot be used.
    #[error("the kubeconfig {path} cannot be used for cluster {cluster}: {detail}")]
    Kubeconfig {
        /// The cluster.
        cluster: String,
        /// The kubeconfig path.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The API server URL is not https.
    #[error(
        "{from} for cluster {cluster} is {server:?}: the provider sends credentials to the Kubernetes API only over https"
    )]
    Insecure {
        /// The cluster.
        cluster: String,
        /// The URL.
        server: String,
        /// Where it came from.
        from: String,
    },
    /// The provider configuration is not known yet (plan).
    #[error(
        "the Kubernetes API of cluster {cluster} is not called, because the provider configuration ({attributes}) is known only at apply"
    )]
    ConfigUnknown {
        /// The cluster.
        cluster: String,
        /// The unknown attributes.
        attributes: String,
    },
    /// The client certificate or key could not be used.
    #[error("the client certificate for cluster {cluster} cannot be used: {detail}")]
    BadClientCert {
        /// The cluster.
        cluster: String,
        /// What was wrong.
        detail: String,
    },
    /// The CA certificate could not be used.
    #[error(
        "the certificate authority of cluster {cluster} is not a usable PEM certificate: {detail}"
    )]
    BadCa {
        /// The cluster.
        cluster: String,
        /// What was wrong.
        detail: String,
    },
    /// The EKS token could not be made.
    #[error("making an EKS token for cluster {cluster}: {detail}")]
    Token {
        /// The cluster.
        cluster: String,
        /// What failed (credentials, signing).
        detail: String,
    },
    /// No answer.
    #[error("{method} {path} on cluster {cluster}: {detail}")]
    Transport {
        /// The cluster.
        cluster: String,
        /// HTTP method.
        method: &'static str,
        /// Request path.
        path: String,
        /// The cause.
        detail: String,
    },
    /// The API answered success with a body that is not JSON (a proxy's
    /// page, an answer cut short): nothing of it can be trusted.
    #[error(
        "{method} {path} on cluster {cluster}: HTTP {code}, but the answer is not JSON: {detail}"
    )]
    NotJson {
        /// The cluster.
        cluster: String,
        /// HTTP method.
        method: &'static str,
        /// Request path.
        path: String,
        /// HTTP status.
        code: u16,
        /// The parse error and the answer's first characters.
        detail: String,
    },
    /// The API answered with an error `Status`.
    #[error("{method} {path} on cluster {cluster}: HTTP {code} {reason}: {message}")]
    Status {
        /// The cluster.
        cluster: String,
        /// HTTP method.
        method: &'static str,
        /// Request path.
        path: String,
        /// HTTP status.
        code: u16,
        /// Kubernetes reason (`NotFound`, `Forbidden`, ...).
        reason: String,
        /// Kubernetes message.
        message: String,
    },
}

impl KubeError {
    /// HTTP status of an API error.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// What the user should do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            KubeError::Status { code: 401, .. } => {
                "The cluster refused the EKS token. The identity Terraform runs as must be able to call sts:GetCallerIdentity, and the cluster must know it: add an EKS access entry (or an aws-auth mapping) for it. Or set host, cluster_ca_certificate and token in the provider's kubernetes block."
            }
            KubeError::Status { code: 403, .. } => {
                "The identity Terraform runs as is known to the cluster but may not do this. Grant it get, list, create, patch and delete on namespaces and serviceaccounts (for example with an access entry and the AmazonEKSClusterAdminPolicy access policy, or an RBAC role)."
            }
            KubeError::Transport { .. } => {
                "Check that the cluster's API endpoint is reachable from where Terraform runs (a private endpoint needs network access to the VPC), or set host in the provider's kubernetes block."
            }
            KubeError::NotJson { .. } => {
                "Check that host in the provider's kubernetes block (or the kubeconfig's server) is the cluster's Kubernetes API itself, not a proxy or another web server, then run Terraform again."
            }
            KubeError::Token { .. } => {
                "The provider signs the token with the same AWS credentials it uses for EKS; check that they are available."
            }
            KubeError::Kubeconfig { .. } => {
                "Check config_path and config_context in the provider's kubernetes block (the context must name a cluster with an https server, and its user a static token, a client certificate, or aws eks get-token for this cluster), or remove them to use DescribeCluster's endpoint and an EKS token."
            }
            KubeError::Insecure { .. } => {
                "Use the https:// URL of the API server (EKS endpoints always are https)."
            }
            KubeError::BadClientCert { .. } => {
                "Check the user's client-certificate(-data) and client-key(-data) in the kubeconfig: a PEM certificate and its unencrypted PEM private key."
            }
            KubeError::ConfigUnknown { .. } => {
                "The provider block uses values of resources that do not exist yet. Create those first (terraform apply -target=...) or set them to known values."
            }
            _ => "",
        }
    }
}

/// An error with its sources, joined with ": ".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// A Kubernetes error as a diagnostic: `summary` says what we were doing.
/// (Kept beside [`KubeError`] rather than in `errors`, which is about AWS.)
pub fn to_diagnostic(summary: impl Into<String>, err: &KubeError) -> tfplugin::Diagnostic {
    let mut detail = error_chain(err);
    let advice = match err {
        KubeError::Describe { source, .. } => crate::errors::advice(source),
        _ => err.advice(),
    };
    if !advice.is_empty() {
        detail.push_str("\n\n");
        detail.push_str(advice);
    }
    tfplugin::Diagnostic::error(summary, detail)
}
