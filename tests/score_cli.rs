//! `sfprivacy score --report FILE` on what `sfprivacy run --request` printed for a scan: the
//! progress messages and the scan.result, each pretty JSON, one after another.

mod common;

use serde_json::json;
use std::process::{Command, Output};

fn score(report: &std::path::Path, emulator_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .arg("score")
        .arg("--report")
        .arg(report)
        .args(["--emulator", emulator_url, "--only-reported-objects"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run sfprivacy score")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_reads_the_scan_result_in_what_run_printed() {
    let config = sf_emulator::EmulatorConfig {
        seed: 7,
        size: 200,
        ..Default::default()
    };
    let emu = sf_emulator::Emulator::new(config)
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let prefix = common::unique("score-run");
    let scan_id = common::unique("s-score");
    let request = json!({
        "type": "scan.request", "version": 1, "scan_id": scan_id, "connection_id": "emulator",
        "objects": ["Contact"]
    });
    let run = common::run_request(&request, &emu.base_url, &prefix);
    assert!(run.status.success(), "{run:?}");
    let printed: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&run.stdout)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // The shape this is about: several pretty-printed values, the scan.result last.
    assert!(printed.len() > 1, "{printed:#?}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("{\n  \"type\""));
    assert_eq!(printed.last().unwrap()["type"], "scan.result");
    // Its timestamps in the contract's form, as a dsr.result's (tests/run_command.rs).
    for key in ["started_at", "finished_at"] {
        let t = printed.last().unwrap()[key].as_str().unwrap().to_string();
        assert!(
            t.ends_with('Z') && t.len() == 24 && t.as_bytes()[19] == b'.',
            "{t}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run-output.json");
    std::fs::write(&path, &run.stdout).unwrap();
    let out = score(&path, &emu.base_url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scored: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(scored["overall"]["tp"].as_u64().unwrap() > 0, "{scored}");
    // Scored as Contact only: a field of another object would be a miss.
    for m in scored["mismatches"].as_array().unwrap() {
        assert_eq!(m["object"], "Contact", "{m}");
    }

    // Without its scan.result (progress only), and with a second scan's: clear errors.
    let progress_only: String = printed[..printed.len() - 1]
        .iter()
        .map(|v| serde_json::to_string_pretty(v).unwrap() + "\n")
        .collect();
    std::fs::write(&path, progress_only).unwrap();
    let out = score(&path, &emu.base_url);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no scan.result among the"), "{stderr}");
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");

    let mut other = printed.last().unwrap().clone();
    other["scan_id"] = json!("s-other");
    let mut two = run.stdout.clone();
    two.extend(serde_json::to_vec_pretty(&other).unwrap());
    std::fs::write(&path, two).unwrap();
    let out = score(&path, &emu.base_url);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("2 different scans' results ({scan_id}, s-other)")),
        "{stderr}"
    );
    emu.shutdown.cancel();

    common::delete_redis_keys(&format!("{prefix}:*")).await;
}

/// `sfprivacy score` with a ground truth file.
fn score_with_truth(report: &std::path::Path, truth: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .arg("score")
        .arg("--report")
        .arg(report)
        .arg("--truth")
        .arg(truth)
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run sfprivacy score")
}

#[test]
fn classify_output_is_scored_against_its_one_object_only() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.json");
    std::fs::write(
        &truth,
        json!({"objects":{
            "Contact":{"Email":["email"],"Phone":["phone"]},
            "Lead":{"Email":["email"],"MobilePhone":["phone"]},
            "User":{"Username":["email"]}}})
        .to_string(),
    )
    .unwrap();
    let report = dir.path().join("contacts.json");
    std::fs::write(
        &report,
        json!({"records":3,"fields":[
            {"field":"Email","non_empty":3,"data_types":[{"data_type":"email"}]},
            {"field":"Phone","non_empty":3,"data_types":[{"data_type":"phone"}]}]})
        .to_string(),
    )
    .unwrap();
    let out = score_with_truth(&report, &truth, &["--object", "Contact"]);
    assert!(out.status.success(), "{out:?}");
    let scored: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Was: Lead's and User's fields counted as misses (recall 0.4).
    assert_eq!(scored["overall"]["recall"], 1.0, "{scored}");
    assert_eq!(scored["overall"]["fn"], 0, "{scored}");
    assert_eq!(scored["mismatches"], json!([]), "{scored}");
}

#[test]
fn a_report_that_is_neither_a_scan_result_nor_classify_output_is_named_so() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.json");
    std::fs::write(
        &truth,
        json!({"objects":{"Contact":{"Email":["email"]},"Lead":{"Email":["email"]}}}).to_string(),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let progress = json!({"type":"progress","version":1,"correlation_id":"s-1","phase":"scan"});
    for (text, what) in [
        ("{}".to_string(), "a JSON object with neither"),
        (json!([progress, progress]).to_string(), "a JSON array"),
    ] {
        std::fs::write(&report, &text).unwrap();
        // Was: "give --object NAME", for a file that no --object could make scorable.
        let out = score_with_truth(&report, &truth, &[]);
        assert!(!out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not a scan.result or classify output") && stderr.contains(what),
            "{text}: {stderr}"
        );
        assert!(!stderr.contains("--object"), "{text}: {stderr}");
    }
}
