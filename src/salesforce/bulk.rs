//! Bulk API 2.0: `hardDelete` ingest jobs and streamed query jobs.
//!
//! Part of the Salesforce adapter. Ingest: create the job, upload one CSV of ids, mark
//! `UploadComplete`, poll with backoff until the job ends, then read the successful, failed
//! and unprocessed results and return one [`SaveResult`] per input id, in input order. Query:
//! create the job, poll until `JobComplete`, then hand out CSV result pages one at a time,
//! following `Sforce-Locator` — a large scan never holds more than a page.

use super::client::{ApiRequest, Record, SalesforceClient, SaveResult, Target};
use super::error::{ApiErrorBody, SfError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Instant;

/// Ids per ingest job (a CSV of 18-character ids stays far under the 150 MB upload limit).
pub const HARD_DELETE_CHUNK: usize = 100_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobInfo {
    id: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error_message: Option<String>,
}

fn bulk_failure(job: &JobInfo) -> SfError {
    SfError::Api {
        status: 400,
        code: "BULK_JOB_FAILED".into(),
        message: format!(
            "bulk job {} ended {}: {}",
            job.id,
            job.state,
            job.error_message.as_deref().unwrap_or("no message")
        ),
        retry_after: None,
    }
}

/// Reads a Bulk API CSV body into records of strings (an empty cell is `null`: Bulk CSV
/// cannot tell the two apart).
fn parse_csv(body: &[u8]) -> Result<Vec<Record>, SfError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let headers = rdr
        .headers()
        .map_err(|e| SfError::Decode(format!("bulk CSV header: {e}")))?
        .clone();
    let mut out = Vec::new();
    for row in rdr.records() {
        let row = row.map_err(|e| SfError::Decode(format!("bulk CSV row: {e}")))?;
        let mut rec = Record::new();
        for (h, v) in headers.iter().zip(row.iter()) {
            let value = if v.is_empty() {
                Value::Null
            } else {
                Value::String(v.to_string())
            };
            rec.insert(h.to_string(), value);
        }
        out.push(rec);
    }
    Ok(out)
}

fn cell<'a>(rec: &'a Record, name: &str) -> Option<&'a str> {
    rec.get(name).and_then(Value::as_str)
}

/// `sf__Error` is `CODE:message:fields`, the field list closed by `--` (`Email --`, or `--`
/// alone). Salesforce's messages contain colons themselves (`…the following cases.: 00001001`),
/// so the code ends at the first colon and the fields start after the last.
fn parse_bulk_error(s: &str) -> ApiErrorBody {
    let (code, rest) = s.split_once(':').unwrap_or((s, ""));
    let (message, fields) = match rest.rsplit_once(':') {
        Some((m, f)) if f.trim().is_empty() || f.trim_end().ends_with("--") => (m, f),
        _ => (rest, ""),
    };
    let fields = fields
        .trim()
        .trim_end_matches("--")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(String::from)
        .collect();
    let code = code.trim();
    ApiErrorBody {
        message: message.trim().to_string(),
        error_code: if code.is_empty() {
            "UNKNOWN_EXCEPTION".into()
        } else {
            code.to_string()
        },
        fields,
    }
}

/// Result pages of a Bulk API 2.0 query job.
pub struct BulkQueryPager {
    client: SalesforceClient,
    job_id: String,
    locator: Option<String>,
    done: bool,
    page_size: u32,
}

impl BulkQueryPager {
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The next page of rows (all values strings or null), or `None` when done.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Record>>, SfError> {
        if self.done {
            return Ok(None);
        }
        let mut req = ApiRequest::get(format!("jobs/query/{}/results", self.job_id))
            .query("maxRecords", self.page_size.to_string());
        req.accept = "text/csv";
        if let Some(loc) = &self.locator {
            req = req.query("locator", loc.clone());
        }
        let resp = self.client.send(&req).await?;
        match resp.header("sforce-locator").map(str::trim) {
            None | Some("") | Some("null") => self.done = true,
            Some(loc) => self.locator = Some(loc.to_string()),
        }
        Ok(Some(parse_csv(&resp.body)?))
    }
}

