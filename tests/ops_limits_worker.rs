//! The per-org limits inside a running worker (real RabbitMQ and Redis): an org over its API
//! budget, or with its circuit breaker open, has its requests deferred through the retry tiers
//! while another org's requests are answered; once the allocation frees up (or the breaker
//! closes) the deferred request runs and gets its one terminal result, its attempt count
//! untouched by the deferrals.
//!
//! The first two tests set the limit records directly; the emulator tests below get there the
//! real way: Salesforce failing (503s) opens the breaker through the jobs' own failures, and the
//! usage Salesforce reports in `Sforce-Limit-Info` defers the org's next request.

mod common;

use common::{AppOptions, Got, connection, no_salesforce, spawn_app};
use sfprivacy::store::Store;
use sfprivacy::store::budget::{Admission, DeferReason, LimitSettings, OrgLimits};
use std::time::Duration;

fn dsr(id: &str, conn: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "dsr.request", "version": 1,
        "request_id": id, "connection_id": conn,
        "action": "copy",
        "subject": { "emails": ["jane.doe@example.com"] }
    }))
    .unwrap()
}

fn request_id(g: &Got) -> String {
    g.json()["request_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn limits_for(prefix: &str) -> OrgLimits {
    let store = Store::connect(common::REDIS_URL, prefix).await.unwrap();
    OrgLimits::new(
        store,
        LimitSettings {
            breaker_failures: 2,
            breaker_cooldown: Duration::from_secs(600),
            ..LimitSettings::default()
        },
    )
}

fn opts() -> AppOptions {
    // No Salesforce behind these connections: an admitted job ends at once with a terminal
    // `failed` result, which is all these tests need to see that it ran.
    let mut o = AppOptions::new(
        vec![
            connection("acme", "http://127.0.0.1:9"),
            connection("globex", "http://127.0.0.1:9"),
        ],
        no_salesforce(),
    );
    o.retry_tiers = "200ms,400ms";
    o.extra_env = vec![("BREAKER_FAILURES", "2".into())];
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_over_its_budget_is_deferred_and_resumes_when_usage_frees_up() {
    let app = spawn_app(opts()).await;
    let limits = limits_for(&app.prefix).await;
    limits.record_usage("acme", 850, 1000).await.unwrap();

    app.publish("dsr", &dsr("over-budget", "acme")).await;
    app.publish("dsr", &dsr("other-org", "globex")).await;

    // The other org is answered; the org over budget is not, for several tier cycles.
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(3), |_| false)
        .await;
    let ids: Vec<String> = got.iter().map(request_id).collect();
    assert_eq!(ids, ["other-org"], "only the org within budget runs");
    assert_eq!(
        app.depth(&app.names.dead).await,
        0,
        "deferral never dead-letters"
    );

    // Salesforce reports the allocation freed up: the deferred request runs, once.
    limits.record_usage("acme", 100, 1000).await.unwrap();
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| !g.is_empty())
        .await;
    assert_eq!(got.len(), 1);
    assert_eq!(request_id(&got[0]), "over-budget");
    assert_eq!(got[0].json()["status"], "failed");
    assert!(
        app.next(&app.reply_queue, Duration::from_millis(800))
            .await
            .is_none(),
        "exactly one terminal result"
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_breaker_isolates_its_org_and_other_orgs_go_on() {
    let app = spawn_app(opts()).await;
    let limits = limits_for(&app.prefix).await;
    // Two consecutive transient failures (as the jobs report them) open acme's breaker.
    limits.record_transient_failure("acme").await.unwrap();
    limits.record_transient_failure("acme").await.unwrap();

    for i in 0..3 {
        app.publish("dsr", &dsr(&format!("acme-{i}"), "acme")).await;
        app.publish("dsr", &dsr(&format!("globex-{i}"), "globex"))
            .await;
    }
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(3), |_| false)
        .await;
    let mut ids: Vec<String> = got.iter().map(request_id).collect();
    ids.sort();
    assert_eq!(ids, ["globex-0", "globex-1", "globex-2"]);

    // The org's Salesforce answers again (a probe succeeded): its requests run.
    limits.record_success("acme").await.unwrap();
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| g.len() >= 3)
        .await;
    let mut ids: Vec<String> = got.iter().map(request_id).collect();
    ids.sort();
    assert_eq!(ids, ["acme-0", "acme-1", "acme-2"]);
    app.cleanup().await;
}

