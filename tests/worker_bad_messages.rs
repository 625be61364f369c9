//! Every kind of bad message ends in the dead-letter queue with its reason in our headers, and
//! gets a `failed` result when its id can be read (echoing only ids that are valid). None is
//! dropped, none loops.
//! Real RabbitMQ and Redis (`scripts/services.sh`).

mod common;

use common::{AppOptions, Got, TestApp, connection, no_salesforce, spawn_app};
use sfprivacy::broker::headers;
use std::time::Duration;

fn dsr(extra: serde_json::Value) -> Vec<u8> {
    let mut v = serde_json::json!({
        "type": "dsr.request", "version": 1,
        "request_id": "req-1", "connection_id": "known",
        "action": "copy",
        "subject": { "emails": ["jane.doe@example.com"] }
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in e {
            o.insert(k.clone(), val.clone());
        }
    }
    serde_json::to_vec(&v).unwrap()
}

/// Publishes each body on `routing_key` and waits for the dead letters, one per body.
async fn dead_lettered(app: &TestApp, routing_key: &str, bodies: &[&[u8]]) -> Vec<Got> {
    for body in bodies {
        app.publish(routing_key, body).await;
    }
    let dead = app
        .collect_until(&app.names.dead, Duration::from_secs(20), |g| {
            g.len() >= bodies.len()
        })
        .await;
    assert_eq!(
        dead.len(),
        bodies.len(),
        "every bad message is dead-lettered"
    );
    dead
}

/// The dead letter of `body`, its error code checked.
fn dead_letter_of<'a>(dead: &'a [Got], body: &[u8], code: &str) -> &'a Got {
    let d = dead
        .iter()
        .find(|d| d.body == body)
        .unwrap_or_else(|| panic!("not dead-lettered: {}", String::from_utf8_lossy(body)));
    assert_eq!(d.header(headers::ERROR_CODE).as_deref(), Some(code));
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_bad_message_is_dead_lettered_with_its_reason() {
    let app = spawn_app(AppOptions::new(
        vec![connection("known", "http://127.0.0.1:9")],
        no_salesforce(),
    ))
    .await;

    // (body, expected code, request id expected in a `failed` result)
    let cases: Vec<(Vec<u8>, &str, Option<&str>)> = vec![
        (b"{not json".to_vec(), "invalid_json", None),
        (vec![0xff, 0xfe, 0x00], "invalid_json", None),
        (
            br#"{"type":"dsr.erase","version":1,"request_id":"r-type"}"#.to_vec(),
            "unknown_type",
            Some("r-type"),
        ),
        (
            dsr(serde_json::json!({"request_id": "r-ver", "version": 7})),
            "unsupported_version",
            Some("r-ver"),
        ),
        (
            dsr(serde_json::json!({"request_id": "r-miss", "subject": null})),
            "invalid_field",
            Some("r-miss"),
        ),
        (
            dsr(serde_json::json!({"request_id": "r-act", "action": "purge"})),
            "invalid_field",
            Some("r-act"),
        ),
        (
            dsr(serde_json::json!({"request_id": "r-mail", "subject": {"emails": ["jane.doe@"]}})),
            "invalid_email",
            Some("r-mail"),
        ),
        (
            dsr(serde_json::json!({"request_id": "r-conn", "connection_id": "nobody"})),
            "unknown_connection",
            Some("r-conn"),
        ),
        (
            dsr(serde_json::json!({"request_id": "bad id with spaces"})),
            "invalid_field",
            None,
        ),
    ];
    let bodies: Vec<&[u8]> = cases.iter().map(|c| c.0.as_slice()).collect();
    let dead = dead_lettered(&app, "dsr", &bodies).await;
    for (body, code, _) in &cases {
        let d = dead_letter_of(&dead, body, code);
        assert!(d.header(headers::ERROR).is_some_and(|e| !e.is_empty()));
        assert!(d.header(headers::FAILED_AT).is_some());
        assert_eq!(
            d.header(headers::WORKER_VERSION).as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
    }

    let expected: Vec<&str> = cases.iter().filter_map(|c| c.2).collect();
    let results = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| {
            g.len() >= expected.len()
        })
        .await;
    assert_eq!(results.len(), expected.len());
    for id in expected {
        let r = results
            .iter()
            .map(|g| (g.json(), g))
            .find(|(j, _)| j["request_id"] == id)
            .unwrap_or_else(|| panic!("no failed result for {id}"));
        assert_eq!(r.0["status"], "failed");
        assert_eq!(r.0["correlation_id"], id);
        assert_eq!(
            r.1.props.correlation_id().as_ref().map(|s| s.as_str()),
            Some(id)
        );
        assert_eq!(r.1.props.delivery_mode(), &Some(2));
        assert_eq!(
            r.1.props.content_type().as_ref().map(|s| s.as_str()),
            Some("application/json")
        );
        let (_, case_code, _) = cases.iter().find(|c| c.2 == Some(id)).unwrap();
        assert_eq!(r.0["error"]["code"], *case_code);
    }

    // Nothing loops: the work queue is empty and nothing more arrives.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.depth(&app.names.work_queue("dsr")).await, 0);
    assert_eq!(app.depth(&app.names.dead).await, 0);
    assert!(
        app.next(&app.reply_queue, Duration::from_millis(300))
            .await
            .is_none()
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_with_no_route_dead_letters_the_request_instead_of_looping() {
    let app = spawn_app(AppOptions::new(vec![], no_salesforce())).await;
    // A bad message whose reply_to queue does not exist: the failed result is returned by the
    // broker, the dead letter still lands, and the request is acked (not redelivered forever).
    let body = dsr(serde_json::json!({"request_id": "r-noroute", "connection_id": "x"}));
    app.publish_with("dsr", &body, Some("no-such-queue-anywhere"))
        .await;
    let d = app
        .next(&app.names.dead, Duration::from_secs(10))
        .await
        .expect("dead letter");
    assert_eq!(
        d.header(headers::ERROR_CODE).as_deref(),
        Some("unknown_connection")
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.depth(&app.names.work_queue("dsr")).await, 0);
    assert_eq!(app.depth(&app.names.dead).await, 0);
    app.cleanup().await;
}

/// The incident: `"dryRun": true` (for `dry_run`) on a delete ran a real delete, as unknown
/// fields were ignored. Now it is dead-lettered naming the field, and nothing is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_with_a_misspelt_dry_run_is_dead_lettered_and_deletes_nothing() {
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        seed: 7,
        size: 10,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap();
    let email = "typo.victim@example.com";
    common::insert_records(
        &emu.base_url,
        "Contact",
        vec![serde_json::json!({"LastName": "Victim", "Email": email})],
    )
    .await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(AppOptions::new(vec![conn], None)).await;

    let body = serde_json::to_vec(&serde_json::json!({
        "type": "dsr.request", "version": 1,
        "request_id": "r-dryrun-typo", "connection_id": "emulator",
        "action": "delete",
        "subject": { "emails": [email] },
        "options": { "dryRun": true }
    }))
    .unwrap();
    app.publish("dsr", &body).await;
    let dead = app
        .next(&app.names.dead, Duration::from_secs(20))
        .await
        .expect("dead-lettered");
    assert_eq!(dead.body, body);
    assert_eq!(
        dead.header(headers::ERROR_CODE).as_deref(),
        Some("invalid_field")
    );
    let reason = dead.header(headers::ERROR).unwrap_or_default();
    assert!(reason.contains("dryRun"), "{reason}");
    let failed = app
        .next(&app.reply_queue, Duration::from_secs(10))
        .await
        .expect("failed result")
        .json();
    assert_eq!(failed["request_id"], "r-dryrun-typo");
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("dryRun")),
        "{failed}"
    );

    // The contact is still there: a copy finds it.
    app.publish(
        "dsr",
        &common::dsr_request("copy", "r-dryrun-check", "emulator", email),
    )
    .await;
    let check = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("copy result")
        .json();
    assert_eq!(check["status"], "completed", "{check}");
    assert_eq!(check["export"]["record_count"], 1, "{check}");
    app.cleanup().await;
    emu.shutdown.cancel();
}

