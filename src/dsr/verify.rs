//! Proof that the subject's data is gone, for the privacy officer and the regulator.
//!
//! After delete: no live row with the subject's email remains (SOQL on the email fields), no
//! record reported deleted is still live, and — with hard delete — none sits in the recycle bin
//! (`queryAll`); without it, the rows in the recycle bin are listed with the date Salesforce
//! purges them. After anonymize: values are compared by SHA-256 digest ([`digest`]), so the
//! proof never holds or logs a value.

use super::DsrError;
use super::delete::{RECYCLE_BIN_DAYS, in_queries};
use super::discover;
use crate::message::{DsrRequest, RecordOutcome, RecordOutcomeKind};
use crate::salesforce::SalesforceClient;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The keyed digest ([`crate::subject_digest::value_digest`]) of a value's canonical text
/// (strings trimmed and lowercased, other JSON as JSON). Empty and null values have no digest:
/// there is nothing personal left to find.
pub fn digest(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) if s.trim().is_empty() => return None,
        serde_json::Value::String(s) => s.trim().to_lowercase(),
        other => other.to_string(),
    };
    Some(crate::subject_digest::value_digest(&text))
}

/// A row named in a proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowRef {
    pub object: String,
    pub id: String,
}

/// A soft-deleted row and the day Salesforce purges it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecycledRow {
    pub object: String,
    pub id: String,
    pub purged_after: String,
}

/// What the checks after a delete found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteProof {
    pub ok: bool,
    /// Live rows (other than User records, which are never deleted) still holding the email.
    pub live_rows_with_subject_email: Vec<RowRef>,
    /// Records reported deleted that a query still returns as live.
    pub reported_deleted_but_live: Vec<RowRef>,
    /// Rows in the recycle bin (with hard delete this must be empty).
    pub recycle_bin: Vec<RecycledRow>,
    pub hard_delete: bool,
    pub checked_objects: Vec<String>,
}

/// Record ids by object, for outcomes of the given kinds.
pub fn ids_by_object(
    records: &[RecordOutcome],
    kinds: &[RecordOutcomeKind],
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in records.iter().filter(|r| kinds.contains(&r.outcome)) {
        out.entry(r.object.clone()).or_default().push(r.id.clone());
    }
    out
}

/// Runs the checks after a delete.
pub async fn prove_deleted(
    client: &SalesforceClient,
    request: &DsrRequest,
    records: &[RecordOutcome],
    hard_delete: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DeleteProof, DsrError> {
    let emails = &request.subject.emails;
    // Live rows with the email, on every object discovery queried (not User: never deleted).
    let (candidates, _) = discover::candidates(client, &request.options.objects).await?;
    let mut live = Vec::new();
    let mut checked = Vec::new();
    for c in candidates
        .iter()
        .filter(|c| c.queryable && c.object != "User")
    {
        checked.push(c.object.clone());
        for soql in discover::soql_statements(emails, c, &[]) {
            for row in client.query_all(&soql).await? {
                if discover::matched_fields(&row, &c.email_fields, emails).is_empty() {
                    continue;
                }
                if let Some(id) = super::record_id(&row) {
                    live.push(RowRef {
                        object: c.object.clone(),
                        id: id.to_string(),
                    });
                }
            }
        }
    }

    let gone = ids_by_object(
        records,
        &[
            RecordOutcomeKind::Deleted,
            RecordOutcomeKind::AlreadyDeleted,
            RecordOutcomeKind::CascadeDeleted,
        ],
    );
    // Rows deleted before this request: their delete time is unknown, their last modification
    // is a lower bound for it (so for the purge day too).
    let deleted_before: std::collections::HashSet<&str> = records
        .iter()
        .filter(|r| r.outcome == RecordOutcomeKind::AlreadyDeleted)
        .map(|r| r.id.as_str())
        .collect();
    let mut still_live = Vec::new();
    let mut recycle_bin = Vec::new();
    let purge_day = (now + chrono::Duration::days(RECYCLE_BIN_DAYS)).date_naive();
    for (object, ids) in &gone {
        // queryAll returns live and deleted rows alike: one call answers both questions.
        let head = format!("SELECT Id, IsDeleted, SystemModstamp FROM {object} WHERE Id IN");
        for soql in in_queries(&head, ids) {
            let mut pager = client.query(&soql, true).await?;
            while let Some(page) = pager.next_page().await? {
                for row in page {
                    let Some(id) = super::record_id(&row) else {
                        continue;
                    };
                    let deleted = row
                        .get("IsDeleted")
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false);
                    if !deleted {
                        still_live.push(RowRef {
                            object: object.clone(),
                            id: id.to_string(),
                        });
                        continue;
                    }
                    // This request deleted it just now: `now` is its delete time, whatever
                    // SystemModstamp says (orgs differ in whether a delete touches it).
                    let purged_after = if deleted_before.contains(id) {
                        row.get("SystemModstamp")
                            .and_then(|v| v.as_str())
                            .and_then(parse_sf_datetime)
                            .map(|t| (t + chrono::Duration::days(RECYCLE_BIN_DAYS)).date_naive())
                            .unwrap_or(purge_day)
                    } else {
                        purge_day
                    };
                    recycle_bin.push(RecycledRow {
                        object: object.clone(),
                        id: id.to_string(),
                        purged_after: purged_after.to_string(),
                    });
                }
            }
        }
    }
    let ok = live.is_empty() && still_live.is_empty() && (!hard_delete || recycle_bin.is_empty());
    Ok(DeleteProof {
        ok,
        live_rows_with_subject_email: live,
        reported_deleted_but_live: still_live,
        recycle_bin,
        hard_delete,
        checked_objects: checked,
    })
}

/// Salesforce datetimes: `2026-12-03T16:25:36.000+0000` (or RFC 3339).
pub fn parse_sf_datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digests_ignore_case_and_blanks_and_skip_empty_values() {
        assert_eq!(
            digest(&json!(" Jane@Example.com ")),
            digest(&json!("jane@example.com"))
        );
        assert_ne!(digest(&json!("jane")), digest(&json!("jane2")));
        assert_eq!(digest(&json!(null)), None);
        assert_eq!(digest(&json!("  ")), None);
        assert!(digest(&json!(42)).unwrap().starts_with("hmac:"));
    }

    #[test]
    fn parses_salesforce_datetimes() {
        let t = parse_sf_datetime("2026-12-03T16:25:36.000+0000").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-03T16:25:36+00:00");
        assert!(parse_sf_datetime("2026-12-03T16:25:36Z").is_some());
    }
}
