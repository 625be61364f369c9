//! Salesforce's error shapes, in one place.
//!
//! The REST API answers a failed request with an HTTP status and a JSON array
//! `[{"message","errorCode"}]`; an error about one record's write (DML) also carries
//! `"fields"` (`[]` when no field is at fault), as `ENTITY_IS_DELETED` and
//! `REQUIRED_FIELD_MISSING` do on real orgs, while query, search, routing and body errors
//! do not. Per-record results of collections use `{"statusCode","message","fields"}`
//! ([`RecordError`]). Every handler returns [`ApiError`] so the wire shape cannot drift
//! between endpoints.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A request-level failure: status + one `{"message","errorCode"[,"fields"]}` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `Some` only for record (DML) errors; `None` leaves `fields` off the wire.
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            fields: None,
        }
    }

    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.fields = Some(fields);
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

    /// 404 `ENTITY_IS_DELETED` "entity is deleted", `"fields":[]` as real orgs send it.
    pub fn entity_deleted() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        )
        .with_fields(Vec::new())
    }

    /// 404 `NOT_FOUND` for a row URL whose last segment is not a record id: Salesforce
    /// reads `/sobjects/X/{value}` as an external-id path and answers with this text.
    pub fn external_id_not_found(value: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {value}"),
        )
    }

    /// A per-record error raised where the whole request is about one record (single-row
    /// routes): Salesforce answers 400 with the record error as `errorCode`, except
    /// `ENTITY_IS_DELETED`/`NOT_FOUND`, which are 404.
    pub fn from_record(err: RecordError) -> Self {
        let status = match err.status_code.as_str() {
            "ENTITY_IS_DELETED" | "NOT_FOUND" => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            code: err.status_code,
            message: err.message,
            fields: Some(err.fields),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorEntry<'a> {
    message: &'a str,
    error_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a [String]>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = [ErrorEntry {
            message: &self.message,
            error_code: &self.code,
            fields: self.fields.as_deref(),
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

/// The row, column and detail of a [`caret_message`], or `None` for any other message.
pub fn caret_parts(message: &str) -> Option<(usize, usize, &str)> {
    let (_, tail) = message.split_once("\nERROR at Row:")?;
    let (row, tail) = tail.split_once(":Column:")?;
    let (col, detail) = tail.split_once('\n')?;
    Some((row.parse().ok()?, col.parse().ok()?, detail))
}

/// The byte offset of a row and 1-based column in `text` (the inverse of [`row_col`]).
pub fn offset_of(text: &str, row: usize, col: usize) -> usize {
    let mut at = 0;
    for (i, line) in text.split('\n').enumerate() {
        if i + 1 == row {
            return at
                + line
                    .char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(line.len(), |(b, _)| b);
        }
        at += line.len() + 1;
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_parts_and_offset_of_invert_caret_message() {
        let q = "SELECT Id\nFROM Contact WHERE";
        let at = q.len();
        let (row, col) = row_col(q, at);
        let m = caret_message(q, row, col, "unexpected token: '<EOF>'");
        assert_eq!(caret_parts(&m), Some((2, 19, "unexpected token: '<EOF>'")));
        assert_eq!(offset_of(q, row, col), at);
        assert_eq!(offset_of(q, 1, 8), 7);
        assert_eq!(caret_parts("entity is deleted"), None);
    }
}
