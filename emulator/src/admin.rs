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

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::org::Org;
use crate::org::rules::{FieldLength, FieldRef, ValidationRule};
use crate::org::store::StoredRow;
use crate::org::truth::ground_truth;
use crate::rest::json_body;
use crate::server::{AppState, Shared};

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

async fn seed(state: Shared, body: Bytes) -> Result<Json<Value>, ApiError> {
    let v = json_body(&body)?;
    let seed = v
        .get("seed")
        .and_then(Value::as_u64)
        .unwrap_or(state.config.seed);
    let size = v
        .get("size")
        .and_then(Value::as_u64)
        .unwrap_or(state.config.size as u64);
    let pa = v
        .get("personAccounts")
        .and_then(Value::as_bool)
        .unwrap_or(state.config.person_accounts);
    let org = Org::new(seed, size, pa);
    let counts = org.generator.counts.clone();
    replace_org(&state, org);
    Ok(Json(json!({"seed": seed, "size": size, "counts": counts})))
}

/// Inserts records exactly as given (any field the schema has, read-only ones included;
/// `IsDeleted: true` puts the row in the recycle bin). Body: one record, an array, or
/// `{"records":[…], "searchable": true}` (searchable = skip the index lag).
async fn insert(
    state: Shared,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let v = json_body(&body)?;
    let (records, searchable) = match &v {
        Value::Array(a) => (a.clone(), false),
        Value::Object(m) if m.contains_key("records") => (
            m.get("records")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            m.get("searchable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        Value::Object(_) => (vec![v.clone()], false),
        _ => {
            return Err(ApiError::json(
                "expected a record, an array of records, or {\"records\":[…]}",
            ));
        }
    };
    let now = state.clock.now_ms();
    let mut org = state.org_mut();
    let oi = org.object_index(&object).ok_or_else(ApiError::not_found)?;
    let mut ids = Vec::new();
    for rec in records {
        let Value::Object(fields) = rec else {
            return Err(ApiError::json("each record must be an object"));
        };
        ids.push(insert_exact(
            &mut org,
            oi,
            &fields,
            if searchable { 0 } else { now },
            now,
        )?);
    }
    Ok((StatusCode::CREATED, Json(json!({"ids": ids}))))
}

fn insert_exact(
    org: &mut Org,
    oi: usize,
    fields: &Map<String, Value>,
    written_ms: i64,
    now_ms: i64,
) -> Result<String, ApiError> {
    let obj = org.schema.objects[oi].clone();
    let mut values = vec![Value::Null; obj.fields.len()];
    let mut deleted = false;
    for (k, v) in fields {
        if k == "attributes" {
            continue;
        }
        if k.eq_ignore_ascii_case("IsDeleted") {
            deleted = v.as_bool().unwrap_or(false);
            continue;
        }
        let fi = obj.field_index_any(k).ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_FIELD",
                format!("No such column '{k}' on sobject of type {}", obj.name),
            )
        })?;
        values[fi] = v.clone();
    }
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
    Ok(id)
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

