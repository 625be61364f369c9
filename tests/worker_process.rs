//! The real `sfprivacy worker` binary, as operators run it, against real RabbitMQ and Redis and
//! an in-process emulator: SIGTERM while requests are in flight (readiness, exit code, nothing
//! lost or done twice once a second worker takes over), a log scan of a full delete at trace
//! level, replay of a dead letter with the `replay` command, a Redis crash mid-run, and
//! `/metrics` after real work (calls, usage, tokens, deferrals, a reconnect).

mod common;
mod sf_harness;

use common::process::{WorkerProcess, emulator_connection_with_grant};
use common::{AppOptions, TestApp, broker_rig};
use serde_json::{Value, json};
use sf_emulator::EmulatorConfig;
use sf_harness::Harness;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The emulator's connection as the worker's connections file names it.
const CONN: &str = "emulator";

fn dsr_request(action: &str, id: &str, email: &str) -> Vec<u8> {
    common::dsr_request(action, id, CONN, email)
}

async fn emulator() -> Harness {
    Harness::start_with(EmulatorConfig {
        seed: 7,
        size: 50,
        ..Default::default()
    })
    .await
}

fn connections(h: &Harness) -> String {
    sfprivacy::demo::emulator_connection_toml(h.base_url())
}

/// One Contact per subject (searchable at once); returns (request id, email, contact id).
async fn subjects(h: &Harness, tag: &str, n: usize) -> Vec<(String, String, String)> {
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let emails: Vec<String> = (0..n)
        .map(|i| format!("{tag}.{i}.{run}@example.com"))
        .collect();
    let records = emails
        .iter()
        .map(|e| json!({"LastName": "Subject", "FirstName": "Test", "Email": e}))
        .collect();
    let ids = h.insert("Contact", records, true).await;
    emails
        .into_iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (e, id))| (format!("r-{tag}-{run}-{i}"), e, id))
        .collect()
}

