//! Building result messages: `failed` and `dead_lettered` results for any request (or for a
//! body that failed validation but whose id could be read), with fresh `message_id`s.

use super::outcome::{Destination, OutMessage};
use crate::message::{
    ConfidenceLevel, DsrAction, DsrResult, ErrorInfo, ResultStatus, ScanResult, VERSION,
};

/// What a result needs to know about the request it answers.
#[derive(Debug, Clone)]
pub enum Answering {
    Dsr {
        request_id: String,
        connection_id: String,
        action: Option<DsrAction>,
        dry_run: bool,
    },
    Scan {
        scan_id: String,
        connection_id: String,
        confidence: ConfidenceLevel,
    },
    /// Internal messages (scan parts) get no result of their own.
    Nothing,
}

impl Answering {
    /// From a body that failed validation: the id `Request::salvage_id` could read.
    pub fn salvage(body: &[u8]) -> Answering {
        let Some((id, conn)) = crate::message::Request::salvage_id(body) else {
            return Answering::Nothing;
        };
        let kind = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
            .unwrap_or_default();
        let connection_id = conn.unwrap_or_default();
        match kind.as_str() {
            "scan.part" => Answering::Nothing,
            "scan.request" => Answering::Scan {
                scan_id: id,
                connection_id,
                confidence: ConfidenceLevel::default(),
            },
            _ => Answering::Dsr {
                request_id: id,
                connection_id,
                action: None,
                dry_run: false,
            },
        }
    }

    /// A `failed` (terminal) or `dead_lettered` (non-terminal) result with this error.
    pub fn error_result(
        &self,
        status: ResultStatus,
        code: &str,
        message: &str,
        api_calls: u64,
        started_at: &str,
    ) -> Vec<OutMessage> {
        let now = chrono::Utc::now().to_rfc3339();
        let message_id = uuid::Uuid::new_v4().to_string();
        let error = Some(ErrorInfo {
            code: code.to_string(),
            message: message.to_string(),
        });
        let built = match self {
            Answering::Nothing => return Vec::new(),
            Answering::Dsr {
                request_id,
                connection_id,
                action,
                dry_run,
            } => OutMessage::new(
                Destination::Reply,
                &message_id,
                request_id,
                "dsr.result",
                true,
                &DsrResult {
                    kind: "dsr.result".into(),
                    version: VERSION,
                    message_id: message_id.clone(),
                    correlation_id: request_id.clone(),
                    request_id: request_id.clone(),
                    connection_id: connection_id.clone(),
                    action: *action,
                    status,
                    dry_run: *dry_run,
                    records: Vec::new(),
                    export: None,
                    verification: None,
                    plan: None,
                    error,
                    api_calls,
                    started_at: started_at.to_string(),
                    finished_at: now,
                },
            ),
            Answering::Scan {
                scan_id,
                connection_id,
                confidence,
            } => OutMessage::new(
                Destination::Reply,
                &message_id,
                scan_id,
                "scan.result",
                true,
                &ScanResult {
                    kind: "scan.result".into(),
                    version: VERSION,
                    message_id: message_id.clone(),
                    correlation_id: scan_id.clone(),
                    scan_id: scan_id.clone(),
                    connection_id: connection_id.clone(),
                    status,
                    confidence: *confidence,
                    objects: Vec::new(),
                    error,
                    api_calls,
                    records_scanned: 0,
                    started_at: started_at.to_string(),
                    finished_at: now,
                },
            ),
        };
        // Serialising these plain structs cannot fail; an empty list is the safe fallback.
        built.map(|m| vec![m]).unwrap_or_default()
    }
}
