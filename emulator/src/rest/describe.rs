//! Versions list, resources, global describe, sObject basic info and describe.

use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use super::{VERSIONS, check_version};
use crate::error::ApiError;
use crate::org::describe;
use crate::server::Shared;

pub async fn versions() -> Json<Value> {
    Json(Value::Array(
        VERSIONS
            .iter()
            .map(|(label, v)| json!({"label": label, "url": format!("/services/data/v{v}"), "version": v}))
            .collect(),
    ))
}

pub async fn resources(Path(version): Path<String>) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let base = format!("/services/data/{version}");
    let mut m = serde_json::Map::new();
    for r in [
        "sobjects",
        "query",
        "queryAll",
        "search",
        "parameterizedSearch",
        "composite",
        "limits",
        "jobs",
    ] {
        m.insert(r.to_string(), json!(format!("{base}/{r}")));
    }
    Ok(Json(Value::Object(m)))
}

pub async fn global(state: Shared, Path(version): Path<String>) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let org = state.org();
    let sobjects: Vec<Value> = org
        .schema
        .objects
        .iter()
        .enumerate()
        .map(|(oi, o)| describe::summary(o, &version, org.deletable(oi)))
        .collect();
    Ok(Json(
        json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}),
    ))
}

pub async fn basic(
    state: Shared,
    Path((version, object)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let org = state.org();
    let oi = org.object_index(&object).ok_or_else(ApiError::not_found)?;
    let o = &org.schema.objects[oi];
    Ok(Json(
        json!({"objectDescribe": describe::summary(o, &version, org.deletable(oi)), "recentItems": []}),
    ))
}

pub async fn object(
    state: Shared,
    Path((version, object)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let org = state.org();
    let oi = org.object_index(&object).ok_or_else(ApiError::not_found)?;
    let o = &org.schema.objects[oi];
    Ok(Json(describe::describe(
        &org.schema,
        o,
        &version,
        |fi| org.fls_read_only(oi, fi),
        |fi| org.field_length(oi, fi),
        org.deletable(oi),
    )))
}
