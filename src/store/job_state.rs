//! Job state in Redis, keyed by request id: idempotency and a lease.
//!
//! - `{prefix}:job:{kind}:{id}` holds the state once the job finished: the messages it
//!   published (terminal result included), as JSON. A redelivered request that finds it
//!   re-publishes those exact messages (same `message_id`s) and touches Salesforce no more.
//! - `{prefix}:job:{kind}:{id}:lease` is a lease (`SET NX PX`, token-guarded renew and release
//!   scripts) so two replicas never run the same request at once; it expires on its own if the
//!   holder dies, so a crashed worker's request is picked up again after at most one lease.
//!
//! The order is: lease → run → store the completed state → publish → ack → release. A crash
//! after "store" means the redelivery re-publishes; before it, the job runs again (DSR steps are
//! idempotent on Salesforce, and resume from their checkpoint: a delete the crashed attempt had
//! sent is reported `deleted`, not `already_deleted`, see `dsr::delete`).

use super::{Store, StoreError};
use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// What a job may do when it starts.
#[derive(Debug)]
pub enum Begin<T> {
    /// It already completed: these are the messages it published.
    Completed(Vec<T>),
    /// This worker holds the lease and runs the job.
    Acquired(Lease),
    /// Another worker holds the lease.
    Busy,
}

/// A held lease; renew it while the job runs, release it when done.
#[derive(Debug, Clone)]
pub struct Lease {
    key: String,
    token: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored<T> {
    phase: String,
    completed_at: String,
    messages: Vec<T>,
}

#[derive(serde::Serialize)]
struct StoredRef<'a, T> {
    phase: &'a str,
    completed_at: String,
    messages: &'a [T],
}

/// Job state for one deployment (key prefix).
#[derive(Clone)]
pub struct JobStates {
    store: Store,
    lease: Duration,
    ttl: Duration,
}

const RENEW: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

impl JobStates {
    pub fn new(store: Store, lease: Duration, ttl: Duration) -> Self {
        Self { store, lease, ttl }
    }

    pub fn lease_duration(&self) -> Duration {
        self.lease
    }

    fn key(&self, kind: &str, id: &str) -> String {
        self.store.key(&format!("job:{kind}:{id}"))
    }

    async fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Vec<T>>, StoreError> {
        let raw: Option<String> = self.store.conn().get(key).await?;
        match raw {
            None => Ok(None),
            Some(s) => {
                let stored: Stored<T> = serde_json::from_str(&s)
                    .map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
                Ok(Some(stored.messages))
            }
        }
    }

    /// Looks up the job and, unless it completed or is held elsewhere, takes its lease.
    pub async fn begin<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Begin<T>, StoreError> {
        let key = self.key(kind, id);
        if let Some(msgs) = self.read(&key).await? {
            return Ok(Begin::Completed(msgs));
        }
        let lease_key = format!("{key}:lease");
        let token = uuid::Uuid::new_v4().to_string();
        let px = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(px));
        let set: Option<String> = self
            .store
            .conn()
            .set_options(&lease_key, &token, opts)
            .await?;
        if set.is_none() {
            return Ok(Begin::Busy);
        }
        let lease = Lease {
            key: lease_key,
            token,
        };
        // The previous holder may have completed between our read and our SET.
        if let Some(msgs) = self.read(&key).await? {
            self.release(&lease).await?;
            return Ok(Begin::Completed(msgs));
        }
        Ok(Begin::Acquired(lease))
    }

    /// Extends the lease; false when it was lost (expired and taken by another worker).
    pub async fn renew(&self, lease: &Lease) -> Result<bool, StoreError> {
        let px = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let n: i64 = redis::Script::new(RENEW)
            .key(&lease.key)
            .arg(&lease.token)
            .arg(px)
            .invoke_async(&mut self.store.conn())
            .await?;
        Ok(n == 1)
    }

    pub async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let _: i64 = redis::Script::new(RELEASE)
            .key(&lease.key)
            .arg(&lease.token)
            .invoke_async(&mut self.store.conn())
            .await?;
        Ok(())
    }

    /// Records the job as completed with the messages it publishes.
    pub async fn complete<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        messages: &[T],
    ) -> Result<(), StoreError> {
        let stored = StoredRef {
            phase: "completed",
            completed_at: chrono::Utc::now().to_rfc3339(),
            messages,
        };
        let body =
            serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let _: () = self
            .store
            .conn()
            .set_ex(self.key(kind, id), body, self.ttl.as_secs().max(1))
            .await?;
        Ok(())
    }

    /// Forgets a job (operator replay of a completed request that must run again).
    pub async fn forget(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        let _: i64 = self.store.conn().del(self.key(kind, id)).await?;
        Ok(())
    }
}
