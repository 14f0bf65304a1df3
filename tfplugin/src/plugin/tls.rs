//! AutoMTLS as go-plugin does it: the client (Terraform) hands us its certificate in
//! `PLUGIN_CLIENT_CERT`; we generate a server certificate, print it in the handshake, and
//! accept only connections that present exactly the client's certificate.
//!
//! Crypto backends, chosen for start-up time: our key, certificate signature, key exchange and
//! record protection use *ring*, which draws randomness straight from the OS. aws-lc's first
//! random number seeds its DRBG tree from CPU jitter entropy, about 25 ms of CPU per process,
//! and Terraform starts providers several times per command. aws-lc is used only to verify
//! Terraform's handshake signature: go-plugin's client key is ECDSA P-521, which ring cannot
//! verify, and verifying needs no randomness.
use std::sync::Arc;

use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::PluginError;

/// A freshly generated server identity.
pub struct ServerIdentity {
    pub cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// A fresh ECDSA P-256 key and a self-signed certificate for `localhost`. go-plugin's client
/// trusts exactly the certificate in the handshake line, whatever its curve (go-plugin's own
/// servers use P-521; P-256 is as strong as the P-256 key exchange and cheaper to sign with).
pub fn generate_server_identity() -> Result<ServerIdentity, PluginError> {
    let tls = |e: &dyn std::fmt::Display| PluginError::Tls(e.to_string());
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).map_err(|e| tls(&e))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|e| tls(&e))?;
    // rcgen without a crypto backend of its own cannot draw a serial number.
    let mut serial = [0u8; 16];
    rng.fill(&mut serial).map_err(|e| tls(&e))?;
    serial[0] &= 0x7f; // a positive INTEGER
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| tls(&e))?;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params
        .self_signed(&ServerKey { pair, rng })
        .map_err(|e| tls(&e))?;
    Ok(ServerIdentity {
        cert_der: cert.der().to_vec(),
        key_der: pkcs8.as_ref().to_vec(),
    })
}

/// The server key as rcgen's signer, so the certificate is signed with *ring* too.
struct ServerKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl rcgen::PublicKeyData for ServerKey {
    fn der_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for ServerKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// Parse the PEM certificate Terraform passes in `PLUGIN_CLIENT_CERT`.
pub fn parse_client_cert(pem: &str) -> Result<Vec<u8>, PluginError> {
    let mut rd = pem.as_bytes();
    let cert = rustls_pemfile::certs(&mut rd)
        .next()
        .ok_or_else(|| PluginError::Tls("PLUGIN_CLIENT_CERT holds no PEM certificate".into()))?
        .map_err(|e| PluginError::Tls(format!("PLUGIN_CLIENT_CERT: {e}")))?;
    Ok(cert.to_vec())
}

/// rustls server config that requires and verifies the pinned client certificate.
pub fn server_config(
    id: &ServerIdentity,
    client_cert_der: Vec<u8>,
) -> Result<rustls::ServerConfig, PluginError> {
    let verifier = Arc::new(PinnedClientCert {
        der: client_cert_der,
        algorithms: rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms,
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PluginError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(id.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
        )
        .map_err(|e| PluginError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

/// Accepts exactly one certificate, and checks the handshake was signed with its key.
#[derive(Debug)]
struct PinnedClientCert {
    der: Vec<u8>,
    /// aws-lc's: they include ECDSA P-521 with SHA-512, go-plugin's client key.
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
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
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_start_gets_a_fresh_identity_that_rustls_accepts() {
        let a = generate_server_identity().unwrap();
        let b = generate_server_identity().unwrap();
        assert_ne!(a.cert_der, b.cert_der);
        assert_ne!(a.key_der, b.key_der);
        server_config(&a, b.cert_der.clone()).unwrap();
    }
}
