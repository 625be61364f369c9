//! OAuth over HTTP: every grant's success shape and every error shape Salesforce documents.

mod common;

use base64::Engine;
use common::{API, assert_sf_error, spawn};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sf_emulator::EmulatorConfig;
use sf_emulator::oauth::{
    DEFAULT_CLIENT_ID as CID, DEFAULT_CLIENT_SECRET as SECRET, DENIER_USERNAME, INACTIVE_USERNAME,
    INTEGRATION_PASSWORD, INTEGRATION_REFRESH_TOKEN as RT, INTEGRATION_USER_ID,
    INTEGRATION_USERNAME, ORG_ID,
};
use sha2::{Digest, Sha256};

const PRIVATE_KEY: &str = include_str!("../fixtures/test-only/jwt-private-key.pem");
const JWT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn assertion(iss: &str, sub: &str, aud: &str, exp_offset: i64) -> String {
    let claims = json!({
        "iss": iss, "sub": sub, "aud": aud,
        "exp": chrono::Utc::now().timestamp() + exp_offset,
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap()
}

fn assert_oauth_error(status: u16, body: &Value, error: &str, description: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

fn assert_success_shape(app: &common::App, body: &Value) {
    let id = format!("{}/id/{ORG_ID}/{INTEGRATION_USER_ID}", app.emu.base_url);
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["instance_url"], app.emu.base_url.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body.get("expires_in").is_none(),
        "Salesforce sends no expires_in"
    );
    let issued_at = body["issued_at"].as_str().expect("issued_at is a string");
    let ms: i64 = issued_at.parse().unwrap();
    assert!((ms - chrono::Utc::now().timestamp_millis()).abs() < 60_000);
    // signature = base64(HMAC-SHA256(client_secret, id + issued_at))
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{id}{issued_at}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(body["signature"], expected.as_str());
    assert!(body["access_token"].as_str().unwrap().starts_with("00D"));
    assert!(body["scope"].is_string());
}

#[tokio::test]
async fn refresh_token_grant_has_salesforce_shape_and_no_refresh_token() {
    let app = spawn().await;
    let (status, body) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("client_secret", SECRET),
            ("refresh_token", RT),
        ])
        .await;
    assert_eq!(status, 200);
    assert_success_shape(&app, &body);
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let resp = app
        .get(&format!("/services/data/{API}/limits"), token)
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn refresh_rotation_returns_a_new_token_and_kills_the_old_one() {
    let app = spawn().await;
    app.admin(
        reqwest::Method::PATCH,
        &format!("/__emulator/oauth/apps/{CID}"),
        json!({"rotate_refresh_tokens": true}),
    )
    .await;
    let (status, body) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", RT),
        ])
        .await;
    assert_eq!(status, 200);
    let new_rt = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(new_rt, RT);
    let (status, body) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", RT),
        ])
        .await;
    assert_oauth_error(
        status,
        &body,
        "invalid_grant",
        "expired access/refresh token",
    );
    let (status, _) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", &new_rt),
        ])
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn token_endpoint_errors_match_salesforce() {
    let app = spawn().await;
    let (s, b) = app
        .token(&[("grant_type", "implicit"), ("client_id", CID)])
        .await;
    assert_oauth_error(s, &b, "unsupported_grant_type", "grant type not supported");
    let (s, b) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "nope"),
            ("refresh_token", RT),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_client_id", "client identifier invalid");
    let (s, b) = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", CID),
            ("client_secret", "wrong"),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_client", "invalid client credentials");
    let (s, b) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", "5Aep861bogus"),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "expired access/refresh token");
    let (s, b) = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CID),
            ("client_secret", SECRET),
            ("username", INTEGRATION_USERNAME),
            ("password", "wrong"),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "authentication failure");
    let (s, b) = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CID),
            ("client_secret", SECRET),
            ("username", INACTIVE_USERNAME),
            ("password", INTEGRATION_PASSWORD),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "inactive user");
    // A refresh token of a user deactivated later.
    let created = app
        .admin(
            reqwest::Method::POST,
            "/__emulator/oauth/refresh-tokens",
            json!({"username": INACTIVE_USERNAME}),
        )
        .await;
    let (s, b) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", created["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "inactive user");
}

