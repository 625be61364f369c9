//! sObject Collections: batched retrieve, update (PATCH) and delete.
//!
//! Part of the Salesforce adapter. Salesforce takes at most 200 records per write call and
//! 2,000 ids per retrieve, so input is chunked here and results come back in input order.
//! Per-record failures are results, not errors. A record that failed only with a transient
//! status code (`UNABLE_TO_LOCK_ROW`, …) is resent alone — the rest are not rewritten; with
//! `allOrNone` the whole chunk was rolled back, so the whole chunk is resent, but only when
//! no record failed permanently.

use super::client::{ApiRequest, Record, SalesforceClient, SaveResult, Target};
use super::error::{SfError, is_transient_status_code};
use serde_json::json;

/// Records per collections write call (Salesforce's limit).
pub const WRITE_CHUNK: usize = 200;
/// Ids per collections retrieve call (Salesforce's limit for the POST form).
pub const RETRIEVE_CHUNK: usize = 2_000;

/// Updates pass duplicate rules: anonymized values can collide (same placeholder name and
/// email on two records), and a privacy request must not be blocked by a duplicate rule.
const DUPLICATE_RULE_HEADER: &str = "Sforce-Duplicate-Rule-Header";
const ALLOW_SAVE: &str = "allowSave=true";

const ROLLED_BACK: &str = "ALL_OR_NONE_OPERATION_ROLLED_BACK";

fn failed_transiently(r: &SaveResult) -> bool {
    !r.success
        && !r.errors.is_empty()
        && r.errors
            .iter()
            .all(|e| is_transient_status_code(&e.error_code))
}

fn rolled_back_only(r: &SaveResult) -> bool {
    !r.success && !r.errors.is_empty() && r.errors.iter().all(|e| e.error_code == ROLLED_BACK)
}

/// Which records of a sent batch should be sent again (positions within the batch).
pub(crate) fn to_resend(results: &[SaveResult], all_or_none: bool) -> Vec<usize> {
    if all_or_none {
        let transient = results.iter().any(failed_transiently);
        let permanent = results
            .iter()
            .any(|r| !r.success && !failed_transiently(r) && !rolled_back_only(r));
        if transient && !permanent {
            (0..results.len()).collect()
        } else {
            Vec::new()
        }
    } else {
        results
            .iter()
            .enumerate()
            .filter(|(_, r)| failed_transiently(r))
            .map(|(i, _)| i)
            .collect()
    }
}

