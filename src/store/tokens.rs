//! The shared access-token cache: one sealed (AES-GCM) entry per connection in Redis, with a
//! TTL equal to the org's session timeout, plus the current refresh token when Salesforce
//! rotates it.
//!
//! Access tokens are keyed by [`crate::config::Connection::token_cache_id`] (the connection id
//! plus a hash of login host, client id, grant and username), so a connection with other
//! credentials under the same id never gets another's token. The refresh-token chain and the
//! refresh lock stay keyed by the plain connection id: a chain's token is only adopted by a
//! replica configured with a token of that chain, and replicas of an older version share both
//! during a rolling update.
//!
//! Part of the store layer; the Salesforce session manager is its only caller. Values are
//! sealed with the Redis key as associated data. A value that no longer opens (key rotated,
//! tampering) reads as a miss, so the next refresh overwrites it.
//!
//! Refresh-token rotation: Salesforce may answer a refresh with a new refresh token. The new
//! one is written in the same `MULTI` as the access token, together with the hashes of the
//! tokens it superseded, so a replica whose configuration still holds an older token of the
//! same chain uses the current one, while a token from an unrelated, newer authorization
//! (`sfprivacy connect` run again) wins over the chain.

use super::crypto::TokenCipher;
use super::{Store, StoreError};
use crate::config::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How many superseded refresh tokens of a chain are remembered (as hashes).
const CHAIN_MEMORY: usize = 16;

/// A cached access token and the instance it is valid for.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedSession {
    pub access_token: Secret,
    pub instance_url: String,
    /// When the token was issued (ms since the epoch, Salesforce's `issued_at` or ours).
    pub issued_at_ms: i64,
}

impl std::fmt::Debug for CachedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSession")
            .field("access_token", &self.access_token)
            .field("instance_url", &self.instance_url)
            .field("issued_at_ms", &self.issued_at_ms)
            .finish()
    }
}

/// A refresh token replaced by Salesforce during a refresh.
pub struct Rotation<'a> {
    /// The connection id the refresh-token chain is kept under.
    pub chain: &'a str,
    /// The token the refresh was made with.
    pub used: &'a Secret,
    /// The one Salesforce returned.
    pub new: &'a Secret,
}

#[derive(Serialize, Deserialize)]
struct SessionRecord {
    access_token: String,
    instance_url: String,
    issued_at_ms: i64,
}

