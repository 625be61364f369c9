//! `sfprivacy connect <connection>`: the OAuth authorization-code flow with PKCE (S256),
//! ending with the connection's refresh token written where its configuration says
//! (`refresh_token_file`).
//!
//! Part of the Salesforce adapter, used only by the CLI. Two steps so the CLI can print the
//! URL in between and tests can follow it programmatically: [`start`] binds the loopback
//! redirect listener (port 0 allowed) and builds the authorize URL; [`PendingAuthorization::finish`]
//! waits for the one redirect, checks `state`, exchanges the code with the verifier, and
//! writes the refresh token atomically (mode 0600). Tokens are never printed.

use super::auth;
use super::error::SfError;
use super::session::write_secret_file;
use crate::config::Connection;
use axum::extract::{Query, State};
use axum::response::Html;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// How the loopback redirect is set up.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Loopback port; it must match a callback URL of the connected app (0: any free port).
    pub port: u16,
    /// Host name in the redirect URI (the listener always binds 127.0.0.1).
    pub redirect_host: String,
    /// Path of the redirect URI.
    pub callback_path: String,
    /// Scopes to request; `refresh_token` is needed to get one.
    pub scope: String,
    /// How long to wait for the browser to come back.
    pub timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            port: 1717,
            redirect_host: "localhost".into(),
            callback_path: "/OauthRedirect".into(),
            scope: "api refresh_token".into(),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Why `connect` failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "connection {0} names no refresh_token_file: add one to the connections file so the refresh token has a place to go"
    )]
    NoTokenFile(String),
    #[error("cannot listen on 127.0.0.1:{port} for the redirect: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("no redirect came back within {0:?}")]
    Timeout(Duration),
    #[error("the redirect's state does not match this request (possible forgery); nothing stored")]
    StateMismatch,
    #[error("authorization refused: {error}: {description}")]
    Denied { error: String, description: String },
    #[error("the redirect carried no authorization code")]
    MissingCode,
    #[error("code exchange failed: {0}")]
    Exchange(#[from] SfError),
    #[error(
        "Salesforce returned no refresh token: the connected app must allow the refresh_token scope"
    )]
    NoRefreshToken,
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What `connect` achieved.
#[derive(Debug, Clone)]
pub struct Connected {
    pub instance_url: String,
    pub identity_url: Option<String>,
    pub refresh_token_file: PathBuf,
}

/// An authorization waiting for its redirect.
pub struct PendingAuthorization {
    connection: Connection,
    token_file: PathBuf,
    listener: tokio::net::TcpListener,
    redirect_uri: String,
    authorize_url: String,
    verifier: String,
    state: String,
    timeout: Duration,
}

fn random_urlsafe(bytes: usize) -> String {
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(buf)
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)), unpadded.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Binds the redirect listener and builds the authorize URL.
pub async fn start(
    connection: &Connection,
    options: &ConnectOptions,
) -> Result<PendingAuthorization, ConnectError> {
    let token_file = connection
        .refresh_token_file
        .clone()
        .ok_or_else(|| ConnectError::NoTokenFile(connection.id.clone()))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|source| ConnectError::Bind {
            port: options.port,
            source,
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| ConnectError::Bind {
            port: options.port,
            source,
        })?
        .port();
    let path = format!("/{}", options.callback_path.trim_start_matches('/'));
    let redirect_uri = format!("http://{}:{port}{path}", options.redirect_host);
    // 32 random bytes → a 43-character verifier (RFC 7636 allows 43–128).
    let verifier = random_urlsafe(32);
    let state = random_urlsafe(24);
    let mut url = url::Url::parse(&auth::authorize_url(&connection.environment.login_url()))
        .map_err(|e| SfError::Config(format!("login URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &connection.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &options.scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(PendingAuthorization {
        connection: connection.clone(),
        token_file,
        listener,
        redirect_uri,
        authorize_url: url.to_string(),
        verifier,
        state,
        timeout: options.timeout,
    })
}

type Callback = HashMap<String, String>;

/// What the browser shows: success only for a redirect that carries a code and this flow's
/// state; anything else (a denial, a forged or stale redirect) says it failed. The terminal
/// gets the details either way.
async fn callback(
    State((tx, expected)): State<(mpsc::Sender<Callback>, String)>,
    Query(q): Query<Callback>,
) -> (axum::http::StatusCode, Html<&'static str>) {
    let ok = q.contains_key("code") && q.get("state") == Some(&expected);
    let _ = tx.send(q).await;
    if ok {
        (
            axum::http::StatusCode::OK,
            Html(
                "<!doctype html><title>sfprivacy</title><p>Authorization received. You can close this window and return to the terminal.</p>",
            ),
        )
    } else {
        (
            axum::http::StatusCode::BAD_REQUEST,
            Html(
                "<!doctype html><title>sfprivacy</title><p>Authorization failed: this redirect was denied or does not belong to the running <code>sfprivacy connect</code>. The terminal says why.</p>",
            ),
        )
    }
}

impl PendingAuthorization {
    /// Open this in a browser.
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    /// The redirect URI (register it as a callback URL of the connected app).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the redirect, exchanges the code and stores the refresh token.
    pub async fn finish(self, http: &reqwest::Client) -> Result<Connected, ConnectError> {
        let path = url::Url::parse(&self.redirect_uri)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| "/".into());
        let (tx, mut rx) = mpsc::channel::<Callback>(4);
        let app = axum::Router::new()
            .route(&path, axum::routing::get(callback))
            .with_state((tx, self.state.clone()));
        let stop = tokio_util::sync::CancellationToken::new();
        let server = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let _ = axum::serve(self.listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
            })
        };
        let got = tokio::time::timeout(self.timeout, rx.recv()).await;
        stop.cancel();
        let _ = server.await;
        let params = match got {
            Ok(Some(p)) => p,
            _ => return Err(ConnectError::Timeout(self.timeout)),
        };
        if params.get("state").map(String::as_bytes) != Some(self.state.as_bytes()) {
            return Err(ConnectError::StateMismatch);
        }
        if let Some(error) = params.get("error") {
            return Err(ConnectError::Denied {
                error: error.clone(),
                description: params.get("error_description").cloned().unwrap_or_default(),
            });
        }
        let code = params.get("code").ok_or(ConnectError::MissingCode)?;
        let tokens = auth::exchange_code(
            http,
            &self.connection,
            code,
            &self.redirect_uri,
            &self.verifier,
        )
        .await?;
        let refresh = tokens.refresh_token.ok_or(ConnectError::NoRefreshToken)?;
        write_secret_file(&self.token_file, refresh.expose())
            .await
            .map_err(|source| ConnectError::Write {
                path: self.token_file.clone(),
                source,
            })?;
        tracing::info!(connection_id = %self.connection.id, "connected; refresh token stored");
        Ok(Connected {
            instance_url: tokens.instance_url,
            identity_url: tokens.id,
            refresh_token_file: self.token_file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = random_urlsafe(32);
        assert_eq!(v.len(), 43);
        assert_ne!(v, random_urlsafe(32));
    }
}
