//! Benchmark runner: copy requests per second through the real `sfprivacy worker` binary with
//! 1, 2 and 4 replicas (processes) on real RabbitMQ and Redis, against the emulator with
//! Salesforce latency injected; and Salesforce API calls per copy request with warm caches,
//! read from the emulator's counters.
//!
//! `cargo bench --bench worker_throughput` (release; needs RabbitMQ and Redis on this machine).
//! Knobs: `BENCH_REQUESTS` (per run, default 200), `BENCH_LATENCY_MS` (default 50). Bounded:
//! every run waits at most 5 minutes for its results. Prints the Markdown that BENCHMARKS.md
//! carries.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/sf_harness/mod.rs"]
mod sf_harness;

use common::process::WorkerProcess;
use common::{AppOptions, TestApp, broker_rig, dsr_request};
use serde_json::{Value, json};
use sf_harness::Harness;
use std::time::Duration;

const CONN: &str = "emulator";
const RESULTS_LIMIT: Duration = Duration::from_secs(300);

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// One configuration of the worker fleet.
struct Fleet {
    replicas: usize,
    concurrency: u16,
    org_cap: u32,
}

struct Run {
    requests: usize,
    seconds: f64,
    /// Mean of `finished_at - started_at` over the results (time a job spends in the worker).
    mean_job_ms: f64,
    calls_per_request: f64,
    endpoints: Vec<(String, u64)>,
    load_before: String,
    load_after: String,
}

/// Subjects with one Contact each (searchable at once); returns their emails.
async fn subjects(h: &Harness, tag: &str, n: usize) -> Vec<String> {
    let emails: Vec<String> = (0..n)
        .map(|i| format!("bench.{tag}.{i}@example.com"))
        .collect();
    for chunk in emails.chunks(200) {
        let records = chunk
            .iter()
            .map(|e| json!({"LastName": "Bench", "FirstName": "Pat", "Email": e}))
            .collect();
        h.insert("Contact", records, true).await;
    }
    emails
}

async fn publish_all(rig: &TestApp, tag: &str, emails: &[String]) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, e) in emails.iter().enumerate() {
        let id = format!("bench-{tag}-{i}");
        rig.publish("dsr", &dsr_request("copy", &id, CONN, e)).await;
        ids.push(id);
    }
    ids
}

async fn results(rig: &TestApp, ids: &[String]) -> Vec<Value> {
    let got = rig.terminal_results(ids, RESULTS_LIMIT).await;
    let missing = ids.iter().filter(|i| !got.contains_key(*i)).count();
    assert_eq!(missing, 0, "{missing} requests got no result in time");
    let all: Vec<Value> = got.into_values().map(|mut v| v.remove(0)).collect();
    let failed = all.iter().filter(|v| v["status"] != "completed").count();
    assert_eq!(failed, 0, "some copies did not complete");
    all
}

fn mean_job_ms(results: &[Value]) -> f64 {
    let ms: Vec<f64> = results
        .iter()
        .filter_map(|v| {
            let s = chrono::DateTime::parse_from_rfc3339(v["started_at"].as_str()?).ok()?;
            let f = chrono::DateTime::parse_from_rfc3339(v["finished_at"].as_str()?).ok()?;
            Some((f - s).num_milliseconds() as f64)
        })
        .collect();
    ms.iter().sum::<f64>() / ms.len().max(1) as f64
}

