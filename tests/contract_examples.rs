//! Every JSON example in README.md's message contract is a message the contract accepts: the
//! requests parse as the worker parses them, the worker's messages deserialize into their
//! types, and no example shows a key the message's JSON Schema does not have (serde would
//! ignore it; a reader would believe it). `tests/contract/` validates the same examples with a
//! standard JSON Schema validator against `sfprivacy schema`.

use serde::de::DeserializeOwned;
use serde_json::Value;
use sfprivacy::message::{self, DsrResult, ExportChunk, Progress, Request, ScanResult};

/// The README's ```json blocks, parsed.
fn readme_examples() -> Vec<Value> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    readme
        .split("```json\n")
        .skip(1)
        .map(|rest| {
            let block = rest.split("```").next().unwrap_or_default();
            serde_json::from_str(block)
                .unwrap_or_else(|e| panic!("README example is not JSON ({e}):\n{block}"))
        })
        .collect()
}

fn deserializes<T: DeserializeOwned>(v: &Value) {
    if let Err(e) = serde_json::from_value::<T>(v.clone()) {
        panic!("{e}: {v:#}");
    }
}

/// The schema that `$ref` points at, or the schema itself.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let path = r.trim_start_matches("#/");
            let mut s = root;
            for seg in path.split('/') {
                s = &s[seg];
            }
            resolve(root, s)
        }
        None => schema,
    }
}

/// Keys of `value` (recursively through objects and arrays) that `schema` does not declare,
/// as paths. Alternatives (`anyOf`, `oneOf`) count a key declared by any of them.
fn undeclared(root: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(root, schema);
    let alternatives: Vec<&Value> = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema[*k].as_array())
        .flatten()
        .map(|s| resolve(root, s))
        .collect();
    if !alternatives.is_empty() {
        let best = alternatives
            .iter()
            .map(|alt| {
                let mut o = Vec::new();
                undeclared(root, alt, value, path, &mut o);
                o
            })
            .min_by_key(Vec::len)
            .unwrap_or_default();
        out.extend(best);
        return;
    }
    match value {
        Value::Object(map) => {
            let Some(props) = schema["properties"].as_object() else {
                // A free-form map (e.g. a record's fields): any key is declared.
                return;
            };
            for (k, v) in map {
                match props.get(k) {
                    Some(s) => undeclared(root, s, v, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}")),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                undeclared(root, &schema["items"], v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_readme_example_is_a_valid_contract_message() {
    let examples = readme_examples();
    let schemas = message::schemas();
    let mut seen = std::collections::BTreeSet::new();
    for ex in &examples {
        let kind = ex["type"]
            .as_str()
            .unwrap_or_else(|| panic!("no type: {ex}"));
        seen.insert(kind.to_string());
        match kind {
            "dsr.request" | "scan.request" => {
                if let Err(e) = Request::parse(ex.to_string().as_bytes()) {
                    panic!("{kind} example refused: {e}");
                }
            }
            "dsr.result" => deserializes::<DsrResult>(ex),
            "dsr.export_chunk" => deserializes::<ExportChunk>(ex),
            "progress" => deserializes::<Progress>(ex),
            "scan.result" => deserializes::<ScanResult>(ex),
            other => panic!("README shows a message type the contract lacks: {other}"),
        }
        // Timestamps in the one form the worker writes (`message::timestamp`).
        for key in ["started_at", "finished_at"] {
            if let Some(t) = ex.get(key) {
                let t = t.as_str().unwrap_or_default();
                let parsed = chrono::DateTime::parse_from_rfc3339(t)
                    .unwrap_or_else(|e| panic!("{kind} {key} {t:?}: {e}"));
                assert_eq!(
                    message::timestamp(parsed.to_utc()),
                    t,
                    "{kind} {key} is not written as the worker writes it"
                );
            }
        }
        let schema = &schemas[kind];
        let mut extra = Vec::new();
        undeclared(schema, schema, ex, kind, &mut extra);
        assert!(
            extra.is_empty(),
            "README's {kind} example shows keys its schema lacks: {extra:?}"
        );
    }
    // Every message a platform receives or sends is shown at least once (scan.part is
    // internal to the workers).
    for kind in [
        "dsr.request",
        "scan.request",
        "dsr.result",
        "dsr.export_chunk",
        "progress",
        "scan.result",
    ] {
        assert!(seen.contains(kind), "README has no {kind} example");
    }
}

#[test]
fn a_key_the_schema_lacks_is_found() {
    let schemas = message::schemas();
    let schema = &schemas["scan.result"];
    let ex = serde_json::json!({
        "objects": [ { "fields": [ { "field": "Email", "verdict": "email" } ] } ]
    });
    let mut extra = Vec::new();
    undeclared(schema, schema, &ex, "scan.result", &mut extra);
    assert_eq!(extra, vec!["scan.result.objects[0].fields[0].verdict"]);
}

/// `tests/contract/requests.json`: the cases the schemas and the worker must agree on, each
/// built from its base as [`build_case`] does (the Python test builds them the same way).
fn request_cases() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/contract/requests.json"
    ))
    .expect("tests/contract/requests.json");
    serde_json::from_str(&text).expect("requests.json is JSON")
}