/// A subject's email in a malformed body appears neither in the dead-letter header nor in the
/// `failed` result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_errors_do_not_echo_the_subjects_email() {
    let app = spawn_app(AppOptions::new(
        vec![connection("known", "http://127.0.0.1:9")],
        no_salesforce(),
    ))
    .await;
    let cases = [
        dsr(
            serde_json::json!({"request_id": "r-pii-1", "subject": {"emails": "jane.secret@example.com"}}),
        ),
        dsr(serde_json::json!({"request_id": "r-pii-2", "action": "jane.secret@example.com"})),
        dsr(
            serde_json::json!({"request_id": "r-pii-3", "subject": {"emails": ["a@b.co"], "jane.secret@example.com": 1}}),
        ),
    ];
    for body in &cases {
        app.publish("dsr", body).await;
    }
    let dead = app
        .collect_until(&app.names.dead, Duration::from_secs(20), |g| {
            g.len() >= cases.len()
        })
        .await;
    assert_eq!(dead.len(), cases.len());
    for d in &dead {
        let reason = d.header(headers::ERROR).unwrap_or_default();
        assert!(
            reason.contains("subject") || reason.contains("action"),
            "{reason}"
        );
        assert!(!reason.contains("jane.secret"), "{reason}");
    }
    let results = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| {
            g.len() >= cases.len()
        })
        .await;
    assert_eq!(results.len(), cases.len());
    for r in &results {
        assert!(!String::from_utf8_lossy(&r.body).contains("jane.secret"));
        assert_eq!(r.json()["status"], "failed");
    }
    app.cleanup().await;
}