async fn put_settings(state: Shared, body: Bytes) -> Result<Json<Value>, ApiError> {
    let v = json_body(&body)?;
    if let Some(ms) = v.get("indexLagMs").and_then(Value::as_u64) {
        state.index_lag_ms.store(ms, Ordering::Relaxed);
    }
    if let Some(ms) = v.get("cursorTtlMs").and_then(Value::as_u64) {
        state.cursors.ttl_ms.store(ms, Ordering::Relaxed);
    }
    if let Some(b) = v.get("varyQueryPageSizes").and_then(Value::as_bool) {
        state.cursors.vary_page_sizes.store(b, Ordering::Relaxed);
    }
    if let Some(ms) = v.get("bulkJobDelayMs").and_then(Value::as_u64) {
        state.bulk.delay_ms.store(ms, Ordering::Relaxed);
    }
    if let Some(b) = v.get("bulkApiHardDelete").and_then(Value::as_bool) {
        state
            .bulk
            .hard_delete_permission
            .store(b, Ordering::Relaxed);
    }
    {
        let mut org = state.org_mut();
        if let Some(b) = v.get("duplicateRules").and_then(Value::as_bool) {
            org.settings.duplicate_rules = b;
        }
        if let Some(b) = v.get("deleteFieldHistory").and_then(Value::as_bool) {
            org.settings.delete_field_history = b;
        }
        if let Some(fields) = v.get("duplicateRuleFields") {
            let fields: Vec<String> = serde_json::from_value(fields.clone())
                .map_err(|e| ApiError::json(format!("duplicateRuleFields: {e}")))?;
            org.settings.duplicate_rule_fields = fields;
        }
        if let Some(list) = v.get("fieldLengths") {
            let list: Vec<FieldLength> = serde_json::from_value(list.clone())
                .map_err(|e| ApiError::json(format!("fieldLengths: {e}")))?;
            let list = list
                .into_iter()
                .map(|l| {
                    let r = canonical_field(&org, "fieldLengths", &l.object, &l.field)?;
                    Ok(FieldLength {
                        object: r.object,
                        field: r.field,
                        length: l.length,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            org.settings.field_lengths = list;
        }
        if let Some(list) = v.get("unreadableObjects") {
            let list: Vec<String> = serde_json::from_value(list.clone())
                .map_err(|e| ApiError::json(format!("unreadableObjects: {e}")))?;
            for o in &list {
                if org.schema.object(o).is_none() {
                    return Err(ApiError::json(format!("unreadableObjects: no object {o}")));
                }
            }
            org.settings.unreadable_objects = list;
        }
        if let Some(rules) = v.get("validationRules") {
            let rules: Vec<ValidationRule> = serde_json::from_value(rules.clone())
                .map_err(|e| ApiError::json(format!("validationRules: {e}")))?;
            for r in &rules {
                if let Some(p) = &r.pattern {
                    regex::Regex::new(p)
                        .map_err(|e| ApiError::json(format!("validationRules pattern: {e}")))?;
                }
            }
            org.settings.validation_rules = rules;
        }
        if let Some(list) = v.get("readOnlyFields") {
            let list: Vec<FieldRef> = serde_json::from_value(list.clone())
                .map_err(|e| ApiError::json(format!("readOnlyFields: {e}")))?;
            let list = list
                .iter()
                .map(|r| canonical_read_only(&org, r))
                .collect::<Result<Vec<_>, _>>()?;
            org.settings.read_only_fields = list;
        }
    }
    Ok(Json(settings_json(&state)))
}

/// A visible field of a setting, as the schema spells it.
fn canonical_field(
    org: &Org,
    setting: &str,
    object: &str,
    field: &str,
) -> Result<FieldRef, ApiError> {
    let obj = org
        .schema
        .object(object)
        .ok_or_else(|| ApiError::json(format!("{setting}: no object {object}")))?;
    let fd = obj.field(field).ok_or_else(|| {
        ApiError::json(format!(
            "{setting}: no field {field} visible on {}",
            obj.name
        ))
    })?;
    Ok(FieldRef {
        object: obj.name.to_string(),
        field: fd.name.to_string(),
    })
}

/// A `readOnlyFields` entry as the schema spells it. The field must be visible (a hidden one
/// is not readable at all) and not required: Salesforce does not let field-level security
/// restrict universally required fields.
fn canonical_read_only(org: &Org, r: &FieldRef) -> Result<FieldRef, ApiError> {
    let obj = org
        .schema
        .object(&r.object)
        .ok_or_else(|| ApiError::json(format!("readOnlyFields: no object {}", r.object)))?;
    let fd = obj.field(&r.field).ok_or_else(|| {
        ApiError::json(format!(
            "readOnlyFields: no field {} visible on {}",
            r.field, obj.name
        ))
    })?;
    if !fd.nillable && !fd.defaulted_on_create && fd.createable {
        return Err(ApiError::json(format!(
            "readOnlyFields: {}.{} is required; field-level security cannot make it read-only",
            obj.name, fd.name
        )));
    }
    Ok(FieldRef {
        object: obj.name.to_string(),
        field: fd.name.to_string(),
    })
}

async fn clock(state: Shared) -> Json<Value> {
    Json(json!({
        "now": crate::clock::sf_datetime(state.clock.now()),
        "offsetMs": state.clock.offset().as_millis() as u64,
    }))
}

async fn advance(state: Shared, body: Bytes) -> Result<Json<Value>, ApiError> {
    let v = json_body(&body)?;
    let ms = v
        .get("ms")
        .and_then(Value::as_u64)
        .or_else(|| v.get("seconds").and_then(Value::as_u64).map(|s| s * 1000))
        .ok_or_else(|| ApiError::json("expected {\"seconds\": n} or {\"ms\": n}"))?;
    state.clock.advance(Duration::from_millis(ms));
    Ok(clock(state).await)
}
