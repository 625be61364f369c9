//! The admin API refuses what it cannot apply: unknown keys, wrong types and out-of-range
//! values get 400 `{"error":{"key","message"}}` and change nothing. Also the configurable
//! org id, wherever the org id shows.

mod common;

use common::{App, spawn};
use reqwest::Method;
use serde_json::{Value, json};
use sf_emulator::oauth::{
    DEFAULT_CLIENT_ID as CID, DEFAULT_CLIENT_SECRET as SECRET, INTEGRATION_REFRESH_TOKEN as RT,
    INTEGRATION_USER_ID,
};
use sf_emulator::{Emulator, EmulatorConfig};

/// Sends a raw body; the status and the JSON answer (`null` when there is none).
async fn call(app: &App, method: Method, path: &str, body: &str) -> (u16, Value) {
    let resp = app
        .http
        .request(method, app.url(path))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A refusal: the status and exactly `{"error":{"key","message"}}` with `key`.
fn assert_refused(status: u16, body: &Value, want_status: u16, key: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    let err = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(err.len(), 2, "{body}");
    assert_eq!(err["key"], json!(key), "{body}");
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

async fn get(app: &App, path: &str) -> Value {
    call(app, Method::GET, path, "").await.1
}

#[tokio::test]
async fn a_refused_seed_keeps_the_org() {
    let app = spawn().await;
    let (s, v) = call(
        &app,
        Method::POST,
        "/__emulator/records/Contact",
        r#"{"LastName":"Kept"}"#,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let truth = get(&app, "/__emulator/ground-truth").await;
    let token = app.login().await;
    let row = format!(
        "/services/data/{}/sobjects/Contact/{}",
        common::API,
        v["ids"][0].as_str().unwrap()
    );
    assert_eq!(app.get(&row, &token).await.status(), 200);

    for (body, key) in [
        (r#"{"seed":"x","size":5}"#, Some("seed")),
        // `{}` is refused: reseeding discards every record, so it takes an explicit seed and size.
        ("{}", Some("seed")),
        (r#"{"seed":1}"#, Some("size")),
        (r#"{"seed":1,"size":-1}"#, Some("size")),
        (r#"{"seed":1,"size":5000000000}"#, Some("size")),
        (
            r#"{"seed":1,"size":5,"personAccounts":null}"#,
            Some("personAccounts"),
        ),
        (r#"{"seed":1,"size":5,"bogus":1}"#, Some("bogus")),
        ("not json", None),
        ("[1]", None),
    ] {
        let (s, e) = call(&app, Method::POST, "/__emulator/seed", body).await;
        assert_refused(s, &e, 400, key);
    }
    assert_eq!(
        app.get(&row, &token).await.status(),
        200,
        "the record is still there"
    );
    assert_eq!(get(&app, "/__emulator/ground-truth").await, truth);

    let (s, v) = call(
        &app,
        Method::POST,
        "/__emulator/seed",
        r#"{"seed":3,"size":5}"#,
    )
    .await;
    assert_eq!(
        (s, &v["seed"], &v["size"]),
        (200, &json!(3), &json!(5)),
        "{v}"
    );
    assert_eq!(
        app.get(&row, &token).await.status(),
        404,
        "a valid seed replaces the org"
    );
}

#[tokio::test]
async fn refused_settings_change_nothing() {
    let app = spawn().await;
    let (s, _) = call(
        &app,
        Method::PUT,
        "/__emulator/settings",
        r#"{"indexLagMs":123,"duplicateRules":false}"#,
    )
    .await;
    assert_eq!(s, 200);
    let before = get(&app, "/__emulator/settings").await;
    for (body, key) in [
        (r#"{"duplicateRules":"no"}"#, "duplicateRules"),
        (r#"{"indexLagMs":-3}"#, "indexLagMs"),
        (r#"{"indexLagMs":99999999999999}"#, "indexLagMs"),
        (r#"{"bogus":1}"#, "bogus"),
        (r#"{"cursorTtlMs":null}"#, "cursorTtlMs"),
        (
            r#"{"duplicateRuleFields":["Nope"]}"#,
            "duplicateRuleFields[0]",
        ),
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"LastName","length":5,"x":1}]}"#,
            "fieldLengths[0].x",
        ),
        (
            r#"{"validationRules":[{"object":"Contact","field":"Phone","pattern":"(","message":"m"}]}"#,
            "validationRules[0].pattern",
        ),
        // Valid keys before the bad one are not applied either.
        (
            r#"{"indexLagMs":5,"bulkApiHardDelete":false,"duplicateRules":true,"unreadableObjects":["Nope__c"]}"#,
            "unreadableObjects[0]",
        ),
        (
            r#"{"varyQueryPageSizes":true,"readOnlyFields":[{"object":"Contact","field":"LastName"}]}"#,
            "readOnlyFields[0].field",
        ),
        // System fields are read-only for everyone: field-level security does not apply.
        (
            r#"{"readOnlyFields":[{"object":"Contact","field":"Title"},{"object":"Contact","field":"Id"}]}"#,
            "readOnlyFields[1].field",
        ),
        (
            r#"{"readOnlyFields":[{"object":"Contact","field":"CreatedDate"}]}"#,
            "readOnlyFields[0].field",
        ),
        // Only text fields have a length, 1 to Salesforce's maximum for the type.
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"Birthdate","length":10}]}"#,
            "fieldLengths[0].field",
        ),
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"Id","length":18}]}"#,
            "fieldLengths[0].field",
        ),
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"LastName","length":0}]}"#,
            "fieldLengths[0].length",
        ),
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"LastName","length":256}]}"#,
            "fieldLengths[0].length",
        ),
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"Title","length":5},{"object":"Contact","field":"Email","length":81}]}"#,
            "fieldLengths[1].length",
        ),
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"Phone","length":41}]}"#,
            "fieldLengths[0].length",
        ),
        (
            r#"{"fieldLengths":[{"object":"Contact","field":"Description","length":131073}]}"#,
            "fieldLengths[0].length",
        ),
        // An entry is an object, never an array read by position.
        (
            r#"{"fieldLengths":[["Contact","LastName",5]]}"#,
            "fieldLengths[0]",
        ),
        (
            r#"{"readOnlyFields":[["Contact","Title"]]}"#,
            "readOnlyFields[0]",
        ),
    ] {
        let (s, e) = call(&app, Method::PUT, "/__emulator/settings", body).await;
        assert_refused(s, &e, 400, Some(key));
        assert_eq!(
            get(&app, "/__emulator/settings").await,
            before,
            "after {body}"
        );
    }
}

