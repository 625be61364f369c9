//! Ingest jobs: create, one CSV upload (`PUT …/batches`), close (`UploadComplete`) or abort,
//! poll, and the three result sets (`successfulResults/`, `failedResults/`,
//! `unprocessedrecords/`).
//!
//! Rows go through the same write rules as REST calls ([`Org::delete`], [`Org::create`],
//! [`Org::update`]): recycle bin, cascade, restricted delete, `ENTITY_IS_DELETED`; a
//! `hardDelete` purges, so `queryAll` no longer sees the rows. A failed row's `sf__Error` is
//! `CODE:message:fields` (`--` closes the field list). A header the operation cannot use fails
//! the whole job (`errorMessage` `InvalidBatch : …`), as Salesforce does.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value};

use super::{Dialect, Job, Phase, Work, api_version, bad_state, no_job, settle};
use crate::error::{ApiError, RecordError};
use crate::oauth::Session;
use crate::org::rules::WriteOptions;
use crate::server::{AppState, Shared};

/// Rows processed per hold of the org's write lock (Salesforce's chunk of 200).
const CHUNK: usize = 200;

/// Salesforce takes job data up to 150 MB (axum's default body limit is 2 MB).
pub const MAX_UPLOAD_BYTES: usize = 150 * 1024 * 1024;

const OPERATIONS: &[&str] = &["delete", "hardDelete", "insert", "update"];

/// One processed row's fate (a row without one was never processed).
#[derive(Debug, Clone)]
pub enum Outcome {
    Ok { id: String, created: bool },
    Err { id: String, error: String },
}

/// An ingest job's data and results.
#[derive(Default)]
pub struct IngestWork {
    upload: Option<Vec<u8>>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    outcomes: Vec<Outcome>,
}

impl IngestWork {
    pub fn take_upload(&mut self) -> Option<Vec<u8>> {
        self.upload.take()
    }

    pub fn processed(&self) -> usize {
        self.outcomes.len()
    }

    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Err { .. }))
            .count()
    }
}

/// What processing needs, taken out of the job.
pub struct Input {
    pub operation: String,
    pub object: String,
    pub dialect: Dialect,
    pub upload: Option<Vec<u8>>,
}

/// Processing's result: the parsed rows and their outcomes, or why the job failed.
pub type Done = Result<(Vec<String>, Vec<Vec<String>>, Vec<Outcome>), String>;

/// `CODE:message:fields`, the field list closed by `--`.
fn sf_error(e: &RecordError) -> String {
    let fields = if e.fields.is_empty() {
        "--".to_string()
    } else {
        format!("{} --", e.fields.join(","))
    };
    format!("{}:{}:{}", e.status_code, e.message, fields)
}

/// Checks the header against the operation and object; the message fails the job.
fn check_header(state: &AppState, input: &Input, header: &[String]) -> Result<(), String> {
    let deleting = matches!(input.operation.as_str(), "delete" | "hardDelete");
    if deleting {
        if header.len() != 1 || !header[0].eq_ignore_ascii_case("Id") {
            return Err(format!(
                "InvalidBatch : The '{}' batch must contain only ids",
                input.operation
            ));
        }
        return Ok(());
    }
    if input.operation == "update" && !header.iter().any(|h| h.eq_ignore_ascii_case("Id")) {
        return Err("InvalidBatch : Field name not found : Id".into());
    }
    let org = state.org();
    let Some(obj) = org.schema.object(&input.object) else {
        return Err(format!("InvalidBatch : Invalid object: {}", input.object));
    };
    match header
        .iter()
        .find(|h| !h.eq_ignore_ascii_case("Id") && obj.field_index(h).is_none())
    {
        Some(bad) => Err(format!("InvalidBatch : Field name not found : {bad}")),
        None => Ok(()),
    }
}

/// A row as a record: non-empty cells only (an empty cell leaves a field as it is).
fn record(header: &[String], row: &[String]) -> Map<String, Value> {
    header
        .iter()
        .zip(row)
        .filter(|(_, v)| !v.is_empty())
        .map(|(h, v)| (h.clone(), Value::String(v.clone())))
        .collect()
}

fn row_id(header: &[String], row: &[String]) -> String {
    header
        .iter()
        .position(|h| h.eq_ignore_ascii_case("Id"))
        .and_then(|i| row.get(i))
        .map(|id| {
            crate::org::ids::parse_id(id.trim()).map_or_else(|| id.trim().to_string(), |p| p.id18)
        })
        .unwrap_or_default()
}

