//! Admin routes for identity, under `/__emulator/oauth` (a path Salesforce never uses):
//! mint refresh tokens, expire every session, revoke, set the idle timeout, switch refresh-token
//! rotation, pick the user the authorize page logs in as. Documented in `emulator/README.md`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::sessions::RefreshGrant;
use crate::admin::input::{self, AdminError, parse, present};
use crate::server::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/__emulator/oauth/refresh-tokens",
            post(create_refresh_token),
        )
        .route("/__emulator/oauth/expire-sessions", post(expire_sessions))
        .route("/__emulator/oauth/revoke", post(revoke))
        .route("/__emulator/oauth/session-timeout", put(session_timeout))
        .route("/__emulator/oauth/authorize-user", put(authorize_user))
        .route("/__emulator/oauth/apps/{client_id}", patch(update_app))
}

fn not_found(what: &str) -> AdminError {
    AdminError::not_found(what, format!("unknown {what}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRefresh {
    username: String,
    #[serde(default, deserialize_with = "present")]
    client_id: Option<String>,
}

async fn create_refresh_token(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let req: NewRefresh = parse(&body)?;
    let mut inner = state.oauth.lock();
    let client_id = req
        .client_id
        .unwrap_or_else(|| super::DEFAULT_CLIENT_ID.to_string());
    let Some(app) = inner.directory.apps.get(&client_id).cloned() else {
        return Err(not_found("client_id"));
    };
    let Some(user) = inner.directory.user(&req.username).cloned() else {
        return Err(not_found("username"));
    };
    let token = inner.sessions.new_refresh(RefreshGrant {
        username: user.username,
        client_id: app.client_id,
        scope: app.scope,
    });
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"refresh_token": token})),
    )
        .into_response())
}

async fn expire_sessions(State(state): State<Arc<AppState>>) -> Response {
    let n = state.oauth.expire_all_sessions();
    Json(serde_json::json!({"expired": n})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    token: String,
}

async fn revoke(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, AdminError> {
    let req: Revoke = parse(&body)?;
    Ok(Json(serde_json::json!({"revoked": state.oauth.revoke(&req.token)})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Timeout {
    #[serde(deserialize_with = "timeout_secs")]
    seconds: u64,
}

fn timeout_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    input::check_session_timeout(u64::deserialize(d)?).map_err(serde::de::Error::custom)
}

async fn session_timeout(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let req: Timeout = parse(&body)?;
    state
        .oauth
        .set_session_timeout(Duration::from_secs(req.seconds));
    Ok(Json(serde_json::json!({"seconds": req.seconds})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizeUser {
    username: String,
}

async fn authorize_user(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let req: AuthorizeUser = parse(&body)?;
    let mut inner = state.oauth.lock();
    if inner.directory.user(&req.username).is_none() {
        return Err(not_found("username"));
    }
    inner.authorize_user = req.username.clone();
    Ok(Json(serde_json::json!({"username": req.username})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppUpdate {
    #[serde(default, deserialize_with = "present")]
    rotate_refresh_tokens: Option<bool>,
    /// `""` disables the client credentials flow.
    #[serde(default, deserialize_with = "present")]
    client_credentials_user: Option<String>,
    #[serde(default, deserialize_with = "present")]
    callback_urls: Option<Vec<String>>,
}

async fn update_app(
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let req: AppUpdate = parse(&body)?;
    if let Some(urls) = &req.callback_urls {
        // Salesforce requires at least one callback URL on an app with OAuth enabled.
        if urls.is_empty() {
            return Err(AdminError::invalid(
                "callback_urls",
                "a connected app needs at least one callback URL",
            ));
        }
        for (i, u) in urls.iter().enumerate() {
            input::check_callback_url(u)
                .map_err(|e| AdminError::invalid(format!("callback_urls[{i}]"), e))?;
        }
    }
    let mut inner = state.oauth.lock();
    // A named user must exist; checked before anything changes.
    if let Some(u) = req.client_credentials_user.as_deref()
        && !u.is_empty()
        && inner.directory.user(u).is_none()
    {
        return Err(not_found("client_credentials_user"));
    }
    let Some(app) = inner.directory.apps.get_mut(&client_id) else {
        return Err(not_found("client_id"));
    };
    if let Some(r) = req.rotate_refresh_tokens {
        app.rotate_refresh_tokens = r;
    }
    if let Some(u) = req.client_credentials_user {
        app.client_credentials_user = (!u.is_empty()).then_some(u);
    }
    if let Some(c) = req.callback_urls {
        app.callback_urls = c;
    }
    Ok(Json(serde_json::json!({
        "client_id": app.client_id,
        "rotate_refresh_tokens": app.rotate_refresh_tokens,
        "client_credentials_user": app.client_credentials_user,
        "callback_urls": app.callback_urls,
    }))
    .into_response())
}
