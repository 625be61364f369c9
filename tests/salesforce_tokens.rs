//! Token handling of the Salesforce client against the emulator and real Redis: cold start of
//! several replicas, expiry mid-work, refresh-token rotation, the other grants, encryption at
//! rest, and `Sforce-Limit-Info`.

mod sf_harness;

use sf_harness::Harness;
use sfprivacy::config::{Grant, Secret};
use sfprivacy::salesforce::{ErrorKind, SfError};

#[tokio::test]
async fn three_replicas_starting_cold_make_one_token_request() {
    let h = Harness::start().await;
    let conn = h.connection();
    let (a, b, c) = (
        h.replica(conn.clone()).await,
        h.replica(conn.clone()).await,
        h.replica(conn.clone()).await,
    );
    // Several concurrent calls per replica too: the in-process single flight is exercised.
    let calls = (0..4).flat_map(|_| [a.clone(), b.clone(), c.clone()]);
    let results =
        futures::future::join_all(calls.map(|cl| async move { cl.org_limits().await })).await;
    for r in results {
        assert!(r.unwrap().contains_key("DailyApiRequests"));
    }
    assert_eq!(
        a.token_requests() + b.token_requests() + c.token_requests(),
        1,
        "token requests made by the three replicas"
    );
    assert_eq!(
        h.sessions_issued_and_expire(),
        1,
        "sessions the emulator issued"
    );
    h.cleanup().await;
}

#[tokio::test]
async fn expired_session_means_one_refresh_and_one_retry() {
    let h = Harness::start().await;
    let client = h.replica(h.connection()).await.for_job();
    client.org_limits().await.unwrap();
    assert_eq!(client.api_calls(), 1);
    assert_eq!(client.token_requests(), 1);

    assert_eq!(h.sessions_issued_and_expire(), 1);
    client.org_limits().await.unwrap();
    // The rejected call, then the retry with the new token.
    assert_eq!(client.api_calls(), 3);
    assert_eq!(client.token_requests(), 2);

    // A second replica reads the renewed token from Redis instead of refreshing again.
    let other = h.replica(h.connection()).await;
    other.org_limits().await.unwrap();
    assert_eq!(other.token_requests(), 0);
    h.cleanup().await;
}

#[tokio::test]
async fn tokens_in_redis_are_sealed_and_expire_with_the_session_timeout() {
    let h = Harness::start().await;
    let mut conn = h.connection();
    conn.session_timeout_secs = 900;
    let conn = conn;
    let client = h.replica(conn.clone()).await;
    client.org_limits().await.unwrap();

    let tokens = h.tokens().await;
    let cached = tokens
        .get(&conn.token_cache_id())
        .await
        .unwrap()
        .expect("cached token");
    let access = cached.access_token.expose().to_string();
    assert!(access.starts_with("00D"));
    assert_eq!(cached.instance_url, h.base_url());

    let mut redis = tokens.store().conn();
    let raw: Vec<u8> = redis::cmd("GET")
        .arg(tokens.session_key(&conn.token_cache_id()))
        .query_async(&mut redis)
        .await
        .unwrap();
    let needle = &access.as_bytes()[..20];
    assert!(
        !raw.windows(needle.len()).any(|w| w == needle),
        "plaintext token in Redis"
    );
    assert!(
        !raw.windows(7).any(|w| w == b"http://"),
        "plaintext instance URL in Redis"
    );
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(tokens.session_key(&conn.token_cache_id()))
        .query_async(&mut redis)
        .await
        .unwrap();
    // 900 s less a 10 % margin.
    assert!(ttl_ms > 800_000 && ttl_ms <= 810_000, "ttl {ttl_ms}");
    h.cleanup().await;
}

