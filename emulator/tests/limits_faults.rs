//! Limits and faults over HTTP: Sforce-Limit-Info, both REQUEST_LIMIT_EXCEEDED kinds, injected
//! errors in Salesforce's shapes, latency, dropped connections, and TLS.

mod common;

use std::time::{Duration, Instant};

use common::{API, assert_sf_error, spawn};
use reqwest::Method;
use serde_json::{Value, json};

fn limits_path() -> String {
    format!("/services/data/{API}/limits")
}

#[tokio::test]
async fn limit_info_header_and_limits_resource_track_usage() {
    let app = spawn().await;
    let token = app.login().await;
    app.admin(
        Method::PUT,
        "/__emulator/limits",
        json!({"daily_api_requests": 500, "used": 10}),
    )
    .await;
    let resp = app.get(&limits_path(), &token).await;
    assert_eq!(resp.headers()["sforce-limit-info"], "api-usage=11/500");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["DailyApiRequests"],
        json!({"Max": 500, "Remaining": 489})
    );
    let resp = app.get(&limits_path(), &token).await;
    assert_eq!(resp.headers()["sforce-limit-info"], "api-usage=12/500");
    // An unauthenticated call is refused before it is charged.
    let resp = app.get(&limits_path(), "bogus").await;
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().get("sforce-limit-info").is_none());
    let s: Value = app
        .http
        .get(app.url("/__emulator/limits"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["used"], 12);
    // Like every data resource, only under a supported version.
    for v in ["v99.0", "v62.5", "v19.0"] {
        let resp = app.get(&format!("/services/data/{v}/limits"), &token).await;
        assert_eq!(resp.status(), 404, "{v}");
    }
}

#[tokio::test]
async fn spent_daily_allocation_gives_total_requests_limit_exceeded() {
    let app = spawn().await;
    let token = app.login().await;
    // Set through the faults API, as an operator would at run time.
    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"daily_api_requests": 2}),
    )
    .await;
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
    let resp = app.get(&limits_path(), &token).await;
    assert_sf_error(
        resp,
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "TotalRequests Limit exceeded.",
    )
    .await;
}

#[tokio::test]
async fn concurrent_long_requests_hit_concurrent_per_org_long_txn() {
    let app = spawn().await;
    let token = app.login().await;
    // Requests running longer than 200 ms are long; one may run at a time. Injected latency
    // is server time, so a 1.5 s request is long while it runs.
    app.admin(
        Method::PUT,
        "/__emulator/limits",
        json!({"long_request_cap": 1, "long_request_threshold_ms": 200}),
    )
    .await;
    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"latency_ms": 1500}),
    )
    .await;
    let slow = {
        let http = app.http.clone();
        let url = app.url(&limits_path());
        let token = token.clone();
        tokio::spawn(async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Refused at admission, before its own latency.
    let resp = app.get(&limits_path(), &token).await;
    assert_sf_error(
        resp,
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentPerOrgLongTxn Limit exceeded.",
    )
    .await;
    assert_eq!(slow.await.unwrap(), 200);
    app.admin(Method::PUT, "/__emulator/faults", json!({"latency_ms": 0}))
        .await;
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
}

#[tokio::test]
async fn fail_next_returns_salesforce_error_shapes_then_recovers() {
    let app = spawn().await;
    let token = app.login().await;
    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"fail_next": [
            {"endpoint": "limits", "kind": "SERVER_UNAVAILABLE", "count": 1},
        ]}),
    )
    .await;
    let resp = app.get(&limits_path(), &token).await;
    assert_eq!(resp.status(), 503);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b[0]["errorCode"], "SERVER_UNAVAILABLE");
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);

    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"fail_next": [
            {"endpoint": "*", "kind": "UNABLE_TO_LOCK_ROW", "count": 1, "after": 1},
        ]}),
    )
    .await;
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
    let resp = app.get(&limits_path(), &token).await;
    assert_eq!(resp.status(), 400);
    // A record (DML) error: `fields` is there, empty.
    common::assert_error_body(
        &resp.json().await.unwrap(),
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record",
        Some(serde_json::json!([])),
    );

    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"fail_next": [
            {"endpoint": "limits", "kind": "REQUEST_LIMIT_EXCEEDED", "count": 1},
        ]}),
    )
    .await;
    let resp = app.get(&limits_path(), &token).await;
    assert_sf_error(
        resp,
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentPerOrgLongTxn Limit exceeded.",
    )
    .await;
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
}

