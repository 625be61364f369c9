//! Bulk API 2.0 (`/services/data/vNN.0/jobs/query|ingest`): query jobs whose CSV results are
//! paged with `Sforce-Locator`, and ingest jobs (`delete`, `hardDelete`, `insert`, `update`).
//!
//! A job lives in [`BulkState`] (one std `Mutex`, held for map operations only, never across
//! the org lock or an await). Jobs are processed lazily: a job closed for processing
//! (`UploadComplete`) reads as `InProgress` until a configurable delay has passed on the
//! emulator's clock (so polling clients poll), and the first request that sees it due does the
//! work: an ingest job's rows go through the org's write rules then, one by one, as Salesforce
//! processes them in chunks with partial success. A query job keeps the bound query and scan
//! positions, never rows: result pages are rendered while they stream ([`query`]).
//!
//! `hardDelete` needs the "Bulk API Hard Delete" user permission; the integration user holds
//! it unless an admin takes it away (`bulkApiHardDelete` in `/__emulator/settings`).

mod csv;
mod ingest;
mod query;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::server::AppState;
pub use csv::Dialect;

/// Default time a job spends `InProgress` (emulated milliseconds).
pub const DEFAULT_JOB_DELAY_MS: u64 = 300;

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Ingest: open for its data upload.
    Open,
    /// Closed for processing; done once the clock reaches `due_ms`.
    Queued {
        due_ms: i64,
    },
    /// A request is doing the work right now.
    Processing,
    Complete,
    Failed(String),
    Aborted,
}

/// A job's kind-specific work.
pub enum Work {
    Query(query::QueryWork),
    Ingest(ingest::IngestWork),
}

/// One Bulk API 2.0 job.
pub struct Job {
    pub id: String,
    pub operation: String,
    pub object: String,
    pub created_by: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// `62.0` from `/services/data/v62.0/…`.
    pub api_version: String,
    pub dialect: Dialect,
    pub phase: Phase,
    pub work: Work,
}

impl Job {
    fn is_query(&self) -> bool {
        matches!(self.work, Work::Query(_))
    }

    /// The state name Salesforce reports (`created` only for the create response, which
    /// reads `UploadComplete` for a query job).
    pub fn state(&self) -> &'static str {
        match &self.phase {
            Phase::Open => "Open",
            Phase::Queued { .. } | Phase::Processing => "InProgress",
            Phase::Complete => "JobComplete",
            Phase::Failed(_) => "Failed",
            Phase::Aborted => "Aborted",
        }
    }

    fn is_final(&self) -> bool {
        matches!(
            self.phase,
            Phase::Complete | Phase::Failed(_) | Phase::Aborted
        )
    }

    /// The job-info body (`GET /jobs/{kind}/{id}`).
    pub fn info(&self) -> Value {
        let mut v = self.base_info(self.state());
        let Some(m) = v.as_object_mut() else {
            return v;
        };
        m.insert(
            "jobType".into(),
            json!(if self.is_query() {
                "V2Query"
            } else {
                "V2Ingest"
            }),
        );
        match &self.work {
            Work::Query(q) => {
                m.insert(
                    "numberRecordsProcessed".into(),
                    json!(if self.phase == Phase::Complete {
                        q.total
                    } else {
                        0
                    }),
                );
                m.insert("retries".into(), json!(0));
                m.insert("totalProcessingTime".into(), json!(0));
                m.insert("isPkChunkingSupported".into(), json!(q.pk_chunking));
            }
            Work::Ingest(w) => {
                m.insert("numberRecordsProcessed".into(), json!(w.processed()));
                m.insert("numberRecordsFailed".into(), json!(w.failed()));
                m.insert("retries".into(), json!(0));
                m.insert("totalProcessingTime".into(), json!(0));
                m.insert("apiActiveProcessingTime".into(), json!(0));
                m.insert("apexProcessingTime".into(), json!(0));
            }
        }
        if let Phase::Failed(msg) = &self.phase {
            m.insert("errorMessage".into(), json!(msg));
        }
        v
    }

    /// The fields every job body has, with the given state.
    pub fn base_info(&self, state: &str) -> Value {
        let version: f64 = self.api_version.parse().unwrap_or(62.0);
        let mut v = json!({
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": stamp(self.created_ms),
            "systemModstamp": stamp(self.modified_ms),
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": version,
        });
        if let (Work::Ingest(_), Some(m)) = (&self.work, v.as_object_mut()) {
            m.insert(
                "contentUrl".into(),
                json!(format!(
                    "services/data/v{}/jobs/ingest/{}/batches",
                    self.api_version, self.id
                )),
            );
        }
        if let Some(m) = v.as_object_mut() {
            m.insert("lineEnding".into(), json!(self.dialect.line_ending_name()));
            m.insert(
                "columnDelimiter".into(),
                json!(self.dialect.delimiter_name()),
            );
        }
        v
    }
}

