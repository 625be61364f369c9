//! The admin/test API under `/__emulator` (a path Salesforce never uses; no session
//! needed). Documented in the crate README:
//!
//! - `POST /__emulator/reset`: back to the configured seed and size, counters and cursors cleared
//! - `POST /__emulator/seed {"seed","size","personAccounts"?}`: a fresh seeded org
//! - `POST /__emulator/records/{object}`: insert exact records, bypassing write rules
//! - `GET  /__emulator/counters`, `POST /__emulator/counters/reset`
//! - `GET  /__emulator/ground-truth`
//! - `GET|PUT /__emulator/settings`: duplicate rules (and the fields they match on), validation
//!   rules, fields read-only by field-level security, field lengths, objects the profile cannot
//!   read, the Delete From Field History permission, index lag, cursor TTL, varying query page
//!   sizes, Bulk job delay, the integration user's Bulk API Hard Delete permission
//! - `GET  /__emulator/clock`, `POST /__emulator/clock/advance {"seconds"|"ms"}`
//!
//! Bodies are strict and a refused call changes nothing; refusals share one shape
//! ([`input::AdminError`]), also on the OAuth, limits and faults admin routes.

pub mod input;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use crate::org::Org;
use crate::org::rules::{FieldLength, FieldRef, ValidationRule};
use crate::org::schema::{FType, FieldDef};
use crate::org::store::StoredRow;
use crate::org::truth::ground_truth;
use crate::server::{AppState, Shared};
use input::{AdminError, millis, objects, parse, present};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/__emulator/reset", post(reset))
        .route("/__emulator/seed", post(seed))
        .route("/__emulator/records/{object}", post(insert))
        .route("/__emulator/counters", get(counters))
        .route("/__emulator/counters/reset", post(reset_counters))
        .route("/__emulator/ground-truth", get(truth))
        .route("/__emulator/settings", get(settings).put(put_settings))
        .route("/__emulator/clock", get(clock))
        .route("/__emulator/clock/advance", post(advance))
}

fn replace_org(state: &AppState, org: Org) {
    *state.org_mut() = org;
    state.cursors.clear();
    state.bulk.clear();
    state.counters.reset();
}

async fn reset(state: Shared) -> Json<Value> {
    let c = &state.config;
    replace_org(&state, Org::new(c.seed, c.size as u64, c.person_accounts));
    Json(json!({"seed": c.seed, "size": c.size}))
}

/// Body of `POST /__emulator/seed`. `seed` and `size` are required: reseeding discards every
/// record, so it is never done on defaults guessed from a body that names neither
/// (`/__emulator/reset` is the call for the start seed and size).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SeedBody {
    seed: u64,
    #[serde(deserialize_with = "org_size")]
    size: u64,
    #[serde(default, deserialize_with = "present")]
    person_accounts: Option<bool>,
}

fn org_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    input::check_size(u64::deserialize(d)?).map_err(serde::de::Error::custom)
}

async fn seed(state: Shared, body: Bytes) -> Result<Json<Value>, AdminError> {
    let b: SeedBody = parse(&body)?;
    let pa = b.person_accounts.unwrap_or(state.config.person_accounts);
    let org = Org::new(b.seed, b.size, pa);
    let counts = org.generator.counts.clone();
    replace_org(&state, org);
    Ok(Json(
        json!({"seed": b.seed, "size": b.size, "personAccounts": pa, "counts": counts}),
    ))
}

/// The wrapped body of `POST /__emulator/records/{object}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped {
    records: Vec<Map<String, Value>>,
    #[serde(default)]
    searchable: bool,
}

