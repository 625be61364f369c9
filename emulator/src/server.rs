//! Builds the emulator's router from every module's routes and runs it.

use std::sync::Arc;

/// Everything that can be set at start (flags/env of `sf-emulator`, or tests).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Seed of the deterministic org generator.
    pub seed: u64,
    /// Approximate number of records to seed (0 = an empty org with only the integration user).
    pub size: usize,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self { seed: 42, size: 0 }
    }
}

/// Shared state of one emulated org.
pub struct AppState {
    pub config: EmulatorConfig,
}

/// An emulator ready to be served.
pub struct Emulator {
    pub state: Arc<AppState>,
}

/// A served emulator: its base URL (`http://127.0.0.1:PORT`) and state.
pub struct RunningEmulator {
    pub base_url: String,
    pub state: Arc<AppState>,
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl Emulator {
    pub fn new(config: EmulatorConfig) -> Self {
        Self {
            state: Arc::new(AppState { config }),
        }
    }

    pub fn router(&self) -> axum::Router {
        axum::Router::new().with_state(self.state.clone())
    }

    /// Binds `addr` (port 0 for a random port) and serves in a background task.
    pub async fn start(self, addr: &str) -> std::io::Result<RunningEmulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let router = self.router();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        Ok(RunningEmulator {
            base_url: format!("http://{local}"),
            state: self.state,
            shutdown,
        })
    }
}
