//! Per-org limits shared by every replica through Redis: the daily API budget, the cap on
//! concurrent Salesforce requests, and the circuit breaker.
//!
//! - **Budget.** The REST client sees `Sforce-Limit-Info: api-usage=used/max` on every answer;
//!   the job layer publishes the latest figures with [`OrgLimits::record_usage`]. Before a job
//!   starts, [`OrgLimits::admit`] defers it when `used >= share × max` (default 80%), leaving
//!   the rest of the allocation to the org's own users and integrations. The usage record
//!   expires after `usage_ttl`: Salesforce's allocation is a rolling 24-hour window, and once
//!   nobody calls, nobody sees it free up, so an expired record lets the next job through as
//!   the probe whose first call refreshes the figures. Jobs admitted in that instant can
//!   overshoot the share by at most the replicas' in-flight capacity — the 20% headroom
//!   absorbs that.
//! - **Concurrency.** A counting semaphore per org as a sorted set of leases scored by expiry
//!   time, so a replica that dies holding leases frees them after `permit_ttl` instead of
//!   leaking them. Salesforce allows 25 concurrent long-running requests per production org.
//! - **Circuit breaker.** `breaker_failures` consecutive transient failures open it for
//!   `breaker_cooldown`; after that one caller at a time is let through as the half-open probe;
//!   its success closes the breaker, its failure reopens it. Other orgs' keys are untouched, so
//!   their work goes on.
//!
//! Every decision is one Lua script (one round trip, atomic across replicas) timed by Redis's
//! own clock, so replicas with skewed clocks agree.
//!
//! All three are kept per org: once a token has named the org a connection reaches
//! ([`super::org_ids`]), every connection to that org shares them. Methods take the connection
//! id; the org is looked up (and remembered in-process) behind them.

use super::org_ids::OrgIds;
use super::{Store, StoreError};
use crate::ops::metrics as names;
use redis::Script;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// Tunables (from the `SFPRIVACY_API_BUDGET_SHARE`, `…_ORG_MAX_CONCURRENT`, `…_BREAKER_*`
/// settings); defaults follow Salesforce's documented limits.
pub use crate::config::OrgLimitSettings as LimitSettings;

/// Why a job may not start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeferReason {
    /// The org has used `used` of `max` daily API calls, at or above the budget share.
    Budget { used: u64, max: u64 },
    /// The org's circuit breaker is open.
    BreakerOpen,
}

impl DeferReason {
    /// Short label for metrics and dead-letter codes.
    pub fn code(&self) -> &'static str {
        match self {
            DeferReason::Budget { .. } => "api_budget",
            DeferReason::BreakerOpen => "circuit_open",
        }
    }
}

/// The answer of [`OrgLimits::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Start the job. `probe`: the breaker is half-open and this job is its probe; report its
    /// outcome with `record_success` / `record_transient_failure`.
    Proceed { probe: bool },
    /// Do not start; try again after about `retry_after` (through a retry tier).
    Defer {
        reason: DeferReason,
        retry_after: Duration,
    },
}

/// What a transient failure did to the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerChange {
    /// Still closed; `failures` consecutive so far.
    Counted { failures: u32 },
    /// This failure opened (or reopened) it.
    Opened,
    /// It was already open.
    AlreadyOpen,
}

/// Latest published usage of an org's daily allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub used: u64,
    pub max: u64,
}

static ADMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local probe = 0
local open_until = tonumber(redis.call('HGET', KEYS[2], 'open_until') or '0')
if open_until > 0 then
  if now < open_until then
    return {'breaker', open_until - now, 0, 0}
  end
  if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[2]) then
    probe = 1
  else
    return {'breaker', math.max(redis.call('PTTL', KEYS[3]), 1), 0, 0}
  end
end
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '-1')
local max = tonumber(redis.call('HGET', KEYS[1], 'max') or '0')
if used >= 0 and max > 0 and used >= tonumber(ARGV[1]) * max then
  if probe == 1 then redis.call('DEL', KEYS[3]) end
  return {'budget', math.max(redis.call('PTTL', KEYS[1]), 1), used, max}
end
return {'proceed', probe, 0, 0}
"#,
    )
});

static FAILURE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], 86400000)
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if open_until > now then
  return {2, failures}
end
if open_until > 0 or failures >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'open_until', now + tonumber(ARGV[2]))
  redis.call('DEL', KEYS[2])
  return {1, failures}
end
return {0, failures}
"#,
    )
});

static SUCCESS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local was_open = redis.call('HEXISTS', KEYS[1], 'open_until')
redis.call('DEL', KEYS[1], KEYS[2])
return was_open
"#,
    )
});

static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"#,
    )
});