#[derive(Serialize, Deserialize, Default)]
struct RefreshRecord {
    current: String,
    /// sha256 hex of every superseded token of this chain (newest last).
    superseded: Vec<String>,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Encrypted token cache over Redis. Cheap to clone.
#[derive(Clone)]
pub struct TokenCache {
    store: Store,
    cipher: TokenCipher,
}

impl TokenCache {
    pub fn new(store: Store, cipher: TokenCipher) -> Self {
        Self { store, cipher }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Redis key of a connection's access token.
    pub fn session_key(&self, connection_id: &str) -> String {
        self.store.key(&format!("sf:token:{connection_id}"))
    }

    fn refresh_key(&self, connection_id: &str) -> String {
        self.store.key(&format!("sf:refresh:{connection_id}"))
    }

    /// Redis key of the lock that serialises refreshes of a connection across replicas.
    pub fn lock_key(&self, connection_id: &str) -> String {
        self.store.key(&format!("sf:lock:token:{connection_id}"))
    }

    async fn get_sealed<T: for<'de> Deserialize<'de>>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let mut conn = self.store.conn();
        let raw: Option<Vec<u8>> = redis::cmd("GET").arg(key).query_async(&mut conn).await?;
        let Some(raw) = raw else { return Ok(None) };
        let Ok(plain) = self.cipher.open(&raw, key.as_bytes()) else {
            tracing::warn!(
                key,
                "cached token does not open with the current key; ignoring it"
            );
            return Ok(None);
        };
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))
    }

    fn seal<T: Serialize>(&self, key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
        let plain = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.cipher
            .seal(&plain, key.as_bytes())
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// The cached access token, if any (and if it opens).
    pub async fn get(&self, connection_id: &str) -> Result<Option<CachedSession>, StoreError> {
        let rec: Option<SessionRecord> = self.get_sealed(&self.session_key(connection_id)).await?;
        Ok(rec.map(|r| CachedSession {
            access_token: Secret::new(r.access_token),
            instance_url: r.instance_url,
            issued_at_ms: r.issued_at_ms,
        }))
    }

    /// Stores an access token for `ttl` and, when the refresh rotated the refresh token, the
    /// new refresh token — both in one transaction.
    pub async fn put(
        &self,
        connection_id: &str,
        session: &CachedSession,
        ttl: Duration,
        rotation: Option<Rotation<'_>>,
    ) -> Result<(), StoreError> {
        let skey = self.session_key(connection_id);
        let sealed_session = self.seal(
            &skey,
            &SessionRecord {
                access_token: session.access_token.expose().to_string(),
                instance_url: session.instance_url.clone(),
                issued_at_ms: session.issued_at_ms,
            },
        )?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&skey)
            .arg(sealed_session)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .ignore();
        if let Some(rot) = rotation {
            let rkey = self.refresh_key(rot.chain);
            // The caller holds the refresh lock, so this read-modify-write does not race.
            let mut rec: RefreshRecord = self.get_sealed(&rkey).await?.unwrap_or_default();
            let mut superseded = std::mem::take(&mut rec.superseded);
            for old in [rec.current.as_str(), rot.used.expose()] {
                if !old.is_empty() {
                    let h = hash(old);
                    if !superseded.contains(&h) {
                        superseded.push(h);
                    }
                }
            }
            let excess = superseded.len().saturating_sub(CHAIN_MEMORY);
            superseded.drain(..excess);
            let rec = RefreshRecord {
                current: rot.new.expose().to_string(),
                superseded,
            };
            pipe.cmd("SET")
                .arg(&rkey)
                .arg(self.seal(&rkey, &rec)?)
                .ignore();
        }
        let mut conn = self.store.conn();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Drops a connection's cached access token.
    pub async fn remove(&self, connection_id: &str) -> Result<(), StoreError> {
        let mut conn = self.store.conn();
        redis::cmd("DEL")
            .arg(self.session_key(connection_id))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// The refresh token to use, given the one in this replica's configuration: the chain's
    /// current token when `configured` belongs to that chain, else `configured` itself.
    pub async fn refresh_token(
        &self,
        connection_id: &str,
        configured: &Secret,
    ) -> Result<Secret, StoreError> {
        let rec: Option<RefreshRecord> = self.get_sealed(&self.refresh_key(connection_id)).await?;
        let Some(rec) = rec else {
            return Ok(configured.clone());
        };
        let cfg = configured.expose();
        if cfg.is_empty() || cfg == rec.current || rec.superseded.contains(&hash(cfg)) {
            Ok(Secret::new(rec.current))
        } else {
            Ok(configured.clone())
        }
    }

    /// Deletes everything this cache holds for a connection (tests, credential reset).
    pub async fn forget(&self, connection_id: &str) -> Result<(), StoreError> {
        let mut conn = self.store.conn();
        redis::cmd("DEL")
            .arg(self.session_key(connection_id))
            .arg(self.refresh_key(connection_id))
            .arg(self.lock_key(connection_id))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn cache() -> TokenCache {
        let prefix = format!("test-tokens-{}", uuid::Uuid::new_v4().simple());
        let store = Store::connect("redis://127.0.0.1:6379", &prefix)
            .await
            .unwrap();
        TokenCache::new(store, TokenCipher::random())
    }

    fn session(t: &str) -> CachedSession {
        CachedSession {
            access_token: Secret::new(t),
            instance_url: "https://x.my.salesforce.com".into(),
            issued_at_ms: 1,
        }
    }

    #[tokio::test]
    async fn stores_sealed_with_ttl() {
        let c = cache().await;
        c.put(
            "conn",
            &session("00Dplain!token"),
            Duration::from_secs(60),
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            c.get("conn").await.unwrap(),
            Some(session("00Dplain!token"))
        );
        let mut conn = c.store.conn();
        let raw: Vec<u8> = redis::cmd("GET")
            .arg(c.session_key("conn"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!raw.windows(5).any(|w| w == b"plain"));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(c.session_key("conn"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 50_000 && ttl <= 60_000, "{ttl}");
        c.forget("conn").await.unwrap();
        assert_eq!(c.get("conn").await.unwrap(), None);
    }

    #[tokio::test]
    async fn value_sealed_with_another_key_reads_as_miss() {
        let c = cache().await;
        c.put("conn", &session("t"), Duration::from_secs(60), None)
            .await
            .unwrap();
        let other = TokenCache::new(c.store.clone(), TokenCipher::random());
        assert_eq!(other.get("conn").await.unwrap(), None);
        c.forget("conn").await.unwrap();
    }

    #[tokio::test]
    async fn rotation_chain() {
        let c = cache().await;
        let r0 = Secret::new("r0");
        let r1 = Secret::new("r1");
        let r2 = Secret::new("r2");
        assert_eq!(c.refresh_token("conn", &r0).await.unwrap(), r0);
        c.put(
            "conn",
            &session("a"),
            Duration::from_secs(60),
            Some(Rotation {
                chain: "conn",
                used: &r0,
                new: &r1,
            }),
        )
        .await
        .unwrap();
        c.put(
            "conn",
            &session("b"),
            Duration::from_secs(60),
            Some(Rotation {
                chain: "conn",
                used: &r1,
                new: &r2,
            }),
        )
        .await
        .unwrap();
        // Replicas configured with any token of the chain use the newest.
        for cfg in [&r0, &r1, &r2] {
            assert_eq!(c.refresh_token("conn", cfg).await.unwrap(), r2);
        }
        // A token from a new authorization wins.
        let fresh = Secret::new("from-connect");
        assert_eq!(c.refresh_token("conn", &fresh).await.unwrap(), fresh);
        c.forget("conn").await.unwrap();
    }
}