#[tokio::test]
async fn rotated_refresh_token_is_stored_and_used_next_time() {
    let h = Harness::start().await;
    h.admin(
        reqwest::Method::PATCH,
        &format!(
            "/__emulator/oauth/apps/{}",
            sf_emulator::oauth::DEFAULT_CLIENT_ID
        ),
        serde_json::json!({"rotate_refresh_tokens": true}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("acme.refresh_token");
    std::fs::write(&file, sf_emulator::oauth::INTEGRATION_REFRESH_TOKEN).unwrap();
    let mut conn = h.connection();
    conn.refresh_token_file = Some(file.clone());

    let first = h.replica(conn.clone()).await;
    first.org_limits().await.unwrap();
    let rotated = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert_ne!(rotated, sf_emulator::oauth::INTEGRATION_REFRESH_TOKEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // The original token is dead now. A replica still configured with it refreshes with the
    // rotated one from Redis.
    h.sessions_issued_and_expire();
    let second = h.replica(conn.clone()).await;
    second.org_limits().await.unwrap();
    assert_eq!(
        second.token_requests(),
        1,
        "no failed attempt with the dead token"
    );
    let rotated_again = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert_ne!(rotated_again, rotated);

    // The first replica's session expires too: it refreshes with the newest token.
    h.sessions_issued_and_expire();
    first.org_limits().await.unwrap();
    assert_eq!(first.token_requests(), 2);
    h.cleanup().await;
}

#[tokio::test]
async fn invalid_grant_rereads_the_credential_before_giving_up() {
    let h = Harness::start().await;
    // A refresh token minted "by an operator re-running connect", written to the file only.
    let fresh = h.mint_refresh_token().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rt");
    std::fs::write(&file, &fresh).unwrap();

    // This replica's configuration still holds a revoked token.
    let mut conn = h.connection_with(Grant::RefreshToken {
        refresh_token: Secret::new("5Aep-revoked-long-ago"),
    });
    conn.refresh_token_file = Some(file.clone());
    let client = h.replica(conn.clone()).await;
    client.org_limits().await.unwrap();
    assert_eq!(
        client.token_requests(),
        2,
        "the dead token, then the re-read one"
    );

    // Without any live credential the error is CredentialRevoked, not retried.
    std::fs::write(&file, "also-dead").unwrap();
    let mut dead = conn.clone();
    dead.id = "acme-dead".into();
    let client = h.replica(dead).await;
    let err = client.org_limits().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialRevoked, "{err}");
    assert_eq!(err.code(), "invalid_grant");
    h.cleanup().await;
}

#[tokio::test]
async fn jwt_bearer_and_client_credentials_grants() {
    let h = Harness::start().await;
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/emulator/fixtures/test-only/jwt-private-key.pem"
    ))
    .unwrap();
    let mut jwt = h.connection_with(Grant::JwtBearer {
        username: sf_emulator::oauth::INTEGRATION_USERNAME.into(),
        private_key_pem: Secret::new(key),
    });
    jwt.id = "acme-jwt".into();
    jwt.client_secret = None;
    let client = h.replica(jwt).await;
    client.org_limits().await.unwrap();
    assert_eq!(client.token_requests(), 1);

    let mut cc = h.connection_with(Grant::ClientCredentials);
    cc.id = "acme-cc".into();
    let client = h.replica(cc.clone()).await;
    client.org_limits().await.unwrap();

    cc.id = "acme-cc-nosecret".into();
    cc.client_secret = None;
    let err = h.replica(cc).await.org_limits().await.unwrap_err();
    assert!(matches!(err, SfError::Config(_)), "{err}");
    h.cleanup().await;
}

