//! `rabbitmqctl close_all_connections` while copy requests are in flight: the worker reconnects,
//! re-declares and re-subscribes, and every request still gets exactly one distinct terminal
//! result, `completed`. (One distinct, not one copy: a result confirmed just before the close
//! whose ack was lost is re-published on redelivery with the same `message_id`, which the
//! platform de-duplicates; at-least-once delivery cannot promise fewer.) It closes every connection on the broker, so it is the only test in this binary
//! (`cargo test` runs test binaries one after another).

mod common;

use common::{AppOptions, spawn_app};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_every_broker_connection_mid_flight_loses_no_request() {
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        seed: 5,
        size: 50,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap();
    // Slow Salesforce so requests are in flight when the connections go.
    emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms: 300,
        ..Default::default()
    });
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let mut opts = AppOptions::new(vec![conn], None);
    opts.concurrency = 4;
    let mut app = spawn_app(opts).await;
    let ids: Vec<String> = (0..12).map(|i| format!("r-close-all-{i}")).collect();
    for id in &ids {
        app.publish(
            "dsr",
            &common::dsr_request("copy", id, "emulator", &format!("{id}@example.com")),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The close must hit work under way: some jobs started (Salesforce was called), none can
    // have finished yet (each takes several 300 ms calls).
    let (calls, handled) = (app.api_calls(), app.handle.handled());
    assert!(
        calls > 0 && handled < ids.len() as u64,
        "no work in flight at the close: {calls} calls, {handled} handled"
    );
    let st = std::process::Command::new("rabbitmqctl")
        .args(["-q", "close_all_connections", "test: close_all_connections"])
        .status()
        .expect("rabbitmqctl");
    assert!(st.success(), "rabbitmqctl close_all_connections: {st}");
    // The test's own connection went too.
    app.reconnect_test_side().await;

    let results = app.terminal_results(&ids, Duration::from_secs(120)).await;
    assert!(app.handle.sessions() >= 2, "the supervisor reconnected");
    common::assert_one_distinct_result_each(&results, &ids);
    for id in &ids {
        assert_eq!(
            results[id][0]["status"], "completed",
            "{:#}",
            results[id][0]
        );
    }
    assert_eq!(app.depth(&app.names.dead).await, 0);
    app.cleanup().await;
    emu.shutdown.cancel();
}
