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

use crate::aws::eks::cluster as eks_cluster;
use crate::aws::{AwsError, Clients, token};
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use schema::kubeconfig::{self, KubeAuth, Pem};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The annotation IRSA puts on a service account.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// The label on objects this provider created.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "terraform-provider-eks";

/// Age after which a new token is made.
const TOKEN_REFRESH: Duration = Duration::from_secs(10 * 60);
/// Timeout of one Kubernetes API request, the answer's body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a TCP connection to the Kubernetes API.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// A service account as the provider needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAccount {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Object UID.
    pub uid: String,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

impl ServiceAccount {
    fn from_json(v: &Value) -> ServiceAccount {
        let strings = |key: &str| -> BTreeMap<String, String> {
            v.pointer(&format!("/metadata/{key}"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let text = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        ServiceAccount {
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name"),
            uid: text("/metadata/uid"),
            annotations: strings("annotations"),
            labels: strings("labels"),
        }
    }

    /// The IRSA role of the service account, if annotated.
    pub fn irsa_role_arn(&self) -> Option<&str> {
        self.annotations
            .get(ROLE_ARN_ANNOTATION)
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
    }
}

enum Auth {
    /// A token from the provider block or the kubeconfig.
    Fixed(String),
    /// No bearer token (a client certificate authenticates).
    None,
    /// EKS tokens made on demand, with the time the current one was made.
    Eks(Mutex<Option<(Instant, String)>>),
}

/// A connection to one cluster's Kubernetes API.
pub struct Kube {
    cluster: String,
    base: String,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    auth: Auth,
    clients: Arc<Clients>,
}

/// What the provider will send to the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Credential {
    /// A bearer token from the provider block or the kubeconfig.
    Token(String),
    /// The provider's own EKS token.
    EksToken,
    /// A client certificate chain and key (PEM texts): no bearer token.
    ClientCert { cert: String, key: String },
}

/// Where and how to reach one cluster's API, before any connection.
#[derive(Debug)]
struct Target {
    server: String,
    ca_pem: Option<String>,
    credential: Credential,
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
async fn target(clients: &Clients, cluster: &str) -> Result<Target, KubeError> {
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

/// Connects to the cluster's Kubernetes API: the provider's `kubernetes {}`
/// block when set, else the endpoint and CA of DescribeCluster and an EKS token.
pub async fn connect(clients: &Arc<Clients>, cluster: &str) -> Result<Kube, KubeError> {
    let t = target(clients, cluster).await?;
    let client_cert = match &t.credential {
        Credential::ClientCert { cert, key } => Some((cert.as_str(), key.as_str())),
        _ => None,
    };
    let tls = tls_config(cluster, t.ca_pem.as_deref(), client_cert)?;
    let auth = match t.credential {
        Credential::Token(token) => Auth::Fixed(token),
        Credential::EksToken => Auth::Eks(Mutex::new(None)),
        Credential::ClientCert { .. } => Auth::None,
    };
    tracing::info!(
        cluster = %cluster,
        "Kubernetes API of cluster {cluster} at {}",
        t.server
    );
    Ok(Kube {
        cluster: cluster.to_string(),
        base: t.server.trim_end_matches('/').to_string(),
        http: https_client(tls),
        auth,
        clients: clients.clone(),
    })
}

/// The TLS configuration (ring only): trust the CA (or the system roots),
/// and present the client certificate when there is one.
fn tls_config(
    cluster: &str,
    ca_pem: Option<&str>,
    client_cert: Option<(&str, &str)>,
) -> Result<rustls::ClientConfig, KubeError> {
    let bad = |detail: String| KubeError::BadCa {
        cluster: cluster.to_string(),
        detail,
    };
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| bad(e.to_string()))?;
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
                n += 1;
            }
            if n == 0 {
                return Err(bad("no CERTIFICATE block".into()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_root_certificates(roots);
    let Some((cert_pem, key_pem)) = client_cert else {
        return Ok(builder.with_no_client_auth());
    };
    let bad_cert = |detail: String| KubeError::BadClientCert {
        cluster: cluster.to_string(),
        detail,
    };
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_cert(format!("the client certificate: {e}")))?;
    if certs.is_empty() {
        return Err(bad_cert(
            "the client certificate has no CERTIFICATE block".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| bad_cert(format!("the client key: {e}")))?;
    builder
        .with_client_auth_cert(certs, key)
        .map_err(|e| bad_cert(e.to_string()))
}

/// An https-only client with a connect timeout.
fn https_client(tls: rustls::ClientConfig) -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(connector)
}

impl Kube {
    /// The cluster this connection is for.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    async fn bearer(&self) -> Result<Option<String>, KubeError> {
        match &self.auth {
            Auth::Fixed(t) => Ok(Some(t.clone())),
            Auth::None => Ok(None),
            Auth::Eks(slot) => {
                if let Ok(guard) = slot.lock()
                    && let Some((made, token)) = guard.as_ref()
                    && made.elapsed() < TOKEN_REFRESH
                {
                    return Ok(Some(token.clone()));
                }
                let token = token::eks_token(&self.clients, &self.cluster)
                    .await
                    .map_err(|detail| KubeError::Token {
                        cluster: self.cluster.clone(),
                        detail,
                    })?;
                if let Ok(mut guard) = slot.lock() {
                    *guard = Some((Instant::now(), token.clone()));
                }
                Ok(Some(token))
            }
        }
    }

    /// One request; `Ok(None)` for 404.
    async fn call(
        &self,
        method: &'static str,
        path: &str,
        content_type: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, KubeError> {
        let transport = |detail: String| KubeError::Transport {
            cluster: self.cluster.clone(),
            method,
            path: format!("{}{path}", self.base),
            detail,
        };
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = self.bearer().await? {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request
            .header("accept", "application/json")
            .header("content-type", content_type)
            .header("user-agent", "terraform-provider-eks")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .map_err(|e| transport(e.to_string()))?;
        let started = Instant::now();
        // One deadline for the answer and its body: a server that sends
        // headers and then stalls must not hang the plan either.
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| transport(error_chain(&e)))?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| transport(error_chain(&e)))?
                .to_bytes();
            Ok::<_, KubeError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| {
                transport(format!(
                    "no complete answer from {} within {} s",
                    self.base,
                    REQUEST_TIMEOUT.as_secs()
                ))
            })??;
        tracing::debug!(
            cluster = %self.cluster,
            "Kubernetes call {method} {path} -> {status} in {} ms",
            started.elapsed().as_millis()
        );
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match status {
            200..=299 => Ok(Some(json)),
            404 => Ok(None),
            code => Err(KubeError::Status {
                cluster: self.cluster.clone(),
                method,
                path: path.to_string(),
                code,
                reason: json["reason"].as_str().unwrap_or_default().to_string(),
                message: json["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect()),
            }),
        }
    }

    fn gone(&self, method: &'static str, path: &str) -> KubeError {
        KubeError::Status {
            cluster: self.cluster.clone(),
            method,
            path: path.to_string(),
            code: 404,
            reason: "NotFound".into(),
            message: "not found".into(),
        }
    }

    /// Whether a namespace exists.
    pub async fn namespace_exists(&self, name: &str) -> Result<bool, KubeError> {
        Ok(self
            .call(
                "GET",
                &format!("/api/v1/namespaces/{name}"),
                "application/json",
                None,
            )
            .await?
            .is_some())
    }

    /// Creates a namespace labelled as ours; one that exists already is fine.
    pub async fn create_namespace(&self, name: &str) -> Result<(), KubeError> {
        let body = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}});
        match self
            .call("POST", "/api/v1/namespaces", "application/json", Some(body))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(409) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The service account, or `None` when it does not exist.
    pub async fn find_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ServiceAccount>, KubeError> {
        let path = format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}");
        Ok(self
            .call("GET", &path, "application/json", None)
            .await?
            .map(|v| ServiceAccount::from_json(&v)))
    }

    /// Every service account of the cluster (all namespaces, all pages).
    pub async fn list_service_accounts(&self) -> Result<Vec<ServiceAccount>, KubeError> {
        let mut out = Vec::new();
        let mut cont: Option<String> = None;
        loop {
            let mut path = "/api/v1/serviceaccounts?limit=500".to_string();
            if let Some(c) = &cont {
                path.push_str("&continue=");
                path.push_str(
                    &percent_encoding::utf8_percent_encode(c, percent_encoding::NON_ALPHANUMERIC)
                        .to_string(),
                );
            }
            let page = self
                .call("GET", &path, "application/json", None)
                .await?
                .ok_or_else(|| self.gone("GET", &path))?;
            out.extend(
                page["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(ServiceAccount::from_json),
            );
            match page.pointer("/metadata/continue").and_then(Value::as_str) {
                Some(c) if !c.is_empty() => cont = Some(c.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// Creates a service account labelled as ours.
    pub async fn create_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<ServiceAccount, KubeError> {
        let path = format!("/api/v1/namespaces/{namespace}/serviceaccounts");
        let body = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace,
                "labels": {MANAGED_BY_LABEL: MANAGED_BY}}});
        let v = self
            .call("POST", &path, "application/json", Some(body))
            .await?
            .ok_or_else(|| self.gone("POST", &path))?;
        Ok(ServiceAccount::from_json(&v))
    }

    /// Sets (`Some`) or removes (`None`) one annotation of a service account.
    pub async fn annotate_service_account(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<ServiceAccount, KubeError> {
        let path = format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}");
        let patch = json!({"metadata": {"annotations": {key: value}}});
        let v = self
            .call("PATCH", &path, "application/merge-patch+json", Some(patch))
            .await?
            .ok_or_else(|| self.gone("PATCH", &path))?;
        Ok(ServiceAccount::from_json(&v))
    }

    /// Deletes the service account if it still is the one with `uid`
    /// (a precondition, so that one re-created by someone else survives).
    /// Gone already counts as deleted.
    pub async fn delete_service_account(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Result<(), KubeError> {
        let path = format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}");
        let body = json!({"apiVersion": "v1", "kind": "DeleteOptions",
            "preconditions": {"uid": uid}});
        match self
            .call("DELETE", &path, "application/json", Some(body))
            .await
        {
            Ok(_) => Ok(()),
            // Precondition failed: it is someone else's now.
            Err(e) if e.code() == Some(409) => Ok(()),
            Err(e) => Err(e),
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

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use schema::provider_config::{Kubernetes, ProviderConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A CA, and a certificate with its key signed by it.
    struct Pki {
        ca_pem: String,
        issuer: Issuer<'static, KeyPair>,
    }

    impl Pki {
        fn new() -> Pki {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca = params.self_signed(&key).unwrap();
            Pki {
                ca_pem: ca.pem(),
                issuer: Issuer::new(params, key),
            }
        }

        fn leaf(&self, names: &[&str]) -> (String, String) {
            let key = KeyPair::generate().unwrap();
            let params =
                CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .unwrap();
            let cert = params.signed_by(&key, &self.issuer).unwrap();
            (cert.pem(), key.serialize_pem())
        }
    }

    /// A TLS server on a free port that requires a client certificate of
    /// `client_ca` and answers every request with a namespace, sending back
    /// the request head it got.
    async fn mtls_server(
        server: &Pki,
        client_ca: &Pki,
    ) -> (String, tokio::sync::mpsc::Receiver<String>) {
        let (cert, key) = server.leaf(&["localhost"]);
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(client_ca.ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let mut buf = vec![0u8; 4096];
                let n = tls.read(&mut buf).await.unwrap_or(0);
                let _ = tx
                    .send(String::from_utf8_lossy(&buf[..n]).to_string())
                    .await;
                let body = r#"{"metadata":{"name":"ns"}}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            }
        });
        (format!("https://localhost:{port}"), rx)
    }

    fn clients_with_kubeconfig(path: &Path) -> Arc<Clients> {
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

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[tokio::test]
    async fn client_certificate_from_kubeconfig_authenticates_without_a_token() {
        let server_pki = Pki::new();
        let client_pki = Pki::new();
        let (url, mut heads) = mtls_server(&server_pki, &client_pki).await;
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = client_pki.leaf(&["admin"]);
        // Relative paths resolve against the kubeconfig's directory.
        std::fs::create_dir(dir.path().join("pki")).unwrap();
        std::fs::write(dir.path().join("pki/admin.crt"), &cert).unwrap();
        std::fs::write(dir.path().join("pki/admin.key"), &key).unwrap();
        let kubeconfig = format!(
            "apiVersion: v1\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: {url}\n    certificate-authority-data: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    client-certificate: pki/admin.crt\n    client-key: pki/admin.key\n",
            b64(&server_pki.ca_pem)
        );
        let path = dir.path().join("config");
        std::fs::write(&path, kubeconfig).unwrap();
        let kube = connect(&clients_with_kubeconfig(&path), "c").await.unwrap();
        assert!(kube.namespace_exists("ns").await.unwrap());
        let head = heads.recv().await.unwrap().to_lowercase();
        assert!(head.starts_with("get /api/v1/namespaces/ns"), "{head}");
        assert!(!head.contains("authorization"), "{head}");

        // A certificate of another CA is refused by the server.
        let other = Pki::new();
        let (cert, key) = other.leaf(&["intruder"]);
        std::fs::write(dir.path().join("pki/admin.crt"), &cert).unwrap();
        std::fs::write(dir.path().join("pki/admin.key"), &key).unwrap();
        let kube = connect(&clients_with_kubeconfig(&path), "c").await.unwrap();
        let err = kube.namespace_exists("ns").await.unwrap_err();
        assert!(matches!(err, KubeError::Transport { .. }), "{err}");
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

    #[test]
    fn service_account_from_json() {
        let sa = ServiceAccount::from_json(&json!({"metadata": {"name": "a", "namespace": "n",
            "uid": "u", "annotations": {ROLE_ARN_ANNOTATION: "arn:aws:iam::1:role/r"}}}));
        assert_eq!(sa.irsa_role_arn(), Some("arn:aws:iam::1:role/r"));
        assert_eq!(sa.uid, "u");
        assert!(sa.labels.is_empty());
    }
}

/// What [`ensure_service_account`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensured {
    /// The service account's UID.
    pub uid: String,
    /// True when it was created now.
    pub created: bool,
}

/// Creates the namespace and the service account when missing.
pub async fn ensure_service_account(
    kube: &Kube,
    namespace: &str,
    name: &str,
) -> Result<Ensured, KubeError> {
    if let Some(sa) = kube.find_service_account(namespace, name).await? {
        return Ok(Ensured {
            uid: sa.uid,
            created: false,
        });
    }
    if !kube.namespace_exists(namespace).await? {
        kube.create_namespace(namespace).await?;
    }
    match kube.create_service_account(namespace, name).await {
        Ok(sa) => Ok(Ensured {
            uid: sa.uid,
            created: true,
        }),
        // Created by someone else in between: it is theirs.
        Err(e) if e.code() == Some(409) => {
            let sa = kube.find_service_account(namespace, name).await?.ok_or(e)?;
            Ok(Ensured {
                uid: sa.uid,
                created: false,
            })
        }
        Err(e) => Err(e),
    }
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
