//! The Composite resources: `/composite` (≤ 25 subrequests, `allOrNone`, `@{ref.field}`
//! references, `compositeResponse`) and `/composite/batch` (≤ 25 independent subrequests,
//! `haltOnError`, `hasErrors` + `results`).
//!
//! Subrequests are dispatched in-process through the data routes without their layers (the
//! caller's session is copied into each), so they behave exactly like direct calls. A composite
//! request costs one API call, a batch one per subrequest, as in Salesforce (both in
//! `Sforce-Limit-Info` and in `/__emulator/counters`, under the batch endpoint). `allOrNone` rolls
//! back by restoring a snapshot of the org's tables taken before the first subrequest; writes
//! by other clients interleaved with the composite call would be lost with it (acceptable in
//! an emulator; documented in the README).

use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use regex::Regex;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::listener::ConnInfo;
use crate::oauth::Session;
use crate::server::AppState;

/// Salesforce's cap on subrequests per composite or batch call.
pub const MAX_SUBREQUESTS: usize = 25;
/// Largest subrequest response body read back (a 2,000-row query page fits easily).
const MAX_SUB_BODY: usize = 64 * 1024 * 1024;

/// The unlayered data router subrequests go through (set once when the router is built).
#[derive(Default)]
pub struct CompositeState {
    inner: OnceLock<Router>,
}

impl CompositeState {
    pub fn set_router(&self, router: Router) {
        let _ = self.inner.set(router);
    }
}

/// `POST /services/data/vNN.0/composite` and `/composite/batch` (data routes).
pub fn data_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/services/data/{version}/composite", post(composite))
        .route("/services/data/{version}/composite/batch", post(batch))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!([{"message": message, "errorCode": code}])),
    )
        .into_response()
}

fn json_error(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", message)
}

struct SubResponse {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

/// Runs one subrequest through the data routes as the caller.
#[allow(clippy::too_many_arguments)]
async fn dispatch(
    state: &AppState,
    session: &Session,
    conn: Option<ConnInfo>,
    parent: &HeaderMap,
    method: &str,
    url: &str,
    body: Option<&Value>,
    extra_headers: Option<&Map<String, Value>>,
) -> SubResponse {
    let Some(router) = state.composite.inner.get().cloned() else {
        return SubResponse {
            status: 500,
            headers: HeaderMap::new(),
            body: json!([{"message": "composite router not initialised", "errorCode": "UNKNOWN_EXCEPTION"}]),
        };
    };
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap_or(Method::GET);
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = Request::new(Body::from(payload));
    *req.method_mut() = method;
    *req.uri_mut() = match url.parse() {
        Ok(u) => u,
        Err(_) => {
            return SubResponse {
                status: 400,
                headers: HeaderMap::new(),
                body: json!([{"message": format!("Invalid URL: {url}"), "errorCode": "INVALID_URL"}]),
            };
        }
    };
    crate::listener::strip_trailing_slash(&mut req);
    let headers = req.headers_mut();
    for name in [header::HOST, header::AUTHORIZATION] {
        if let Some(v) = parent.get(&name) {
            headers.insert(name, v.clone());
        }
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (k, v) in extra_headers.into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(k.as_bytes()),
            v.as_str().map(HeaderValue::from_str),
        ) {
            headers.insert(name, value);
        }
    }
    req.extensions_mut().insert(session.clone());
    if let Some(c) = conn {
        req.extensions_mut().insert(c);
    }
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), MAX_SUB_BODY)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    SubResponse {
        status,
        headers,
        body,
    }
}

fn reference_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[[0-9]+\])*)\}").expect("literal regex")
    })
}

fn step_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\.([A-Za-z0-9_]+)|\[([0-9]+)\]").expect("literal regex"))
}

