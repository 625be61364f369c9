//! Wire contract v1: every message the platform sends us and every message we send back.
//!
//! A delivery becomes a validated [`Request`] exactly once, here, at the edge ([`Request::parse`]);
//! inner code only ever holds validated values (emails are [`SubjectEmail`]s). What fails
//! validation is a [`ContractError`] whose `code()` the broker writes into the dead-letter headers.
//! `sfprivacy schema` prints the JSON Schemas produced by [`schemas`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The only contract version this worker speaks.
pub const VERSION: u32 = 1;

/// Why a message body is not a valid request. Each variant has a stable code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContractError {
    #[error("body is not valid UTF-8 JSON: {0}")]
    InvalidJson(String),
    /// Holds the type as [`redact_value`] shows it.
    #[error("unknown message type {0}")]
    UnknownType(String),
    #[error("unsupported version {0} (this worker speaks version {VERSION})")]
    UnsupportedVersion(u64),
    #[error("invalid field `{field}`: {reason}")]
    InvalidField { field: String, reason: String },
    #[error("invalid email address at subject.emails[{index}]: {reason}")]
    InvalidEmail { index: usize, reason: &'static str },
}

impl ContractError {
    /// Stable machine-readable code, used in dead-letter headers and `failed` results.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::UnknownType(_) => "unknown_type",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::InvalidField { .. } => "invalid_field",
            Self::InvalidEmail { .. } => "invalid_email",
        }
    }

    fn field(field: &str, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

// Why an address was refused: our own texts, never the address (errors reach logs).
const EMAIL_TOO_LONG: &str = "longer than 254 characters";
const EMAIL_SPACES: &str = "contains whitespace or control characters";
const EMAIL_NO_AT: &str = "no @";
const EMAIL_LOCAL: &str = "the part before @ is empty or longer than 64 characters";
const EMAIL_SHAPE: &str = "not a name, an @ and a dotted domain name";
const EMAIL_REASONS: [&str; 5] = [
    EMAIL_TOO_LONG,
    EMAIL_SPACES,
    EMAIL_NO_AT,
    EMAIL_LOCAL,
    EMAIL_SHAPE,
];

/// An email address that passed validation, trimmed and lowercased (Salesforce compares email
/// fields case-insensitively). Its `Debug` and `Display` never show the address: use
/// [`SubjectEmail::hashed`] in logs and [`SubjectEmail::as_str`] only where Salesforce needs it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubjectEmail(String);

impl SubjectEmail {
    pub fn parse(raw: &str) -> Option<Self> {
        Self::check(raw).ok()
    }

    /// The address, or what is wrong with it (never the address itself: errors reach logs).
    pub fn check(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        // Characters, not bytes: what JSON Schema's lengths count, so the schema can say it.
        if s.chars().count() > 254 {
            return Err(EMAIL_TOO_LONG);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EMAIL_SPACES);
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(EMAIL_NO_AT);
        };
        if local.is_empty() || local.chars().count() > 64 {
            return Err(EMAIL_LOCAL);
        }
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && l.chars().count() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        let ok = !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && domain.contains('.')
            && labels_ok;
        if ok {
            Ok(Self(s.to_lowercase()))
        } else {
            Err(EMAIL_SHAPE)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Short keyed digest for logs ([`crate::subject_digest`]): lets an operator correlate
    /// without seeing the address, and cannot be checked against a guessed address without
    /// the key.
    pub fn hashed(&self) -> String {
        crate::subject_digest::digest(&self.0)
    }
}

impl fmt::Debug for SubjectEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectEmail({})", self.hashed())
    }
}

/// The wire form as a JSON Schema: [`SubjectEmail::check`]'s rules as a pattern.
impl JsonSchema for SubjectEmail {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SubjectEmail".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An email address, matched case-insensitively and exactly: once surrounding whitespace is trimmed, at most 254 characters, no whitespace or control characters, exactly one @; before it 1 to 64 characters, not starting or ending with a dot nor holding two in a row; after it two or more dot-separated labels of 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen (a non-ASCII character in the domain must be a letter or digit, which the pattern cannot say portably)",
            "type": "string",
            "pattern": EMAIL_PATTERN
        })
    }
}

/// End of text. Not `$`: Python's `re` (python-jsonschema) lets `$` match before a final
/// newline, so `"a\n"` would pass a pattern the worker's rule refuses.
macro_rules! end_of_text {
    () => {
        r"(?![\s\S])"
    };
}

/// [`is_contract_id`] as a JSON Schema pattern.
const ID_PATTERN: &str = concat!(r"^[A-Za-z0-9_.:-]{1,128}", end_of_text!());

/// [`check_api_name`] as a JSON Schema pattern.
const API_NAME_PATTERN: &str = concat!(r"^[A-Za-z][A-Za-z0-9_]{0,79}", end_of_text!());

/// [`SubjectEmail::check`] as a JSON Schema pattern (ECMA-262 and Python `re` alike): trimmed
/// length, local-part length, the local part's dots, then the dotted domain.
const EMAIL_PATTERN: &str = concat!(
    r"^\s*",
    r"(?=\S{1,254}\s*",
    end_of_text!(),
    ")",
    r"(?=[^@]{1,64}@)",
    r"[^\s\x00-\x1f\x7f-\x9f@.]+(?:\.[^\s\x00-\x1f\x7f-\x9f@.]+)*",
    "@",
    r"[A-Za-z0-9\u00a0-\uffff](?:[-A-Za-z0-9\u00a0-\uffff]{0,61}[A-Za-z0-9\u00a0-\uffff])?",
    r"(?:\.[A-Za-z0-9\u00a0-\uffff](?:[-A-Za-z0-9\u00a0-\uffff]{0,61}[A-Za-z0-9\u00a0-\uffff])?)+",
    r"\s*",
    end_of_text!()
);

impl TryFrom<String> for SubjectEmail {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::check(&s).map_err(|why| format!("invalid email address: {why}"))
    }
}

impl From<SubjectEmail> for String {
    fn from(e: SubjectEmail) -> String {
        e.0
    }
}

/// Any request the worker consumes, routed by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Dsr(DsrRequest),
    Scan(ScanRequest),
    ScanPart(ScanPart),
}

