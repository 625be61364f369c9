//! A scan's shared state in Redis: the plan (meta), per-field counts summed across parts,
//! which parts are done, progress counters, and per-object errors.
//!
//! Exactly-once counting: a part's counts are added by one Lua script that first adds the part
//! id to the scan's `done` set and only adds the counts if it was not there. A redelivered part
//! (its worker died after committing but before the ack, or before committing at all) therefore
//! never counts twice, and a part that never committed simply runs again from scratch.
//!
//! Keys (under the store prefix), all expiring after [`SCAN_TTL_SECS`]:
//! `scan:{id}:meta` (JSON), `:done` (set of part ids), `:counts` (hash
//! `object␟field␟ne|h␟type|c␟type` → n, and `object␟_records`), `:progress` (hash: records,
//! api_calls, objects_done), `:objparts` / `:objtotal` (parts done / planned per object),
//! `:errors` (object → error JSON). `personal_fields:{connection}` holds the latest scan's
//! personal fields for the DSR anonymizer.

use super::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How long a scan's state is kept (a week: long enough to replay a dead-lettered part).
pub const SCAN_TTL_SECS: u64 = 7 * 24 * 3600;

/// Separator inside count field names (ASCII unit separator: never in API names).
pub const SEP: char = '\u{1f}';

/// The plan of a scan, written once by the coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanMeta {
    pub scan_id: String,
    pub connection_id: String,
    pub confidence: crate::message::ConfidenceLevel,
    pub reply_to: Option<String>,
    pub started_at: String,
    pub total_parts: u64,
    /// Objects in report order, with their number of parts.
    pub objects: Vec<(String, u64)>,
    /// Objects asked for that the org does not have (reported with an error).
    #[serde(default)]
    pub missing: Vec<String>,
    /// API calls the coordinator made.
    #[serde(default)]
    pub plan_api_calls: u64,
}

/// The id of part `index` of `object` in scan `scan_id`.
pub fn part_id(scan_id: &str, object: &str, index: u64) -> String {
    format!("{scan_id}:{object}:{index}")
}

impl ScanMeta {
    /// Whether this plan made a part with this id for this object on this connection: a part
    /// from anywhere else (a stale plan, a hand-written message) must not count towards the
    /// scan, or it would end it early or mix another org's counts in.
    pub fn has_part(&self, part_id: &str, object: &str, connection_id: &str) -> bool {
        let index = part_id
            .strip_prefix(self.scan_id.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|r| r.strip_prefix(object))
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|i| i.parse::<u64>().ok());
        connection_id == self.connection_id
            && index.is_some_and(|i| self.objects.iter().any(|(o, n)| o == object && i < *n))
    }
}

/// What committing a part did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit {
    /// False when the part had been committed before (a redelivery): nothing was added.
    pub newly: bool,
    pub parts_done: u64,
    pub objects_done: u64,
    pub records_done: u64,
}

/// Totals over every committed part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub records: u64,
    pub api_calls: u64,
    pub counts: HashMap<String, u64>,
    pub errors: BTreeMap<String, String>,
}

const COMMIT: &str = r"
local added = redis.call('SADD', KEYS[1], ARGV[1])
if added == 1 then
  for i = 7, #ARGV, 2 do
    redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
  end
  redis.call('HINCRBY', KEYS[2], ARGV[2] .. '\31_records', ARGV[3])
  redis.call('HINCRBY', KEYS[3], 'records', ARGV[3])
  redis.call('HINCRBY', KEYS[3], 'api_calls', ARGV[4])
  if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[6], ARGV[2], ARGV[6])
  end
  local n = redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
  local total = tonumber(redis.call('HGET', KEYS[5], ARGV[2]) or '0')
  if n == total then
    redis.call('HINCRBY', KEYS[3], 'objects_done', 1)
  end
  for i = 1, 6 do
    redis.call('EXPIRE', KEYS[i], ARGV[5])
  end
end
return {added, redis.call('SCARD', KEYS[1]),
  tonumber(redis.call('HGET', KEYS[3], 'objects_done') or '0'),
  tonumber(redis.call('HGET', KEYS[3], 'records') or '0')}
";

/// The scan-state adapter.
#[derive(Clone)]
pub struct ScanState {
    store: Store,
}

impl ScanState {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn key(&self, scan_id: &str, what: &str) -> String {
        self.store.key(&format!("scan:{scan_id}:{what}"))
    }

