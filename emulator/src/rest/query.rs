//! `/query`, `/queryAll` and their `nextRecordsUrl` pages.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::HeaderMap;

use super::check_version;
use crate::error::ApiError;
use crate::server::Shared;
use crate::soql::{JsonBody, batch_size};

fn run(
    state: &Shared,
    version: &str,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    all: bool,
) -> Result<JsonBody, ApiError> {
    check_version(version)?;
    // Salesforce's text for a missing or blank `q` (400 MALFORMED_QUERY).
    let q = params
        .get("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("MALFORMED_QUERY", "A query string has to be specified")
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
}

pub async fn query(
    state: Shared,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<JsonBody, ApiError> {
    run(&state, &version, &params, &headers, false)
}

pub async fn query_all(
    state: Shared,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<JsonBody, ApiError> {
    run(&state, &version, &params, &headers, true)
}

pub async fn more(
    state: Shared,
    Path((version, locator)): Path<(String, String)>,
) -> Result<JsonBody, ApiError> {
    check_version(&version)?;
    let org = state.org();
    state
        .cursors
        .more(&org, &locator, state.clock.now(), &version)
}