impl Request {
    /// Validates a delivery body. The only way raw bytes become a request.
    pub fn parse(body: &[u8]) -> Result<Self, ContractError> {
        let mut value = strict_value(body)?;
        whole_numbers_as_integers(&mut value);
        let obj = value
            .as_object()
            .ok_or_else(|| ContractError::InvalidJson("top-level value is not an object".into()))?;
        let kind = match obj.get("type") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(_) => return Err(ContractError::field("type", "must be a string")),
            None => return Err(ContractError::field("type", "missing")),
        };
        if !matches!(kind.as_str(), "dsr.request" | "scan.request" | "scan.part") {
            return Err(ContractError::UnknownType(redact_value(&kind).into_owned()));
        }
        match obj.get("version") {
            Some(v) => match v.as_u64() {
                Some(n) if n == u64::from(VERSION) => {}
                Some(n) => return Err(ContractError::UnsupportedVersion(n)),
                // 1e30, -1, 1.5, "1": say what is accepted rather than what the value is not.
                None => {
                    return Err(ContractError::field(
                        "version",
                        format!("must be {VERSION}, the only contract version this worker speaks"),
                    ));
                }
            },
            None => return Err(ContractError::field("version", "missing")),
        }
        let request = match kind.as_str() {
            "dsr.request" => {
                // serde would also take a struct from a list of its fields in order
                // (`"options": [true, null, false]`); the contract (and its schema) says object.
                for field in ["subject", "options"] {
                    if obj.get(field).is_some_and(|v| !v.is_object()) {
                        return Err(ContractError::field(field, "must be an object"));
                    }
                }
                Request::Dsr(from_value(value)?)
            }
            "scan.request" => {
                check_count(obj, "max_records_per_object")?;
                Request::Scan(from_value(value)?)
            }
            _ => {
                check_count(obj, "max_records")?;
                Request::ScanPart(from_value(value)?)
            }
        };
        request.validate()?;
        Ok(request)
    }

    /// `sha256:` + hex of the parsed request serialised as compact JSON: whitespace and key
    /// order of the body do not change it, any field that changes what is done does. Stored
    /// with job state and DSR checkpoints so a reused id is told apart from a redelivery.
    pub fn fingerprint(&self) -> String {
        let json = match self {
            Request::Dsr(r) => serde_json::to_vec(r),
            Request::Scan(r) => serde_json::to_vec(r),
            Request::ScanPart(p) => serde_json::to_vec(p),
        };
        // Plain structs of strings, numbers and lists: serialising them cannot fail, but if it
        // ever did, the Debug form (emails as hashes) is still a deterministic input.
        let bytes = json.unwrap_or_else(|_| format!("{self:?}").into_bytes());
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)))
    }

    /// The id results are correlated with (`request_id`, `scan_id`).
    pub fn id(&self) -> &str {
        match self {
            Request::Dsr(r) => &r.request_id,
            Request::Scan(r) => &r.scan_id,
            Request::ScanPart(p) => &p.part_id,
        }
    }

    pub fn connection_id(&self) -> &str {
        match self {
            Request::Dsr(r) => &r.connection_id,
            Request::Scan(r) => &r.connection_id,
            Request::ScanPart(p) => &p.connection_id,
        }
    }

    /// The routing key (work queue) this type is sent with.
    pub fn routing_key(&self) -> &'static str {
        match self {
            Request::Dsr(_) => "dsr",
            Request::Scan(_) => "scan",
            Request::ScanPart(_) => "scan.part",
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Request::Dsr(_) => "dsr.request",
            Request::Scan(_) => "scan.request",
            Request::ScanPart(_) => "scan.part",
        }
    }

    fn validate(&self) -> Result<(), ContractError> {
        check_id("connection_id", self.connection_id())?;
        match self {
            Request::Dsr(r) => {
                check_id("request_id", &r.request_id)?;
                if r.subject.emails.is_empty() {
                    return Err(ContractError::field("subject.emails", "must not be empty"));
                }
                if r.subject.emails.len() > 50 {
                    return Err(ContractError::field(
                        "subject.emails",
                        "at most 50 addresses",
                    ));
                }
                if let ObjectSelection::Listed(list) = &r.options.objects {
                    check_object_list("options.objects", list)?;
                }
                Ok(())
            }
            Request::Scan(r) => {
                check_id("scan_id", &r.scan_id)?;
                if let Some(list) = &r.objects {
                    check_object_list("objects", list)?;
                }
                Ok(())
            }
            Request::ScanPart(p) => {
                check_id("scan_id", &p.scan_id)?;
                check_id("part_id", &p.part_id)?;
                check_api_name("object", &p.object)
            }
        }
    }

    /// Best-effort read of the request id from a body that failed validation, so the platform
    /// can still get a `failed` result for it. Reads only the id fields and skips the rest
    /// unparsed, so a body nested too deep to become a `serde_json::Value` (serde_json's limit
    /// of 128 levels) still gives its id. One of these fields given twice makes the id ambiguous:
    /// serde's derive refuses it, and nothing is salvaged.
    pub fn salvage_id(body: &[u8]) -> Option<Salvaged> {
        let v: SalvageFields = serde_json::from_slice(body).ok()?;
        let text = |x: Option<serde_json::Value>| match x {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        let id = match text(v.request_id) {
            Some(id) => Some(id),
            None => text(v.scan_id),
        }
        .filter(|s| is_contract_id(s))?;
        // The action only when it is one of the contract's: the platform can then file the
        // failure under the right kind of request.
        let action = v
            .action
            .and_then(|a| serde_json::from_value::<DsrAction>(a).ok());
        Some(Salvaged {
            id,
            kind: text(v.kind),
            connection_id: text(v.connection_id),
            action,
        })
    }
}

/// What [`Request::salvage_id`] read from a body that is not a valid request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvaged {
    /// `request_id`, else `scan_id`; always passes [`is_contract_id`].
    pub id: String,
    /// `type`, unchecked.
    pub kind: Option<String>,
    /// `connection_id`, unchecked.
    pub connection_id: Option<String>,
    /// `action`, when it names one of the contract's actions.
    pub action: Option<DsrAction>,
}

/// The top-level fields a salvage reads; any value type is accepted here (a number where the
/// connection id belongs must not cost the request id its result).
#[derive(Deserialize)]
struct SalvageFields {
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    request_id: Option<serde_json::Value>,
    scan_id: Option<serde_json::Value>,
    connection_id: Option<serde_json::Value>,
    action: Option<serde_json::Value>,
}

/// The body as a JSON value, refusing a key given twice in any object: `serde_json::Value`
/// keeps the last one silently, so `"request_id":"a", …, "request_id":"b"` would run as `b`
/// while a reader keeping the first sees `a`. The error names the key's path, not the values.
fn strict_value(body: &[u8]) -> Result<serde_json::Value, ContractError> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = StrictValue { at: None }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    value.map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix(DUPLICATE_KEY) {
            Some(rest) => {
                // serde_json appends " at line L column C" to a custom error.
                let path = rest.rsplit_once(" at line ").map_or(rest, |(p, _)| p);
                ContractError::field(path, "duplicate key")
            }
            None => ContractError::InvalidJson(redact_error_text(&text)),
        }
    })
}

const DUPLICATE_KEY: &str = "duplicate key: ";