impl SalesforceClient {
    async fn poll_job(&self, kind: &str, id: &str) -> Result<JobInfo, SfError> {
        let opts = &self.shared.options.bulk;
        let deadline = Instant::now() + opts.timeout;
        let mut delay = opts.poll_min;
        loop {
            let job: JobInfo = self
                .send(&ApiRequest::get(format!("jobs/{kind}/{id}")))
                .await?
                .json()?;
            match job.state.as_str() {
                "JobComplete" => return Ok(job),
                "Failed" | "Aborted" => return Err(bulk_failure(&job)),
                _ => {}
            }
            if Instant::now() >= deadline {
                return Err(SfError::Transport(format!(
                    "bulk job {id} still {} after {:?}",
                    job.state, opts.timeout
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(opts.poll_max);
        }
    }

    async fn abort_ingest(&self, id: &str) {
        let req = ApiRequest::new(
            reqwest::Method::PATCH,
            Target::Api(format!("jobs/ingest/{id}")),
        )
        .json(&json!({ "state": "Aborted" }));
        if let Ok(req) = req
            && let Err(e) = self.send(&req).await
        {
            tracing::warn!(connection_id = %self.connection_id(), job_id = id, code = %e.code(), "cannot abort bulk job");
        }
    }

    /// Bulk API 2.0 `hardDelete` ingest job; waits for it and returns per-id results in
    /// input order (ids the job did not process fail with `UNPROCESSED`).
    pub async fn bulk_hard_delete(
        &self,
        object: &str,
        ids: &[String],
    ) -> Result<Vec<SaveResult>, SfError> {
        let object = super::soql::identifier(object)?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(HARD_DELETE_CHUNK) {
            out.extend(self.hard_delete_job(object, chunk).await?);
        }
        Ok(out)
    }

    async fn hard_delete_job(
        &self,
        object: &str,
        ids: &[String],
    ) -> Result<Vec<SaveResult>, SfError> {
        let create = ApiRequest::new(reqwest::Method::POST, Target::Api("jobs/ingest".into()))
            .json(&json!({
                "object": object,
                "operation": "hardDelete",
                "contentType": "CSV",
                "lineEnding": "LF",
                "columnDelimiter": "COMMA",
            }))?;
        let job: JobInfo = self.send(&create).await?.json()?;
        let job_id = job.id;
        let uploaded = async {
            let mut csv = String::with_capacity(3 + ids.len() * 19);
            csv.push_str("Id\n");
            for id in ids {
                csv.push_str(id);
                csv.push('\n');
            }
            let mut upload = ApiRequest::new(
                reqwest::Method::PUT,
                Target::Api(format!("jobs/ingest/{job_id}/batches")),
            );
            upload.body = Some(("text/csv", csv.into_bytes()));
            self.send(&upload).await?;
            let close = ApiRequest::new(
                reqwest::Method::PATCH,
                Target::Api(format!("jobs/ingest/{job_id}")),
            )
            .json(&json!({ "state": "UploadComplete" }))?;
            self.send(&close).await?;
            Ok::<(), SfError>(())
        }
        .await;
        if let Err(e) = uploaded {
            self.abort_ingest(&job_id).await;
            return Err(e);
        }
        self.poll_job("ingest", &job_id).await?;

        let mut by_id: HashMap<String, SaveResult> = HashMap::with_capacity(ids.len());
        for (kind, success) in [("successfulResults", true), ("failedResults", false)] {
            let mut req = ApiRequest::get(format!("jobs/ingest/{job_id}/{kind}"));
            req.accept = "text/csv";
            for row in parse_csv(&self.send(&req).await?.body)? {
                let Some(input_id) = cell(&row, "Id").or_else(|| cell(&row, "sf__Id")) else {
                    continue;
                };
                let result = SaveResult {
                    id: cell(&row, "sf__Id").or(Some(input_id)).map(String::from),
                    success,
                    errors: if success {
                        Vec::new()
                    } else {
                        vec![parse_bulk_error(
                            cell(&row, "sf__Error").unwrap_or_default(),
                        )]
                    },
                };
                by_id.insert(input_id.to_string(), result);
            }
        }
        Ok(ids
            .iter()
            .map(|id| {
                by_id.remove(id).unwrap_or_else(|| SaveResult {
                    id: Some(id.clone()),
                    success: false,
                    errors: vec![ApiErrorBody {
                        message: "the bulk job did not process this record".into(),
                        error_code: "UNPROCESSED".into(),
                        fields: vec![],
                    }],
                })
            })
            .collect())
    }

    /// A Bulk API 2.0 query job (`queryAll` with `include_deleted`), waited for; its result
    /// pages are read on demand.
    pub async fn bulk_query(
        &self,
        soql: &str,
        include_deleted: bool,
    ) -> Result<BulkQueryPager, SfError> {
        let operation = if include_deleted { "queryAll" } else { "query" };
        let create = ApiRequest::new(reqwest::Method::POST, Target::Api("jobs/query".into()))
            .json(&json!({ "operation": operation, "query": soql }))?;
        let job: JobInfo = self.send(&create).await?.json()?;
        self.poll_job("query", &job.id).await?;
        Ok(BulkQueryPager {
            client: self.clone(),
            job_id: job.id,
            locator: None,
            done: false,
            page_size: self.shared.options.bulk.query_page_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bulk_csv_and_errors() {
        let rows = parse_csv(
            b"\"sf__Id\",\"sf__Error\",Id\n\"\",\"ENTITY_IS_DELETED:entity is deleted:--\",003A\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(cell(&rows[0], "Id"), Some("003A"));
        assert_eq!(rows[0].get("sf__Id"), Some(&Value::Null));
        let e = parse_bulk_error(cell(&rows[0], "sf__Error").unwrap());
        assert_eq!(e.error_code, "ENTITY_IS_DELETED");
        assert_eq!(e.message, "entity is deleted");
        assert!(e.fields.is_empty());
        let e = parse_bulk_error("FIELD_INTEGRITY_EXCEPTION:bad value:Email,Phone --");
        assert_eq!(e.fields, vec!["Email", "Phone"]);
        assert_eq!(e.message, "bad value");
        // Messages with colons of their own keep them.
        let e = parse_bulk_error(
            "DELETE_FAILED:Your attempt to delete Jo could not be completed because it is associated with the following cases.: 00001001\n:--",
        );
        assert_eq!(e.error_code, "DELETE_FAILED");
        assert_eq!(
            e.message,
            "Your attempt to delete Jo could not be completed because it is associated with the following cases.: 00001001"
        );
        assert!(e.fields.is_empty());
        let e = parse_bulk_error("MALFORMED_ID:Contact ID: id value of incorrect type: x:Id --");
        assert_eq!(e.message, "Contact ID: id value of incorrect type: x");
        assert_eq!(e.fields, vec!["Id"]);
        assert_eq!(parse_bulk_error("").error_code, "UNKNOWN_EXCEPTION");
    }

    #[test]
    fn csv_with_quotes_and_newlines() {
        let rows = parse_csv(b"Id,Name\n001,\"Smith, \"\"Jo\"\"\nline2\"\n002,\n").unwrap();
        assert_eq!(cell(&rows[0], "Name"), Some("Smith, \"Jo\"\nline2"));
        assert_eq!(rows[1].get("Name"), Some(&Value::Null));
    }
}
