//! Process lifecycle as go-plugin expects it: magic cookie, protocol version
//! negotiation, AutoMTLS, the listener (unix socket, TCP fallback; TCP on
//! Windows, as go-plugin does there), the
//! handshake line on stdout, the go-plugin side services (controller, stdio,
//! broker, health), debug/reattach mode and clean exit.
//!
//! Owns: everything between `main` and the protocol 6 service. Does not own:
//! the RPCs themselves (see `server`).

#[cfg(unix)]
use std::path::Path;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::proto::health;
use crate::proto::plugin;
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::provider::Provider;
use crate::server::ProviderService;
use crate::tls;

/// go-plugin's magic cookie for Terraform providers.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform sets.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin core protocol version.
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only app protocol we speak.
pub const PROTOCOL_VERSION: u32 = 6;
/// Largest gRPC message accepted or sent (schemas and states can be large).
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// How often the parent process is checked (Terraform does not reliably close
/// stdin when it dies, so a changed parent pid is the signal).
#[cfg(unix)]
const PARENT_POLL: Duration = Duration::from_secs(1);
/// How long in-flight calls get to finish after Shutdown. go-plugin kills
/// the process 2 s after asking it to shut down, so we give up before that.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);
/// How long a connecting client gets to finish the AutoMTLS handshake.
/// Terraform connects right after reading the handshake line and completes
/// the TLS handshake in milliseconds; a peer that connects and then says
/// nothing would otherwise hold a task and a socket for ever.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Provider source address, e.g. `registry.terraform.io/eks-tools/eks`
    /// (used in the debug-mode reattach line).
    pub provider_address: String,
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Started by something other than Terraform.
    #[error(
        "This binary is a Terraform provider plugin. It is not meant to be run directly:\nTerraform starts it when needed. To debug it, run it with --debug."
    )]
    NotAPlugin,
    /// Terraform asked for protocol versions we do not speak.
    #[error(
        "this provider speaks plugin protocol 6 only; Terraform offered {0:?} (use Terraform 1.0 or later)"
    )]
    Protocol(String),
    /// Binding the listener failed.
    #[error("could not listen for Terraform")]
    Listen(#[source] std::io::Error),
    /// TLS setup failed.
    #[error("could not set up TLS")]
    Tls(#[source] tls::TlsError),
    /// The gRPC server failed.
    #[error("gRPC server failed")]
    Transport(#[source] tonic::transport::Error),
}

/// Checks the magic cookie value.
pub fn check_cookie(value: Option<&str>) -> Result<(), ServeError> {
    if value == Some(MAGIC_COOKIE_VALUE) {
        Ok(())
    } else {
        Err(ServeError::NotAPlugin)
    }
}

/// Checks `PLUGIN_PROTOCOL_VERSIONS` (comma separated); absent means "ours".
pub fn check_protocol_versions(env: Option<&str>) -> Result<(), ServeError> {
    match env {
        None => Ok(()),
        Some(s) if s.trim().is_empty() => Ok(()),
        Some(s) => {
            if s.split(',')
                .any(|v| v.trim() == PROTOCOL_VERSION.to_string())
            {
                Ok(())
            } else {
                Err(ServeError::Protocol(s.to_string()))
            }
        }
    }
}

/// The go-plugin handshake line (with trailing newline). The server
/// certificate is base64 standard alphabet without padding, as go-plugin's
/// `base64.RawStdEncoding`; empty when AutoMTLS is off.
pub fn handshake_line(network: &str, addr: &str, cert_der: Option<&[u8]>) -> String {
    let cert = cert_der
        .map(|c| base64::engine::general_purpose::STANDARD_NO_PAD.encode(c))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{addr}|grpc|{cert}\n")
}

/// The `TF_REATTACH_PROVIDERS` value for debug mode.
pub fn reattach_json(provider_address: &str, pid: u32, network: &str, addr: &str) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": network, "String": addr}
        }
    })
    .to_string()
}

