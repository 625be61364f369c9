//! `sfprivacy classify FILE` as an operator runs it: the real binary on a CSV and a JSON Lines
//! file (or stdin) prints one JSON report of field verdicts; a file it cannot open, or cannot
//! read without misreading it, is a non-zero exit that names the file or line and no value.

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

/// `sfprivacy classify -` with `input` on stdin.
fn classify_stdin(input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .args(["classify", "-"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sfprivacy classify -");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A file named `name` holding `text`, classified; the directory lives as long as the output
/// is needed.
fn classify_text(name: &str, text: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    classify(&[path.as_os_str()])
}

/// A refusal: non-zero exit, nothing on stdout, stderr holding `expected` and none of `values`.
fn refused(out: &std::process::Output, expected: &str, values: &[&str]) {
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "no report printed: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    for v in values {
        assert!(!stderr.contains(v), "{v:?} shown in {stderr}");
    }
}

fn field_names(report: &serde_json::Value) -> Vec<String> {
    report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect()
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

#[test]
fn json_lines_named_csv_are_read_as_json_lines() {
    // The first line would have become the header: an address printed as a field name.
    let out = classify_text(
        "export.csv",
        "\n{\"contact\":\"jane@example.com\",\"n\":1}\n{\"contact\":\"x@example.io\",\"n\":2}\n",
    );
    let r = report(&out);
    assert_eq!(r["records"], 2, "{r}");
    assert_eq!(field_names(&r), ["contact", "n"]);
    assert_eq!(types(&r, "contact"), ["email"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("jane"),
        "{r}"
    );
}

#[test]
fn a_file_named_json_lines_that_is_not_is_refused() {
    let out = classify_text("export.jsonl", "Name,Email\nJane,jane@example.com\n");
    refused(
        &out,
        "is named as JSON Lines but does not start with `{`",
        &["jane"],
    );
}

#[test]
fn a_csv_without_a_header_row_is_refused_without_showing_its_first_row() {
    let out = classify_text(
        "contacts.csv",
        "Jane Doe,jane.doe@example.com,(415) 555-2671\nCarlos Garcia,carlos@example.org,+44 20 7946 0958\n",
    );
    refused(
        &out,
        "CSV, line 1: header 2 of 3 is an email address, not a field name",
        &["jane", "Jane", "555"],
    );
    let out = classify_text("keys.jsonl", "{\"id\":1}\n{\"jane@example.com\":\"x\"}\n");
    refused(
        &out,
        "JSON Lines, line 2: a key is an email address",
        &["jane"],
    );
}

#[test]
fn a_csv_row_with_more_values_than_headers_is_refused_naming_its_line() {
    // Line 3's unquoted comma would have cut "Smith" off silently.
    let out = classify_text(
        "people.csv",
        "Name,Email\nJane Doe,jane@example.com\nSmith, John,john@example.com\nAl,al@example.com\n",
    );
    refused(
        &out,
        "CSV, line 3: 3 values for 2 columns in the header row",
        &["Smith", "john"],
    );
    // Leading blank lines still count.
    let out = classify_text("people.csv", "\n\nName,Email\nA,a@example.com,extra\n");
    refused(&out, "CSV, line 4: 3 values", &["extra"]);
    // A short row is read: its missing trailing values are empty.
    let r = report(&classify_text(
        "people.csv",
        "Name,Email\nJane Doe,jane@example.com\nCarlos Garcia\n",
    ));
    assert_eq!(r["records"], 2, "{r}");
}

#[test]
fn a_json_lines_key_given_twice_is_refused_naming_the_line() {
    let out = classify_text(
        "export.jsonl",
        "{\"email\":\"a@example.com\"}\n\n{\"email\":\"jane@example.com\",\"email\":\"john@example.com\"}\n",
    );
    refused(
        &out,
        "JSON Lines, line 3: key `email` given twice",
        &["jane", "john"],
    );
}

#[test]
fn a_dash_reads_stdin_in_either_format() {
    let r = report(&classify_stdin(
        "Name,Email\nJane Doe,jane@example.com\nCarlos Garcia,carlos@example.org\n",
    ));
    assert_eq!(r["records"], 2, "{r}");
    assert_eq!(types(&r, "Email"), ["email"]);
    let r = report(&classify_stdin(
        "{\"ip\":\"10.1.2.3\"}\n{\"ip\":\"192.168.0.7\"}\n",
    ));
    assert_eq!(types(&r, "ip"), ["ip_address"]);
    let out = classify_stdin("{\"a\":1,\"a\":2}\n");
    refused(&out, "JSON Lines, line 1: key `a` given twice", &[]);
}

fn non_empty(report: &serde_json::Value, field: &str) -> u64 {
    report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == field)
        .unwrap_or_else(|| panic!("no field {field}: {report}"))["non_empty"]
        .as_u64()
        .unwrap()
}

#[test]
fn nested_json_lines_values_are_classified_as_dotted_columns() {
    // Was: `a` and `b` with non_empty 0, the emails never looked at.
    let r = report(&classify_stdin(
        "{\"a\":{\"email\":\"jane@x.com\"},\"b\":[\"bob@y.org\"]}\n",
    ));
    assert_eq!(field_names(&r), ["a.email", "b"], "{r}");
    assert_eq!(types(&r, "a.email"), ["email"]);
    assert_eq!(types(&r, "b"), ["email"]);
    // Each array element is a value of its column, the record still counts once; objects in
    // an array give dotted columns under it.
    let r = report(&classify_stdin(
        "{\"b\":[\"bob@y.org\",\"al@y.org\",null],\"c\":[{\"ip\":\"10.1.2.3\"},{\"ip\":\"192.168.0.7\"}]}\n\
         {\"b\":\"cy@y.org\",\"d\":null}\n",
    ));
    assert_eq!(r["records"], 2, "{r}");
    assert_eq!(non_empty(&r, "b"), 3, "{r}");
    assert_eq!(types(&r, "c.ip"), ["ip_address"]);
    assert_eq!(non_empty(&r, "c.ip"), 2, "{r}");
    assert_eq!(non_empty(&r, "d"), 0, "{r}");
    // A dotted key and a nested object naming one column would be mixed up: refused.
    let out = classify_stdin("{\"a.b\":\"x\",\"a\":{\"b\":\"jane@x.com\"}}\n");
    refused(
        &out,
        "JSON Lines, line 1: two different keys flatten to the column `a.b`",
        &["jane"],
    );
    // A nested key that is an email address is refused as a top-level one is.
    let out = classify_stdin("{\"a\":{\"jane@x.com\":\"1\"}}\n");
    refused(
        &out,
        "JSON Lines, line 1: a key is an email address",
        &["jane"],
    );
}

#[test]
fn a_csv_quote_never_closed_is_refused_naming_its_line() {
    // Was: records 1, the 50 rows below swallowed into one field, exit 0.
    let mut text = String::from("Name,Email\n\"Jane Doe,jane@x.com\n");
    for i in 0..50 {
        text.push_str(&format!("P{i} Smith,p{i}@example.com\n"));
    }
    refused(
        &classify_text("people.csv", &text),
        "CSV, line 2: a quoted field starts here and is never closed",
        &["jane", "Smith"],
    );
    // Lines before it count, a closed multi-line field before it on the same record too.
    let out = classify_stdin("\nName,Notes,Email\nA,\"one\ntwo \"\"q\"\"\",\"open\nB,x\n");
    refused(&out, "CSV, line 4: a quoted field", &["open"]);
    // In a row that then has too many values: the open quote is the cause, said first.
    let out = classify_stdin("Name,Email\nA,a@x.com,\"extra\nB,b@x.com\n");
    refused(&out, "CSV, line 2: a quoted field", &["a@x", "extra"]);
    // In the header row.
    let out = classify_stdin("\"Name,Email\nA,a@x.com\n");
    refused(&out, "CSV, line 1: a quoted field", &[]);
    // Closed quotes, line breaks and `""` inside, and a quote mid-field are read as before.
    let r = report(&classify_stdin(
        "Name,Notes\nJane,\"multi\nline \"\"q\"\" \"\nBob,x\"y\nAl,\"last\"\n",
    ));
    assert_eq!(r["records"], 3, "{r}");
}

#[test]
fn a_csv_header_name_blank_or_given_twice_is_refused_naming_its_column() {
    refused(
        &classify_stdin("Email,Email\njane@x.com,bob@y.org\n"),
        "CSV, line 1, column 2: the same header name as column 1",
        &["jane", "bob"],
    );
    refused(
        &classify_text("people.csv", "\nName, Name ,Email\nA,B,a@x.com\n"),
        "CSV, line 2, column 2: the same header name as column 1",
        &[],
    );
    refused(
        &classify_stdin("Name,,Email\nA,x,a@x.com\n"),
        "CSV, line 1, column 2: a blank header name",
        &[],
    );
    refused(
        &classify_stdin("Name,Email,\nA,a@x.com,\n"),
        "CSV, line 1, column 3: a blank header name",
        &[],
    );
}

/// A header with a (closed) multi-line name, followed by far more than the reader's buffer of
/// rows with quoted notes, is read whole: the open-quote check waits for the end of the input
/// instead of judging the bytes read so far.
#[test]
fn a_closed_multi_line_header_is_not_taken_for_an_unclosed_quote() {
    let mut text = String::from("\"first\nname\",note\n");
    for i in 0..2_000 {
        text.push_str(&format!("Ann{i},\"a note, with a comma, number {i}\"\n"));
    }
    for out in [classify_stdin(&text), classify_text("multi.csv", &text)] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(report(&out)["records"], 2_000);
    }
}

/// A JSON Lines file whose keys are data (a new key on every line) is refused once it has
/// more distinct keys than any export has fields, naming the line, instead of growing the work
/// with every line.
#[test]
fn json_lines_with_more_distinct_keys_than_fields_can_be_is_refused() {
    let text: String = (0..10_001).map(|i| format!("{{\"k{i}\":1}}\n")).collect();
    let out = classify_stdin(&text);
    refused(&out, "line 10001: more than 10000 distinct keys", &[]);
}
