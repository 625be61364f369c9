//! API limits as Salesforce enforces them on data routes: the daily request allocation, the
//! concurrent long-request cap (ConcurrentPerOrgLongTxn), the `Sforce-Limit-Info` header, and
//! `GET /services/data/vNN.0/limits`.
//!
//! [`layer`] sits inside the session guard (an unauthenticated call costs nothing, as in
//! Salesforce). A request is "long" once it has run longer than the threshold (Salesforce: 20 s;
//! settable so tests can use latency faults of a second). Counters are atomics; the in-flight
//! table is one std Mutex held for a map insert or scan.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::admin::input::{AdminError, millis, parse, present};

use crate::server::AppState;

/// Default daily allocation (an Enterprise Edition org's base allocation).
pub const DEFAULT_DAILY_API_REQUESTS: u64 = 100_000;
/// Salesforce caps production orgs at 25 concurrent long requests.
pub const DEFAULT_LONG_REQUEST_CAP: u64 = 25;
/// A request counts as long after 20 s in Salesforce.
pub const DEFAULT_LONG_REQUEST_THRESHOLD: Duration = Duration::from_secs(20);

/// Limits of one emulated org.
pub struct LimitsState {
    daily_max: AtomicU64,
    used: AtomicU64,
    long_cap: AtomicU64,
    long_threshold_ms: AtomicU64,
    next_id: AtomicU64,
    in_flight: Mutex<HashMap<u64, Instant>>,
}

impl Default for LimitsState {
    fn default() -> Self {
        Self {
            daily_max: AtomicU64::new(DEFAULT_DAILY_API_REQUESTS),
            used: AtomicU64::new(0),
            long_cap: AtomicU64::new(DEFAULT_LONG_REQUEST_CAP),
            long_threshold_ms: AtomicU64::new(DEFAULT_LONG_REQUEST_THRESHOLD.as_millis() as u64),
            next_id: AtomicU64::new(0),
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

/// Settable limits (admin API, flags); `None` leaves a value unchanged. The admin API refuses
/// unknown keys and `null` (see [`crate::admin::input`]).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    #[serde(default, deserialize_with = "present")]
    pub daily_api_requests: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    pub used: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    pub long_request_cap: Option<u64>,
    #[serde(default, deserialize_with = "millis")]
    pub long_request_threshold_ms: Option<u64>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitExceeded {
    TotalRequests,
    ConcurrentLongTxn,
}

impl IntoResponse for LimitExceeded {
    fn into_response(self) -> Response {
        let message = match self {
            LimitExceeded::TotalRequests => "TotalRequests Limit exceeded.",
            LimitExceeded::ConcurrentLongTxn => "ConcurrentPerOrgLongTxn Limit exceeded.",
        };
        let body = serde_json::json!([{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}]);
        (StatusCode::FORBIDDEN, Json(body)).into_response()
    }
}

/// Releases a request's in-flight slot when dropped (also when the client goes away).
struct InFlight<'a> {
    limits: &'a LimitsState,
    id: u64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.limits.table().remove(&self.id);
    }
}

impl LimitsState {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn apply(&self, s: &LimitSettings) {
        if let Some(v) = s.daily_api_requests {
            self.daily_max.store(v, Ordering::SeqCst);
        }
        if let Some(v) = s.used {
            self.used.store(v, Ordering::SeqCst);
        }
        if let Some(v) = s.long_request_cap {
            self.long_cap.store(v, Ordering::SeqCst);
        }
        if let Some(v) = s.long_request_threshold_ms {
            self.long_threshold_ms.store(v, Ordering::SeqCst);
        }
    }

    pub fn settings(&self) -> LimitSettings {
        LimitSettings {
            daily_api_requests: Some(self.daily_max.load(Ordering::SeqCst)),
            used: Some(self.used.load(Ordering::SeqCst)),
            long_request_cap: Some(self.long_cap.load(Ordering::SeqCst)),
            long_request_threshold_ms: Some(self.long_threshold_ms.load(Ordering::SeqCst)),
        }
    }

    /// Charges `n` more calls (e.g. the extra subrequests of a composite batch).
    pub fn charge(&self, n: u64) {
        self.used.fetch_add(n, Ordering::SeqCst);
    }

    /// (used, max) of the daily allocation.
    pub fn usage(&self) -> (u64, u64) {
        (
            self.used.load(Ordering::SeqCst),
            self.daily_max.load(Ordering::SeqCst),
        )
    }

