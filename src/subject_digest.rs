//! The stand-in for a subject's email in logs and spans: a keyed digest (HMAC-SHA256), so that
//! an operator can follow one subject through the logs, but someone holding only the logs
//! cannot confirm a guessed address by hashing it (a plain SHA-256 of an email is that easy).
//! The same key digests the personal values a DSR plan keeps in Redis to prove them gone
//! ([`value_digest`]), for the same reason.
//!
//! The key is derived from the token key (`SFPRIVACY_TOKEN_KEY`), shared by every replica, so a
//! subject has one digest across the deployment; `sfprivacy subject-digest EMAIL` prints it.
//! Until [`set_key`] is called (tests, the development flag), a fixed public key is used.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::OnceLock;

static KEY: OnceLock<[u8; 32]> = OnceLock::new();

/// What the derived key is for: a token key used elsewhere yields an unrelated key here.
const PURPOSE: &[u8] = b"sfprivacy: subject emails in logs, v1";

fn derive(token_key: &[u8]) -> [u8; 32] {
    // HMAC accepts a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(token_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(PURPOSE);
    mac.finalize().into_bytes().into()
}

/// Sets the process's key from the token key, once (later calls are ignored: the digest of a
/// subject must not change while the process runs).
pub fn set_key(token_key: &[u8]) {
    let _ = KEY.set(derive(token_key));
}

/// `hmac:` + 16 hex digits of the keyed digest of a (normalised) email.
pub fn digest(email: &str) -> String {
    let key = KEY.get_or_init(|| derive(b""));
    digest_with(key, email)
}

/// [`digest`] under the key derived from `token_key` (what `subject-digest` prints).
pub fn digest_for(token_key: &[u8], email: &str) -> String {
    digest_with(&derive(token_key), email)
}

fn digest_with(key: &[u8; 32], email: &str) -> String {
    format!(
        "hmac:{}",
        &hex::encode(mac(key, b"", email.as_bytes()))[..16]
    )
}

/// `hmac:` + hex of the keyed digest of a personal value, whole (it is compared, not read):
/// what a DSR plan stores in Redis to prove the value gone, without storing a digest anyone
/// could check a guessed name or address against.
pub fn value_digest(text: &str) -> String {
    let key = KEY.get_or_init(|| derive(b""));
    format!(
        "hmac:{}",
        hex::encode(mac(key, b"value\0", text.as_bytes()))
    )
}

fn mac(key: &[u8; 32], domain: &[u8], text: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(domain);
    mac.update(text);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_depends_on_the_key_and_is_not_the_plain_hash() {
        use sha2::Digest;
        let email = "jane.doe@example.com";
        let a = digest_for(b"key one", email);
        assert_eq!(a, digest_for(b"key one", email), "stable");
        assert_ne!(a, digest_for(b"key two", email), "keyed");
        assert_ne!(a, digest_for(b"key one", "john@example.com"));
        assert!(a.starts_with("hmac:") && a.len() == 5 + 16, "{a}");
        let plain = hex::encode(sha2::Sha256::digest(email.as_bytes()));
        assert!(!plain.starts_with(&a[5..]), "not the unkeyed SHA-256");
    }

    #[test]
    fn a_value_digest_is_whole_keyed_and_apart_from_the_log_digest() {
        use sha2::Digest;
        let v = value_digest("alice trial");
        assert_eq!(v, value_digest("alice trial"));
        assert_ne!(v, value_digest("alice trial2"));
        assert_eq!(v.len(), 5 + 64, "{v}");
        assert_ne!(
            v,
            format!("hmac:{}", hex::encode(sha2::Sha256::digest(b"alice trial")))
        );
        assert!(
            !v.starts_with(&digest("alice trial")),
            "another domain than the log digest"
        );
    }
}