/// Inserts records exactly as given (any field the schema has, read-only ones included;
/// `IsDeleted: true` puts the row in the recycle bin). Body: one record, an array, or
/// `{"records":[…], "searchable": true}` (searchable = skip the index lag). Every record is
/// checked before any is inserted.
async fn insert(
    state: Shared,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let v: Value = input::parse_json(&body)?;
    // An object with `records` is the wrapped form, strictly; any other object is a record.
    let (records, searchable, key) = match v {
        Value::Object(m) if m.contains_key("records") => {
            let w: Wrapped = parse(&body)?;
            (w.records, w.searchable, "records")
        }
        Value::Object(m) => (vec![m], false, "."),
        Value::Array(items) => {
            let records = items
                .into_iter()
                .enumerate()
                .map(|(i, r)| match r {
                    Value::Object(m) => Ok(m),
                    _ => Err(AdminError::invalid(
                        format!("[{i}]"),
                        "expected a record object",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            (records, false, "")
        }
        _ => {
            return Err(AdminError {
                status: StatusCode::BAD_REQUEST,
                key: None,
                message: "expected a record, an array of records, or {\"records\":[…]}".into(),
            });
        }
    };
    let now = state.clock.now_ms();
    let mut org = state.org_mut();
    let oi = org
        .object_index(&object)
        .ok_or_else(|| AdminError::not_found("object", format!("no object {object}")))?;
    let rows = records
        .iter()
        .enumerate()
        .map(|(i, fields)| {
            let at = match key {
                "." => String::new(),
                k => format!("{k}[{i}]"),
            };
            record_values(&org, oi, fields, &at)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let written_ms = if searchable { 0 } else { now };
    let ids: Vec<String> = rows
        .into_iter()
        .map(|(values, deleted)| insert_exact(&mut org, oi, values, deleted, written_ms, now))
        .collect();
    Ok((StatusCode::CREATED, Json(json!({"ids": ids}))))
}

/// A record's values in schema order, and whether it goes to the recycle bin.
fn record_values(
    org: &Org,
    oi: usize,
    fields: &Map<String, Value>,
    at: &str,
) -> Result<(Vec<Value>, bool), AdminError> {
    let obj = &org.schema.objects[oi];
    let key = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    let mut values = vec![Value::Null; obj.fields.len()];
    let mut deleted = false;
    for (k, v) in fields {
        if k == "attributes" {
            continue;
        }
        if k.eq_ignore_ascii_case("IsDeleted") {
            deleted = v
                .as_bool()
                .ok_or_else(|| AdminError::invalid(key(k), "expected a boolean"))?;
            continue;
        }
        let fi = obj
            .field_index_any(k)
            .ok_or_else(|| AdminError::invalid(key(k), format!("no field {k} on {}", obj.name)))?;
        values[fi] = v.clone();
    }
    Ok((values, deleted))
}

fn insert_exact(
    org: &mut Org,
    oi: usize,
    mut values: Vec<Value>,
    deleted: bool,
    written_ms: i64,
    now_ms: i64,
) -> String {
    let obj = org.schema.objects[oi].clone();
    let number = org.tables[oi].allocate();
    let id = crate::org::ids::make_id(obj.key_prefix, number);
    let stamp = Value::String(crate::clock::sf_datetime(
        chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default(),
    ));
    let me = Value::String(crate::org::ids::make_id("005", 1));
    for (fi, fd) in obj.fields.iter().enumerate() {
        match fd.name {
            "Id" => values[fi] = Value::String(id.clone()),
            "CreatedDate" | "LastModifiedDate" | "SystemModstamp" if values[fi].is_null() => {
                values[fi] = stamp.clone()
            }
            "CreatedById" | "LastModifiedById" | "OwnerId" if values[fi].is_null() => {
                values[fi] = me.clone()
            }
            _ if values[fi].is_null() && fd.kind == crate::org::schema::FType::Boolean => {
                values[fi] = Value::Bool(false)
            }
            _ => {}
        }
    }
    org.tables[oi].overlay.insert(
        number,
        StoredRow {
            values,
            deleted,
            purged: false,
            written_ms,
            cascade_root: None,
        },
    );
    id
}

async fn counters(state: Shared) -> Json<Value> {
    Json(serde_json::to_value(state.counters.snapshot()).unwrap_or(Value::Null))
}

async fn reset_counters(state: Shared) -> StatusCode {
    state.counters.reset();
    StatusCode::NO_CONTENT
}

async fn truth(state: Shared) -> Json<Value> {
    Json(ground_truth(&state.org()))
}

fn settings_json(state: &AppState) -> Value {
    let org = state.org();
    json!({
        "duplicateRules": org.settings.duplicate_rules,
        "duplicateRuleFields": org.settings.duplicate_rule_fields,
        "validationRules": org.settings.validation_rules,
        "readOnlyFields": org.settings.read_only_fields,
        "fieldLengths": org.settings.field_lengths,
        "unreadableObjects": org.settings.unreadable_objects,
        "deleteFieldHistory": org.settings.delete_field_history,
        "indexLagMs": state.index_lag_ms(),
        "cursorTtlMs": state.cursors.ttl_ms.load(Ordering::Relaxed),
        "varyQueryPageSizes": state.cursors.vary_page_sizes.load(Ordering::Relaxed),
        "bulkJobDelayMs": state.bulk.delay_ms.load(Ordering::Relaxed),
        "bulkApiHardDelete": state.bulk.hard_delete_allowed(),
    })
}

async fn settings(state: Shared) -> Json<Value> {
    Json(settings_json(&state))
}

/// Body of `PUT /__emulator/settings`: every key optional, none `null`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsUpdate {
    #[serde(default, deserialize_with = "present")]
    duplicate_rules: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    duplicate_rule_fields: Option<Vec<String>>,
    #[serde(default, deserialize_with = "objects")]
    validation_rules: Option<Vec<ValidationRule>>,
    #[serde(default, deserialize_with = "objects")]
    read_only_fields: Option<Vec<FieldRef>>,
    #[serde(default, deserialize_with = "objects")]
    field_lengths: Option<Vec<FieldLength>>,
    #[serde(default, deserialize_with = "present")]
    unreadable_objects: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    delete_field_history: Option<bool>,
    #[serde(default, deserialize_with = "millis")]
    index_lag_ms: Option<u64>,
    #[serde(default, deserialize_with = "millis")]
    cursor_ttl_ms: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    vary_query_page_sizes: Option<bool>,
    #[serde(default, deserialize_with = "millis")]
    bulk_job_delay_ms: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    bulk_api_hard_delete: Option<bool>,
}

/// Checks the whole update against the org, then applies it: a refused update changes nothing.
async fn put_settings(state: Shared, body: Bytes) -> Result<Json<Value>, AdminError> {
    let u: SettingsUpdate = parse(&body)?;
    {
        let mut org = state.org_mut();
        let dup_fields = match u.duplicate_rule_fields {
            Some(fields) => Some(duplicate_rule_fields(&org, fields)?),
            None => None,
        };
        let lengths = match u.field_lengths {
            Some(list) => Some(
                list.into_iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let key = format!("fieldLengths[{i}]");
                        let r = canonical_field(&org, &key, &l.object, &l.field)?;
                        check_length(&org, &key, &r, l.length)?;
                        Ok(FieldLength {
                            object: r.object,
                            field: r.field,
                            length: l.length,
                        })
                    })
                    .collect::<Result<Vec<_>, AdminError>>()?,
            ),
            None => None,
        };
        if let Some(list) = &u.unreadable_objects {
            for (i, o) in list.iter().enumerate() {
                if org.schema.object(o).is_none() {
                    return Err(AdminError::invalid(
                        format!("unreadableObjects[{i}]"),
                        format!("no object {o}"),
                    ));
                }
            }
        }
        if let Some(rules) = &u.validation_rules {
            for (i, r) in rules.iter().enumerate() {
                let key = format!("validationRules[{i}]");
                let obj = org.schema.object(&r.object).ok_or_else(|| {
                    AdminError::invalid(format!("{key}.object"), format!("no object {}", r.object))
                })?;
                if obj.field_index_any(&r.field).is_none() {
                    return Err(AdminError::invalid(
                        format!("{key}.field"),
                        format!("no field {} on {}", r.field, obj.name),
                    ));
                }
                if let Some(p) = &r.pattern {
                    regex::Regex::new(p).map_err(|e| {
                        AdminError::invalid(format!("validationRules[{i}].pattern"), e.to_string())
                    })?;
                }
            }
        }
        let read_only = match &u.read_only_fields {
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, r)| canonical_read_only(&org, &format!("readOnlyFields[{i}]"), r))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };

        // Everything is valid: apply.
        if let Some(b) = u.duplicate_rules {
            org.settings.duplicate_rules = b;
        }
        if let Some(b) = u.delete_field_history {
            org.settings.delete_field_history = b;
        }
        if let Some(f) = dup_fields {
            org.settings.duplicate_rule_fields = f;
        }
        if let Some(l) = lengths {
            org.settings.field_lengths = l;
        }
        if let Some(l) = u.unreadable_objects {
            org.settings.unreadable_objects = l;
        }
        if let Some(r) = u.validation_rules {
            org.settings.validation_rules = r;
        }
        if let Some(r) = read_only {
            org.settings.read_only_fields = r;
        }
        if let Some(ms) = u.index_lag_ms {
            state.index_lag_ms.store(ms, Ordering::Relaxed);
        }
        if let Some(ms) = u.cursor_ttl_ms {
            state.cursors.ttl_ms.store(ms, Ordering::Relaxed);
        }
        if let Some(b) = u.vary_query_page_sizes {
            state.cursors.vary_page_sizes.store(b, Ordering::Relaxed);
        }
        if let Some(ms) = u.bulk_job_delay_ms {
            state.bulk.delay_ms.store(ms, Ordering::Relaxed);
        }
        if let Some(b) = u.bulk_api_hard_delete {
            state
                .bulk
                .hard_delete_permission
                .store(b, Ordering::Relaxed);
        }
    }
    Ok(Json(settings_json(&state)))
}

/// The duplicate rule runs on Contact and Lead: each field must be one of theirs.
fn duplicate_rule_fields(org: &Org, fields: Vec<String>) -> Result<Vec<String>, AdminError> {
    for (i, f) in fields.iter().enumerate() {
        let known = ["Contact", "Lead"].iter().any(|o| {
            org.schema
                .object(o)
                .is_some_and(|obj| obj.field_index_any(f).is_some())
        });
        if !known {
            return Err(AdminError::invalid(
                format!("duplicateRuleFields[{i}]"),
                format!("no field {f} on Contact or Lead"),
            ));
        }
    }
    Ok(fields)
}

/// A visible field named by the setting entry at `key`, as the schema spells it.
fn canonical_field(
    org: &Org,
    key: &str,
    object: &str,
    field: &str,
) -> Result<FieldRef, AdminError> {
    let obj = org.schema.object(object).ok_or_else(|| {
        AdminError::invalid(format!("{key}.object"), format!("no object {object}"))
    })?;
    let fd = obj.field(field).ok_or_else(|| {
        AdminError::invalid(
            format!("{key}.field"),
            format!("no field {field} visible on {}", obj.name),
        )
    })?;
    Ok(FieldRef {
        object: obj.name.to_string(),
        field: fd.name.to_string(),
    })
}

/// The longest length Salesforce allows a field of `kind`, for the text kinds whose length
/// can be set: text 255, email 80, phone 40, URL 255, long text area 131,072.
pub fn max_length(kind: FType) -> Option<u32> {
    match kind {
        FType::String | FType::Url => Some(255),
        FType::Email => Some(80),
        FType::Phone => Some(40),
        FType::TextArea => Some(131_072),
        _ => None,
    }
}

/// A `fieldLengths` entry's length: the field must be a text field with a length, and the
/// length 1 to Salesforce's maximum for its type.
fn check_length(org: &Org, key: &str, r: &FieldRef, length: u32) -> Result<(), AdminError> {
    let fd = schema_field(org, key, r)?;
    let Some(max) = max_length(fd.kind) else {
        return Err(AdminError::invalid(
            format!("{key}.field"),
            format!(
                "{}.{} is a {} field; only string, textarea, email, phone and url fields take a length",
                r.object,
                r.field,
                fd.kind.as_str()
            ),
        ));
    };
    if !(1..=max).contains(&length) {
        return Err(AdminError::invalid(
            format!("{key}.length"),
            format!(
                "length {length} is outside 1..={max} for a {} field",
                fd.kind.as_str()
            ),
        ));
    }
    Ok(())
}

/// The schema's definition of a field already named canonically.
fn schema_field<'a>(org: &'a Org, key: &str, r: &FieldRef) -> Result<&'a FieldDef, AdminError> {
    org.schema
        .object(&r.object)
        .and_then(|o| o.field(&r.field))
        .ok_or_else(|| AdminError::invalid(format!("{key}.field"), "no such field"))
}

