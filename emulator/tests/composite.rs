//! Composite and composite batch over HTTP: references, allOrNone rollback, limits, shapes.

mod common;

use common::{API, spawn};
use serde_json::{Value, json};

fn usage(resp: &reqwest::Response) -> u64 {
    let h = resp.headers()["sforce-limit-info"].to_str().unwrap();
    h.trim_start_matches("api-usage=")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn post(app: &common::App, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/services/data/{API}/{path}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn counters(app: &common::App) -> Value {
    app.http
        .get(app.url("/__emulator/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn count(app: &common::App, token: &str, soql: &str) -> u64 {
    let resp = app
        .http
        .get(app.url(&format!("/services/data/{API}/query")))
        .query(&[("q", soql)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let b: Value = resp.json().await.unwrap();
    b["totalSize"].as_u64().unwrap()
}

#[tokio::test]
async fn composite_resolves_references_and_costs_one_call() {
    let app = spawn().await;
    let token = app.login().await;
    let v = format!("/services/data/{API}");
    let before = usage(&app.get(&format!("{v}/limits"), &token).await);
    let resp = post(&app, &token, "composite", json!({
        "compositeRequest": [
            {"method": "POST", "url": format!("{v}/sobjects/Account"), "referenceId": "acct", "body": {"Name": "Composite Co"}},
            {"method": "POST", "url": format!("{v}/sobjects/Contact"), "referenceId": "ct",
             "body": {"LastName": "Composer", "AccountId": "@{acct.id}"}},
            {"method": "GET", "url": format!("{v}/sobjects/Contact/@{{ct.id}}?fields=Id,AccountId"), "referenceId": "read"},
        ]
    })).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(usage(&resp), before + 1, "a composite call is one API call");
    let b: Value = resp.json().await.unwrap();
    let out = b["compositeResponse"].as_array().unwrap();
    let statuses: Vec<_> = out
        .iter()
        .map(|r| r["httpStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 200], "{b}");
    assert_eq!(out[0]["referenceId"], "acct");
    let acct_id = out[0]["body"]["id"].as_str().unwrap();
    assert!(
        out[0]["httpHeaders"]["Location"]
            .as_str()
            .unwrap()
            .ends_with(acct_id)
    );
    assert_eq!(out[2]["body"]["AccountId"], acct_id);
}

#[tokio::test]
async fn all_or_none_rolls_back_every_subrequest() {
    let app = spawn().await;
    let token = app.login().await;
    let v = format!("/services/data/{API}");
    let resp = post(&app, &token, "composite", json!({
        "allOrNone": true,
        "compositeRequest": [
            {"method": "POST", "url": format!("{v}/sobjects/Account"), "referenceId": "acct", "body": {"Name": "Rollback Co 7f3a"}},
            {"method": "POST", "url": format!("{v}/sobjects/Contact"), "referenceId": "bad", "body": {"FirstName": "NoLastName"}},
            {"method": "POST", "url": format!("{v}/sobjects/Contact"), "referenceId": "after", "body": {"LastName": "After"}},
        ]
    })).await;
    let b: Value = resp.json().await.unwrap();
    let out = b["compositeResponse"].as_array().unwrap();
    assert!(out.iter().all(|r| r["httpStatusCode"] == 400), "{b}");
    assert_eq!(out[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(out[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(out[2]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(
        count(
            &app,
            &token,
            "SELECT COUNT() FROM Account WHERE Name = 'Rollback Co 7f3a'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn without_all_or_none_a_failed_reference_halts_only_its_dependents() {
    let app = spawn().await;
    let token = app.login().await;
    let v = format!("/services/data/{API}");
    let resp = post(&app, &token, "composite", json!({
        "compositeRequest": [
            {"method": "POST", "url": format!("{v}/sobjects/Contact"), "referenceId": "bad", "body": {"FirstName": "NoLastName"}},
            {"method": "GET", "url": format!("{v}/sobjects/Contact/@{{bad.id}}"), "referenceId": "dependent"},
            {"method": "POST", "url": format!("{v}/sobjects/Account"), "referenceId": "ok", "body": {"Name": "Independent 9c1d"}},
        ]
    })).await;
    let b: Value = resp.json().await.unwrap();
    let out = b["compositeResponse"].as_array().unwrap();
    assert_eq!(out[0]["httpStatusCode"], 400);
    assert_eq!(out[1]["httpStatusCode"], 400);
    assert_eq!(out[1]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert!(
        out[1]["body"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid reference specified.")
    );
    assert_eq!(out[2]["httpStatusCode"], 201);
    assert_eq!(
        count(
            &app,
            &token,
            "SELECT COUNT() FROM Account WHERE Name = 'Independent 9c1d'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn more_than_25_subrequests_are_refused() {
    let app = spawn().await;
    let token = app.login().await;
    let v = format!("/services/data/{API}");
    let subs: Vec<Value> = (0..26)
        .map(|i| json!({"method": "GET", "url": format!("{v}/limits"), "referenceId": format!("r{i}")}))
        .collect();
    let resp = post(&app, &token, "composite", json!({"compositeRequest": subs})).await;
    common::assert_sf_error(
        resp,
        400,
        "LIMIT_EXCEEDED",
        "Composite request limit exceeded: a composite request can contain at most 25 subrequests",
    )
    .await;
    let batch: Vec<Value> = (0..26)
        .map(|_| json!({"method": "GET", "url": format!("{API}/limits")}))
        .collect();
    let resp = post(
        &app,
        &token,
        "composite/batch",
        json!({"batchRequests": batch}),
    )
    .await;
    common::assert_sf_error(
        resp,
        400,
        "LIMIT_EXCEEDED",
        "Batch request limit exceeded: a batch can contain at most 25 subrequests",
    )
    .await;
}

#[tokio::test]
async fn batch_reports_each_result_charges_each_and_can_halt() {
    let app = spawn().await;
    let token = app.login().await;
    let before = usage(
        &app.get(&format!("/services/data/{API}/limits"), &token)
            .await,
    );
    let counted = counters(&app).await;
    let resp = post(&app, &token, "composite/batch", json!({"batchRequests": [
        {"method": "GET", "url": format!("{API}/limits")},
        {"method": "GET", "url": format!("{API}/sobjects/Contact/003000000000000AAA")},
        {"method": "POST", "url": format!("{API}/sobjects/Account"), "richInput": {"Name": "Batch Co"}},
    ]})).await;
    assert_eq!(
        usage(&resp),
        before + 3,
        "a batch costs one call per subrequest"
    );
    // The counters agree with the charge: three calls, under the batch endpoint.
    let after = counters(&app).await;
    let batch_endpoint = "POST /services/data/{version}/composite/batch";
    assert_eq!(
        after["total"].as_u64(),
        Some(counted["total"].as_u64().unwrap() + 3)
    );
    assert_eq!(after["endpoints"][batch_endpoint], 3, "{after}");
    assert_eq!(
        after["connections"][sf_emulator::oauth::DEFAULT_CLIENT_ID]["endpoints"][batch_endpoint],
        3
    );
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["hasErrors"], true);
    let statuses: Vec<_> = b["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses[0], 200);
    assert_eq!(statuses[1], 404);
    assert_eq!(statuses[2], 201);
    assert!(b["results"][0]["result"]["DailyApiRequests"].is_object());

    let resp = post(
        &app,
        &token,
        "composite/batch",
        json!({"haltOnError": true, "batchRequests": [
            {"method": "GET", "url": format!("{API}/sobjects/Contact/003000000000000AAA")},
            {"method": "GET", "url": format!("{API}/limits")},
        ]}),
    )
    .await;
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["results"][1]["statusCode"], 412);
    assert_eq!(
        b["results"][1]["result"][0]["errorCode"],
        "BATCH_PROCESSING_HALTED"
    );
}

#[tokio::test]
async fn composite_needs_a_live_session() {
    let app = spawn().await;
    let resp = post(&app, "bogus", "composite", json!({"compositeRequest": []})).await;
    assert_eq!(resp.status(), 401);
}
