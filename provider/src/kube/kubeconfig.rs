//! Where one cluster's API is and how to authenticate to it, before any
//! connection: the provider's `kubernetes {}` block, its kubeconfig, or
//! DescribeCluster's endpoint and CA.
//!
//! Owns: [`Target`] and [`Credential`], reading PEMs inline or from files,
//! refusing plain http and another cluster's token exec. Does not own:
//! parsing kubeconfig files (`schema::kubeconfig`), TLS and tokens (see
//! `auth`).

use std::path::Path;

use base64::Engine;
use schema::kubeconfig::{self, KubeAuth, Pem};

use super::error::KubeError;
use crate::aws::Clients;
use crate::aws::eks::cluster as eks_cluster;

/// What the provider will send to the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Credential {
    /// A bearer token from the provider block or the kubeconfig.
    Token(String),
    /// The provider's own EKS token.
    EksToken,
    /// A client certificate chain and key (PEM texts): no bearer token.
    ClientCert { cert: String, key: String },
}

/// Where and how to reach one cluster's API, before any connection.
#[derive(Debug)]
pub(super) struct Target {
    pub(super) server: String,
    pub(super) ca_pem: Option<String>,
    pub(super) credential: Credential,
}

/// The text of a PEM given inline (base64) or as a file.
async fn read_pem(pem: &Pem, what: &str) -> Result<String, String> {
    match pem {
        Pem::Data(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| format!("{what} is not base64 of a PEM text")),
        Pem::File(file) => tokio::fs::read_to_string(file)
            .await
            .map_err(|e| format!("reading {what} {file} failed: {e}")),
    }
}

/// Server, CA and credential from a kubeconfig file (paths in it relative
/// to its own directory). The provider's EKS token is used only where the
/// kubeconfig asks for an EKS token for this very cluster, or names no
/// credentials; another cluster's token exec is refused.
async fn from_kubeconfig(
    path: &str,
    context: Option<&str>,
    cluster: &str,
) -> Result<Target, KubeError> {
    let fail = |detail: String| KubeError::Kubeconfig {
        cluster: cluster.to_string(),
        path: path.to_string(),
        detail,
    };
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| fail(format!("reading it failed: {e}")))?;
    let access = kubeconfig::resolve_at(&text, context, Some(Path::new(path))).map_err(fail)?;
    let ca_pem = match (&access.ca_data, &access.ca_file) {
        (Some(data), _) => Some(
            read_pem(&Pem::Data(data.clone()), "certificate-authority-data")
                .await
                .map_err(fail)?,
        ),
        (None, Some(file)) => Some(
            read_pem(&Pem::File(file.clone()), "certificate-authority")
                .await
                .map_err(fail)?,
        ),
        (None, None) => None,
    };
    let credential = match access.auth {
        KubeAuth::Token(t) => Credential::Token(t),
        KubeAuth::ClientCert { cert, key } => Credential::ClientCert {
            cert: read_pem(&cert, "client-certificate").await.map_err(fail)?,
            key: read_pem(&key, "client-key").await.map_err(fail)?,
        },
        KubeAuth::EksToken {
            cluster: Some(named),
        } if named != cluster => {
            return Err(fail(format!(
                "its user makes EKS tokens for cluster {named:?}, and the provider does not send a token for cluster {cluster:?} to a server the kubeconfig says belongs to {named:?}; use a context for {cluster:?}"
            )));
        }
        KubeAuth::EksToken { .. } | KubeAuth::Default => Credential::EksToken,
    };
    Ok(Target {
        server: access.server,
        ca_pem,
        credential,
    })
}

/// The API server URL must be https: a bearer token (or a client
/// certificate's session) goes to it.
fn require_https(cluster: &str, server: &str, from: &str) -> Result<(), KubeError> {
    if server.starts_with("https://") {
        Ok(())
    } else {
        Err(KubeError::Insecure {
            cluster: cluster.to_string(),
            server: server.to_string(),
            from: from.to_string(),
        })
    }
}

