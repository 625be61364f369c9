//! The per-org limits inside a running worker (real RabbitMQ and Redis): an org over its API
//! budget, or with its circuit breaker open, has its requests deferred through the retry tiers
//! while another org's requests are answered; once the allocation frees up (or the breaker
//! closes) the deferred request runs and gets its one terminal result, its attempt count
//! untouched by the deferrals.

mod common;

use common::{AppOptions, Got, connection, no_salesforce, spawn_app};
use sfprivacy::store::Store;
use sfprivacy::store::budget::{LimitSettings, OrgLimits};
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
