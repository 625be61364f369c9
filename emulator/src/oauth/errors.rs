//! OAuth error responses, shaped as Salesforce's token endpoint sends them:
//! HTTP 400 with `{"error": "...", "error_description": "..."}`.
//!
//! The descriptions are Salesforce's exact texts (lower case, no trailing period), because
//! clients and our own worker match on them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One OAuth error: a status, an `error` code and an `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: &'static str,
}

const fn bad(error: &'static str, description: &'static str) -> OAuthError {
    OAuthError {
        status: StatusCode::BAD_REQUEST,
        error,
        description,
    }
}

pub const UNSUPPORTED_GRANT: OAuthError = bad("unsupported_grant_type", "grant type not supported");
pub const INVALID_CLIENT_ID: OAuthError = bad("invalid_client_id", "client identifier invalid");
pub const INVALID_CLIENT: OAuthError = bad("invalid_client", "invalid client credentials");
pub const EXPIRED_TOKEN: OAuthError = bad("invalid_grant", "expired access/refresh token");
pub const AUTH_FAILURE: OAuthError = bad("invalid_grant", "authentication failure");
pub const INACTIVE_USER: OAuthError = bad("invalid_grant", "inactive user");
pub const NOT_APPROVED: OAuthError = bad("invalid_grant", "user hasn't approved this consumer");
pub const AUDIENCE_INVALID: OAuthError = bad("invalid_grant", "audience is invalid");
pub const INVALID_ASSERTION: OAuthError = bad("invalid_grant", "invalid assertion");
/// Salesforce answers an expired JWT assertion (and an expired code) with this text.
pub const EXPIRED_CODE: OAuthError = bad("invalid_grant", "expired authorization code");
pub const INVALID_CODE: OAuthError = bad("invalid_grant", "invalid authorization code");
pub const INVALID_VERIFIER: OAuthError = bad("invalid_grant", "invalid code verifier");
pub const REDIRECT_MISMATCH: OAuthError = bad(
    "redirect_uri_mismatch",
    "redirect_uri must match configuration",
);
pub const NO_CLIENT_CREDENTIALS_USER: OAuthError =
    bad("invalid_grant", "no client credentials user enabled");
pub const INVALID_TOKEN: OAuthError = bad("invalid_token", "invalid token");
pub const MISSING_CODE_CHALLENGE_METHOD: OAuthError =
    bad("invalid_request", "invalid code challenge method");

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error, "error_description": self.description});
        let mut resp = (self.status, Json(body)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
