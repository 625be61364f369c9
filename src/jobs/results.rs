//! Building result messages: `failed` and `dead_lettered` results for any request (or for a
//! body that failed validation but whose id could be read). Their `message_id`s are fresh,
//! except a malformed body's, which is derived from the body ([`bad_message_id`]).

use super::outcome::{Destination, OutMessage};
use crate::message::{
    ConfidenceLevel, DsrAction, DsrResult, ErrorInfo, ResultStatus, ScanResult, VERSION,
    is_contract_id,
};
use sha2::{Digest, Sha256};

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
    /// From a body that failed validation: the id `Request::salvage_id` could read (it checks
    /// the id by the contract's rule), and the connection id when it passes the same rule.
    pub fn salvage(body: &[u8]) -> Answering {
        let Some(salvaged) = crate::message::Request::salvage_id(body) else {
            return Answering::Nothing;
        };
        let id = salvaged.id;
        let kind = salvaged.kind.unwrap_or_default();
        // Echo the connection id only when it is one by the contract's rule: anything else is
        // unchecked input (an address, a 2 MB string) that must not reach a result.
        let connection_id = salvaged
            .connection_id
            .filter(|c| is_contract_id(c))
            .unwrap_or_default();
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
                action: salvaged.action,
                dry_run: false,
            },
        }
    }

    /// The id a result would be published under.
    pub fn id(&self) -> Option<&str> {
        match self {
            Answering::Dsr { request_id, .. } => Some(request_id),
            Answering::Scan { scan_id, .. } => Some(scan_id),
            Answering::Nothing => None,
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
        let message_id = uuid::Uuid::new_v4().to_string();
        self.error_result_as(&message_id, status, code, message, api_calls, started_at)
    }

    /// [`Answering::error_result`] under a given `message_id`.
    pub fn error_result_as(
        &self,
        message_id: &str,
        status: ResultStatus,
        code: &str,
        message: &str,
        api_calls: u64,
        started_at: &str,
    ) -> Vec<OutMessage> {
        let now = crate::message::now();
        let message_id = message_id.to_string();
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

/// The `message_id` of the `failed` result a malformed body gets: the same body with the same
/// error, delivered again (a redelivery, an operator's replay of the dead letter), is answered
/// under the same id, so the platform's de-duplication on `message_id` drops the repeat.
pub fn bad_message_id(body: &[u8], code: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"sfprivacy bad message\0")
        .chain_update(code.as_bytes())
        .chain_update([0u8])
        .chain_update(body)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection_of(body: serde_json::Value) -> Option<String> {
        let body = serde_json::to_vec(&body).ok()?;
        match Answering::salvage(&body) {
            Answering::Dsr { connection_id, .. } | Answering::Scan { connection_id, .. } => {
                Some(connection_id)
            }
            Answering::Nothing => None,
        }
    }

    #[test]
    fn a_salvaged_connection_id_is_echoed_only_when_it_is_a_valid_id() {
        let with = |conn: serde_json::Value| {
            connection_of(serde_json::json!({
                "type": "dsr.request", "request_id": "r-1", "connection_id": conn
            }))
        };
        assert_eq!(
            with("prod-eu_1.x:2".into()).as_deref(),
            Some("prod-eu_1.x:2")
        );
        assert_eq!(with("jane.doe@example.com".into()).as_deref(), Some(""));
        assert_eq!(with("x".repeat(129).into()).as_deref(), Some(""));
        assert_eq!(with("x".repeat(128).into()), Some("x".repeat(128)));
        assert_eq!(with("has space".into()).as_deref(), Some(""));
        assert_eq!(with("".into()).as_deref(), Some(""));
        assert_eq!(with(serde_json::json!(7)).as_deref(), Some(""));
        let scan = connection_of(serde_json::json!({
            "type": "scan.request", "scan_id": "s-1", "connection_id": "a@b.co"
        }));
        assert_eq!(scan.as_deref(), Some(""));
    }

    #[test]
    fn a_bad_message_id_is_a_uuid_fixed_by_body_and_code() {
        let body = br#"{"type":"dsr.request","request_id":"r-1"}"#;
        let id = bad_message_id(body, "invalid_field");
        assert_eq!(id, bad_message_id(body, "invalid_field"));
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_ne!(id, bad_message_id(body, "unknown_type"));
        assert_ne!(
            id,
            bad_message_id(
                br#"{"type":"dsr.request","request_id":"r-2"}"#,
                "invalid_field"
            )
        );
    }
}