/// The per-org limits of one deployment (one key prefix). Cheap to clone.
#[derive(Clone)]
pub struct OrgLimits {
    store: Store,
    settings: LimitSettings,
    org_ids: OrgIds,
    /// Connection → org id, once Redis knew it: a connection's org does not change while the
    /// process runs (re-pointing a connection means new settings, so a restart).
    known: Arc<Mutex<HashMap<String, String>>>,
}

impl OrgLimits {
    pub fn new(store: Store, settings: LimitSettings) -> Self {
        Self {
            org_ids: OrgIds::new(store.clone()),
            store,
            settings,
            known: Arc::default(),
        }
    }

    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    /// The key space of a connection's limits: `org:{orgId}` once a token named the org,
    /// `conn:{connection}` until then (or while Redis cannot say).
    pub async fn scope(&self, connection: &str) -> String {
        let remembered = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(connection)
            .cloned();
        if let Some(org) = remembered {
            return format!("org:{org}");
        }
        match self.org_ids.get(connection).await {
            Ok(Some(org)) => {
                self.known
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(connection.to_string(), org.clone());
                format!("org:{org}")
            }
            Ok(None) => format!("conn:{connection}"),
            Err(e) => {
                tracing::debug!(connection, error = %e, "cannot read the connection's org id");
                format!("conn:{connection}")
            }
        }
    }

    fn key(&self, scope: &str, what: &str) -> String {
        self.store.key(&format!("limits:{scope}:{what}"))
    }

    /// Publishes the latest `Sforce-Limit-Info` figures seen for an org.
    pub async fn record_usage(
        &self,
        connection: &str,
        used: u64,
        max: u64,
    ) -> Result<(), StoreError> {
        let scope = self.scope(connection).await;
        let key = self.key(&scope, "usage");
        let ttl = i64::try_from(millis(self.settings.usage_ttl)).unwrap_or(i64::MAX);
        let mut conn = self.store.conn();
        let _: () = redis::pipe()
            .atomic()
            .hset_multiple(&key, &[("used", used), ("max", max)])
            .ignore()
            .pexpire(&key, ttl)
            .ignore()
            .query_async(&mut conn)
            .await?;
        if max > 0 {
            metrics::gauge!(names::API_USAGE_RATIO, "connection" => connection.to_string())
                .set(used as f64 / max as f64);
        }
        Ok(())
    }

    /// The latest published usage, if still fresh.
    pub async fn usage(&self, connection: &str) -> Result<Option<Usage>, StoreError> {
        let scope = self.scope(connection).await;
        let key = self.key(&scope, "usage");
        let mut conn = self.store.conn();
        let (used, max): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(&key)
            .arg("used")
            .arg("max")
            .query_async(&mut conn)
            .await?;
        Ok(used.zip(max).map(|(used, max)| Usage { used, max }))
    }

    /// May a new job for this org start now? Checks the breaker, then the budget.
    pub async fn admit(&self, connection: &str) -> Result<Admission, StoreError> {
        let scope = self.scope(connection).await;
        let mut conn = self.store.conn();
        let (verdict, a, used, max): (String, u64, u64, u64) = ADMIT
            .key(self.key(&scope, "usage"))
            .key(self.key(&scope, "breaker"))
            .key(self.key(&scope, "probe"))
            .arg(self.settings.budget_share)
            // The probe's claim lasts as long as a job may (a crashed probe must not wedge it).
            .arg(millis(self.settings.permit_ttl))
            .invoke_async(&mut conn)
            .await?;
        let admission = match verdict.as_str() {
            "proceed" => Admission::Proceed { probe: a == 1 },
            "breaker" => Admission::Defer {
                reason: DeferReason::BreakerOpen,
                retry_after: Duration::from_millis(a),
            },
            "budget" => Admission::Defer {
                reason: DeferReason::Budget { used, max },
                retry_after: Duration::from_millis(a),
            },
            other => return Err(StoreError::Corrupt(format!("admit script said {other:?}"))),
        };
        if let Admission::Defer { reason, .. } = &admission {
            metrics::counter!(names::REQUESTS_DEFERRED,
                "connection" => connection.to_string(), "reason" => reason.code())
            .increment(1);
        }
        Ok(admission)
    }

