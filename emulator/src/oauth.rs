//! OAuth 2.0 as Salesforce serves it: the login host (production, sandbox and My Domain are the
//! same host here; clients are configured with its base URL), the token grants, authorize with
//! PKCE, revoke, introspect, userinfo, the identity URL, and the session guard of data routes.
//!
//! Layering: `directory` (apps, users) and `sessions` (issued credentials) are plain data;
//! `token`, `authorize`, `identity` and `admin` are the HTTP handlers over them; `guard` is the
//! middleware data routes sit behind. One std `Mutex` guards the whole store: every critical
//! section is a few map operations and never awaits.
//!
//! Salesforce's token responses have no `expires_in`: a session dies after an idle period
//! (configurable), on revocation, or when an admin expires every session.

mod admin;
mod authorize;
pub mod directory;
mod errors;
mod guard;
mod identity;
mod jwt;
pub mod sessions;
mod token;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::server::AppState;

pub use directory::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DENIER_USERNAME, INACTIVE_USERNAME,
    INTEGRATION_PASSWORD, INTEGRATION_REFRESH_TOKEN, INTEGRATION_USER_ID, INTEGRATION_USERNAME,
    ORG_ID,
};
pub use errors::OAuthError;
pub use guard::require_session;
pub use sessions::Session;

/// The identity side of one emulated org.
pub struct OAuthState {
    inner: Mutex<Inner>,
}

struct Inner {
    directory: directory::Directory,
    sessions: sessions::SessionStore,
    /// Who "logs in" on the authorize page when the request names no `login_hint`.
    authorize_user: String,
    /// The org's id, for what the token grants issue.
    org_id: String,
}

impl Default for OAuthState {
    fn default() -> Self {
        Self::new(ORG_ID)
    }
}

impl OAuthState {
    /// The identity side of the org `org_id`.
    pub fn new(org_id: &str) -> Self {
        let mut sessions = sessions::SessionStore::default();
        sessions.insert_refresh(
            INTEGRATION_REFRESH_TOKEN.into(),
            sessions::RefreshGrant {
                username: INTEGRATION_USERNAME.into(),
                client_id: DEFAULT_CLIENT_ID.into(),
                scope: "api refresh_token".into(),
            },
        );
        Self {
            inner: Mutex::new(Inner {
                directory: directory::Directory::default(),
                sessions,
                authorize_user: INTEGRATION_USERNAME.into(),
                org_id: org_id.to_string(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the idle timeout of sessions.
    pub fn set_session_timeout(&self, timeout: std::time::Duration) {
        self.lock().sessions.timeout = timeout;
    }

    /// Ends every session now; returns how many there were.
    pub fn expire_all_sessions(&self) -> usize {
        self.lock().sessions.expire_all()
    }

    /// Every live access token (tests check that none leaks into a client's logs).
    pub fn access_tokens(&self) -> Vec<String> {
        self.lock().sessions.access_tokens()
    }

    /// Revokes an access or refresh token; false if it was unknown.
    pub fn revoke(&self, token: &str) -> bool {
        self.lock().sessions.revoke(token)
    }

    /// Validates a bearer token at `now` and refreshes its idle timer.
    pub fn touch(&self, token: &str, now: DateTime<Utc>) -> Option<Session> {
        self.lock().sessions.touch(token, now).ok()
    }
}

/// The emulator's notion of now for session timeouts: the shared, adjustable org clock.
pub fn now(state: &AppState) -> DateTime<Utc> {
    state.clock.now()
}

/// Whether the request came over TLS (set per connection by [`crate::listener`]).
pub(crate) fn is_tls(conn: Option<&crate::listener::ConnInfo>) -> bool {
    conn.is_some_and(|c| c.tls)
}

/// `scheme://host` of the request, used for `instance_url`, identity URLs and JWT audiences.
pub(crate) fn base_url(headers: &HeaderMap, tls: bool) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{}", if tls { "https" } else { "http" }, host)
}

/// Bearer token from `Authorization: Bearer …` (Salesforce also accepts `OAuth …`).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// OAuth and identity routes, plus their admin routes under `/__emulator/oauth`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/services/oauth2/token", post(token::token))
        .route("/services/oauth2/authorize", get(authorize::authorize))
        .route(
            "/services/oauth2/revoke",
            get(identity::revoke_get).post(identity::revoke_post),
        )
        .route("/services/oauth2/introspect", post(identity::introspect))
        .route(
            "/services/oauth2/userinfo",
            get(identity::userinfo).post(identity::userinfo),
        )
        .route("/id/{org_id}/{user_id}", get(identity::identity))
        .merge(admin::routes())
}
