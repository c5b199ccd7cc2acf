//! The few core/v1 calls the provider makes on a cluster's Kubernetes API
//! (namespaces and service accounts), over one https client.
//!
//! Owns: [`Kube`] (a connection to one cluster), one request with its
//! deadline and how its answer is read, [`ServiceAccount`] as the provider
//! needs it, and [`ensure_service_account`]. Does not own: what a resource
//! does with service accounts (the association's service-account lifecycle
//! is `resources::pod_identity_association::service_account`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::auth::{Auth, tls_config};
use super::error::{KubeError, error_chain};
use super::kubeconfig::{Credential, target};
use crate::aws::Clients;

/// The annotation IRSA puts on a service account.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// The label on objects this provider created.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "terraform-provider-eks";
/// Timeout of one Kubernetes API request, the answer's body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a TCP connection to the Kubernetes API.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to one cluster's Kubernetes API.
pub struct Kube {
    cluster: String,
    base: String,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    auth: Auth,
    clients: Arc<Clients>,
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
        if let Some(token) = self.auth.bearer(&self.clients, &self.cluster).await? {
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
        match status {
            // Success must say what it did: an answer that is not JSON is
            // not taken for an object.
            200..=299 => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| KubeError::NotJson {
                    cluster: self.cluster.clone(),
                    method,
                    path: path.to_string(),
                    code: status,
                    detail: format!("{e}; it begins {:?}", beginning(&bytes)),
                }),
            404 => Ok(None),
            code => Err(self.status_error(method, path, code, &bytes)),
        }
    }

    /// An error answer: Kubernetes' `Status` reason and message, or the
    /// answer's first characters when it is not one.
    fn status_error(&self, method: &'static str, path: &str, code: u16, bytes: &[u8]) -> KubeError {
        let json: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
        KubeError::Status {
            cluster: self.cluster.clone(),
            method,
            path: path.to_string(),
            code,
            reason: json["reason"].as_str().unwrap_or_default().to_string(),
            message: json["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| beginning(bytes)),
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

/// The first 200 characters of an answer, for messages.
fn beginning(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(200).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::kubeconfig::tests::clients_with_kubeconfig;
    use base64::Engine;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::path::Path;
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
        answering_server(server, client_ca, r#"{"metadata":{"name":"ns"}}"#).await
    }

    /// Like [`mtls_server`], answering every request `200 OK` with `body`.
    async fn answering_server(
        server: &Pki,
        client_ca: &Pki,
        body: &'static str,
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

    /// A kubeconfig for the server at `url` whose user presents a client
    /// certificate of `client_pki`, written into `dir`.
    fn client_cert_kubeconfig(
        dir: &Path,
        url: &str,
        server_pki: &Pki,
        client_pki: &Pki,
    ) -> std::path::PathBuf {
        let (cert, key) = client_pki.leaf(&["admin"]);
        std::fs::write(dir.join("admin.crt"), &cert).unwrap();
        std::fs::write(dir.join("admin.key"), &key).unwrap();
        let kubeconfig = format!(
            "apiVersion: v1\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: {url}\n    certificate-authority-data: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    client-certificate: admin.crt\n    client-key: admin.key\n",
            b64(&server_pki.ca_pem)
        );
        let path = dir.join("config");
        std::fs::write(&path, kubeconfig).unwrap();
        path
    }

    #[tokio::test]
    async fn success_that_is_not_json_is_an_error() {
        let server_pki = Pki::new();
        let client_pki = Pki::new();
        let (url, _heads) =
            answering_server(&server_pki, &client_pki, "<html>proxy login</html>").await;
        let dir = tempfile::tempdir().unwrap();
        let path = client_cert_kubeconfig(dir.path(), &url, &server_pki, &client_pki);
        let kube = connect(&clients_with_kubeconfig(&path), "c").await.unwrap();
        let err = kube
            .find_service_account("default", "app")
            .await
            .expect_err("a 200 answer that is not JSON is not a service account");
        assert!(matches!(err, KubeError::NotJson { code: 200, .. }), "{err}");
        assert!(err.to_string().contains("proxy login"), "{err}");
        let err = kube.create_namespace("ns").await.unwrap_err();
        assert!(matches!(err, KubeError::NotJson { .. }), "{err}");
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