#[tokio::test]
async fn sforce_limit_info_is_parsed_from_responses() {
    let h = Harness::start().await;
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/limits",
        serde_json::json!({"daily_api_requests": 5000, "used": 41}),
    )
    .await;
    let client = h.replica(h.connection()).await;
    assert_eq!(client.api_usage(), None);
    let rx = client.subscribe_api_usage();
    client.org_limits().await.unwrap();
    assert_eq!(client.api_usage(), Some((42, 5000)));
    client.org_limits().await.unwrap();
    assert_eq!(client.api_usage(), Some((43, 5000)));
    assert!(rx.has_changed().unwrap());
    // Clones share the org's figure.
    assert_eq!(client.for_job().api_usage(), Some((43, 5000)));
    h.cleanup().await;
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_are_not() {
    let h = Harness::start().await;
    let client = h.replica(h.connection()).await.for_job();
    client.org_limits().await.unwrap();
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/faults",
        serde_json::json!({"fail_next": [{"endpoint": "limits", "kind": "SERVER_UNAVAILABLE", "count": 2}]}),
    )
    .await;
    client.org_limits().await.unwrap();
    assert_eq!(client.api_calls(), 4, "1 + 2 failures + 1 success");

    h.admin(
        reqwest::Method::PUT,
        "/__emulator/faults",
        serde_json::json!({"fail_next": [{"endpoint": "limits", "kind": "SERVER_UNAVAILABLE", "count": 10}]}),
    )
    .await;
    let err = client.org_limits().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(client.api_calls(), 8, "bounded: 1 attempt + 3 retries");

    h.admin(
        reqwest::Method::PUT,
        "/__emulator/faults",
        serde_json::json!({}),
    )
    .await;
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/limits",
        serde_json::json!({"daily_api_requests": 50, "used": 50}),
    )
    .await;
    let before = client.api_calls();
    let err = client.org_limits().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DailyLimit);
    assert_eq!(client.api_calls(), before + 1, "never retried in-process");
    h.cleanup().await;
}

#[tokio::test]
async fn a_connection_not_yet_connected_picks_up_the_token_file_later() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("written-by-connect");
    let mut conn = h.connection_with(Grant::RefreshToken {
        refresh_token: Secret::new(""),
    });
    conn.refresh_token_file = Some(file.clone());
    let client = h.replica(conn).await;
    let err = client.org_limits().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialRevoked, "{err}");
    assert!(err.to_string().contains("sfprivacy connect"), "{err}");
    assert_eq!(client.token_requests(), 0, "nothing sent without a token");

    // `sfprivacy connect` writes the file; the running client uses it on the next call.
    std::fs::write(&file, sf_emulator::oauth::INTEGRATION_REFRESH_TOKEN).unwrap();
    client.org_limits().await.unwrap();
    assert_eq!(client.token_requests(), 1);
    h.cleanup().await;
}

#[tokio::test]
async fn connections_sharing_an_id_but_not_credentials_do_not_share_a_cached_token() {
    let h = Harness::start().await;
    let good = h.connection();
    let first = h.replica(good.clone()).await;
    first.org_limits().await.unwrap();
    assert_eq!(first.token_requests(), 1);

    // Same id, another connected app (docker-compose's old demo credentials): it must make its
    // own token request, and the emulator refuses that client id.
    let mut other = good.clone();
    other.client_id = "sfprivacy-demo".into();
    other.client_secret = Some(Secret::new("sfprivacy-demo-secret"));
    assert_ne!(other.token_cache_id(), good.token_cache_id());
    let second = h.replica(other.clone()).await;
    let err = second.org_limits().await.unwrap_err();
    assert_eq!(second.token_requests(), 1, "its own token request");
    assert!(err.to_string().contains("invalid_client_id"), "{err}");
    let tokens = h.tokens().await;
    assert!(tokens.get(&other.token_cache_id()).await.unwrap().is_none());

    // The good connection's token is still cached, and reused by a replica with the same
    // credentials.
    let third = h.replica(good.clone()).await;
    third.org_limits().await.unwrap();
    assert_eq!(third.token_requests(), 0);
    h.cleanup().await;
}

/// A failing login host is retried by the call's one retry loop: 1 + 3 token requests, not a
/// retry loop inside each of the call's attempts (16).
#[tokio::test]
async fn a_failing_token_endpoint_is_retried_once_per_attempt_of_the_call() {
    let h = Harness::start().await;
    let client = h.replica(h.connection()).await.for_job();
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/faults",
        serde_json::json!({"fail_next": [{"endpoint": "oauth2/token", "kind": "SERVER_UNAVAILABLE", "count": 50}]}),
    )
    .await;
    let before = h.count("POST /services/oauth2/token").await;
    let err = client.org_limits().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(
        h.count("POST /services/oauth2/token").await - before,
        4,
        "token requests"
    );
    h.cleanup().await;
}
