//! `sfprivacy demo` (the real binary) against the local RabbitMQ and Redis, with its own
//! emulator and worker and, as docker-compose runs it, with `--no-worker` against a worker
//! process: it completes and a clean run logs no error on the way out (lapin's "Connection
//! error invalid channel state: Closing" when channels outlive the connection).

mod common;

use common::process::WorkerProcess;
use common::{AppOptions, env_for, unique};
use std::collections::BTreeMap;
use std::time::Duration;

async fn demo(args: &[&str], env: &BTreeMap<String, String>) -> (String, String) {
    let out = tokio::time::timeout(
        Duration::from_secs(240),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
            .arg("demo")
            .args(args)
            .env_clear()
            .envs(env)
            .env("RUST_LOG", "warn")
            .output(),
    )
    .await
    .expect("demo within 240 s")
    .expect("run sfprivacy demo");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("completed"), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains("ERROR") && !text.contains("invalid channel state"),
            "{stdout}\n{stderr}"
        );
    }
    (stdout, stderr)
}

#[tokio::test]
async fn the_demo_completes_and_exits_without_logging_an_error() {
    let env = BTreeMap::from([
        (
            "SFPRIVACY_AMQP_URL".to_string(),
            common::AMQP_URL.to_string(),
        ),
        (
            "SFPRIVACY_REDIS_URL".to_string(),
            common::REDIS_URL.to_string(),
        ),
    ]);
    demo(&["--org-size", "100"], &env).await;
}

#[tokio::test]
async fn the_demo_without_its_own_worker_exits_without_logging_an_error() {
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        size: 100,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap();
    let env = env_for(&unique("demo"), &AppOptions::new(vec![], None));
    let connections = sfprivacy::demo::emulator_connection_toml(&emu.base_url);
    let mut worker = WorkerProcess::spawn(&env, &connections, &[]);
    worker.wait_ready(Duration::from_secs(30)).await;
    let mut demo_env = env.clone();
    demo_env.retain(|k, _| !k.ends_with("LOG_FORMAT"));
    demo(&["--no-worker", "--emulator", &emu.base_url], &demo_env).await;
    worker.stop().await;
}

/// Without its own worker the demo cannot know which org the running worker reaches, so it is
/// told: `--no-worker` alone is refused before anything is sent (it used to seed and report an
/// in-process emulator while the worker changed another org).
#[test]
fn the_demo_without_its_own_worker_needs_the_emulator_that_worker_uses() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .args(["demo", "--no-worker"])
        .env_clear()
        .output()
        .expect("run sfprivacy demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--emulator"), "{stderr}");
}

/// With RabbitMQ or Redis down, the demo stops at once and says which one and how to start it
/// (a new user's most likely first failure), exiting non-zero without a panic.
#[test]
fn the_demo_names_the_service_that_is_down_and_how_to_start_it() {
    let closed = format!("127.0.0.1:{}", common::process::free_port());
    for (amqp, redis, service, hint) in [
        (
            format!("amqp://guest:guest@{closed}/%2f"),
            common::REDIS_URL.to_string(),
            "RabbitMQ is not reachable",
            "rabbitmq-server -detached",
        ),
        (
            common::AMQP_URL.to_string(),
            format!("redis://{closed}/"),
            "Redis is not reachable",
            "redis-server --daemonize yes",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
            .args(["demo", "--org-size", "10"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SFPRIVACY_AMQP_URL", &amqp)
            .env("SFPRIVACY_REDIS_URL", &redis)
            .output()
            .expect("run sfprivacy demo");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{service}: exit 0\n{text}");
        assert!(
            text.contains(service) && text.contains(hint) && text.contains("scripts/services.sh"),
            "{service}: {text}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
}
