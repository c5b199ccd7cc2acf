//! How the provider authenticates to a cluster's API: the bearer token
//! (fixed, none, or EKS tokens renewed before they expire) and TLS (trust
//! only the cluster CA, present a client certificate when there is one).
//!
//! Owns: when to renew the EKS token (made by `crate::aws::token`) and the
//! rustls configuration (ring only). Does not own: where the API is (see
//! `kubeconfig`) or the calls (see `calls`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::KubeError;
use crate::aws::{Clients, token};

/// Age after which a new EKS token is made (they are valid for 15 minutes).
const TOKEN_REFRESH: Duration = Duration::from_secs(10 * 60);

/// The bearer token a connection sends.
pub(super) enum Auth {
    /// A token from the provider block or the kubeconfig.
    Fixed(String),
    /// No bearer token (a client certificate authenticates).
    None,
    /// EKS tokens made on demand, with the time the current one was made.
    Eks(Mutex<Option<(Instant, String)>>),
}

impl Auth {
    /// The bearer token to send, if any: an EKS token is made anew when
    /// the one at hand is older than [`TOKEN_REFRESH`].
    pub(super) async fn bearer(
        &self,
        clients: &Clients,
        cluster: &str,
    ) -> Result<Option<String>, KubeError> {
        match self {
            Auth::Fixed(t) => Ok(Some(t.clone())),
            Auth::None => Ok(None),
            Auth::Eks(slot) => {
                if let Ok(guard) = slot.lock()
                    && let Some((made, token)) = guard.as_ref()
                    && made.elapsed() < TOKEN_REFRESH
                {
                    return Ok(Some(token.clone()));
                }
                let token = token::eks_token(clients, cluster).await.map_err(|detail| {
                    KubeError::Token {
                        cluster: cluster.to_string(),
                        detail,
                    }
                })?;
                if let Ok(mut guard) = slot.lock() {
                    *guard = Some((Instant::now(), token.clone()));
                }
                Ok(Some(token))
            }
        }
    }
}

/// The TLS configuration (ring only): trust the CA (or the system roots),
/// and present the client certificate when there is one.
pub(super) fn tls_config(
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
