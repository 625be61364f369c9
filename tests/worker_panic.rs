//! A panic in any task of the worker process (a delivery task, the signal handler) must not
//! leave the process running but dead: it begins the orderly shutdown, readiness off first,
//! and the report is not clean (non-zero exit). A job's panic, which the job boundary catches
//! and turns into an `internal_error` result, does not. One test: the panic hook is global.

mod common;

use futures::FutureExt;
use sfprivacy::ops::shutdown::{Trigger, panics_caught_by_caller};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncaught_panic_in_any_task_shuts_the_worker_down_and_a_caught_one_does_not() {
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", common::process::free_port())
        .parse()
        .unwrap();
    // Bounded: without the hook nothing would ever end the run.
    let run = sfprivacy::ops::process::run(
        addr,
        Duration::from_secs(5),
        move |token| async move {
            let caught = AssertUnwindSafe(panics_caught_by_caller(async {
                if true {
                    panic!("a job's panic");
                }
            }))
            .catch_unwind()
            .await;
            assert!(caught.is_err());
            tokio::time::sleep(Duration::from_millis(100)).await;
            if token.is_cancelled() {
                return Err("a caught panic shut the worker down".to_string());
            }
            // Unsupervised, like a delivery task: its panic reaches only the hook.
            tokio::spawn(async {
                if true {
                    panic!("a delivery task's panic");
                }
            });
            token.cancelled().await;
            // Readiness went off before the token fired; the health port still answers.
            let ready = reqwest::get(format!("http://{addr}/readyz"))
                .await
                .map(|r| r.status().as_u16());
            match ready {
                Ok(503) => Ok(()),
                other => Err(format!("/readyz during shutdown: {other:?}")),
            }
        },
        || true,
    );
    let report = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("an uncaught panic did not shut the worker down")
        .unwrap();
    assert_eq!(
        report.trigger,
        Trigger::Panic("a delivery task's panic".into()),
        "{report}"
    );
    assert!(!report.is_clean(), "{report}");
    let consumer = report.tasks.iter().find(|(n, _)| n == "consumer").unwrap();
    assert_eq!(
        consumer.1,
        sfprivacy::ops::shutdown::TaskEnd::Finished,
        "{report}"
    );
}
