//! The real binary with its stderr closed (`sfprivacy worker 2>&1 | head -3 >/dev/null`): log
//! lines that cannot be written are dropped, never a panic that kills the task that logged.
//! The worker keeps working and still stops on SIGTERM; `run --request` still prints its
//! result and deletes its private Redis scope, also when interrupted with Ctrl-C.

mod common;
mod sf_harness;

use common::process::WorkerProcess;
use common::{AppOptions, broker_rig};
use std::process::Stdio;
use std::time::Duration;

async fn emulator() -> sf_emulator::server::RunningEmulator {
    sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        seed: 11,
        size: 40,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap()
}

fn scan_request(scan_id: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": scan_id, "connection_id": "emulator",
        "confidence": "medium", "objects": ["Contact"], "max_records_per_object": 20
    })
}

/// `sfprivacy run --request` on `request` with the test's Redis prefix, stderr piped (and
/// closed at once when `close_stderr`), `RUST_LOG=info` so that it does log.
fn spawn_run(
    request: &serde_json::Value,
    emulator_url: &str,
    prefix: &str,
    close_stderr: bool,
) -> (tokio::process::Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.json");
    std::fs::write(&path, serde_json::to_vec(request).unwrap()).unwrap();
    let connections = dir.path().join("connections.toml");
    std::fs::write(
        &connections,
        sfprivacy::demo::emulator_connection_toml(emulator_url),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .arg("run")
        .arg("--request")
        .arg(&path)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SFPRIVACY_REDIS_URL", common::REDIS_URL)
        .env("SFPRIVACY_REDIS_PREFIX", prefix)
        .env("SFPRIVACY_INSECURE_DEV_TOKEN_KEY", "1")
        .env("SFPRIVACY_CONNECTIONS_FILE", &connections)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    if close_stderr {
        drop(child.stderr.take());
    }
    (child, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_stderr_closed_keeps_working_and_stops_on_sigterm() {
    let h = sf_harness::Harness::start_with(sf_emulator::EmulatorConfig {
        seed: 7,
        size: 20,
        ..Default::default()
    })
    .await;
    let rig = broker_rig(&AppOptions::new(vec![], None)).await;
    let mut w = WorkerProcess::spawn(
        &rig.env,
        &sfprivacy::demo::emulator_connection_toml(h.base_url()),
        &[],
    );
    w.wait_ready(Duration::from_secs(60)).await;
    w.close_stderr().await;

    // Each step of the delivery logs at info: every one of those writes now fails.
    let id = common::unique("r-closed");
    rig.publish(
        "dsr",
        &common::dsr_request("copy", &id, "emulator", "nobody.closed@example.com"),
    )
    .await;
    let results = rig
        .terminal_results(std::slice::from_ref(&id), Duration::from_secs(90))
        .await;
    assert!(
        results.contains_key(&id),
        "no result with stderr closed; stdout:\n{}",
        w.log()
    );
    assert_eq!(w.probe("/readyz").await, Some(200));
    // SIGTERM still stops it, cleanly (exit 0): the signal handler's log line did not kill it.
    w.stop().await;
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_stderr_closed_prints_its_result_and_deletes_its_scope() {
    let emu = emulator().await;
    let prefix = common::unique("run-closed");
    let (child, _dir) = spawn_run(
        &scan_request(&common::unique("s-closed")),
        &emu.base_url,
        &prefix,
        true,
    );
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("run did not end")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(101), "panicked: {stdout}");
    assert!(stdout.contains("\"scan.result\""), "{stdout}");
    assert!(out.status.success(), "{:?}: {stdout}", out.status);
    let left = common::redis_keys(&format!("{prefix}:run:*")).await;
    assert!(left.is_empty(), "private scope left behind: {left:?}");
    common::delete_redis_keys(&format!("{prefix}:*")).await;
    emu.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_on_a_running_scan_deletes_its_private_scope() {
    let emu = emulator().await;
    // Slow Salesforce: the scan is still running when the signal comes.
    emu.state.faults.set(sf_emulator::faults::FaultSettings {
        latency_ms: 400,
        ..Default::default()
    });
    let prefix = common::unique("run-int");
    let (mut child, _dir) = spawn_run(
        &scan_request(&common::unique("s-int")),
        &emu.base_url,
        &prefix,
        false,
    );
    let stderr = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut s = String::new();
        let mut stderr = stderr;
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    // Wait until the scan wrote its private scope.
    let scope = format!("{prefix}:run:*");
    let start = std::time::Instant::now();
    while common::redis_keys(&scope).await.is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "run ended before the signal"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no private scope appeared"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("run did not stop after SIGINT")
        .unwrap();
    let log = log.await.unwrap();
    assert_eq!(status.code(), Some(130), "{log}");
    let left = common::redis_keys(&scope).await;
    assert!(
        left.is_empty(),
        "private scope left behind: {left:?}\n{log}"
    );
    common::delete_redis_keys(&format!("{prefix}:*")).await;
    emu.shutdown.cancel();
}
