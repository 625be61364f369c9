//! `/search?q=` (SOSL) and `/parameterizedSearch` (GET and POST).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use serde_json::Value;

use super::{check_version, json_body};
use crate::error::ApiError;
use crate::server::Shared;
use crate::sosl::{self, Expr, Returning, Scope, Search};

fn run(state: &Shared, version: &str, search: &Search) -> Result<Json<Value>, ApiError> {
    let org = state.org();
    sosl::execute(
        &org,
        search,
        state.clock.now(),
        state.index_lag_ms(),
        version,
    )
    .map(Json)
}

pub async fn search(
    state: Shared,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let q = params
        .get("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "MALFORMED_SEARCH",
                "No search term found. The search term must be enclosed in braces.",
            )
        })?;
    let s = sosl::parse(q)?;
    run(&state, &version, &s)
}

fn scope(s: Option<&str>) -> Result<Scope, ApiError> {
    Ok(match s.map(str::to_ascii_uppercase).as_deref() {
        None | Some("ALL") => Scope::All,
        Some("NAME") => Scope::Name,
        Some("EMAIL") => Scope::Email,
        Some("PHONE") => Scope::Phone,
        Some(other) => {
            return Err(ApiError::bad_request(
                "INVALID_SEARCH_SCOPE",
                format!("Invalid search scope: {other}"),
            ));
        }
    })
}

/// Parameterized search takes plain text: reserved characters are separators, not syntax.
fn expr_of(q: &str) -> Result<Expr, ApiError> {
    let cleaned: String = q
        .chars()
        .map(|c| {
            if "&|!{}[]^~:'+-\\()".contains(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    sosl::parse_terms(&cleaned, &cleaned, 0)
}

pub async fn parameterized_get(
    state: Shared,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let q = params
        .get("q")
        .ok_or_else(|| ApiError::bad_request("MISSING_ARGUMENT", "q is required"))?;
    let default_fields: Vec<String> = params
        .get("fields")
        .map(|f| f.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    let returning = params
        .get("sobject")
        .map(|s| {
            s.split(',')
                .map(|o| {
                    let o = o.trim().to_string();
                    let fields = params
                        .get(&format!("{o}.fields"))
                        .map(|f| f.split(',').map(|x| x.trim().to_string()).collect())
                        .unwrap_or_else(|| default_fields.clone());
                    let limit = params
                        .get(&format!("{o}.limit"))
                        .and_then(|l| l.parse().ok());
                    Returning {
                        object: o,
                        fields,
                        where_: None,
                        order: None,
                        limit,
                        at: None,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let limit = params
        .get("overallLimit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(sosl::MAX_ROWS)
        .min(sosl::MAX_ROWS);
    let search = Search {
        text: String::new(),
        expr: expr_of(q)?,
        scope: scope(params.get("in").map(String::as_str))?,
        returning,
        limit,
    };
    run(&state, &version, &search)
}

pub async fn parameterized_post(
    state: Shared,
    Path(version): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    check_version(&version)?;
    let v = json_body(&body)?;
    let q = v
        .get("q")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("MISSING_ARGUMENT", "q is required"))?;
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let default_fields = strings(v.get("fields"));
    let returning = v
        .get("sobjects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    let name = o.get("name")?.as_str()?.to_string();
                    let fields = o
                        .get("fields")
                        .map_or_else(|| default_fields.clone(), |f| strings(Some(f)));
                    let limit = o.get("limit").and_then(Value::as_u64).map(|l| l as usize);
                    let where_ = o.get("where").and_then(Value::as_str).map(str::to_string);
                    Some(Returning {
                        object: name,
                        fields,
                        where_,
                        order: None,
                        limit,
                        at: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let limit = v
        .get("overallLimit")
        .and_then(Value::as_u64)
        .map_or(sosl::MAX_ROWS, |l| l as usize)
        .min(sosl::MAX_ROWS);
    let search = Search {
        text: String::new(),
        expr: expr_of(q)?,
        scope: scope(v.get("in").and_then(Value::as_str))?,
        returning,
        limit,
    };
    run(&state, &version, &search)
}