/// Where the cluster's API is and how to authenticate: the provider's
/// `kubernetes {}` block (and its kubeconfig) when set, else the endpoint
/// and CA of DescribeCluster and an EKS token.
pub(super) async fn target(clients: &Clients, cluster: &str) -> Result<Target, KubeError> {
    if !clients.config_known() {
        return Err(KubeError::ConfigUnknown {
            cluster: cluster.to_string(),
            attributes: clients.unknown_config.join(", "),
        });
    }
    let overrides = clients.kubernetes.clone().unwrap_or_default();
    let from_file = match &overrides.config_path {
        Some(path) => {
            Some(from_kubeconfig(path, overrides.config_context.as_deref(), cluster).await?)
        }
        None => None,
    };
    let credential = match (&overrides.token, &from_file) {
        (Some(t), _) => Credential::Token(t.clone()),
        (None, Some(f)) => f.credential.clone(),
        (None, None) => Credential::EksToken,
    };
    if let Some(host) = &overrides.host {
        require_https(cluster, host, "host in the provider's kubernetes block")?;
        let ca_pem = overrides
            .cluster_ca_certificate
            .clone()
            .or_else(|| from_file.and_then(|f| f.ca_pem));
        return Ok(Target {
            server: host.clone(),
            ca_pem,
            credential,
        });
    }
    if let Some(f) = from_file {
        require_https(cluster, &f.server, "the kubeconfig's server")?;
        return Ok(Target {
            server: f.server,
            ca_pem: overrides.cluster_ca_certificate.clone().or(f.ca_pem),
            credential,
        });
    }
    let (server, ca) = describe(clients, cluster).await?;
    require_https(cluster, &server, "DescribeCluster's endpoint")?;
    Ok(Target {
        server,
        ca_pem: overrides.cluster_ca_certificate.clone().or(Some(ca)),
        credential,
    })
}

/// The endpoint and CA (PEM) that DescribeCluster reports.
async fn describe(clients: &Clients, cluster: &str) -> Result<(String, String), KubeError> {
    let found = eks_cluster::find_by_name(clients, cluster)
        .await
        .map_err(|source| KubeError::Describe {
            cluster: cluster.to_string(),
            source,
        })?
        .ok_or_else(|| KubeError::NoCluster {
            cluster: cluster.to_string(),
        })?;
    let no_endpoint = || KubeError::NoEndpoint {
        cluster: cluster.to_string(),
    };
    let endpoint = found.endpoint.ok_or_else(no_endpoint)?;
    let ca_b64 = found.ca_data.ok_or_else(no_endpoint)?;
    let pem = read_pem(&Pem::Data(ca_b64), "certificateAuthority.data")
        .await
        .map_err(|detail| KubeError::BadCa {
            cluster: cluster.to_string(),
            detail,
        })?;
    Ok((endpoint, pem))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use schema::provider_config::{Kubernetes, ProviderConfig};
    use std::sync::Arc;

    /// Clients whose provider block names the kubeconfig at `path`.
    pub(crate) fn clients_with_kubeconfig(path: &Path) -> Arc<Clients> {
        let cfg = ProviderConfig {
            region: Some("us-east-1".into()),
            kubernetes: Some(Kubernetes {
                config_path: Some(path.display().to_string()),
                ..Kubernetes::default()
            }),
            ..ProviderConfig::default()
        };
        Arc::new(Clients::deferred(&cfg, vec![]))
    }

    fn kubeconfig_with(server: &str, user: &str) -> String {
        format!(
            "apiVersion: v1\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: {server}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n{user}"
        )
    }

    async fn target_of(kubeconfig: &str, cluster: &str) -> Result<Target, KubeError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, kubeconfig).unwrap();
        target(&clients_with_kubeconfig(&path), cluster).await
    }

    #[tokio::test]
    async fn eks_token_goes_only_where_the_kubeconfig_asks_for_one_for_this_cluster() {
        let exec = |cluster: &str| {
            format!(
                "    exec:\n      command: aws\n      args: [eks, get-token, --cluster-name, {cluster}]\n"
            )
        };
        let t = target_of(&kubeconfig_with("https://k:443", &exec("a")), "a")
            .await
            .unwrap();
        assert_eq!(t.credential, Credential::EksToken);
        let e = target_of(&kubeconfig_with("https://k:443", &exec("b")), "a")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("makes EKS tokens for cluster \"b\""),
            "{e}"
        );
        let foreign = "    exec:\n      command: gke-gcloud-auth-plugin\n";
        let e = target_of(&kubeconfig_with("https://k:443", foreign), "a")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("does not run"), "{e}");
        let e = target_of(&kubeconfig_with("http://k:80", &exec("a")), "a")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
        let t = target_of(&kubeconfig_with("https://k:443", "    token: abc\n"), "a")
            .await
            .unwrap();
        assert_eq!(t.credential, Credential::Token("abc".into()));
    }

    #[tokio::test]
    async fn plain_http_host_is_refused_before_any_connection() {
        let cfg = ProviderConfig {
            kubernetes: Some(Kubernetes {
                host: Some("http://127.0.0.1:1".into()),
                ..Kubernetes::default()
            }),
            ..ProviderConfig::default()
        };
        let clients = Arc::new(Clients::deferred(&cfg, vec![]));
        let e = target(&clients, "a").await.unwrap_err();
        assert!(matches!(e, KubeError::Insecure { .. }), "{e}");
    }

    #[tokio::test]
    async fn unknown_configuration_calls_nothing() {
        let clients = Arc::new(Clients::deferred(
            &ProviderConfig::default(),
            vec!["region".into()],
        ));
        let e = target(&clients, "a").await.unwrap_err();
        assert!(
            e.to_string().contains("(region) is known only at apply"),
            "{e}"
        );
    }
}
