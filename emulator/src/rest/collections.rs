//! sObject Collections (`/composite/sobjects`): up to 200 records per call, per-record
//! results, `allOrNone` (a failure rolls every record back; the others report
//! `ALL_OR_NONE_OPERATION_ROLLED_BACK`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use super::records::field_list;
use super::{check_version, json_body, write_options};
use crate::error::{ApiError, RecordError};
use crate::org::{Located, Org};
use crate::server::Shared;

pub const MAX_RECORDS: usize = 200;
/// Ids one retrieve (GET or POST `/composite/sobjects/X`) may ask for.
pub const MAX_RETRIEVE: usize = 2000;

/// `EXCEEDED_ID_LIMIT` with Salesforce's text for a call over its record cap.
fn too_many(limit: usize) -> ApiError {
    ApiError::bad_request(
        "EXCEEDED_ID_LIMIT",
        format!("record limit reached. cannot submit more than {limit} records into this call"),
    )
}

fn result(id: Option<&str>, outcome: Result<(), RecordError>) -> Value {
    let mut m = Map::new();
    if let Some(id) = id {
        m.insert("id".into(), json!(id));
    }
    match outcome {
        Ok(()) => {
            m.insert("success".into(), json!(true));
            m.insert("errors".into(), json!([]));
        }
        Err(e) => {
            m.insert("success".into(), json!(false));
            m.insert("errors".into(), json!([e]));
        }
    }
    Value::Object(m)
}

fn rolled_back() -> RecordError {
    RecordError::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        vec![],
    )
}

/// Runs `op` per item; with `all_or_none`, restores the org if any failed.
fn apply<T>(
    org: &mut Org,
    items: &[T],
    all_or_none: bool,
    creating: bool,
    mut op: impl FnMut(&mut Org, &T) -> (Option<String>, Result<(), RecordError>),
) -> Vec<Value> {
    let snapshot = all_or_none.then(|| org.tables.clone());
    let outcomes: Vec<(Option<String>, Result<(), RecordError>)> =
        items.iter().map(|it| op(org, it)).collect();
    let failed = outcomes.iter().any(|(_, r)| r.is_err());
    if let (Some(tables), true) = (snapshot, failed) {
        org.tables = tables;
        // Rolled-back creates never got an id.
        return outcomes
            .into_iter()
            .map(|(id, r)| {
                let id = if creating { None } else { id };
                result(id.as_deref(), Err(r.err().unwrap_or_else(rolled_back)))
            })
            .collect();
    }
    outcomes
        .into_iter()
        .map(|(id, r)| result(id.as_deref(), r))
        .collect()
}

fn records_of(body: &Value) -> Result<(Vec<Map<String, Value>>, bool), ApiError> {
    let all_or_none = body
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let records = body
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::json("records is required"))?;
    if records.len() > MAX_RECORDS {
        return Err(too_many(MAX_RECORDS));
    }
    let records = records
        .iter()
        .map(|r| match r {
            Value::Object(m) => Ok(m.clone()),
            _ => Err(ApiError::json("Cannot deserialize instance of sObject")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((records, all_or_none))
}

fn type_of(rec: &Map<String, Value>) -> Option<String> {
    rec.get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub async fn create(
    state: Shared,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let (records, all_or_none) = records_of(&json_body(&body)?)?;
    let opts = write_options(&state, &headers);
    let mut org = state.org_mut();
    let out = apply(&mut org, &records, all_or_none, true, |org, rec| {
        let Some(ty) = type_of(rec) else {
            return (
                None,
                Err(RecordError::new(
                    "INVALID_TYPE",
                    "Must send a concrete entity type.",
                    vec![],
                )),
            );
        };
        if rec.keys().any(|k| k.eq_ignore_ascii_case("Id")) {
            return (
                None,
                Err(RecordError::new(
                    "INVALID_FIELD",
                    "Records with IDs cannot be created",
                    vec!["Id".into()],
                )),
            );
        }
        match org.create(&ty, rec, opts) {
            Ok(id) => (Some(id), Ok(())),
            Err(e) => (None, Err(e)),
        }
    });
    Ok(Json(Value::Array(out)))
}

pub async fn update(
    state: Shared,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let (records, all_or_none) = records_of(&json_body(&body)?)?;
    let opts = write_options(&state, &headers);
    let mut org = state.org_mut();
    let out = apply(&mut org, &records, all_or_none, false, |org, rec| {
        let id = rec
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Id"))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string);
        let Some(id) = id else {
            return (
                None,
                Err(RecordError::new(
                    "MISSING_ARGUMENT",
                    "Id not specified in an update call",
                    vec![],
                )),
            );
        };
        let ty = type_of(rec);
        (Some(id.clone()), org.update(ty.as_deref(), &id, rec, opts))
    });
    Ok(Json(Value::Array(out)))
}

pub async fn delete(
    state: Shared,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let ids: Vec<String> = params
        .get("ids")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::bad_request("MISSING_ARGUMENT", "ids is required"));
    }
    if ids.len() > MAX_RECORDS {
        return Err(too_many(MAX_RECORDS));
    }
    let all_or_none = params
        .get("allOrNone")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let opts = write_options(&state, &headers);
    let mut org = state.org_mut();
    let out = apply(&mut org, &ids, all_or_none, false, |org, id| {
        (Some(id.clone()), org.delete(None, id, false, opts))
    });
    Ok(Json(Value::Array(out)))
}

fn retrieve_inner(
    state: &Shared,
    version: &str,
    object: &str,
    ids: Vec<String>,
    fields: Option<String>,
) -> Result<Json<Value>, ApiError> {
    check_version(version)?;
    if ids.len() > MAX_RETRIEVE {
        return Err(too_many(MAX_RETRIEVE));
    }
    let fields =
        fields.ok_or_else(|| ApiError::bad_request("MISSING_ARGUMENT", "fields is required"))?;
    let org = state.org();
    let name = org
        .schema
        .object(object)
        .map(|o| o.name)
        .ok_or_else(ApiError::not_found)?;
    let fis = field_list(&org, name, Some(&fields))?;
    let out = ids
        .iter()
        .map(|id| match org.locate(id) {
            Some(Located::Live(r)) if r.obj().name == name => org.record_json(&r, &fis, version),
            _ => Value::Null,
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

pub async fn retrieve(
    state: Shared,
    Path((version, object)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let ids = params
        .get("ids")
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    retrieve_inner(
        &state,
        &version,
        &object,
        ids,
        params.get("fields").cloned(),
    )
}

pub async fn retrieve_post(
    state: Shared,
    Path((version, object)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let v = json_body(&body)?;
    let strings = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let fields = strings("fields");
    retrieve_inner(
        &state,
        &version,
        &object,
        strings("ids"),
        (!fields.is_empty()).then(|| fields.join(",")),
    )
}
