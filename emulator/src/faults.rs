//! Faults on demand: latency (fixed + jitter), per-endpoint error rates, "fail the next N
//! requests to an endpoint", and dropped connections. Set at start (flags/env of `sf-emulator`)
//! and at run time (`/__emulator/faults`).
//!
//! [`layer`] wraps the OAuth routes and, on data routes, sits inside the session guard and the
//! limits layer: injected latency is server time, so a slowed request counts as long. Random draws come from one seeded `StdRng`,
//! so a given seed and request order give the same faults. Errors use Salesforce's shapes:
//! 503 `SERVER_UNAVAILABLE`, 400 `UNABLE_TO_LOCK_ROW`, 403 concurrent `REQUEST_LIMIT_EXCEEDED`.
//! A drop is signalled to [`crate::listener`] with [`DropConnection`].
//!
//! An endpoint is named by the first path segment after `/services/data/vNN.0/` (`query`,
//! `sobjects`, `composite`, `search`, `jobs`, `limits`, …), `oauth2/<name>` for OAuth routes,
//! or `*` for every route.

use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::admin::input::{AdminError, check_rate, object_list, parse, present};

use crate::listener::DropConnection;
use crate::server::AppState;

/// An injected failure.
/// Read from the admin API as from flags (one parser): the names below in any case, or `503`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", try_from = "String")]
pub enum FaultKind {
    ServerUnavailable,
    UnableToLockRow,
    /// Concurrent-request `REQUEST_LIMIT_EXCEEDED` (transient, unlike the daily allocation).
    RequestLimitExceeded,
    /// Close the TCP connection without a response.
    Drop,
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "SERVER_UNAVAILABLE" | "503" => Ok(Self::ServerUnavailable),
            "UNABLE_TO_LOCK_ROW" => Ok(Self::UnableToLockRow),
            "REQUEST_LIMIT_EXCEEDED" => Ok(Self::RequestLimitExceeded),
            "DROP" => Ok(Self::Drop),
            other => Err(format!(
                "unknown fault kind {other} (SERVER_UNAVAILABLE, UNABLE_TO_LOCK_ROW, \
                 REQUEST_LIMIT_EXCEEDED, DROP)"
            )),
        }
    }
}

impl TryFrom<String> for FaultKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// An endpoint pattern: not blank (see the module docs for the names).
fn check_endpoint(endpoint: &str) -> Result<String, String> {
    if endpoint.trim().is_empty() {
        return Err("the endpoint is blank (use * for every endpoint)".into());
    }
    Ok(endpoint.to_string())
}

fn endpoint<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    check_endpoint(&String::deserialize(d)?).map_err(D::Error::custom)
}

fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    check_rate(f64::deserialize(d)?).map_err(D::Error::custom)
}

fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match u32::deserialize(d)? {
        0 => Err(D::Error::custom("count must be at least 1")),
        n => Ok(n),
    }
}

impl FaultKind {
    fn response(self) -> Response {
        let (status, message, code) = match self {
            Self::ServerUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Server is temporarily unavailable. Please try again later.",
                "SERVER_UNAVAILABLE",
            ),
            Self::UnableToLockRow => (
                StatusCode::BAD_REQUEST,
                "unable to obtain exclusive access to this record",
                "UNABLE_TO_LOCK_ROW",
            ),
            Self::RequestLimitExceeded => (
                StatusCode::FORBIDDEN,
                "ConcurrentPerOrgLongTxn Limit exceeded.",
                "REQUEST_LIMIT_EXCEEDED",
            ),
            Self::Drop => {
                let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                resp.extensions_mut().insert(DropConnection);
                return resp;
            }
        };
        // A lock failure is a record (DML) error and carries `fields`; the others do not,
        // like the real limit and availability errors (see `crate::error`).
        let body = if matches!(self, Self::UnableToLockRow) {
            serde_json::json!([{"message": message, "errorCode": code, "fields": []}])
        } else {
            serde_json::json!([{"message": message, "errorCode": code}])
        };
        (status, Json(body)).into_response()
    }
}