/// A case's body: `body` as given, else its base with `set` (JSON Pointer → value) applied and
/// `remove` deleted.
fn build_case(doc: &Value, case: &Value) -> Value {
    if let Some(body) = case.get("body") {
        return body.clone();
    }
    let mut body = doc["bases"][case["base"].as_str().unwrap()].clone();
    let split = |ptr: &str| {
        let (parent, key) = ptr.rsplit_once('/').unwrap();
        (parent.to_string(), key.to_string())
    };
    for (ptr, value) in case["set"].as_object().unwrap() {
        let (parent, key) = split(ptr);
        let slot = body.pointer_mut(&parent).unwrap_or_else(|| panic!("{ptr}"));
        slot.as_object_mut().unwrap().insert(key, value.clone());
    }
    for ptr in case["remove"].as_array().into_iter().flatten() {
        let (parent, key) = split(ptr.as_str().unwrap());
        let slot = body.pointer_mut(&parent).unwrap();
        slot.as_object_mut().unwrap().remove(&key);
    }
    body
}

/// The field a refusal names, as the cases write it.
fn refused_field(e: &message::ContractError) -> Option<String> {
    match e {
        message::ContractError::InvalidField { field, .. } => Some(field.clone()),
        message::ContractError::InvalidEmail { index, .. } => {
            Some(format!("subject.emails[{index}]"))
        }
        _ => None,
    }
}

#[test]
fn the_worker_accepts_and_refuses_what_the_schema_cases_say() {
    let doc = request_cases();
    for case in doc["accepted"].as_array().unwrap() {
        let body = build_case(&doc, case);
        if let Err(e) = Request::parse(body.to_string().as_bytes()) {
            panic!("{}: refused ({e}): {body}", case["rule"]);
        }
    }
    // The rules the schema can say and those it cannot: the worker refuses both, each for the
    // reason the case names.
    let refused = doc["refused"].as_array().unwrap();
    let gaps = doc["schema_gaps"].as_array().unwrap();
    assert!(refused.len() > 100 && !gaps.is_empty());
    let mut wrong = Vec::new();
    for case in refused.iter().chain(gaps) {
        let body = build_case(&doc, case);
        match Request::parse(body.to_string().as_bytes()) {
            Ok(_) => wrong.push(format!("{}: accepted", case["rule"])),
            Err(e) => {
                let field = refused_field(&e);
                if e.code() != case["code"] || field.as_deref() != case["field"].as_str() {
                    wrong.push(format!("{}: {} {field:?}: {e}", case["rule"], e.code()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