    /// Writes the plan. Idempotent: a redelivered scan request keeps the first plan (its
    /// parts may already be running) and gets it back.
    pub async fn init(&self, meta: &ScanMeta) -> Result<ScanMeta, StoreError> {
        let mut conn = self.store.conn();
        let json = serde_json::to_string(meta).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(&meta.scan_id, "meta"))
            .arg(&json)
            .arg("NX")
            .arg("EX")
            .arg(SCAN_TTL_SECS)
            .query_async(&mut conn)
            .await?;
        if set.is_none() {
            return self
                .meta(&meta.scan_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("scan meta vanished".into()));
        }
        let totals_key = self.key(&meta.scan_id, "objtotal");
        let mut pipe = redis::pipe();
        for (object, parts) in &meta.objects {
            pipe.hset(&totals_key, object, *parts).ignore();
        }
        pipe.expire(&totals_key, SCAN_TTL_SECS as i64).ignore();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(meta.clone())
    }

    pub async fn meta(&self, scan_id: &str) -> Result<Option<ScanMeta>, StoreError> {
        let mut conn = self.store.conn();
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.key(scan_id, "meta"))
            .query_async(&mut conn)
            .await?;
        raw.map(|r| serde_json::from_str(&r).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    pub async fn is_done(&self, scan_id: &str, part_id: &str) -> Result<bool, StoreError> {
        let mut conn = self.store.conn();
        Ok(redis::cmd("SISMEMBER")
            .arg(self.key(scan_id, "done"))
            .arg(part_id)
            .query_async(&mut conn)
            .await?)
    }

    /// Parts committed so far.
    pub async fn parts_done(&self, scan_id: &str) -> Result<u64, StoreError> {
        let mut conn = self.store.conn();
        Ok(redis::cmd("SCARD")
            .arg(self.key(scan_id, "done"))
            .query_async(&mut conn)
            .await?)
    }

    /// Adds a part's counts exactly once (see the module doc).
    #[allow(clippy::too_many_arguments)]
    pub async fn commit_part(
        &self,
        scan_id: &str,
        part_id: &str,
        object: &str,
        counts: &[(String, u64)],
        records: u64,
        api_calls: u64,
        error: Option<&str>,
    ) -> Result<Commit, StoreError> {
        let mut conn = self.store.conn();
        let script = redis::Script::new(COMMIT);
        let mut inv = script.prepare_invoke();
        for what in [
            "done", "counts", "progress", "objparts", "objtotal", "errors",
        ] {
            inv.key(self.key(scan_id, what));
        }
        inv.arg(part_id)
            .arg(object)
            .arg(records)
            .arg(api_calls)
            .arg(SCAN_TTL_SECS)
            .arg(error.unwrap_or(""));
        for (field, n) in counts {
            inv.arg(field).arg(*n);
        }
        let (added, parts_done, objects_done, records_done): (i64, u64, u64, u64) =
            inv.invoke_async(&mut conn).await?;
        Ok(Commit {
            newly: added == 1,
            parts_done,
            objects_done,
            records_done,
        })
    }

    /// Everything committed so far.
    pub async fn totals(&self, scan_id: &str) -> Result<Totals, StoreError> {
        let mut conn = self.store.conn();
        let (counts, progress, errors): (
            HashMap<String, u64>,
            HashMap<String, u64>,
            BTreeMap<String, String>,
        ) = redis::pipe()
            .hgetall(self.key(scan_id, "counts"))
            .hgetall(self.key(scan_id, "progress"))
            .hgetall(self.key(scan_id, "errors"))
            .query_async(&mut conn)
            .await?;
        Ok(Totals {
            records: progress.get("records").copied().unwrap_or(0),
            api_calls: progress.get("api_calls").copied().unwrap_or(0),
            counts,
            errors,
        })
    }

    /// Records "Object.Field" names the latest scan of a connection found personal.
    pub async fn set_personal_fields(
        &self,
        connection_id: &str,
        fields: &[String],
    ) -> Result<(), StoreError> {
        let mut conn = self.store.conn();
        let json = serde_json::to_string(fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        redis::cmd("SET")
            .arg(self.store.key(&format!("personal_fields:{connection_id}")))
            .arg(json)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Deletes a scan's state (tests, or an operator abandoning a scan).
    pub async fn delete(&self, scan_id: &str) -> Result<(), StoreError> {
        let mut conn = self.store.conn();
        let mut cmd = redis::cmd("DEL");
        for what in [
            "meta", "done", "counts", "progress", "objparts", "objtotal", "errors",
        ] {
            cmd.arg(self.key(scan_id, what));
        }
        cmd.query_async::<()>(&mut conn).await?;
        Ok(())
    }
}

/// "Object.Field" names the latest scan of `connection_id` marked personal (medium or higher
/// confidence); empty before any scan. For the DSR anonymizer.
pub async fn latest_personal_fields(
    store: &Store,
    connection_id: &str,
) -> Result<Vec<String>, StoreError> {
    let mut conn = store.conn();
    let raw: Option<String> = redis::cmd("GET")
        .arg(store.key(&format!("personal_fields:{connection_id}")))
        .query_async(&mut conn)
        .await?;
    match raw {
        Some(r) => serde_json::from_str(&r).map_err(|e| StoreError::Corrupt(e.to_string())),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_has_only_the_parts_it_made() {
        let meta = ScanMeta {
            scan_id: "s:1".into(),
            connection_id: "acme".into(),
            confidence: crate::message::ConfidenceLevel::Medium,
            reply_to: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            total_parts: 3,
            objects: vec![("Contact".into(), 2), ("Lead".into(), 1)],
            missing: vec!["Nope__c".into()],
            plan_api_calls: 0,
        };
        for (object, i) in [("Contact", 0), ("Contact", 1), ("Lead", 0)] {
            assert!(meta.has_part(&part_id("s:1", object, i), object, "acme"));
        }
        for (id, object, conn) in [
            (part_id("s:1", "Contact", 2), "Contact", "acme"),
            (part_id("s:1", "Lead", 0), "Contact", "acme"),
            (part_id("s:1", "Nope__c", 0), "Nope__c", "acme"),
            (part_id("s:2", "Contact", 0), "Contact", "acme"),
            (part_id("s:1", "Contact", 0), "Contact", "globex"),
            ("s:1:Contact:-1".into(), "Contact", "acme"),
            ("s:1:Contact:".into(), "Contact", "acme"),
            ("s:1:Contact:0:x".into(), "Contact", "acme"),
        ] {
            assert!(!meta.has_part(&id, object, conn), "{id} {object} {conn}");
        }
    }
}
