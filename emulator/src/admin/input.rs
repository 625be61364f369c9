//! Strict input of the admin API (`/__emulator/…`) and the limits the start flags share with it.
//!
//! Every admin body is parsed into a typed struct that refuses unknown keys, wrong types and
//! `null` where a value is expected; values out of range are refused with the same checks the
//! flags/env of `sf-emulator` use ([`check_ms`], [`check_size`], [`check_rate`],
//! [`check_org_id`]). A refused request changes nothing: handlers validate everything before
//! they apply anything. Refusals have one shape, [`AdminError`]:
//! `{"error":{"key":"error_rates[0].rate","message":"…"}}` (`key` is `null` when the body as a
//! whole is at fault, e.g. not JSON).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// The longest duration a millisecond setting takes: one year. Longer ones would overflow the
/// clock arithmetic and mean nothing in a test.
pub const MAX_MS: u64 = 365 * 24 * 3600 * 1000;
/// The largest seeded org: record ids number rows in 9 base-62 digits, and far below that a
/// scan would never end anyway.
pub const MAX_SIZE: u64 = 1_000_000_000;

/// A refused admin request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", key.as_deref().unwrap_or("body"))]
pub struct AdminError {
    pub status: StatusCode,
    /// The offending key as a path (`fieldLengths[1].object`); `None` for the body as a whole.
    pub key: Option<String>,
    pub message: String,
}

impl AdminError {
    /// 400: a key's value is missing, unknown, of the wrong type or out of range.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// 404: a key names something that does not exist (a user, a connected app, an object).
    pub fn not_found(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            ..Self::invalid(key, message)
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"key": self.key, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

/// Parses an admin body into `T` (a struct with `deny_unknown_fields`).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if !inner.is_data() {
            return AdminError {
                status: StatusCode::BAD_REQUEST,
                key: None,
                message: format!("the body is not JSON: {inner}"),
            };
        }
        refusal(&path, &inner.to_string())
    })?;
    de.end().map_err(|e| AdminError {
        status: StatusCode::BAD_REQUEST,
        key: None,
        message: format!("the body is not JSON: {e}"),
    })?;
    Ok(value)
}

/// A serde data error at `path` as a refusal. Serde reports a missing or unknown key at the
/// object holding it; the key named in the message is appended so `key` names it.
fn refusal(path: &str, message: &str) -> AdminError {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_string();
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    let base = (path != ".").then_some(path);
    let key = match (base, named) {
        (Some(b), Some(n)) if !b.ends_with(n) => Some(format!("{b}.{n}")),
        (None, Some(n)) => Some(n.to_string()),
        (b, _) => b.map(str::to_string),
    };
    AdminError {
        status: StatusCode::BAD_REQUEST,
        key,
        message,
    }
}

/// `deserialize_with` for optional keys: absent is `None` (with `#[serde(default)]`), but an
/// explicit `null` is refused as the wrong type instead of being read as "absent".
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `deserialize_with` for an optional millisecond setting, checked by [`check_ms`].
pub fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let ms = u64::deserialize(d)?;
    check_ms(ms).map(Some).map_err(D::Error::custom)
}

/// A duration in milliseconds: at most [`MAX_MS`].
pub fn check_ms(ms: u64) -> Result<u64, String> {
    if ms > MAX_MS {
        return Err(format!("{ms} ms is over the maximum of {MAX_MS} (a year)"));
    }
    Ok(ms)
}

/// An org size: at most [`MAX_SIZE`].
pub fn check_size(size: u64) -> Result<u64, String> {
    if size > MAX_SIZE {
        return Err(format!("size {size} is over the maximum of {MAX_SIZE}"));
    }
    Ok(size)
}

/// A share of requests: 0..=1.
pub fn check_rate(rate: f64) -> Result<f64, String> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("rate {rate} is outside 0..=1"));
    }
    Ok(rate)
}

/// An org id: 18 alphanumeric characters starting with the Organization key prefix `00D`.
pub fn check_org_id(id: &str) -> Result<String, String> {
    if id.len() != 18 || !id.starts_with("00D") || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "org id {id:?} is not 18 letters and digits starting with 00D"
        ));
    }
    Ok(id.to_string())
}

/// Clap value parsers over the same checks.
pub mod flag {
    pub fn ms(s: &str) -> Result<u64, String> {
        super::check_ms(s.parse().map_err(|e| format!("{s:?}: {e}"))?)
    }

    pub fn size(s: &str) -> Result<usize, String> {
        let n = super::check_size(s.parse().map_err(|e| format!("{s:?}: {e}"))?)?;
        usize::try_from(n).map_err(|e| e.to_string())
    }

    pub fn org_id(s: &str) -> Result<String, String> {
        super::check_org_id(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        seed: u64,
        #[serde(default, deserialize_with = "millis")]
        lag: Option<u64>,
        #[serde(default)]
        list: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
    }

    fn key(body: &str) -> Option<String> {
        parse::<Body>(body.as_bytes()).unwrap_err().key
    }

    #[test]
    fn refusals_name_the_key() {
        assert_eq!(key(r#"{"seed":"x"}"#).as_deref(), Some("seed"));
        assert_eq!(key(r#"{}"#).as_deref(), Some("seed"));
        assert_eq!(key(r#"{"seed":1,"bogus":1}"#).as_deref(), Some("bogus"));
        assert_eq!(
            key(r#"{"seed":1,"lag":99999999999999}"#).as_deref(),
            Some("lag")
        );
        assert_eq!(
            key(r#"{"seed":1,"list":[{"name":"a"},{"nome":"b"}]}"#).as_deref(),
            Some("list[1].nome")
        );
        assert_eq!(key("nope"), None);
        assert_eq!(key(r#"{"seed":1} x"#), None);
        assert!(parse::<Body>(br#"{"seed":1,"lag":5}"#).is_ok());
    }

    #[test]
    fn flags_share_the_checks() {
        assert!(flag::ms("31536000001").is_err());
        assert_eq!(flag::ms("3000"), Ok(3000));
        assert!(flag::size("1000000001").is_err());
        assert!(check_rate(1.5).is_err() && check_rate(f64::NAN).is_err());
        assert!(flag::org_id("00D000000000EMUAAA").is_ok());
        assert!(flag::org_id("00D000000000EMU").is_err());
        assert!(flag::org_id("001000000000EMUAAA").is_err());
    }
}
