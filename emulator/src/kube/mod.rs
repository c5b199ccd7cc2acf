//! A minimal Kubernetes API per cluster: core/v1 namespaces and service
//! accounts (get, list, create, replace, patch, delete), served over HTTPS
//! on a loopback port of its own, with a CA made for the cluster (its PEM is
//! the cluster's `certificateAuthority.data`, its URL the `endpoint`).
//! Requests must carry a valid EKS bearer token for this cluster
//! (`k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL that
//! signs `x-k8s-aws-id` = the cluster name; checked by [`token`]).
//!
//! This module owns the certificates and the TLS listener of a cluster's
//! API ([`start`]); its parts own the rest: [`store`] the objects and
//! their format, [`kind`] the kinds served, [`status`] the `Status` errors, [`patch`] merge/JSON
//! patches and selectors, [`http`] the handlers, [`token`] the bearer
//! tokens. It knows nothing about EKS
//! resources.

pub mod http;
pub mod kind;
pub mod patch;
pub mod status;
pub mod store;
pub mod token;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

pub use self::http::check_token;
pub use self::kind::Kind;
pub use self::patch::{json_patch, matches_selector, merge_patch};
pub use self::status::KubeStatus;
pub use self::store::{INITIAL_NAMESPACES, KubeStore};

/// Failures starting a cluster's Kubernetes API.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The CA or server certificate could not be made.
    #[error("generating the cluster certificates")]
    Cert(#[source] rcgen::Error),
    /// The TLS configuration was refused.
    #[error("configuring TLS")]
    Tls(#[source] rustls::Error),
    /// No loopback port could be bound.
    #[error("binding a loopback port")]
    Bind(#[source] std::io::Error),
}

/// A running Kubernetes API. Dropping the last handle stops the listener.
pub struct KubeApi {
    /// `https://127.0.0.1:PORT`.
    pub endpoint: String,
    /// PEM of the cluster CA.
    pub ca_pem: String,
    /// The objects.
    pub store: Arc<Mutex<KubeStore>>,
    abort: tokio::task::AbortHandle,
}

impl std::fmt::Debug for KubeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeApi")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

impl KubeApi {
    /// Locks the store (a poisoned lock is taken over).
    pub fn lock(&self) -> MutexGuard<'_, KubeStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts the Kubernetes API of cluster `cluster` on a free loopback port
/// (tokens are accepted only for that cluster). Must be called inside a
/// Tokio runtime.
pub fn start(cluster: &str) -> Result<KubeApi, KubeError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType,
    };

    let ca_key = KeyPair::generate().map_err(KubeError::Cert)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(KubeError::Cert)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kubernetes");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(KubeError::Cert)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().map_err(KubeError::Cert)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "kubernetes".to_owned()])
        .map_err(KubeError::Cert)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let cert = params.signed_by(&key, &issuer).map_err(KubeError::Cert)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(KubeError::Tls)?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(KubeError::Tls)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let listener =
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(KubeError::Bind)?;
    listener.set_nonblocking(true).map_err(KubeError::Bind)?;
    let port = listener.local_addr().map_err(KubeError::Bind)?.port();
    let listener = tokio::net::TcpListener::from_std(listener).map_err(KubeError::Bind)?;

    let store = Arc::new(Mutex::new(KubeStore::new()));
    let router = http::router(store.clone(), cluster);
    let task = tokio::spawn(serve(listener, acceptor, router));
    Ok(KubeApi {
        endpoint: format!("https://127.0.0.1:{port}"),
        ca_pem: ca_cert.pem(),
        store,
        abort: task.abort_handle(),
    })
}

async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
) {
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(_) => {
                // E.g. out of file descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}
