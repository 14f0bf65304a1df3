//! A client that launches a plugin the way Terraform core does: magic cookie, protocol
//! negotiation, AutoMTLS with a fresh client certificate (ECDSA P-521, CA bit set, like
//! go-plugin's), then gRPC over the socket named in the handshake line. Used by the
//! conformance tests and the benchmarks; panics on setup failures, as test code does.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::proto::goplugin::grpc_controller_client::GrpcControllerClient;
use crate::proto::tfplugin6::provider_client::ProviderClient;
use crate::{Type, Value};
use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tonic::transport::{Channel, Endpoint, Uri};

pub struct ClientIdentity {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub key_der: Vec<u8>,
}

pub fn client_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        cert_der: cert.der().to_vec(),
        cert_pem: cert.pem(),
        key_der: key.serialize_der(),
    }
}

pub struct Handshake {
    pub network: String,
    pub address: String,
    pub server_cert: Option<Vec<u8>>,
}

pub fn parse_handshake(line: &str) -> Handshake {
    let parts: Vec<&str> = line.trim().split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    assert_eq!(parts[0], "1", "core protocol");
    assert_eq!(parts[1], "6", "app protocol");
    assert_eq!(parts[4], "grpc");
    let server_cert = (!parts[5].is_empty()).then(|| {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(parts[5])
            .expect("cert base64")
    });
    Handshake {
        network: parts[2].into(),
        address: parts[3].into(),
        server_cert,
    }
}

pub struct Plugin {
    pub child: Child,
    pub handshake: Handshake,
    pub identity: ClientIdentity,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start the plugin binary `bin` as Terraform would and read its handshake line.
pub fn launch(bin: &str, extra_env: &[(&str, &str)]) -> Plugin {
    launch_with(bin, extra_env, Some(client_identity()))
}

/// Like [`launch`] with a client identity made beforehand; with `None` no client certificate
/// is offered, so the plugin serves plaintext (what a reattach setup sees).
pub fn launch_with(
    bin: &str,
    extra_env: &[(&str, &str)],
    identity: Option<ClientIdentity>,
) -> Plugin {
    let auto_mtls = identity.is_some();
    let identity = identity.unwrap_or(ClientIdentity {
        cert_der: Vec::new(),
        cert_pem: String::new(),
        key_der: Vec::new(),
    });
    let mut cmd = Command::new(bin);
    cmd.env(
        "TF_PLUGIN_MAGIC_COOKIE",
        crate::plugin::handshake::MAGIC_COOKIE_VALUE,
    )
    .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
    .env_remove("PLUGIN_CLIENT_CERT")
    .env_remove("PLUGIN_MIN_PORT")
    .env_remove("PLUGIN_MAX_PORT")
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if auto_mtls {
        cmd.env("PLUGIN_CLIENT_CERT", &identity.cert_pem);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn plugin");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("handshake line");
    Plugin {
        handshake: parse_handshake(&line),
        child,
        identity,
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's client does (Go
/// accepts a self-signed leaf in its root pool even when it carries the CA bit; webpki would not).
#[derive(Debug)]
struct PinnedServerCert {
    der: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
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
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn tls_config(server_cert: &[u8], id: &ClientIdentity) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServerCert {
        der: server_cert.to_vec(),
        provider: provider.clone(),
    });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(
            vec![CertificateDer::from(id.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
        )
        .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    cfg
}

/// Connect to the plugin presenting `id` as the client certificate.
pub async fn channel(
    h: &Handshake,
    id: &ClientIdentity,
) -> Result<Channel, tonic::transport::Error> {
    let tls = h
        .server_cert
        .as_ref()
        .map(|c| tokio_rustls::TlsConnector::from(Arc::new(tls_config(c, id))));
    let (network, address) = (h.network.clone(), h.address.clone());
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let (network, address, tls) = (network.clone(), address.clone(), tls.clone());
            async move {
                let io: Box<dyn IoStream> = if network == "unix" {
                    Box::new(tokio::net::UnixStream::connect(&address).await?)
                } else {
                    Box::new(tokio::net::TcpStream::connect(&address).await?)
                };
                let io: Box<dyn IoStream> = match tls {
                    Some(t) => Box::new(
                        t.connect(ServerName::try_from("localhost").unwrap(), io)
                            .await?,
                    ),
                    None => io,
                };
                Ok::<_, std::io::Error>(TokioIo::new(io))
            }
        }))
        .await
}

pub trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> IoStream for T {}

pub async fn provider_client(p: &Plugin) -> ProviderClient<Channel> {
    let ch = channel(&p.handshake, &p.identity).await.expect("connect");
    ProviderClient::new(ch)
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20)
}

pub async fn controller_client(p: &Plugin) -> GrpcControllerClient<Channel> {
    GrpcControllerClient::new(channel(&p.handshake, &p.identity).await.expect("connect"))
}

pub fn dv(v: &Value, t: &Type) -> Option<crate::proto::tfplugin6::DynamicValue> {
    Some(crate::proto::tfplugin6::DynamicValue {
        msgpack: v.to_msgpack(t).unwrap(),
        json: vec![],
    })
}

pub fn decode(d: &Option<crate::proto::tfplugin6::DynamicValue>, t: &Type) -> Value {
    Value::from_msgpack(&d.as_ref().expect("value").msgpack, t).unwrap()
}

/// The value type of a schema block, derived from the protobuf schema as Terraform core does.
pub fn block_type(b: &crate::proto::tfplugin6::schema::Block) -> Type {
    use crate::proto::tfplugin6::schema;
    fn attr_type(a: &schema::Attribute) -> Type {
        match &a.nested_type {
            None => Type::from_json_bytes(&a.r#type).unwrap(),
            Some(o) => {
                let obj = Type::object(o.attributes.iter().map(|a| (a.name.clone(), attr_type(a))));
                match o.nesting {
                    2 => Type::list(obj),
                    3 => Type::set(obj),
                    4 => Type::map(obj),
                    _ => obj,
                }
            }
        }
    }
    let mut attrs: Vec<(String, Type)> = b
        .attributes
        .iter()
        .map(|a| (a.name.clone(), attr_type(a)))
        .collect();
    for nb in &b.block_types {
        let inner = block_type(nb.block.as_ref().unwrap());
        let t = match nb.nesting {
            2 => Type::list(inner),
            3 => Type::set(inner),
            4 => Type::map(inner),
            _ => inner,
        };
        attrs.push((nb.type_name.clone(), t));
    }
    Type::object(attrs)
}
