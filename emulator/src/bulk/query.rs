//! Query jobs: create (the SOQL is parsed and bound at once, so a bad query is refused with
//! the REST query's error), poll, results, abort, delete, list.
//!
//! Results stream: a page is rendered from a scan position in chunks while the body is sent,
//! taking the org's read lock per chunk; the job keeps scan positions by row offset, never
//! rows. A locator is the base64 of the row offset the page starts at (as Salesforce's are),
//! so it stays valid, and returns the same rows, for as long as the job exists.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use serde_json::Value;

use super::{Dialect, Job, Phase, Work, api_version, bad_state, no_job, settle};
use crate::error::ApiError;
use crate::oauth::Session;
use crate::org::schema::FType;
use crate::org::{Org, RowRef};
use crate::server::{AppState, Shared};
use crate::soql::bind::{Bound, Entry};
use crate::soql::exec::{self, Scan};

/// Rows rendered per chunk of a streamed page (one read-lock hold).
const CHUNK_ROWS: u64 = 500;

/// A query job's bound query and where its pages start.
pub struct QueryWork {
    bound: Arc<Bound>,
    include_deleted: bool,
    columns: Vec<String>,
    /// Rows the query returns, counted when the job was created.
    pub total: u64,
    pub pk_chunking: bool,
    /// Scan state by row offset: where each page handed out so far ends.
    positions: BTreeMap<u64, Scan>,
}

fn api_error(message: &str) -> ApiError {
    ApiError::bad_request("API_ERROR", message)
}

/// CSV column names in select order; parent paths dotted (`Account.Name`).
fn columns(tree: &[Entry], prefix: &str, out: &mut Vec<String>) {
    for e in tree {
        match e {
            Entry::Field { name, .. } => out.push(format!("{prefix}{name}")),
            Entry::Parent { hop, tree } => columns(tree, &format!("{prefix}{}.", hop.name), out),
            Entry::Children(_) => {}
        }
    }
}

fn count_columns(tree: &[Entry]) -> usize {
    tree.iter()
        .map(|e| match e {
            Entry::Field { .. } => 1,
            Entry::Parent { tree, .. } => count_columns(tree),
            Entry::Children(_) => 0,
        })
        .sum()
}

