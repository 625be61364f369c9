//! A request id reused by a different request is refused (`REQUEST_ID_REUSED`), never answered
//! with the first request's result nor run from its checkpoint: by the worker (job state) and
//! by `sfprivacy run` (the DSR checkpoint plan). Redeliveries of the same request still work.
//! A malformed body under a known id is dead-lettered without a `failed` result.
//! Real RabbitMQ and Redis, the Salesforce emulator.

mod common;

use common::{AppOptions, dsr_request, is_terminal, spawn_app};
use serde_json::{Value, json};
use sfprivacy::broker::headers;
use std::time::Duration;

async fn emulator() -> sf_emulator::RunningEmulator {
    #[allow(clippy::needless_update)]
    let config = sf_emulator::EmulatorConfig {
        seed: 7,
        size: 20,
        ..Default::default()
    };
    sf_emulator::Emulator::new(config)
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

async fn insert_contact(emu: &sf_emulator::RunningEmulator, last: &str, email: &str) {
    common::insert_records(
        &emu.base_url,
        "Contact",
        vec![json!({"LastName": last, "Email": email})],
    )
    .await;
}

/// Records a copy result exported (inline).
fn exported(v: &Value) -> u64 {
    v["export"]["record_count"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_dead_letters_a_different_request_under_a_completed_requests_id() {
    let emu = emulator().await;
    insert_contact(&emu, "Alpha", "anna.alpha@example.com").await;
    insert_contact(&emu, "Beta", "bert.beta@example.com").await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(AppOptions::new(vec![conn], None)).await;

    let copy = dsr_request("copy", "r-reuse", "emulator", "anna.alpha@example.com");
    app.publish("dsr", &copy).await;
    let first = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("copy result");
    assert!(is_terminal(&first.json()), "{}", first.json());

    // A delete for another person under the same id: refused, not answered.
    let delete = dsr_request("delete", "r-reuse", "emulator", "bert.beta@example.com");
    app.publish("dsr", &delete).await;
    let dead = app
        .next(&app.names.dead, Duration::from_secs(20))
        .await
        .expect("dead-lettered");
    assert_eq!(dead.body, delete);
    assert_eq!(
        dead.header(headers::ERROR_CODE).as_deref(),
        Some("REQUEST_ID_REUSED")
    );
    let reason = dead.header(headers::ERROR).unwrap_or_default();
    assert!(reason.contains("different request"), "{reason}");
    assert!(
        !reason.contains("bert") && !reason.contains("anna"),
        "{reason}"
    );
    assert!(
        app.next(&app.reply_queue, Duration::from_millis(800))
            .await
            .is_none(),
        "no result under the reused id"
    );

    // The same copy again: still the stored result, byte for byte.
    app.publish("dsr", &copy).await;
    let again = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("re-published result");
    assert_eq!(again.body, first.body);

    // Bert was not deleted.
    app.publish(
        "dsr",
        &dsr_request("copy", "r-check", "emulator", "bert.beta@example.com"),
    )
    .await;
    let check = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("check result");
    assert_eq!(exported(&check.json()), 1, "{}", check.json());
    app.cleanup().await;
    emu.shutdown.cancel();
}

/// A malformed body under a completed request's id is dead-lettered with its parse error, and
/// gets no `failed` result under that id; the completed request's redelivery is unaffected,
/// and a malformed body under a fresh id still gets its `failed` result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_body_under_a_completed_requests_id_gets_no_result() {
    let emu = emulator().await;
    insert_contact(&emu, "Delta", "dora.delta@example.com").await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(AppOptions::new(vec![conn], None)).await;

    let copy = dsr_request("copy", "r-bad-reuse", "emulator", "dora.delta@example.com");
    app.publish("dsr", &copy).await;
    let first = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("copy result");
    assert_eq!(first.json()["status"], "completed", "{}", first.json());

    let with_unknown_field = |id: &str| {
        let mut v: Value = serde_json::from_slice(&dsr_request(
            "copy",
            id,
            "emulator",
            "dora.delta@example.com",
        ))
        .unwrap();
        v["options"] = json!({ "dryRun": false });
        serde_json::to_vec(&v).unwrap()
    };
    let malformed = with_unknown_field("r-bad-reuse");
    app.publish("dsr", &malformed).await;
    let dead = app
        .next(&app.names.dead, Duration::from_secs(20))
        .await
        .expect("dead-lettered");
    assert_eq!(dead.body, malformed);
    assert_eq!(
        dead.header(headers::ERROR_CODE).as_deref(),
        Some("invalid_field")
    );
    let reason = dead.header(headers::ERROR).unwrap_or_default();
    assert!(reason.contains("dryRun"), "{reason}");
    let extra = app.next(&app.reply_queue, Duration::from_secs(2)).await;
    assert!(
        extra.is_none(),
        "no result under the completed id: {:?}",
        extra.map(|g| g.json())
    );

    // The completed copy again: its stored result, byte for byte.
    app.publish("dsr", &copy).await;
    let again = app
        .next(&app.reply_queue, Duration::from_secs(30))
        .await
        .expect("re-published result");
    assert_eq!(again.body, first.body);

    // The same mistake under a fresh id is still answered.
    let fresh = with_unknown_field("r-bad-fresh");
    app.publish("dsr", &fresh).await;
    let failed = app
        .next(&app.reply_queue, Duration::from_secs(10))
        .await
        .expect("failed result for a fresh id")
        .json();
    assert_eq!(failed["request_id"], "r-bad-fresh");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "invalid_field");
    assert!(
        app.next(&app.names.dead, Duration::from_secs(10))
            .await
            .is_some()
    );
    app.cleanup().await;
    emu.shutdown.cancel();
}

/// `sfprivacy run` of one body against the emulator, on the deployment key space `prefix`.
async fn run_local(
    settings: &sfprivacy::config::Settings,
    store: &sfprivacy::store::Store,
    body: &[u8],
) -> sfprivacy::jobs::local::LocalRun {
    let factory =
        sfprivacy::app::salesforce_factory(settings, store, common::fast_client_options()).unwrap();
    sfprivacy::jobs::local::run(
        settings.connections.clone(),
        sfprivacy::jobs::ClientRegistry::new(factory),
        store.clone(),
        sfprivacy::jobs::JobOptions {
            chunk_bytes: settings.export_chunk_bytes,
        },
        body,
        2,
    )
    .await
    .unwrap()
}

fn result_of(run: &sfprivacy::jobs::local::LocalRun) -> Value {
    let m = run
        .messages
        .iter()
        .find(|m| m.terminal)
        .expect("a terminal result");
    serde_json::from_str(&m.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_refuses_a_new_subject_under_an_id_whose_delete_plan_is_still_stored() {
    sfprivacy::telemetry::init_for_tests();
    let emu = emulator().await;
    insert_contact(&emu, "Gamma", "gail.gamma@example.com").await;
    insert_contact(&emu, "Delta", "dirk.delta@example.com").await;
    let prefix = common::unique("run");
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let settings = common::settings_for(&prefix, &AppOptions::new(vec![conn], None));
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &prefix)
        .await
        .unwrap();

    let first = dsr_request("delete", "r-run", "emulator", "gail.gamma@example.com");
    let run = run_local(&settings, &store, &first).await;
    assert!(run.ended(), "{:?}", run.stopped);
    let r = result_of(&run);
    assert_eq!(r["status"], "completed", "{r}");

    // Another person, same id: the stored plan is Gail's, so nothing runs.
    let second = dsr_request("delete", "r-run", "emulator", "dirk.delta@example.com");
    let run = run_local(&settings, &store, &second).await;
    assert!(!run.ended());
    let why = run.stopped.clone().unwrap_or_default();
    assert!(why.contains("REQUEST_ID_REUSED"), "{why}");
    assert!(why.contains("use a new request_id"), "{why}");
    assert!(run.messages.is_empty(), "no result under the reused id");

    // Dirk's record is still there.
    let check = dsr_request("copy", "r-run-check", "emulator", "dirk.delta@example.com");
    let run = run_local(&settings, &store, &check).await;
    assert_eq!(exported(&result_of(&run)), 1);

    // The same delete again resumes from its own plan, as before.
    let run = run_local(&settings, &store, &first).await;
    assert!(run.ended(), "{:?}", run.stopped);
    assert_eq!(result_of(&run)["status"], "completed");

    store.delete_all().await.unwrap();
    emu.shutdown.cancel();
}

#[tokio::test]
async fn stored_plans_and_job_states_are_matched_by_fingerprint_and_older_ones_still_read() {
    use sfprivacy::store::StoreError;
    use sfprivacy::store::checkpoint::Checkpoints;
    use sfprivacy::store::crypto::TokenCipher;
    use sfprivacy::store::job_state::{Begin, JobStates, Sealing};
    let prefix = common::unique("fp");
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &prefix)
        .await
        .unwrap();
    let mut c = store.conn();

    let a = Checkpoints::new(store.clone()).with_fingerprint("sha256:a");
    a.save_plan("r1", &vec!["003A".to_string()]).await.unwrap();
    let same: Option<Vec<String>> = a.load_plan("r1").await.unwrap();
    assert_eq!(same, Some(vec!["003A".to_string()]));
    let b = Checkpoints::new(store.clone()).with_fingerprint("sha256:b");
    let err = b.load_plan::<Vec<String>>("r1").await.unwrap_err();
    assert!(matches!(err, StoreError::RequestIdReused { .. }), "{err}");
    // A bare plan saved before fingerprints existed resumes as before.
    let _: () = redis::cmd("SET")
        .arg(store.key("dsr:r2:plan"))
        .arg(r#"["003B"]"#)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(
        b.load_plan::<Vec<String>>("r2").await.unwrap(),
        Some(vec!["003B".to_string()])
    );

    let ttl = Duration::from_secs(60);
    let sealed = JobStates::new(
        store.clone(),
        ttl,
        ttl,
        Sealing::Sealed(Box::new(TokenCipher::random())),
    );
    sealed
        .complete(
            "dsr.request",
            "j1",
            "sha256:a",
            &["secret@example.com".to_string()],
        )
        .await
        .unwrap();
    let raw: String = redis::cmd("GET")
        .arg(store.key("job:dsr.request:j1"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(!raw.contains("secret@example.com"));
    assert!(matches!(
        sealed.begin::<String>("dsr.request", "j1", "sha256:a").await.unwrap(),
        Begin::Completed(m) if m == ["secret@example.com"]
    ));
    assert!(matches!(
        sealed
            .begin::<String>("dsr.request", "j1", "sha256:b")
            .await
            .unwrap(),
        Begin::Reused
    ));
    // Without the key (development mode) a sealed state is not silently taken for absent.
    let plain = JobStates::new(store.clone(), ttl, ttl, Sealing::Plain);
    assert!(
        plain
            .begin::<String>("dsr.request", "j1", "sha256:a")
            .await
            .is_err()
    );
    // A plain state written before sealing (no fingerprint) is still read and matches.
    let _: () = redis::cmd("SET")
        .arg(store.key("job:dsr.request:j2"))
        .arg(r#"{"phase":"completed","completed_at":"x","messages":["m"]}"#)
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(matches!(
        sealed.begin::<String>("dsr.request", "j2", "sha256:z").await.unwrap(),
        Begin::Completed(m) if m == ["m"]
    ));
    store.delete_all().await.unwrap();
}