/// Serves the provider: reads args (`--debug`) and environment, prints the
/// handshake and serves until Terraform shuts us down or goes away. Like
/// go-plugin, a missing magic cookie prints an explanation and exits 1.
pub async fn serve(provider: Arc<dyn Provider>, opts: ServeOptions) -> Result<(), ServeError> {
    // One crypto provider for the whole process: ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let debug = std::env::args()
        .skip(1)
        .any(|a| a == "--debug" || a == "-debug");
    if !debug {
        if let Err(e) = check_cookie(std::env::var(MAGIC_COOKIE_KEY).ok().as_deref()) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        check_protocol_versions(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
    }
    let shutdown = CancellationToken::new();
    let (listener, cleanup) = listen().map_err(ServeError::Listen)?;
    let _cleanup = cleanup;
    let (network, addr) = listener.address();

    let tls = server_tls(debug)?;

    let (tx, rx) = mpsc::channel::<std::io::Result<Conn>>(16);
    tokio::spawn(accept_loop(
        listener,
        tls.as_ref().map(|t| t.0.clone()),
        tx,
        shutdown.clone(),
    ));

    // Signal handlers go in before the handshake line: from that moment on
    // Terraform (or a supervisor) may signal us.
    on_signals(debug, &shutdown);
    if debug {
        println!(
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{}'\n",
            reattach_json(&opts.provider_address, std::process::id(), network, &addr)
        );
    } else {
        use std::io::Write;
        let line = handshake_line(network, &addr, tls.as_ref().map(|t| t.1.as_slice()));
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
        drop(out);
        tokio::spawn(watch_parent(shutdown.clone()));
    }
    tracing::debug!(network, address = %addr, "plugin address");

    run(provider, rx, shutdown).await
}

/// The TLS acceptor and our certificate (DER) when Terraform sent its
/// client certificate; none in debug mode.
fn server_tls(debug: bool) -> Result<Option<(tokio_rustls::TlsAcceptor, Vec<u8>)>, ServeError> {
    Ok(match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !debug && !pem.trim().is_empty() => {
            let cert = tls::generate_server_cert().map_err(ServeError::Tls)?;
            let cfg = tls::server_config(&pem, &cert).map_err(ServeError::Tls)?;
            Some((
                tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
                cert.cert_der,
            ))
        }
        _ => None,
    })
}

/// SIGTERM stops the server cleanly (so the socket directory is removed).
/// SIGINT stops it in debug mode; otherwise it is ignored: Terraform
/// forwards Ctrl-C to the whole process group and then calls StopProvider,
/// and go-plugin ignores SIGINT itself too.
#[cfg(unix)]
fn on_signals(debug: bool, shutdown: &CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        let s = shutdown.clone();
        tokio::spawn(async move {
            term.recv().await;
            s.cancel();
        });
    }
    let Ok(mut interrupt) = signal(SignalKind::interrupt()) else {
        return;
    };
    if debug {
        let s = shutdown.clone();
        tokio::spawn(async move {
            interrupt.recv().await;
            s.cancel();
        });
    } else {
        tokio::spawn(async move {
            while interrupt.recv().await.is_some() {
                tracing::debug!("ignoring interrupt; Terraform will stop the provider");
            }
        });
    }
}

/// Serves the provider and go-plugin's services on the accepted
/// connections until `shutdown`, giving open connections a grace period.
async fn run(
    provider: Arc<dyn Provider>,
    rx: mpsc::Receiver<std::io::Result<Conn>>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let svc = ProviderService::new(provider);
    let router = tonic::transport::Server::builder()
        .add_service(
            ProviderServer::new(svc)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(plugin::grpc_controller_server::GrpcControllerServer::new(
            Controller(shutdown.clone()),
        ))
        .add_service(plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio(
            shutdown.clone(),
        )))
        .add_service(plugin::grpc_broker_server::GrpcBrokerServer::new(Broker))
        .add_service(health::health_server::HealthServer::new(Health));
    let stop = shutdown.clone();
    let server = router.serve_with_incoming_shutdown(ReceiverStream::new(rx), async move {
        stop.cancelled().await
    });
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r.map_err(ServeError::Transport)?,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("connections did not close in time after shutdown; exiting anyway");
        }
    }
    Ok(())
}