/// Fail a share of requests to an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRate {
    #[serde(deserialize_with = "endpoint")]
    pub endpoint: String,
    pub kind: FaultKind,
    /// 0.0..=1.0
    #[serde(deserialize_with = "rate")]
    pub rate: f64,
}

impl FromStr for ErrorRate {
    type Err = String;
    /// `endpoint:KIND:rate`, e.g. `query:SERVER_UNAVAILABLE:0.1`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.rsplitn(3, ':');
        let rate = parts.next().unwrap_or_default();
        let kind = parts.next().ok_or("expected endpoint:KIND:rate")?;
        let endpoint = parts.next().ok_or("expected endpoint:KIND:rate")?;
        let rate: f64 = rate.parse().map_err(|_| format!("bad rate {rate}"))?;
        Ok(Self {
            endpoint: check_endpoint(endpoint)?,
            kind: kind.parse()?,
            rate: check_rate(rate)?,
        })
    }
}

/// Fail exactly the next `count` requests to an endpoint (deterministic, for tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailNext {
    #[serde(deserialize_with = "endpoint")]
    pub endpoint: String,
    pub kind: FaultKind,
    #[serde(deserialize_with = "count")]
    pub count: u32,
    /// Let this many matching requests through first ("fail after N more calls").
    #[serde(default)]
    pub after: u32,
}

/// Everything settable about faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSettings {
    #[serde(default, deserialize_with = "millis")]
    pub latency_ms: u64,
    #[serde(default, deserialize_with = "millis")]
    pub jitter_ms: u64,
    #[serde(default)]
    pub error_rates: Vec<ErrorRate>,
    #[serde(default)]
    pub fail_next: Vec<FailNext>,
    /// Seed of the random draws; `None` (or `null`) seeds from entropy.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    crate::admin::input::check_ms(u64::deserialize(d)?).map_err(D::Error::custom)
}

/// Faults of one emulator.
pub struct FaultState {
    inner: Mutex<(FaultSettings, StdRng)>,
}

impl Default for FaultState {
    fn default() -> Self {
        Self {
            inner: Mutex::new((FaultSettings::default(), StdRng::from_os_rng())),
        }
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decision {
    delay: Duration,
    fault: Option<FaultKind>,
}

fn matches(pattern: &str, endpoint: &str) -> bool {
    pattern == "*" || pattern.eq_ignore_ascii_case(endpoint)
}

/// The endpoint name faults and rules are keyed by.
pub fn endpoint_of(path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["services", "data", version, first, ..] if version.starts_with('v') => first.to_string(),
        ["services", "data", ..] => "versions".into(),
        ["services", "oauth2", name, ..] => format!("oauth2/{name}"),
        ["id", ..] => "identity".into(),
        _ => path.to_string(),
    }
}

impl FaultState {
    fn lock(&self) -> MutexGuard<'_, (FaultSettings, StdRng)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the settings (and reseeds when a seed is given).
    pub fn set(&self, settings: FaultSettings) {
        let mut g = self.lock();
        if let Some(seed) = settings.seed {
            g.1 = StdRng::seed_from_u64(seed);
        }
        g.0 = settings;
    }

    pub fn settings(&self) -> FaultSettings {
        self.lock().0.clone()
    }

    fn decide(&self, endpoint: &str) -> Decision {
        let mut g = self.lock();
        let (settings, rng) = &mut *g;
        let jitter = if settings.jitter_ms > 0 {
            rng.random_range(0..=settings.jitter_ms)
        } else {
            0
        };
        let delay = Duration::from_millis(settings.latency_ms + jitter);
        let mut fault = None;
        for f in settings.fail_next.iter_mut() {
            if f.count > 0 && matches(&f.endpoint, endpoint) {
                if f.after > 0 {
                    f.after -= 1;
                } else {
                    f.count -= 1;
                    fault = Some(f.kind);
                }
                break;
            }
        }
        settings.fail_next.retain(|f| f.count > 0);
        if fault.is_none() {
            for r in &settings.error_rates {
                if matches(&r.endpoint, endpoint) && rng.random_bool(r.rate.clamp(0.0, 1.0)) {
                    fault = Some(r.kind);
                    break;
                }
            }
        }
        Decision { delay, fault }
    }
}

/// Middleware on every route but `/__emulator/…`.
pub async fn layer(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/__emulator") {
        return next.run(req).await;
    }
    let decision = state.faults.decide(&endpoint_of(req.uri().path()));
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    match decision.fault {
        Some(kind) => kind.response(),
        None => next.run(req).await,
    }
}

