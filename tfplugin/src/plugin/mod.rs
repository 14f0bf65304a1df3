//! Serving a provider the way Terraform launches plugins (HashiCorp go-plugin over gRPC).
pub mod env;
pub mod handshake;
mod services;
pub mod tls;

use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, watch};
use tonic::transport::server::Connected;

use crate::proto::goplugin as gp;
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::provider::Provider;
use crate::server::core::Core;
use crate::server::grpc::ProviderService;
use env::Env;

/// Terraform's own limit for plugin messages.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("{}", handshake::NOT_A_PLUGIN_MESSAGE)]
    NotLaunchedByTerraform,
    #[error("Terraform offered plugin protocol versions {0:?}; this provider speaks only version 6 (Terraform 1.0 or later)")]
    Protocol(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("cannot listen: {0}")]
    Listen(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Full provider source address, e.g. `registry.terraform.io/hastack/hastack`.
    pub address: String,
    /// Serve without TLS or cookie and print a `TF_REATTACH_PROVIDERS` line.
    pub debug: bool,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// One accepted connection, TLS or not, TCP or unix.
struct Conn(Box<dyn Io>);

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl Listener {
    async fn bind(env: &dyn Env) -> Result<Listener, PluginError> {
        let port = |k| env.var(k).and_then(|v| v.parse::<u16>().ok());
        if let (Some(min), Some(max)) = (port("PLUGIN_MIN_PORT"), port("PLUGIN_MAX_PORT")) {
            let mut last = None;
            for p in min..=max {
                match TcpListener::bind(("127.0.0.1", p)).await {
                    Ok(l) => return Ok(Listener::Tcp(l)),
                    Err(e) => last = Some(e),
                }
            }
            return Err(PluginError::Listen(last.unwrap_or_else(|| {
                std::io::Error::other(format!("empty port range {min}-{max}"))
            })));
        }
        let dir = env
            .var("PLUGIN_UNIX_SOCKET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!(
            "plugin-hastack-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let l = UnixListener::bind(&path).map_err(PluginError::Listen)?;
        Ok(Listener::Unix(l, path))
    }

    fn network_and_address(&self) -> (&'static str, String) {
        match self {
            Listener::Tcp(l) => (
                "tcp",
                l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            ),
            Listener::Unix(_, p) => ("unix", p.display().to_string()),
        }
    }

    async fn accept(&self) -> std::io::Result<Box<dyn Io>> {
        Ok(match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Box::new(s)
            }
            Listener::Unix(l, _) => Box::new(l.accept().await?.0),
        })
    }
}

fn rand_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{:x}", h.finish())
}