/// Builds a `serde_json::Value` as its own `Deserialize` does, but fails on a duplicate key,
/// naming its path (each key as [`redact_value`] shows it: keys are input too).
struct StrictValue<'p> {
    /// Where the value sits; a chain of borrowed segments, written out only for an error, so a
    /// large body costs no allocation per value.
    at: Option<&'p PathNode<'p>>,
}

struct PathNode<'p> {
    segment: Segment<'p>,
    up: Option<&'p PathNode<'p>>,
}

enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

impl PathNode<'_> {
    /// `subject.emails[2]`, as `serde_path_to_error` writes paths.
    fn render(&self) -> String {
        let mut segments = vec![&self.segment];
        let mut up = self.up;
        while let Some(node) = up {
            segments.push(&node.segment);
            up = node.up;
        }
        let mut out = String::new();
        for segment in segments.into_iter().rev() {
            match segment {
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&redact_value(k));
                }
            }
        }
        out
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for StrictValue<'_> {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for StrictValue<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let node = PathNode {
                segment: Segment::Index(out.len()),
                up: self.at,
            };
            match seq.next_element_seed(StrictValue { at: Some(&node) })? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let node = PathNode {
                segment: Segment::Key(&key),
                up: self.at,
            };
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "{DUPLICATE_KEY}{}",
                    node.render()
                )));
            }
            let value = map.next_value_seed(StrictValue { at: Some(&node) })?;
            out.insert(key, value);
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// Whole numbers written with a fraction or exponent (`1.0`, `2e3`) as the integers they are,
/// when they fit one: JSON (and JSON Schema's `integer`) does not tell 1.0 from 1.
fn whole_numbers_as_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0) {
                if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                    *n = (f as u64).into();
                } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
                    *n = (f as i64).into();
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// One JSON document that names no key twice in any object, or an error naming the first
/// such key's path (as [`redact_value`] shows each key) and never a value: for other readers
/// of untrusted JSON (`classify`'s JSON Lines).
pub fn json_without_duplicate_keys(text: &[u8]) -> Result<serde_json::Value, ContractError> {
    strict_value(text)
}

fn from_value<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ContractError> {
    // serde_path_to_error names where the body went wrong (`options.action`,
    // `subject.emails[2]`), which serde_json alone does not for a `Value`.
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = redacted_path(e.path());
        let msg = e.inner().to_string();
        if msg.contains("invalid email address") {
            let index = path
                .rsplit_once('[')
                .and_then(|(_, rest)| rest.trim_end_matches(']').parse().ok())
                .unwrap_or(0);
            // Our own reason text (`SubjectEmail::check`), which never holds the address.
            let reason = EMAIL_REASONS
                .into_iter()
                .find(|r| msg.contains(r))
                .unwrap_or("not a valid address");
            return ContractError::InvalidEmail { index, reason };
        }
        // A missing field is reported at its parent's path; name the field itself.
        if let Some(name) = msg
            .split_once("missing field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name)
        {
            let field = if path == "." {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            return ContractError::InvalidField {
                field,
                reason: "missing".into(),
            };
        }
        ContractError::InvalidField {
            field: if path == "." { "body".into() } else { path },
            reason: redact_error_text(&msg),
        }
    })
}

/// The path as `serde_path_to_error` writes it (`subject.emails[2]`, `.` for the top), each key
/// as [`redact_value`] shows it: an unknown key is input too.
fn redacted_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&redact_value(key));
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    if out.is_empty() { ".".into() } else { out }
}

/// An id, type or name read from input, fit for an error text, a log line or a printed
/// summary: kept when it passes the contract's id rule ([`is_contract_id`]: no address, no
/// spaces, at most 128 characters), otherwise only its length. The one redaction of a whole
/// value; [`redact_error_text`] uses the same form for the values serde quotes.
pub fn redact_value(v: &str) -> std::borrow::Cow<'_, str> {
    if is_contract_id(v) {
        v.into()
    } else {
        redacted(v.chars().count()).into()
    }
}

/// How a value that may not be shown is written: its length only.
fn redacted(chars: usize) -> String {
    format!("(redacted, {chars} chars)")
}

/// A serde error text without the input values it quotes (they may be a subject's email or
/// name): `string "…"` becomes `string (redacted, N chars)`, the backticked value after
/// `unknown variant`, `integer`, `floating point` and `character` likewise (after `unknown
/// field` only when it fails the id rule), and anything
/// email-shaped left over (an unknown field named like an address) is masked. Field paths,
/// expected types and our own names (`expected one of …`) stay, so the error remains clear.
pub fn redact_error_text(msg: &str) -> String {
    const TICKED: [&str; 5] = [
        "unknown field `",
        "unknown variant `",
        "integer `",
        "floating point `",
        "character `",
    ];
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    loop {
        let next_str = rest.find("string \"");
        let next_tick = TICKED
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
            .min();
        match (next_str, next_tick) {
            (Some(i), t) if t.is_none_or(|(j, _)| i < j) => {
                let start = i + "string \"".len();
                out.push_str(&rest[..i]);
                let (len, after) = quoted_len(&rest[start..]);
                out.push_str(&format!("string {}", redacted(len)));
                rest = &rest[start + after..];
            }
            (_, Some((j, plen))) => {
                let start = j + plen;
                // The label without its trailing " `".
                let label = &rest[j..start - 2];
                out.push_str(&rest[..j]);
                match rest[start..].find('`') {
                    Some(end) => {
                        let value = &rest[start..start + end];
                        // A field name is kept by the id rule, like every name we quote.
                        if label == "unknown field" && is_contract_id(value) {
                            out.push_str(&format!("{label} `{value}`"));
                        } else {
                            out.push_str(&format!("{label} {}", redacted(value.chars().count())));
                        }
                        rest = &rest[start + end + 1..];
                    }
                    None => {
                        out.push_str(label);
                        rest = "";
                    }
                }
            }
            _ => {
                out.push_str(rest);
                break;
            }
        }
    }
    redact_emails(&out)
}

/// Chars inside a Debug-quoted string (up to its closing unescaped quote) and the byte offset
/// just past that quote (the whole text when it is unterminated).
fn quoted_len(s: &str) -> (usize, usize) {
    let mut n = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
            continue;
        } else if c == '"' {
            return (n, i + 1);
        }
        n += 1;
    }
    (n, s.len())
}

/// Masks every email-shaped run (`local@domain.tld`) in `s`.
pub fn redact_emails(s: &str) -> String {
    let is_part = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'');
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut lo = i;
            while lo > 0 && is_part(chars[lo - 1]) {
                lo -= 1;
            }
            let mut hi = i + 1;
            while hi < chars.len() && is_part(chars[hi]) {
                hi += 1;
            }
            let domain: String = chars[i + 1..hi].iter().collect();
            if lo < i && domain.contains('.') {
                // The local part was already copied: take it back, then skip the address.
                for _ in lo..i {
                    out.pop();
                }
                out.push_str("(redacted email)");
                i = hi;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The contract's rule for request, scan and connection ids: 1 to 128 letters, digits and
/// `- _ . :` (so an id is safe to log, to put in a Redis key and to echo in a result).
pub fn is_contract_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(id_char)
}

fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

fn check_id(field: &str, id: &str) -> Result<(), ContractError> {
    if id.is_empty() || id.len() > 128 {
        return Err(ContractError::field(field, "must be 1 to 128 characters"));
    }
    if !id.chars().all(id_char) {
        return Err(ContractError::field(
            field,
            "may hold only letters, digits and - _ . :",
        ));
    }
    Ok(())
}

/// A record limit: `null`, absent, or a whole number from 1 to `u64::MAX` (serde's own errors
/// for -1, 1.5 or 1e30 would say `expected u64` and hide the value).
fn check_count(
    obj: &serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Result<(), ContractError> {
    match obj.get(field) {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(v) if v.as_u64().is_some_and(|n| n >= 1) => Ok(()),
        Some(_) => Err(ContractError::field(
            field,
            format!("must be null or a whole number from 1 to {}", u64::MAX),
        )),
    }
}

/// Objects named in a request beyond which a list is surely a mistake (each costs API calls).
pub const MAX_LISTED_OBJECTS: usize = 200;

/// A listed selection: not empty (that would select nothing and still report success), not
/// longer than [`MAX_LISTED_OBJECTS`], API names only, none twice (each would be searched again).
fn check_object_list(field: &str, list: &[String]) -> Result<(), ContractError> {
    if list.is_empty() {
        return Err(ContractError::field(
            field,
            "an empty list selects nothing: give null for the default objects",
        ));
    }
    if list.len() > MAX_LISTED_OBJECTS {
        return Err(ContractError::field(
            field,
            format!("at most {MAX_LISTED_OBJECTS} objects"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, o) in list.iter().enumerate() {
        check_api_name(&format!("{field}[{i}]"), o)?;
        // API names are case-insensitive in Salesforce.
        if !seen.insert(o.to_ascii_lowercase()) {
            return Err(ContractError::field(
                &format!("{field}[{i}]"),
                "names an object already listed",
            ));
        }
    }
    Ok(())
}

fn check_api_name(field: &str, name: &str) -> Result<(), ContractError> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ContractError::field(field, "not a Salesforce API name"))
    }
}

/// A data subject request: copy, delete or anonymize one person's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DsrRequest {
    #[serde(rename = "type")]
    #[schemars(with = "DsrRequestType")]
    pub kind: String,
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    #[schemars(length(min = 1, max = 128), pattern(ID_PATTERN))]
    pub request_id: String,
    #[schemars(length(min = 1, max = 128), pattern(ID_PATTERN))]
    pub connection_id: String,
    pub action: DsrAction,
    pub subject: Subject,
    #[serde(default)]
    pub options: DsrOptions,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum DsrRequestType {
    #[serde(rename = "dsr.request")]
    DsrRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DsrAction {
    Copy,
    Delete,
    Anonymize,
}

impl DsrAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DsrAction::Copy => "copy",
            DsrAction::Delete => "delete",
            DsrAction::Anonymize => "anonymize",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    #[schemars(length(min = 1, max = 50))]
    pub emails: Vec<SubjectEmail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DsrOptions {
    /// Plan only: report what would be done and write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// `null`: User, Lead, Contact (and their associated records for delete/anonymize);
    /// `"all"`: every object with an email field; a list: those objects.
    #[serde(default)]
    pub objects: ObjectSelection,
    /// Also purge deleted rows from the recycle bin.
    #[serde(default)]
    pub hard_delete: bool,
}

/// Which objects a DSR covers.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ObjectSelection {
    #[default]
    Default,
    All,
    Listed(Vec<String>),
}

/// The wire forms (`null`, `"all"`, a list of API names), not the Rust enum's shape.
impl JsonSchema for ObjectSelection {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ObjectSelection".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "null: User, Lead and Contact; \"all\": every object with an email field and the matched records' associated records; or a list of API names",
            "oneOf": [
                {"type": "null"},
                {"const": "all"},
                {
                    "type": "array",
                    "items": {"type": "string", "pattern": API_NAME_PATTERN},
                    "minItems": 1,
                    "maxItems": MAX_LISTED_OBJECTS,
                    "uniqueItems": true
                }
            ]
        })
    }
}

impl Serialize for ObjectSelection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ObjectSelection::Default => s.serialize_none(),
            ObjectSelection::All => s.serialize_str("all"),
            ObjectSelection::Listed(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ObjectSelection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Str(String),
            List(Vec<String>),
        }
        match Option::<Raw>::deserialize(d)? {
            None => Ok(ObjectSelection::Default),
            Some(Raw::Str(s)) if s == "all" => Ok(ObjectSelection::All),
            // The value is not echoed: error texts reach logs and dead-letter headers.
            Some(Raw::Str(_)) => Err(serde::de::Error::custom(
                "expected null, \"all\" or a list of API names",
            )),
            Some(Raw::List(v)) => Ok(ObjectSelection::Listed(v)),
        }
    }
}

/// A data classification scan of a whole org (or of the listed objects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[serde(rename = "type")]
    #[schemars(with = "ScanRequestType")]
    pub kind: String,
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    #[schemars(length(min = 1, max = 128), pattern(ID_PATTERN))]
    pub scan_id: String,
    #[schemars(length(min = 1, max = 128), pattern(ID_PATTERN))]
    pub connection_id: String,
    #[serde(default)]
    pub confidence: ConfidenceLevel,
    /// `null`: every object the scan can read; a list: those objects.
    #[serde(default)]
    #[schemars(schema_with = "object_list_or_null")]
    pub objects: Option<Vec<String>>,
    /// `null`: every record.
    #[serde(default)]
    #[schemars(schema_with = "count_or_null")]
    pub max_records_per_object: Option<u64>,
}

/// A listed selection as [`check_object_list`] accepts it, or `null`. Names are compared
/// case-insensitively by the worker; `uniqueItems` compares exactly, so `["Contact","contact"]`
/// passes the schema and is refused.
fn object_list_or_null(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["array", "null"],
        "items": {"type": "string", "pattern": API_NAME_PATTERN},
        "minItems": 1,
        "maxItems": MAX_LISTED_OBJECTS,
        "uniqueItems": true,
        "default": null
    })
}

/// A record limit as [`check_count`] accepts it, or `null`.
fn count_or_null(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": u64::MAX,
        "default": null
    })
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum ScanRequestType {
    #[serde(rename = "scan.request")]
    ScanRequest,
}