/// A `failed` result echoes a malformed body's connection id only when it is a valid id: an
/// address or a 100,000-character value is left out (empty), the request id and code stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_result_does_not_echo_an_invalid_connection_id() {
    let app = spawn_app(AppOptions::new(
        vec![connection("known", "http://127.0.0.1:9")],
        no_salesforce(),
    ))
    .await;
    let long = "c".repeat(100_000);
    let unknown_field = serde_json::json!({ "dryRun": false });
    let cases = [
        (
            "r-conn-mail",
            dsr(serde_json::json!({
                "request_id": "r-conn-mail", "connection_id": "jane.doe@example.com",
                "options": unknown_field
            })),
            "jane.doe@example.com".to_string(),
        ),
        (
            "r-conn-long",
            dsr(serde_json::json!({
                "request_id": "r-conn-long", "connection_id": long,
                "options": unknown_field
            })),
            long.clone(),
        ),
    ];
    for (_, body, _) in &cases {
        app.publish("dsr", body).await;
    }
    let dead = app
        .collect_until(&app.names.dead, Duration::from_secs(20), |g| {
            g.len() >= cases.len()
        })
        .await;
    assert_eq!(dead.len(), cases.len());
    let results = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| {
            g.len() >= cases.len()
        })
        .await;
    assert_eq!(results.len(), cases.len());
    for (id, _, value) in &cases {
        let r = results
            .iter()
            .find(|g| g.json()["request_id"] == *id)
            .unwrap_or_else(|| panic!("no failed result for {id}"));
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains(value.as_str()),
            "{id}: echoes the connection id"
        );
        assert!(!text.contains("jane.doe"), "{id}: {text}");
        assert!(text.len() < 2_000, "{id}: {} bytes", text.len());
        let j = r.json();
        assert_eq!(j["status"], "failed");
        assert_eq!(j["correlation_id"], *id);
        assert_eq!(j["connection_id"], "");
        assert_eq!(j["error"]["code"], "invalid_field");
    }

    // A valid connection id is still echoed.
    let body = dsr(serde_json::json!({"request_id": "r-conn-ok", "options": unknown_field}));
    app.publish("dsr", &body).await;
    let r = app
        .next(&app.reply_queue, Duration::from_secs(10))
        .await
        .expect("failed result")
        .json();
    assert_eq!(r["request_id"], "r-conn-ok");
    assert_eq!(r["connection_id"], "known");
    app.cleanup().await;
}