fn stamp(ms: i64) -> String {
    crate::clock::sf_datetime(chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

/// Every job of the org, and the Bulk settings admins can change.
pub struct BulkState {
    jobs: Mutex<HashMap<String, Job>>,
    counter: AtomicU64,
    /// How long a closed job reads `InProgress` (emulated ms).
    pub delay_ms: AtomicU64,
    /// The integration user's "Bulk API Hard Delete" permission.
    pub hard_delete_permission: AtomicBool,
}

impl Default for BulkState {
    fn default() -> Self {
        Self {
            jobs: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
            delay_ms: AtomicU64::new(DEFAULT_JOB_DELAY_MS),
            hard_delete_permission: AtomicBool::new(true),
        }
    }
}

impl BulkState {
    fn jobs(&self) -> MutexGuard<'_, HashMap<String, Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn new_id(&self) -> String {
        crate::org::ids::make_id("750", self.counter.fetch_add(1, Ordering::Relaxed))
    }

    fn due_ms(&self, now_ms: i64) -> i64 {
        now_ms + self.delay_ms.load(Ordering::Relaxed) as i64
    }

    /// Forgets every job (admin reset / reseed).
    pub fn clear(&self) {
        self.jobs().clear();
    }

    pub fn hard_delete_allowed(&self) -> bool {
        self.hard_delete_permission.load(Ordering::Relaxed)
    }
}

/// Does a job's work once it is due: a query job completes; an ingest job's rows are
/// processed (outside the jobs lock, under the org's write lock chunk by chunk).
fn settle(state: &AppState, id: &str) {
    let now = state.clock.now_ms();
    let input = {
        let mut jobs = state.bulk.jobs();
        let Some(job) = jobs.get_mut(id) else { return };
        let Phase::Queued { due_ms } = job.phase else {
            return;
        };
        if now < due_ms {
            return;
        }
        job.modified_ms = now;
        match &mut job.work {
            Work::Query(_) => {
                job.phase = Phase::Complete;
                return;
            }
            Work::Ingest(w) => {
                job.phase = Phase::Processing;
                ingest::Input {
                    operation: job.operation.clone(),
                    object: job.object.clone(),
                    dialect: job.dialect,
                    upload: w.take_upload(),
                }
            }
        }
    };
    let done = ingest::process(state, input);
    if let Some(job) = state.bulk.jobs().get_mut(id) {
        ingest::finish(job, done, state.clock.now_ms());
    }
}

/// 404 for a job id that does not exist (or was deleted), or is of the other kind.
fn no_job() -> ApiError {
    ApiError::not_found()
}

fn bad_state(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("INVALIDJOBSTATE", message)
}

/// `DELETE /jobs/query/{id}` and `/jobs/ingest/{id}` (`query` says which): only a job that
/// has ended can be deleted; 204. A job of the other kind is not found, as on every job route.
fn delete_job(
    state: &AppState,
    version: &str,
    id: &str,
    query: bool,
) -> Result<axum::http::StatusCode, ApiError> {
    crate::rest::check_version(version)?;
    settle(state, id);
    let mut jobs = state.bulk.jobs();
    match jobs.get(id) {
        Some(job) if job.is_query() == query => {
            if !job.is_final() {
                return Err(bad_state(format!(
                    "InvalidJobState : Cannot delete a job whose state is {}",
                    job.state()
                )));
            }
        }
        _ => return Err(no_job()),
    }
    jobs.remove(id);
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `vNN.0` → `NN.0`, after the version check every data route makes.
fn api_version(v: &str) -> Result<String, ApiError> {
    crate::rest::check_version(v)?;
    Ok(v.trim_start_matches('v').to_string())
}

/// The body of `GET /jobs/query` and `GET /jobs/ingest`: every job of that kind.
fn list(state: &AppState, queries: bool) -> Value {
    let jobs = state.bulk.jobs();
    let mut records: Vec<&Job> = jobs.values().filter(|j| j.is_query() == queries).collect();
    records.sort_by(|a, b| a.id.cmp(&b.id));
    json!({
        "done": true,
        "records": records.iter().map(|j| j.base_info(j.state())).collect::<Vec<_>>(),
        "nextRecordsUrl": null,
    })
}

/// Routes (behind the session guard, limits, counters and faults like every data route).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/services/data/{version}/jobs/query",
            get(query::list).post(query::create),
        )
        .route(
            "/services/data/{version}/jobs/query/{id}",
            get(query::info).patch(query::patch).delete(query::delete),
        )
        .route(
            "/services/data/{version}/jobs/query/{id}/results",
            get(query::results),
        )
        .merge(ingest::routes())
}
