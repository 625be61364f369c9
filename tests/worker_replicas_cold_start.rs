//! Three real `sfprivacy worker` processes start at once with an empty token cache and work
//! waiting for them: the emulator sees one token request, not three (the Redis lock shared by
//! the replicas plus each process's single flight). `tests/salesforce_tokens.rs` pins the same
//! rule for client replicas inside one process; this is the deployment as SREs run it.

mod common;
mod sf_harness;

use common::process::WorkerProcess;
use common::{AppOptions, broker_rig};
use serde_json::json;
use sf_emulator::EmulatorConfig;
use sf_harness::Harness;
use std::time::Duration;

const TOKEN_ENDPOINT: &str = "POST /services/oauth2/token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_starting_cold_make_one_token_request() {
    let h = Harness::start_with(EmulatorConfig {
        seed: 7,
        size: 50,
        ..Default::default()
    })
    .await;
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let emails: Vec<String> = (0..9)
        .map(|i| format!("cold.{i}.{run}@example.com"))
        .collect();
    let records = emails
        .iter()
        .map(|e| json!({"LastName": "Cold", "Email": e}))
        .collect();
    h.insert("Contact", records, true).await;

    let mut opts = AppOptions::new(vec![], None);
    opts.concurrency = 3;
    let rig = broker_rig(&opts).await;
    let ids: Vec<String> = (0..emails.len())
        .map(|i| format!("r-cold-{run}-{i}"))
        .collect();
    // Work is queued before any worker runs, so each starts on it with an empty cache.
    for (id, email) in ids.iter().zip(&emails) {
        rig.publish("dsr", &common::dsr_request("copy", id, "emulator", email))
            .await;
    }
    // Every token request is slow, so three cold starts overlap however the processes are
    // scheduled.
    h.emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms: 200,
        ..Default::default()
    });
    let before = h.count(TOKEN_ENDPOINT).await;
    let conns = sfprivacy::demo::emulator_connection_toml(h.base_url());
    let workers: Vec<WorkerProcess> = (0..3)
        .map(|_| WorkerProcess::spawn(&rig.env, &conns, &[]))
        .collect();

    let results = rig.terminal_results(&ids, Duration::from_secs(120)).await;
    let mut logs = String::new();
    for w in workers {
        logs.push_str(&w.stop().await);
    }
    rig.cleanup().await;

    common::assert_one_distinct_result_each(&results, &ids);
    for id in &ids {
        assert_eq!(
            results[id][0]["status"], "completed",
            "{:#}",
            results[id][0]
        );
    }
    let token_requests = h.count(TOKEN_ENDPOINT).await - before;
    assert_eq!(
        token_requests, 1,
        "token requests from three cold workers; their logs:\n{logs}"
    );
    h.cleanup().await;
}