/// One part of a scan (an object, or a slice of a large one); internal, on `scan.part`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanPart {
    #[serde(rename = "type")]
    #[schemars(with = "ScanPartType")]
    pub kind: String,
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    #[schemars(length(min = 1, max = 128), pattern(ID_PATTERN))]
    pub scan_id: String,
    #[schemars(length(min = 1, max = 128), pattern(ID_PATTERN))]
    pub part_id: String,
    #[schemars(length(min = 1, max = 128), pattern(ID_PATTERN))]
    pub connection_id: String,
    #[schemars(length(min = 1, max = 80), pattern(API_NAME_PATTERN))]
    pub object: String,
    /// Exclusive lower bound on `Id` for a slice; `None` from the start.
    #[serde(default)]
    pub id_after: Option<String>,
    /// Inclusive upper bound on `Id` for a slice; `None` to the end.
    #[serde(default)]
    pub id_upto: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "count_or_null")]
    pub max_records: Option<u64>,
    pub confidence: ConfidenceLevel,
    /// Where the final report goes (the scan request's `reply_to`), if set.
    #[serde(default)]
    pub reply_to: Option<String>,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum ScanPartType {
    #[serde(rename = "scan.part")]
    ScanPart,
}

/// Confidence levels; the request's level is the threshold for reporting a data type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceLevel {
    Low,
    #[default]
    Medium,
    High,
}

/// Terminal (or `dead_lettered`) status of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// Everything was done.
    Completed,
    /// Some records or fields could not be processed; each is listed with its error code.
    Partial,
    /// The request itself is invalid or impossible.
    Failed,
    /// Not terminal: parked in the dead-letter queue for an operator; a replay produces the
    /// terminal result.
    DeadLettered,
}

/// A machine-readable error with a human-readable message (never personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcomeKind {
    Copied,
    Deleted,
    Anonymized,
    Skipped,
    Failed,
    AlreadyDeleted,
    CascadeDeleted,
    /// Dry run: this is what would happen.
    Planned,
}

/// One record's line in a result: names of fields, never their values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecordOutcome {
    pub object: String,
    pub id: String,
    pub outcome: RecordOutcomeKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Salesforce's errorCode/statusCode where the record failed (or a field was left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Why: Salesforce's message, or our reason for skipping (no personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One chunk of an export, published before the terminal result when an export is large.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExportChunk {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub message_id: String,
    pub correlation_id: String,
    pub request_id: String,
    /// 1-based.
    pub chunk: u32,
    pub records: Vec<ExportedRecord>,
}

/// A record as exported to the subject: every readable field, compound fields as components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExportedRecord {
    pub object: String,
    pub id: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A reference to a published chunk, listed in the terminal result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChunkRef {
    pub chunk: u32,
    pub message_id: String,
    pub records: u32,
    /// `sha256:` + hex of the chunk's `records` array serialised as compact JSON.
    pub checksum: String,
}

/// The export part of a copy result: inline records, or the chunks that carried them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Export {
    pub record_count: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<ExportedRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<ChunkRef>,
}

/// The result of a DSR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DsrResult {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub message_id: String,
    pub correlation_id: String,
    pub request_id: String,
    pub connection_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<DsrAction>,
    pub status: ResultStatus,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub records: Vec<RecordOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
    /// Proof after delete/anonymize, or the plan on a dry run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Salesforce API calls this request used: across all attempts for a DSR that completed
    /// (its checkpoint adds them up), the ending attempt's in a `failed` or `dead_lettered`
    /// result.
    pub api_calls: u64,
    /// RFC 3339, UTC, milliseconds: `2026-12-04T16:43:07.286Z`.
    #[schemars(pattern(TIMESTAMP_PATTERN))]
    pub started_at: String,
    /// RFC 3339, UTC, milliseconds: `2026-12-04T16:43:07.286Z`.
    #[schemars(pattern(TIMESTAMP_PATTERN))]
    pub finished_at: String,
}

/// Progress of long work (not terminal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub message_id: String,
    pub correlation_id: String,
    pub phase: String,
    #[serde(default)]
    pub objects_done: u64,
    #[serde(default)]
    pub objects_total: u64,
    #[serde(default)]
    pub records_done: u64,
}

/// One data type found in a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataTypeVerdict {
    /// e.g. `email`, `phone`, `person_name`, `credit_card`, `iban`, `us_ssn`.
    pub data_type: String,
    /// Taxonomy category, e.g. `user.contact.email`.
    pub category: String,
    /// hits / non-empty values.
    pub prevalence: f64,
    pub hits: u64,
    /// 0..=1.
    pub confidence: f64,
    pub level: ConfidenceLevel,
    /// What the verdict rests on: `metadata`, `content`, or both.
    pub evidence: Vec<String>,
}

/// The verdict for one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FieldVerdict {
    pub field: String,
    pub non_empty: u64,
    pub data_types: Vec<DataTypeVerdict>,
}

/// The report for one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ObjectReport {
    pub object: String,
    pub records_scanned: u64,
    pub fields: Vec<FieldVerdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

/// The terminal result of a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanResult {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub message_id: String,
    pub correlation_id: String,
    pub scan_id: String,
    pub connection_id: String,
    pub status: ResultStatus,
    pub confidence: ConfidenceLevel,
    pub objects: Vec<ObjectReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    pub api_calls: u64,
    pub records_scanned: u64,
    /// RFC 3339, UTC, milliseconds: `2026-12-04T16:43:07.286Z`.
    #[schemars(pattern(TIMESTAMP_PATTERN))]
    pub started_at: String,
    /// RFC 3339, UTC, milliseconds: `2026-12-04T16:43:07.286Z`.
    #[schemars(pattern(TIMESTAMP_PATTERN))]
    pub finished_at: String,
}

/// A message timestamp (`started_at`, `finished_at`): RFC 3339 in UTC with `Z` and
/// milliseconds, `2026-12-04T16:43:07.286Z`. The one format of every message.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// [`timestamp`] of the current time.
pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

/// [`timestamp`]'s form as a JSON Schema pattern.
const TIMESTAMP_PATTERN: &str = concat!(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z",
    end_of_text!()
);

