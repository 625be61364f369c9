//! `sfprivacy run --request FILE`: the exit status says whether the request completed, so an
//! operator's script cannot read a `failed` or `partial` result as done.

mod common;

use serde_json::json;
use std::process::Output;

fn status_of(out: &Output) -> String {
    let last = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .filter_map(Result::ok)
        .last()
        .unwrap_or_else(|| panic!("no result: {}", String::from_utf8_lossy(&out.stderr)));
    assert_timestamps(&last);
    last["status"].as_str().unwrap_or_default().to_string()
}

/// A result's `started_at` and `finished_at` in the contract's one form (README): RFC 3339,
/// UTC with `Z`, milliseconds.
fn assert_timestamps(result: &serde_json::Value) {
    for key in ["started_at", "finished_at"] {
        let t = result[key].as_str().unwrap_or_default();
        let ok = t.len() == "2026-12-04T16:43:07.286Z".len()
            && t.ends_with('Z')
            && t.as_bytes()[19] == b'.'
            && chrono::DateTime::parse_from_rfc3339(t).is_ok();
        assert!(ok, "{key} {t:?} in {result}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_status_is_zero_only_for_a_completed_result() {
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig::default())
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let prefix = common::unique("run-exit");
    let copy = |id: &str, objects: serde_json::Value| {
        json!({
            "type": "dsr.request", "version": 1, "request_id": id, "connection_id": "emulator",
            "action": "copy", "subject": {"emails": ["nobody.run@example.com"]},
            "options": {"objects": objects}
        })
    };
    let out = common::run_request(
        &copy(&common::unique("r-ok"), json!(["Contact"])),
        &emu.base_url,
        &prefix,
    );
    assert_eq!(status_of(&out), "completed");
    assert!(out.status.success(), "{out:?}");

    // Salesforce refuses the object: a terminal `failed` result, and exit 1.
    let out = common::run_request(
        &copy(&common::unique("r-failed"), json!(["No_Such_Object__c"])),
        &emu.base_url,
        &prefix,
    );
    assert_eq!(status_of(&out), "failed", "{out:?}");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    emu.shutdown.cancel();

    common::delete_redis_keys(&format!("{prefix}:*")).await;
}

/// `run` is used at a terminal: plain-text logs by default, JSON when asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_json_only_when_asked_for() {
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig::default())
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let prefix = common::unique("run-logs");
    let copy = |id: &str| {
        json!({
            "type": "dsr.request", "version": 1, "request_id": id, "connection_id": "emulator",
            "action": "copy", "subject": {"emails": ["nobody.logs@example.com"]}
        })
    };
    let lines = |out: &Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let plain = common::run_request_with(
        &copy(&common::unique("r-plain")),
        &emu.base_url,
        &prefix,
        &[("RUST_LOG", "info")],
    );
    let plain = lines(&plain);
    assert!(!plain.is_empty(), "info logs expected");
    assert!(
        plain
            .iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_err()),
        "{plain:#?}"
    );
    let json = common::run_request_with(
        &copy(&common::unique("r-json")),
        &emu.base_url,
        &prefix,
        &[("RUST_LOG", "info"), ("SFPRIVACY_LOG_FORMAT", "json")],
    );
    let json = lines(&json);
    assert!(!json.is_empty(), "info logs expected");
    for l in &json {
        assert!(serde_json::from_str::<serde_json::Value>(l).is_ok(), "{l}");
    }
}