#[tokio::test]
async fn password_and_client_credentials_grants_succeed_without_refresh_token() {
    let app = spawn().await;
    let (s, b) = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CID),
            ("client_secret", SECRET),
            ("username", INTEGRATION_USERNAME),
            ("password", INTEGRATION_PASSWORD),
        ])
        .await;
    assert_eq!(s, 200, "{b}");
    assert_success_shape(&app, &b);
    assert!(b.get("refresh_token").is_none());
    // client credentials via HTTP Basic client authentication
    let resp = app
        .http
        .post(app.url("/services/oauth2/token"))
        .basic_auth(CID, Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let b: Value = resp.json().await.unwrap();
    assert_success_shape(&app, &b);
    assert!(b.get("refresh_token").is_none());
}

#[tokio::test]
async fn jwt_bearer_checks_signature_issuer_audience_expiry_and_user() {
    let app = spawn().await;
    let aud = app.emu.base_url.clone();
    let ok = assertion(CID, INTEGRATION_USERNAME, &aud, 180);
    let (s, b) = app.token(&[("grant_type", JWT), ("assertion", &ok)]).await;
    assert_eq!(s, 200, "{b}");
    assert_success_shape(&app, &b);
    assert!(b.get("refresh_token").is_none());
    // A production org also takes its login host as audience, and refuses the sandbox one;
    // a sandbox org the other way round (this host's own URL plays My Domain for both).
    let sandbox = common::spawn_with(EmulatorConfig {
        sandbox: true,
        ..EmulatorConfig::default()
    })
    .await;
    for (org, login, accepted) in [
        (&app, "https://login.salesforce.com", true),
        (&app, "https://test.salesforce.com", false),
        (&sandbox, "https://test.salesforce.com", true),
        (&sandbox, "https://login.salesforce.com", false),
    ] {
        let a = assertion(CID, INTEGRATION_USERNAME, login, 180);
        let (s, b) = org.token(&[("grant_type", JWT), ("assertion", &a)]).await;
        if accepted {
            assert_eq!(s, 200, "{login}: {b}");
        } else {
            assert_oauth_error(s, &b, "invalid_grant", "audience is invalid");
        }
    }

    let cases = [
        (
            assertion(CID, INTEGRATION_USERNAME, "https://evil.example", 180),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            assertion(CID, INTEGRATION_USERNAME, &aud, -10),
            "invalid_grant",
            "expired authorization code",
        ),
        (
            assertion("unknown-app", INTEGRATION_USERNAME, &aud, 180),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            assertion(CID, DENIER_USERNAME, &aud, 180),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            assertion(CID, INACTIVE_USERNAME, &aud, 180),
            "invalid_grant",
            "inactive user",
        ),
        (
            "not.a.jwt".to_string(),
            "invalid_grant",
            "invalid assertion",
        ),
    ];
    for (a, error, description) in cases {
        let (s, b) = app.token(&[("grant_type", JWT), ("assertion", &a)]).await;
        assert_oauth_error(s, &b, error, description);
    }
    // A tampered payload fails the RS256 check.
    let mut parts: Vec<String> = ok.split('.').map(String::from).collect();
    let other = assertion(CID, DENIER_USERNAME, &aud, 180);
    parts[1] = other.split('.').nth(1).unwrap().to_string();
    let (s, b) = app
        .token(&[("grant_type", JWT), ("assertion", &parts.join("."))])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "invalid assertion");
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn web_server_flow_with_pkce() {
    let app = spawn().await;
    let verifier = "a-verifier-that-is-long-enough-0123456789abcdefghijklmnop";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    let redirect = "http://localhost:8080/callback";
    let authorize = |hint: &'static str| {
        app.http
            .get(app.url("/services/oauth2/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", CID),
                ("redirect_uri", redirect),
                ("state", "xyz"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("login_hint", hint),
            ])
            .send()
    };
    let resp = authorize(INTEGRATION_USERNAME).await.unwrap();
    assert_eq!(resp.status(), 302);
    let loc = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(redirect));
    let q = query_of(&loc);
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();

    // Wrong verifier: refused, and the code is spent.
    let (s, b) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CID),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", "wrong"),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "invalid code verifier");
    let (s, b) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CID),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "invalid authorization code");

    let code = query_of(
        authorize(INTEGRATION_USERNAME).await.unwrap().headers()["location"]
            .to_str()
            .unwrap(),
    )["code"]
        .clone();
    let (s, b) = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CID),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
        .await;
    assert_eq!(s, 200, "{b}");
    assert_success_shape(&app, &b);
    let rt = b["refresh_token"]
        .as_str()
        .expect("code grant returns a refresh token");
    let (s, _) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", rt),
        ])
        .await;
    assert_eq!(s, 200);

    // The denier denies.
    let resp = authorize(DENIER_USERNAME).await.unwrap();
    assert_eq!(resp.status(), 302);
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "xyz");
    assert!(!q.contains_key("code"));

    // An unregistered redirect URI is never redirected to.
    let resp = app
        .http
        .get(app.url("/services/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", CID),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn expired_and_revoked_sessions_get_invalid_session_id() {
    let app = spawn().await;
    let limits = format!("/services/data/{API}/limits");
    let msg = "Session expired or invalid";
    assert_sf_error(
        app.get(&limits, "00Dbogus!token").await,
        401,
        "INVALID_SESSION_ID",
        msg,
    )
    .await;
    let resp = app.http.get(app.url(&limits)).send().await.unwrap();
    assert_sf_error(resp, 401, "INVALID_SESSION_ID", msg).await;

    // Expire every session now.
    let token = app.login().await;
    assert_eq!(app.get(&limits, &token).await.status(), 200);
    let r = app
        .admin(
            reqwest::Method::POST,
            "/__emulator/oauth/expire-sessions",
            json!({}),
        )
        .await;
    assert!(r["expired"].as_u64().unwrap() >= 1);
    assert_sf_error(
        app.get(&limits, &token).await,
        401,
        "INVALID_SESSION_ID",
        msg,
    )
    .await;

    // Idle timeout: a 1 s timeout, then 1.2 s of idleness.
    app.admin(
        reqwest::Method::PUT,
        "/__emulator/oauth/session-timeout",
        json!({"seconds": 1}),
    )
    .await;
    let token = app.login().await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_sf_error(
        app.get(&limits, &token).await,
        401,
        "INVALID_SESSION_ID",
        msg,
    )
    .await;
    app.admin(
        reqwest::Method::PUT,
        "/__emulator/oauth/session-timeout",
        json!({"seconds": 7200}),
    )
    .await;

    // Revoke an access token.
    let token = app.login().await;
    let resp = app
        .http
        .post(app.url("/services/oauth2/revoke"))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_sf_error(
        app.get(&limits, &token).await,
        401,
        "INVALID_SESSION_ID",
        msg,
    )
    .await;
    let resp = app
        .http
        .post(app.url("/services/oauth2/revoke"))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Revoking a refresh token ends its sessions and the token itself.
    let created = app
        .admin(
            reqwest::Method::POST,
            "/__emulator/oauth/refresh-tokens",
            json!({"username": INTEGRATION_USERNAME}),
        )
        .await;
    let rt = created["refresh_token"].as_str().unwrap();
    let (_, b) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", rt),
        ])
        .await;
    let token = b["access_token"].as_str().unwrap().to_string();
    let resp = app
        .http
        .get(app.url("/services/oauth2/revoke"))
        .query(&[("token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_sf_error(
        app.get(&limits, &token).await,
        401,
        "INVALID_SESSION_ID",
        msg,
    )
    .await;
    let (s, b) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", rt),
        ])
        .await;
    assert_oauth_error(s, &b, "invalid_grant", "expired access/refresh token");
}

