//! Our own message headers (`sfprivacy-*`; `x-` headers belong to the broker) and the AMQP
//! properties every message we publish carries.

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

pub const ATTEMPTS: &str = "sfprivacy-attempts";
pub const ERROR_CODE: &str = "sfprivacy-error-code";
pub const ERROR: &str = "sfprivacy-error";
pub const FAILED_AT: &str = "sfprivacy-failed-at";
pub const WORKER_VERSION: &str = "sfprivacy-worker-version";

/// Reads our attempt counter (0 when absent or malformed).
pub fn attempts(props: &BasicProperties) -> u32 {
    let Some(h) = props.headers() else { return 0 };
    match h.inner().get(ATTEMPTS) {
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongUInt(n)) => *n,
        Some(AMQPValue::ShortInt(n)) => u32::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongString(s)) => s.to_string().parse().unwrap_or(0),
        _ => 0,
    }
}

/// Whether the header is present, whatever its value.
pub fn has(props: &BasicProperties, name: &str) -> bool {
    props
        .headers()
        .as_ref()
        .is_some_and(|h| h.inner().contains_key(name))
}

/// Reads a string header (for tests and replay).
pub fn string(props: &BasicProperties, name: &str) -> Option<String> {
    match props.headers().as_ref()?.inner().get(name)? {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

/// The original properties with our headers set: attempt count and, when given, the error.
pub fn with_failure(
    props: &BasicProperties,
    attempts: u32,
    error: Option<(&str, &str)>,
) -> BasicProperties {
    let mut table = props.headers().clone().unwrap_or_default();
    set(
        &mut table,
        ATTEMPTS,
        AMQPValue::LongLongInt(i64::from(attempts)),
    );
    if let Some((code, message)) = error {
        set(&mut table, ERROR_CODE, long(code));
        // Error texts are ours or Salesforce's, never personal data; cap them anyway.
        set(&mut table, ERROR, long(&truncate(message, 2000)));
        set(&mut table, FAILED_AT, long(&crate::message::now()));
        set(&mut table, WORKER_VERSION, long(env!("CARGO_PKG_VERSION")));
    }
    props.clone().with_headers(table)
}

fn set(t: &mut FieldTable, k: &str, v: AMQPValue) {
    t.insert(ShortString::from(k), v);
}

fn long(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Properties of a message we originate: persistent JSON with ids and our type name.
pub fn outgoing(
    message_id: &str,
    correlation_id: &str,
    kind: &str,
) -> Result<BasicProperties, super::BrokerError> {
    let ts = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    Ok(BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_message_id(super::short(message_id)?)
        .with_correlation_id(super::short(correlation_id)?)
        .with_type(super::short(kind)?)
        .with_app_id("sfprivacy".into())
        .with_timestamp(ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_round_trip_and_errors_are_set() {
        let p = BasicProperties::default();
        assert_eq!(attempts(&p), 0);
        let p = with_failure(&p, 3, Some(("SERVER_UNAVAILABLE", "down")));
        assert_eq!(attempts(&p), 3);
        assert_eq!(
            string(&p, ERROR_CODE).as_deref(),
            Some("SERVER_UNAVAILABLE")
        );
        assert!(string(&p, FAILED_AT).is_some());
        assert_eq!(
            string(&p, WORKER_VERSION).as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
    }
}