/// Serve `provider` until Terraform shuts it down. Blocks the current task.
pub async fn serve<P: Provider>(
    provider: P,
    opts: ServeOptions,
    env: &dyn Env,
) -> Result<(), PluginError> {
    // Who started us, read first: the provider ends when this process is gone.
    let parent = std::os::unix::process::parent_id();
    if !opts.debug {
        handshake::check_cookie(env)?;
    }
    let version = handshake::negotiate(env)?;
    let tls = match (opts.debug, env.var("PLUGIN_CLIENT_CERT")) {
        (false, Some(pem)) => {
            let client = tls::parse_client_cert(&pem)?;
            let id = tls::generate_server_identity()?;
            let cfg = tls::server_config(&id, client)?;
            Some((id.cert_der, tokio_rustls::TlsAcceptor::from(Arc::new(cfg))))
        }
        _ => None,
    };
    let listener = Listener::bind(env).await?;
    let (network, address) = listener.network_and_address();

    let core = Arc::new(Core::new(
        provider,
        crate::server::core::plugin_name(&opts.address),
    ));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (health, health_svc) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let router = tonic::transport::Server::builder()
        .add_service(
            ProviderServer::new(ProviderService { core })
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            services::Controller {
                shutdown: shutdown_tx.clone(),
            },
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(
            services::Stdio {
                shutdown: shutdown_rx.clone(),
            },
        ))
        .add_service(gp::grpc_broker_server::GrpcBrokerServer::new(
            services::Broker {
                shutdown: shutdown_rx.clone(),
            },
        ))
        .add_service(health_svc);

    // Accept in a task so that one slow or refused TLS handshake never blocks the next.
    let (conn_tx, conn_rx) = mpsc::channel::<std::io::Result<Conn>>(16);
    let unix_path = match &listener {
        Listener::Unix(_, p) => Some(p.clone()),
        Listener::Tcp(_) => None,
    };
    let acceptor = tls.as_ref().map(|(_, a)| a.clone());
    tokio::spawn(async move {
        loop {
            let io = match listener.accept().await {
                Ok(io) => io,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let tx = conn_tx.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let conn = match acceptor {
                    None => Conn(io),
                    Some(a) => {
                        match tokio::time::timeout(Duration::from_secs(10), a.accept(io)).await {
                            Ok(Ok(s)) => Conn(Box::new(s)),
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "refused a connection: TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::warn!("refused a connection: TLS handshake timed out");
                                return;
                            }
                        }
                    }
                };
                let _ = tx.send(Ok(conn)).await;
            });
        }
    });

    {
        let mut out = std::io::stdout().lock();
        if opts.debug {
            let reattach = serde_json::json!({
                opts.address.clone(): {
                    "Protocol": "grpc",
                    "ProtocolVersion": version,
                    "Pid": std::process::id(),
                    "Test": true,
                    "Addr": { "Network": network, "String": address },
                }
            });
            let _ = writeln!(out, "Provider started. To attach Terraform CLI, set this in the shell that runs terraform:\n");
            let _ = writeln!(out, "\tTF_REATTACH_PROVIDERS='{reattach}'\n");
            let _ = writeln!(out, "Press Ctrl-C to stop.");
        } else {
            let _ = writeln!(
                out,
                "{}",
                handshake::line(network, &address, tls.as_ref().map(|(c, _)| c.as_slice()))
            );
        }
        let _ = out.flush();
    }

    let mut stop_rx = shutdown_rx.clone();
    let debug = opts.debug;
    let signal = async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut int =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
        // One watch for the whole loop: restarted on each ignored SIGINT it would take a new
        // parent (init, after Terraform died) for the original.
        let orphaned = parent_gone(parent);
        tokio::pin!(orphaned);
        loop {
            tokio::select! {
                _ = stop_rx.wait_for(|s| *s) => break,
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => futures::future::pending().await } } => break,
                // Terraform forwards Ctrl-C as StopProvider; like go-plugin we ignore SIGINT
                // unless we were started by hand for debugging.
                _ = async { match int.as_mut() { Some(t) => { t.recv().await; } None => futures::future::pending().await } } => if debug { break },
                _ = &mut orphaned => {
                    tracing::warn!("the process that started the provider is gone: shutting down");
                    break;
                }
            }
        }
        let _ = shutdown_tx.send(true);
    };
    let incoming = tokio_stream::wrappers::ReceiverStream::new(conn_rx);
    let serve = router.serve_with_incoming_shutdown(incoming, signal);
    // After a shutdown request, give in-flight calls a moment, then go.
    let mut grace_rx = shutdown_rx;
    let grace = async move {
        let _ = grace_rx.wait_for(|s| *s).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let result = tokio::select! {
        r = serve => r.map_err(PluginError::from),
        _ = grace => Ok(()),
    };
    if let Some(p) = unix_path {
        let _ = std::fs::remove_file(p);
    }
    result
}

/// Resolves when `parent`, the process that started this one, has exited (Terraform killed
/// with SIGKILL, a CI runner torn down): nothing will call Shutdown then, so the provider must
/// not linger. The parent is looked at twice a second; a provider started by init (parent 1)
/// never ends this way.
async fn parent_gone(parent: u32) {
    if parent == 1 {
        return futures::future::pending().await;
    }
    while std::os::unix::process::parent_id() == parent {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
