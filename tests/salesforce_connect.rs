//! `sfprivacy connect`: the authorization-code flow with PKCE against the emulator, with the
//! browser's redirect followed programmatically.

mod sf_harness;

use sf_harness::Harness;
use sfprivacy::config::{Grant, Secret};
use sfprivacy::salesforce::connect::{self, ConnectError, ConnectOptions};

fn options() -> ConnectOptions {
    ConnectOptions {
        port: 0,
        timeout: std::time::Duration::from_secs(10),
        ..ConnectOptions::default()
    }
}

async fn register_callback(h: &Harness, uri: &str) {
    h.admin(
        reqwest::Method::PATCH,
        &format!(
            "/__emulator/oauth/apps/{}",
            sf_emulator::oauth::DEFAULT_CLIENT_ID
        ),
        serde_json::json!({"callback_urls": [uri]}),
    )
    .await;
}

/// What the browser does: open the URL and follow the redirect to the loopback listener.
async fn browse(url: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).send().await.unwrap()
}

#[tokio::test]
async fn connect_stores_a_working_refresh_token() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme.refresh_token");
    let mut conn = h.connection();
    conn.refresh_token_file = Some(file.clone());

    let pending = connect::start(&conn, &options()).await.unwrap();
    let url = url::Url::parse(pending.authorize_url()).unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/services/oauth2/authorize?", h.base_url()))
    );
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 32);
    assert_eq!(q["redirect_uri"], pending.redirect_uri());
    register_callback(&h, pending.redirect_uri()).await;

    let http = h.http.clone();
    let finish = tokio::spawn(async move { pending.finish(&http).await });
    let page = browse(url.as_str()).await;
    assert!(page.status().is_success());
    assert!(page.text().await.unwrap().contains("close this window"));
    let connected = finish.await.unwrap().unwrap();
    assert_eq!(connected.instance_url, h.base_url());
    assert_eq!(connected.refresh_token_file, file);

    // The stored token works for the refresh-token grant.
    let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(!token.is_empty());
    let mut conn = h.connection_with(Grant::RefreshToken {
        refresh_token: Secret::new(token),
    });
    conn.id = "acme-connected".into();
    let client = h.replica(conn).await;
    client.org_limits().await.unwrap();
    assert_eq!(client.token_requests(), 1);
    h.cleanup().await;
}

#[tokio::test]
async fn forged_state_is_refused_and_nothing_is_stored() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rt");
    let mut conn = h.connection();
    conn.refresh_token_file = Some(file.clone());
    let pending = connect::start(&conn, &options()).await.unwrap();
    let forged = format!("{}?code=stolen&state=not-the-one", pending.redirect_uri());
    let http = h.http.clone();
    let finish = tokio::spawn(async move { pending.finish(&http).await });
    let page = browse(&forged).await;
    // The browser is not told it worked.
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("Authorization failed"));
    let err = finish.await.unwrap().unwrap_err();
    assert!(matches!(err, ConnectError::StateMismatch), "{err}");
    assert!(!file.exists());
    h.cleanup().await;
}

#[tokio::test]
async fn denial_and_missing_token_file_are_reported() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut conn = h.connection();
    conn.refresh_token_file = Some(dir.path().join("rt"));
    let pending = connect::start(&conn, &options()).await.unwrap();
    register_callback(&h, pending.redirect_uri()).await;
    // The user who "logs in" refuses the app.
    let url = format!(
        "{}&login_hint={}",
        pending.authorize_url(),
        sf_emulator::oauth::DENIER_USERNAME
    );
    let http = h.http.clone();
    let finish = tokio::spawn(async move { pending.finish(&http).await });
    browse(&url).await;
    let err = finish.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, ConnectError::Denied { error, .. } if error == "access_denied"),
        "{err}"
    );

    conn.refresh_token_file = None;
    assert!(matches!(
        connect::start(&conn, &options()).await,
        Err(ConnectError::NoTokenFile(_))
    ));
    h.cleanup().await;
}
