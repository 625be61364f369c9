//! Data subject requests: find one person's records in an org and copy, delete or anonymize
//! them, with proof. Sits between `jobs` (which calls [`execute`]) and `salesforce`/`store`.
//!
//! Every decision is a pure function over typed inputs (describes, records, policy), unit-tested
//! with hand-written describes: [`discover`] (which hits are exact matches), [`policy`] (which
//! associated records belong to the subject), [`delete`] (the order Salesforce accepts),
//! [`anonymize`] and [`values`] (which fields get which placeholder), [`verify`] (digests).
//! One thin layer per action ([`copy::run`], [`delete::run`], [`anonymize::run`]) feeds those
//! functions through the [`SalesforceClient`]. No URLs, no lapin, no email in logs (only
//! [`SubjectEmail::hashed`](crate::message::SubjectEmail::hashed)).
//!
//! Redelivery: with [`DsrContext::checkpoints`] set, the plan and each record's outcome are saved
//! in Redis as they happen, so an interrupted request resumes and its one terminal report covers
//! every record.

pub mod anonymize;
pub mod associated;
pub mod copy;
pub mod delete;
pub mod discover;
pub mod policy;
pub mod values;
pub mod verify;

use crate::config::Connection;
use crate::message::{
    DsrAction, DsrRequest, ExportedRecord, RecordOutcome, RecordOutcomeKind, ResultStatus,
};
use crate::salesforce::{ErrorKind, SalesforceClient, SfError};
use crate::store::StoreError;
use crate::store::checkpoint::Checkpoints;
use tracing::Instrument;

/// sObject Collections take at most 200 records per write.
pub const COLLECTION_CHUNK: usize = 200;

/// Everything a DSR needs besides the client and the request.
#[derive(Clone)]
pub struct DsrContext {
    /// The connection's settings: `child_policy`, `anonymize_fields`, `delete_field_history`.
    pub connection: Connection,
    /// Where outcomes are saved as they happen; `None` disables resumption.
    pub checkpoints: Option<Checkpoints>,
    /// `Object.Field` names the org's latest classification scan marks personal.
    pub classified_fields: Vec<String>,
    /// The time the request is handled (recycle-bin expiry is computed from it).
    pub now: chrono::DateTime<chrono::Utc>,
}

impl DsrContext {
    pub fn new(connection: Connection) -> Self {
        Self {
            connection,
            checkpoints: None,
            classified_fields: Vec::new(),
            now: chrono::Utc::now(),
        }
    }
}

/// What a DSR did; `jobs` turns it into the wire `DsrResult`.
#[derive(Debug, Clone, PartialEq)]
pub struct DsrReport {
    /// `Completed` or `Partial` (a whole-request failure is a [`DsrError`] instead).
    pub status: ResultStatus,
    pub records: Vec<RecordOutcome>,
    /// Copy only: the exported records.
    pub exported: Vec<ExportedRecord>,
    /// Delete/anonymize: the proof.
    pub verification: Option<serde_json::Value>,
    /// Dry run: the full plan.
    pub plan: Option<serde_json::Value>,
    /// Salesforce API calls this request used, across resumed attempts.
    pub api_calls: u64,
}

/// How the caller should treat a whole-request failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsrErrorKind {
    /// Retry later (Salesforce or Redis briefly unavailable, token refresh needed).
    Transient,
    /// An operator must act (credential revoked, daily API limit spent).
    Operator,
    /// Will fail again: a terminal `failed` result.
    Permanent,
    /// The request id belongs to another request: refuse it without answering under that id
    /// (the platform holds the other request's result there).
    Rejected,
}

