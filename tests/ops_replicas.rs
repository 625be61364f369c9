//! No duplicate side effects with many replicas: the same delete request delivered twice, to
//! two workers at once, deletes once and is answered with one result. The second delivery
//! finds the first's lease (`Begin::Busy`), parks in a retry tier, and on its return finds the
//! request completed and re-publishes the stored result.

mod common;

use common::{AppOptions, spawn_app};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_delete_delivered_to_two_replicas_at_once_deletes_once_with_one_result() {
    #[allow(clippy::needless_update)]
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        seed: 7,
        size: 20,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap();
    let email = format!(
        "twice.{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let ids = common::insert_records(
        &emu.base_url,
        "Contact",
        vec![serde_json::json!({"LastName": "Twice", "Email": email})],
    )
    .await;
    // Slow Salesforce: the first delivery's job is still running when the second arrives.
    emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms: 300,
        ..Default::default()
    });
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let opts = || {
        let mut o = AppOptions::new(vec![conn.clone()], None);
        // One delivery each: the two copies go to different replicas.
        o.concurrency = 1;
        o
    };
    let app = spawn_app(opts()).await;
    let peer = app.spawn_peer(opts()).await;

    let body = common::dsr_request("delete", "r-twice", "emulator", &email);
    app.publish_many("dsr", &[body.clone(), body]).await;

    let id = "r-twice".to_string();
    let results = app
        .terminal_results(std::slice::from_ref(&id), Duration::from_secs(90))
        .await;
    let counters: serde_json::Value = reqwest::get(format!("{}/__emulator/counters", emu.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let handled = app.handle.handled() + peer.handle.handled();
    let (a, b) = (app.handle.handled(), peer.handle.handled());
    peer.stop().await;

    // One result (it may be published twice, but it is the same message).
    common::assert_one_distinct_result_each(&results, std::slice::from_ref(&id));
    let r = &results[&id][0];
    assert_eq!(r["status"], "completed", "{r:#}");
    // One set of deletes: one DELETE call, for the one Contact.
    let deletes: u64 = counters["endpoints"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("DELETE "))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(deletes, 1, "{counters:#}");
    let deleted: Vec<(&str, &str)> = r["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["id"].as_str().unwrap(), x["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(deleted, [(ids[0].as_str(), "deleted")], "{r:#}");
    // Both replicas took a copy, and the second was parked (it comes back each tier while the
    // first runs): more deliveries than the two copies.
    assert!(a >= 1 && b >= 1, "each replica took a copy: {a} / {b}");
    assert!(
        handled >= 3,
        "the second copy was parked: {handled} deliveries"
    );
    assert_eq!(app.depth(&app.names.dead).await, 0);
    app.cleanup().await;
    emu.shutdown.cancel();
}