/// JSON Schemas of every message type, by type name.
pub fn schemas() -> serde_json::Value {
    serde_json::json!({
        "dsr.request": schemars::schema_for!(DsrRequest),
        "scan.request": schemars::schema_for!(ScanRequest),
        "scan.part": schemars::schema_for!(ScanPart),
        "dsr.result": schemars::schema_for!(DsrResult),
        "dsr.export_chunk": schemars::schema_for!(ExportChunk),
        "scan.result": schemars::schema_for!(ScanResult),
        "progress": schemars::schema_for!(Progress),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dsr(body: serde_json::Value) -> Result<Request, ContractError> {
        Request::parse(body.to_string().as_bytes())
    }

    #[test]
    fn parses_the_documented_dsr_example() {
        let r = dsr(serde_json::json!({
            "type": "dsr.request", "version": 1,
            "request_id": "b5f0c6d2-1", "connection_id": "acme-prod",
            "action": "copy",
            "subject": { "emails": ["Jane.Doe+x@Example.com"] },
            "options": { "dry_run": false, "objects": null, "hard_delete": false }
        }))
        .unwrap();
        let Request::Dsr(r) = r else {
            panic!("not a dsr")
        };
        assert_eq!(r.subject.emails[0].as_str(), "jane.doe+x@example.com");
        assert_eq!(r.options.objects, ObjectSelection::Default);
    }

    #[test]
    fn parses_the_documented_scan_example() {
        let r = Request::parse(
            br#"{ "type": "scan.request", "version": 1, "scan_id": "s-42", "connection_id": "acme-prod",
  "confidence": "medium", "objects": null, "max_records_per_object": null }"#,
        )
        .unwrap();
        assert_eq!(r.id(), "s-42");
    }

    #[test]
    fn a_scan_part_as_the_worker_writes_it_parses_back() {
        let part = ScanPart {
            kind: "scan.part".into(),
            version: VERSION,
            scan_id: "s-1".into(),
            part_id: "s-1.Contact.0".into(),
            connection_id: "c".into(),
            object: "Contact".into(),
            id_after: None,
            id_upto: Some("003z".into()),
            max_records: None,
            confidence: ConfidenceLevel::High,
            reply_to: None,
        };
        let body = serde_json::to_vec(&part).unwrap();
        assert_eq!(Request::parse(&body).unwrap(), Request::ScanPart(part));
    }

    #[test]
    fn rejects_each_kind_of_bad_message_with_its_code() {
        let cases: Vec<(&[u8], &str)> = vec![
            (b"not json", "invalid_json"),
            (br#"[1,2]"#, "invalid_json"),
            (br#"{"type":"dsr.nope","version":1}"#, "unknown_type"),
            (br#"{"type":"dsr.request","version":2}"#, "unsupported_version"),
            (br#"{"type":"dsr.request","version":1,"request_id":"a","connection_id":"c","action":"copy"}"#, "invalid_field"),
            (br#"{"type":"dsr.request","version":1,"request_id":"a","connection_id":"c","action":"copy","subject":{"emails":["no-at-sign"]}}"#, "invalid_email"),
            (br#"{"type":"dsr.request","version":1,"request_id":"a b","connection_id":"c","action":"copy","subject":{"emails":["a@b.co"]}}"#, "invalid_field"),
            (br#"{"type":"dsr.request","version":1,"request_id":"a","connection_id":"c","action":"purge","subject":{"emails":["a@b.co"]}}"#, "invalid_field"),
        ];
        for (body, code) in cases {
            let err = Request::parse(body).unwrap_err();
            assert_eq!(err.code(), code, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn a_number_out_of_range_says_what_is_accepted() {
        let reason = |body: &str| match Request::parse(body.as_bytes()).unwrap_err() {
            ContractError::InvalidField { field, reason } => format!("{field}: {reason}"),
            other => panic!("{other:?}"),
        };
        for v in ["1e30", "-1", "1.5", r#""1""#] {
            assert_eq!(
                reason(&format!(r#"{{"type":"dsr.request","version":{v}}}"#)),
                "version: must be 1, the only contract version this worker speaks",
                "{v}"
            );
        }
        for v in ["0", "-1", "1.5", "1e30", "18446744073709551616", r#""10""#] {
            let scan = format!(
                r#"{{"type":"scan.request","version":1,"scan_id":"s","connection_id":"c","max_records_per_object":{v}}}"#
            );
            assert_eq!(
                reason(&scan),
                "max_records_per_object: must be null or a whole number from 1 to 18446744073709551615",
                "{v}"
            );
        }
        // A whole number written with a fraction or exponent is that number.
        let scan = br#"{"type":"scan.request","version":1.0,"scan_id":"s","connection_id":"c","max_records_per_object":2e3}"#;
        let Request::Scan(r) = Request::parse(scan).unwrap() else {
            panic!("not a scan")
        };
        assert_eq!(r.max_records_per_object, Some(2000));
    }

    #[test]
    fn a_missing_field_is_named() {
        let body = br#"{"type":"dsr.request","version":1,"request_id":"a","connection_id":"c","action":"copy"}"#;
        let err = Request::parse(body).unwrap_err();
        assert_eq!(
            err,
            ContractError::InvalidField {
                field: "subject".into(),
                reason: "missing".into()
            }
        );
    }

    #[test]
    fn an_object_list_must_name_something_and_each_object_once() {
        let with = |objects: serde_json::Value| {
            let body = serde_json::json!({"type": "dsr.request", "version": 1, "request_id": "a",
                "connection_id": "c", "action": "delete", "subject": {"emails": ["a@b.co"]},
                "options": {"objects": objects}});
            Request::parse(body.to_string().as_bytes())
        };
        assert!(with(serde_json::json!(["Contact", "Lead"])).is_ok());
        assert!(with(serde_json::json!(null)).is_ok());
        assert!(with(serde_json::json!("all")).is_ok());
        let field_of = |r: Result<Request, ContractError>| match r {
            Err(ContractError::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field_of(with(serde_json::json!([]))), "options.objects");
        assert_eq!(
            field_of(with(serde_json::json!(["Contact", "contact"]))),
            "options.objects[1]"
        );
        let many: Vec<String> = (0..=MAX_LISTED_OBJECTS)
            .map(|i| format!("O{i}__c"))
            .collect();
        assert_eq!(field_of(with(serde_json::json!(many))), "options.objects");
        let scan = serde_json::json!({"type": "scan.request", "version": 1, "scan_id": "s",
            "connection_id": "c", "objects": []});
        assert_eq!(
            field_of(Request::parse(scan.to_string().as_bytes())),
            "objects"
        );
    }

    #[test]
    fn an_invalid_email_says_why_without_the_address() {
        let long = format!("{}@example.com", "j".repeat(300));
        for (email, reason) in [
            (long.as_str(), EMAIL_TOO_LONG),
            ("jane doe@example.com", EMAIL_SPACES),
            ("jane.example.com", EMAIL_NO_AT),
            ("jane@localhost", EMAIL_SHAPE),
        ] {
            let body = serde_json::json!({"type": "dsr.request", "version": 1, "request_id": "a",
                "connection_id": "c", "action": "copy", "subject": {"emails": ["ok@example.com", email]}});
            let err = Request::parse(body.to_string().as_bytes()).unwrap_err();
            assert_eq!(
                err,
                ContractError::InvalidEmail { index: 1, reason },
                "{email}"
            );
            let text = err.to_string();
            assert!(
                text.ends_with(reason) && !text.contains("jane") && !text.contains("jjj"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_bad_value_is_named_by_its_path() {
        let err = Request::parse(br#"{"type":"dsr.request","version":1,"request_id":"a","connection_id":"c","action":"purge","subject":{"emails":["a@b.co"]}}"#).unwrap_err();
        let ContractError::InvalidField { field, reason } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "action");
        assert!(reason.contains("unknown variant"), "{reason}");
        assert!(reason.contains("expected one of `copy`"), "{reason}");
        let err = Request::parse(br#"{"type":"dsr.request","version":1,"request_id":"a","connection_id":"c","action":"copy","subject":{"emails":["a@b.co","x@y.io","nope"]}}"#).unwrap_err();
        assert_eq!(
            err,
            ContractError::InvalidEmail {
                index: 2,
                reason: EMAIL_NO_AT
            }
        );
        let err = Request::parse(br#"{"type":"dsr.request","version":1,"request_id":"a","connection_id":"c","action":"copy","subject":{}}"#).unwrap_err();
        assert_eq!(
            err,
            ContractError::InvalidField {
                field: "subject.emails".into(),
                reason: "missing".into()
            }
        );
    }

    fn dsr_body(action: &str, subject: &str, options: &str) -> String {
        format!(
            r#"{{"type":"dsr.request","version":1,"request_id":"r-1","connection_id":"c","action":{action},"subject":{subject},"options":{options}}}"#
        )
    }

    #[test]
    fn an_unknown_field_is_rejected_and_named() {
        // The incident: `dryRun` for `dry_run` ran a real delete.
        let body = dsr_body(
            r#""delete""#,
            r#"{"emails":["a@b.co"]}"#,
            r#"{"dryRun":true}"#,
        );
        let err = Request::parse(body.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "invalid_field");
        let text = err.to_string();
        assert!(text.contains("dryRun"), "{text}");
        assert!(text.contains("options"), "{text}");
        for (subject, options, top) in [
            (r#"{"emails":["a@b.co"],"name":"Jane"}"#, "{}", ""),
            (r#"{"emails":["a@b.co"]}"#, "{}", r#","extra":1"#),
        ] {
            let body = dsr_body(r#""copy""#, subject, options);
            let body = format!("{}{top}}}", &body[..body.len() - 1]);
            let err = Request::parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "invalid_field", "{body}");
            assert!(err.to_string().contains("unknown field"), "{err}");
            assert!(!err.to_string().contains("Jane"), "{err}");
        }
        // A field name that is no id (a name, a 1000-character key) shows as its length.
        for key in ["Jane Doe", &"k".repeat(1000)] {
            let body = dsr_body(
                r#""copy""#,
                r#"{"emails":["a@b.co"]}"#,
                &format!(r#"{{"{key}":1}}"#),
            );
            let text = Request::parse(body.as_bytes()).unwrap_err().to_string();
            assert!(text.contains("unknown field (redacted, "), "{text}");
            assert!(!text.contains("Jane") && !text.contains("kkkk"), "{text}");
        }
        let scan = br#"{"type":"scan.request","version":1,"scan_id":"s","connection_id":"c","maxRecords":5}"#;
        assert!(
            Request::parse(scan)
                .unwrap_err()
                .to_string()
                .contains("maxRecords")
        );
    }

    #[test]
    fn parse_errors_never_echo_input_values() {
        let secret = "jane.secret@example.com";
        let cases = [
            // A string where a list is expected.
            dsr_body(r#""copy""#, &format!(r#"{{"emails":"{secret}"}}"#), "{}"),
            // An invalid enum value holding an email.
            dsr_body(&format!(r#""{secret}""#), r#"{"emails":["a@b.co"]}"#, "{}"),
            // A number where a string is expected (a phone number, say).
            dsr_body(r#""copy""#, r#"{"emails":[4155550123]}"#, "{}"),
            // A string where a bool is expected.
            dsr_body(
                r#""copy""#,
                r#"{"emails":["a@b.co"]}"#,
                &format!(r#"{{"dry_run":"{secret}"}}"#),
            ),
            // `objects` as a string that is not "all".
            dsr_body(
                r#""copy""#,
                r#"{"emails":["a@b.co"]}"#,
                &format!(r#"{{"objects":"{secret}"}}"#),
            ),
            // An unknown field named like an address.
            dsr_body(
                r#""copy""#,
                r#"{"emails":["a@b.co"]}"#,
                &format!(r#"{{"{secret}":1}}"#),
            ),
            // An unknown type holding an email.
            format!(r#"{{"type":"{secret}","version":1}}"#),
        ];
        for body in &cases {
            let err = Request::parse(body.as_bytes()).unwrap_err();
            let text = err.to_string();
            for leak in ["jane", "secret", "example.com", "4155550123"] {
                assert!(!text.contains(leak), "{leak} in {text:?} for {body}");
            }
        }
        let err = Request::parse(cases[0].as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid field `subject.emails`: invalid type: string (redacted, 23 chars), expected a sequence"
        );
        let err = Request::parse(cases[2].as_bytes()).unwrap_err();
        assert!(err.to_string().contains("subject.emails[0]"), "{err}");
        assert!(err.to_string().contains("expected a string"), "{err}");
    }

    #[test]
    fn an_unknown_type_is_quoted_only_when_it_passes_the_id_rule() {
        let text = |t: &str| {
            let body = serde_json::json!({"type": t, "version": 1});
            Request::parse(body.to_string().as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(text("dsr.result"), "unknown message type dsr.result");
        assert_eq!(
            text("jane.doe@example.com"),
            "unknown message type (redacted, 20 chars)"
        );
        let long = "t".repeat(1000);
        assert_eq!(text(&long), "unknown message type (redacted, 1000 chars)");
        assert_eq!(redact_value("acme-prod:1"), "acme-prod:1");
        assert_eq!(redact_value("nope nope"), "(redacted, 9 chars)");
    }

    #[test]
    fn a_duplicate_key_anywhere_is_an_invalid_field_naming_the_key() {
        let cases = [
            (
                r#"{"type":"dsr.request","version":1,"request_id":"jane-a","connection_id":"c","request_id":"jane-b","action":"copy","subject":{"emails":["a@b.co"]}}"#,
                "request_id",
            ),
            (
                r#"{"type":"dsr.request","version":1,"request_id":"r","connection_id":"c","action":"copy","subject":{"emails":["jane@b.co"],"emails":["john@b.co"]}}"#,
                "subject.emails",
            ),
            (
                r#"{"type":"dsr.request","version":1,"request_id":"r","connection_id":"c","action":"delete","subject":{"emails":["a@b.co"]},"options":{"dry_run":true,"dry_run":false}}"#,
                "options.dry_run",
            ),
            (
                r#"{"type":"scan.request","type":"scan.request","version":1,"scan_id":"s","connection_id":"c"}"#,
                "type",
            ),
        ];
        for (body, field) in cases {
            let err = Request::parse(body.as_bytes()).unwrap_err();
            assert_eq!(
                err,
                ContractError::InvalidField {
                    field: field.into(),
                    reason: "duplicate key".into()
                },
                "{body}"
            );
            let text = err.to_string();
            for leak in ["jane", "john", "true", "false"] {
                assert!(!text.contains(leak), "{leak} in {text}");
            }
        }
        // A key that is itself input (an address) is not repeated either.
        let body = r#"{"type":"dsr.request","version":1,"request_id":"r","connection_id":"c","action":"copy","subject":{"emails":["a@b.co"],"x@y.io":1,"x@y.io":2}}"#;
        let err = Request::parse(body.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid field `subject.(redacted, 6 chars)`: duplicate key"
        );
        let body = r#"{"type":"dsr.request","version":1,"request_id":"r","connection_id":"c","action":"copy","subject":{"emails":["a@b.co",{"k":1,"k":2}]}}"#;
        let err = Request::parse(body.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid field `subject.emails[1].k`: duplicate key"
        );
        // The same key in two different objects is no duplicate.
        assert!(
            Request::parse(
                br#"{"type":"dsr.request","version":1,"request_id":"r","connection_id":"c","action":"copy","subject":{"emails":["a@b.co"]},"options":{"objects":null}}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn salvage_reads_the_id_of_a_body_nested_too_deep_but_not_an_ambiguous_one() {
        let deep = format!(
            r#"{{"type":"dsr.request","version":1,"request_id":"r-deep","connection_id":"c","options":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(
            Request::parse(deep.as_bytes()).unwrap_err().code(),
            "invalid_json"
        );
        assert_eq!(
            Request::salvage_id(deep.as_bytes()),
            Some(Salvaged {
                id: "r-deep".into(),
                kind: Some("dsr.request".into()),
                connection_id: Some("c".into()),
                action: None,
            })
        );
        // A contract action is kept, anything else is not.
        let action = |a: &str| {
            let body = format!(r#"{{"type":"dsr.request","request_id":"a","action":{a}}}"#);
            Request::salvage_id(body.as_bytes()).and_then(|s| s.action)
        };
        assert_eq!(action(r#""delete""#), Some(DsrAction::Delete));
        assert_eq!(action(r#""purge""#), None);
        assert_eq!(action("7"), None);
        let twice = br#"{"type":"dsr.request","version":1,"request_id":"a","request_id":"b"}"#;
        assert_eq!(Request::salvage_id(twice), None);
        // A duplicate elsewhere leaves the id unambiguous.
        let nested =
            br#"{"type":"dsr.request","request_id":"a","options":{"dry_run":1,"dry_run":2}}"#;
        assert_eq!(
            Request::salvage_id(nested).map(|s| s.id).as_deref(),
            Some("a")
        );
        let number_conn = br#"{"type":"scan.request","scan_id":"s","connection_id":5}"#;
        assert_eq!(
            Request::salvage_id(number_conn).map(|s| (s.id, s.connection_id)),
            Some(("s".into(), None))
        );
    }

    #[test]
    fn redaction_of_serde_texts() {
        assert_eq!(
            redact_error_text(r#"invalid value: string "a \"q\" b", expected x"#),
            "invalid value: string (redacted, 7 chars), expected x"
        );
        assert_eq!(
            redact_error_text("unknown variant `x@y.io`, expected one of `copy`, `delete`"),
            "unknown variant (redacted, 6 chars), expected one of `copy`, `delete`"
        );
        assert_eq!(
            redact_error_text("invalid type: integer `12`, expected a string"),
            "invalid type: integer (redacted, 2 chars), expected a string"
        );
        assert_eq!(
            redact_emails("unknown field `Jo.Doe+1@Mail.example.org`, expected `x`"),
            "unknown field `(redacted email)`, expected `x`"
        );
        assert_eq!(redact_emails("a @ b, x@y"), "a @ b, x@y");
    }

    #[test]
    fn fingerprint_ignores_layout_and_follows_content() {
        let a =
            Request::parse(dsr_body(r#""delete""#, r#"{"emails":["A@b.co"]}"#, "{}").as_bytes())
                .unwrap();
        let b = Request::parse(
            br#"{ "options": {}, "subject": { "emails": [ "a@b.co" ] }, "action": "delete",
                  "connection_id": "c", "request_id": "r-1", "version": 1, "type": "dsr.request" }"#,
        )
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let other =
            Request::parse(dsr_body(r#""delete""#, r#"{"emails":["z@b.co"]}"#, "{}").as_bytes())
                .unwrap();
        assert_ne!(a.fingerprint(), other.fingerprint());
        let dry = Request::parse(
            dsr_body(
                r#""delete""#,
                r#"{"emails":["a@b.co"]}"#,
                r#"{"dry_run":true}"#,
            )
            .as_bytes(),
        )
        .unwrap();
        assert_ne!(a.fingerprint(), dry.fingerprint());
        assert!(a.fingerprint().starts_with("sha256:"));
    }

    #[test]
    fn request_schemas_forbid_additional_properties() {
        let s = schemas();
        for k in ["dsr.request", "scan.request", "scan.part"] {
            assert_eq!(s[k]["additionalProperties"], false, "{k}");
        }
        let defs = &s["dsr.request"]["definitions"];
        let defs = if defs.is_null() {
            &s["dsr.request"]["$defs"]
        } else {
            defs
        };
        for k in ["Subject", "DsrOptions"] {
            assert_eq!(defs[k]["additionalProperties"], false, "{k}");
        }
        // What the worker emits is not tightened.
        assert!(s["dsr.result"].get("additionalProperties").is_none());
        assert!(s["progress"].get("additionalProperties").is_none());
    }

    #[test]
    fn timestamps_are_utc_with_z_and_milliseconds() {
        use chrono::TimeZone;
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 12, 4, 16, 43, 7)
            .unwrap()
            .checked_add_signed(chrono::TimeDelta::nanoseconds(286_795_033))
            .unwrap();
        assert_eq!(timestamp(t), "2026-12-04T16:43:07.286Z");
        let whole = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(timestamp(whole), "2026-01-02T03:04:05.000Z");
        let now = now();
        assert_eq!(now.len(), "2026-12-04T16:43:07.286Z".len(), "{now}");
        assert!(now.ends_with('Z'), "{now}");
        assert!(chrono::DateTime::parse_from_rfc3339(&now).is_ok(), "{now}");
    }

    #[test]
    fn email_debug_never_shows_the_address() {
        let e = SubjectEmail::parse("jane@example.com").unwrap();
        assert!(!format!("{e:?}").contains("jane"));
    }

    #[test]
    fn schemas_cover_every_message_type() {
        let s = schemas();
        for k in [
            "dsr.request",
            "scan.request",
            "dsr.result",
            "scan.result",
            "progress",
        ] {
            assert!(s.get(k).is_some(), "{k}");
        }
    }
}
