//! Load runner for sf-emulator (loopback only; bounded in count and time).
//!
//! Starts the `sf-emulator` binary of this build as a child process, then measures:
//! 1. start-up time with `BENCH_STARTUP_SIZE` records (default 100,000): spawn → first answer;
//! 2. requests per second of a simple query (`SELECT Id FROM Account LIMIT 1`);
//! 3. requests per second of a 2,000-row page (`batchSize=2000`, first page only);
//! 4. peak RSS of the emulator while one client pages through every row of
//!    `BENCH_PAGING_OBJECT` (default Contact) in an org of `BENCH_PAGING_SIZE` records.
//!
//! Run: `cargo bench -p sf-emulator --bench load` (env: BENCH_SECONDS=10, BENCH_CONCURRENCY=8,
//! BENCH_STARTUP_SIZE, BENCH_PAGING_SIZE, BENCH_PAGING_OBJECT, BENCH_MAX_PAGES=1000).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "sfprivacy-emulator-client";
const CLIENT_SECRET: &str = "sfprivacy-emulator-secret";
const REFRESH_TOKEN: &str = "5Aep861EMULATOR.integration.refresh.token.TEST.ONLY";
const V: &str = "v62.0";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

struct Emu {
    child: Child,
    base: String,
    startup: Duration,
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(size: u64, http: &reqwest::Client) -> Emu {
    let port = free_port();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_sf-emulator"))
        .args(["--addr", &format!("127.0.0.1:{port}"), "--seed", "42"])
        .args(["--size", &size.to_string()])
        // The runner measures throughput, not limits: lift the daily allocation.
        .args(["--daily-api-requests", "1000000000"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sf-emulator");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if http
            .get(format!("{base}/services/data"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "emulator did not start in 600 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Emu {
        child,
        base,
        startup: started.elapsed(),
    }
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let body: serde_json::Value = http
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", REFRESH_TOKEN),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct LoadResult {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    rows: u64,
}

/// `concurrency` workers GET `url` until `seconds` pass or `max_requests` are sent.
async fn load(
    http: &reqwest::Client,
    url: String,
    token: &str,
    headers: &[(&'static str, &'static str)],
    concurrency: u64,
    seconds: u64,
    max_requests: u64,
) -> LoadResult {
    let sent = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let rows = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, token) = (http.clone(), url.clone(), token.to_string());
        let headers: Vec<_> = headers.to_vec();
        let (sent, errors, rows, stop) = (sent.clone(), errors.clone(), rows.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                if sent.fetch_add(1, Ordering::Relaxed) >= max_requests {
                    break;
                }
                let t = Instant::now();
                let mut req = http.get(&url).bearer_auth(&token);
                for (k, v) in &headers {
                    req = req.header(*k, *v);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let body: serde_json::Value = r.json().await.unwrap_or_default();
                        let n = body["records"].as_array().map_or(0, |a| a.len() as u64);
                        rows.fetch_add(n, Ordering::Relaxed);
                        lat.push(t.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    LoadResult {
        ok: lat.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        rows: rows.load(Ordering::Relaxed),
    }
}

fn report(name: &str, r: &LoadResult) {
    println!(
        "{name}: {:.0} req/s ({} ok, {} errors in {:.1} s; p50 {:.2} ms, p99 {:.2} ms; {} rows)",
        r.ok as f64 / r.elapsed.as_secs_f64(),
        r.ok,
        r.errors,
        r.elapsed.as_secs_f64(),
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3,
        r.rows,
    );
}

fn q(soql: &str) -> String {
    url::form_urlencoded::byte_serialize(soql.as_bytes()).collect()
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --benches` this would run minutes of
    // load, so it only runs when asked for.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load runner: skipped (run it with `cargo bench -p sf-emulator --bench load`)");
        return;
    }
    let seconds = env_u64("BENCH_SECONDS", 10);
    let concurrency = env_u64("BENCH_CONCURRENCY", 8);
    let startup_size = env_u64("BENCH_STARTUP_SIZE", 100_000);
    let paging_size = env_u64("BENCH_PAGING_SIZE", 1_000_000);
    let max_pages = env_u64("BENCH_MAX_PAGES", 1_000);
    let object = std::env::var("BENCH_PAGING_OBJECT").unwrap_or_else(|_| "Contact".into());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    println!(
        "sf-emulator load runner: {concurrency} clients, {seconds} s per scenario, loopback only"
    );

    let emu = start(startup_size, &http).await;
    let pid = emu.child.id();
    println!(
        "startup --size {startup_size}: {:.2} s to first answer; RSS {} MiB",
        emu.startup.as_secs_f64(),
        rss_kib(pid, "VmRSS:") / 1024
    );
    let token = login(&http, &emu.base).await;
    let simple = format!(
        "{}/services/data/{V}/query?q={}",
        emu.base,
        q("SELECT Id FROM Account LIMIT 1")
    );
    let r = load(&http, simple, &token, &[], concurrency, seconds, 1_000_000).await;
    report("simple query (SELECT Id FROM Account LIMIT 1)", &r);
    let page = format!(
        "{}/services/data/{V}/query?q={}",
        emu.base,
        q("SELECT Id, FirstName, LastName, Email, Phone, MailingCity FROM Contact")
    );
    let r = load(
        &http,
        page,
        &token,
        &[("Sforce-Query-Options", "batchSize=2000")],
        concurrency,
        seconds,
        100_000,
    )
    .await;
    report("2,000-row page (Contact, 6 fields)", &r);
    drop(emu);

    let emu = start(paging_size, &http).await;
    let pid = emu.child.id();
    println!(
        "startup --size {paging_size}: {:.2} s; RSS {} MiB",
        emu.startup.as_secs_f64(),
        rss_kib(pid, "VmRSS:") / 1024
    );
    let token = login(&http, &emu.base).await;
    let count: serde_json::Value = http
        .get(format!(
            "{}/services/data/{V}/query?q={}",
            emu.base,
            q(&format!("SELECT COUNT() FROM {object}"))
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    println!("{object}: {} rows", count["totalSize"]);
    let before = rss_kib(pid, "VmRSS:");
    let peak = Arc::new(AtomicU64::new(before));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid, "VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let started = Instant::now();
    let mut url = format!(
        "{}/services/data/{V}/query?q={}",
        emu.base,
        q(&format!("SELECT Id, Name, Email FROM {object}"))
    );
    let (mut rows, mut pages) = (0u64, 0u64);
    loop {
        let body: serde_json::Value = http
            .get(&url)
            .bearer_auth(&token)
            .header("Sforce-Query-Options", "batchSize=2000")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        rows += body["records"].as_array().map_or(0, |a| a.len() as u64);
        pages += 1;
        match body["nextRecordsUrl"].as_str() {
            Some(next) if body["done"] == false && pages < max_pages => {
                url = format!("{}{next}", emu.base)
            }
            _ => break,
        }
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    println!(
        "paging {object}: {rows} rows in {pages} pages, {:.1} s ({:.0} rows/s); emulator RSS before {} MiB, peak while paging {} MiB, VmHWM {} MiB",
        started.elapsed().as_secs_f64(),
        rows as f64 / started.elapsed().as_secs_f64(),
        before / 1024,
        peak.load(Ordering::Relaxed) / 1024,
        rss_kib(pid, "VmHWM:") / 1024,
    );
}