#[tokio::test]
async fn refused_faults_limits_clock_and_oauth_change_nothing() {
    let app = spawn().await;
    let (s, _) = call(
        &app,
        Method::PUT,
        "/__emulator/faults",
        r#"{"latency_ms":1}"#,
    )
    .await;
    assert_eq!(s, 200);
    let faults = get(&app, "/__emulator/faults").await;
    let limits = get(&app, "/__emulator/limits").await;
    for (body, key) in [
        // The flag `--error-rate query:DROP:5` is refused by the same check.
        (
            r#"{"error_rates":[{"endpoint":"query","kind":"DROP","rate":5}]}"#,
            "error_rates[0].rate",
        ),
        (
            r#"{"error_rates":[{"endpoint":"query","kind":"NOPE","rate":0.5}]}"#,
            "error_rates[0].kind",
        ),
        (
            r#"{"fail_next":[{"endpoint":"","kind":"DROP","count":1}]}"#,
            "fail_next[0].endpoint",
        ),
        (
            r#"{"fail_next":[{"endpoint":"query","kind":"DROP","count":0}]}"#,
            "fail_next[0].count",
        ),
        (r#"{"latency_ms":-1}"#, "latency_ms"),
        (
            r#"{"latency_ms":5,"daily_api_requests":"x"}"#,
            "daily_api_requests",
        ),
        (r#"{"latency_ms":5,"expire":true}"#, "expire"),
        (
            r#"{"error_rates":[["query","DROP",0.5]]}"#,
            "error_rates[0]",
        ),
        (r#"{"fail_next":[["query","DROP",1,0]]}"#, "fail_next[0]"),
    ] {
        let (s, e) = call(&app, Method::PUT, "/__emulator/faults", body).await;
        assert_refused(s, &e, 400, Some(key));
        assert_eq!(
            get(&app, "/__emulator/faults").await,
            faults,
            "after {body}"
        );
        assert_eq!(
            get(&app, "/__emulator/limits").await,
            limits,
            "after {body}"
        );
    }
    // Kinds parse as the flag parses them.
    let (s, v) = call(
        &app,
        Method::PUT,
        "/__emulator/faults",
        r#"{"error_rates":[{"endpoint":"query","kind":"server_unavailable","rate":0}]}"#,
    )
    .await;
    assert_eq!(
        (s, &v["faults"]["error_rates"][0]["kind"]),
        (200, &json!("SERVER_UNAVAILABLE"))
    );

    for body in [r#"{"used":-1}"#, r#"{"daily_api_requests":1,"extra":2}"#] {
        let (s, e) = call(&app, Method::PUT, "/__emulator/limits", body).await;
        assert_eq!(s, 400, "{e}");
        assert_eq!(
            get(&app, "/__emulator/limits").await,
            limits,
            "after {body}"
        );
    }
    let (s, e) = call(&app, Method::PUT, "/__emulator/limits", r#"{"used":-1}"#).await;
    assert_refused(s, &e, 400, Some("used"));

    let clock = get(&app, "/__emulator/clock").await;
    for body in [
        r#"{"seconds":1,"ms":1}"#,
        "{}",
        r#"{"seconds":-1}"#,
        r#"{"days":1}"#,
    ] {
        let (s, e) = call(&app, Method::POST, "/__emulator/clock/advance", body).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert!(e["error"]["key"].is_string(), "{e}");
    }
    assert_eq!(
        get(&app, "/__emulator/clock").await["offsetMs"],
        clock["offsetMs"]
    );

    let (s, e) = call(
        &app,
        Method::PUT,
        "/__emulator/oauth/session-timeout",
        r#"{"seconds":"x"}"#,
    )
    .await;
    assert_refused(s, &e, 400, Some("seconds"));
    let (s, e) = call(
        &app,
        Method::POST,
        "/__emulator/oauth/refresh-tokens",
        r#"{"username":"nobody@example.com"}"#,
    )
    .await;
    assert_refused(s, &e, 404, Some("username"));
    let (s, e) = call(
        &app,
        Method::PATCH,
        &format!("/__emulator/oauth/apps/{CID}"),
        r#"{"rotate_refresh_tokens":true,"client_credentials_user":"nobody@example.com"}"#,
    )
    .await;
    assert_refused(s, &e, 404, Some("client_credentials_user"));
    let (s, e) = call(
        &app,
        Method::POST,
        "/__emulator/records/Contact",
        r#"{"records":[{"LastName":"A"},{"Nope__c":1}]}"#,
    )
    .await;
    assert_refused(s, &e, 400, Some("records[1].Nope__c"));
    let (s, e) = call(&app, Method::POST, "/__emulator/records/Nope__c", "{}").await;
    assert_refused(s, &e, 404, Some("object"));
}

#[tokio::test]
async fn the_org_id_is_configurable_and_shows_everywhere() {
    const ORG: &str = "00D000000000GLBAAA";
    let emu = Emulator::new(EmulatorConfig {
        org_id: ORG.into(),
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap();
    let app = App {
        emu,
        http: reqwest::Client::new(),
    };
    let (s, b) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("client_secret", SECRET),
            ("refresh_token", RT),
        ])
        .await;
    assert_eq!(s, 200, "{b}");
    let token = b["access_token"].as_str().unwrap();
    let id_url = b["id"].as_str().unwrap();
    assert!(token.starts_with("00D000000000GLB!"), "{token}");
    assert_eq!(id_url, app.url(&format!("/id/{ORG}/{INTEGRATION_USER_ID}")));

    let u: Value = app
        .get("/services/oauth2/userinfo", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["organization_id"], ORG);
    assert_eq!(u["sub"], id_url);

    let ident = app
        .get(&format!("/id/{ORG}/{INTEGRATION_USER_ID}"), token)
        .await;
    assert_eq!(ident.status(), 200);
    assert_eq!(ident.json::<Value>().await.unwrap()["organization_id"], ORG);
    let default_id = format!("/id/{}/{INTEGRATION_USER_ID}", sf_emulator::oauth::ORG_ID);
    assert_eq!(
        app.get(&default_id, token).await.status(),
        403,
        "not this org's id"
    );

    for t in [token, RT] {
        let i: Value = app
            .http
            .post(app.url("/services/oauth2/introspect"))
            .form(&[("token", t), ("client_id", CID), ("client_secret", SECRET)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(i["sub"], id_url, "{i}");
    }
}

/// Everything an admin call can change that a GET (or an empty PATCH) shows.
async fn snapshot(app: &App, apps: &str) -> Vec<Value> {
    let (_, connected_app) = call(app, Method::PATCH, apps, "{}").await;
    let mut v = vec![connected_app];
    for path in [
        "/__emulator/settings",
        "/__emulator/faults",
        "/__emulator/limits",
        "/__emulator/ground-truth",
    ] {
        v.push(get(app, path).await);
    }
    // `now` moves with real time; the offset is what an advance changes.
    v.push(get(app, "/__emulator/clock").await["offsetMs"].clone());
    v
}

/// Every admin body that names keys must be a JSON object: serde would fill a struct from an
/// array by position (`[5]` was `latency_ms: 5`).
#[tokio::test]
async fn bodies_that_are_not_objects_are_refused_and_change_nothing() {
    let app = spawn().await;
    let apps = format!("/__emulator/oauth/apps/{CID}");
    let before = snapshot(&app, &apps).await;
    let token = app.login().await;
    let routes = [
        (Method::PUT, "/__emulator/settings"),
        (Method::PUT, "/__emulator/faults"),
        (Method::PUT, "/__emulator/limits"),
        (Method::POST, "/__emulator/clock/advance"),
        (Method::POST, "/__emulator/seed"),
        (Method::PUT, "/__emulator/oauth/session-timeout"),
        (Method::PUT, "/__emulator/oauth/authorize-user"),
        (Method::POST, "/__emulator/oauth/revoke"),
        (Method::POST, "/__emulator/oauth/refresh-tokens"),
        (Method::PATCH, apps.as_str()),
    ];
    for (method, path) in routes {
        for body in [
            "[]",
            "[5]",
            "[false]",
            "[1]",
            "[0]",
            r#"[1,5,false]"#,
            r#"["integration@example.com"]"#,
            "5",
            "null",
            r#""x""#,
        ] {
            let (s, e) = call(&app, method.clone(), path, body).await;
            assert_refused(s, &e, 400, None);
            assert_eq!(
                e["error"]["message"], "the body must be a JSON object",
                "{method} {path} {body}"
            );
        }
    }
    assert_eq!(snapshot(&app, &apps).await, before);
    let row = format!("/services/data/{}/limits", common::API);
    assert_eq!(
        app.get(&row, &token).await.status(),
        200,
        "the session neither timed out nor was revoked"
    );
}

#[tokio::test]
async fn messages_do_not_name_rust_types() {
    let app = spawn().await;
    for (method, path, body) in [
        (Method::POST, "/__emulator/seed", r#"{"seed":"x","size":1}"#),
        (Method::POST, "/__emulator/seed", r#"{"seed":-1,"size":1}"#),
        (
            Method::PUT,
            "/__emulator/settings",
            r#"{"fieldLengths":[5]}"#,
        ),
        (Method::PUT, "/__emulator/settings", r#"{"indexLagMs":1.5}"#),
        (Method::PUT, "/__emulator/faults", r#"{"error_rates":[1]}"#),
        (
            Method::PUT,
            "/__emulator/oauth/session-timeout",
            r#"{"seconds":"x"}"#,
        ),
    ] {
        let (s, e) = call(&app, method, path, body).await;
        assert_eq!(s, 400, "{e}");
        let m = e["error"]["message"].as_str().unwrap();
        for rust in [
            "u64",
            "u32",
            "f64",
            "struct",
            "Body",
            "Update",
            "FieldLength",
            "ErrorRate",
        ] {
            assert!(!m.contains(rust), "{body}: {m}");
        }
    }
}

#[tokio::test]
async fn settings_take_salesforce_lengths_at_their_bounds() {
    let app = spawn().await;
    let body = json!({"fieldLengths": [
        {"object": "Contact", "field": "LastName", "length": 255},
        {"object": "Contact", "field": "Email", "length": 80},
        {"object": "Contact", "field": "Phone", "length": 40},
        {"object": "Contact", "field": "Description", "length": 131_072},
        {"object": "Contact", "field": "Title", "length": 1},
    ]});
    let (s, v) = call(&app, Method::PUT, "/__emulator/settings", &body.to_string()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["fieldLengths"], body["fieldLengths"]);
}

#[tokio::test]
async fn session_timeout_and_callback_urls_are_checked() {
    let app = spawn().await;
    let token = app.login().await;
    for body in [r#"{"seconds":0}"#, r#"{"seconds":86401}"#] {
        let (s, e) = call(&app, Method::PUT, "/__emulator/oauth/session-timeout", body).await;
        assert_refused(s, &e, 400, Some("seconds"));
    }
    // A timeout of 0 would have ended this session.
    let limits = format!("/services/data/{}/limits", common::API);
    assert_eq!(app.get(&limits, &token).await.status(), 200);
    for secs in [1, 86_400, 7200] {
        let body = json!({ "seconds": secs }).to_string();
        let (s, v) = call(
            &app,
            Method::PUT,
            "/__emulator/oauth/session-timeout",
            &body,
        )
        .await;
        assert_eq!((s, &v["seconds"]), (200, &json!(secs)), "{v}");
    }

    let apps = format!("/__emulator/oauth/apps/{CID}");
    let (_, before) = call(&app, Method::PATCH, &apps, "{}").await;
    for (body, key) in [
        (
            r#"{"rotate_refresh_tokens":true,"callback_urls":["not a url"]}"#,
            "callback_urls[0]",
        ),
        (
            r#"{"callback_urls":["http://localhost:1717/OauthRedirect","/relative"]}"#,
            "callback_urls[1]",
        ),
        (
            r#"{"callback_urls":["https://app.example/cb#frag"]}"#,
            "callback_urls[0]",
        ),
        (r#"{"callback_urls":[]}"#, "callback_urls"),
    ] {
        let (s, e) = call(&app, Method::PATCH, &apps, body).await;
        assert_refused(s, &e, 400, Some(key));
        assert_eq!(
            call(&app, Method::PATCH, &apps, "{}").await.1,
            before,
            "after {body}"
        );
    }
    let (s, v) = call(
        &app,
        Method::PATCH,
        &apps,
        r#"{"callback_urls":["https://app.example/cb","myapp://oauth/done"]}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["callback_urls"],
        json!(["https://app.example/cb", "myapp://oauth/done"])
    );
}