enum Write<'a> {
    Update(&'a [Record]),
    Delete(&'a [String]),
}

impl SalesforceClient {
    /// sObject Collections retrieve (≤ 2000 ids a call; chunked here). Records come back in
    /// input order; ids that no longer exist (Salesforce answers `null`) are left out.
    pub async fn retrieve(
        &self,
        object: &str,
        ids: &[String],
        fields: &[String],
    ) -> Result<Vec<Record>, SfError> {
        let object = super::soql::identifier(object)?;
        for f in fields {
            super::soql::identifier(f)?;
        }
        let fields: Vec<&str> = if fields.is_empty() {
            vec!["Id"]
        } else {
            fields.iter().map(String::as_str).collect()
        };
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(RETRIEVE_CHUNK) {
            let req = ApiRequest::new(
                reqwest::Method::POST,
                Target::Api(format!("composite/sobjects/{object}")),
            )
            .json(&json!({ "ids": chunk, "fields": fields }))?;
            let rows: Vec<Option<Record>> = self.send(&req).await?.json()?;
            out.extend(rows.into_iter().flatten());
        }
        Ok(out)
    }

    /// sObject Collections PATCH (≤ 200 a call; chunked here). Each record carries
    /// `attributes.type` and `Id`. Results in input order. Sent with
    /// `Sforce-Duplicate-Rule-Header: allowSave=true`.
    pub async fn update(
        &self,
        records: Vec<Record>,
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, SfError> {
        let mut out = Vec::with_capacity(records.len());
        for chunk in records.chunks(WRITE_CHUNK) {
            out.extend(self.write_chunk(Write::Update(chunk), all_or_none).await?);
        }
        Ok(out)
    }

    /// sObject Collections DELETE (≤ 200 ids a call; chunked here). Results in input order.
    pub async fn delete(
        &self,
        ids: &[String],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, SfError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(WRITE_CHUNK) {
            out.extend(self.write_chunk(Write::Delete(chunk), all_or_none).await?);
        }
        Ok(out)
    }

    /// One chunk, with per-record retries of transient failures.
    async fn write_chunk(
        &self,
        write: Write<'_>,
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, SfError> {
        let n = match &write {
            Write::Update(r) => r.len(),
            Write::Delete(i) => i.len(),
        };
        let mut results: Vec<Option<SaveResult>> = vec![None; n];
        let mut pending: Vec<usize> = (0..n).collect();
        let mut delays = self.shared.options.retry.delays();
        loop {
            let req = match &write {
                Write::Update(records) => {
                    let batch: Vec<&Record> = pending.iter().map(|&i| &records[i]).collect();
                    ApiRequest::new(
                        reqwest::Method::PATCH,
                        Target::Api("composite/sobjects".into()),
                    )
                    .json(&json!({ "allOrNone": all_or_none, "records": batch }))?
                    .header(DUPLICATE_RULE_HEADER, ALLOW_SAVE)
                }
                Write::Delete(ids) => {
                    let batch: Vec<&str> = pending.iter().map(|&i| ids[i].as_str()).collect();
                    ApiRequest::new(
                        reqwest::Method::DELETE,
                        Target::Api("composite/sobjects".into()),
                    )
                    .query("ids", batch.join(","))
                    .query("allOrNone", all_or_none.to_string())
                }
            };
            let got: Vec<SaveResult> = self.send(&req).await?.json()?;
            if got.len() != pending.len() {
                return Err(SfError::Decode(format!(
                    "collections answered {} results for {} records",
                    got.len(),
                    pending.len()
                )));
            }
            let resend: Vec<usize> = to_resend(&got, all_or_none)
                .into_iter()
                .map(|pos| pending[pos])
                .collect();
            for (&idx, r) in pending.iter().zip(got) {
                results[idx] = Some(r);
            }
            if resend.is_empty() {
                break;
            }
            let Some(delay) = delays.next() else { break };
            tracing::debug!(
                connection_id = %self.connection_id(),
                records = resend.len(),
                "retrying records that failed transiently"
            );
            tokio::time::sleep(delay).await;
            pending = resend;
        }
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| SfError::Decode("missing collections result".into())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::error::ApiErrorBody;

    fn ok() -> SaveResult {
        SaveResult {
            id: Some("001".into()),
            success: true,
            errors: vec![],
        }
    }
    fn failed(code: &str) -> SaveResult {
        SaveResult {
            id: None,
            success: false,
            errors: vec![ApiErrorBody {
                message: "x".into(),
                error_code: code.into(),
                fields: vec![],
            }],
        }
    }

    #[test]
    fn resends_only_transient_failures() {
        let r = vec![
            ok(),
            failed("UNABLE_TO_LOCK_ROW"),
            failed("ENTITY_IS_DELETED"),
            failed("UNABLE_TO_LOCK_ROW"),
        ];
        assert_eq!(to_resend(&r, false), vec![1, 3]);
        assert!(to_resend(&[ok(), failed("FIELD_CUSTOM_VALIDATION_EXCEPTION")], false).is_empty());
    }

    #[test]
    fn all_or_none_resends_whole_batch_only_without_permanent_failures() {
        let r = vec![
            failed(ROLLED_BACK),
            failed("UNABLE_TO_LOCK_ROW"),
            failed(ROLLED_BACK),
        ];
        assert_eq!(to_resend(&r, true), vec![0, 1, 2]);
        let r = vec![
            failed("UNABLE_TO_LOCK_ROW"),
            failed("REQUIRED_FIELD_MISSING"),
        ];
        assert!(to_resend(&r, true).is_empty());
        assert!(to_resend(&[ok(), ok()], true).is_empty());
    }

    #[test]
    fn parses_salesforce_save_results() {
        let v: Vec<SaveResult> = serde_json::from_str(
            r#"[{"id":"003A","success":true,"errors":[]},
                {"success":false,"errors":[{"statusCode":"ENTITY_IS_DELETED","message":"entity is deleted","fields":[]}]}]"#,
        )
        .unwrap();
        assert!(v[0].success);
        assert_eq!(v[1].status_code(), Some("ENTITY_IS_DELETED"));
    }
}
