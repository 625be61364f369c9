//! The real `sfprivacy worker` binary at start against the local RabbitMQ: a wrong password or
//! a vhost that does not exist stops it at once with an error naming SFPRIVACY_AMQP_URL
//! (password redacted), while a broker that is merely unreachable is retried with `/readyz` at
//! 503.

mod common;

use common::process::{WorkerProcess, free_port};
use common::{AppOptions, env_for, unique};
use std::time::Duration;

/// Any connection: the worker never gets as far as Salesforce here.
const CONNECTIONS: &str = "[[connection]]\nid = \"c\"\nenvironment = \"http://127.0.0.1:9\"\nclient_id = \"c\"\nclient_secret = \"s\"\ngrant = \"client_credentials\"\n";

/// Starts the worker with `url` and expects it to stop with an error naming the setting, at
/// the first refusal rather than retrying; returns its log.
async fn stops_at_start(tag: &str, url: &str) -> String {
    let env = env_for(&unique(tag), &AppOptions::new(vec![], None));
    let mut w = WorkerProcess::spawn(&env, CONNECTIONS, &[("SFPRIVACY_AMQP_URL", url.into())]);
    let status = w.wait_exit(Duration::from_secs(30)).await;
    let log = w.log();
    assert!(
        status.is_some_and(|s| !s.success()),
        "the worker must stop with an error ({status:?}):\n{log}"
    );
    assert!(log.contains("SFPRIVACY_AMQP_URL"), "{log}");
    assert_eq!(
        log.matches("broker unavailable; retrying").count(),
        0,
        "{log}"
    );
    log
}

#[tokio::test]
async fn a_wrong_amqp_password_stops_the_worker_at_start_naming_the_setting() {
    let log = stops_at_start(
        "login",
        "amqp://guest:not-the-password-7f3a@127.0.0.1:5672/%2f",
    )
    .await;
    assert!(log.contains("ACCESS_REFUSED"), "{log}");
    assert!(log.contains("guest:***@127.0.0.1"), "{log}");
    assert!(!log.contains("not-the-password-7f3a"), "{log}");
}

#[tokio::test]
async fn a_vhost_that_does_not_exist_stops_the_worker_at_start_naming_the_setting() {
    let log = stops_at_start(
        "vhost",
        "amqp://guest:guest@127.0.0.1:5672/no-such-vhost-5b1e",
    )
    .await;
    assert!(log.contains("vhost"), "{log}");
    assert!(log.contains("NOT_ALLOWED"), "{log}");
}

#[tokio::test]
async fn an_unreachable_broker_is_retried_and_the_worker_stays_unready() {
    let env = env_for(&unique("unreach"), &AppOptions::new(vec![], None));
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", free_port());
    let w = WorkerProcess::spawn(&env, CONNECTIONS, &[("SFPRIVACY_AMQP_URL", url)]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(w.probe("/readyz").await, Some(503), "{}", w.log());
    assert_eq!(w.probe("/healthz").await, Some(200), "{}", w.log());
    let log = w.stop().await;
    assert!(log.contains("broker unavailable; retrying"), "{log}");
}
