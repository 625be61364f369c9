//! Benchmark runner: end-to-end classification scan rate (records/s) and the worker's peak
//! memory while it scans one large object, through real RabbitMQ and Redis, against the
//! emulator.
//!
//! `cargo bench --bench scan_rate` (needs RabbitMQ and Redis; `SCAN_RECORDS`, default
//! 1,000,000, sets the number of business Contacts; person accounts add their person Contacts,
//! 1,064,000 in all by default). The emulator runs in this process (seeded rows are
//! computed on demand); the worker is a separate `sfprivacy worker` process of the same build,
//! whose peak resident memory (`VmHWM`) and CPU time are read from `/proc` while it scans.
//! Prints the Markdown rows that BENCHMARKS.md carries.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{AppOptions, Got, spawn_app};
use std::time::{Duration, Instant};

/// Contacts are 250 of every 1,000 seeded records.
const CONTACT_SHARE: usize = 4;

/// Worker concurrency (parts in flight): the machine's two cores.
const WORKER_CONCURRENCY: u16 = 2;

/// `VmHWM` (peak resident set) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds a process has used.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    // Clock ticks are 100 per second on Linux (USER_HZ).
    Some((utime + stime) / 100.0)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) skips.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("scan_rate: run with `cargo bench --bench scan_rate`");
        return;
    }
    let records: usize = std::env::var("SCAN_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        seed: 1,
        size: records * CONTACT_SHARE,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .expect("start the emulator");
    // The seed sizes business Contacts; with person accounts on, each person account adds its
    // person Contact (1,064,000 in all for SCAN_RECORDS=1,000,000).
    let contacts = emu.state.org().generator.count("Contact");
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).expect("connection");
    let mut app = spawn_app(AppOptions::new(vec![conn], None)).await;
    app.stop_worker().await;
    let worker = app
        .spawn_worker_process(
            &sfprivacy::demo::emulator_connection_toml(&emu.base_url),
            WORKER_CONCURRENCY,
        )
        .await;
    let pid = worker.id();
    let rss_before = peak_rss_kib(pid).unwrap_or(0);
    eprintln!(
        "scan_rate: emulator and worker up in {:.1} s; worker RSS {} MiB before the scan",
        started.elapsed().as_secs_f64(),
        rss_before / 1024
    );

    let scan_id = format!("bench-scan-{}", uuid::Uuid::new_v4().simple());
    let request = serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": scan_id, "connection_id": "emulator",
        "confidence": "medium", "objects": ["Contact"], "max_records_per_object": null
    });
    let t0 = Instant::now();
    app.publish("scan", request.to_string().as_bytes()).await;
    let mut result = None;
    let mut last_note = Instant::now();
    while result.is_none() && t0.elapsed() < Duration::from_secs(3 * 3600) {
        if let Some(g) = app.next(&app.reply_queue, Duration::from_secs(1)).await {
            let v = Got::json(&g);
            if v["type"] == "scan.result" {
                result = Some(v);
            } else if v["type"] == "progress" && last_note.elapsed() > Duration::from_secs(30) {
                eprintln!(
                    "scan_rate: {:.0} s, {} records done",
                    t0.elapsed().as_secs_f64(),
                    v["records_done"]
                );
                last_note = Instant::now();
            }
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let result = result.expect("scan finished within 3 hours");
    let peak = peak_rss_kib(pid).expect("worker still running");
    let cpu = cpu_seconds(pid).unwrap_or(f64::NAN);
    let scanned = result["records_scanned"].as_u64().unwrap_or(0);
    assert_eq!(result["status"], "completed", "{result}");
    assert_eq!(scanned, contacts, "every Contact scanned");
    let fields = result["objects"][0]["fields"]
        .as_array()
        .map(|f| f.len())
        .unwrap_or(0);
    println!(
        "| records | fields read | wall seconds | records/s | worker CPU s | worker peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {scanned} | {fields} | {seconds:.1} | {:.0} | {cpu:.1} | {:.1} MiB (before the scan: {:.1} MiB) |",
        scanned as f64 / seconds,
        peak as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    println!(
        "api calls: {}, parts: slices of 50,000 Ids",
        result["api_calls"]
    );
    drop(worker);
    app.cleanup().await;
    emu.shutdown.cancel();
}
