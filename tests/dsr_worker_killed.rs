//! The real `sfprivacy worker` binary SIGKILLed in the middle of a 500-contact delete (no drain,
//! no ack): RabbitMQ requeues the request, a second worker process resumes it from the Redis
//! checkpoint, and the one terminal result lists every record once, deleted once.

mod common;
mod sf_harness;

use common::process::WorkerProcess;
use common::{AppOptions, broker_rig, is_terminal};
use serde_json::{Value, json};
use sf_emulator::EmulatorConfig;
use sf_emulator::faults::FaultSettings;
use sf_emulator::org::Located;
use sf_harness::Harness;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

const DELETES: &str = "DELETE /services/data/{version}/composite/sobjects";
const CONTACTS: usize = 500;
/// Server time of the delete call the first worker dies in.
const HOLD_MS: u64 = 2500;

fn delete_calls(h: &Harness) -> u64 {
    h.emu
        .state
        .counters
        .snapshot()
        .endpoints
        .get(DELETES)
        .copied()
        .unwrap_or(0)
}

/// Waits (bounded) until `f` holds, failing with the worker's output if it exits first.
async fn wait_for(w: &mut WorkerProcess, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        if let Some(status) = w.wait_exit(Duration::ZERO).await {
            panic!("worker exited ({status}) before {what}:\n{}", w.log());
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{what}: not within 120 s:\n{}",
            w.log()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Which of `ids` the emulator holds in its recycle bin.
fn in_recycle_bin(h: &Harness, ids: &[String]) -> BTreeSet<String> {
    let org = h.emu.state.org();
    ids.iter()
        .filter(|id| matches!(org.locate(id), Some(Located::Deleted(_))))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_delete_of_500_contacts_is_resumed_into_one_complete_result() {
    let h = Harness::start_with(EmulatorConfig {
        seed: 11,
        size: 50,
        ..Default::default()
    })
    .await;
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let email = format!("killed.{run}@example.com");
    let contacts = h
        .insert(
            "Contact",
            (0..CONTACTS)
                .map(|i| json!({"LastName": format!("K{i}"), "FirstName": "Kill", "Email": email}))
                .collect(),
            true,
        )
        .await;
    // Cases are deleted in a wave before their contacts; a Task goes with its contact.
    let cases = h
        .insert(
            "Case",
            vec![
                json!({"ContactId": contacts[0], "Subject": "a"}),
                json!({"ContactId": contacts[1], "Subject": "b"}),
            ],
            true,
        )
        .await;
    let tasks = h
        .insert(
            "Task",
            vec![json!({"WhoId": contacts[2], "Subject": "Call"})],
            true,
        )
        .await;

    let rig = broker_rig(&AppOptions::new(vec![], None)).await;
    let conns = sfprivacy::demo::emulator_connection_toml(h.base_url());
    let id = format!("r-killed-{run}");
    // Some latency on every call, so the test sees each delete call arrive.
    h.emu.state.faults.set(FaultSettings {
        latency_ms: 150,
        ..Default::default()
    });
    let mut first = WorkerProcess::spawn(&rig.env, &conns, &[]);
    first.wait_ready(Duration::from_secs(60)).await;
    rig.publish(
        "dsr",
        &common::dsr_request("delete", &id, "emulator", &email),
    )
    .await;

    // The Cases' call, then the first contact chunk's: from here on each call is held, and the
    // worker dies while the next one waits for its answer.
    wait_for(&mut first, "the first contact chunk was sent", || {
        delete_calls(&h) >= 2
    })
    .await;
    h.emu.state.faults.set(FaultSettings {
        latency_ms: HOLD_MS,
        ..Default::default()
    });
    let before_hold = delete_calls(&h);
    assert!(
        before_hold < 4,
        "every delete call was sent before the hold; the test proves nothing"
    );
    wait_for(&mut first, "a held delete call", || {
        delete_calls(&h) > before_hold
    })
    .await;
    first.kill();
    let status = first
        .wait_exit(Duration::from_secs(30))
        .await
        .expect("the worker died on SIGKILL");
    assert!(!status.success(), "killed, not exited: {status}");
    let calls_at_kill = delete_calls(&h);
    h.emu.state.faults.set(FaultSettings::default());
    // Let the held call settle (answered into a closed socket, or dropped with it) before
    // reading what the first worker left behind.
    tokio::time::sleep(Duration::from_millis(HOLD_MS + 500)).await;

    let store = sfprivacy::store::Store::connect(common::REDIS_URL, &rig.prefix)
        .await
        .unwrap();
    let checkpoints = sfprivacy::store::checkpoint::Checkpoints::new(store);
    let saved = checkpoints.outcomes(&id).await.unwrap();
    let saved_contacts: BTreeSet<String> = contacts
        .iter()
        .filter(|c| saved.contains_key(*c))
        .cloned()
        .collect();
    let gone_before = in_recycle_bin(&h, &contacts);
    assert!(
        !saved_contacts.is_empty() && gone_before.len() < CONTACTS,
        "killed mid-way: {} contacts saved, {} deleted",
        saved_contacts.len(),
        gone_before.len()
    );
    assert!(
        saved_contacts.is_subset(&gone_before),
        "a saved outcome is a delete that happened"
    );
    // A delete the held call carried out whose answer never reached the worker.
    let unsaved_deletes: BTreeSet<String> =
        gone_before.difference(&saved_contacts).cloned().collect();
    assert_eq!(
        rig.terminal_results(&[], Duration::from_millis(500))
            .await
            .len(),
        0,
        "the first worker published no result"
    );

    let second = WorkerProcess::spawn(&rig.env, &conns, &[]);
    let mut results = rig
        .terminal_results(std::slice::from_ref(&id), Duration::from_secs(120))
        .await;
    // A grace period beyond the quiet seconds above: no second terminal result.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if let Some(g) = rig.next(&rig.reply_queue, Duration::from_millis(300)).await {
            let v = g.json();
            if is_terminal(&v) {
                results.entry(id.clone()).or_default().push(v);
            }
        }
    }
    let out = second.stop().await;
    let vs = results
        .remove(&id)
        .unwrap_or_else(|| panic!("no terminal result:\n{out}"));
    assert!(
        results.is_empty(),
        "results of other requests: {results:#?}"
    );
    assert_eq!(vs.len(), 1, "one terminal result: {vs:#?}");
    let v = &vs[0];
    assert_eq!(v["status"], "completed", "{v:#}");
    assert_eq!(v["verification"]["resumed"], true, "{v:#}");

    // Every record once: the 500 contacts and both cases deleted, the task with its contact.
    let records = v["records"].as_array().unwrap();
    let mut by_id: HashMap<&str, &Value> = HashMap::new();
    for r in records {
        let rid = r["id"].as_str().unwrap();
        assert!(by_id.insert(rid, r).is_none(), "{rid} listed twice");
    }
    assert_eq!(records.len(), CONTACTS + cases.len() + tasks.len(), "{v:#}");
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in records {
        *outcomes.entry(r["outcome"].as_str().unwrap()).or_default() += 1;
    }
    assert_eq!(
        outcomes,
        BTreeMap::from([("deleted", CONTACTS + cases.len()), ("cascade_deleted", 1)]),
        "no already_deleted: each record was deleted by this request, once"
    );
    for c in contacts.iter().chain(&cases) {
        let r = by_id
            .get(c.as_str())
            .unwrap_or_else(|| panic!("{c} missing"));
        assert_eq!(r["outcome"], "deleted", "{r}");
        assert!(r["error_code"].is_null(), "{r}");
        // Deleted by the first worker without its answer: said so, still `deleted`.
        let expected_reason = unsaved_deletes.contains(c);
        let reason = r["reason"].as_str().unwrap_or_default();
        assert_eq!(reason.contains("earlier attempt"), expected_reason, "{r}");
    }
    assert_eq!(by_id[tasks[0].as_str()]["outcome"], "cascade_deleted");

    // No live row with the email remains; every contact sits in the recycle bin.
    let client = h.replica(h.connection()).await;
    let live = client
        .query_all(&format!("SELECT Id FROM Contact WHERE Email = '{email}'"))
        .await
        .unwrap();
    assert!(live.is_empty(), "live rows left: {live:?}");
    assert_eq!(in_recycle_bin(&h, &contacts).len(), CONTACTS);
    // Only the chunk in flight at the kill was sent again: the second worker's calls are the
    // contacts without a saved outcome, 200 a call.
    let resent = (CONTACTS - saved_contacts.len()).div_ceil(200) as u64;
    assert_eq!(
        delete_calls(&h),
        calls_at_kill + resent,
        "{:#}",
        h.counters().await
    );

    // Nothing left to redeliver or dead-letter.
    let mut queues = vec![rig.names.work_queue("dsr"), rig.names.dead.clone()];
    queues.extend(rig.names.tiers.iter().map(|(t, _)| t.clone()));
    for q in &queues {
        assert_eq!(rig.depth(q).await, 0, "{q} not empty");
    }
    rig.cleanup().await;
    h.cleanup().await;
}