// ---- The same, driven by a real Salesforce (the emulator) instead of the limit records ----

async fn emulator() -> sf_emulator::RunningEmulator {
    emulator_of(sf_emulator::oauth::ORG_ID).await
}

/// An emulator serving the org `org_id`.
async fn emulator_of(org_id: &str) -> sf_emulator::RunningEmulator {
    let config = sf_emulator::EmulatorConfig {
        seed: 7,
        size: 20,
        org_id: org_id.into(),
        ..Default::default()
    };
    sf_emulator::Emulator::new(config)
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

/// A worker connection `id` to the emulator at `base_url`.
fn emulator_connection(id: &str, base_url: &str) -> sfprivacy::config::Connection {
    let mut c = sfprivacy::demo::emulator_connection(base_url).unwrap();
    c.id = id.into();
    c
}

async fn admin(base_url: &str, method: reqwest::Method, path: &str, body: serde_json::Value) {
    let resp = reqwest::Client::new()
        .request(method, format!("{base_url}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
}

/// Every call the emulator counted (data API and OAuth).
async fn emulator_calls(base_url: &str) -> u64 {
    let v: serde_json::Value = reqwest::get(format!("{base_url}/__emulator/counters"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["total"].as_u64().unwrap()
}

fn emulator_opts(connections: Vec<sfprivacy::config::Connection>) -> AppOptions {
    let mut o = AppOptions::new(connections, None);
    o.retry_tiers = "200ms,400ms";
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_failing_for_one_org_opens_its_breaker_and_the_other_org_goes_on() {
    // Two orgs: the worker keeps its limits per org, learned from the token's identity URL.
    let failing = emulator().await;
    let healthy = emulator_of("00D000000000GLBAAA").await;
    // Every data API call to acme's Salesforce answers 503 SERVER_UNAVAILABLE; its login still
    // works, so the worker knows which org it is and keeps the breaker under that org.
    let rates: Vec<serde_json::Value> = [
        "sobjects",
        "query",
        "queryAll",
        "search",
        "parameterizedSearch",
        "composite",
        "jobs",
        "limits",
    ]
    .iter()
    .map(|e| serde_json::json!({"endpoint": e, "kind": "SERVER_UNAVAILABLE", "rate": 1.0}))
    .collect();
    admin(
        &failing.base_url,
        reqwest::Method::PUT,
        "/__emulator/faults",
        serde_json::json!({ "error_rates": rates }),
    )
    .await;
    let mut opts = emulator_opts(vec![
        emulator_connection("acme", &failing.base_url),
        emulator_connection("globex", &healthy.base_url),
    ]);
    // Two failed jobs open the breaker; no probe within the test.
    opts.extra_env = vec![
        ("BREAKER_FAILURES", "2".into()),
        ("BREAKER_COOLDOWN_SECS", "600".into()),
    ];
    opts.concurrency = 1;
    let app = spawn_app(opts).await;
    let limits = limits_for(&app.prefix).await;

    // acme's first two requests run and fail (transient: they move to a retry tier).
    let acme: Vec<String> = (0..3).map(|i| format!("acme-{i}")).collect();
    for id in &acme[..2] {
        app.publish("dsr", &dsr(id, "acme")).await;
    }
    let start = std::time::Instant::now();
    loop {
        if let Ok(Admission::Defer {
            reason: DeferReason::BreakerOpen,
            ..
        }) = limits.admit("acme").await
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "acme's breaker never opened"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert!(
        limits.scope("acme").await.starts_with("org:"),
        "the breaker is the org's, not the connection's"
    );

    // The breaker is open: acme's requests are deferred without calling its Salesforce, while
    // globex's run against theirs and complete.
    let acme_calls = emulator_calls(&failing.base_url).await;
    app.publish("dsr", &dsr(&acme[2], "acme")).await;
    let globex: Vec<String> = (0..3).map(|i| format!("globex-{i}")).collect();
    for id in &globex {
        app.publish("dsr", &dsr(id, "globex")).await;
    }
    let results = app.terminal_results(&globex, Duration::from_secs(60)).await;
    for id in &globex {
        let r = results
            .get(id)
            .unwrap_or_else(|| panic!("no result for {id}"));
        assert_eq!(r[0]["status"], "completed", "{id}: {}", r[0]);
    }
    for id in &acme {
        assert!(!results.contains_key(id), "{id} was answered: {results:?}");
    }
    assert_eq!(
        emulator_calls(&failing.base_url).await,
        acme_calls,
        "a deferred request does not call the failing org"
    );
    assert_eq!(
        app.depth(&app.names.dead).await,
        0,
        "deferral never dead-letters"
    );
    assert!(emulator_calls(&healthy.base_url).await > 0);
    app.cleanup().await;
    failing.shutdown.cancel();
    healthy.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_reported_by_salesforce_above_the_share_defers_the_next_request_until_it_frees_up() {
    let emu = emulator().await;
    // The org has used 850 of 1,000 daily calls: above the 80% share.
    admin(
        &emu.base_url,
        reqwest::Method::PUT,
        "/__emulator/limits",
        serde_json::json!({"daily_api_requests": 1000, "used": 850}),
    )
    .await;
    let mut opts = emulator_opts(vec![emulator_connection("acme", &emu.base_url)]);
    // A figure stays authoritative for 8 s; after that the next job probes Salesforce again.
    opts.extra_env = vec![("API_USAGE_TTL_SECS", "8".into())];
    let app = spawn_app(opts).await;
    let limits = limits_for(&app.prefix).await;

    // Usage unknown: the first request runs, and its responses' Sforce-Limit-Info is recorded.
    app.publish("dsr", &dsr("first", "acme")).await;
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(30), |g| !g.is_empty())
        .await;
    assert_eq!(request_id(&got[0]), "first");
    assert_eq!(got[0].json()["status"], "completed", "{}", got[0].json());
    let usage = limits.usage("acme").await.unwrap().expect("usage recorded");
    assert!(
        usage.used > 850 && usage.max == 1000,
        "recorded from the response header: {usage:?}"
    );

    // The next request for the org is deferred: it does not run, Salesforce is not called.
    let calls = emulator_calls(&emu.base_url).await;
    app.publish("dsr", &dsr("second", "acme")).await;
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(2), |_| false)
        .await;
    assert!(got.is_empty(), "deferred, not answered: {got:?}");
    assert_eq!(emulator_calls(&emu.base_url).await, calls);
    assert_eq!(app.depth(&app.names.dead).await, 0);

    // The org's usage frees up: once the figure is stale the deferred request runs (its first
    // call reads the new figure), once.
    admin(
        &emu.base_url,
        reqwest::Method::PUT,
        "/__emulator/limits",
        serde_json::json!({"used": 100}),
    )
    .await;
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(30), |g| !g.is_empty())
        .await;
    assert_eq!(got.len(), 1);
    assert_eq!(request_id(&got[0]), "second");
    assert_eq!(got[0].json()["status"], "completed");
    let usage = limits.usage("acme").await.unwrap().expect("usage recorded");
    assert!(
        usage.used < 800,
        "the freed-up figure is recorded: {usage:?}"
    );
    assert!(
        app.next(&app.reply_queue, Duration::from_millis(800))
            .await
            .is_none(),
        "exactly one terminal result"
    );
    app.cleanup().await;
    emu.shutdown.cancel();
}
