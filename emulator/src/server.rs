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
    pub oauth: crate::oauth::OAuthState,
    pub limits: crate::limits::LimitsState,
    pub faults: crate::faults::FaultState,
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
            state: Arc::new(AppState {
                config,
                oauth: Default::default(),
                limits: Default::default(),
                faults: Default::default(),
            }),
        }
    }

    pub fn router(&self) -> axum::Router {
        use axum::middleware::from_fn_with_state;
        let state = self.state.clone();
        // Data routes: session guard outermost, then limits (unauthenticated calls cost nothing),
        // then faults (injected latency is server time, so it makes requests long).
        let data = axum::Router::new()
            .merge(crate::limits::data_routes())
            .route_layer(from_fn_with_state(state.clone(), crate::faults::layer))
            .route_layer(from_fn_with_state(state.clone(), crate::limits::layer))
            .route_layer(from_fn_with_state(
                state.clone(),
                crate::oauth::require_session,
            ));
        axum::Router::new()
            .merge(data)
            .merge(
                crate::oauth::routes()
                    .route_layer(from_fn_with_state(state.clone(), crate::faults::layer)),
            )
            .merge(crate::limits::admin_routes())
            .merge(crate::faults::admin_routes())
            .with_state(state)
    }

    /// Binds `addr` (port 0 for a random port) and serves in a background task.
    pub async fn start(self, addr: &str) -> std::io::Result<RunningEmulator> {
        self.start_with_tls(addr, None).await
    }

    /// Like [`Emulator::start`], over TLS when a config is given (see [`crate::listener`]).
    pub async fn start_with_tls(
        self,
        addr: &str,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> std::io::Result<RunningEmulator> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let router = self.router();
        let stop = shutdown.clone();
        tokio::spawn(crate::listener::serve(listener, router, tls, stop));
        Ok(RunningEmulator {
            base_url: format!("{scheme}://{local}"),
            state: self.state,
            shutdown,
        })
    }
}