/// Follows `.field` / `[n]` steps into a subrequest's response body.
fn walk<'v>(mut v: &'v Value, path: &str) -> Option<&'v Value> {
    for c in step_re().captures_iter(path) {
        v = match (c.get(1), c.get(2)) {
            (Some(f), _) => v.get(f.as_str())?,
            (_, Some(i)) => v.get(i.as_str().parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Why a reference could not be resolved: (reference id, whole expression).
#[derive(Debug)]
struct BadReference(String, String);

/// Replaces every `@{ref.path}` in `text`; `json_string` escapes values for a JSON string.
fn substitute(
    text: &str,
    results: &Map<String, Value>,
    json_string: bool,
) -> Result<String, BadReference> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for c in reference_re().captures_iter(text) {
        let (Some(whole), Some(id)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let path = c.get(2).map(|m| m.as_str()).unwrap_or_default();
        let expr = format!("{}{}", id.as_str(), path);
        let value = results
            .get(id.as_str())
            .and_then(|body| walk(body, path))
            .filter(|v| !v.is_null())
            .ok_or_else(|| BadReference(id.as_str().to_string(), expr))?;
        let raw = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str(&text[last..whole.start()]);
        if json_string {
            let quoted = Value::String(raw).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        } else {
            out.push_str(&raw);
        }
        last = whole.end();
    }
    out.push_str(&text[last..]);
    Ok(out)
}

fn halted(message: &str) -> Value {
    json!([{"errorCode": "PROCESSING_HALTED", "message": message}])
}

const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

/// Parses a composite or batch body: the JSON, its list of subrequests under `key`, and the
/// 25-subrequest cap, with the error each step gives.
#[allow(clippy::result_large_err)]
fn subrequests(
    body: &[u8],
    key: &str,
    what: &str,
    limit_message: &str,
) -> Result<(Value, Vec<Value>), Response> {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return Err(json_error(&format!(
            "Unexpected character: the {what} body is not valid JSON"
        )));
    };
    let Some(subs) = req.get(key).and_then(Value::as_array).cloned() else {
        return Err(json_error(&format!("{key} is required")));
    };
    if subs.len() > MAX_SUBREQUESTS {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            limit_message,
        ));
    }
    Ok((req, subs))
}

