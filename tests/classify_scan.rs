//! Classification scans end to end: a seeded emulator org scanned through real RabbitMQ and
//! Redis by two worker replicas, scored against the emulator's ground truth with the
//! `sfprivacy score` command; and a worker killed mid-scan whose parts another worker finishes
//! with the same per-field counts as an uninterrupted scan; a sampled scan
//! (`max_records_per_object`) reads at most that many records of each object; and a scan
//! sliced into Id ranges counts exactly what one part per object counts.

mod common;

use common::{AppOptions, Got, TestApp, spawn_app};
use sfprivacy::store::scan_state::ScanState;
use std::collections::HashMap;
use std::time::Duration;

/// Small enough for a debug build (1,038 records over 21 objects), large enough that
/// every kind of personal data in the ground truth occurs in it.
const ORG_SIZE: usize = 1000;

async fn emulator(size: usize) -> sf_emulator::RunningEmulator {
    #[allow(clippy::needless_update)]
    let config = sf_emulator::EmulatorConfig {
        seed: 11,
        size,
        ..Default::default()
    };
    sf_emulator::Emulator::new(config)
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

fn scan_request(scan_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": scan_id, "connection_id": "emulator",
        "confidence": "medium", "objects": null, "max_records_per_object": null
    }))
    .unwrap()
}

fn worker_options(conn: &sfprivacy::config::Connection) -> AppOptions {
    let mut opts = AppOptions::new(vec![conn.clone()], None);
    opts.concurrency = 2;
    opts
}

/// Reads the reply queue until the scan's terminal result arrives.
async fn scan_result(app: &TestApp, scan_id: &str, limit: Duration) -> serde_json::Value {
    let msgs = app
        .collect_until(&app.reply_queue, limit, |got: &[Got]| {
            got.iter().any(|g| is_result(&g.json(), scan_id))
        })
        .await;
    msgs.iter()
        .map(Got::json)
        .find(|v| is_result(v, scan_id))
        .unwrap_or_else(|| panic!("no scan.result for {scan_id} within {limit:?}"))
}

fn is_result(v: &serde_json::Value, scan_id: &str) -> bool {
    v["type"] == "scan.result" && v["scan_id"] == scan_id
}