    /// A job (or call) for this org ended with a transient failure (Salesforce down, 5xx,
    /// timeouts after the client's own retries).
    pub async fn record_transient_failure(
        &self,
        connection: &str,
    ) -> Result<BreakerChange, StoreError> {
        let scope = self.scope(connection).await;
        let mut conn = self.store.conn();
        let (state, failures): (u8, u32) = FAILURE
            .key(self.key(&scope, "breaker"))
            .key(self.key(&scope, "probe"))
            .arg(self.settings.breaker_failures)
            .arg(millis(self.settings.breaker_cooldown))
            .invoke_async(&mut conn)
            .await?;
        Ok(match state {
            1 => {
                tracing::warn!(connection, failures, "circuit breaker opened");
                metrics::counter!(names::BREAKER_OPENED, "connection" => connection.to_string())
                    .increment(1);
                metrics::gauge!(names::BREAKER_OPEN, "connection" => connection.to_string())
                    .set(1.0);
                BreakerChange::Opened
            }
            2 => BreakerChange::AlreadyOpen,
            _ => BreakerChange::Counted { failures },
        })
    }

    /// Salesforce answered (the job succeeded, or failed for a non-transient reason): resets
    /// the consecutive-failure count and closes the breaker. Returns whether it was open.
    pub async fn record_success(&self, connection: &str) -> Result<bool, StoreError> {
        let scope = self.scope(connection).await;
        let mut conn = self.store.conn();
        let was_open: i64 = SUCCESS
            .key(self.key(&scope, "breaker"))
            .key(self.key(&scope, "probe"))
            .invoke_async(&mut conn)
            .await?;
        if was_open == 1 {
            tracing::info!(connection, "circuit breaker closed");
            metrics::gauge!(names::BREAKER_OPEN, "connection" => connection.to_string()).set(0.0);
        }
        Ok(was_open == 1)
    }

    /// The half-open probe ended without telling anything about the org (our Redis or our own
    /// cap failed it): frees the probe's claim so the next job probes now, instead of every job
    /// waiting out the claim's lifetime. The breaker's state is left as it is.
    pub async fn release_probe(&self, connection: &str) -> Result<(), StoreError> {
        let scope = self.scope(connection).await;
        let mut conn = self.store.conn();
        let _: i64 = redis::cmd("DEL")
            .arg(self.key(&scope, "probe"))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Takes one of the org's concurrent-request slots if one is free.
    pub async fn try_acquire(&self, connection: &str) -> Result<Option<Permit>, StoreError> {
        let scope = self.scope(connection).await;
        let id = uuid::Uuid::new_v4().to_string();
        let key = self.key(&scope, "concurrency");
        let mut conn = self.store.conn();
        let got: i64 = ACQUIRE
            .key(&key)
            .arg(self.settings.max_concurrent)
            .arg(millis(self.settings.permit_ttl))
            .arg(&id)
            .invoke_async(&mut conn)
            .await?;
        Ok((got == 1).then(|| Permit {
            store: Some(self.store.clone()),
            key,
            id,
        }))
    }

    /// Waits up to `max_wait` for a slot, polling with jittered backoff (10 ms doubling to
    /// 250 ms). `None` when none freed up in time.
    pub async fn acquire(
        &self,
        connection: &str,
        max_wait: Duration,
    ) -> Result<Option<Permit>, StoreError> {
        let deadline = tokio::time::Instant::now() + max_wait;
        let mut pause = Duration::from_millis(10);
        loop {
            if let Some(p) = self.try_acquire(connection).await? {
                return Ok(Some(p));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let jitter = rand::random_range(0.5..1.5);
            let sleep = pause.mul_f64(jitter).min(deadline - now);
            tokio::time::sleep(sleep).await;
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// Leases currently held for the org (expired ones excluded).
    pub async fn in_use(&self, connection: &str) -> Result<u64, StoreError> {
        let scope = self.scope(connection).await;
        let key = self.key(&scope, "concurrency");
        let mut conn = self.store.conn();
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await?;
        let now_ms = secs * 1000 + micros / 1000;
        let n: u64 = redis::cmd("ZCOUNT")
            .arg(&key)
            .arg(now_ms)
            .arg("+inf")
            .query_async(&mut conn)
            .await?;
        Ok(n)
    }
}

/// One concurrent-request slot. Release it with [`Permit::release`]; dropping it releases in
/// the background (and a lost release expires after `permit_ttl`).
pub struct Permit {
    store: Option<Store>,
    key: String,
    id: String,
}

impl Permit {
    pub async fn release(mut self) -> Result<(), StoreError> {
        if let Some(store) = self.store.take() {
            let mut conn = store.conn();
            let _: i64 = redis::cmd("ZREM")
                .arg(&self.key)
                .arg(&self.id)
                .query_async(&mut conn)
                .await?;
        }
        Ok(())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(store) = self.store.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let (key, id) = (std::mem::take(&mut self.key), std::mem::take(&mut self.id));
            rt.spawn(async move {
                let mut conn = store.conn();
                let r: Result<i64, _> = redis::cmd("ZREM").arg(&key).arg(&id).query_async(&mut conn).await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "releasing a concurrency lease failed; it expires on its own");
                }
            });
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
