//! SOQL: parser ([`parser`]), binder ([`bind`]), executor ([`exec`]) and query cursors.
//!
//! Query results stream: a page is produced on demand from a cursor that holds the bound
//! query and a scan position (a row number), never the result rows. Queries with
//! ORDER BY on anything but `Id` keep the sorted row numbers (8 bytes a match), not rows.
//! `totalSize` is counted once, when the query starts, by a scan that renders nothing.

pub mod ast;
pub mod bind;
pub mod exec;
pub mod lexer;
pub mod parser;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::org::Org;
use bind::Bound;
use exec::Scan;

/// Default and bounds of `Sforce-Query-Options: batchSize`.
pub const DEFAULT_BATCH: usize = 2000;
pub const MIN_BATCH: usize = 200;

/// Parses `batchSize=N` from the `Sforce-Query-Options` header (clamped to 200–2000).
pub fn batch_size(header: Option<&str>) -> usize {
    header
        .and_then(|h| {
            h.split(',').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("batchSize")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
        })
        .map_or(DEFAULT_BATCH, |n| n.clamp(MIN_BATCH, DEFAULT_BATCH))
}

/// Rows in the page that starts at `offset`. Salesforce treats `batchSize` as a hint ("batches
/// that are larger or smaller than the specified size" may be used), so with `vary` pages
/// differ: a pure function of `(batch, offset)` between half and one and a half times the
/// batch, kept within 200–2000, so a retried page has the same size.
pub fn page_size(batch: usize, offset: u64, vary: bool) -> u64 {
    if !vary {
        return batch as u64;
    }
    let lo = (batch / 2).max(MIN_BATCH) as u64;
    let hi = (batch + batch / 2).min(DEFAULT_BATCH) as u64;
    // splitmix64 of the offset: deterministic, well spread.
    let mut z = offset
        .wrapping_add(batch as u64)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    lo + z % (hi - lo + 1)
}

struct Cursor {
    bound: Arc<Bound>,
    include_deleted: bool,
    total: u64,
    batch: usize,
    /// Scan state at each page start (by records returned so far): a page can be fetched
    /// again, as with Salesforce's locators.
    positions: BTreeMap<u64, Scan>,
    last_used_ms: i64,
}

/// Open query cursors (`nextRecordsUrl` locators).
pub struct Cursors {
    map: Mutex<HashMap<String, Cursor>>,
    counter: AtomicU64,
    /// Idle time after which a locator is invalid (Salesforce: 15 minutes).
    pub ttl_ms: AtomicU64,
    /// Vary page sizes around `batchSize` ([`page_size`]); off: every page but the last is
    /// exactly `batchSize` rows.
    pub vary_page_sizes: AtomicBool,
}

impl Default for Cursors {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
            ttl_ms: AtomicU64::new(15 * 60 * 1000),
            vary_page_sizes: AtomicBool::new(false),
        }
    }
}

fn invalid_locator() -> ApiError {
    ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
}

/// A serialized JSON response body (a query page written as it is rendered).
pub struct JsonBody(pub Vec<u8>);

impl JsonBody {
    fn of(v: &Value) -> Self {
        let mut out = Vec::new();
        exec::put(&mut out, v);
        JsonBody(out)
    }
}

impl IntoResponse for JsonBody {
    fn into_response(self) -> Response {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0,
        )
            .into_response()
    }
}

/// Writes up to `want` records from `scan`, comma-separated; returns how many were
/// written and whether the scan ran out.
fn fill(
    org: &Org,
    b: &Bound,
    scan: &mut Scan,
    want: u64,
    include_deleted: bool,
    version: &str,
) -> (Vec<u8>, u64, bool) {
    let mut out = Vec::new();
    let direct = exec::keys_unique(&b.tree);
    let mut n = 0u64;
    while n < want {
        let Some(r) = scan.next_match(org, b, include_deleted) else {
            return (out, n, true);
        };
        if n > 0 {
            out.push(b',');
        }
        if direct {
            exec::write_record(&mut out, &r, &b.tree, version);
        } else {
            exec::put(&mut out, &exec::render(&r, &b.tree, version));
        }
        if n == 0 {
            // Size the page from its first record rather than growing it by doubling.
            out.reserve((out.len() + 1) * (want - 1).min(DEFAULT_BATCH as u64) as usize);
        }
        n += 1;
    }
    (out, n, false)
}

