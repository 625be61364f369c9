//! Redis adapters: token cache, job state (idempotency, checkpoints), locks, scan aggregation,
//! per-org budgets. Every key lives under one prefix so tests and deployments never collide.
//!
//! Redis calls go through a `ConnectionManager`, which reconnects after a Redis restart; a
//! command that hit the dropped connection fails once (the manager does not retry it), and the
//! callers treat that as a transient error.

pub mod crypto;
pub mod lock;
pub mod org_ids;
pub mod scan_state;
pub mod tokens;

use redis::aio::ConnectionManager;

pub mod budget;

/// Redis failures; transient for the caller (the job is retried), except
/// [`StoreError::RequestIdReused`], which no retry can fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    /// State under this request id belongs to a request with other content.
    #[error(
        "request id {request_id} was already used by a different request; use a new request_id"
    )]
    RequestIdReused { request_id: String },
}

/// A handle on Redis with the deployment's key prefix. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    prefix: String,
}

impl Store {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self {
            conn,
            prefix: prefix.to_string(),
        })
    }

    /// `{prefix}:{part}` — every key the worker writes.
    pub fn key(&self, part: &str) -> String {
        format!("{}:{}", self.prefix, part)
    }

    /// A connection to run commands on (clones share one multiplexed connection).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The same Redis under `{prefix}:{name}`: a private key space (e.g. for `sfprivacy run`,
    /// whose scan state must not meet a worker's scan of the same id).
    pub fn scoped(&self, name: &str) -> Store {
        Store {
            conn: self.conn.clone(),
            prefix: self.key(name),
        }
    }

    /// Deletes every key under this store's prefix (SCAN, so Redis is not blocked). Meant for
    /// a private scope from [`Store::scoped`]; returns how many keys went.
    pub async fn delete_all(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let pattern = format!("{}:*", self.prefix);
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await?;
            if !keys.is_empty() {
                deleted += redis::cmd("DEL")
                    .arg(&keys)
                    .query_async::<u64>(&mut conn)
                    .await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

pub mod checkpoint;
/// Job state: idempotency records and leases (the worker layer).
pub mod job_state;
