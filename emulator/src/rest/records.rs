//! Single sObject rows: `POST /sobjects/X`, `GET/PATCH/DELETE /sobjects/X/{id}`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{check_version, json_body, write_options};
use crate::error::ApiError;
use crate::org::ids::parse_id;
use crate::org::{Located, Org};
use crate::server::Shared;

/// Resolves the object name of a URL (404 when unknown).
fn object_name(org: &Org, object: &str) -> Result<&'static str, ApiError> {
    org.schema
        .object(object)
        .map(|o| o.name)
        .ok_or_else(ApiError::not_found)
}

/// Field indexes for `?fields=a,b` (all visible fields when absent).
pub fn field_list(org: &Org, object: &str, fields: Option<&str>) -> Result<Vec<usize>, ApiError> {
    let o = org.schema.object(object).ok_or_else(ApiError::not_found)?;
    match fields.filter(|f| !f.trim().is_empty()) {
        None => Ok(o.visible_fields().map(|(i, _)| i).collect()),
        Some(list) => list
            .split(',')
            .map(|f| {
                let f = f.trim();
                o.field_index(f).ok_or_else(|| {
                    ApiError::bad_request(
                        "INVALID_FIELD",
                        format!(
                            "No such column '{f}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                            o.name
                        ),
                    )
                })
            })
            .collect(),
    }
}

pub async fn create(
    state: Shared,
    Path((version, object)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_version(&version)?;
    let value = json_body(&body)?;
    let Value::Object(fields) = value else {
        return Err(ApiError::json(
            "Cannot deserialize instance of sObject from START_ARRAY value",
        ));
    };
    let opts = write_options(&state, &headers);
    let mut org = state.org_mut();
    let name = object_name(&org, &object)?;
    let id = org
        .create(name, &fields, opts)
        .map_err(ApiError::from_record)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "success": true, "errors": [], "warnings": [], "infos": []})),
    )
        .into_response())
}

/// A well-formed id of another object in a row URL.
fn malformed_id(object: &str, id: &str) -> ApiError {
    ApiError::bad_request(
        "MALFORMED_ID",
        format!("{object} ID: id value of incorrect type: {id}"),
    )
    .with_fields(vec!["Id".into()])
}

pub async fn read(
    state: Shared,
    Path((version, object, id)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let org = state.org();
    let name = object_name(&org, &object)?;
    let fields = field_list(&org, name, params.get("fields").map(String::as_str))?;
    let parsed = parse_id(&id).ok_or_else(|| ApiError::external_id_not_found(&id))?;
    if org.schema.object_by_prefix(&parsed.prefix).map(|o| o.name) != Some(name) {
        return Err(malformed_id(name, &id));
    }
    match org.locate(&id) {
        Some(Located::Live(r)) => Ok(Json(org.record_json(&r, &fields, &version))),
        Some(Located::Deleted(_)) => Err(ApiError::entity_deleted()),
        _ => Err(ApiError::not_found()),
    }
}

pub async fn update(
    state: Shared,
    Path((version, object, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    check_version(&version)?;
    let value = json_body(&body)?;
    let Value::Object(fields) = value else {
        return Err(ApiError::json(
            "Cannot deserialize instance of sObject from START_ARRAY value",
        ));
    };
    let opts = write_options(&state, &headers);
    let mut org = state.org_mut();
    let name = object_name(&org, &object)?;
    if parse_id(&id).is_none() {
        return Err(ApiError::external_id_not_found(&id));
    }
    if matches!(org.locate(&id), Some(Located::Missing)) {
        return Err(ApiError::not_found());
    }
    org.update(Some(name), &id, &fields, opts)
        .map_err(ApiError::from_record)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    state: Shared,
    Path((version, object, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    check_version(&version)?;
    let opts = write_options(&state, &headers);
    let mut org = state.org_mut();
    let name = object_name(&org, &object)?;
    if parse_id(&id).is_none() {
        return Err(ApiError::external_id_not_found(&id));
    }
    if matches!(org.locate(&id), Some(Located::Missing)) {
        return Err(ApiError::not_found());
    }
    org.delete(Some(name), &id, false, opts)
        .map_err(ApiError::from_record)?;
    Ok(StatusCode::NO_CONTENT)
}