/// `{"totalSize","done","records"[,"nextRecordsUrl"]}`, as `json!` plus serde_json wrote it.
fn page_body(total: u64, done: bool, records: &[u8], next: Option<&str>) -> JsonBody {
    let mut body = Vec::with_capacity(records.len() + 128);
    body.extend_from_slice(
        format!("{{\"totalSize\":{total},\"done\":{done},\"records\":[").as_bytes(),
    );
    body.extend_from_slice(records);
    body.push(b']');
    if let Some(next) = next {
        body.extend_from_slice(b",\"nextRecordsUrl\":");
        exec::put(&mut body, next);
    }
    body.push(b'}');
    JsonBody(body)
}

impl Cursors {
    fn new_locator(&self) -> String {
        crate::org::ids::make_id("01g", self.counter.fetch_add(1, Ordering::Relaxed))
    }

    pub fn open_count(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.map.lock() {
            m.clear();
        }
    }

    fn page(&self, batch: usize, offset: u64) -> u64 {
        page_size(batch, offset, self.vary_page_sizes.load(Ordering::Relaxed))
    }

    /// Runs a query and returns its first page.
    pub fn query(
        &self,
        org: &Org,
        soql: &str,
        include_deleted: bool,
        batch: usize,
        now: chrono::DateTime<Utc>,
        version: &str,
    ) -> Result<JsonBody, ApiError> {
        let bound = exec::prepare(org, soql, include_deleted, now)?;
        if let Some((path, alias)) = &bound.count_of {
            let mut scan = Scan::start(&bound);
            let mut n = 0u64;
            while let Some(r) = scan.next_match(org, &bound, include_deleted) {
                if !exec::path_value(&r, path).is_null() {
                    n += 1;
                }
            }
            return Ok(JsonBody::of(&json!({
                "totalSize": 1, "done": true,
                "records": [{"attributes": {"type": "AggregateResult"}, alias.as_str(): n}],
            })));
        }
        let total = exec::total(org, &bound, include_deleted);
        if bound.count_only {
            return Ok(page_body(total, true, b"", None));
        }
        let mut scan = first_scan(org, &bound, include_deleted);
        let want = self.page(batch, 0).min(total);
        let (records, returned, exhausted) =
            fill(org, &bound, &mut scan, want, include_deleted, version);
        let done = exhausted || returned >= total;
        if done {
            return Ok(page_body(total, done, &records, None));
        }
        let locator = self.new_locator();
        let mut positions = BTreeMap::new();
        positions.insert(returned, scan);
        if let Ok(mut m) = self.map.lock() {
            // Abandoned cursors go when a new one opens, so they cannot pile up.
            let ttl = self.ttl_ms.load(Ordering::Relaxed) as i64;
            let now_ms = now.timestamp_millis();
            m.retain(|_, c| now_ms - c.last_used_ms <= ttl);
            m.insert(
                locator.clone(),
                Cursor {
                    bound: Arc::new(bound),
                    include_deleted,
                    total,
                    batch,
                    positions,
                    last_used_ms: now.timestamp_millis(),
                },
            );
        }
        let next = format!("/services/data/{version}/query/{locator}-{returned}");
        Ok(page_body(total, done, &records, Some(&next)))
    }

