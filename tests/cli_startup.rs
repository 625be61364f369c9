//! What operators see before any work starts: an invalid `RUST_LOG` refuses to start, like an
//! invalid `SFPRIVACY_*` setting, and `--help` reads sensibly with the variables unset.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sfprivacy() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sfprivacy"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn an_invalid_rust_log_stops_the_worker_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let connections = dir.path().join("connections.toml");
    std::fs::write(
        &connections,
        sfprivacy::demo::emulator_connection_toml("http://127.0.0.1:1"),
    )
    .unwrap();
    let port = common::process::free_port();
    let mut child = sfprivacy()
        .arg("worker")
        .env("RUST_LOG", "notalevel=[[")
        .env("SFPRIVACY_INSECURE_DEV_TOKEN_KEY", "1")
        .env("SFPRIVACY_CONNECTIONS_FILE", &connections)
        .env("SFPRIVACY_HEALTH_ADDR", format!("127.0.0.1:{port}"))
        // Its own queues, should it start anyway (it must not).
        .env("SFPRIVACY_QUEUE_PREFIX", common::unique("rustlog"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A worker that accepted the filter would run until stopped: bound the wait.
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let status =
        status.unwrap_or_else(|| panic!("the worker started with RUST_LOG invalid:\n{stderr}"));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("RUST_LOG is invalid"), "{stderr}");
    assert!(stderr.contains("notalevel=[["), "{stderr}");
}

#[test]
fn replay_help_does_not_show_an_unset_variable_as_empty() {
    let out = sfprivacy().args(["replay", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(help.contains("[env: SFPRIVACY_QUEUE_PREFIX]"), "{help}");
    assert!(!help.contains("=]"), "{help}");
}