#[tokio::test]
async fn introspect_userinfo_and_identity_url() {
    let app = spawn().await;
    let (_, b) = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CID),
            ("refresh_token", RT),
        ])
        .await;
    let token = b["access_token"].as_str().unwrap();
    let id_url = b["id"].as_str().unwrap();

    let resp = app
        .http
        .post(app.url("/services/oauth2/introspect"))
        .form(&[
            ("token", token),
            ("client_id", CID),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    let i: Value = resp.json().await.unwrap();
    assert_eq!(i["active"], true);
    assert_eq!(i["username"], INTEGRATION_USERNAME);
    assert_eq!(i["client_id"], CID);
    let resp = app
        .http
        .post(app.url("/services/oauth2/introspect"))
        .form(&[
            ("token", "nope"),
            ("client_id", CID),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"active": false})
    );
    let resp = app
        .http
        .post(app.url("/services/oauth2/introspect"))
        .form(&[
            ("token", token),
            ("client_id", CID),
            ("client_secret", "bad"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let u: Value = app
        .get("/services/oauth2/userinfo", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["user_id"], INTEGRATION_USER_ID);
    assert_eq!(u["organization_id"], ORG_ID);
    assert_eq!(u["preferred_username"], INTEGRATION_USERNAME);

    let resp = app
        .http
        .get(id_url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ident: Value = resp.json().await.unwrap();
    assert_eq!(ident["username"], INTEGRATION_USERNAME);
    assert!(
        ident["urls"]["rest"]
            .as_str()
            .unwrap()
            .ends_with("/services/data/v{version}/")
    );
    let resp = app
        .http
        .get(id_url)
        .bearer_auth("bad")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}