/// Scores a report with the `sfprivacy score` command against the emulator's ground truth.
fn score_with_command(report: &serde_json::Value, emulator_url: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, serde_json::to_vec(report).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .arg("score")
        .arg("--report")
        .arg(&path)
        .arg("--emulator")
        .arg(emulator_url)
        .output()
        .expect("run sfprivacy score");
    assert!(
        out.status.success(),
        "sfprivacy score failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("score prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_shared_by_two_workers_matches_the_ground_truth() {
    let emu = emulator(ORG_SIZE).await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(worker_options(&conn)).await;
    let peer = app.spawn_peer(worker_options(&conn)).await;
    let scan_id = format!("scan-{}", uuid::Uuid::new_v4().simple());

    app.publish("scan", &scan_request(&scan_id)).await;
    let result = scan_result(&app, &scan_id, Duration::from_secs(300)).await;
    assert_eq!(result["status"], "completed", "{result}");
    let objects = result["objects"].as_array().unwrap();
    assert!(objects.len() > 20, "every queryable object is scanned");
    assert!(result["records_scanned"].as_u64().unwrap() > 1000);

    // Both replicas carried out parts, one per object between them (a part may also have been
    // parked and retried on the way: a Redis hiccup under load is transient, not a failure).
    let (a, b) = (
        app.handle.published("scan.part"),
        peer.handle.published("scan.part"),
    );
    assert_eq!(a + b, objects.len() as u64, "parts carried out: {a} + {b}");
    assert!(
        a >= 1 && b >= 1,
        "both workers processed parts: {a} and {b}"
    );

    let score = score_with_command(&result, &emu.base_url);
    let overall = &score["overall"];
    let f1 = overall["f1"].as_f64().unwrap();
    assert!(
        f1 >= 0.95,
        "field-level F1 {f1:.3} (precision {}, recall {}) below 0.95; mismatches: {:#}",
        overall["precision"],
        overall["recall"],
        score["mismatches"]
    );
    // The figure BENCHMARKS.md quotes (run with `--nocapture`).
    eprintln!(
        "ground-truth score ({} objects, {} records): tp {} fp {} fn {} precision {:.3} recall {:.3} F1 {f1:.3}; per type: {}; mismatches: {}",
        objects.len(),
        result["records_scanned"],
        overall["tp"],
        overall["fp"],
        overall["fn"],
        overall["precision"].as_f64().unwrap(),
        overall["recall"].as_f64().unwrap(),
        score["per_type"],
        score["mismatches"]
    );

    peer.stop().await;
    app.cleanup().await;
    emu.shutdown.cancel();
}

/// Takes every ready message of `queue` without acking, counts those the broker marks as
/// redelivered, and puts them all back (closing the channel requeues them).
async fn redelivered_ready(app: &TestApp, queue: &str) -> (u32, u32) {
    let ch = app.conn.create_channel().await.unwrap();
    let (mut ready, mut redelivered) = (0, 0);
    while let Some(m) = ch
        .basic_get(
            queue.into(),
            lapin::options::BasicGetOptions { no_ack: false },
        )
        .await
        .unwrap()
    {
        ready += 1;
        if m.delivery.redelivered {
            redelivered += 1;
        }
    }
    ch.close(200, "peeked".into()).await.unwrap();
    (ready, redelivered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_scan_leaves_counts_equal_to_an_uninterrupted_scan() {
    let emu = emulator(ORG_SIZE).await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let mut app = spawn_app(worker_options(&conn)).await;
    // The test's own worker steps aside: the scan starts on a worker process alone.
    app.stop_worker().await;
    let mut doomed = app
        .spawn_worker_process(&sfprivacy::demo::emulator_connection_toml(&emu.base_url), 2)
        .await;
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &app.prefix)
        .await
        .unwrap();
    let state = ScanState::new(store);
    let interrupted = format!("scan-kill-{}", uuid::Uuid::new_v4().simple());
    app.publish("scan", &scan_request(&interrupted)).await;

    // Once the plan exists, slow Salesforce down so parts are in flight when the worker dies.
    let start = std::time::Instant::now();
    let total = loop {
        if let Some(meta) = state.meta(&interrupted).await.unwrap() {
            break meta.total_parts;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no plan: {}",
            doomed.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms: 400,
        ..Default::default()
    });
    while state.parts_done(&interrupted).await.unwrap() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "parts stalled: {}",
            doomed.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.kill();
    let done_at_kill = state.parts_done(&interrupted).await.unwrap();
    assert!(
        done_at_kill < total,
        "the scan was not finished at the kill"
    );

    // The broker gives back what the dead worker held: those come back marked redelivered.
    // Its consumers vanish when the broker has processed the dead connection (and requeued).
    let part_queue = app.names.work_queue("scan.part");
    let start = std::time::Instant::now();
    while app.consumers(&part_queue).await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "consumer still registered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ready, redelivered) = redelivered_ready(&app, &part_queue).await;
    assert!(
        redelivered >= 1,
        "the killed worker held parts ({ready} ready, none redelivered)"
    );
    assert!(ready as u64 >= total - done_at_kill);

    // Another worker finishes the scan at full speed.
    emu.state.faults.set(Default::default());
    let survivor = app.spawn_peer(worker_options(&conn)).await;
    let first = scan_result(&app, &interrupted, Duration::from_secs(180)).await;
    assert_eq!(first["status"], "completed", "{first}");

    // The same scan again, uninterrupted, on the same (unchanged) org.
    let clean = format!("scan-clean-{}", uuid::Uuid::new_v4().simple());
    app.publish("scan", &scan_request(&clean)).await;
    let second = scan_result(&app, &clean, Duration::from_secs(180)).await;
    assert_eq!(second["status"], "completed", "{second}");

    let (a, b) = (
        state.totals(&interrupted).await.unwrap(),
        state.totals(&clean).await.unwrap(),
    );
    assert_eq!(a.records, b.records);
    assert!(!a.counts.is_empty());
    let differing: HashMap<&String, (Option<&u64>, Option<&u64>)> = a
        .counts
        .keys()
        .chain(b.counts.keys())
        .filter(|k| a.counts.get(*k) != b.counts.get(*k))
        .map(|k| (k, (a.counts.get(k), b.counts.get(k))))
        .collect();
    assert!(
        differing.is_empty(),
        "per-field counts differ: {differing:?}"
    );
    assert_eq!(first["objects"], second["objects"], "same report");
    assert_eq!(first["records_scanned"], second["records_scanned"]);

    survivor.stop().await;
    app.cleanup().await;
    emu.shutdown.cancel();
}

/// `sfprivacy run --request FILE` with a scan request, against the emulator and Redis.
fn run_command(
    request: &serde_json::Value,
    emulator_url: &str,
    redis_prefix: &str,
) -> (bool, Vec<serde_json::Value>, String) {
    let out = common::run_request(request, emulator_url, redis_prefix);
    let printed = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .collect::<Result<Vec<_>, _>>()
        .expect("run prints JSON messages");
    (
        out.status.success(),
        printed,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// SOQL query calls the emulator has served.
async fn query_calls(emulator_url: &str) -> u64 {
    let v: serde_json::Value = reqwest::get(format!("{emulator_url}/__emulator/counters"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["endpoints"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.ends_with("/query"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_command_runs_a_scans_parts_in_process_and_prints_its_result() {
    let emu = emulator(ORG_SIZE).await;
    let prefix = common::unique("run");
    let request = serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": "run-scan-1", "connection_id": "emulator",
        "confidence": "medium", "objects": ["Contact", "Lead", "Payment_Method__c"],
        "max_records_per_object": null
    });
    let url = emu.base_url.clone();
    let p = prefix.clone();
    let r = request.clone();
    let (ok, printed, stderr) = tokio::task::spawn_blocking(move || run_command(&r, &url, &p))
        .await
        .unwrap();
    assert!(ok, "sfprivacy run failed: {stderr}");
    let result = printed.last().expect("something printed");
    assert_eq!(
        result["type"], "scan.result",
        "the terminal result comes last"
    );
    assert_eq!(result["status"], "completed", "{result}");
    assert_eq!(result["scan_id"], "run-scan-1");
    assert!(
        printed.iter().all(|m| m["type"] != "scan.part"),
        "parts stay inside the process"
    );
    let progress: Vec<&serde_json::Value> =
        printed.iter().filter(|m| m["type"] == "progress").collect();
    assert_eq!(progress.len(), 1 + 3, "planned, then one per part");
    let objects = result["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 3);
    let field = |object: &str, field: &str| -> Vec<String> {
        objects
            .iter()
            .find(|o| o["object"] == object)
            .and_then(|o| o["fields"].as_array())
            .and_then(|fs| fs.iter().find(|f| f["field"] == field))
            .map(|f| {
                f["data_types"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["data_type"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(field("Contact", "Email"), ["email"]);
    assert_eq!(
        field("Payment_Method__c", "Card_Number__c"),
        ["credit_card"]
    );
    let scanned = result["records_scanned"].as_u64().unwrap();
    assert!(scanned > 300, "{scanned} records");

    // The private scope is gone; the anonymizer's personal-field list is where workers put it.
    assert!(
        common::redis_keys(&format!("{prefix}:run:*"))
            .await
            .is_empty()
    );
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &prefix)
        .await
        .unwrap();
    let personal = sfprivacy::store::scan_state::latest_personal_fields(&store, "emulator")
        .await
        .unwrap();
    assert!(
        personal.contains(&"Contact.Email".to_string()),
        "{personal:?}"
    );

    // The same file again scans again (no state carried over): same counts, fresh calls.
    let queries_before = query_calls(&emu.base_url).await;
    let url = emu.base_url.clone();
    let p = prefix.clone();
    let (ok, again, stderr) = tokio::task::spawn_blocking(move || run_command(&request, &url, &p))
        .await
        .unwrap();
    assert!(ok, "second run failed: {stderr}");
    let second = again.last().unwrap();
    assert_eq!(
        second["type"], "scan.result",
        "the terminal result comes last"
    );
    assert_eq!(second["records_scanned"], result["records_scanned"]);
    assert_eq!(second["objects"], result["objects"]);
    // Per object: the Id query that plans its slices and the part's own query.
    assert!(
        query_calls(&emu.base_url).await >= queries_before + 6,
        "the second run queried Salesforce again"
    );

    common::delete_redis_keys(&format!("{prefix}:*")).await;
    emu.shutdown.cancel();
}

/// What the connection's latest scan found personal is anonymized too: a card number in a
/// custom field of the subject's payment method, which no standard list names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymize_also_redacts_what_the_latest_scan_found_personal() {
    let emu = emulator(0).await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(worker_options(&conn)).await;
    let email = "card.holder@example.org";
    let insert = |object: &'static str, record: serde_json::Value| {
        let url = emu.base_url.clone();
        async move {
            common::insert_records(&url, object, vec![record])
                .await
                .remove(0)
        }
    };
    let contact = insert(
        "Contact",
        serde_json::json!({"LastName": "Holder", "Email": email}),
    )
    .await;
    let card = insert(
        "Payment_Method__c",
        serde_json::json!({
            "Name": "PM-1", "Contact__c": contact, "Billing_Email__c": email,
            "Card_Number__c": "4111111111111111"
        }),
    )
    .await;
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &app.settings.redis_prefix)
        .await
        .unwrap();
    ScanState::new(store)
        .set_personal_fields(
            "emulator",
            &["Payment_Method__c.Card_Number__c".to_string()],
        )
        .await
        .unwrap();

    // `all`: the payment method is the subject's own record (its billing email matches).
    let request = serde_json::json!({
        "type": "dsr.request", "version": 1, "request_id": "r-classified",
        "connection_id": "emulator", "action": "anonymize",
        "subject": {"emails": [email]}, "options": {"objects": "all"}
    });
    app.publish("dsr", &serde_json::to_vec(&request).unwrap())
        .await;
    let results = app
        .terminal_results(&["r-classified".to_string()], Duration::from_secs(60))
        .await;
    let result = &results["r-classified"][0];
    let outcome = result["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == card.as_str())
        .unwrap_or_else(|| panic!("no outcome for the payment method: {result:#}"));
    let fields: Vec<&str> = outcome["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(fields.contains(&"Card_Number__c"), "{result:#}");
    assert_eq!(result["verification"]["ok"], true, "{result:#}");
    app.cleanup().await;
}

/// A client of the emulator's integration user with its own token cache under `prefix`.
async fn emulator_client(
    emulator_url: &str,
    prefix: &str,
) -> sfprivacy::salesforce::SalesforceClient {
    let conn = sfprivacy::demo::emulator_connection(emulator_url).unwrap();
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, prefix)
        .await
        .unwrap();
    let tokens = sfprivacy::store::tokens::TokenCache::new(
        store,
        sfprivacy::store::crypto::TokenCipher::random(),
    );
    sfprivacy::salesforce::SalesforceClient::new(
        conn,
        tokens,
        sfprivacy::salesforce::http_client().unwrap(),
        common::fast_client_options(),
    )
    .for_job()
}

/// Rows of `object` in the org (the query's totalSize).
async fn rows(client: &sfprivacy::salesforce::SalesforceClient, object: &str) -> u64 {
    client
        .query(&format!("SELECT Id FROM {object}"), false)
        .await
        .unwrap()
        .total_size()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampled_scan_reads_at_most_max_records_of_each_object() {
    const MAX: u64 = 10;
    let emu = emulator(ORG_SIZE).await;
    let prefix = common::unique("sample");
    let request = serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": "sample-scan-1", "connection_id": "emulator",
        "confidence": "medium", "objects": null, "max_records_per_object": MAX
    });
    let url = emu.base_url.clone();
    let p = prefix.clone();
    let (ok, printed, stderr) =
        tokio::task::spawn_blocking(move || run_command(&request, &url, &p))
            .await
            .unwrap();
    assert!(ok, "sfprivacy run failed: {stderr}");
    let result = printed.last().expect("something printed");
    assert_eq!(result["type"], "scan.result", "{result}");
    assert_eq!(result["status"], "completed", "{result}");
    let objects = result["objects"].as_array().unwrap();
    assert!(objects.len() > 20, "every queryable object is scanned");

    let client = emulator_client(&emu.base_url, &prefix).await;
    let (mut total, mut larger) = (0, 0);
    for o in objects {
        let name = o["object"].as_str().unwrap();
        let scanned = o["records_scanned"].as_u64().unwrap();
        let n = rows(&client, name).await;
        assert!(scanned <= MAX, "{name}: {scanned} records scanned of {n}");
        // A sample is the first MAX rows: every row of a small object, never none of a big one.
        assert_eq!(scanned, n.min(MAX), "{name}: {scanned} scanned of {n} rows");
        if n > MAX {
            larger += 1;
        }
        total += scanned;
    }
    // The sample really cut something: several objects hold more rows than it reads.
    assert!(larger >= 3, "only {larger} objects above {MAX} rows");
    assert_eq!(result["records_scanned"].as_u64().unwrap(), total);
    // The sample still finds what it samples: the contacts' emails.
    let email = objects
        .iter()
        .find(|o| o["object"] == "Contact")
        .and_then(|o| o["fields"].as_array())
        .and_then(|fs| fs.iter().find(|f| f["field"] == "Email"))
        .unwrap_or_else(|| panic!("no Contact.Email: {result}"));
    assert_eq!(email["data_types"][0]["data_type"], "email", "{email}");

    common::delete_redis_keys(&format!("{prefix}:*")).await;
    emu.shutdown.cancel();
}

/// Coordinates a scan with `opts` and runs its parts one by one in process; the last part's
/// report, and the number of parts.
async fn scan_in_process(
    client: &sfprivacy::salesforce::SalesforceClient,
    store: &sfprivacy::store::Store,
    scan_id: &str,
    opts: &sfprivacy::classify::scan::ScanOptions,
) -> (sfprivacy::message::ScanResult, usize) {
    use sfprivacy::classify::scan;
    let req: sfprivacy::message::ScanRequest = serde_json::from_value(serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": scan_id, "connection_id": "emulator",
        "confidence": "medium", "objects": null, "max_records_per_object": null
    }))
    .unwrap();
    let parts = scan::coordinate_with(client, store, &req, None, opts)
        .await
        .unwrap();
    let mut report = None;
    for (i, part) in parts.iter().enumerate() {
        let out = scan::run_part(client, store, part).await.unwrap();
        assert_eq!(
            out.report.is_some(),
            i + 1 == parts.len(),
            "only the last part completes the scan"
        );
        report = out.report.or(report);
    }
    (
        report.expect("the last part assembles the report"),
        parts.len(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_sliced_by_id_ranges_counts_what_one_part_per_object_counts() {
    use sfprivacy::classify::scan::ScanOptions;
    const SLICE: u64 = 100;
    let emu = emulator(ORG_SIZE).await;
    let prefix = common::unique("slices");
    let client = emulator_client(&emu.base_url, &prefix).await;
    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &prefix)
        .await
        .unwrap();

    let (whole, whole_parts) =
        scan_in_process(&client, &store, "whole", &ScanOptions::default()).await;
    let (sliced, sliced_parts) = scan_in_process(
        &client,
        &store,
        "sliced",
        &ScanOptions {
            slice_records: SLICE,
        },
    )
    .await;
    assert_eq!(whole.status, sfprivacy::message::ResultStatus::Completed);
    assert_eq!(sliced.status, sfprivacy::message::ResultStatus::Completed);
    assert_eq!(whole_parts, whole.objects.len(), "one part per object");

    // Each object over SLICE rows became ceil(rows / SLICE) parts (the last range is open, and
    // an exact multiple of SLICE plans no empty part after it).
    let mut expected_parts = 0;
    let mut big = 0;
    for o in &whole.objects {
        let n = rows(&client, &o.object).await;
        assert_eq!(o.records_scanned, n, "{}: every row read", o.object);
        expected_parts += if n > SLICE {
            big += 1;
            n.div_ceil(SLICE) as usize
        } else {
            1
        };
    }
    assert!(
        big >= 2,
        "only {big} objects above {SLICE} rows: nothing sliced"
    );
    assert_eq!(sliced_parts, expected_parts);

    // The ranges cover each object exactly once: same counts, same report.
    let state = sfprivacy::store::scan_state::ScanState::new(store.clone());
    let (a, b) = (
        state.totals("whole").await.unwrap(),
        state.totals("sliced").await.unwrap(),
    );
    assert_eq!(a.records, b.records);
    assert!(!a.counts.is_empty());
    let differing: Vec<(&String, Option<&u64>, Option<&u64>)> = a
        .counts
        .keys()
        .chain(b.counts.keys())
        .filter(|k| a.counts.get(*k) != b.counts.get(*k))
        .map(|k| (k, a.counts.get(k), b.counts.get(k)))
        .collect();
    assert!(
        differing.is_empty(),
        "per-field counts differ: {differing:?}"
    );
    assert_eq!(
        serde_json::to_value(&whole.objects).unwrap(),
        serde_json::to_value(&sliced.objects).unwrap(),
        "same report"
    );
    assert_eq!(whole.records_scanned, sliced.records_scanned);

    common::delete_redis_keys(&format!("{prefix}:*")).await;
    emu.shutdown.cancel();
}

/// Progress counts every requested object, one the org lacks included (settled at planning:
/// it is reported with its error, nothing to scan), with one `objects_total` from the
/// `planned` message to the last, whose `objects_done` reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_every_requested_object_to_the_end() {
    let emu = emulator(ORG_SIZE).await;
    let prefix = common::unique("progress");
    let request = serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": "progress-scan-1", "connection_id": "emulator",
        "confidence": "medium", "objects": ["Contact", "Lead", "Nope__c"],
        "max_records_per_object": null
    });
    let url = emu.base_url.clone();
    let p = prefix.clone();
    let (_, printed, stderr) = tokio::task::spawn_blocking(move || run_command(&request, &url, &p))
        .await
        .unwrap();
    let result = printed.last().expect("something printed");
    assert_eq!(result["status"], "partial", "{result}\n{stderr}");
    let progress: Vec<(&str, u64, u64)> = printed
        .iter()
        .filter(|m| m["type"] == "progress")
        .map(|m| {
            (
                m["phase"].as_str().unwrap_or_default(),
                m["objects_done"].as_u64().unwrap_or(0),
                m["objects_total"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(progress.first(), Some(&("planned", 1, 3)), "{progress:?}");
    assert!(progress.iter().all(|p| p.2 == 3), "{progress:?}");
    assert_eq!(progress.last().map(|p| p.1), Some(3), "{progress:?}");
    common::delete_redis_keys(&format!("{prefix}:*")).await;
    emu.shutdown.cancel();
}