/// Processes an upload through the org's write rules.
pub fn process(state: &AppState, input: Input) -> Done {
    let upload = input.upload.clone().unwrap_or_default();
    let (header, rows) = input.dialect.read(&upload)?;
    check_header(state, &input, &header)?;
    let mut outcomes = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(CHUNK) {
        let opts = WriteOptions {
            allow_save: false,
            now_ms: state.clock.now_ms(),
        };
        let mut org = state.org_mut();
        for row in chunk {
            let id = row_id(&header, row);
            let result = match input.operation.as_str() {
                "delete" | "hardDelete" => org
                    .delete(
                        Some(input.object.as_str()),
                        row[0].trim(),
                        input.operation == "hardDelete",
                        opts,
                    )
                    .map(|()| (id.clone(), false)),
                "insert" => org
                    .create(&input.object, &record(&header, row), opts)
                    .map(|new| (new, true)),
                _ => org
                    .update(
                        Some(input.object.as_str()),
                        &id,
                        &record(&header, row),
                        opts,
                    )
                    .map(|()| (id.clone(), false)),
            };
            outcomes.push(match result {
                Ok((id, created)) => Outcome::Ok { id, created },
                Err(e) => Outcome::Err {
                    id: if input.operation == "insert" {
                        String::new()
                    } else {
                        id
                    },
                    error: sf_error(&e),
                },
            });
        }
    }
    Ok((header, rows, outcomes))
}

/// Stores processing's result in the job (unless it was aborted meanwhile).
pub fn finish(job: &mut Job, done: Done, now_ms: i64) {
    let Work::Ingest(w) = &mut job.work else {
        return;
    };
    match done {
        Ok((header, rows, outcomes)) => {
            w.header = header;
            w.rows = rows;
            w.outcomes = outcomes;
            if job.phase == Phase::Processing {
                job.phase = Phase::Complete;
            }
        }
        Err(message) => job.phase = Phase::Failed(message),
    }
    job.modified_ms = now_ms;
}

fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

fn invalid_job(message: String) -> ApiError {
    ApiError::bad_request("INVALIDJOB", message)
}

/// `POST /jobs/ingest {"object","operation","contentType"?,"columnDelimiter"?,"lineEnding"?}`.
pub async fn create(
    state: Shared,
    Path(version): Path<String>,
    session: Option<Extension<Session>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let api_version = api_version(&version)?;
    let body = crate::rest::json_body(&body)?;
    let operation = str_field(&body, "operation")
        .ok_or_else(|| invalid_job("InvalidJob : Required field is missing: operation".into()))?;
    if !OPERATIONS.contains(&operation) {
        return Err(invalid_job(format!(
            "InvalidJob : Invalid job operation: {operation}"
        )));
    }
    let object = str_field(&body, "object")
        .ok_or_else(|| invalid_job("InvalidJob : Required field is missing: object".into()))?;
    let object = state
        .org()
        .schema
        .object(object)
        .map(|o| o.name.to_string())
        .ok_or_else(|| {
            ApiError::bad_request(
                "INVALIDENTITY",
                format!("InvalidEntity : Entity '{object}' is not supported by the Bulk API."),
            )
        })?;
    if let Some(ct) = str_field(&body, "contentType")
        && ct != "CSV"
    {
        return Err(invalid_job(format!(
            "InvalidJob : Invalid content type: {ct}"
        )));
    }
    if operation == "hardDelete" && !state.bulk.hard_delete_allowed() {
        return Err(ApiError::bad_request(
            "FEATURENOTENABLED",
            "hardDelete operation requires special user profile permission, please contact your system administrator",
        ));
    }
    let dialect = Dialect::parse(
        str_field(&body, "columnDelimiter"),
        str_field(&body, "lineEnding"),
    )?;
    let now_ms = state.clock.now_ms();
    let job = Job {
        id: state.bulk.new_id(),
        operation: operation.to_string(),
        object,
        created_by: session.map_or_else(
            || crate::oauth::INTEGRATION_USER_ID.to_string(),
            |s| s.user_id.clone(),
        ),
        created_ms: now_ms,
        modified_ms: now_ms,
        api_version,
        dialect,
        phase: Phase::Open,
        work: Work::Ingest(IngestWork::default()),
    };
    let created = job.base_info("Open");
    state.bulk.jobs().insert(job.id.clone(), job);
    Ok(Json(created))
}

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
        Some(job) if !job.is_query() => f(job),
        _ => Err(no_job()),
    }
}