async fn run(h: &Harness, fleet: &Fleet, requests: usize, tag: &str) -> Run {
    let mut opts = AppOptions::new(vec![], None);
    opts.concurrency = fleet.concurrency;
    opts.extra_env
        .push(("ORG_MAX_CONCURRENT", fleet.org_cap.to_string()));
    let rig = broker_rig(&opts).await;
    let conns = sfprivacy::demo::emulator_connection_toml(h.base_url());
    let mut workers: Vec<WorkerProcess> = (0..fleet.replicas)
        .map(|_| WorkerProcess::spawn(&rig.env, &conns, &[("RUST_LOG", "warn".into())]))
        .collect();
    for w in &mut workers {
        w.wait_ready(Duration::from_secs(60)).await;
    }
    // Warm every replica's token and describe caches: enough requests that each prefetches some.
    let warm = subjects(
        h,
        &format!("{tag}-warm"),
        fleet.replicas * fleet.concurrency as usize * 2,
    )
    .await;
    let warm_ids = publish_all(&rig, &format!("{tag}-warm"), &warm).await;
    results(&rig, &warm_ids).await;

    let emails = subjects(h, tag, requests).await;
    h.admin(
        reqwest::Method::POST,
        "/__emulator/counters/reset",
        json!({}),
    )
    .await;
    let load_before = loadavg();
    let start = chrono::Utc::now();
    let ids = publish_all(&rig, tag, &emails).await;
    let got = results(&rig, &ids).await;
    // Until the last job finished (the reader waits a little longer to catch duplicates).
    let last = got
        .iter()
        .filter_map(|v| chrono::DateTime::parse_from_rfc3339(v["finished_at"].as_str()?).ok())
        .max()
        .expect("finished_at");
    let seconds = (last.with_timezone(&chrono::Utc) - start).num_milliseconds() as f64 / 1000.0;
    let load_after = loadavg();
    let counters = h.counters().await;
    for w in workers {
        w.stop().await;
    }
    rig.cleanup().await;
    let mut endpoints: Vec<(String, u64)> = counters["endpoints"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    endpoints.sort_by_key(|e| std::cmp::Reverse(e.1));
    Run {
        requests,
        seconds,
        mean_job_ms: mean_job_ms(&got),
        calls_per_request: counters["total"].as_u64().unwrap_or(0) as f64 / requests as f64,
        endpoints,
        load_before,
        load_after,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let requests = env_num("BENCH_REQUESTS", 200) as usize;
    let latency_ms = env_num("BENCH_LATENCY_MS", 50);
    let h = Harness::start_with(sf_emulator::EmulatorConfig {
        seed: 7,
        size: 1000,
        ..Default::default()
    })
    .await;
    h.emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms,
        ..Default::default()
    });
    let fleets = [
        // One request at a time: the floor set by Salesforce latency alone.
        Fleet {
            replicas: 1,
            concurrency: 1,
            org_cap: 25,
        },
        Fleet {
            replicas: 1,
            concurrency: 8,
            org_cap: 25,
        },
        Fleet {
            replicas: 2,
            concurrency: 8,
            org_cap: 25,
        },
        Fleet {
            replicas: 4,
            concurrency: 8,
            org_cap: 25,
        },
        // The same four replicas without the per-org cap: what the cap costs.
        Fleet {
            replicas: 4,
            concurrency: 8,
            org_cap: 1000,
        },
    ];
    println!(
        "Copy requests through `sfprivacy worker` (release), {latency_ms} ms injected latency per Salesforce call, {requests} requests per run (one Contact per subject).\n"
    );
    println!(
        "| replicas | concurrency (prefetch) each | per-org cap | requests/s | per replica | mean job ms | API calls / request | load avg before → after |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut breakdown = None;
    for (i, f) in fleets.iter().enumerate() {
        let n = if f.concurrency == 1 {
            requests.min(40)
        } else {
            requests
        };
        let r = run(&h, f, n, &format!("{i}-{}", uuid::Uuid::new_v4().simple())).await;
        let rps = r.requests as f64 / r.seconds;
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {} → {} |",
            f.replicas,
            f.concurrency,
            f.org_cap,
            rps,
            rps / f.replicas as f64,
            r.mean_job_ms,
            r.calls_per_request,
            r.load_before,
            r.load_after
        );
        if breakdown.is_none() {
            breakdown = Some(r.endpoints);
        }
    }
    println!("\nAPI calls per copy request by endpoint (warm caches, first run):\n");
    println!("| endpoint | calls per request |");
    println!("|---|---:|");
    let n = requests.min(40) as f64;
    for (endpoint, calls) in breakdown.unwrap_or_default() {
        println!("| `{endpoint}` | {:.2} |", calls as f64 / n);
    }
    h.cleanup().await;
}
