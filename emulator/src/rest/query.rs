//! `/query`, `/queryAll` and their `nextRecordsUrl` pages.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use serde_json::Value;

use super::check_version;
use crate::error::ApiError;
use crate::server::Shared;
use crate::soql::batch_size;

fn run(
    state: &Shared,
    version: &str,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    all: bool,
) -> Result<Json<Value>, ApiError> {
    check_version(version)?;
    let q = params
        .get("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("MALFORMED_QUERY", "A query string must be provided.")
        })?;
    let batch = batch_size(
        headers
            .get("sforce-query-options")
            .and_then(|v| v.to_str().ok()),
    );
    let org = state.org();
    state
        .cursors
        .query(&org, q, all, batch, state.clock.now(), version)
        .map(Json)
}

pub async fn query(
    state: Shared,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    run(&state, &version, &params, &headers, false)
}

pub async fn query_all(
    state: Shared,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    run(&state, &version, &params, &headers, true)
}

pub async fn more(
    state: Shared,
    Path((version, locator)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let org = state.org();
    state
        .cursors
        .more(&org, &locator, state.clock.now(), &version)
        .map(Json)
}
