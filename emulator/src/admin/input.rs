//! Strict input of the admin API (`/__emulator/…`) and the limits the start flags share with it.
//!
//! Every admin body is a JSON object parsed into a typed struct that refuses unknown keys, wrong
//! types and `null` where a value is expected (and arrays where a struct is expected: serde
//! would read them by position); values out of range are refused with the same checks the
//! flags/env of `sf-emulator` use ([`check_ms`], [`check_size`], [`check_rate`],
//! [`check_org_id`], [`check_session_timeout`]). A refused request changes nothing: handlers validate everything before
//! they apply anything. Refusals have one shape, [`AdminError`]:
//! `{"error":{"key":"error_rates[0].rate","message":"…"}}` (`key` is `null` when the body as a
//! whole is at fault, e.g. not JSON).

use std::fmt;
use std::marker::PhantomData;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, Error as _, MapAccess, Visitor};
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

/// Parses an admin body into `T` (a struct with `deny_unknown_fields`). The body must be a
/// JSON object: serde would otherwise fill a struct from an array, by position.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        // Valid JSON of another shape gets its own message; anything else is "not JSON".
        parse_json::<serde::de::IgnoredAny>(body)?;
        return Err(AdminError {
            status: StatusCode::BAD_REQUEST,
            key: None,
            message: "the body must be a JSON object".into(),
        });
    }
    parse_json(body)
}

/// Parses an admin body of any JSON shape (`POST /__emulator/records` takes an array too).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
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
    let message = message.split(" at line ").next().unwrap_or(message);
    // Serde names what it expected by Rust type (`u64`, `struct FieldLength`); say it in JSON.
    let message = match message.split_once(", expected ") {
        Some((head, expected)) => format!("{head}, expected {}", json_kind(expected)),
        None => message.to_string(),
    };
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    let base = (path != ".").then_some(path);
    let key = match (base, named) {
        // The path may already end in the named key (`a.name`), but not merely in its letters
        // (`xname`).
        (Some(b), Some(n)) if b != n && !b.ends_with(&format!(".{n}")) => Some(format!("{b}.{n}")),
        (None, Some(n)) => Some(n.to_string()),
        (b, _) => b.map(str::to_string),
    };
    AdminError {
        status: StatusCode::BAD_REQUEST,
        key,
        message,
    }
}

/// What serde's `expected` text means in JSON terms; other texts are kept.
fn json_kind(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "char" => "a one-character string",
        e if e.starts_with("struct ") || e.starts_with("tuple struct ") => "a JSON object",
        e if e.starts_with("enum ") => "a string",
        e => e,
    }
}

/// Deserializes `T`, a struct, from a JSON object only (not from an array, by position).
fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct ObjectOnly<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(ObjectOnly(PhantomData))
}

/// A struct read by [`object`].
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Obj)
    }
}

/// `deserialize_with` for an optional list of structs (as [`present`]): each entry must be a
/// JSON object.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    object_list(d).map(Some)
}

/// `deserialize_with` for a list of structs defaulting to empty: each entry must be a JSON
/// object.
pub fn object_list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    let list = Vec::<Obj<T>>::deserialize(d)?;
    Ok(list.into_iter().map(|o| o.0).collect())
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

/// The longest session idle timeout: 24 hours, Salesforce's longest. Its shortest is 15 minutes;
/// the emulator goes down to 1 s so tests can watch a session expire.
pub const MAX_SESSION_TIMEOUT_SECS: u64 = 24 * 3600;

/// A session idle timeout in seconds: 1 to [`MAX_SESSION_TIMEOUT_SECS`] (0 would end every
/// session at once).
pub fn check_session_timeout(secs: u64) -> Result<u64, String> {
    if !(1..=MAX_SESSION_TIMEOUT_SECS).contains(&secs) {
        return Err(format!(
            "a session timeout of {secs} s is outside 1..={MAX_SESSION_TIMEOUT_SECS} (24 hours)"
        ));
    }
    Ok(secs)
}

/// A connected app's callback URL: absolute, without a fragment (OAuth 2.0 forbids one in a
/// redirect URI), as Salesforce's connected app form checks.
pub fn check_callback_url(s: &str) -> Result<String, String> {
    let u = url::Url::parse(s).map_err(|e| format!("{s:?} is not an absolute URL: {e}"))?;
    if u.fragment().is_some() {
        return Err(format!("{s:?} has a fragment; a callback URL cannot"));
    }
    Ok(s.to_string())
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

    pub fn session_timeout(s: &str) -> Result<u64, String> {
        super::check_session_timeout(s.parse().map_err(|e| format!("{s:?}: {e}"))?)
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
        #[serde(default, deserialize_with = "objects")]
        list: Option<Vec<Item>>,
        #[serde(default)]
        xname: Option<Item>,
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
        // A path that merely ends in the missing key's letters still gets the key added.
        assert_eq!(
            key(r#"{"seed":1,"xname":{}}"#).as_deref(),
            Some("xname.name")
        );
        assert_eq!(key("nope"), None);
        assert_eq!(key(r#"{"seed":1} x"#), None);
        assert!(parse::<Body>(br#"{"seed":1,"lag":5}"#).is_ok());
        // A struct is never filled from an array, by position.
        assert_eq!(
            key(r#"{"seed":1,"list":[{"name":"a"},["b"]]}"#).as_deref(),
            Some("list[1]")
        );
    }

    #[test]
    fn a_body_must_be_an_object() {
        for body in ["[1]", "[]", " [1, 5] ", "5", "\"x\"", "null", "true"] {
            let e = parse::<Body>(body.as_bytes()).unwrap_err();
            assert_eq!(
                (e.status, e.key.as_deref(), e.message.as_str()),
                (
                    StatusCode::BAD_REQUEST,
                    None,
                    "the body must be a JSON object"
                ),
                "{body}"
            );
        }
        for body in ["", "[1", "{"] {
            let e = parse::<Body>(body.as_bytes()).unwrap_err();
            assert!(e.message.starts_with("the body is not JSON"), "{body}: {e}");
        }
    }

    #[test]
    fn messages_name_json_kinds_not_rust_types() {
        for body in [
            r#"{"seed":"x"}"#,
            r#"{"seed":-1}"#,
            r#"{"seed":1,"list":[5]}"#,
            r#"{"seed":1,"list":[{"name":1}]}"#,
        ] {
            let m = parse::<Body>(body.as_bytes()).unwrap_err().message;
            for rust in ["u64", "struct", "Body", "Item", "String"] {
                assert!(!m.contains(rust), "{body}: {m}");
            }
        }
        let m = parse::<Body>(br#"{"seed":"x"}"#).unwrap_err().message;
        assert!(m.ends_with("expected a non-negative integer"), "{m}");
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
        assert!(flag::session_timeout("0").is_err() && flag::session_timeout("86401").is_err());
        assert_eq!(flag::session_timeout("1"), Ok(1));
        assert!(check_callback_url("not a url").is_err());
        assert!(check_callback_url("https://a.example/cb#x").is_err());
        assert!(check_callback_url("http://localhost:1717/OauthRedirect").is_ok());
    }
}
