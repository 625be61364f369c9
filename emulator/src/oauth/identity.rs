//! Token lifecycle and identity endpoints: revoke, introspect (RFC 7662), userinfo (OpenID
//! Connect) and the identity URL (`/id/{orgId}/{userId}`) that the token response's `id` names.
//!
//! The identity service answers a bad token with 403 `Bad_OAuth_Token` (plain text), unlike the
//! data API's 401 JSON; clients treat both as "log in again".

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::directory::DirectoryUser;
use super::errors;
use super::token::{client_credentials, parse_form};
use super::{Session, base_url, bearer, is_tls};
use crate::listener::ConnInfo;
use crate::server::AppState;

/// API version used in the identity URL's `urls` (clients substitute `{version}` themselves).
const URL_VERSION: &str = "{version}";

fn revoke_token(state: &AppState, token: Option<&String>) -> Response {
    match token {
        Some(t) if state.oauth.revoke(t) => StatusCode::OK.into_response(),
        _ => errors::INVALID_TOKEN.into_response(),
    }
}

pub async fn revoke_get(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    revoke_token(&state, q.get("token"))
}

pub async fn revoke_post(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let form = parse_form(&body);
    revoke_token(&state, form.get("token"))
}

pub async fn introspect(
    State(state): State<Arc<AppState>>,
    conn: Option<Extension<ConnInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let (client_id, secret) = client_credentials(&form, &headers);
    let base = base_url(&headers, is_tls(conn.as_deref()));
    let org = &state.config.org_id;
    let now = super::now(&state);
    let inner = state.oauth.lock();
    let authenticated = client_id
        .as_deref()
        .and_then(|id| inner.directory.apps.get(id))
        .is_some_and(|app| secret.as_deref() == Some(app.client_secret.as_str()));
    if !authenticated {
        let mut e = errors::INVALID_CLIENT;
        e.status = StatusCode::UNAUTHORIZED;
        return e.into_response();
    }
    let Some(token) = form.get("token") else {
        return Json(serde_json::json!({"active": false})).into_response();
    };
    if let Some((s, expires)) = inner.sessions.peek(token, now) {
        return Json(serde_json::json!({
            "active": true,
            "scope": s.scope,
            "client_id": s.client_id,
            "username": s.username,
            "sub": format!("{base}/id/{}/{}", s.org_id, s.user_id),
            "token_type": "access_token",
            "exp": expires.timestamp(),
            "iat": s.issued_at.timestamp(),
            "nbf": s.issued_at.timestamp(),
        }))
        .into_response();
    }
    if let Some(g) = inner.sessions.refresh_grant(token) {
        let user_id = inner
            .directory
            .user(&g.username)
            .map(|u| u.id.clone())
            .unwrap_or_default();
        return Json(serde_json::json!({
            "active": true,
            "scope": g.scope,
            "client_id": g.client_id,
            "username": g.username,
            "sub": format!("{base}/id/{org}/{user_id}"),
            "token_type": "refresh_token",
        }))
        .into_response();
    }
    Json(serde_json::json!({"active": false})).into_response()
}

fn bad_token() -> Response {
    (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response()
}

/// The session behind the request's bearer token, with its user (refreshes the idle timer).
fn authenticated(state: &AppState, headers: &HeaderMap) -> Option<(Session, DirectoryUser)> {
    let now = super::now(state);
    let session = state.oauth.touch(bearer(headers)?, now)?;
    let user = state
        .oauth
        .lock()
        .directory
        .user_by_id(&session.user_id)
        .cloned()?;
    Some((session, user))
}

pub async fn userinfo(
    State(state): State<Arc<AppState>>,
    conn: Option<Extension<ConnInfo>>,
    headers: HeaderMap,
) -> Response {
    let Some((_, user)) = authenticated(&state, &headers) else {
        return bad_token();
    };
    let base = base_url(&headers, is_tls(conn.as_deref()));
    let org = &state.config.org_id;
    Json(serde_json::json!({
        "sub": format!("{base}/id/{org}/{}", user.id),
        "user_id": user.id,
        "organization_id": org,
        "preferred_username": user.username,
        "nickname": user.username.split('@').next().unwrap_or_default(),
        "name": user.display_name(),
        "email": user.email,
        "email_verified": true,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "zoneinfo": "America/Los_Angeles",
        "profile": format!("{base}/{}", user.id),
        "active": user.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28_800_000,
        "urls": urls(&base, &user.id),
    }))
    .into_response()
}

pub async fn identity(
    State(state): State<Arc<AppState>>,
    conn: Option<Extension<ConnInfo>>,
    Path((org_id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some((session, user)) = authenticated(&state, &headers) else {
        return bad_token();
    };
    let org = &state.config.org_id;
    if org_id != *org || user_id != session.user_id {
        return (StatusCode::FORBIDDEN, "Bad_Id").into_response();
    }
    let base = base_url(&headers, is_tls(conn.as_deref()));
    Json(serde_json::json!({
        "id": format!("{base}/id/{org}/{}", user.id),
        "asserted_user": true,
        "user_id": user.id,
        "organization_id": org,
        "username": user.username,
        "nick_name": user.username.split('@').next().unwrap_or_default(),
        "display_name": user.display_name(),
        "email": user.email,
        "email_verified": true,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "timezone": "America/Los_Angeles",
        "active": user.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28_800_000,
        "urls": urls(&base, &user.id),
        "is_app_installed": true,
    }))
    .into_response()
}

fn urls(base: &str, user_id: &str) -> serde_json::Value {
    let v = URL_VERSION;
    serde_json::json!({
        "rest": format!("{base}/services/data/v{v}/"),
        "sobjects": format!("{base}/services/data/v{v}/sobjects/"),
        "search": format!("{base}/services/data/v{v}/search/"),
        "query": format!("{base}/services/data/v{v}/query/"),
        "limits": format!("{base}/services/data/v{v}/limits/"),
        "recent": format!("{base}/services/data/v{v}/recent/"),
        "profile": format!("{base}/{user_id}"),
        "custom_domain": base,
    })
}
