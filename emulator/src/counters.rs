//! API-call counters, per endpoint and per connection, so a test can say exactly how many
//! Salesforce calls a piece of work cost.
//!
//! An endpoint is `METHOD route-template` (`GET /services/data/{version}/query`). A
//! connection is the connected app (OAuth client id) of the session the guard put in the
//! request's extensions, or `anonymous` without one (OAuth endpoints).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::server::AppState;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    pub total: u64,
    pub endpoints: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, endpoint: &str, n: u64) {
        self.total += n;
        *self.endpoints.entry(endpoint.to_string()).or_default() += n;
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Snapshot {
    pub total: u64,
    pub endpoints: BTreeMap<String, u64>,
    pub connections: BTreeMap<String, Tally>,
}

#[derive(Debug, Default)]
pub struct Counters {
    inner: Mutex<Snapshot>,
}

impl Counters {
    pub fn record(&self, endpoint: &str, connection: &str) {
        self.record_n(endpoint, connection, 1);
    }

    /// Counts `n` calls at once (a composite batch is charged one call per subrequest).
    pub fn record_n(&self, endpoint: &str, connection: &str, n: u64) {
        if n == 0 {
            return;
        }
        if let Ok(mut s) = self.inner.lock() {
            s.total += n;
            *s.endpoints.entry(endpoint.to_string()).or_default() += n;
            s.connections
                .entry(connection.to_string())
                .or_default()
                .add(endpoint, n);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        self.inner.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn reset(&self) {
        if let Ok(mut s) = self.inner.lock() {
            *s = Snapshot::default();
        }
    }
}

/// Middleware: counts the call once it has been routed (so the template is known).
pub async fn count(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let endpoint = format!(
        "{} {}",
        req.method(),
        req.extensions()
            .get::<MatchedPath>()
            .map_or_else(|| req.uri().path().to_string(), |m| m.as_str().to_string())
    );
    let connection = req
        .extensions()
        .get::<crate::oauth::Session>()
        .map_or_else(|| "anonymous".to_string(), |s| s.client_id.clone());
    state.counters.record(&endpoint, &connection);
    next.run(req).await
}