/// Admin body of `PUT /__emulator/faults`: the fault settings plus two one-shot actions.
/// The settings' keys are repeated rather than flattened: serde cannot refuse unknown keys
/// through `flatten`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultUpdate {
    #[serde(default, deserialize_with = "millis")]
    latency_ms: u64,
    #[serde(default, deserialize_with = "millis")]
    jitter_ms: u64,
    #[serde(default, deserialize_with = "object_list")]
    error_rates: Vec<ErrorRate>,
    #[serde(default, deserialize_with = "object_list")]
    fail_next: Vec<FailNext>,
    #[serde(default)]
    seed: Option<u64>,
    /// Expire every session now.
    #[serde(default)]
    expire_sessions: bool,
    /// Set the daily API allocation.
    #[serde(default, deserialize_with = "present")]
    daily_api_requests: Option<u64>,
}

/// Admin: `GET/PUT/DELETE /__emulator/faults`.
pub fn admin_routes() -> Router<Arc<AppState>> {
    Router::new().route(
        "/__emulator/faults",
        get(get_faults).put(put_faults).delete(clear_faults),
    )
}

async fn get_faults(State(state): State<Arc<AppState>>) -> Json<FaultSettings> {
    Json(state.faults.settings())
}

async fn put_faults(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, AdminError> {
    let update: FaultUpdate = parse(&body)?;
    state.faults.set(FaultSettings {
        latency_ms: update.latency_ms,
        jitter_ms: update.jitter_ms,
        error_rates: update.error_rates,
        fail_next: update.fail_next,
        seed: update.seed,
    });
    let expired = update
        .expire_sessions
        .then(|| state.oauth.expire_all_sessions());
    if let Some(n) = update.daily_api_requests {
        state.limits.apply(&crate::limits::LimitSettings {
            daily_api_requests: Some(n),
            ..Default::default()
        });
    }
    Ok(Json(serde_json::json!({
        "faults": state.faults.settings(),
        "expired_sessions": expired,
        "limits": state.limits.settings(),
    })))
}

async fn clear_faults(State(state): State<Arc<AppState>>) -> StatusCode {
    state.faults.set(FaultSettings::default());
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_by_their_first_segment() {
        assert_eq!(endpoint_of("/services/data/v62.0/query/01g-2000"), "query");
        assert_eq!(
            endpoint_of("/services/data/v62.0/sobjects/Contact/003"),
            "sobjects"
        );
        assert_eq!(endpoint_of("/services/data"), "versions");
        assert_eq!(endpoint_of("/services/oauth2/token"), "oauth2/token");
    }

    #[test]
    fn rules_parse_from_flags() {
        let r: ErrorRate = "query:SERVER_UNAVAILABLE:0.25".parse().unwrap();
        assert_eq!(r.kind, FaultKind::ServerUnavailable);
        assert_eq!(r.rate, 0.25);
        assert!("query:SERVER_UNAVAILABLE:2".parse::<ErrorRate>().is_err());
        assert!("query:NOPE:0.1".parse::<ErrorRate>().is_err());
    }

    #[test]
    fn fail_next_skips_then_fails_exactly_count() {
        let f = FaultState::default();
        f.set(FaultSettings {
            fail_next: vec![FailNext {
                endpoint: "query".into(),
                kind: FaultKind::UnableToLockRow,
                count: 2,
                after: 1,
            }],
            ..Default::default()
        });
        let seq: Vec<_> = (0..4).map(|_| f.decide("query").fault).collect();
        assert_eq!(
            seq,
            [
                None,
                Some(FaultKind::UnableToLockRow),
                Some(FaultKind::UnableToLockRow),
                None
            ]
        );
        assert_eq!(f.decide("sobjects").fault, None);
    }

    #[test]
    fn a_seed_makes_error_draws_repeatable() {
        let draw = || {
            let f = FaultState::default();
            f.set(FaultSettings {
                error_rates: vec!["*:SERVER_UNAVAILABLE:0.5".parse().unwrap()],
                jitter_ms: 100,
                seed: Some(7),
                ..Default::default()
            });
            (0..32).map(|_| f.decide("query")).collect::<Vec<_>>()
        };
        let a = draw();
        assert_eq!(a, draw());
        let failures = a.iter().filter(|d| d.fault.is_some()).count();
        assert!(failures > 4 && failures < 28, "{failures}");
    }
}

/// Start-time settings of OAuth, limits, faults and TLS (flags and `SF_EMULATOR_*` env).
#[derive(Debug, Clone, clap::Args)]
pub struct EdgeFlags {
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "SF_EMULATOR_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<String>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "SF_EMULATOR_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<String>,
    /// Idle timeout of sessions, in seconds.
    #[arg(long, env = "SF_EMULATOR_SESSION_TIMEOUT_SECS", default_value_t = 7200, value_parser = crate::admin::input::flag::session_timeout)]
    pub session_timeout_secs: u64,
    /// Daily API request allocation.
    #[arg(long, env = "SF_EMULATOR_DAILY_API_REQUESTS", default_value_t = crate::limits::DEFAULT_DAILY_API_REQUESTS)]
    pub daily_api_requests: u64,
    /// Concurrent long-request cap (ConcurrentPerOrgLongTxn).
    #[arg(long, env = "SF_EMULATOR_LONG_REQUEST_CAP", default_value_t = crate::limits::DEFAULT_LONG_REQUEST_CAP)]
    pub long_request_cap: u64,
    /// Added latency of every API response, in milliseconds.
    #[arg(long, env = "SF_EMULATOR_LATENCY_MS", default_value_t = 0, value_parser = crate::admin::input::flag::ms)]
    pub latency_ms: u64,
    /// Random extra latency, 0..=jitter milliseconds.
    #[arg(long, env = "SF_EMULATOR_JITTER_MS", default_value_t = 0, value_parser = crate::admin::input::flag::ms)]
    pub jitter_ms: u64,
    /// Error rate `endpoint:KIND:rate` (KIND: SERVER_UNAVAILABLE, UNABLE_TO_LOCK_ROW,
    /// REQUEST_LIMIT_EXCEEDED, DROP); repeatable; env is comma-separated.
    #[arg(
        long = "error-rate",
        env = "SF_EMULATOR_ERROR_RATES",
        value_delimiter = ','
    )]
    pub error_rates: Vec<ErrorRate>,
    /// Seed of fault draws (deterministic faults).
    #[arg(long, env = "SF_EMULATOR_FAULT_SEED")]
    pub fault_seed: Option<u64>,
}

impl EdgeFlags {
    /// Applies the settings to `state`; returns the TLS config to serve with, if any.
    pub fn apply(
        &self,
        state: &AppState,
    ) -> Result<Option<Arc<tokio_rustls::rustls::ServerConfig>>, crate::listener::TlsError> {
        state
            .oauth
            .set_session_timeout(Duration::from_secs(self.session_timeout_secs));
        state.limits.apply(&crate::limits::LimitSettings {
            daily_api_requests: Some(self.daily_api_requests),
            long_request_cap: Some(self.long_request_cap),
            ..Default::default()
        });
        state.faults.set(FaultSettings {
            latency_ms: self.latency_ms,
            jitter_ms: self.jitter_ms,
            error_rates: self.error_rates.clone(),
            fail_next: Vec::new(),
            seed: self.fault_seed,
        });
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => crate::listener::tls_config(cert, key).map(Some),
            _ => Ok(None),
        }
    }
}
