//! DSR checkpoints in Redis, keyed by request id: the plan a request settled on and each
//! record's outcome as it happens, so a redelivered request resumes where the interrupted one
//! stopped and its terminal report covers every record, including those handled before.
//!
//! Keys (all under the store prefix, expiring after [`CHECKPOINT_TTL_SECS`]):
//! `dsr:{request_id}:plan` (JSON string), `dsr:{request_id}:outcomes` (hash: record id → JSON
//! outcome), `dsr:{request_id}:calls` (API calls used so far, all attempts),
//! `dsr:{request_id}:inflight` (set of record ids whose delete was sent, so a resumed attempt
//! knows an `ENTITY_IS_DELETED` on them is its own earlier write whose response was lost).
//! Outcomes hold object names, ids, field names and error codes, never values.
//!
//! The plan is saved with the request's fingerprint (`Request::fingerprint`): a request reusing
//! the id with other content must not resume another person's plan ([`Checkpoints::load_plan`]
//! refuses it with [`StoreError::RequestIdReused`]).

use super::{Store, StoreError};
use crate::message::RecordOutcome;
use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A week: long enough for any retry tier and a dead-letter replay.
pub const CHECKPOINT_TTL_SECS: i64 = 7 * 24 * 3600;

/// Checkpoints of DSRs. Cheap to clone.
#[derive(Clone)]
pub struct Checkpoints {
    store: Store,
    /// The running request's fingerprint; `None` skips the check (tools, tests).
    fingerprint: Option<String>,
}

/// What `plan` holds: the plan and the fingerprint of the request that made it.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanEnvelope<T> {
    fingerprint: Option<String>,
    plan: T,
}

impl Checkpoints {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            fingerprint: None,
        }
    }

    /// Checkpoints of the request with this fingerprint: its plan is saved with it, and a plan
    /// saved with another is refused.
    pub fn with_fingerprint(mut self, fingerprint: impl Into<String>) -> Self {
        self.fingerprint = Some(fingerprint.into());
        self
    }

    fn key(&self, request_id: &str, part: &str) -> String {
        self.store.key(&format!("dsr:{request_id}:{part}"))
    }

    /// The key of the request's plan: its presence says the id is in use (`job_state::id_known`).
    pub fn plan_key(&self, request_id: &str) -> String {
        self.key(request_id, "plan")
    }

    /// The plan saved by an earlier attempt, if any.
    pub async fn load_plan<T: DeserializeOwned>(
        &self,
        request_id: &str,
    ) -> Result<Option<T>, StoreError> {
        let raw: Option<String> = self.store.conn().get(self.key(request_id, "plan")).await?;
        let Some(raw) = raw else { return Ok(None) };
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("dsr plan: {e}"));
        let (saved_by, plan) = match serde_json::from_str::<PlanEnvelope<T>>(&raw) {
            Ok(env) => (env.fingerprint, env.plan),
            // A bare plan, saved before plans carried a fingerprint: resume it as before.
            Err(_) => (None, serde_json::from_str(&raw).map_err(corrupt)?),
        };
        if let (Some(saved), Some(ours)) = (&saved_by, &self.fingerprint)
            && saved != ours
        {
            return Err(StoreError::RequestIdReused {
                request_id: request_id.to_string(),
            });
        }
        Ok(Some(plan))
    }

    /// Saves the plan before any write, so every attempt works from the same record set.
    pub async fn save_plan<T: Serialize>(
        &self,
        request_id: &str,
        plan: &T,
    ) -> Result<(), StoreError> {
        let envelope = PlanEnvelope {
            fingerprint: self.fingerprint.clone(),
            plan,
        };
        let json = serde_json::to_string(&envelope)
            .map_err(|e| StoreError::Corrupt(format!("dsr plan: {e}")))?;
        let _: () = self
            .store
            .conn()
            .set_ex(
                self.key(request_id, "plan"),
                json,
                CHECKPOINT_TTL_SECS as u64,
            )
            .await?;
        Ok(())
    }

    /// Records outcomes (one write for the batch).
    pub async fn record_outcomes(
        &self,
        request_id: &str,
        outcomes: &[RecordOutcome],
    ) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut items = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let json = serde_json::to_string(o)
                .map_err(|e| StoreError::Corrupt(format!("outcome: {e}")))?;
            items.push((o.id.clone(), json));
        }
        let key = self.key(request_id, "outcomes");
        self.write_with_ttl(&key, |p| p.hset_multiple(&key, &items))
            .await
    }

    /// One write to `key` and its checkpoint TTL, atomically.
    async fn write_with_ttl(
        &self,
        key: &str,
        write: impl FnOnce(&mut redis::Pipeline) -> &mut redis::Pipeline,
    ) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        write(pipe.atomic()).ignore();
        pipe.expire(key, CHECKPOINT_TTL_SECS).ignore();
        let _: () = pipe.query_async(&mut self.store.conn()).await?;
        Ok(())
    }

    /// Every outcome recorded so far, by record id.
    pub async fn outcomes(
        &self,
        request_id: &str,
    ) -> Result<std::collections::HashMap<String, RecordOutcome>, StoreError> {
        let raw: std::collections::HashMap<String, String> = self
            .store
            .conn()
            .hgetall(self.key(request_id, "outcomes"))
            .await?;
        raw.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json)
                    .map(|o| (id, o))
                    .map_err(|e| StoreError::Corrupt(format!("outcome: {e}")))
            })
            .collect()
    }

    /// Records ids whose write is about to be sent (before the call, so a crash while it is in
    /// flight leaves the mark behind).
    pub async fn mark_in_flight(&self, request_id: &str, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let key = self.key(request_id, "inflight");
        self.write_with_ttl(&key, |p| p.sadd(&key, ids)).await
    }

    /// Ids an earlier attempt sent a write for.
    pub async fn in_flight(
        &self,
        request_id: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        Ok(self
            .store
            .conn()
            .smembers(self.key(request_id, "inflight"))
            .await?)
    }

    /// Adds this attempt's API calls; returns the total over all attempts.
    pub async fn add_api_calls(&self, request_id: &str, calls: u64) -> Result<u64, StoreError> {
        let key = self.key(request_id, "calls");
        let mut conn = self.store.conn();
        let (total,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, calls)
            .expire(&key, CHECKPOINT_TTL_SECS)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(total)
    }

    /// Forgets a request (after its terminal result is confirmed).
    pub async fn clear(&self, request_id: &str) -> Result<(), StoreError> {
        let keys = [
            self.key(request_id, "plan"),
            self.key(request_id, "outcomes"),
            self.key(request_id, "calls"),
            self.key(request_id, "inflight"),
        ];
        let _: () = self.store.conn().del(&keys[..]).await?;
        Ok(())
    }
}
