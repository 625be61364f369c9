//! Builds the emulator's router from every module's routes and runs it.
//!
//! [`AppState`] holds one org (behind a `RwLock`), the shared [`Clock`], query cursors,
//! counters and search settings. Each module contributes its routes with one
//! line in [`Emulator::router`]; layers are added there too, outermost last.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::State;

use crate::clock::Clock;
use crate::counters::Counters;
use crate::org::Org;
use crate::soql::Cursors;

/// Everything that can be set at start (flags/env of `sf-emulator`, or tests).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Seed of the deterministic org generator.
    pub seed: u64,
    /// Approximate number of records to seed (0 = no records but the three OAuth directory
    /// users).
    pub size: usize,
    /// Person accounts enabled (Account gets the person-account fields; 1 in 5 seeded
    /// accounts is a person account).
    pub person_accounts: bool,
    /// Rows written within this window are not yet returned by SOSL.
    pub index_lag_ms: u64,
    /// Query pages vary in size around `batchSize`, as Salesforce allows (see
    /// [`crate::soql::page_size`]); off by default so page counts are predictable.
    pub vary_query_page_sizes: bool,
    /// The org's 18-character id (`00D…`), in identity URLs, access tokens, userinfo and
    /// introspect. Two emulators with different ids look like two orgs to a client that keys
    /// anything per org. See [`crate::admin::input::check_org_id`] for what the flag accepts.
    pub org_id: String,
    /// A sandbox org: its JWT bearer assertions must name `https://test.salesforce.com` as
    /// audience, a production org's `https://login.salesforce.com` (either accepts this host's
    /// own URL, which plays the My Domain host).
    pub sandbox: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            size: 0,
            person_accounts: true,
            index_lag_ms: 3000,
            vary_query_page_sizes: false,
            org_id: crate::oauth::ORG_ID.to_string(),
            sandbox: false,
        }
    }
}

/// Shared state of one emulated org.
pub struct AppState {
    pub config: EmulatorConfig,
    pub oauth: crate::oauth::OAuthState,
    pub limits: crate::limits::LimitsState,
    pub faults: crate::faults::FaultState,
    pub composite: crate::composite::CompositeState,
    pub bulk: crate::bulk::BulkState,
    pub org: RwLock<Org>,
    pub clock: Arc<Clock>,
    pub cursors: Cursors,
    pub counters: Counters,
    /// Current search index lag (admin-settable).
    pub index_lag_ms: AtomicU64,
}

impl AppState {
    pub fn new(config: EmulatorConfig) -> Self {
        let org = Org::new(config.seed, config.size as u64, config.person_accounts);
        let cursors = Cursors::default();
        cursors
            .vary_page_sizes
            .store(config.vary_query_page_sizes, Ordering::Relaxed);
        Self {
            index_lag_ms: AtomicU64::new(config.index_lag_ms),
            oauth: crate::oauth::OAuthState::new(&config.org_id),
            config,
            limits: Default::default(),
            faults: Default::default(),
            composite: Default::default(),
            bulk: Default::default(),
            org: RwLock::new(org),
            clock: Arc::new(Clock::new()),
            cursors,
            counters: Counters::default(),
        }
    }

    /// Read access to the org (a poisoned lock still holds consistent data: writers
    /// validate before they mutate).
    pub fn org(&self) -> std::sync::RwLockReadGuard<'_, Org> {
        self.org.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn org_mut(&self) -> std::sync::RwLockWriteGuard<'_, Org> {
        self.org.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn index_lag_ms(&self) -> u64 {
        self.index_lag_ms.load(Ordering::Relaxed)
    }
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
            state: Arc::new(AppState::new(config)),
        }
    }

    pub fn router(&self) -> axum::Router {
        use axum::middleware::from_fn_with_state;
        let state = self.state.clone();
        // Data routes, layers innermost first: faults (injected latency is server time, so it
        // makes requests long), limits, counters (every call that reached the API, faulted
        // ones included), then the session guard outermost (unauthenticated calls cost nothing).
        let api = axum::Router::new()
            .merge(crate::rest::routes())
            .merge(crate::limits::data_routes());
        // Composite subrequests run through the bare data routes, as the caller.
        state
            .composite
            .set_router(api.clone().with_state(state.clone()));
        let data = api
            .merge(crate::composite::data_routes())
            .merge(crate::bulk::routes())
            .route_layer(from_fn_with_state(state.clone(), crate::faults::layer))
            .route_layer(from_fn_with_state(state.clone(), crate::limits::layer))
            .route_layer(from_fn_with_state(state.clone(), crate::counters::count))
            .route_layer(from_fn_with_state(
                state.clone(),
                crate::oauth::require_session,
            ));
        axum::Router::new()
            .merge(data)
            .merge(
                crate::oauth::routes()
                    .route_layer(from_fn_with_state(state.clone(), crate::faults::layer))
                    .route_layer(from_fn_with_state(state.clone(), crate::counters::count)),
            )
            .merge(crate::rest::public_routes())
            .merge(crate::admin::routes())
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

/// Handy for handlers: the state type.
pub type Shared = State<Arc<AppState>>;