/// A `readOnlyFields` entry as the schema spells it. The field must be visible (a hidden one
/// is not readable at all), writable (system and calculated fields such as `Id` or
/// `CreatedDate` are read-only for everyone; field-level security does not apply to them) and
/// not required: Salesforce does not let field-level security restrict universally required
/// fields.
fn canonical_read_only(org: &Org, key: &str, r: &FieldRef) -> Result<FieldRef, AdminError> {
    let c = canonical_field(org, key, &r.object, &r.field)?;
    let fd = schema_field(org, key, &c)?;
    if !fd.createable && !fd.updateable {
        return Err(AdminError::invalid(
            format!("{key}.field"),
            format!(
                "{}.{} is a system or calculated field, read-only for everyone; field-level security does not apply",
                c.object, c.field
            ),
        ));
    }
    if !fd.nillable && !fd.defaulted_on_create && fd.createable {
        return Err(AdminError::invalid(
            format!("{key}.field"),
            format!(
                "{}.{} is required; field-level security cannot make it read-only",
                c.object, c.field
            ),
        ));
    }
    Ok(c)
}

async fn clock(state: Shared) -> Json<Value> {
    Json(json!({
        "now": crate::clock::sf_datetime(state.clock.now()),
        "offsetMs": state.clock.offset().as_millis() as u64,
    }))
}

/// Body of `POST /__emulator/clock/advance`: exactly one of `seconds`, `ms`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default, deserialize_with = "present")]
    seconds: Option<u64>,
    #[serde(default, deserialize_with = "millis")]
    ms: Option<u64>,
}

async fn advance(state: Shared, body: Bytes) -> Result<Json<Value>, AdminError> {
    let a: Advance = parse(&body)?;
    let ms = match (a.seconds, a.ms) {
        (Some(s), None) => s
            .checked_mul(1000)
            .ok_or_else(|| "overflow".to_string())
            .and_then(input::check_ms)
            .map_err(|e| AdminError::invalid("seconds", e))?,
        (None, Some(ms)) => ms,
        _ => {
            return Err(AdminError::invalid(
                "seconds",
                "expected exactly one of seconds, ms",
            ));
        }
    };
    state.clock.advance(Duration::from_millis(ms));
    Ok(clock(state).await)
}