/// On Windows: Ctrl-C (and Ctrl-Break) stops the server in debug mode;
/// otherwise it is ignored, as on Unix (Terraform stops the provider), so
/// the console's default handler does not kill us mid-call.
#[cfg(not(unix))]
fn on_signals(debug: bool, shutdown: &CancellationToken) {
    let s = shutdown.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if debug {
                s.cancel();
                return;
            }
            tracing::debug!("ignoring Ctrl-C; Terraform will stop the provider");
        }
    });
}

#[cfg(unix)]
async fn watch_parent(shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    let mut tick = tokio::time::interval(PARENT_POLL);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                if std::os::unix::process::parent_id() != parent {
                    tracing::info!("parent process went away; shutting down");
                    shutdown.cancel();
                    return;
                }
            }
        }
    }
}

/// On Windows the parent is not watched: std has no parent-pid call there,
/// and go-plugin's client kills the plugin process when it is done with it
/// (its `Kill`), which is what ends us. Returns when serving ends.
#[cfg(not(unix))]
async fn watch_parent(shutdown: CancellationToken) {
    shutdown.cancelled().await;
}

/// Removes the socket directory when serving ends.
struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(d) = &self.0 {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

enum Listener {
    #[cfg(unix)]
    Unix(UnixListener, String),
    Tcp(TcpListener, String),
}

impl Listener {
    fn address(&self) -> (&'static str, String) {
        match self {
            #[cfg(unix)]
            Listener::Unix(_, a) => ("unix", a.clone()),
            Listener::Tcp(_, a) => ("tcp", a.clone()),
        }
    }
}

/// TCP on loopback: go-plugin's only network on Windows.
#[cfg(not(unix))]
fn listen() -> std::io::Result<(Listener, Cleanup)> {
    let l = listen_tcp()?;
    let addr = l.local_addr()?.to_string();
    Ok((Listener::Tcp(l, addr), Cleanup(None)))
}

#[cfg(unix)]
fn listen() -> std::io::Result<(Listener, Cleanup)> {
    let base = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    match make_socket_dir(&base).and_then(|d| {
        let sock = d.join("plugin.sock");
        let l = UnixListener::bind(&sock).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&d);
        })?;
        Ok((l, sock, d))
    }) {
        Ok((l, sock, dir)) => Ok((
            Listener::Unix(l, sock.to_string_lossy().into_owned()),
            Cleanup(Some(dir)),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "unix socket unavailable; falling back to TCP");
            let l = listen_tcp()?;
            let addr = l.local_addr()?.to_string();
            Ok((Listener::Tcp(l, addr), Cleanup(None)))
        }
    }
}

#[cfg(unix)]
fn make_socket_dir(base: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last = None;
    for i in 0..16u32 {
        let d = base.join(format!(
            "plugin{}{:08x}",
            std::process::id(),
            nanos.wrapping_add(i)
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&d) {
            Ok(()) => return Ok(d),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no socket directory")))
}

fn listen_tcp() -> std::io::Result<TcpListener> {
    let port = |k: &str| -> std::io::Result<u16> {
        match std::env::var(k) {
            Ok(v) if !v.is_empty() => v
                .parse()
                .map_err(|_| std::io::Error::other(format!("{k} is not a port number: {v:?}"))),
            _ => Ok(0),
        }
    };
    let (min, max) = (port("PLUGIN_MIN_PORT")?, port("PLUGIN_MAX_PORT")?);
    if min > max {
        return Err(std::io::Error::other(format!(
            "PLUGIN_MIN_PORT {min} is greater than PLUGIN_MAX_PORT {max}"
        )));
    }
    for p in min..=max {
        if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", p)) {
            l.set_nonblocking(true)?;
            return TcpListener::from_std(l);
        }
    }
    Err(std::io::Error::other(
        "could not bind a TCP port in the allowed range",
    ))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// One accepted connection (unix or TCP, plain or TLS).
struct Conn(Pin<Box<dyn Io>>);

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.0.as_mut().poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

async fn accept_loop(
    listener: Listener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    tx: mpsc::Sender<std::io::Result<Conn>>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted: std::io::Result<Pin<Box<dyn Io>>> = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = async {
                match &listener {
                    #[cfg(unix)]
                    Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Box::pin(s) as Pin<Box<dyn Io>>),
                    Listener::Tcp(l, _) => l.accept().await.and_then(|(s, _)| {
                        s.set_nodelay(true)?;
                        Ok(Box::pin(s) as Pin<Box<dyn Io>>)
                    }),
                }
            } => r,
        };
        let stream = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let tx = tx.clone();
        match &tls {
            None => {
                if tx.send(Ok(Conn(stream))).await.is_err() {
                    return;
                }
            }
            Some(acc) => {
                // Handshake off the accept loop so a slow client blocks no one.
                let acc = acc.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acc.accept(stream)).await {
                        Ok(Ok(s)) => {
                            let _ = tx.send(Ok(Conn(Box::pin(s)))).await;
                        }
                        Ok(Err(e)) => tracing::warn!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::warn!(
                            timeout_s = TLS_HANDSHAKE_TIMEOUT.as_secs(),
                            "TLS handshake not completed in time; connection closed"
                        ),
                    }
                });
            }
        }
    }
}