fn cell(v: Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// One rendered record's cells, in column order (an empty parent gives empty cells).
fn cells(tree: &[Entry], rec: &Value, out: &mut Vec<String>) {
    for e in tree {
        match e {
            Entry::Field { name, .. } => {
                out.push(cell(rec.get(*name).cloned().unwrap_or(Value::Null)))
            }
            Entry::Parent { hop, tree } => match rec.get(hop.name) {
                Some(p @ Value::Object(_)) => cells(tree, p, out),
                _ => out.extend(std::iter::repeat_n(String::new(), count_columns(tree))),
            },
            Entry::Children(_) => {}
        }
    }
}

/// The same cells as rendering the record and then [`cells`], read straight from the row
/// (no record map, no `attributes`); callers check [`exec::keys_unique`] first.
fn row_cells(r: &RowRef<'_>, tree: &[Entry], out: &mut Vec<String>) {
    for e in tree {
        match e {
            Entry::Field { at, .. } => out.push(cell(exec::field_value(r, at))),
            Entry::Parent { hop, tree } => match exec::parent(r, hop) {
                Some(p) => row_cells(&p, tree, out),
                None => out.extend(std::iter::repeat_n(String::new(), count_columns(tree))),
            },
            Entry::Children(_) => {}
        }
    }
}

/// What Bulk API 2.0 cannot run: compound address/location fields, parent-to-child
/// subqueries, aggregates and OFFSET (Salesforce refuses these when the job is created).
fn refuse_unsupported(org: &Org, b: &Bound) -> Result<(), ApiError> {
    fn compound(org: &Org, tree: &[Entry]) -> bool {
        tree.iter().any(|e| match e {
            Entry::Field { at, .. } => at.iter().any(|(oi, fi)| {
                matches!(
                    org.schema.objects[*oi].fields[*fi].kind,
                    FType::Address | FType::Location
                )
            }),
            Entry::Parent { tree, .. } => compound(org, tree),
            Entry::Children(_) => false,
        })
    }
    if compound(org, &b.tree) {
        return Err(api_error(
            "Selecting compound data not supported in Bulk Query",
        ));
    }
    if b.tree.iter().any(|e| matches!(e, Entry::Children(_))) {
        return Err(api_error(
            "Aggregate Relationship is not supported in Bulk Query with CSV content type",
        ));
    }
    if b.count_only || b.count_of.is_some() {
        return Err(api_error(
            "Aggregate queries are not supported in Bulk Query",
        ));
    }
    if b.offset > 0 {
        return Err(api_error("OFFSET is not supported in Bulk Query"));
    }
    Ok(())
}

fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// `POST /jobs/query {"operation","query","contentType"?,"columnDelimiter"?,"lineEnding"?}`.
pub async fn create(
    state: Shared,
    Path(version): Path<String>,
    session: Option<Extension<Session>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let api_version = api_version(&version)?;
    let body = crate::rest::json_body(&body)?;
    let operation = match str_field(&body, "operation") {
        Some(op @ ("query" | "queryAll")) => op.to_string(),
        Some(other) => {
            return Err(ApiError::bad_request(
                "INVALIDJOB",
                format!("InvalidJob : Invalid job operation for a query job: {other}"),
            ));
        }
        None => {
            return Err(ApiError::bad_request(
                "INVALIDJOB",
                "InvalidJob : Required field is missing: operation",
            ));
        }
    };
    let soql = str_field(&body, "query")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "INVALIDJOB",
                "InvalidJob : Required field is missing: query",
            )
        })?;
    if let Some(ct) = str_field(&body, "contentType")
        && ct != "CSV"
    {
        return Err(ApiError::bad_request(
            "INVALIDJOB",
            format!("InvalidJob : Invalid content type for a query job: {ct}"),
        ));
    }
    let dialect = Dialect::parse(
        str_field(&body, "columnDelimiter"),
        str_field(&body, "lineEnding"),
    )?;
    let include_deleted = operation == "queryAll";
    let now = state.clock.now();
    let (bound, total, scan, object) = {
        let org = state.org();
        let bound = exec::prepare(&org, soql, include_deleted, now)?;
        refuse_unsupported(&org, &bound)?;
        let total = exec::total(&org, &bound, include_deleted);
        let scan = crate::soql::first_scan(&org, &bound, include_deleted);
        let object = org.schema.objects[bound.oi].name.to_string();
        (bound, total, scan, object)
    };
    let mut cols = Vec::new();
    columns(&bound.tree, "", &mut cols);
    let now_ms = now.timestamp_millis();
    let job = Job {
        id: state.bulk.new_id(),
        operation,
        object,
        created_by: session.map_or_else(
            || crate::oauth::INTEGRATION_USER_ID.to_string(),
            |s| s.user_id.clone(),
        ),
        created_ms: now_ms,
        modified_ms: now_ms,
        api_version,
        dialect,
        phase: Phase::Queued {
            due_ms: state.bulk.due_ms(now_ms),
        },
        work: Work::Query(QueryWork {
            bound: Arc::new(bound),
            include_deleted,
            columns: cols,
            total,
            pk_chunking: true,
            positions: BTreeMap::from([(0, scan)]),
        }),
    };
    let created = job.base_info("UploadComplete");
    state.bulk.jobs().insert(job.id.clone(), job);
    Ok(Json(created))
}

/// Runs `f` on the query job `id` after settling it.
fn with_job<T>(
    state: &AppState,
    version: &str,
    id: &str,
    f: impl FnOnce(&mut Job) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    crate::rest::check_version(version)?;
    settle(state, id);
    let mut jobs = state.bulk.jobs();
    match jobs.get_mut(id) {
        Some(job) if job.is_query() => f(job),
        _ => Err(no_job()),
    }
}

pub async fn info(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    with_job(&state, &version, &id, |job| Ok(Json(job.info())))
}

pub async fn list(state: Shared, Path(version): Path<String>) -> Result<Json<Value>, ApiError> {
    crate::rest::check_version(&version)?;
    Ok(Json(super::list(&state, true)))
}

/// `PATCH {"state":"Aborted"}`: the only change a query job takes.
pub async fn patch(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = crate::rest::json_body(&body)?;
    let wanted = str_field(&body, "state").unwrap_or_default().to_string();
    let now_ms = state.clock.now_ms();
    with_job(&state, &version, &id, |job| {
        if wanted != "Aborted" {
            return Err(bad_state(format!(
                "InvalidJobState : Invalid state for a query job: {wanted}"
            )));
        }
        if job.is_final() {
            return Err(bad_state(format!(
                "InvalidJobState : Cannot abort a job whose state is {}",
                job.state()
            )));
        }
        job.phase = Phase::Aborted;
        job.modified_ms = now_ms;
        Ok(Json(job.base_info(job.state())))
    })
}

/// `DELETE`: only a job that has ended can be deleted; 204.
pub async fn delete(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    super::delete_job(&state, &version, &id, true)
}

fn invalid_locator(loc: &str) -> ApiError {
    ApiError::bad_request("INVALIDLOCATOR", format!("Invalid locator: {loc}"))
}

fn encode_locator(offset: u64) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(offset.to_string())
}

