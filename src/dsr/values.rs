//! Replacement values Salesforce accepts, chosen from the field's describe. Pure.
//!
//! Nillable fields become null; required ones a placeholder of their type; email fields always
//! a valid placeholder address unique to the record and field (`anon-<hash>@anonymized.invalid`,
//! `.invalid` being reserved so it can never reach anyone); unique fields a value derived from the
//! record id; every value cut to the field's length. A type with no safe placeholder (a required
//! number, say) gets `None` and the field is reported instead of guessed at.

use crate::salesforce::FieldDescribe;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;

/// Domain of placeholder addresses (RFC 2606 reserves `.invalid`).
pub const PLACEHOLDER_DOMAIN: &str = "anonymized.invalid";
/// Text written into required text fields.
pub const PLACEHOLDER_TEXT: &str = "Anonymized";

/// What kind of value replaces a field (reported in plans; values themselves are not personal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Null,
    Placeholder,
    UniquePlaceholder,
    EmailPlaceholder,
}

/// One field write of an anonymization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldWrite {
    pub field: String,
    pub value: Value,
    pub kind: ValueKind,
}

fn hash_hex(record_id: &str, field: &str) -> String {
    hex::encode(sha2::Sha256::digest(
        format!("{record_id}:{field}").as_bytes(),
    ))
}

fn cut(s: &str, max: u32) -> String {
    if max == 0 {
        return s.to_string();
    }
    s.chars().take(max as usize).collect()
}

/// A placeholder address for `record_id`'s `field`, within `max` characters (`None` if the
/// field is too short to hold any valid address).
pub fn placeholder_email(record_id: &str, field: &str, max: u32) -> Option<String> {
    let fixed = "anon-".len() + 1 + PLACEHOLDER_DOMAIN.len();
    let room = if max == 0 {
        16
    } else {
        (max as usize).saturating_sub(fixed).min(16)
    };
    if room < 4 {
        return None;
    }
    let h = hash_hex(record_id, field);
    Some(format!("anon-{}@{PLACEHOLDER_DOMAIN}", &h[..room]))
}

/// The placeholder text for a field that may not be left empty whatever describe says (a
/// person account's `LastName`: nillable on Account, required on a person account).
pub fn placeholder_text(field: &FieldDescribe) -> FieldWrite {
    FieldWrite {
        field: field.name.clone(),
        value: Value::String(cut(PLACEHOLDER_TEXT, field.length)),
        kind: ValueKind::Placeholder,
    }
}

/// The value that replaces `field` on record `record_id`.
pub fn replacement(field: &FieldDescribe, record_id: &str) -> Option<FieldWrite> {
    let write = |value: Value, kind| FieldWrite {
        field: field.name.clone(),
        value,
        kind,
    };
    if field.kind == "email" {
        return placeholder_email(record_id, &field.name, field.length)
            .map(|e| write(Value::String(e), ValueKind::EmailPlaceholder));
    }
    if field.nillable {
        return Some(write(Value::Null, ValueKind::Null));
    }
    let h = hash_hex(record_id, &field.name);
    let unique = |prefix: &str| {
        let s = format!("{prefix}{}", &h[..12]);
        cut(&s, field.length)
    };
    let (value, kind) = match field.kind.as_str() {
        "string" | "textarea" | "encryptedstring" | "combobox" => {
            if field.unique {
                (unique("anon-"), ValueKind::UniquePlaceholder)
            } else {
                (cut(PLACEHOLDER_TEXT, field.length), ValueKind::Placeholder)
            }
        }
        "phone" => {
            if field.unique {
                let digits: String = h
                    .bytes()
                    .map(|b| char::from(b'0' + b % 10))
                    .take(10)
                    .collect();
                (cut(&digits, field.length), ValueKind::UniquePlaceholder)
            } else {
                (cut("0000000000", field.length), ValueKind::Placeholder)
            }
        }
        "url" => (
            cut(&format!("https://{PLACEHOLDER_DOMAIN}"), field.length),
            ValueKind::Placeholder,
        ),
        "date" => ("1900-01-01".to_string(), ValueKind::Placeholder),
        "datetime" => (
            "1900-01-01T00:00:00.000+0000".to_string(),
            ValueKind::Placeholder,
        ),
        "picklist" | "multipicklist" => {
            let first = field.picklist_values.iter().find_map(|p| {
                let active = p.get("active").and_then(|a| a.as_bool()).unwrap_or(true);
                p.get("value").and_then(|v| v.as_str()).filter(|_| active)
            })?;
            (first.to_string(), ValueKind::Placeholder)
        }
        _ => return None,
    };
    if value.is_empty() {
        return None;
    }
    Some(write(Value::String(value), kind))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn field(name: &str, kind: &str, length: u32, nillable: bool) -> FieldDescribe {
        serde_json::from_value(serde_json::json!({
            "name": name, "type": kind, "length": length, "nillable": nillable,
            "updateable": true, "createable": true
        }))
        .unwrap()
    }

    #[test]
    fn nillable_fields_become_null_required_ones_a_placeholder() {
        let v = replacement(&field("Phone", "phone", 40, true), "003A").unwrap();
        assert_eq!(v.value, Value::Null);
        let v = replacement(&field("LastName", "string", 80, false), "003A").unwrap();
        assert_eq!(v.value, Value::String("Anonymized".into()));
        let v = replacement(&field("Code__c", "string", 4, false), "003A").unwrap();
        assert_eq!(v.value, Value::String("Anon".into()));
        assert!(replacement(&field("Score__c", "double", 0, false), "003A").is_none());
    }

    #[test]
    fn emails_are_valid_unique_and_fit() {
        let f = field("Email", "email", 80, true);
        let a = replacement(&f, "003A").unwrap().value;
        let b = replacement(&f, "003B").unwrap().value;
        assert_ne!(a, b);
        let a = a.as_str().unwrap().to_string();
        assert!(crate::message::SubjectEmail::parse(&a).is_some(), "{a}");
        assert!(a.ends_with("@anonymized.invalid"));
        let short = replacement(&field("E__c", "email", 30, false), "003A").unwrap();
        assert!(short.value.as_str().unwrap().len() <= 30);
        assert!(replacement(&field("E__c", "email", 20, false), "003A").is_none());
    }

    #[test]
    fn unique_fields_get_distinct_values() {
        let mut f = field("Code__c", "string", 20, false);
        f.unique = true;
        let a = replacement(&f, "003A").unwrap();
        let b = replacement(&f, "003B").unwrap();
        assert_eq!(a.kind, ValueKind::UniquePlaceholder);
        assert_ne!(a.value, b.value);
    }

    #[test]
    fn required_picklists_take_the_first_active_value() {
        let mut f = field("Salutation", "picklist", 40, false);
        f.picklist_values = vec![
            serde_json::json!({"value": "Mr.", "active": false}),
            serde_json::json!({"value": "Mx.", "active": true}),
        ];
        assert_eq!(
            replacement(&f, "003A").unwrap().value,
            Value::String("Mx.".into())
        );
    }
}
