//! The REST data API (`/services/data/vNN.0/…`): versions, describe, query, search,
//! sObject rows and sObject Collections. Handlers are thin: parse the request, call
//! `org`/`soql`/`sosl`, shape the answer; rules live below.

mod collections;
mod describe;
mod query;
mod records;
mod search;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;

use crate::error::ApiError;
use crate::org::rules::WriteOptions;
use crate::server::AppState;

/// API versions served (Salesforce's labels).
pub const VERSIONS: &[(&str, &str)] = &[
    ("Winter '23", "56.0"),
    ("Spring '23", "57.0"),
    ("Summer '23", "58.0"),
    ("Winter '24", "59.0"),
    ("Spring '24", "60.0"),
    ("Summer '24", "61.0"),
    ("Winter '25", "62.0"),
    ("Spring '25", "63.0"),
    ("Summer '25", "64.0"),
];

/// Checks `vNN.0` against the versions served; anything else is `NOT_FOUND` as in
/// Salesforce. Versions 20.0–55.0 are accepted too (real clients pin old ones).
pub fn check_version(v: &str) -> Result<(), ApiError> {
    let ok = v
        .strip_prefix('v')
        .and_then(|n| n.strip_suffix(".0"))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (20..=64).contains(&n));
    if ok {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// Write options from request headers and the clock.
pub fn write_options(state: &AppState, headers: &HeaderMap) -> WriteOptions {
    let allow_save = headers
        .get("sforce-duplicate-rule-header")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|kv| {
                kv.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("allowSave")
                        && v.trim().eq_ignore_ascii_case("true")
                })
            })
        });
    WriteOptions {
        allow_save,
        now_ms: state.clock.now_ms(),
    }
}

/// Parses a JSON body with Salesforce's error for bad JSON.
pub fn json_body(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::json(format!("Unexpected character: {e}")))
}

/// Routes that need a session.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/services/data/{version}", get(describe::resources))
        .route("/services/data/{version}/sobjects", get(describe::global))
        .route(
            "/services/data/{version}/sobjects/{object}",
            get(describe::basic).post(records::create),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/describe",
            get(describe::object),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}",
            get(records::read)
                .patch(records::update)
                .delete(records::delete),
        )
        .route("/services/data/{version}/query", get(query::query))
        .route("/services/data/{version}/query/{locator}", get(query::more))
        .route("/services/data/{version}/queryAll", get(query::query_all))
        .route(
            "/services/data/{version}/queryAll/{locator}",
            get(query::more),
        )
        .route("/services/data/{version}/search", get(search::search))
        .route(
            "/services/data/{version}/parameterizedSearch",
            get(search::parameterized_get).post(search::parameterized_post),
        )
        .route(
            "/services/data/{version}/composite/sobjects",
            axum::routing::post(collections::create)
                .patch(collections::update)
                .delete(collections::delete),
        )
        .route(
            "/services/data/{version}/composite/sobjects/{object}",
            get(collections::retrieve).post(collections::retrieve_post),
        )
}

/// Routes Salesforce serves without a session (the versions list).
pub fn public_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/services/data", get(describe::versions))
        .route("/services/data/", get(describe::versions))
}
