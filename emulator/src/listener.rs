//! The transport under the router: accepts TCP (optionally TLS) connections and serves HTTP/1.1
//! on each with hyper.
//!
//! Why not `axum::serve`: two things the emulator needs sit below the router. TLS, because
//! real clients (simple-salesforce) force `https://` on the instance URL; and dropping a
//! connection without any response (a fault), which a handler cannot do. A handler asks for
//! that by putting [`DropConnection`] in its response's extensions; this layer then fails the
//! hyper service call, and hyper closes the socket without writing a byte.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Per-connection facts handlers may read from request extensions.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub tls: bool,
}

/// Response extension: close the connection instead of sending this response.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading TLS file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("no certificate or key found in {0}")]
    Pem(String),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A server certificate chain and key, PEM-encoded.
pub fn tls_config(cert_path: &str, key_path: &str) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let read = |path: &str| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_string(),
            source,
        })
    };
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Pem(cert_path.into()))?;
    if certs.is_empty() {
        return Err(TlsError::Pem(cert_path.into()));
    }
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::Pem(key_path.into()))?;
    // An explicit provider: the workspace may compile more than one into rustls.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Salesforce answers `/services/data/v62.0/query/?q=…` like `/query?q=…`, and clients rely on
/// it (simple-salesforce adds the slash everywhere): routes are matched without it. Repeated
/// slashes count as one too (jsforce asks for `jobs/query//{id}/results?locator=…`).
pub fn strip_trailing_slash<B>(req: &mut axum::http::Request<B>) {
    let path = req.uri().path();
    let doubled = path.contains("//");
    if !doubled && (path.len() <= 1 || !path.ends_with('/')) {
        return;
    }
    let mut collapsed = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    let trimmed = match collapsed.trim_end_matches('/') {
        "" => "/",
        t => t,
    };
    let new = match req.uri().query() {
        Some(q) => format!("{trimmed}?{q}"),
        None => trimmed.to_string(),
    };
    if let Ok(uri) = new.parse() {
        *req.uri_mut() = uri;
    }
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct Dropped;

/// Serves `router` on `listener` until `shutdown`; each connection finishes its request in hand.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Transient accept errors (e.g. too many open files): keep accepting.
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let acceptor = acceptor.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls_stream) = acceptor.accept(stream).await {
                        serve_connection(TokioIo::new(tls_stream), router, true, shutdown).await;
                    }
                }
                None => serve_connection(TokioIo::new(stream), router, false, shutdown).await,
            }
        });
    }
}

async fn serve_connection<I>(io: I, router: Router, tls: bool, shutdown: CancellationToken)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let router = router.clone();
        async move {
            let mut req = req.map(axum::body::Body::new);
            strip_trailing_slash(&mut req);
            req.extensions_mut().insert(ConnInfo { tls });
            let resp = match router.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            if resp.extensions().get::<DropConnection>().is_some() {
                return Err(Dropped);
            }
            Ok::<_, Dropped>(resp)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
