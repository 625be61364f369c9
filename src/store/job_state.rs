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
//!
//! The completed state carries the request's fingerprint (`Request::fingerprint`): a request
//! that reuses a known id with other content is [`Begin::Reused`], never answered with the
//! first request's messages. The state holds what was published (a copy's export: names,
//! emails…), so it is sealed with the token key ([`TokenCipher`], the Redis key as associated
//! data) unless the worker runs with the explicit development flag ([`Sealing::Plain`]).

use super::crypto::TokenCipher;
use super::{Store, StoreError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
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
    /// The id is known with another fingerprint: a different request reuses it.
    Reused,
}

/// How completed job state is kept in Redis.
#[derive(Clone, Debug)]
pub enum Sealing {
    /// AES-GCM with the token key (production).
    Sealed(Box<TokenCipher>),
    /// Plain JSON: only with `SFPRIVACY_INSECURE_DEV_TOKEN_KEY` and no key, as before sealing
    /// existed (the development key is public, sealing with it would protect nothing).
    Plain,
}

/// Marks a sealed value (`{SEALED_TAG}` + base64 of nonce‖ciphertext); plain JSON never starts so.
const SEALED_TAG: &str = "sealed:v1:";

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
    /// Absent in states written before fingerprints: such a state matches any request.
    #[serde(default)]
    fingerprint: Option<String>,
    messages: Vec<T>,
}

#[derive(serde::Serialize)]
struct StoredRef<'a, T> {
    phase: &'a str,
    completed_at: String,
    fingerprint: &'a str,
    messages: &'a [T],
}

/// Job state for one deployment (key prefix).
#[derive(Clone)]
pub struct JobStates {
    store: Store,
    lease: Duration,
    ttl: Duration,
    sealing: Sealing,
}

const RENEW: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

fn state_key(store: &Store, kind: &str, id: &str) -> String {
    store.key(&format!("job:{kind}:{id}"))
}

/// Request kinds whose ids a result is published under.
const ANSWERED_KINDS: [&str; 2] = ["dsr.request", "scan.request"];

/// Whether `id` already names a request of this deployment: a completed state or a held lease
/// (either kind: a request id names one request whatever its type), or a DSR checkpoint plan.
/// One `EXISTS`, for the malformed-message path, which must not answer under a known id.
pub async fn id_known(store: &Store, id: &str) -> Result<bool, StoreError> {
    let mut keys = Vec::with_capacity(2 * ANSWERED_KINDS.len() + 1);
    for kind in ANSWERED_KINDS {
        let key = state_key(store, kind, id);
        keys.push(format!("{key}:lease"));
        keys.push(key);
    }
    keys.push(super::checkpoint::Checkpoints::new(store.clone()).plan_key(id));
    let n: u64 = store.conn().exists(&keys).await?;
    Ok(n > 0)
}

impl JobStates {
    pub fn new(store: Store, lease: Duration, ttl: Duration, sealing: Sealing) -> Self {
        Self {
            store,
            lease,
            ttl,
            sealing,
        }
    }

    pub fn lease_duration(&self) -> Duration {
        self.lease
    }

    fn key(&self, kind: &str, id: &str) -> String {
        state_key(&self.store, kind, id)
    }

    /// The stored state: its fingerprint (if recorded) and messages.
    async fn read<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<(Option<String>, Vec<T>)>, StoreError> {
        let raw: Option<String> = self.store.conn().get(key).await?;
        let Some(raw) = raw else { return Ok(None) };
        let plain = match (raw.strip_prefix(SEALED_TAG), &self.sealing) {
            (Some(b64), Sealing::Sealed(cipher)) => {
                let sealed = STANDARD.decode(b64).map_err(|_| {
                    StoreError::Corrupt(format!("{key}: sealed value is not base64"))
                })?;
                cipher
                    .open(&sealed, key.as_bytes())
                    .map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?
            }
            (Some(_), Sealing::Plain) => {
                return Err(StoreError::Corrupt(format!(
                    "{key}: sealed, but this worker runs without a token key"
                )));
            }
            // Plain JSON: development mode, or written before job state was sealed.
            (None, _) => raw.into_bytes(),
        };
        let stored: Stored<T> = serde_json::from_slice(&plain)
            .map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
        Ok(Some((stored.fingerprint, stored.messages)))
    }

    /// `Completed` when the stored state is this request's, `Reused` when another's.
    fn settled<T>(fingerprint: &str, stored: (Option<String>, Vec<T>)) -> Begin<T> {
        match stored {
            (Some(f), _) if f != fingerprint => Begin::Reused,
            (_, msgs) => Begin::Completed(msgs),
        }
    }

    /// Looks up the job and, unless it completed or is held elsewhere, takes its lease.
    /// `fingerprint` is the request's (`Request::fingerprint`).
    pub async fn begin<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
        fingerprint: &str,
    ) -> Result<Begin<T>, StoreError> {
        let key = self.key(kind, id);
        if let Some(stored) = self.read(&key).await? {
            return Ok(Self::settled(fingerprint, stored));
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
        if let Some(stored) = self.read(&key).await? {
            self.release(&lease).await?;
            return Ok(Self::settled(fingerprint, stored));
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
        fingerprint: &str,
        messages: &[T],
    ) -> Result<(), StoreError> {
        let stored = StoredRef {
            phase: "completed",
            completed_at: crate::message::now(),
            fingerprint,
            messages,
        };
        let key = self.key(kind, id);
        let json = serde_json::to_vec(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let body = match &self.sealing {
            Sealing::Sealed(cipher) => {
                let sealed = cipher
                    .seal(&json, key.as_bytes())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                format!("{SEALED_TAG}{}", STANDARD.encode(sealed))
            }
            Sealing::Plain => {
                String::from_utf8(json).map_err(|e| StoreError::Corrupt(e.to_string()))?
            }
        };
        let _: () = self
            .store
            .conn()
            .set_ex(key, body, self.ttl.as_secs().max(1))
            .await?;
        Ok(())
    }

    /// Forgets a job (operator replay of a completed request that must run again).
    pub async fn forget(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        let _: i64 = self.store.conn().del(self.key(kind, id)).await?;
        Ok(())
    }
}
