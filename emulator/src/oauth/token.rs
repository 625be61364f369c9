//! `POST /services/oauth2/token`: the refresh token, JWT bearer, client credentials,
//! authorization code (PKCE) and username-password grants.
//!
//! Success bodies carry `access_token, instance_url, id, token_type, issued_at, signature,
//! scope`, plus `refresh_token` only from the authorization code grant and from a rotating
//! refresh; never `expires_in`. Client authentication is read from the form or from HTTP Basic.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::directory::{ConnectedApp, DirectoryUser};
use super::errors::{self, OAuthError};
use super::sessions::{RefreshGrant, Session};
use super::{Inner, base_url, is_tls};
use crate::listener::ConnInfo;
use crate::server::AppState;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub(super) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Client id and secret from the form, or from `Authorization: Basic`.
pub(super) fn client_credentials(
    form: &HashMap<String, String>,
    headers: &HeaderMap,
) -> (Option<String>, Option<String>) {
    if let Some(id) = form.get("client_id") {
        return (Some(id.clone()), form.get("client_secret").cloned());
    }
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    match basic.as_deref().and_then(|s| s.split_once(':')) {
        Some((id, secret)) => (Some(id.to_string()), Some(secret.to_string())),
        None => (None, None),
    }
}

pub async fn token(
    State(state): State<Arc<AppState>>,
    conn: Option<Extension<ConnInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let base = base_url(&headers, is_tls(conn.as_deref()));
    let now = super::now(&state);
    let login_host = if state.config.sandbox {
        SANDBOX_LOGIN
    } else {
        PRODUCTION_LOGIN
    };
    let mut inner = state.oauth.lock();
    match grant(&mut inner, &form, &headers, &base, login_host, now) {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The login hosts a JWT bearer assertion may name as audience, by kind of org.
const PRODUCTION_LOGIN: &str = "https://login.salesforce.com";
const SANDBOX_LOGIN: &str = "https://test.salesforce.com";

fn grant(
    inner: &mut Inner,
    form: &HashMap<String, String>,
    headers: &HeaderMap,
    base: &str,
    login_host: &str,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, OAuthError> {
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    let (client_id, secret) = client_credentials(form, headers);
    match grant_type {
        "refresh_token" => {
            let app = app(inner, client_id.as_deref())?.clone();
            check_secret_if_given(&app, secret.as_deref())?;
            let rt = form.get("refresh_token").ok_or(errors::EXPIRED_TOKEN)?;
            let grant = inner
                .sessions
                .refresh_grant(rt)
                .filter(|g| g.client_id == app.client_id)
                .cloned()
                .ok_or(errors::EXPIRED_TOKEN)?;
            let user = active_user(inner, &grant.username)?;
            let (parent, returned) = if app.rotate_refresh_tokens {
                // Rotation: the old token dies now; sessions minted from it live on.
                inner.sessions.remove_refresh(rt);
                let fresh = inner.sessions.new_refresh(grant.clone());
                (fresh.clone(), Some(fresh))
            } else {
                (rt.clone(), None)
            };
            Ok(issue(
                inner,
                &app,
                &user,
                &grant.scope,
                base,
                now,
                Some(parent),
                returned,
            ))
        }
        "password" => {
            let app = app(inner, client_id.as_deref())?.clone();
            require_secret(&app, secret.as_deref())?;
            let username = form.get("username").ok_or(errors::AUTH_FAILURE)?;
            let password = form.get("password").ok_or(errors::AUTH_FAILURE)?;
            let user = inner
                .directory
                .user(username)
                .filter(|u| &u.password == password)
                .cloned()
                .ok_or(errors::AUTH_FAILURE)?;
            if !user.active {
                return Err(errors::INACTIVE_USER);
            }
            Ok(issue(inner, &app, &user, &app.scope, base, now, None, None))
        }
        "client_credentials" => {
            let app = app(inner, client_id.as_deref())?.clone();
            require_secret(&app, secret.as_deref())?;
            let run_as = app
                .client_credentials_user
                .clone()
                .ok_or(errors::NO_CLIENT_CREDENTIALS_USER)?;
            let user = active_user(inner, &run_as)?;
            let scope = app.scope.replace("refresh_token", "");
            let scope = scope.split_whitespace().collect::<Vec<_>>().join(" ");
            Ok(issue(inner, &app, &user, &scope, base, now, None, None))
        }
        "authorization_code" => {
            let app = app(inner, client_id.as_deref())?.clone();
            check_secret_if_given(&app, secret.as_deref())?;
            let code = form.get("code").ok_or(errors::INVALID_CODE)?;
            let grant = inner
                .sessions
                .take_code(code)
                .filter(|g| g.client_id == app.client_id)
                .ok_or(errors::INVALID_CODE)?;
            let lifetime = chrono::Duration::from_std(super::sessions::CODE_LIFETIME)
                .unwrap_or(chrono::Duration::zero());
            if now - grant.created_at > lifetime {
                return Err(errors::EXPIRED_CODE);
            }
            if form.get("redirect_uri") != Some(&grant.redirect_uri) {
                return Err(errors::REDIRECT_MISMATCH);
            }
            if let Some(challenge) = &grant.code_challenge {
                let verifier = form.get("code_verifier").ok_or(errors::INVALID_VERIFIER)?;
                if &pkce_s256(verifier) != challenge {
                    return Err(errors::INVALID_VERIFIER);
                }
            } else if secret.is_none() {
                // Without PKCE the web-server flow needs the consumer secret.
                return Err(errors::INVALID_CLIENT);
            }
            let user = active_user(inner, &grant.username)?;
            let refresh = grant
                .scope
                .split_whitespace()
                .any(|s| s == "refresh_token" || s == "offline_access")
                .then(|| {
                    inner.sessions.new_refresh(RefreshGrant {
                        username: user.username.clone(),
                        client_id: app.client_id.clone(),
                        scope: grant.scope.clone(),
                    })
                });
            Ok(issue(
                inner,
                &app,
                &user,
                &grant.scope,
                base,
                now,
                refresh.clone(),
                refresh,
            ))
        }
        JWT_BEARER => {
            let assertion = form.get("assertion").ok_or(errors::INVALID_ASSERTION)?;
            // A sandbox refuses the production login host and the other way round.
            let audiences = [base.to_string(), login_host.to_string()];
            let (app, user) = super::jwt::verify(assertion, &inner.directory, &audiences, now)
                .map(|(a, u)| (a.clone(), u.clone()))?;
            Ok(issue(inner, &app, &user, &app.scope, base, now, None, None))
        }
        _ => Err(errors::UNSUPPORTED_GRANT),
    }
}

fn app<'i>(inner: &'i Inner, client_id: Option<&str>) -> Result<&'i ConnectedApp, OAuthError> {
    client_id
        .and_then(|id| inner.directory.apps.get(id))
        .ok_or(errors::INVALID_CLIENT_ID)
}

fn require_secret(app: &ConnectedApp, secret: Option<&str>) -> Result<(), OAuthError> {
    match secret {
        Some(s) if s == app.client_secret => Ok(()),
        _ => Err(errors::INVALID_CLIENT),
    }
}

fn check_secret_if_given(app: &ConnectedApp, secret: Option<&str>) -> Result<(), OAuthError> {
    match secret {
        Some(s) if s != app.client_secret => Err(errors::INVALID_CLIENT),
        _ => Ok(()),
    }
}

fn active_user(inner: &Inner, username: &str) -> Result<DirectoryUser, OAuthError> {
    let user = inner
        .directory
        .user(username)
        .cloned()
        .ok_or(errors::EXPIRED_TOKEN)?;
    if !user.active {
        return Err(errors::INACTIVE_USER);
    }
    Ok(user)
}

/// BASE64URL(SHA256(verifier)), no padding (RFC 7636 S256).
pub(super) fn pkce_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Base64 HMAC-SHA256 of `id + issued_at`, keyed with the consumer secret.
pub fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is unreachable in practice.
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[allow(clippy::too_many_arguments)]
fn issue(
    inner: &mut Inner,
    app: &ConnectedApp,
    user: &DirectoryUser,
    scope: &str,
    base: &str,
    now: DateTime<Utc>,
    parent_refresh: Option<String>,
    returned_refresh: Option<String>,
) -> serde_json::Value {
    let session = Session {
        org_id: inner.org_id.clone(),
        user_id: user.id.clone(),
        username: user.username.clone(),
        client_id: app.client_id.clone(),
        scope: scope.to_string(),
        issued_at: now,
    };
    let access_token = inner.sessions.create_session(session, parent_refresh, now);
    let id = format!("{base}/id/{}/{}", inner.org_id, user.id);
    let issued_at = now.timestamp_millis().to_string();
    let mut body = serde_json::json!({
        "access_token": access_token,
        "signature": signature(&app.client_secret, &id, &issued_at),
        "scope": scope,
        "instance_url": base,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let Some(rt) = returned_refresh {
        body["refresh_token"] = serde_json::Value::String(rt);
    }
    body
}
