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
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use std::collections::BTreeMap;
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
/// Timeout of one Kubernetes API request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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
                "Check config_path and config_context in the provider's kubernetes block (the context must name a cluster with a server), or remove them to use DescribeCluster's endpoint and an EKS token."
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
    /// A token from the provider block.
    Fixed(String),
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

/// Server, CA (PEM) and token from a kubeconfig file; the token is `None`
/// when the user authenticates with `exec` (the provider's EKS token serves).
async fn from_kubeconfig(
    path: &str,
    context: Option<&str>,
    cluster: &str,
) -> Result<(String, Option<String>, Option<String>), KubeError> {
    let fail = |detail: String| KubeError::Kubeconfig {
        cluster: cluster.to_string(),
        path: path.to_string(),
        detail,
    };
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| fail(format!("reading it failed: {e}")))?;
    let access = schema::kubeconfig::resolve(&text, context).map_err(fail)?;
    let ca = match (&access.ca_data, &access.ca_file) {
        (Some(data), _) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    fail("certificate-authority-data is not base64 of a PEM text".into())
                })?,
        ),
        (None, Some(file)) => Some(
            tokio::fs::read_to_string(file)
                .await
                .map_err(|e| fail(format!("reading certificate-authority {file} failed: {e}")))?,
        ),
        (None, None) => None,
    };
    Ok((access.server, ca, access.token))
}

/// Connects to the cluster's Kubernetes API: the provider's `kubernetes {}`
/// block when set, else the endpoint and CA of DescribeCluster and an EKS token.
pub async fn connect(clients: &Arc<Clients>, cluster: &str) -> Result<Kube, KubeError> {
    let mut overrides = clients.kubernetes.clone().unwrap_or_default();
    if let Some(path) = overrides.config_path.clone() {
        let access = from_kubeconfig(&path, overrides.config_context.as_deref(), cluster).await?;
        overrides.host = overrides.host.or(Some(access.0));
        overrides.cluster_ca_certificate = overrides.cluster_ca_certificate.or(access.1);
        overrides.token = overrides.token.or(access.2);
    }
    let (base, ca) = match &overrides.host {
        Some(host) => (host.clone(), overrides.cluster_ca_certificate.clone()),
        None => {
            let found = eks_cluster::find_by_name(clients, cluster)
                .await
                .map_err(|source| KubeError::Describe {
                    cluster: cluster.to_string(),
                    source,
                })?
                .ok_or_else(|| KubeError::NoCluster {
                    cluster: cluster.to_string(),
                })?;
            let endpoint = found.endpoint.ok_or_else(|| KubeError::NoEndpoint {
                cluster: cluster.to_string(),
            })?;
            let ca_b64 = found.ca_data.ok_or_else(|| KubeError::NoEndpoint {
                cluster: cluster.to_string(),
            })?;
            let pem = base64::engine::general_purpose::STANDARD
                .decode(ca_b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| KubeError::BadCa {
                    cluster: cluster.to_string(),
                    detail: "certificateAuthority.data is not base64 of a PEM text".into(),
                })?;
            (
                overrides.host.clone().unwrap_or(endpoint),
                overrides.cluster_ca_certificate.clone().or(Some(pem)),
            )
        }
    };
    let http = https_client(cluster, ca.as_deref())?;
    let auth = match &overrides.token {
        Some(t) => Auth::Fixed(t.clone()),
        None => Auth::Eks(Mutex::new(None)),
    };
    Ok(Kube {
        cluster: cluster.to_string(),
        base: base.trim_end_matches('/').to_string(),
        http,
        auth,
        clients: clients.clone(),
    })
}

fn https_client(
    cluster: &str,
    ca_pem: Option<&str>,
) -> Result<Client<HttpsConnector<HttpConnector>, Full<Bytes>>, KubeError> {
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
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

impl Kube {
    /// The cluster this connection is for.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    async fn bearer(&self) -> Result<String, KubeError> {
        match &self.auth {
            Auth::Fixed(t) => Ok(t.clone()),
            Auth::Eks(slot) => {
                if let Ok(guard) = slot.lock()
                    && let Some((made, token)) = guard.as_ref()
                    && made.elapsed() < TOKEN_REFRESH
                {
                    return Ok(token.clone());
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
                Ok(token)
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
            path: path.to_string(),
            detail,
        };
        let token = self.bearer().await?;
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "application/json")
            .header("content-type", content_type)
            .header("user-agent", "terraform-provider-eks")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .map_err(|e| transport(e.to_string()))?;
        let started = Instant::now();
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| transport(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())))?
            .map_err(|e| transport(error_chain(&e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?
            .to_bytes();
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
    let advice = err.advice();
    if !advice.is_empty() {
        detail.push_str("\n\n");
        detail.push_str(advice);
    }
    tfplugin::Diagnostic::error(summary, detail)
}