/// Polls `/readyz` until it stops answering 200 or the process exits; true if a 503 was seen.
async fn saw_unready(w: &mut WorkerProcess) -> bool {
    loop {
        match w.probe("/readyz").await {
            Some(503) => return true,
            Some(_) => {}
            None => return false,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What [`sigterm_mid_work`] saw.
struct AfterSigterm {
    h: Harness,
    /// (request id, email, contact id)
    subjects: Vec<(String, String, String)>,
    /// Terminal results of every request, once a second worker finished the rest.
    results: BTreeMap<String, Vec<Value>>,
    finished_by_first: usize,
    /// The first worker's logs.
    first_output: String,
}

/// SIGTERM with deletes in flight; `deadline_secs` is the worker's shutdown deadline.
async fn sigterm_mid_work(tag: &str, deadline_secs: u64, latency_ms: u64) -> AfterSigterm {
    let h = emulator().await;
    let subjects = subjects(&h, tag, 8).await;
    let mut opts = AppOptions::new(vec![], None);
    opts.concurrency = 3;
    opts.extra_env
        .push(("SHUTDOWN_DEADLINE_SECS", deadline_secs.to_string()));
    let rig = broker_rig(&opts).await;
    for (id, email, _) in &subjects {
        rig.publish("dsr", &dsr_request("delete", id, email)).await;
    }
    // Slow Salesforce: each delete spends seconds in flight.
    h.emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms,
        ..Default::default()
    });

    let mut first = WorkerProcess::spawn(&rig.env, &connections(&h), &[]);
    first.wait_ready(Duration::from_secs(60)).await;
    let start = Instant::now();
    while first.metric(sfprivacy::ops::metrics::JOBS_IN_FLIGHT).await < 1.0 {
        assert!(start.elapsed() < Duration::from_secs(60), "no job started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.signal("TERM");
    let signalled = Instant::now();
    assert!(
        saw_unready(&mut first).await,
        "/readyz never answered 503 after SIGTERM:\n{}",
        first.log()
    );
    // The process enforces its own bound (deadline + flush margin); the slack is only for a
    // loaded machine starting and stopping processes.
    let bound = Duration::from_secs(deadline_secs)
        + sfprivacy::ops::process::FLUSH_MARGIN
        + Duration::from_secs(20);
    let status = first.wait_exit(bound).await;
    let out = first.log();
    assert!(
        status.is_some_and(|s| s.success()),
        "exit after SIGTERM: {status:?} after {:?}:\n{out}",
        signalled.elapsed()
    );
    assert!(out.contains("shutdown by signal SIGTERM"), "{out}");

    let ids: Vec<String> = subjects.iter().map(|s| s.0.clone()).collect();
    // What the first worker finished before it exited.
    let early = rig.terminal_results(&[], Duration::from_secs(3)).await;
    let finished_by_first = early.len();
    assert!(
        finished_by_first < ids.len(),
        "SIGTERM came after all work was done; the test proves nothing"
    );

    h.emu.state.faults.set(Default::default());
    let second = WorkerProcess::spawn(&rig.env, &connections(&h), &[]);
    let rest: Vec<String> = ids
        .iter()
        .filter(|i| !early.contains_key(*i))
        .cloned()
        .collect();
    let mut results = rig.terminal_results(&rest, Duration::from_secs(180)).await;
    second.stop().await;
    for (id, vs) in early {
        results.entry(id).or_default().extend(vs);
    }
    rig.cleanup().await;
    AfterSigterm {
        h,
        subjects,
        results,
        finished_by_first,
        first_output: out,
    }
}

/// Every request has exactly one terminal result, completed, and each subject's contact was
/// deleted once: by one request, never reported as already deleted by a redone delete.
fn assert_each_deleted_once(
    subjects: &[(String, String, String)],
    results: &BTreeMap<String, Vec<Value>>,
) {
    for (id, _, contact) in subjects {
        let vs = results
            .get(id)
            .unwrap_or_else(|| panic!("{id}: no terminal result (lost)"));
        let distinct: std::collections::BTreeSet<&str> = vs
            .iter()
            .map(|v| v["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(distinct.len(), 1, "{id}: one terminal result, got {vs:#?}");
        let v = &vs[0];
        assert_eq!(v["status"], "completed", "{v:#}");
        let outcome = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == contact.as_str())
            .unwrap_or_else(|| panic!("{id}: contact {contact} not in {v:#}"));
        assert_eq!(outcome["outcome"], "deleted", "{id}: {outcome}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_work_finishes_in_flight_jobs_and_exits_0_and_a_second_worker_does_the_rest() {
    // A deadline far above a job's length: every job in flight at SIGTERM finishes.
    let r = sigterm_mid_work("term", 60, 200).await;
    assert!(
        r.finished_by_first >= 1,
        "the jobs in flight at SIGTERM finished before the exit"
    );
    assert!(
        !r.first_output.contains("shutdown deadline passed"),
        "{}",
        r.first_output
    );
    assert_each_deleted_once(&r.subjects, &r.results);
    for vs in r.results.values() {
        assert_eq!(vs.len(), 1, "published once: {vs:#?}");
    }
    // One collection delete per request: no delete was sent twice.
    let counters = r.h.counters().await;
    assert_eq!(
        counters["endpoints"]["DELETE /services/data/{version}/composite/sobjects"],
        json!(r.subjects.len()),
        "{counters:#}"
    );
    r.h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_short_deadline_leaves_unfinished_jobs_for_redelivery_and_exits_0() {
    // One second is far below a job's length: the jobs in flight are abandoned unacked.
    let r = sigterm_mid_work("abandon", 1, 600).await;
    assert!(
        r.first_output.contains("shutdown deadline passed"),
        "no job was abandoned: {}",
        r.first_output
    );
    assert_each_deleted_once(&r.subjects, &r.results);
    r.h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_delete_logged_at_trace_shows_no_email_and_no_secret() {
    use base64::Engine;
    let h = emulator().await;
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    // Reserved SOSL characters and mixed case: every rendering of it must stay out of the logs.
    let email = format!("Log.Scan+{run}-x@Example.com");
    let contact = h
        .insert(
            "Contact",
            vec![json!({"LastName": "Scan", "FirstName": "Log", "Email": email.to_lowercase()})],
            true,
        )
        .await;
    h.insert(
        "Case",
        vec![json!({"ContactId": contact[0], "Subject": "about me"})],
        true,
    )
    .await;
    let lead = h
        .insert(
            "Lead",
            vec![json!({"LastName": "Scan", "Company": "Acme", "Email": email})],
            true,
        )
        .await;
    let refresh = h.mint_refresh_token().await;
    let key_bytes = rand::random::<[u8; 32]>();
    let key = base64::engine::general_purpose::STANDARD.encode(key_bytes);

    let opts = AppOptions::new(vec![], None);
    let rig = broker_rig(&opts).await;
    let id = format!("r-logscan-{run}");
    rig.publish("dsr", &dsr_request("delete", &id, &email))
        .await;
    let conns = emulator_connection_with_grant(
        h.base_url(),
        &format!("grant = \"refresh_token\"\nrefresh_token = \"{refresh}\""),
    );
    let w = WorkerProcess::spawn(
        &rig.env,
        &conns,
        &[
            ("RUST_LOG", "trace".into()),
            ("SFPRIVACY_TOKEN_KEY", key.clone()),
            ("SFPRIVACY_INSECURE_DEV_TOKEN_KEY", "0".into()),
        ],
    );
    let results = rig
        .terminal_results(std::slice::from_ref(&id), Duration::from_secs(120))
        .await;
    let out = w.stop().await;
    rig.cleanup().await;

    let v = &results.get(&id).expect("terminal result")[0];
    assert_eq!(v["status"], "completed", "{v:#}");
    let deleted: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "deleted" || r["outcome"] == "cascade_deleted")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        deleted.contains(&contact[0].as_str()) && deleted.contains(&lead[0].as_str()),
        "{v:#}"
    );

    // The logs are JSON lines, at trace level (the most the filter can let through).
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    for l in &lines {
        assert!(
            serde_json::from_str::<Value>(l).is_ok(),
            "not a JSON log line: {l}"
        );
    }
    assert!(
        out.contains("\"level\":\"TRACE\""),
        "trace level was not on"
    );
    // One span per job: the job's lines and the delivery's own (publish, ack) carry the
    // request and connection ids.
    let parsed: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let of_job = |what: &str| {
        parsed
            .iter()
            .find(|l| l["message"] == what)
            .unwrap_or_else(|| panic!("no '{what}' line"))
            .clone()
    };
    for what in ["delivery done", "dsr finished"] {
        let line = of_job(what);
        assert_eq!(
            (&line["span"]["request_id"], &line["span"]["connection_id"]),
            (&json!(id), &json!("emulator")),
            "{line}"
        );
    }

    let lower = out.to_lowercase();
    let needles = [
        email.to_lowercase(),
        url::form_urlencoded::byte_serialize(email.as_bytes())
            .collect::<String>()
            .to_lowercase(),
        // The local part alone, as a tokenised search would show it.
        format!("log.scan+{run}-x"),
    ];
    for n in &needles {
        assert!(
            !lower.contains(n),
            "the subject's email ({n}) is in the logs"
        );
    }
    let tokens = h.emu.state.oauth.access_tokens();
    assert!(!tokens.is_empty(), "the worker logged in");
    for t in &tokens {
        assert!(!out.contains(t.as_str()), "an access token is in the logs");
        // The opaque part alone (after the org id), in case the token was split.
        let opaque = t.split('!').nth(1).unwrap();
        assert!(!out.contains(opaque), "an access token is in the logs");
    }
    assert!(!out.contains(&refresh), "the refresh token is in the logs");
    assert!(!out.contains(&key), "the token key is in the logs");
    assert!(
        !out.contains(sf_emulator::oauth::DEFAULT_CLIENT_SECRET),
        "the client secret is in the logs"
    );
    // The subject shows as its digest keyed by the token key, not as a plain SHA-256 anyone
    // could compute from a guessed address.
    let normalised = sfprivacy::message::SubjectEmail::parse(&email).unwrap();
    let hashed = sfprivacy::subject_digest::digest_for(&key_bytes, normalised.as_str());
    assert!(
        out.contains(&hashed),
        "the keyed digest ({hashed}) identifies the subject"
    );
    let plain = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(normalised.as_str()));
    assert!(
        !out.contains(&plain[..16]),
        "the unkeyed SHA-256 is in the logs"
    );
    h.cleanup().await;
}

/// `sfprivacy replay ARGS` (the real binary) on the test's queues; returns its JSON summary.
async fn replay_cli(rig: &TestApp, args: &[&str]) -> Value {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .arg("replay")
        .args(args)
        .env_clear()
        .env("SFPRIVACY_AMQP_URL", common::AMQP_URL)
        .env("SFPRIVACY_QUEUE_PREFIX", &rig.settings.queue_prefix)
        .output()
        .await
        .expect("run sfprivacy replay");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "replay failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("summary ({e}): {stdout}"))
}

async fn set_run_as_user(h: &Harness, username: &str) {
    h.admin(
        reqwest::Method::PATCH,
        &format!(
            "/__emulator/oauth/apps/{}",
            sf_emulator::oauth::DEFAULT_CLIENT_ID
        ),
        json!({ "client_credentials_user": username }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lettered_request_replayed_with_the_cli_completes_and_a_second_replay_redoes_nothing()
 {
    let h = emulator().await;
    let subject = subjects(&h, "replay", 1).await.remove(0);
    let (id, email, contact) = &subject;
    // The connected app runs as an inactive user: the credential is dead until an operator
    // fixes the app, so the worker dead-letters the request.
    set_run_as_user(&h, sf_emulator::oauth::INACTIVE_USERNAME).await;
    let opts = AppOptions::new(vec![], None);
    let rig = broker_rig(&opts).await;
    let conns = emulator_connection_with_grant(h.base_url(), "grant = \"client_credentials\"");
    let mut w = WorkerProcess::spawn(&rig.env, &conns, &[]);
    w.wait_ready(Duration::from_secs(60)).await;
    rig.publish("dsr", &dsr_request("delete", id, email)).await;

    let parked = rig
        .next(&rig.reply_queue, Duration::from_secs(60))
        .await
        .expect("dead_lettered result")
        .json();
    assert_eq!(parked["status"], "dead_lettered", "{parked:#}");
    assert_eq!(parked["error"]["code"], "invalid_grant", "{parked:#}");
    let start = Instant::now();
    while rig.depth(&rig.names.dead).await < 1 {
        assert!(start.elapsed() < Duration::from_secs(20), "no dead letter");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The operator fixes the app and replays, keeping a copy of the dead letter.
    set_run_as_user(&h, sf_emulator::oauth::INTEGRATION_USERNAME).await;
    let summary = replay_cli(&rig, &["--request-id", id, "--mode", "copy"]).await;
    assert_eq!(summary["replayed"], 1, "{summary:#}");
    let done = rig
        .next(&rig.reply_queue, Duration::from_secs(60))
        .await
        .expect("terminal result after the replay")
        .json();
    assert_eq!(done["status"], "completed", "{done:#}");
    assert!(
        done["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == contact.as_str() && r["outcome"] == "deleted"),
        "{done:#}"
    );

    // Replaying it again (the copy left in the dead-letter queue) answers from the stored
    // result: the same message, and not one Salesforce call.
    h.admin(
        reqwest::Method::POST,
        "/__emulator/counters/reset",
        json!({}),
    )
    .await;
    let summary = replay_cli(&rig, &["--request-id", id]).await;
    assert_eq!(summary["replayed"], 1, "{summary:#}");
    let again = rig
        .next(&rig.reply_queue, Duration::from_secs(60))
        .await
        .expect("re-published result")
        .json();
    assert_eq!(again, done, "the stored result, unchanged");
    assert_eq!(h.counters().await["total"], 0, "no Salesforce call");
    assert_eq!(rig.depth(&rig.names.dead).await, 0);
    w.probe("/healthz").await.expect("worker still up");
    // The worker that took them counts both replays (the `replay` command serves no /metrics);
    // its first, unreplayed delivery is not one.
    assert_eq!(w.metric(sfprivacy::ops::metrics::REPLAYED).await, 2.0);
    w.stop().await;
    rig.cleanup().await;
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_survives_a_redis_crash_and_restart() {
    let h = emulator().await;
    let mut redis = common::process::RedisServer::start().await;
    let subjects = subjects(&h, "redis", 8).await;
    let (before, rest) = subjects.split_at(3);
    let (during, after) = rest.split_at(2);
    let mut opts = AppOptions::new(vec![], None);
    opts.concurrency = 2;
    opts.extra_env.push(("REDIS_URL", redis.url()));
    let rig = broker_rig(&opts).await;
    h.emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms: 100,
        ..Default::default()
    });
    let mut w = WorkerProcess::spawn(&rig.env, &connections(&h), &[]);
    w.wait_ready(Duration::from_secs(60)).await;
    for (id, email, _) in before {
        rig.publish("dsr", &dsr_request("copy", id, email)).await;
    }
    let start = Instant::now();
    while w.metric(sfprivacy::ops::metrics::JOBS_IN_FLIGHT).await < 1.0 {
        assert!(start.elapsed() < Duration::from_secs(60), "no job started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Redis dies with jobs in flight (tokens, leases and job state gone with it), requests
    // arrive while it is down, and it comes back empty.
    redis.kill().await;
    for (id, email, _) in during {
        rig.publish("dsr", &dsr_request("copy", id, email)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.restart().await;
    for (id, email, _) in after {
        rig.publish("dsr", &dsr_request("copy", id, email)).await;
    }

    let ids: Vec<String> = subjects.iter().map(|s| s.0.clone()).collect();
    let results = rig.terminal_results(&ids, Duration::from_secs(180)).await;
    assert_eq!(
        w.probe("/readyz").await,
        Some(200),
        "still ready:\n{}",
        w.log()
    );
    let out = w.stop().await;
    for (id, _, contact) in &subjects {
        let vs = results
            .get(id)
            .unwrap_or_else(|| panic!("{id}: no terminal result:\n{out}"));
        let distinct: std::collections::BTreeSet<&str> = vs
            .iter()
            .map(|v| v["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(distinct.len(), 1, "{id}: {vs:#?}");
        let v = &vs[0];
        assert_eq!(v["status"], "completed", "{v:#}");
        let exported: Vec<&str> = v["export"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(exported, [contact.as_str()], "{v:#}");
    }
    assert_eq!(rig.depth(&rig.names.dead).await, 0, "nothing dead-lettered");
    rig.cleanup().await;
    h.cleanup().await;
}

/// `/metrics` of a real worker after a scan: the records it read are counted (the Grafana
/// dashboard's scan-rate panel reads this counter), and the request is counted as planned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_counts_the_records_it_read_in_metrics() {
    let h = emulator().await;
    let opts = AppOptions::new(vec![], None);
    let rig = broker_rig(&opts).await;
    let scan_id = format!(
        "s-metrics-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let body = serde_json::to_vec(&json!({
        "type": "scan.request", "version": 1, "scan_id": scan_id, "connection_id": CONN,
        "objects": ["Contact", "Lead"]
    }))
    .unwrap();
    rig.publish("scan", &body).await;
    let conns = emulator_connection_with_grant(h.base_url(), "grant = \"client_credentials\"");
    let w = WorkerProcess::spawn(&rig.env, &conns, &[]);
    let got = rig
        .collect_until(&rig.reply_queue, Duration::from_secs(120), |g| {
            g.iter().any(|m| m.json()["type"] == "scan.result")
        })
        .await;
    let result = got
        .iter()
        .map(|m| m.json())
        .find(|v| v["type"] == "scan.result")
        .expect("a scan result");
    assert_eq!(result["status"], "completed", "{result:#}");
    let scanned = result["records_scanned"].as_f64().unwrap();
    assert!(scanned > 0.0, "{result:#}");
    let counted = w
        .metric(sfprivacy::ops::metrics::SCAN_RECORDS_SCANNED)
        .await;
    let parts = w.metric(sfprivacy::ops::metrics::SCAN_PARTS_DONE).await;
    w.stop().await;
    rig.cleanup().await;
    h.cleanup().await;
    assert_eq!(
        counted, scanned,
        "records read = the result's records_scanned"
    );
    assert!(parts >= 2.0, "one part per object at least: {parts}");
}

/// A labelled series from `/metrics`: the first whose labels include every `k="v"` of
/// `labels` (0 when absent).
async fn metric_with(w: &WorkerProcess, name: &str, labels: &[(&str, &str)]) -> f64 {
    let Ok(resp) = reqwest::get(format!("http://{}/metrics", w.health)).await else {
        return 0.0;
    };
    let text = resp.text().await.unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix('{'))
        .filter_map(|rest| rest.split_once("} "))
        .filter(|(set, _)| {
            labels
                .iter()
                .all(|(k, v)| set.split(',').any(|kv| kv == format!("{k}=\"{v}\"")))
        })
        .filter_map(|(_, v)| v.trim().parse().ok())
        .next()
        .unwrap_or(0.0)
}

/// Polls until `f` says the value is there, failing with the worker's log otherwise.
async fn until_metric(w: &WorkerProcess, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} never showed on /metrics:\n{}",
            w.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Closes the worker process's own AMQP connection on the broker side (as an operator or a
/// network failure would); other tests' connections are untouched.
fn close_amqp_connection_of(w: &WorkerProcess) {
    // The binary names its connection `sfprivacy-worker-{pid}`.
    common::close_broker_connections_named(&format!("\"sfprivacy-worker-{}\"", w.id()));
}

/// `/metrics` of a real worker, every figure produced by the code that counts it: Salesforce
/// calls by status (a 503 injected once), the org's API usage ratio from `Sforce-Limit-Info`,
/// the token refresh, a request deferred by the budget, and a broker reconnect after the
/// worker's own connection was closed on the broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_worker_reports_calls_usage_tokens_deferrals_and_reconnects_in_metrics() {
    use sfprivacy::ops::metrics as m;
    let h = emulator().await;
    // 850 of 1,000 daily calls used (above the 80% share), and one SOQL call answers 503.
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/limits",
        json!({"daily_api_requests": 1000, "used": 850}),
    )
    .await;
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/faults",
        json!({"fail_next": [{"endpoint": "query", "kind": "SERVER_UNAVAILABLE", "count": 1}]}),
    )
    .await;
    let rig = broker_rig(&AppOptions::new(vec![], None)).await;
    let subjects = subjects(&h, "metrics", 2).await;
    let (first, second) = (&subjects[0], &subjects[1]);
    rig.publish("dsr", &dsr_request("copy", &first.0, &first.1))
        .await;
    let conns = emulator_connection_with_grant(h.base_url(), "grant = \"client_credentials\"");
    // The usage figure stays authoritative for the whole test: the second request stays deferred.
    let mut w = WorkerProcess::spawn(
        &rig.env,
        &conns,
        &[("SFPRIVACY_API_USAGE_TTL_SECS", "600".into())],
    );
    w.wait_ready(Duration::from_secs(60)).await;
    let results = rig
        .terminal_results(std::slice::from_ref(&first.0), Duration::from_secs(60))
        .await;
    let r = &results
        .get(&first.0)
        .unwrap_or_else(|| panic!("no result:\n{}", w.log()))[0];
    assert_eq!(r["status"], "completed", "{r:#}");

    rig.publish("dsr", &dsr_request("copy", &second.0, &second.1))
        .await;
    let deferred = [("connection", CONN), ("reason", "api_budget")];
    until_metric(&w, "a budget deferral", async || {
        metric_with(&w, m::REQUESTS_DEFERRED, &deferred).await >= 1.0
    })
    .await;

    close_amqp_connection_of(&w);
    until_metric(&w, "a broker reconnect", async || {
        w.metric(m::BROKER_RECONNECTS).await >= 1.0
    })
    .await;
    w.wait_ready(Duration::from_secs(60)).await;

    let ok = metric_with(
        &w,
        m::SALESFORCE_CALLS,
        &[("connection", CONN), ("status", "200")],
    )
    .await;
    let unavailable = metric_with(
        &w,
        m::SALESFORCE_CALLS,
        &[("connection", CONN), ("status", "503")],
    )
    .await;
    let ratio = metric_with(&w, m::API_USAGE_RATIO, &[("connection", CONN)]).await;
    let tokens = metric_with(
        &w,
        m::TOKEN_REFRESHES,
        &[("connection", CONN), ("outcome", "ok")],
    )
    .await;
    let log = w.stop().await;
    rig.cleanup().await;
    h.cleanup().await;
    assert!(ok >= 1.0, "successful calls counted: {ok}\n{log}");
    assert_eq!(unavailable, 1.0, "the one 503 counted");
    assert!(
        (0.85..1.0).contains(&ratio),
        "usage ratio from Sforce-Limit-Info: {ratio}"
    );
    assert_eq!(tokens, 1.0, "one token fetched (client credentials)");
}