/// `PUT /jobs/ingest/{id}/batches` (text/csv): the job's one data upload; 201.
pub async fn upload(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    with_job(&state, &version, &id, |job| {
        if job.phase != Phase::Open {
            return Err(bad_state(format!(
                "InvalidJobState : Data can be uploaded only while the job is Open; it is {}",
                job.state()
            )));
        }
        let Work::Ingest(w) = &mut job.work else {
            return Err(no_job());
        };
        if w.upload.is_some() {
            return Err(bad_state(
                "InvalidJobState : Only one data upload is allowed per job",
            ));
        }
        w.upload = Some(body.to_vec());
        Ok(StatusCode::CREATED)
    })
}

/// `PATCH {"state":"UploadComplete"|"Aborted"}`.
pub async fn patch(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = crate::rest::json_body(&body)?;
    let wanted = str_field(&body, "state").unwrap_or_default().to_string();
    let now_ms = state.clock.now_ms();
    let due_ms = state.bulk.due_ms(now_ms);
    with_job(&state, &version, &id, |job| match wanted.as_str() {
        "UploadComplete" => {
            let has_data = matches!(&job.work, Work::Ingest(w) if w.upload.is_some());
            if job.phase != Phase::Open || !has_data {
                return Err(bad_state(format!(
                    "InvalidJobState : A job can be closed once it is Open with data uploaded; it is {}",
                    job.state()
                )));
            }
            job.phase = Phase::Queued { due_ms };
            job.modified_ms = now_ms;
            Ok(Json(job.base_info("UploadComplete")))
        }
        "Aborted" => {
            if job.is_final() || job.phase == Phase::Processing {
                return Err(bad_state(format!(
                    "InvalidJobState : Cannot abort a job whose state is {}",
                    job.state()
                )));
            }
            job.phase = Phase::Aborted;
            job.modified_ms = now_ms;
            Ok(Json(job.base_info("Aborted")))
        }
        other => Err(bad_state(format!(
            "InvalidJobState : Invalid state for an ingest job: {other}"
        ))),
    })
}

pub async fn info(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    with_job(&state, &version, &id, |job| Ok(Json(job.info())))
}

pub async fn list(state: Shared, Path(version): Path<String>) -> Result<Json<Value>, ApiError> {
    crate::rest::check_version(&version)?;
    Ok(Json(super::list(&state, false)))
}

pub async fn delete(
    state: Shared,
    Path((version, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    super::delete_job(&state, &version, &id, false)
}

/// `GET …/successfulResults/`, `…/failedResults/`, `…/unprocessedrecords/` as CSV.
pub async fn results(
    state: Shared,
    Path((version, id, kind)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let csv = with_job(&state, &version, &id, |job| {
        if !job.is_final() {
            return Err(bad_state(format!(
                "InvalidJobState : Results are available once the job has ended; it is {}",
                job.state()
            )));
        }
        let d = job.dialect;
        let Work::Ingest(w) = &job.work else {
            return Err(no_job());
        };
        // An aborted job's upload was never read: every row of it is unprocessed.
        let parsed;
        let (header, rows, outcomes) = match (&w.upload, w.rows.is_empty()) {
            (Some(upload), true) => {
                parsed = d.read(upload).unwrap_or_default();
                (&parsed.0, &parsed.1, &w.outcomes)
            }
            _ => (&w.header, &w.rows, &w.outcomes),
        };
        let mut out = String::new();
        match kind.to_ascii_lowercase().as_str() {
            "successfulresults" => {
                d.result_line(&mut out, &["sf__Id", "sf__Created"], header);
                for (row, o) in rows.iter().zip(outcomes) {
                    if let Outcome::Ok { id, created } = o {
                        let created = if *created { "true" } else { "false" };
                        d.result_line(&mut out, &[id.as_str(), created], row);
                    }
                }
            }
            "failedresults" => {
                d.result_line(&mut out, &["sf__Id", "sf__Error"], header);
                for (row, o) in rows.iter().zip(outcomes) {
                    if let Outcome::Err { id, error } = o {
                        d.result_line(&mut out, &[id.as_str(), error.as_str()], row);
                    }
                }
            }
            "unprocessedrecords" => {
                d.raw_line(&mut out, header);
                for (i, row) in rows.iter().enumerate() {
                    if outcomes.get(i).is_none() {
                        d.raw_line(&mut out, row);
                    }
                }
            }
            _ => return Err(no_job()),
        }
        Ok(out)
    })?;
    let mut resp = csv.into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv"),
    );
    Ok(resp)
}

pub fn routes() -> Router<Arc<AppState>> {
    let base = "/services/data/{version}/jobs/ingest";
    Router::new()
        .route(base, get(list).post(create))
        .route(
            &format!("{base}/{{id}}"),
            get(info).patch(patch).delete(delete),
        )
        .route(
            &format!("{base}/{{id}}/batches"),
            put(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(&format!("{base}/{{id}}/{{kind}}"), get(results))
}
