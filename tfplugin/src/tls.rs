//! AutoMTLS as go-plugin does it: a fresh self-signed server certificate per
//! process, and a client certificate pinned to the one Terraform passed in
//! `PLUGIN_CLIENT_CERT`.
//!
//! Owns: certificate generation (rcgen, ECDSA P-256) and the rustls server
//! configuration (ring provider only). The pinning verifier compares DER
//! bytes instead of building a chain: go-plugin's client certificate is a
//! self-signed CA certificate, which webpki refuses as an end entity.
//!
//! Terraform's client key is ECDSA P-521 (go-plugin's choice) and ring cannot
//! verify P-521 signatures, so the verifier adds one signature algorithm,
//! ECDSA P-521/SHA-512, implemented with the pure-Rust `p521` crate. ring
//! stays the only rustls crypto provider; `p521` is used for nothing else.

use std::sync::{Arc, OnceLock};

use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer, PrivatePkcs8KeyDer,
    SignatureVerificationAlgorithm, UnixTime, alg_id,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` holds no PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate")]
    ClientCert(#[source] rustls::pki_types::pem::Error),
    /// Generating the server certificate failed.
    #[error("generating the server certificate")]
    Generate(#[source] rcgen::Error),
    /// rustls refused the configuration.
    #[error("configuring TLS")]
    Config(#[source] rustls::Error),
}

/// The ring crypto provider: the only one this crate uses.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server certificate and key, plus the DER to announce in the handshake.
pub struct ServerCert {
    /// certificate, DER
    pub cert_der: Vec<u8>,
    /// private key, PKCS#8 DER
    pub key_der: Vec<u8>,
}

/// Generates a certificate like go-plugin's `generateCert`: ECDSA P-256,
/// subject and SAN `localhost`, CA flag set, server and client auth.
pub fn generate_server_cert() -> Result<ServerCert, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(TlsError::Generate)?;
    let mut p =
        CertificateParams::new(vec!["localhost".to_string()]).map_err(TlsError::Generate)?;
    p.distinguished_name.push(DnType::CommonName, "localhost");
    p.distinguished_name
        .push(DnType::OrganizationName, "HashiCorp");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::seconds(30);
    p.not_after = now + time::Duration::days(365 * 30);
    let cert = p.self_signed(&key).map_err(TlsError::Generate)?;
    Ok(ServerCert {
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    })
}

/// ECDSA over P-521 with SHA-512, the signature Terraform's client key makes.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

static P521: EcdsaP521Sha512 = EcdsaP521Sha512;

/// ring's verification algorithms plus ECDSA P-521 (built once, kept for the
/// life of the process because rustls wants `'static` tables).
fn client_signature_algorithms() -> WebPkiSupportedAlgorithms {
    static ALGS: OnceLock<WebPkiSupportedAlgorithms> = OnceLock::new();
    *ALGS.get_or_init(|| {
        let ring = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        let mut all: Vec<&'static dyn SignatureVerificationAlgorithm> = ring.all.to_vec();
        all.push(&P521);
        let p521_only: &'static [&'static dyn SignatureVerificationAlgorithm] =
            Box::leak(Box::new([
                &P521 as &'static dyn SignatureVerificationAlgorithm
            ]));
        let mut mapping = ring.mapping.to_vec();
        mapping.push((SignatureScheme::ECDSA_NISTP521_SHA512, p521_only));
        WebPkiSupportedAlgorithms {
            all: Box::leak(all.into_boxed_slice()),
            mapping: Box::leak(mapping.into_boxed_slice()),
        }
    })
}

/// Accepts exactly one client certificate (byte for byte).
#[derive(Debug)]
struct PinnedClient {
    der: Vec<u8>,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClient {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Builds the server TLS configuration: our certificate, the pinned client
/// certificate required, ALPN `h2` (grpc-go clients insist on it).
pub fn server_config(
    client_cert_pem: &str,
    server: &ServerCert,
) -> Result<rustls::ServerConfig, TlsError> {
    let client =
        CertificateDer::from_pem_slice(client_cert_pem.as_bytes()).map_err(TlsError::ClientCert)?;
    let provider = crypto_provider();
    let verifier = PinnedClient {
        der: client.as_ref().to_vec(),
        algs: client_signature_algorithms(),
    };
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![CertificateDer::from(server.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone())),
        )
        .map_err(TlsError::Config)?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p521_signatures_verify_and_tampering_fails() {
        use p521::ecdsa::signature::RandomizedSigner;
        use p521::elliptic_curve::rand_core::{CryptoRng, Error, RngCore};
        /// Deterministic test RNG (xorshift); fine for a nonce in a test.
        struct TestRng(u64);
        impl RngCore for TestRng {
            fn next_u32(&mut self) -> u32 {
                self.next_u64() as u32
            }
            fn next_u64(&mut self) -> u64 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                for b in dest {
                    *b = self.next_u64() as u8;
                }
            }
            fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
                self.fill_bytes(dest);
                Ok(())
            }
        }
        impl CryptoRng for TestRng {}
        let mut secret = [7u8; 66];
        secret[0] = 0; // below the group order
        let sk = p521::ecdsa::SigningKey::from_slice(&secret).unwrap();
        let sig: p521::ecdsa::Signature =
            sk.sign_with_rng(&mut TestRng(0x9e37_79b9_7f4a_7c15), b"handshake transcript");
        let der = sig.to_der();
        let vk = p521::ecdsa::VerifyingKey::from(&sk);
        let point = vk.to_encoded_point(false);
        assert!(
            P521.verify_signature(point.as_bytes(), b"handshake transcript", der.as_bytes())
                .is_ok()
        );
        assert!(
            P521.verify_signature(point.as_bytes(), b"another transcript", der.as_bytes())
                .is_err()
        );
        assert!(
            P521.verify_signature(b"junk", b"x", der.as_bytes())
                .is_err()
        );
        let schemes = client_signature_algorithms().supported_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256));
    }

    #[test]
    fn pinned_verifier_accepts_only_the_pinned_certificate() {
        let a = generate_server_cert().unwrap();
        let b = generate_server_cert().unwrap();
        let v = PinnedClient {
            der: a.cert_der.clone(),
            algs: client_signature_algorithms(),
        };
        let now = UnixTime::now();
        assert!(
            v.verify_client_cert(&CertificateDer::from(a.cert_der.clone()), &[], now)
                .is_ok()
        );
        assert!(
            v.verify_client_cert(&CertificateDer::from(b.cert_der), &[], now)
                .is_err()
        );
        assert!(v.client_auth_mandatory());
    }
}
