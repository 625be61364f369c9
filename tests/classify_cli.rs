//! `sfprivacy classify FILE` as an operator runs it: the real binary on a CSV and a JSON Lines
//! file prints one JSON report of field verdicts; a file it cannot open is a non-zero exit that
//! names the file.

use std::process::Command;

fn classify(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .arg("classify")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run sfprivacy classify")
}

fn report(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "sfprivacy classify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("classify prints one JSON report")
}

/// The data types of `field`, most confident first.
fn types(report: &serde_json::Value, field: &str) -> Vec<String> {
    let f = report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == field)
        .unwrap_or_else(|| panic!("no field {field}: {report}"));
    f["data_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["data_type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_csv_file_gets_a_verdict_per_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    std::fs::write(
        &path,
        "Name,Email,Phone,Order,Card\n\
         JANE SMITH,jane@example.com,(415) 555-2671,00012345,4111 1111 1111 1111\n\
         carlos garcia,carlos@example.org,+44 20 7946 0958,00012346,5500-0000-0000-0004\n\
         Priya Sharma,priya@example.in,+91 98765 43210,00012347,\n",
    )
    .unwrap();
    let r = report(&classify(&[path.as_os_str()]));
    assert_eq!(r["records"], 3, "{r}");
    assert_eq!(r["fields"].as_array().unwrap().len(), 5, "{r}");
    assert_eq!(types(&r, "Name"), ["person_name"]);
    assert_eq!(types(&r, "Email"), ["email"]);
    assert_eq!(types(&r, "Phone"), ["phone"]);
    assert_eq!(types(&r, "Card"), ["credit_card"]);
    assert!(types(&r, "Order").is_empty(), "{r}");
    let email = &r["fields"][1]["data_types"][0];
    assert_eq!(email["hits"], 3, "{email}");
    assert!(
        ["medium", "high"].contains(&email["level"].as_str().unwrap()),
        "{email}"
    );
}

#[test]
fn a_json_lines_file_gets_a_verdict_per_key_met() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.jsonl");
    std::fs::write(
        &path,
        "{\"contact\":\"jane@example.com\",\"ip\":\"10.1.2.3\"}\n\
         \n\
         {\"contact\":\"x@example.io\",\"ip\":\"192.168.0.7\",\"iban\":\"GB82 WEST 1234 5698 7654 32\"}\n",
    )
    .unwrap();
    let r = report(&classify(&[path.as_os_str()]));
    assert_eq!(r["records"], 2, "{r}");
    assert_eq!(types(&r, "contact"), ["email"]);
    assert_eq!(types(&r, "ip"), ["ip_address"]);
    // A key first met on a later line is a column too.
    assert_eq!(types(&r, "iban"), ["iban"]);
}

#[test]
fn the_threshold_flag_filters_the_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.csv");
    // Unnamed column of names: content alone, below what `high` reports.
    let mut csv = String::from("Col1\n");
    for n in [
        "Jane Doe",
        "Carlos Garcia",
        "Priya Sharma",
        "Acme Corp",
        "Tom Lee",
    ] {
        csv.push_str(n);
        csv.push('\n');
    }
    std::fs::write(&path, csv).unwrap();
    let low = report(&classify(&[
        path.as_os_str(),
        "--confidence".as_ref(),
        "low".as_ref(),
    ]));
    let high = report(&classify(&[
        path.as_os_str(),
        "--confidence".as_ref(),
        "high".as_ref(),
    ]));
    assert_eq!(types(&low, "Col1"), ["person_name"], "{low}");
    assert!(types(&high, "Col1").is_empty(), "{high}");
}

#[test]
fn a_missing_file_exits_non_zero_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-export.csv");
    let out = classify(&[path.as_os_str()]);
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "no report printed: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&path.display().to_string()),
        "stderr names the file: {stderr}"
    );
}