struct Controller(CancellationToken);

#[tonic::async_trait]
impl plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _r: Request<plugin::Empty>,
    ) -> Result<Response<plugin::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.0.cancel();
        Ok(Response::new(plugin::Empty {}))
    }
}

struct Stdio(CancellationToken);

#[tonic::async_trait]
impl plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = ReceiverStream<Result<plugin::StdioData, Status>>;
    async fn stream_stdio(
        &self,
        _r: Request<plugin::Empty>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        // We never write to stdout/stderr through go-plugin's stdio copy (logs
        // go to stderr directly), so the stream stays open and empty until
        // shutdown, when the sender is dropped and the stream ends.
        let (tx, rx) = mpsc::channel(1);
        let stop = self.0.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            drop(tx);
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

struct Broker;

#[tonic::async_trait]
impl plugin::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = ReceiverStream<Result<plugin::ConnInfo, Status>>;
    async fn start_stream(
        &self,
        _r: Request<tonic::Streaming<plugin::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Err(Status::unimplemented(
            "this provider does not broker connections",
        ))
    }
}

struct Health;

#[tonic::async_trait]
impl health::health_server::Health for Health {
    async fn check(
        &self,
        _r: Request<health::HealthCheckRequest>,
    ) -> Result<Response<health::HealthCheckResponse>, Status> {
        Ok(Response::new(health::HealthCheckResponse {
            status: health::health_check_response::ServingStatus::Serving as i32,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie() {
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert!(check_cookie(None).is_err());
        let e = check_cookie(Some("nope")).unwrap_err();
        assert!(e.to_string().contains("Terraform provider plugin"));
    }

    #[test]
    fn protocol_versions() {
        assert!(check_protocol_versions(Some("5,6")).is_ok());
        assert!(check_protocol_versions(None).is_ok());
        assert!(check_protocol_versions(Some("4,5")).is_err());
    }

    #[test]
    fn handshake_format() {
        assert_eq!(
            handshake_line("unix", "/tmp/plugin123/sock", None),
            "1|6|unix|/tmp/plugin123/sock|grpc|\n"
        );
        // raw std base64: "+" and "/" allowed, no "=" padding
        let l = handshake_line("tcp", "127.0.0.1:1234", Some(&[0xfb, 0xff]));
        assert_eq!(l, "1|6|tcp|127.0.0.1:1234|grpc|+/8\n");
    }

    #[test]
    fn reattach() {
        let j: serde_json::Value = serde_json::from_str(&reattach_json(
            "registry.terraform.io/eks-tools/eks",
            7,
            "unix",
            "/s",
        ))
        .unwrap();
        let p = &j["registry.terraform.io/eks-tools/eks"];
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Test"], true);
    }

    #[test]
    fn server_cert_is_p256_and_pins_client() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = tls::generate_server_cert().unwrap();
        let client = tls::generate_server_cert().unwrap();
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(&client.cert_der)
        );
        let cfg = tls::server_config(&pem, &server).unwrap();
        assert_eq!(cfg.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(tls::server_config("garbage", &server).is_err());
    }
}
