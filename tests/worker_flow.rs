//! The worker end to end on real RabbitMQ and Redis with the Salesforce emulator (or a dead
//! address): retry tiers to the dead-letter queue, idempotent redelivery, and a broker
//! connection closed while requests are in flight.

mod common;

use common::{AppOptions, connection, is_terminal, spawn_app};
use sfprivacy::broker::headers;
use std::time::Duration;

fn copy_request(id: &str, conn: &str, email: &str) -> Vec<u8> {
    common::dsr_request("copy", id, conn, email)
}

async fn emulator() -> sf_emulator::RunningEmulator {
    #[allow(clippy::needless_update)]
    let config = sf_emulator::EmulatorConfig {
        seed: 7,
        size: 50,
        ..Default::default()
    };
    sf_emulator::Emulator::new(config)
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_moves_through_every_tier_then_to_the_dead_letter_queue() {
    // Nothing listens on port 9: every Salesforce call is a transport error (transient).
    let app = spawn_app(AppOptions::new(
        vec![connection("down", "http://127.0.0.1:9")],
        None,
    ))
    .await;
    app.publish("dsr", &copy_request("r-tiers", "down", "jane@example.com"))
        .await;

    let dead = app
        // Each attempt spends ~12 s in the client's own in-process retries before it gives up,
        // so three attempts need well over 30 s.
        .next(&app.names.dead, Duration::from_secs(120))
        .await
        .expect("dead-lettered after the last tier");
    // Two tiers configured (300ms, 600ms): attempts 0 → tier 1 → tier 2 → dead.
    assert_eq!(headers::attempts(&dead.props), 2);
    assert_eq!(
        dead.header(headers::ERROR_CODE).as_deref(),
        Some("TRANSPORT_ERROR")
    );
    assert!(dead.header(headers::ERROR).is_some());
    assert_eq!(dead.json()["request_id"], "r-tiers");

    let result = app
        .next(&app.reply_queue, Duration::from_secs(5))
        .await
        .expect("dead_lettered result");
    let v = result.json();
    assert_eq!(v["status"], "dead_lettered");
    assert_eq!(v["correlation_id"], "r-tiers");
    assert_eq!(v["error"]["code"], "TRANSPORT_ERROR");
    // Nothing else: no loop, no terminal result yet (a replay produces it).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        app.next(&app.reply_queue, Duration::from_millis(200))
            .await
            .is_none()
    );
    assert_eq!(app.depth(&app.names.dead).await, 0);
    for (tier, _) in &app.names.tiers {
        assert_eq!(app.depth(tier).await, 0, "{tier}");
    }
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_completed_request_republishes_its_result_without_calling_salesforce() {
    let emu = emulator().await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(AppOptions::new(vec![conn], None)).await;
    let body = copy_request("r-idem", "emulator", "nobody.here@example.com");

    app.publish("dsr", &body).await;
    let first = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("first result");
    let v1 = first.json();
    assert!(is_terminal(&v1), "{v1}");
    let calls_after_first = app.api_calls();
    assert!(
        calls_after_first > 0,
        "the first delivery called Salesforce"
    );

    // The platform (or the broker) delivers the same request again.
    app.publish("dsr", &body).await;
    let second = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("re-published result");
    assert_eq!(second.body, first.body, "the stored result, byte for byte");
    assert_eq!(second.props.message_id(), first.props.message_id());
    assert_eq!(
        app.api_calls(),
        calls_after_first,
        "no Salesforce call on redelivery"
    );
    app.cleanup().await;
    emu.shutdown.cancel();
}

/// A request that fails after calling Salesforce says how many calls it spent: the org's API
/// allocation paid for them whatever the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_result_counts_the_calls_its_attempt_made() {
    let emu = emulator().await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(AppOptions::new(vec![conn], None)).await;
    let body = serde_json::to_vec(&serde_json::json!({
        "type": "dsr.request", "version": 1,
        "request_id": "r-failed-calls", "connection_id": "emulator",
        "action": "copy",
        "subject": { "emails": ["nobody.here@example.com"] },
        "options": { "objects": ["Contact", "Loyalty_Card__c"] }
    }))
    .unwrap();
    app.publish("dsr", &body).await;
    let got = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("failed result");
    let v = got.json();
    assert_eq!(
        (&v["status"], &v["error"]["code"], &v["action"]),
        (
            &serde_json::json!("failed"),
            &serde_json::json!("INVALID_TYPE"),
            &serde_json::json!("copy")
        ),
        "{v}"
    );
    // Describe Contact, then Loyalty_Card__c (not found): at least those two.
    let calls = v["api_calls"].as_u64().unwrap_or(0);
    assert!(calls >= 2, "{v}");
    assert_eq!(
        calls,
        app.api_calls(),
        "the only job, so every call is its own"
    );
    app.cleanup().await;
    emu.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_broker_connection_mid_flight_loses_no_request() {
    let emu = emulator().await;
    // Slow Salesforce so requests are in flight when the connection goes.
    emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms: 300,
        ..Default::default()
    });
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let mut opts = AppOptions::new(vec![conn], None);
    opts.concurrency = 4;
    let app = spawn_app(opts).await;
    let ids: Vec<String> = (0..8).map(|i| format!("r-drop-{i}")).collect();
    for id in &ids {
        app.publish(
            "dsr",
            &copy_request(id, "emulator", &format!("{id}@example.com")),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.close_worker_connection();

    let results = app.terminal_results(&ids, Duration::from_secs(90)).await;
    assert!(app.handle.sessions() >= 2, "the supervisor reconnected");
    common::assert_one_distinct_result_each(&results, &ids);
    assert_eq!(app.depth(&app.names.dead).await, 0);
    app.cleanup().await;
    emu.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_copy_is_stored_sealed_and_still_republished_identically() {
    let emu = emulator().await;
    let email = "sealed.subject@example.com";
    common::insert_records(
        &emu.base_url,
        "Contact",
        vec![serde_json::json!({"FirstName": "Seraphina", "LastName": "Quillfeather", "Email": email})],
    )
    .await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let mut opts = AppOptions::new(vec![conn], None);
    // A real key: only the development flag without one keeps job state plain.
    opts.extra_env.push((
        "TOKEN_KEY",
        "c2Zwcml2YWN5LXRlc3Qtam9iLXN0YXRlLWtleS0zMmI=".into(),
    ));
    let app = spawn_app(opts).await;
    let body = copy_request("r-sealed", "emulator", email);

    app.publish("dsr", &body).await;
    let first = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("first result");
    let v = first.json();
    assert_eq!(v["export"]["record_count"], 1, "{v}");
    assert!(String::from_utf8_lossy(&first.body).contains("Quillfeather"));

    let client = redis::Client::open(common::REDIS_URL).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{}:job:dsr.request:r-sealed", app.prefix);
    let stored: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(
        stored.starts_with("sealed:v1:"),
        "{}",
        &stored[..40.min(stored.len())]
    );
    for clear in [
        "sealed.subject",
        "example.com",
        "Seraphina",
        "Quillfeather",
        "r-sealed",
    ] {
        assert!(!stored.contains(clear), "{clear} in clear in Redis");
    }

    app.publish("dsr", &body).await;
    let second = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("re-published result");
    assert_eq!(second.body, first.body, "the stored result, byte for byte");
    assert_eq!(second.props.message_id(), first.props.message_id());
    app.cleanup().await;
    emu.shutdown.cancel();
}
