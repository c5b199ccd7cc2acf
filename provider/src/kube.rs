//! Kubernetes access to an EKS cluster: the few core/v1 calls the provider
//! makes (namespaces and service accounts), authenticated the way
//! `aws eks get-token` does it.
//!
//! Owns: where a cluster's API is (DescribeCluster's endpoint and CA, or the
//! provider's `kubernetes {}` block), the EKS bearer token (`k8s-aws-v1.` +
//! base64url of a presigned STS GetCallerIdentity URL that signs the
//! `x-k8s-aws-id` header = cluster name), the HTTPS client (rustls on ring,
//! trusting only the cluster CA), and [`KubeError`]. Does not own: what a
//! resource does with service accounts.
//!
//! Why not `kube` + `k8s-openapi`: we make six kinds of call on two object
//! kinds. A small client on the hyper/rustls stack the AWS SDK already
//! brings costs no extra compile time (k8s-openapi alone is one of the
//! slowest crates to build), and keeps a single rustls crypto provider.

use crate::clients::Clients;
use crate::eks;
use crate::errors::AwsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
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
use std::time::{Duration, Instant, SystemTime};

/// The annotation IRSA puts on a service account.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// The label on objects this provider created.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "terraform-provider-eks";

/// How long a presigned token URL is valid. EKS accepts tokens up to 15
/// minutes old; `aws eks get-token` presigns for 60 s. We use 14 minutes and
/// make a new token after [`TOKEN_REFRESH`], so a long apply never sends an
/// expired one.
const TOKEN_EXPIRY: Duration = Duration::from_secs(14 * 60);
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
            let found = eks::find_cluster_by_name(clients, cluster)
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
            let ca_b64 = found
                .certificate_authority
                .and_then(|c| c.data)
                .ok_or_else(|| KubeError::NoEndpoint {
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

/// The EKS token for `cluster`: `k8s-aws-v1.` + base64url (no padding) of a
/// presigned STS GetCallerIdentity URL signing `x-k8s-aws-id: cluster`.
pub async fn eks_token(clients: &Clients, cluster: &str) -> Result<String, KubeError> {
    let fail = |detail: String| KubeError::Token {
        cluster: cluster.to_string(),
        detail,
    };
    let provider = clients
        .credentials
        .as_ref()
        .ok_or_else(|| fail("no AWS credentials are configured".into()))?;
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| fail(aws_smithy_types::error::display::DisplayErrorContext(&e).to_string()))?;
    presign_token(
        &creds.into(),
        &clients.region,
        cluster,
        SystemTime::now(),
        TOKEN_EXPIRY,
    )
    .map_err(fail)
}

/// The STS host of a region (GetCallerIdentity is answered by every region).
fn sts_host(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("sts.{region}.{suffix}")
}

/// Presigns the token URL (pure; tests give a fixed time).
pub fn presign_token(
    identity: &aws_smithy_runtime_api::client::identity::Identity,
    region: &str,
    cluster: &str,
    time: SystemTime,
    expires_in: Duration,
) -> Result<String, String> {
    let host = sts_host(region);
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers = [("host", host.as_str()), ("x-k8s-aws-id", cluster)];
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let mut req = http::Request::builder()
        .uri(url.as_str())
        .body(())
        .map_err(|e| e.to_string())?;
    instructions.apply_to_request_http1x(&mut req);
    let signed = req.uri().to_string();
    Ok(format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed)
    ))
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
                let token = eks_token(&self.clients, &self.cluster).await?;
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

