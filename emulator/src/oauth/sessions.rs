//! Issued credentials: access tokens (sessions with an idle timeout), refresh tokens and
//! authorization codes.
//!
//! Plain data over an explicit `now`, so the idle timeout follows the emulator's clock and is
//! testable without sleeping. Salesforce access tokens carry no expiry: a session dies when it
//! has been idle longer than the org's timeout, when it is revoked, or when an admin expires
//! every session.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;

/// Default idle timeout (Salesforce's default session setting is 2 hours).
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);
/// Authorization codes are valid for 15 minutes and single use.
pub const CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// An authenticated session, as data routes see it (in request extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub org_id: String,
    pub user_id: String,
    pub username: String,
    /// The connected app's client id: the "connection" API calls are counted under.
    pub client_id: String,
    pub scope: String,
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct SessionEntry {
    session: Session,
    last_used: DateTime<Utc>,
    /// The refresh token it was minted from: revoking that token revokes this session too.
    parent_refresh: Option<String>,
}

/// A live refresh token.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub username: String,
    pub client_id: String,
    pub scope: String,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub username: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// S256 challenge from the authorize request, if PKCE was used.
    pub code_challenge: Option<String>,
    pub scope: String,
    pub created_at: DateTime<Utc>,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRejection {
    Unknown,
    Expired,
}

/// All issued credentials.
#[derive(Debug)]
pub struct SessionStore {
    sessions: HashMap<String, SessionEntry>,
    refresh: HashMap<String, RefreshGrant>,
    codes: HashMap<String, CodeGrant>,
    pub timeout: Duration,
}

impl Default for SessionStore {
    fn default() -> Self {
        Self {
            sessions: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            timeout: DEFAULT_SESSION_TIMEOUT,
        }
    }
}

/// Random URL-safe token material.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

impl SessionStore {
    /// Mints an access token shaped like Salesforce's (`<15-char org id>!<opaque>`), for the
    /// session's org.
    pub fn create_session(
        &mut self,
        session: Session,
        parent_refresh: Option<String>,
        now: DateTime<Utc>,
    ) -> String {
        let org = session.org_id.get(..15).unwrap_or(&session.org_id);
        let token = format!("{org}!{}", random_token(72));
        self.sessions.insert(
            token.clone(),
            SessionEntry {
                session,
                last_used: now,
                parent_refresh,
            },
        );
        token
    }

    /// Validates a bearer token and refreshes its idle timer.
    pub fn touch(&mut self, token: &str, now: DateTime<Utc>) -> Result<Session, SessionRejection> {
        let timeout = chrono::Duration::from_std(self.timeout).unwrap_or(chrono::Duration::MAX);
        let Some(entry) = self.sessions.get_mut(token) else {
            return Err(SessionRejection::Unknown);
        };
        if now - entry.last_used > timeout {
            self.sessions.remove(token);
            return Err(SessionRejection::Expired);
        }
        entry.last_used = now;
        Ok(entry.session.clone())
    }

    /// Looks a session up without touching it (introspection).
    pub fn peek(&self, token: &str, now: DateTime<Utc>) -> Option<(Session, DateTime<Utc>)> {
        let timeout = chrono::Duration::from_std(self.timeout).unwrap_or(chrono::Duration::MAX);
        let entry = self.sessions.get(token)?;
        let expires = entry.last_used + timeout;
        (now <= expires).then(|| (entry.session.clone(), expires))
    }

    pub fn insert_refresh(&mut self, token: String, grant: RefreshGrant) {
        self.refresh.insert(token, grant);
    }

    pub fn new_refresh(&mut self, grant: RefreshGrant) -> String {
        let token = format!("5Aep861{}", random_token(60));
        self.refresh.insert(token.clone(), grant);
        token
    }

    pub fn refresh_grant(&self, token: &str) -> Option<&RefreshGrant> {
        self.refresh.get(token)
    }

    /// Removes a refresh token (rotation or revocation); its sessions die only on revocation.
    pub fn remove_refresh(&mut self, token: &str) -> Option<RefreshGrant> {
        self.refresh.remove(token)
    }

    pub fn insert_code(&mut self, grant: CodeGrant) -> String {
        let code = random_token(48);
        self.codes.insert(code.clone(), grant);
        code
    }

    /// Codes are single use: taking one removes it whether or not the exchange succeeds.
    pub fn take_code(&mut self, code: &str) -> Option<CodeGrant> {
        self.codes.remove(code)
    }

    /// Revokes an access or refresh token. Revoking a refresh token also ends the sessions
    /// minted from it. Returns false when the token is unknown.
    pub fn revoke(&mut self, token: &str) -> bool {
        if self.sessions.remove(token).is_some() {
            return true;
        }
        if self.refresh.remove(token).is_some() {
            self.sessions
                .retain(|_, e| e.parent_refresh.as_deref() != Some(token));
            return true;
        }
        false
    }

    /// Ends every session now (refresh tokens stay valid, as in Salesforce).
    pub fn expire_all(&mut self) -> usize {
        let n = self.sessions.len();
        self.sessions.clear();
        n
    }

    pub fn access_tokens(&self) -> Vec<String> {
        self.sessions.keys().cloned().collect()
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            org_id: super::super::directory::ORG_ID.into(),
            user_id: "005000000000001AAA".into(),
            username: "u@example.com".into(),
            client_id: "c".into(),
            scope: "api".into(),
            issued_at: Utc::now(),
        }
    }

    #[test]
    fn idle_session_expires_and_activity_extends_it() {
        let mut store = SessionStore {
            timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let t0 = Utc::now();
        let token = store.create_session(session(), None, t0);
        assert!(token.starts_with("00D000000000EMU!"));
        let t1 = t0 + chrono::Duration::seconds(50);
        assert!(store.touch(&token, t1).is_ok());
        // 100 s after creation but only 50 s idle: still alive.
        assert!(
            store
                .touch(&token, t1 + chrono::Duration::seconds(50))
                .is_ok()
        );
        let late = t1 + chrono::Duration::seconds(50 + 61);
        assert_eq!(store.touch(&token, late), Err(SessionRejection::Expired));
        assert_eq!(store.touch(&token, late), Err(SessionRejection::Unknown));
    }

    #[test]
    fn revoking_a_refresh_token_ends_its_sessions_only() {
        let mut store = SessionStore::default();
        let now = Utc::now();
        let grant = RefreshGrant {
            username: "u".into(),
            client_id: "c".into(),
            scope: "api".into(),
        };
        let rt = store.new_refresh(grant);
        let child = store.create_session(session(), Some(rt.clone()), now);
        let other = store.create_session(session(), None, now);
        assert!(store.revoke(&rt));
        assert!(store.touch(&child, now).is_err());
        assert!(store.touch(&other, now).is_ok());
        assert!(!store.revoke(&rt));
    }
}
