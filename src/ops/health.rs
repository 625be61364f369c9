//! The health port: `/healthz`, `/readyz` and `/metrics` over HTTP (axum).
//!
//! - `/healthz` answers 200 while the process runs; it touches nothing outside the process, so a
//!   RabbitMQ, Redis or Salesforce outage never gets a replica killed by its liveness probe.
//! - `/readyz` answers 200 only while every registered component reports ready (the worker
//!   registers `broker` and `consumer`) and shutdown has not begun; otherwise 503 with the
//!   components that are not ready.
//! - `/metrics` renders the Prometheus recorder.
//!
//! [`HealthServer::bind`] binds first (port 0 in tests) and [`HealthServer::run`] serves until
//! the shutdown token is cancelled — build and run kept apart, as in zero-to-production.

use super::metrics::{self as names};
use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What `/readyz` reports. Cheap to clone; clones share state.
#[derive(Clone, Default)]
pub struct Readiness {
    inner: Arc<ReadinessInner>,
}

#[derive(Default)]
struct ReadinessInner {
    components: Mutex<BTreeMap<&'static str, bool>>,
    shutting_down: AtomicBool,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a component (not ready) that must report ready before the replica is.
    pub fn register(&self, component: &'static str) {
        self.components().entry(component).or_insert(false);
        self.publish();
    }

    /// Sets a component's state (registering it if new).
    pub fn set(&self, component: &'static str, ready: bool) {
        self.components().insert(component, ready);
        self.publish();
    }

    /// Shutdown has begun: never ready again.
    pub fn shutting_down(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        self.publish();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Ready when at least one component is registered, all are ready, and shutdown has not
    /// begun.
    pub fn is_ready(&self) -> bool {
        let c = self.components();
        !self.is_shutting_down() && !c.is_empty() && c.values().all(|r| *r)
    }

    /// Components not ready yet (`shutdown` while shutting down).
    pub fn not_ready(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .components()
            .iter()
            .filter(|(_, r)| !**r)
            .map(|(n, _)| n.to_string())
            .collect();
        if self.is_shutting_down() {
            out.push("shutdown".into());
        }
        out
    }

    fn components(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, bool>> {
        // A panic while holding this lock cannot leave the map inconsistent: keep going.
        self.inner
            .components
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self) {
        metrics::gauge!(names::READY).set(if self.is_ready() { 1.0 } else { 0.0 });
    }
}

#[derive(Clone)]
struct AppState {
    readiness: Readiness,
    metrics: Option<PrometheusHandle>,
}

/// The routes, for tests that drive them without a socket.
pub fn router(readiness: Readiness, metrics: Option<PrometheusHandle>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(AppState { readiness, metrics })
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    if s.readiness.is_ready() {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", s.readiness.not_ready().join(", ")),
        )
    }
}

async fn render_metrics(State(s): State<AppState>) -> impl IntoResponse {
    match &s.metrics {
        Some(h) => {
            // Upkeep drains histogram buffers; the exporter leaves scheduling it to us.
            h.run_upkeep();
            (
                StatusCode::OK,
                [("content-type", "text/plain; version=0.0.4")],
                h.render(),
            )
        }
        None => (
            StatusCode::NOT_FOUND,
            [("content-type", "text/plain; version=0.0.4")],
            "metrics recorder not installed\n".to_string(),
        ),
    }
}

/// A bound, not yet serving, health listener.
pub struct HealthServer {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl HealthServer {
    /// Binds `addr` (port 0 picks a free port; see [`HealthServer::local_addr`]).
    pub async fn bind(
        addr: SocketAddr,
        readiness: Readiness,
        metrics: Option<PrometheusHandle>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            router: router(readiness, metrics),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled. The health port stays up while the worker drains,
    /// so probes see `/readyz` turn 503 instead of a refused connection; it stops last.
    pub async fn run(self, shutdown: CancellationToken) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The endpoints only: probes follow readiness and shutdown, and `/metrics` renders what the
    /// recorder holds (the counter is bumped here, so this pins rendering, not counting; the
    /// counting is pinned against a real worker in `tests/worker_process.rs`,
    /// `a_real_worker_reports_calls_usage_tokens_deferrals_and_reconnects_in_metrics`).
    #[tokio::test]
    async fn probes_follow_readiness_and_shutdown_and_metrics_renders_the_recorder() {
        let readiness = Readiness::new();
        let recorder = names::builder().unwrap().build_recorder();
        let server = HealthServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            readiness.clone(),
            Some(recorder.handle()),
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        let token = CancellationToken::new();
        let task = tokio::spawn(server.run(token.clone()));

        assert_eq!(get(addr, "/healthz").await.0, 200);
        // Nothing registered yet: not ready.
        assert_eq!(get(addr, "/readyz").await.0, 503);
        readiness.register("broker");
        readiness.register("consumer");
        readiness.set("broker", true);
        let (code, body) = get(addr, "/readyz").await;
        assert_eq!(code, 503);
        assert!(body.contains("consumer"), "{body}");
        readiness.set("consumer", true);
        assert_eq!(get(addr, "/readyz").await.0, 200);
        readiness.shutting_down();
        let (code, body) = get(addr, "/readyz").await;
        assert_eq!((code, body.contains("shutdown")), (503, true));
        // Liveness does not depend on readiness.
        assert_eq!(get(addr, "/healthz").await.0, 200);

        // Rendering only: whatever the recorder holds is served.
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!(names::BROKER_RECONNECTS).increment(1);
        });
        let (code, body) = get(addr, "/metrics").await;
        assert_eq!(code, 200);
        assert!(
            body.contains("sfprivacy_broker_reconnects_total 1"),
            "{body}"
        );

        token.cancel();
        task.await.unwrap().unwrap();
        assert!(
            reqwest::get(format!("http://{addr}/healthz"))
                .await
                .is_err()
        );
    }
}
