//! The session guard of data routes: `Authorization: Bearer <token>` must name a live session.
//!
//! A valid token's idle timer is refreshed and its [`Session`] goes into request extensions
//! (handlers and counters read the user and the connection from it). Anything else gets
//! Salesforce's 401: `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Session;
use crate::server::AppState;

/// The 401 Salesforce sends for a missing, expired or revoked session.
pub fn invalid_session() -> Response {
    let body = serde_json::json!([{
        "message": "Session expired or invalid",
        "errorCode": "INVALID_SESSION_ID"
    }]);
    let mut resp = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
    resp
}

/// `axum::middleware::from_fn_with_state(state, require_session)` on data routes.
pub async fn require_session(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let now = super::now(&state);
    let session: Option<Session> =
        super::bearer(req.headers()).and_then(|t| state.oauth.touch(t, now));
    match session {
        Some(s) => {
            req.extensions_mut().insert(s);
            next.run(req).await
        }
        None => invalid_session(),
    }
}
