//! A Redis mutual-exclusion lock shared by replicas: `SET key token NX PX ttl` to take it, a
//! compare-and-delete Lua script to release it.
//!
//! Part of the store layer. The random token makes release safe: a holder whose lock expired
//! (and was taken by another replica) cannot delete the new holder's lock. The TTL bounds how
//! long a crashed holder blocks others. Used for token refresh; general enough for any
//! "one replica at a time" section.

use super::{Store, StoreError};
use std::time::Duration;

/// Deletes the key only if it still holds our token.
const RELEASE: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
else
    return 0
end
"#;

/// A held lock. Release it with [`LockGuard::release`]; if dropped unreleased it expires
/// after its TTL.
pub struct LockGuard {
    store: Store,
    key: String,
    token: String,
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard").field("key", &self.key).finish()
    }
}

impl LockGuard {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Releases the lock if we still hold it; `false` means it had expired (and may be
    /// someone else's now).
    pub async fn release(self) -> Result<bool, StoreError> {
        let mut conn = self.store.conn();
        let deleted: i64 = redis::Script::new(RELEASE)
            .key(&self.key)
            .arg(&self.token)
            .invoke_async(&mut conn)
            .await?;
        Ok(deleted == 1)
    }
}

/// Tries once to take the lock at `key` (a full key, already prefixed).
pub async fn try_acquire(
    store: &Store,
    key: &str,
    ttl: Duration,
) -> Result<Option<LockGuard>, StoreError> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut conn = store.conn();
    let ok: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(ttl.as_millis().max(1) as u64)
        .query_async(&mut conn)
        .await?;
    Ok(ok.map(|_| LockGuard {
        store: store.clone(),
        key: key.to_string(),
        token,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        let prefix = format!("test-lock-{}", uuid::Uuid::new_v4().simple());
        Store::connect("redis://127.0.0.1:6379", &prefix)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn exclusive_until_released() {
        let s = store().await;
        let key = s.key("lock:a");
        let g = try_acquire(&s, &key, Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert!(
            try_acquire(&s, &key, Duration::from_secs(5))
                .await
                .unwrap()
                .is_none()
        );
        assert!(g.release().await.unwrap());
        let g2 = try_acquire(&s, &key, Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert!(g2.release().await.unwrap());
    }

    #[tokio::test]
    async fn expired_holder_cannot_release_new_holders_lock() {
        let s = store().await;
        let key = s.key("lock:b");
        let old = try_acquire(&s, &key, Duration::from_millis(50))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        let new = try_acquire(&s, &key, Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert!(!old.release().await.unwrap());
        // Still held by `new`.
        assert!(
            try_acquire(&s, &key, Duration::from_secs(5))
                .await
                .unwrap()
                .is_none()
        );
        assert!(new.release().await.unwrap());
    }
}
