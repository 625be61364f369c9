//! Access tokens for one connection: memory → Redis → (lock) → token endpoint.
//!
//! Part of the Salesforce adapter, between the transport and the token cache. Three layers
//! keep N replicas starting cold down to one token request:
//! 1. an in-process single flight (`flight`): one refresh per connection per process;
//!    concurrent callers wait for it and then find the new token;
//! 2. the shared, encrypted Redis cache;
//! 3. a Redis lock (`SET NX PX`, compare-and-delete release) around the token request; after
//!    taking it the cache is read again, because the previous holder has usually just filled it.
//!
//! A token rejected with `INVALID_SESSION_ID` is passed back as `rejected`, so a newer token
//! from another replica is used instead of refreshing again. On `invalid_grant` the cache and
//! the credential (Redis chain, then the refresh-token file) are re-read before the credential
//! is declared dead: another replica may have rotated it, or an operator re-connected.

use super::auth::{self, TokenResponse};
use super::error::{ErrorKind, SfError};
use crate::config::{Connection, Grant, Secret};
use crate::store::lock;
use crate::store::org_ids::{OrgIds, org_id_from_identity_url};
use crate::store::tokens::{CachedSession, Rotation, TokenCache};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A usable access token.
pub struct Session {
    pub access_token: Secret,
    pub instance_url: String,
    /// Obtained from the token endpoint by this process (not read from the shared cache,
    /// where a token killed by the same event as ours may still sit).
    pub fresh: bool,
}

/// Lock and wait settings.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// How long the refresh lock is held at most (a crashed holder blocks others this long).
    pub lock_ttl: Duration,
    /// How long a replica waits for another's refresh before giving up (transient error).
    pub lock_wait: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            lock_ttl: Duration::from_secs(30),
            lock_wait: Duration::from_secs(35),
        }
    }
}

struct Held {
    session: Arc<Session>,
    expires: Instant,
}

pub struct Sessions {
    connection: Arc<Connection>,
    /// What cached access tokens are keyed by: the connection id and a hash of the
    /// credentials, so a connection with other credentials (same id) never reuses this one's
    /// token. The refresh chain and lock stay per connection id (see `store::tokens`).
    cache_id: String,
    tokens: TokenCache,
    http: reqwest::Client,
    options: SessionOptions,
    held: Mutex<Option<Held>>,
    flight: tokio::sync::Mutex<()>,
    /// This replica's idea of the refresh token (configuration, then rotations and re-reads).
    refresh_token: Mutex<Option<Secret>>,
    token_requests: AtomicU64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn store_err(e: crate::store::StoreError) -> SfError {
    SfError::Store(e.to_string())
}

impl Sessions {
    pub fn new(
        connection: Arc<Connection>,
        tokens: TokenCache,
        http: reqwest::Client,
        options: SessionOptions,
    ) -> Self {
        let refresh_token = match &connection.grant {
            Grant::RefreshToken { refresh_token } => Some(refresh_token.clone()),
            _ => None,
        };
        Self {
            cache_id: connection.token_cache_id(),
            connection,
            tokens,
            http,
            options,
            held: Mutex::new(None),
            flight: tokio::sync::Mutex::new(()),
            refresh_token: Mutex::new(refresh_token),
            token_requests: AtomicU64::new(0),
        }
    }

    /// Token requests this process made for the connection (retries included).
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// The TTL of a cached token: the session timeout less a margin, so a token is replaced
    /// before Salesforce times it out.
    pub fn ttl(&self) -> Duration {
        let timeout = Duration::from_secs(self.connection.session_timeout_secs.max(1));
        let margin = (timeout / 10).min(Duration::from_secs(300));
        (timeout - margin).max(Duration::from_secs(1))
    }

    fn in_memory(&self, rejected: Option<&str>) -> Option<Arc<Session>> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.as_ref()
            .filter(|h| h.expires > Instant::now())
            .filter(|h| Some(h.session.access_token.expose()) != rejected)
            .map(|h| h.session.clone())
    }

    fn hold(&self, session: Arc<Session>, issued_at_ms: i64) -> Arc<Session> {
        let age = Duration::from_millis((now_ms() - issued_at_ms).max(0) as u64);
        let remaining = self.ttl().saturating_sub(age);
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(Held {
            session: session.clone(),
            expires: Instant::now() + remaining,
        });
        session
    }

