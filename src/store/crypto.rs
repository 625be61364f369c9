//! AES-256-GCM sealing of secrets kept in Redis (access tokens, rotated refresh tokens).
//!
//! Part of the store layer. One key per deployment (from settings); a fresh random 96-bit
//! nonce per write, stored in front of the ciphertext. The Redis key name is bound in as
//! associated data, so a value copied under another connection's key fails to open. Neither
//! the key nor nonces are ever logged (`Debug` is redacted).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

const NONCE_LEN: usize = 12;

/// Sealing failed or a stored value does not open with this key.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("token key must be 32 bytes (base64), got {0} bytes")]
    KeyLength(usize),
    #[error("token key is not valid base64")]
    KeyEncoding,
    #[error("sealed value does not open (wrong key, tampered or truncated)")]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// The token encryption key. Cheap to clone.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

impl TokenCipher {
    /// A key of exactly 32 bytes.
    pub fn from_bytes(key: &[u8]) -> Result<Self, CryptoError> {
        let cipher =
            Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::KeyLength(key.len()))?;
        Ok(Self { cipher })
    }

    /// A key given as standard base64 of 32 bytes (`openssl rand -base64 32`).
    pub fn from_base64(key: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| CryptoError::KeyEncoding)?;
        Self::from_bytes(&bytes)
    }

    /// A random key for development: sealed values die with the process.
    pub fn random() -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    /// `nonce || ciphertext+tag`, with `aad` (the Redis key) authenticated alongside.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = Nonce::from_slice(&nonce_bytes);
        let ct = self
            .cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`TokenCipher::seal`] produced with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_aad() {
        let c = TokenCipher::random();
        let sealed = c.seal(b"00Dxx!secret", b"k1").unwrap();
        assert_eq!(c.open(&sealed, b"k1").unwrap(), b"00Dxx!secret");
        assert!(c.open(&sealed, b"k2").is_err());
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn nonce_differs_per_write() {
        let c = TokenCipher::random();
        assert_ne!(c.seal(b"x", b"k").unwrap(), c.seal(b"x", b"k").unwrap());
    }

    #[test]
    fn other_key_and_tampering_fail() {
        let a = TokenCipher::random();
        let b = TokenCipher::random();
        let mut sealed = a.seal(b"token", b"k").unwrap();
        assert!(b.open(&sealed, b"k").is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(a.open(&sealed, b"k").is_err());
        assert!(a.open(&sealed[..5], b"k").is_err());
    }

    #[test]
    fn key_parsing() {
        let k = STANDARD.encode([7u8; 32]);
        assert!(TokenCipher::from_base64(&k).is_ok());
        assert!(matches!(
            TokenCipher::from_base64(&STANDARD.encode([7u8; 16])),
            Err(CryptoError::KeyLength(16))
        ));
        assert!(matches!(
            TokenCipher::from_base64("not base64!"),
            Err(CryptoError::KeyEncoding)
        ));
    }
}