/// A DSR that could not run at all (per-record failures are outcomes, not errors).
#[derive(Debug, thiserror::Error)]
pub enum DsrError {
    /// Each [`SfError`] already names where it came from (Salesforce, OAuth, transport, or our
    /// own reading of the org's describe), so no prefix that would call all of them Salesforce.
    #[error(transparent)]
    Salesforce(#[from] SfError),
    #[error("checkpoint store: {0}")]
    Store(#[from] StoreError),
    /// The connection's `child_policy` is unusable (the worker refuses such a file at start;
    /// this guards a connection built another way).
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
}

impl DsrError {
    pub fn kind(&self) -> DsrErrorKind {
        match self {
            DsrError::Salesforce(e) => match e.kind() {
                ErrorKind::Transient | ErrorKind::Auth => DsrErrorKind::Transient,
                ErrorKind::CredentialRevoked | ErrorKind::DailyLimit => DsrErrorKind::Operator,
                ErrorKind::Permanent => DsrErrorKind::Permanent,
            },
            DsrError::Store(StoreError::RequestIdReused { .. }) => DsrErrorKind::Rejected,
            DsrError::Store(_) => DsrErrorKind::Transient,
            DsrError::Policy(_) => DsrErrorKind::Permanent,
        }
    }

    /// Stable code for results and dead-letter headers.
    pub fn code(&self) -> String {
        match self {
            DsrError::Salesforce(e) => e.code(),
            DsrError::Store(StoreError::RequestIdReused { .. }) => "REQUEST_ID_REUSED".into(),
            DsrError::Store(_) => "STORE_UNAVAILABLE".into(),
            DsrError::Policy(_) => "CONNECTION_MISCONFIGURED".into(),
        }
    }
}

/// Runs one DSR. Writes nothing on a dry run. With checkpoints, a redelivered request resumes.
pub async fn execute(
    client: &SalesforceClient,
    request: &DsrRequest,
    ctx: &DsrContext,
) -> Result<DsrReport, DsrError> {
    let emails: Vec<String> = request.subject.emails.iter().map(|e| e.hashed()).collect();
    let span = tracing::info_span!(
        "dsr",
        request_id = %request.request_id,
        connection_id = %request.connection_id,
        action = request.action.as_str(),
        subjects = ?emails,
    );
    let calls_before = client.api_calls();
    let mut report = async {
        match request.action {
            DsrAction::Copy => copy::run(client, request, ctx).await,
            DsrAction::Delete => delete::run(client, request, ctx).await,
            DsrAction::Anonymize => anonymize::run(client, request, ctx).await,
        }
    }
    .instrument(span.clone())
    .await?;
    let _enter = span.enter();
    let used = client.api_calls().saturating_sub(calls_before);
    report.api_calls = match &ctx.checkpoints {
        Some(c) if request.action != DsrAction::Copy => {
            c.add_api_calls(&request.request_id, used).await?
        }
        _ => used,
    };
    tracing::info!(
        records = report.records.len(),
        status = ?report.status,
        api_calls = report.api_calls,
        "dsr finished"
    );
    Ok(report)
}

/// A User record matched: sfprivacy never deletes or changes one (it is someone's login), so
/// the person's data stays there until an admin scrambles the user, and the request says so by
/// being `partial`.
pub const USER_KEPT: &str = "USER_NEEDS_OBFUSCATION";
pub const USER_KEPT_REASON: &str = "User records are never deleted or changed by sfprivacy (they are the org's logins): \
     an admin removes the person's data with Salesforce's user obfuscation \
     (System.UserManagement.obfuscateUser)";

/// `Partial` when any record failed or kept something back, or the proof found data left.
pub fn overall_status(records: &[RecordOutcome], proof_ok: bool) -> ResultStatus {
    let any_problem = records
        .iter()
        .any(|r| r.outcome == RecordOutcomeKind::Failed || r.error_code.is_some());
    if any_problem || !proof_ok {
        ResultStatus::Partial
    } else {
        ResultStatus::Completed
    }
}

/// A record outcome without fields or error.
pub(crate) fn outcome(object: &str, id: &str, kind: RecordOutcomeKind) -> RecordOutcome {
    RecordOutcome {
        object: object.to_string(),
        id: id.to_string(),
        outcome: kind,
        fields: Vec::new(),
        error_code: None,
        reason: None,
    }
}

/// Saves outcomes when checkpoints are on.
pub(crate) async fn checkpoint(
    ctx: &DsrContext,
    request_id: &str,
    outcomes: &[RecordOutcome],
) -> Result<(), DsrError> {
    if let Some(c) = &ctx.checkpoints {
        c.record_outcomes(request_id, outcomes).await?;
    }
    Ok(())
}

/// Salesforce's `Id` of a record.
pub(crate) fn record_id(r: &crate::salesforce::Record) -> Option<&str> {
    r.get("Id").and_then(|v| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_failure_or_left_out_field_makes_it_partial() {
        let ok = outcome("Contact", "003A", RecordOutcomeKind::Deleted);
        assert_eq!(
            overall_status(std::slice::from_ref(&ok), true),
            ResultStatus::Completed
        );
        assert_eq!(
            overall_status(std::slice::from_ref(&ok), false),
            ResultStatus::Partial
        );
        let mut kept = outcome("Contact", "003B", RecordOutcomeKind::Anonymized);
        kept.error_code = Some("FIELD_NOT_UPDATEABLE".into());
        assert_eq!(
            overall_status(&[ok.clone(), kept], true),
            ResultStatus::Partial
        );
        let failed = outcome("Contact", "003C", RecordOutcomeKind::Failed);
        assert_eq!(overall_status(&[ok, failed], true), ResultStatus::Partial);
    }

    #[test]
    fn error_kinds_follow_salesforce_classification() {
        let e = DsrError::Salesforce(SfError::Api {
            status: 503,
            code: "SERVER_UNAVAILABLE".into(),
            message: "x".into(),
            retry_after: None,
        });
        assert_eq!(e.kind(), DsrErrorKind::Transient);
        let e = DsrError::Salesforce(SfError::Api {
            status: 403,
            code: "REQUEST_LIMIT_EXCEEDED".into(),
            message: "TotalRequests Limit exceeded.".into(),
            retry_after: None,
        });
        assert_eq!(e.kind(), DsrErrorKind::Operator);
        let e = DsrError::Salesforce(SfError::Api {
            status: 404,
            code: "NOT_FOUND".into(),
            message: "x".into(),
            retry_after: None,
        });
        assert_eq!(e.kind(), DsrErrorKind::Permanent);
        assert_eq!(e.code(), "NOT_FOUND");
    }
}
