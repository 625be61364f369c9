//! The worker process's lifecycle around the consumer: metrics recorder, health port, signal
//! handling and the supervised wait. `main` hands it the consumer as a future-producing closure
//! and a readiness probe, and gets back the [`Report`] that says who ended and why.
//!
//! Readiness is "consumer": true while the consumer is connected and subscribed (polled every
//! 250 ms from the closure the broker exposes, so the broker layer needs no knowledge of HTTP).

use super::health::{HealthServer, Readiness};
use super::shutdown::{Report, Shutdown, Supervisor};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Extra time the supervisor grants beyond the consumer's own drain deadline, for flushing
/// results and closing the connection cleanly.
pub const FLUSH_MARGIN: Duration = Duration::from_secs(5);

/// Why the process could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("SFPRIVACY_HEALTH_ADDR: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot install the metrics recorder: {0}")]
    Metrics(String),
}

/// Runs `consumer` under supervision until a signal (or the consumer's own end), with the
/// health port on `health_addr`. `shutdown_deadline` is the consumer's drain deadline.
pub async fn run<C, F, E>(
    health_addr: SocketAddr,
    shutdown_deadline: Duration,
    consumer: C,
    consuming: impl Fn() -> bool + Send + 'static,
) -> Result<Report, ProcessError>
where
    C: FnOnce(CancellationToken) -> F,
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + 'static,
{
    let metrics = super::metrics::install().map_err(|e| ProcessError::Metrics(e.to_string()))?;
    let readiness = Readiness::new();
    readiness.register("consumer");
    let server = HealthServer::bind(health_addr, readiness.clone(), Some(metrics))
        .await
        .map_err(|source| ProcessError::Bind {
            addr: health_addr,
            source,
        })?;
    tracing::info!(addr = %health_addr, "health port: /healthz /readyz /metrics");

    let shutdown = Shutdown::new(readiness.clone());
    let mut sup = Supervisor::new(shutdown.clone());
    sup.handle_signals();
    sup.handle_panics();
    // The health port outlives the drain: it stops on its own token, after the report.
    let health_stop = CancellationToken::new();
    let health = tokio::spawn(server.run(health_stop.clone()));

    let token = shutdown.token();
    sup.spawn("readiness", async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = token.cancelled() => return Ok::<_, String>(()),
                _ = tick.tick() => readiness.set("consumer", consuming()),
            }
        }
    });
    sup.spawn("consumer", consumer(shutdown.token()));

    let report = sup.wait(shutdown_deadline + FLUSH_MARGIN).await;
    health_stop.cancel();
    let _ = health.await;
    Ok(report)
}