    /// `GET /query/{locator}-{offset}`: the next page of an open cursor.
    pub fn more(
        &self,
        org: &Org,
        locator: &str,
        now: chrono::DateTime<Utc>,
        version: &str,
    ) -> Result<JsonBody, ApiError> {
        let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
        let offset: u64 = offset.parse().map_err(|_| invalid_locator())?;
        let ttl = self.ttl_ms.load(Ordering::Relaxed) as i64;
        let (bound, include_deleted, total, batch, mut scan) = {
            let mut m = self.map.lock().map_err(|_| invalid_locator())?;
            let c = m.get_mut(id).ok_or_else(invalid_locator)?;
            if now.timestamp_millis() - c.last_used_ms > ttl {
                m.remove(id);
                return Err(invalid_locator());
            }
            c.last_used_ms = now.timestamp_millis();
            let scan = c
                .positions
                .get(&offset)
                .cloned()
                .ok_or_else(invalid_locator)?;
            (c.bound.clone(), c.include_deleted, c.total, c.batch, scan)
        };
        let want = self.page(batch, offset).min(total.saturating_sub(offset));
        let (records, n, exhausted) = fill(org, &bound, &mut scan, want, include_deleted, version);
        let returned = offset + n;
        let done = exhausted || returned >= total;
        if done {
            return Ok(page_body(total, done, &records, None));
        }
        // Earlier positions stay, so a retried page still works until the cursor expires.
        if let Ok(mut m) = self.map.lock()
            && let Some(c) = m.get_mut(id)
        {
            c.positions.insert(returned, scan);
        }
        let next = format!("/services/data/{version}/query/{id}-{returned}");
        Ok(page_body(total, done, &records, Some(&next)))
    }
}

/// The scan a query starts with: streaming in id order, or (ORDER BY on anything but `Id`)
/// the sorted row numbers of every match.
pub fn first_scan(org: &Org, bound: &Bound, include_deleted: bool) -> Scan {
    if bound.order.is_empty() || is_id_asc(bound) {
        Scan::start(bound)
    } else {
        Scan::Sorted {
            numbers: Arc::new(exec::sorted(org, bound, include_deleted)),
            pos: 0,
        }
    }
}

fn is_id_asc(b: &Bound) -> bool {
    b.order.len() == 1
        && !b.order[0].desc
        && b.order[0].path.hops.is_empty()
        && b.order[0].path.kind == crate::org::schema::FType::Id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_header_is_clamped() {
        assert_eq!(batch_size(None), 2000);
        assert_eq!(batch_size(Some("batchSize=500")), 500);
        assert_eq!(batch_size(Some("batchSize=50")), 200);
        assert_eq!(batch_size(Some("batchSize=5000")), 2000);
    }

    #[test]
    fn varied_page_sizes_stay_within_bounds_and_repeat() {
        for batch in [200, 500, 1000, 2000] {
            assert_eq!(page_size(batch, 400, false), batch as u64);
            let sizes: Vec<u64> = (0..50).map(|p| page_size(batch, p * 997, true)).collect();
            let lo = (batch / 2).max(MIN_BATCH) as u64;
            let hi = (batch * 3 / 2).min(DEFAULT_BATCH) as u64;
            assert!(sizes.iter().all(|s| (lo..=hi).contains(s)), "{sizes:?}");
            assert!(sizes.iter().any(|s| *s != sizes[0]), "{batch}: {sizes:?}");
            assert_eq!(
                page_size(batch, 997, true),
                sizes[1],
                "a retried page keeps its size"
            );
        }
    }

    #[test]
    fn opening_a_cursor_sweeps_expired_ones() {
        let org = Org::new(7, 2000, true);
        let cursors = Cursors::default();
        let t0 = Utc::now();
        let q = "SELECT Id FROM Contact";
        for _ in 0..3 {
            cursors.query(&org, q, false, 200, t0, "v62.0").unwrap();
        }
        assert_eq!(cursors.open_count(), 3);
        let later = t0 + chrono::Duration::minutes(16);
        cursors.query(&org, q, false, 200, later, "v62.0").unwrap();
        assert_eq!(cursors.open_count(), 1, "the three idle cursors were swept");
    }
}