    /// Requests in flight longer than the threshold.
    pub fn long_in_flight(&self) -> u64 {
        let threshold = Duration::from_millis(self.long_threshold_ms.load(Ordering::SeqCst));
        let now = Instant::now();
        self.table()
            .values()
            .filter(|start| now.duration_since(**start) >= threshold)
            .count() as u64
    }

    /// Admits one request: counts it against the allocation and takes an in-flight slot.
    fn admit(&self) -> Result<InFlight<'_>, LimitExceeded> {
        if self.long_in_flight() >= self.long_cap.load(Ordering::SeqCst) {
            return Err(LimitExceeded::ConcurrentLongTxn);
        }
        let max = self.daily_max.load(Ordering::SeqCst);
        // Count only if under the allocation: a refused call is not charged.
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                (u < max).then_some(u + 1)
            })
            .map_err(|_| LimitExceeded::TotalRequests)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.table().insert(id, Instant::now());
        Ok(InFlight { limits: self, id })
    }
}

/// Middleware for data routes: enforce the limits and add `Sforce-Limit-Info`.
pub async fn layer(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let guard = match state.limits.admit() {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let mut resp = next.run(req).await;
    drop(guard);
    let (used, max) = state.limits.usage();
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{max}")) {
        resp.headers_mut().insert("sforce-limit-info", v);
    }
    resp
}

/// `GET /services/data/vNN.0/limits` (a data route: behind the guard and [`layer`]).
pub fn data_routes() -> Router<Arc<AppState>> {
    Router::new().route("/services/data/{version}/limits", get(limits))
}

/// Admin: `GET/PUT /__emulator/limits`.
pub fn admin_routes() -> Router<Arc<AppState>> {
    Router::new().route("/__emulator/limits", get(get_settings).put(put_settings))
}

fn max_remaining(max: u64, remaining: u64) -> serde_json::Value {
    serde_json::json!({"Max": max, "Remaining": remaining})
}

async fn limits(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(version): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, crate::error::ApiError> {
    crate::rest::check_version(&version)?;
    let (used, max) = state.limits.usage();
    Ok(Json(serde_json::json!({
        "ConcurrentAsyncGetReportInstances": max_remaining(200, 200),
        "ConcurrentSyncReportRuns": max_remaining(20, 20),
        "DailyApiRequests": max_remaining(max, max.saturating_sub(used)),
        "DailyAsyncApexExecutions": max_remaining(250_000, 250_000),
        "DailyBulkApiBatches": max_remaining(15_000, 15_000),
        "DailyBulkV2QueryFileStorageMB": max_remaining(976_562, 976_562),
        "DailyBulkV2QueryJobs": max_remaining(10_000, 10_000),
        "DailyGenericStreamingApiEvents": max_remaining(10_000, 10_000),
        "DailyStreamingApiEvents": max_remaining(200_000, 200_000),
        "DataStorageMB": max_remaining(5, 5),
        "FileStorageMB": max_remaining(20, 20),
        "HourlyDashboardRefreshes": max_remaining(200, 200),
        "HourlyODataCallout": max_remaining(10_000, 10_000),
        "HourlySyncReportRuns": max_remaining(500, 500),
        "MassEmail": max_remaining(10, 10),
        "SingleEmail": max_remaining(15, 15),
    })))
}

async fn get_settings(State(state): State<Arc<AppState>>) -> Json<LimitSettings> {
    Json(state.limits.settings())
}

async fn put_settings(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Result<Json<LimitSettings>, AdminError> {
    let s: LimitSettings = parse(&body)?;
    state.limits.apply(&s);
    Ok(Json(state.limits.settings()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_spent_then_refused_without_charge() {
        let l = LimitsState::default();
        l.apply(&LimitSettings {
            daily_api_requests: Some(2),
            ..Default::default()
        });
        drop(l.admit().unwrap());
        drop(l.admit().unwrap());
        assert_eq!(l.admit().err(), Some(LimitExceeded::TotalRequests));
        assert_eq!(l.usage(), (2, 2));
    }

    #[test]
    fn long_requests_fill_the_concurrency_cap() {
        let l = LimitsState::default();
        l.apply(&LimitSettings {
            long_request_cap: Some(1),
            long_request_threshold_ms: Some(0),
            ..Default::default()
        });
        let first = l.admit().unwrap();
        assert_eq!(l.admit().err(), Some(LimitExceeded::ConcurrentLongTxn));
        drop(first);
        assert!(l.admit().is_ok());
    }
}