fn error_chain(e: &dyn std::error::Error) -> String {
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
    use aws_credential_types::Credentials;

    #[test]
    fn token_is_a_presigned_get_caller_identity_url() {
        let identity = Credentials::new("AKID", "SECRET", None, None, "test").into();
        let token = presign_token(
            &identity,
            "us-west-2",
            "my-cluster",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(60),
        )
        .unwrap();
        let b64 = token.strip_prefix("k8s-aws-v1.").unwrap();
        assert!(!b64.contains('='));
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        assert!(
            url.starts_with("https://sts.us-west-2.amazonaws.com/?"),
            "{url}"
        );
        assert!(url.contains("Action=GetCallerIdentity"));
        assert!(url.contains("X-Amz-Expires=60"));
        assert!(url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"));
        assert!(url.contains("X-Amz-Credential=AKID%2F20231114%2Fus-west-2%2Fsts%2Faws4_request"));
        assert!(url.contains("X-Amz-Signature="));
        // The cluster name is signed, not sent: another cluster, another signature.
        let other = presign_token(
            &identity,
            "us-west-2",
            "other",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_ne!(token, other);
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
    let advice = err.advice();
    if !advice.is_empty() {
        detail.push_str("\n\n");
        detail.push_str(advice);
    }
    tfplugin::Diagnostic::error(summary, detail)
}

// ---- create_service_account of eks_pod_identity_association ----------------

use schema::association::AssociationState;
use tfplugin::{Diagnostic, Diagnostics};

/// Plans `service_account_created` / `service_account_uid`: kept when the
/// service account was there at the last read, unknown when it must be made.
pub fn plan_association_service_account(
    prior: Option<&AssociationState>,
    planned: &mut tfplugin::Value,
) {
    use tfplugin::Value;
    let same_target = |p: &AssociationState| {
        planned.get("cluster_name").as_str() == Some(p.cluster_name.as_str())
            && planned.get("namespace").as_str() == Some(p.namespace.as_str())
            && planned.get("service_account").as_str() == Some(p.service_account.as_str())
    };
    let (created, uid) = match planned.get("create_service_account") {
        Value::Bool(false) => (Value::Null, Value::Null),
        Value::Bool(true) => match prior.filter(|p| same_target(p)) {
            Some(AssociationState {
                create_service_account: Some(true),
                service_account_created: Some(c),
                service_account_uid: Some(u),
                ..
            }) => (Value::Bool(*c), Value::string(u)),
            _ => (Value::Unknown, Value::Unknown),
        },
        _ => (Value::Unknown, Value::Unknown),
    };
    planned.set("service_account_created", created);
    planned.set("service_account_uid", uid);
}

/// After create or update: with `create_service_account`, makes the
/// namespace and service account when missing and records what it made.
/// A failure is an error diagnostic; the association itself stays.
pub async fn apply_association_service_account(
    clients: &Arc<Clients>,
    prior: Option<&AssociationState>,
    state: &mut AssociationState,
    diags: &mut Diagnostics,
) {
    if state.create_service_account != Some(true) {
        state.service_account_created = None;
        state.service_account_uid = None;
        return;
    }
    let label = format!("{}/{}", state.namespace, state.service_account);
    let kube = match connect(clients, &state.cluster_name).await {
        Ok(k) => k,
        Err(e) => {
            state.service_account_created = None;
            state.service_account_uid = None;
            diags.push(to_diagnostic(
                format!("creating Kubernetes service account {label}"),
                &e,
            ));
            return;
        }
    };
    match ensure_service_account(&kube, &state.namespace, &state.service_account).await {
        Ok(found) => {
            // Ours if we made it now, or made it before and it is the same object.
            let ours_before = prior.is_some_and(|p| {
                p.service_account_created == Some(true)
                    && p.service_account_uid.as_deref() == Some(found.uid.as_str())
            });
            state.service_account_created = Some(found.created || ours_before);
            state.service_account_uid = Some(found.uid);
        }
        Err(e) => {
            state.service_account_created = None;
            state.service_account_uid = None;
            diags.push(to_diagnostic(
                format!("creating Kubernetes service account {label}"),
                &e,
            ));
        }
    }
}

/// Read: with `create_service_account`, a missing service account becomes a
/// null UID (the next plan creates it again); a replaced one is not ours.
pub async fn read_association_service_account(
    clients: &Arc<Clients>,
    prior: &AssociationState,
    state: &mut AssociationState,
    diags: &mut Diagnostics,
) {
    state.create_service_account = Some(prior.create_service_account.unwrap_or(false));
    state.service_account_created = prior.service_account_created;
    state.service_account_uid = prior.service_account_uid.clone();
    if prior.create_service_account != Some(true) {
        return;
    }
    let label = format!("{}/{}", prior.namespace, prior.service_account);
    let found = match connect(clients, &prior.cluster_name).await {
        Ok(kube) => {
            kube.find_service_account(&prior.namespace, &prior.service_account)
                .await
        }
        Err(e) => Err(e),
    };
    match found {
        Ok(Some(sa)) => {
            if prior.service_account_uid.as_deref() != Some(sa.uid.as_str()) {
                state.service_account_created = Some(false);
            }
            state.service_account_uid = Some(sa.uid);
        }
        Ok(None) => {
            diags.push(Diagnostic::warning(
                format!("Kubernetes service account {label} is gone"),
                "It was deleted outside Terraform. The next apply creates it again.",
            ));
            state.service_account_created = None;
            state.service_account_uid = None;
        }
        Err(e) => diags.push(Diagnostic::warning(
            format!("Could not read Kubernetes service account {label}"),
            format!("{}. Its state is kept as it was.", error_chain(&e)),
        )),
    }
}

/// Delete: removes the service account only if this resource created it and
/// it is still the same object.
pub async fn delete_association_service_account(
    clients: &Arc<Clients>,
    prior: &AssociationState,
    diags: &mut Diagnostics,
) {
    let (Some(true), Some(uid)) = (prior.service_account_created, &prior.service_account_uid)
    else {
        return;
    };
    let label = format!("{}/{}", prior.namespace, prior.service_account);
    let result = match connect(clients, &prior.cluster_name).await {
        Ok(kube) => {
            kube.delete_service_account(&prior.namespace, &prior.service_account, uid)
                .await
        }
        // The cluster itself is gone: so is the service account.
        Err(KubeError::NoCluster { .. }) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        diags.push(to_diagnostic(
            format!("deleting Kubernetes service account {label}"),
            &e,
        ));
    }
}
