//! Salesforce's error shapes, in one place.
//!
//! The REST API answers a failed request with an HTTP status and a JSON array
//! `[{"message","errorCode","fields"}]`; per-record results of collections use
//! `{"statusCode","message","fields"}` ([`RecordError`]). Every handler returns
//! [`ApiError`] so the wire shape cannot drift between endpoints.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A request-level failure: status + one `{"message","errorCode","fields"}` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.fields = fields;
        self
    }

    /// 404 `NOT_FOUND` "The requested resource does not exist".
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 `JSON_PARSER_ERROR` for bodies that are not the JSON expected.
    pub fn json(message: impl Into<String>) -> Self {
        Self::bad_request("JSON_PARSER_ERROR", message)
    }

    /// 404 `ENTITY_IS_DELETED`.
    pub fn entity_deleted() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        )
    }

    /// A per-record error raised where the whole request is about one record (single-row
    /// routes): Salesforce answers 400 with the record error as `errorCode`, except
    /// `ENTITY_IS_DELETED`/`NOT_FOUND`, which are 404.
    pub fn from_record(err: RecordError) -> Self {
        let status = match err.status_code.as_str() {
            "ENTITY_IS_DELETED" | "NOT_FOUND" => StatusCode::NOT_FOUND,
            "INSUFFICIENT_ACCESS_OR_READONLY" | "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY" => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            code: err.status_code,
            message: err.message,
            fields: err.fields,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorEntry<'a> {
    message: &'a str,
    error_code: &'a str,
    fields: &'a [String],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = [ErrorEntry {
            message: &self.message,
            error_code: &self.code,
            fields: &self.fields,
        }];
        (self.status, axum::Json(body)).into_response()
    }
}

/// A per-record error inside collection results: `{"statusCode","message","fields"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordError {
    pub status_code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl RecordError {
    pub fn new(code: &str, message: impl Into<String>, fields: Vec<String>) -> Self {
        Self {
            status_code: code.to_string(),
            message: message.into(),
            fields,
        }
    }
}

/// Salesforce's caret form used by SOQL/SOSL parse errors:
/// `"\n{line}\n{spaces}^\nERROR at Row:{row}:Column:{col}\n{detail}"`, `col` 1-based.
pub fn caret_message(query: &str, row: usize, col: usize, detail: &str) -> String {
    let line = query.lines().nth(row.saturating_sub(1)).unwrap_or(query);
    let pad = " ".repeat(col.saturating_sub(1));
    format!("\n{line}\n{pad}^\nERROR at Row:{row}:Column:{col}\n{detail}")
}

/// Row and 1-based column of a byte offset in `text`.
pub fn row_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let row = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (row, col)
}