    /// A token to use: memory, else Redis, else a refresh.
    pub async fn get(&self) -> Result<Arc<Session>, SfError> {
        if let Some(s) = self.in_memory(None) {
            return Ok(s);
        }
        self.obtain(None).await
    }

    /// A token other than `rejected` (which Salesforce answered with `INVALID_SESSION_ID`).
    pub async fn renew(&self, rejected: &Session) -> Result<Arc<Session>, SfError> {
        let rejected = rejected.access_token.expose().to_string();
        self.obtain(Some(&rejected)).await
    }

    async fn cached(&self, rejected: Option<&str>) -> Result<Option<Arc<Session>>, SfError> {
        let cached = self.tokens.get(&self.cache_id).await.map_err(store_err)?;
        Ok(cached
            .filter(|c| Some(c.access_token.expose()) != rejected)
            .map(|c| {
                let issued = c.issued_at_ms;
                self.hold(
                    Arc::new(Session {
                        access_token: c.access_token,
                        instance_url: c.instance_url,
                        fresh: false,
                    }),
                    issued,
                )
            }))
    }

    async fn obtain(&self, rejected: Option<&str>) -> Result<Arc<Session>, SfError> {
        let _flight = self.flight.lock().await;
        // Whoever held the flight before us may have just refreshed.
        if let Some(s) = self.in_memory(rejected) {
            return Ok(s);
        }
        if let Some(s) = self.cached(rejected).await? {
            return Ok(s);
        }
        let lock_key = self.tokens.lock_key(&self.connection.id);
        let deadline = Instant::now() + self.options.lock_wait;
        let guard = loop {
            if let Some(g) =
                lock::try_acquire(self.tokens.store(), &lock_key, self.options.lock_ttl)
                    .await
                    .map_err(store_err)?
            {
                break g;
            }
            if Instant::now() >= deadline {
                return Err(SfError::Store(format!(
                    "timed out waiting for the token refresh lock of {}",
                    self.connection.id
                )));
            }
            let pause = Duration::from_millis(25 + rand::random::<u64>() % 50);
            tokio::time::sleep(pause).await;
            if let Some(s) = self.cached(rejected).await? {
                return Ok(s);
            }
        };
        let result = match self.cached(rejected).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => self.refresh_locked(rejected).await,
            Err(e) => Err(e),
        };
        if let Err(e) = guard.release().await {
            tracing::warn!(connection_id = %self.connection.id, error = %e, "token lock release failed; it will expire");
        }
        result
    }

    async fn configured_refresh_token(&self) -> Option<Secret> {
        self.refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the token endpoint (lock held), stores the result, handles rotation.
    async fn refresh_locked(&self, rejected: Option<&str>) -> Result<Arc<Session>, SfError> {
        let conn_id = self.connection.id.as_str();
        let used = match self.configured_refresh_token().await {
            Some(cfg) => Some(
                self.tokens
                    .refresh_token(&self.connection.id, &cfg)
                    .await
                    .map_err(store_err)?,
            ),
            None => None,
        };
        match self.request(used.as_ref()).await {
            Ok(resp) => self.store(resp, used.as_ref()).await,
            Err(e) if e.kind() == ErrorKind::CredentialRevoked && used.is_some() => {
                // Re-read before declaring the credential dead.
                if let Some(s) = self.cached(rejected).await? {
                    return Ok(s);
                }
                for candidate in self.other_refresh_tokens(used.as_ref()).await? {
                    tracing::info!(
                        connection_id = conn_id,
                        "refresh token rejected; trying a newer one"
                    );
                    match self.request(Some(&candidate)).await {
                        Ok(resp) => {
                            *self.refresh_token.lock().unwrap_or_else(|p| p.into_inner()) =
                                Some(candidate.clone());
                            return self.store(resp, Some(&candidate)).await;
                        }
                        Err(e2) if e2.kind() == ErrorKind::CredentialRevoked => continue,
                        Err(e2) => return Err(e2),
                    }
                }
                tracing::error!(connection_id = conn_id, code = %e.code(), "credential rejected after re-reading it");
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Refresh tokens other than `used` that might be newer: the Redis chain, then the file.
    async fn other_refresh_tokens(&self, used: Option<&Secret>) -> Result<Vec<Secret>, SfError> {
        let mut out: Vec<Secret> = Vec::new();
        let mut consider = |s: Secret| {
            if !s.expose().is_empty() && Some(&s) != used && !out.contains(&s) {
                out.push(s);
            }
        };
        if let Some(cfg) = self.configured_refresh_token().await {
            consider(
                self.tokens
                    .refresh_token(&self.connection.id, &cfg)
                    .await
                    .map_err(store_err)?,
            );
            consider(cfg);
        }
        if let Some(path) = &self.connection.refresh_token_file {
            match tokio::fs::read_to_string(path).await {
                Ok(s) => consider(Secret::new(s.trim())),
                Err(e) => {
                    tracing::warn!(connection_id = %self.connection.id, error = %e, "cannot re-read the refresh token file")
                }
            }
        }
        Ok(out)
    }

    async fn request(&self, refresh_token: Option<&Secret>) -> Result<TokenResponse, SfError> {
        // An empty refresh token (not connected yet) is refused locally, without a request.
        let sends = match &self.connection.grant {
            Grant::RefreshToken { refresh_token: cfg } => {
                !refresh_token.unwrap_or(cfg).expose().is_empty()
            }
            _ => true,
        };
        // One attempt: every session is fetched inside the REST call's own retry loop
        // (`SalesforceClient::send`), so retrying here too made up to 16 token requests, each
        // waited for, against a failing login host.
        if sends {
            self.token_requests.fetch_add(1, Ordering::Relaxed);
        }
        let result = auth::grant(&self.http, &self.connection, refresh_token).await;
        if !sends {
            return result;
        }
        metrics::counter!(
            crate::ops::metrics::TOKEN_REFRESHES,
            "connection" => self.connection.id.clone(),
            "outcome" => if result.is_ok() { "ok" } else { "failed" }
        )
        .increment(1);
        result
    }

    async fn store(
        &self,
        resp: TokenResponse,
        used: Option<&Secret>,
    ) -> Result<Arc<Session>, SfError> {
        let issued_at_ms = now_ms();
        let cached = CachedSession {
            access_token: resp.access_token,
            instance_url: resp.instance_url.trim_end_matches('/').to_string(),
            issued_at_ms,
        };
        let rotated = match (&resp.refresh_token, used) {
            (Some(new), Some(used)) if new != used && !new.expose().is_empty() => {
                Some((new.clone(), used.clone()))
            }
            _ => None,
        };
        self.tokens
            .put(
                &self.cache_id,
                &cached,
                self.ttl(),
                rotated.as_ref().map(|(new, used)| Rotation {
                    chain: &self.connection.id,
                    used,
                    new,
                }),
            )
            .await
            .map_err(store_err)?;
        self.learn_org(resp.id.as_deref()).await;
        if let Some((new, _)) = rotated {
            tracing::info!(connection_id = %self.connection.id, "Salesforce rotated the refresh token; stored the new one");
            *self.refresh_token.lock().unwrap_or_else(|p| p.into_inner()) = Some(new.clone());
            if let Some(path) = &self.connection.refresh_token_file
                && let Err(e) = write_secret_file(path, new.expose()).await
            {
                // Redis holds the new token, so replicas keep working; the file catches up
                // on the next rotation or `connect`.
                tracing::warn!(connection_id = %self.connection.id, error = %e, "cannot write the rotated refresh token file");
            }
        }
        Ok(self.hold(
            Arc::new(Session {
                access_token: cached.access_token,
                instance_url: cached.instance_url,
                fresh: true,
            }),
            issued_at_ms,
        ))
    }

    /// Shares which org this connection reaches, so every connection to that org draws on
    /// one API budget, concurrency cap and breaker (`store::budget`). Best effort: until it
    /// is known, the connection's limits are its own.
    async fn learn_org(&self, identity_url: Option<&str>) {
        let Some(org) = identity_url.and_then(org_id_from_identity_url) else {
            return;
        };
        let ids = OrgIds::new(self.tokens.store().clone());
        if let Err(e) = ids.record(&self.connection.id, &org).await {
            tracing::warn!(connection_id = %self.connection.id, error = %e, "cannot record the connection's org id");
        }
    }
}

/// Writes a secret file atomically: a temporary file (mode 0600) in the same directory, then
/// a rename over the target.
pub async fn write_secret_file(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secret".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let result = async {
        use tokio::io::AsyncWriteExt;
        let mut f = opts.open(&tmp).await?;
        f.write_all(contents.as_bytes()).await?;
        f.write_all(b"\n").await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}