fn decode_locator(loc: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(loc.trim_end_matches('='))
        .ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// What one page streams from.
struct Page {
    state: Arc<AppState>,
    job_id: String,
    bound: Arc<Bound>,
    include_deleted: bool,
    dialect: Dialect,
    version: String,
    scan: Scan,
    /// Matches to pass over first (the locator fell between stored positions).
    skip: u64,
    remaining: u64,
    end_offset: u64,
    header: Option<Vec<String>>,
}

impl Page {
    /// The next chunk of CSV text, or `None` once the page is complete (the scan position
    /// where it ended is stored for the next locator).
    fn next_chunk(&mut self) -> Option<String> {
        let mut out = String::new();
        if let Some(cols) = self.header.take() {
            self.dialect.quoted_line(&mut out, &cols);
            return Some(out);
        }
        if self.remaining == 0 {
            return None;
        }
        let org = self.state.org();
        while self.skip > 0 {
            if self
                .scan
                .next_match(&org, &self.bound, self.include_deleted)
                .is_none()
            {
                self.remaining = 0;
                break;
            }
            self.skip -= 1;
        }
        let mut n = 0;
        let mut row = Vec::new();
        let direct = exec::keys_unique(&self.bound.tree);
        while n < CHUNK_ROWS && self.remaining > 0 {
            let Some(r) = self
                .scan
                .next_match(&org, &self.bound, self.include_deleted)
            else {
                // Rows deleted since the job ran: the page ends early.
                self.remaining = 0;
                break;
            };
            row.clear();
            if direct {
                row_cells(&r, &self.bound.tree, &mut row);
            } else {
                let rec = exec::render(&r, &self.bound.tree, &self.version);
                cells(&self.bound.tree, &rec, &mut row);
            }
            self.dialect.quoted_line(&mut out, &row);
            self.remaining -= 1;
            n += 1;
        }
        drop(org);
        if self.remaining == 0 {
            let mut jobs = self.state.bulk.jobs();
            if let Some(Job {
                work: Work::Query(q),
                ..
            }) = jobs.get_mut(&self.job_id)
            {
                q.positions.insert(self.end_offset, self.scan.clone());
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

/// `GET /jobs/query/{id}/results?locator=…&maxRecords=…`: one page of CSV with
/// `Sforce-NumberOfRecords` and `Sforce-Locator` (`null` on the last page).
pub async fn results(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let max = match params.get("maxRecords") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| api_error(&format!("Invalid maxRecords: {v}")))?,
        ),
    };
    let locator = params.get("locator").filter(|l| !l.is_empty());
    let offset = match locator {
        None => 0,
        Some(l) => decode_locator(l).ok_or_else(|| invalid_locator(l))?,
    };
    let page = with_job(&state, &version, &id, |job| {
        if job.phase != Phase::Complete {
            return Err(bad_state(format!(
                "InvalidJobState : Results are available when the job state is JobComplete; it is {}",
                job.state()
            )));
        }
        let dialect = job.dialect;
        let Work::Query(q) = &mut job.work else {
            return Err(no_job());
        };
        if offset > q.total {
            return Err(invalid_locator(locator.map_or("", String::as_str)));
        }
        let n = max.unwrap_or(u64::MAX).min(q.total - offset);
        let (start, scan) = q
            .positions
            .range(..=offset)
            .next_back()
            .map(|(k, s)| (*k, s.clone()))
            .ok_or_else(|| invalid_locator(locator.map_or("", String::as_str)))?;
        Ok((
            n,
            q.total,
            Page {
                state: state.0.clone(),
                job_id: id.clone(),
                bound: q.bound.clone(),
                include_deleted: q.include_deleted,
                dialect,
                version: version.clone(),
                scan,
                skip: offset - start,
                remaining: n,
                end_offset: offset + n,
                header: Some(q.columns.clone()),
            },
        ))
    })?;
    let (n, total, page) = page;
    let next = offset + n;
    let locator = if next >= total {
        "null".to_string()
    } else {
        encode_locator(next)
    };
    let stream = futures::stream::unfold(page, |mut page| async move {
        page.next_chunk()
            .map(|chunk| (Ok::<_, std::convert::Infallible>(Bytes::from(chunk)), page))
    });
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv"),
    );
    h.insert(
        "sforce-numberofrecords",
        HeaderValue::from_str(&n.to_string()).unwrap_or(HeaderValue::from_static("0")),
    );
    h.insert(
        "sforce-locator",
        HeaderValue::from_str(&locator).unwrap_or(HeaderValue::from_static("null")),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_are_base64_row_offsets() {
        assert_eq!(encode_locator(10000), "MTAwMDA");
        assert_eq!(decode_locator("MTAwMDA"), Some(10000));
        assert_eq!(decode_locator("MTAwMDA="), Some(10000));
        assert_eq!(decode_locator("not a locator!"), None);
    }
}