/// A malformed message delivered again (here: published twice, as a replay of its dead letter
/// would) is answered under the same `message_id`, so the platform's de-duplication drops the
/// repeat; another malformed message gets its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bad_message_again_repeats_its_failed_result_under_the_same_message_id() {
    let app = spawn_app(AppOptions::new(
        vec![connection("known", "http://127.0.0.1:9")],
        no_salesforce(),
    ))
    .await;
    let bad = dsr(serde_json::json!({"request_id": "r-again", "connection_id": "nobody"}));
    let other = dsr(serde_json::json!({"request_id": "r-other", "connection_id": "nobody"}));
    for body in [&bad, &bad, &other] {
        app.publish("dsr", body).await;
    }
    let results = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| g.len() >= 3)
        .await;
    let ids = |request: &str| -> Vec<String> {
        results
            .iter()
            .map(|g| g.json())
            .filter(|j| j["request_id"] == request)
            .map(|j| j["message_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let again = ids("r-again");
    assert_eq!(again.len(), 2, "both deliveries answered");
    assert_eq!(again[0], again[1]);
    let other_ids = ids("r-other");
    assert_eq!(other_ids.len(), 1);
    assert_ne!(other_ids[0], again[0]);
    for g in &results {
        assert_eq!(
            g.props.message_id().as_ref().map(|s| s.as_str()),
            g.json()["message_id"].as_str(),
            "the AMQP message-id property matches the body"
        );
    }
    app.cleanup().await;
}

/// A scan part its scan's plan did not make (an index past the plan, an object or a connection
/// the plan does not have, a scan with no plan) is dead-lettered with the reason before any
/// Salesforce call: it must not end the scan early or mix another org's counts in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_parts_outside_their_plan_are_dead_lettered_with_the_reason() {
    use sfprivacy::message::ConfidenceLevel;
    use sfprivacy::store::scan_state::{ScanMeta, ScanState, part_id};
    let app = spawn_app(AppOptions::new(
        vec![
            connection("known", "http://127.0.0.1:9"),
            connection("other", "http://127.0.0.1:9"),
        ],
        // The real client factory: nothing listens on port 9, and no call may be made.
        None,
    ))
    .await;
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &app.settings.redis_prefix)
        .await
        .unwrap();
    let scan_id = common::unique("scan");
    let meta = ScanMeta {
        scan_id: scan_id.clone(),
        connection_id: "known".into(),
        confidence: ConfidenceLevel::Medium,
        reply_to: None,
        started_at: "2026-01-01T00:00:00.000Z".into(),
        total_parts: 2,
        objects: vec![("Contact".into(), 2)],
        missing: vec![],
        plan_api_calls: 0,
    };
    ScanState::new(store.clone()).init(&meta).await.unwrap();
    let part = |scan: &str, id: String, object: &str, conn: &str| -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": "scan.part", "version": 1, "scan_id": scan, "part_id": id,
            "connection_id": conn, "object": object, "confidence": "medium"
        }))
        .unwrap()
    };
    let cases = [
        (
            part(
                &scan_id,
                part_id(&scan_id, "Contact", 2),
                "Contact",
                "known",
            ),
            "scan_part_unknown",
        ),
        (
            part(&scan_id, part_id(&scan_id, "Lead", 0), "Lead", "known"),
            "scan_part_unknown",
        ),
        (
            part(
                &scan_id,
                part_id(&scan_id, "Contact", 0),
                "Contact",
                "other",
            ),
            "scan_part_unknown",
        ),
        (
            part(
                "no-such-scan",
                part_id("no-such-scan", "Contact", 0),
                "Contact",
                "known",
            ),
            "scan_not_planned",
        ),
    ];
    let bodies: Vec<&[u8]> = cases.iter().map(|c| c.0.as_slice()).collect();
    let dead = dead_lettered(&app, "scan.part", &bodies).await;
    for (body, code) in &cases {
        dead_letter_of(&dead, body, code);
    }
    // Nothing answered, nothing counted towards the scan.
    assert!(
        app.next(&app.reply_queue, Duration::from_millis(500))
            .await
            .is_none()
    );
    let totals = ScanState::new(store).totals(&scan_id).await.unwrap();
    assert_eq!((totals.records, totals.api_calls), (0, 0));
    assert!(totals.counts.is_empty());
    app.cleanup().await;
}

/// An unknown connection id is quoted in the reason only when it passes the contract's id rule
/// (it must, to get past validation); an address or a 1000-character value never shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_ids_show_in_reasons_only_when_they_pass_the_id_rule() {
    let app = spawn_app(AppOptions::new(
        vec![connection("known", "http://127.0.0.1:9")],
        no_salesforce(),
    ))
    .await;
    let long = "c".repeat(1000);
    // (body, error code, what the reason says)
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            dsr(serde_json::json!({"request_id": "r-conn-nope", "connection_id": "nope"})),
            "unknown_connection",
            "unknown connection nope",
        ),
        (
            dsr(
                serde_json::json!({"request_id": "r-conn-at", "connection_id": "john.smith@example.org"}),
            ),
            "invalid_field",
            "connection_id",
        ),
        (
            dsr(serde_json::json!({"request_id": "r-conn-1000", "connection_id": long})),
            "invalid_field",
            "connection_id",
        ),
    ];
    let bodies: Vec<&[u8]> = cases.iter().map(|c| c.0.as_slice()).collect();
    let dead = dead_lettered(&app, "dsr", &bodies).await;
    for (body, code, says) in &cases {
        let d = dead_letter_of(&dead, body, code);
        let reason = d.header(headers::ERROR).unwrap_or_default();
        assert!(reason.contains(says), "{reason}");
        assert!(
            !reason.contains("john.smith") && !reason.contains("ccccc"),
            "{reason}"
        );
    }
    app.cleanup().await;
}