async fn composite(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    conn: Option<Extension<ConnInfo>>,
    Path(_version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (req, subs) = match subrequests(
        &body,
        "compositeRequest",
        "composite request",
        "Composite request limit exceeded: a composite request can contain at most 25 subrequests",
    ) {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let subs = &subs;
    let all_or_none = req
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let snapshot = all_or_none.then(|| state.org().tables.clone());
    let conn = conn.map(|c| c.0);
    let mut results = Map::new();
    let mut out: Vec<Value> = Vec::with_capacity(subs.len());
    let mut failed = false;
    for sub in subs {
        let reference_id = sub.get("referenceId").and_then(Value::as_str).unwrap_or("");
        if failed && all_or_none {
            out.push(json!({"body": halted(ROLLED_BACK), "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id}));
            continue;
        }
        let method = sub.get("method").and_then(Value::as_str).unwrap_or("GET");
        let url = sub.get("url").and_then(Value::as_str).unwrap_or("");
        let resolved = substitute(url, &results, false).and_then(|url| {
            let body = match sub.get("body") {
                Some(b) => Some(
                    serde_json::from_str::<Value>(&substitute(&b.to_string(), &results, true)?)
                        .unwrap_or(Value::Null),
                ),
                None => None,
            };
            Ok((url, body))
        });
        let (url, sub_body) = match resolved {
            Ok(r) => r,
            Err(BadReference(id, expr)) => {
                failed = true;
                let msg = format!(
                    "Invalid reference specified. No value for {expr} found in {id}. Provided referenceId ({id}) is either not in this composite request or it failed."
                );
                out.push(json!({"body": halted(&msg), "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id}));
                continue;
            }
        };
        if !url.starts_with("/services/data/") {
            failed = true;
            out.push(json!({
                "body": [{"errorCode": "INVALID_URL", "message": format!("The URL {url} is not supported in a composite subrequest")}],
                "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference_id
            }));
            continue;
        }
        let resp = dispatch(
            &state,
            &session,
            conn,
            &headers,
            method,
            &url,
            sub_body.as_ref(),
            sub.get("httpHeaders").and_then(Value::as_object),
        )
        .await;
        if resp.status >= 400 {
            failed = true;
        } else {
            results.insert(reference_id.to_string(), resp.body.clone());
        }
        let mut http_headers = Map::new();
        if let Some(loc) = resp
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            http_headers.insert("Location".into(), json!(loc));
        } else if let (201, Some(id)) = (resp.status, resp.body.get("id").and_then(Value::as_str)) {
            http_headers.insert(
                "Location".into(),
                json!(format!("{}/{id}", url.trim_end_matches('/'))),
            );
        }
        out.push(json!({
            "body": resp.body,
            "httpHeaders": http_headers,
            "httpStatusCode": resp.status,
            "referenceId": reference_id,
        }));
    }
    if let (Some(tables), true) = (snapshot, failed) {
        state.org_mut().tables = tables;
        for entry in out.iter_mut() {
            let ok = entry["httpStatusCode"].as_u64().is_some_and(|s| s < 400);
            if ok {
                entry["body"] = halted(ROLLED_BACK);
                entry["httpHeaders"] = json!({});
                entry["httpStatusCode"] = json!(400);
            }
        }
    }
    Json(json!({"compositeResponse": out})).into_response()
}

async fn batch(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    conn: Option<Extension<ConnInfo>>,
    Path(_version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (req, subs) = match subrequests(
        &body,
        "batchRequests",
        "batch request",
        "Batch request limit exceeded: a batch can contain at most 25 subrequests",
    ) {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let subs = &subs;
    // The batch call itself was charged and counted once; each further subrequest costs one
    // more, in the limits and in the counters alike.
    let extra = subs.len().saturating_sub(1) as u64;
    state.limits.charge(extra);
    state.counters.record_n(
        "POST /services/data/{version}/composite/batch",
        &session.client_id,
        extra,
    );
    let halt = req
        .get("haltOnError")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let conn = conn.map(|c| c.0);
    let mut has_errors = false;
    let mut results = Vec::with_capacity(subs.len());
    for sub in subs {
        if halt && has_errors {
            results.push(json!({"statusCode": 412, "result": [{"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}]}));
            continue;
        }
        let method = sub.get("method").and_then(Value::as_str).unwrap_or("GET");
        // Batch URLs are relative to /services/data/ (e.g. "v62.0/sobjects/Account/001…").
        let rel = sub.get("url").and_then(Value::as_str).unwrap_or("");
        let url = if rel.starts_with("/services/data/") {
            rel.to_string()
        } else {
            format!("/services/data/{}", rel.trim_start_matches('/'))
        };
        let resp = dispatch(
            &state,
            &session,
            conn,
            &headers,
            method,
            &url,
            sub.get("richInput"),
            None,
        )
        .await;
        if resp.status >= 400 {
            has_errors = true;
        }
        results.push(json!({"statusCode": resp.status, "result": resp.body}));
    }
    Json(json!({"hasErrors": has_errors, "results": results})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_into_urls_and_json_strings() {
        let mut results = Map::new();
        results.insert("acct".into(), json!({"id": "001000000000001AAA"}));
        results.insert(
            "q".into(),
            json!({"records": [{"Id": "003A", "Name": "O\"Neil"}]}),
        );
        assert_eq!(
            substitute(
                "/services/data/v62.0/sobjects/Account/@{acct.id}",
                &results,
                false
            )
            .unwrap(),
            "/services/data/v62.0/sobjects/Account/001000000000001AAA"
        );
        let body =
            json!({"AccountId": "@{acct.id}", "Note": "x @{q.records[0].Name} y"}).to_string();
        let v: Value = serde_json::from_str(&substitute(&body, &results, true).unwrap()).unwrap();
        assert_eq!(v["AccountId"], "001000000000001AAA");
        assert_eq!(v["Note"], "x O\"Neil y");
        let err = substitute("@{missing.id}", &results, false).unwrap_err();
        assert_eq!(err.0, "missing");
    }
}
