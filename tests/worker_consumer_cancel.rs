//! A consumer the broker cancels (its queue was deleted, e.g. by an operator or a policy) is not
//! the end of the worker: it opens a new session, re-declares the topology and subscribes
//! again, and requests published after that are answered.

mod common;

use common::{AppOptions, spawn_app};
use lapin::options::QueueDeleteOptions;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_cancelled_by_the_broker_is_subscribed_again() {
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        seed: 7,
        size: 50,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap();
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let app = spawn_app(AppOptions::new(vec![conn], None)).await;
    let queue = app.names.work_queue("dsr");
    assert_eq!(
        app.consumers(&queue).await,
        1,
        "the worker consumes {queue}"
    );
    let sessions = app.handle.sessions();

    // Deleting the queue makes the broker send basic.cancel to its consumer.
    app.channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .expect("queue.delete");

    let start = Instant::now();
    while !(app.handle.sessions() > sessions && app.consumers(&queue).await == 1) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the worker did not subscribe again to {queue}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    app.publish(
        "dsr",
        &common::dsr_request("copy", "r-after-cancel", "emulator", "nobody@example.com"),
    )
    .await;
    let got = app
        .next(&app.reply_queue, Duration::from_secs(60))
        .await
        .expect("a result after re-subscribing")
        .json();
    assert_eq!(
        (&got["request_id"], &got["status"]),
        (
            &serde_json::json!("r-after-cancel"),
            &serde_json::json!("completed")
        ),
        "{got:#}"
    );
    app.cleanup().await;
    emu.shutdown.cancel();
}