/// A key given twice runs under neither value: the message is dead-lettered as `invalid_field`
/// naming the key (never the values). A duplicated id is ambiguous and gets no result; a
/// duplicate elsewhere still lets the id be answered. A body nested past serde_json's
/// recursion limit still gets its `failed` result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_are_refused_and_a_deep_body_is_still_answered() {
    let app = spawn_app(AppOptions::new(
        vec![connection("known", "http://127.0.0.1:9")],
        no_salesforce(),
    ))
    .await;
    let head = r#"{"type":"dsr.request","version":1,"connection_id":"known","action":"delete""#;
    let subject = r#""subject":{"emails":["jane.doe@example.com"]}"#;
    // (body, error code, the field or text the reason names, request id answered)
    let cases: Vec<(Vec<u8>, &str, &str, Option<&str>)> = vec![
        (
            format!(r#"{head},"request_id":"dup-a",{subject},"request_id":"dup-b"}}"#).into_bytes(),
            "invalid_field",
            "`request_id`: duplicate key",
            None,
        ),
        (
            format!(
                r#"{head},"request_id":"dup-opt",{subject},"options":{{"dry_run":true,"dry_run":false}}}}"#
            )
            .into_bytes(),
            "invalid_field",
            "`options.dry_run`: duplicate key",
            Some("dup-opt"),
        ),
        (
            format!(
                r#"{head},"request_id":"dup-subj","subject":{{"emails":["jane.doe@example.com"],"emails":["john@example.org"]}}}}"#
            )
            .into_bytes(),
            "invalid_field",
            "`subject.emails`: duplicate key",
            Some("dup-subj"),
        ),
        (
            format!(
                r#"{head},"request_id":"r-deep",{subject},"options":{{"x":{}{}}}}}"#,
                "[".repeat(300),
                "]".repeat(300)
            )
            .into_bytes(),
            "invalid_json",
            "recursion limit",
            Some("r-deep"),
        ),
    ];
    let bodies: Vec<&[u8]> = cases.iter().map(|c| c.0.as_slice()).collect();
    let dead = dead_lettered(&app, "dsr", &bodies).await;
    for (body, code, names, _) in &cases {
        let d = dead_letter_of(&dead, body, code);
        let reason = d.header(headers::ERROR).unwrap_or_default();
        assert!(reason.contains(names), "{reason}");
        for leak in ["@", "dup-b", "true", "false"] {
            assert!(!reason.contains(leak), "{leak} in {reason}");
        }
    }
    let expected: Vec<&str> = cases.iter().filter_map(|c| c.3).collect();
    let results = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| {
            g.len() >= expected.len()
        })
        .await;
    let answered: Vec<String> = results
        .iter()
        .map(|g| {
            g.json()["request_id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for id in &expected {
        assert!(
            answered.iter().any(|a| a == id),
            "no result for {id}: {answered:?}"
        );
    }
    assert!(
        !answered
            .iter()
            .any(|a| a.starts_with("dup-a") || a == "dup-b"),
        "an ambiguous id is not answered: {answered:?}"
    );
    for g in &results {
        assert_eq!(g.json()["status"], "failed");
        assert!(!String::from_utf8_lossy(&g.body).contains('@'));
    }
    app.cleanup().await;
}

/// Each request type has its queue: one sent with another type's routing key is dead-lettered
/// with `wrong_queue` and answered `failed`, instead of running on the other type's queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_on_another_types_queue_is_refused_with_wrong_queue() {
    let app = spawn_app(AppOptions::new(
        vec![connection("known", "http://127.0.0.1:9")],
        no_salesforce(),
    ))
    .await;
    let scan = serde_json::to_vec(&serde_json::json!({
        "type": "scan.request", "version": 1, "scan_id": "s-wrong", "connection_id": "known"
    }))
    .unwrap();
    let copy = dsr(serde_json::json!({"request_id": "r-wrong"}));
    app.publish("dsr", &scan).await;
    app.publish("scan", &copy).await;
    let dead = app
        .collect_until(&app.names.dead, Duration::from_secs(20), |g| g.len() >= 2)
        .await;
    assert_eq!(dead.len(), 2);
    for d in &dead {
        assert_eq!(
            d.header(headers::ERROR_CODE).as_deref(),
            Some("wrong_queue")
        );
    }
    let scan_reason = dead
        .iter()
        .find(|d| d.body == scan)
        .and_then(|d| d.header(headers::ERROR))
        .unwrap();
    assert!(scan_reason.contains("routing key scan"), "{scan_reason}");
    let results = app
        .collect_until(&app.reply_queue, Duration::from_secs(10), |g| g.len() >= 2)
        .await;
    let mut answered: Vec<String> = results
        .iter()
        .map(|g| {
            let j = g.json();
            assert_eq!(j["status"], "failed", "{j}");
            assert_eq!(j["error"]["code"], "wrong_queue", "{j}");
            j["request_id"]
                .as_str()
                .or(j["scan_id"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    answered.sort();
    assert_eq!(answered, ["r-wrong", "s-wrong"]);
    app.cleanup().await;
}