#[tokio::test]
async fn error_rate_one_fails_every_call_and_seeded_rates_repeat() {
    let app = spawn().await;
    let token = app.login().await;
    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"error_rates": [
            {"endpoint": "limits", "kind": "SERVER_UNAVAILABLE", "rate": 1.0}
        ]}),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(app.get(&limits_path(), &token).await.status(), 503);
    }
    // Other endpoints are untouched.
    let resp = app
        .http
        .post(app.url("/services/oauth2/revoke"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    let mut runs = Vec::new();
    for _ in 0..2 {
        app.admin(
            Method::PUT,
            "/__emulator/faults",
            json!({"seed": 11, "error_rates": [
                {"endpoint": "limits", "kind": "SERVER_UNAVAILABLE", "rate": 0.5}
            ]}),
        )
        .await;
        let mut statuses = Vec::new();
        for _ in 0..16 {
            statuses.push(app.get(&limits_path(), &token).await.status().as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&503) && runs[0].contains(&200),
        "{:?}",
        runs[0]
    );
    let resp = app
        .http
        .delete(app.url("/__emulator/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
}

#[tokio::test]
async fn latency_delays_responses() {
    let app = spawn().await;
    let token = app.login().await;
    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"latency_ms": 300, "jitter_ms": 50}),
    )
    .await;
    let start = Instant::now();
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn drop_closes_the_connection_without_a_response() {
    let app = spawn().await;
    let token = app.login().await;
    app.admin(
        Method::PUT,
        "/__emulator/faults",
        json!({"fail_next": [
            {"endpoint": "limits", "kind": "DROP", "count": 1},
        ]}),
    )
    .await;
    let err = app
        .http
        .get(app.url(&limits_path()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "{err}");
    assert_eq!(app.get(&limits_path(), &token).await.status(), 200);
}

#[tokio::test]
async fn expire_sessions_through_the_faults_api() {
    let app = spawn().await;
    let token = app.login().await;
    let r = app
        .admin(
            Method::PUT,
            "/__emulator/faults",
            json!({"expire_sessions": true}),
        )
        .await;
    assert_eq!(r["expired_sessions"], 1);
    let resp = app.get(&limits_path(), &token).await;
    assert_sf_error(
        resp,
        401,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    )
    .await;
}

#[tokio::test]
async fn serves_tls_with_the_test_certificate() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/test-only");
    let tls = sf_emulator::listener::tls_config(
        &format!("{dir}/tls-cert.pem"),
        &format!("{dir}/tls-key.pem"),
    )
    .unwrap();
    let emu = sf_emulator::Emulator::new(Default::default())
        .start_with_tls("127.0.0.1:0", Some(tls))
        .await
        .unwrap();
    assert!(emu.base_url.starts_with("https://"));
    let ca = reqwest::Certificate::from_pem(&std::fs::read(format!("{dir}/tls-ca.pem")).unwrap())
        .unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let resp = http
        .post(format!("{}/services/oauth2/token", emu.base_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sf_emulator::oauth::DEFAULT_CLIENT_ID),
            ("client_secret", sf_emulator::oauth::DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["instance_url"], emu.base_url.as_str());
    emu.shutdown.cancel();
}

#[tokio::test]
async fn trailing_slashes_route_like_salesforce() {
    let app = spawn().await;
    let token = app.login().await;
    let resp = app.get(&format!("{}/", limits_path()), &token).await;
    assert_eq!(resp.status(), 200);
}
