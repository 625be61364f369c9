//! Scoring a classification against ground truth: field-level precision, recall and F1 per
//! data type and overall (micro-averaged).
//!
//! Both sides become [`Labels`] (object → field → data types). A (field, type) pair is a true
//! positive when both sides have it, a false positive when only the report has it, a false
//! negative when only the truth has it. Ground truth comes from the emulator's admin API
//! (`GET /__emulator/ground-truth`, `{"objects":{"Contact":{"Email":["email"]}}}`).

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// object → field → data type names.
pub type Labels = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unrecognised {0} document: expected {1}")]
    Shape(&'static str, &'static str),
    #[error("fetching ground truth: {0}")]
    Http(String),
    #[error("{0}")]
    NoReport(String),
    #[error("not a scan.result or classify output: {0}")]
    NotAReport(&'static str),
    #[error(
        "{} different scans' results ({}): score one at a time",
        .0.len(),
        .0.join(", ")
    )]
    SeveralScans(Vec<String>),
}

/// The report to score from a file holding one JSON value or several one after another (what
/// `sfprivacy run --request` prints for a scan: `progress` messages, then the `scan.result`,
/// each pretty-printed). One value is the report itself (a scan result or `classify` output);
/// from several, the `scan.result`: none, or results of different scans, is an error (the same
/// scan's result given again counts once, the last kept).
pub fn report_from_stream(bytes: &[u8]) -> Result<serde_json::Value, ScoreError> {
    let values = serde_json::Deserializer::from_slice(bytes)
        .into_iter::<serde_json::Value>()
        .collect::<Result<Vec<_>, _>>()?;
    let kind = |v: &serde_json::Value| v.get("type").and_then(|t| t.as_str()).map(str::to_string);
    if let [only] = values.as_slice()
        && kind(only).is_none_or(|k| k == "scan.result")
    {
        return Ok(only.clone());
    }
    let mut scans: Vec<String> = Vec::new();
    let mut last = None;
    for v in &values {
        if kind(v).as_deref() == Some("scan.result") {
            let id = v
                .get("scan_id")
                .and_then(|i| i.as_str())
                .unwrap_or("(no scan_id)")
                .to_string();
            if !scans.contains(&id) {
                scans.push(id);
            }
            last = Some(v);
        }
    }
    match (last, scans.len()) {
        (Some(v), 1) => Ok(v.clone()),
        (Some(_), _) => Err(ScoreError::SeveralScans(
            scans
                .iter()
                .map(|s| crate::message::redact_value(s).into_owned())
                .collect(),
        )),
        (None, _) if values.is_empty() => Err(ScoreError::NoReport("no JSON value in it".into())),
        (None, _) => {
            let mut types: Vec<String> = Vec::new();
            for t in values
                .iter()
                .map(|v| kind(v).unwrap_or_else(|| "(no type)".into()))
            {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            Err(ScoreError::NoReport(format!(
                "no scan.result among the {} JSON values read ({})",
                values.len(),
                types
                    .iter()
                    .map(|t| crate::message::redact_value(t).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

/// Ground truth from a running emulator's admin API.
pub async fn fetch_truth(emulator_url: &str) -> Result<Labels, ScoreError> {
    let url = format!(
        "{}/__emulator/ground-truth",
        emulator_url.trim_end_matches('/')
    );
    let resp = reqwest::get(&url)
        .await
        .map_err(|e| ScoreError::Http(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(ScoreError::Http(format!("{url}: HTTP {}", resp.status())));
    }
    let v: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| ScoreError::Http(e.to_string()))?;
    truth_from_json(&v)
}

/// Counts and rates for one data type (or overall). A rate with nothing to divide by is
/// `None` (`null`): precision of a type never reported, recall of a type the truth lacks;
/// not 1.0, which read as perfect.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// 2·tp / (2·tp + fp + fn): defined whenever the type appears on either side.
    pub f1: Option<f64>,
}

impl Counts {
    fn finish(&mut self) {
        let (tp, fp, fn_) = (self.tp as f64, self.fp as f64, self.fn_ as f64);
        let ratio = |num: f64, den: f64| (den > 0.0).then(|| num / den);
        self.precision = ratio(tp, tp + fp);
        self.recall = ratio(tp, tp + fn_);
        self.f1 = ratio(2.0 * tp, 2.0 * tp + fp + fn_);
    }

    fn has_undefined(&self) -> bool {
        self.precision.is_none() || self.recall.is_none() || self.f1.is_none()
    }
}

/// Said in the output when a rate is `null`.
pub const UNDEFINED_NOTE: &str = "null: undefined, nothing to divide by (precision of a type never reported, tp + fp = 0; recall of a type the truth lacks, tp + fn = 0)";

/// One field where the report and the truth disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub object: String,
    pub field: String,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub overall: Counts,
    pub per_type: BTreeMap<String, Counts>,
    pub mismatches: Vec<Mismatch>,
    /// [`UNDEFINED_NOTE`] when some rate is `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

/// Ground truth: `{"objects":{"Obj":{"Field":["type",…]}}}`.
pub fn truth_from_json(v: &serde_json::Value) -> Result<Labels, ScoreError> {
    let objects = v
        .get("objects")
        .and_then(|o| o.as_object())
        .ok_or(ScoreError::Shape("truth", "{\"objects\":{…}}"))?;
    let mut labels = Labels::new();
    for (object, fields) in objects {
        let fields = fields
            .as_object()
            .ok_or(ScoreError::Shape("truth", "object → field → [types]"))?;
        let entry = labels.entry(object.clone()).or_default();
        for (field, types) in fields {
            let types = types
                .as_array()
                .ok_or(ScoreError::Shape("truth", "a list of type names per field"))?;
            let set: BTreeSet<String> = types
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect();
            if !set.is_empty() {
                entry.insert(field.clone(), set);
            }
        }
    }
    Ok(labels)
}

/// Which report a JSON value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// A scan result: `objects: [{object, fields}]`.
    Scan,
    /// `classify` output: `fields: [...]`, one object's worth.
    File,
}

/// The kind of report `v` is, or why it is neither (so `{}` is not taken for a file report
/// and met with a request for `--object`).
pub fn report_kind(v: &serde_json::Value) -> Result<ReportKind, ScoreError> {
    use serde_json::Value;
    let Value::Object(map) = v else {
        return Err(ScoreError::NotAReport(match v {
            Value::Array(_) => "a JSON array",
            _ => "not a JSON object",
        }));
    };
    if map.get("objects").is_some_and(Value::is_array) {
        Ok(ReportKind::Scan)
    } else if map.get("fields").is_some_and(Value::is_array) {
        Ok(ReportKind::File)
    } else {
        Err(ScoreError::NotAReport(
            "a JSON object with neither an `objects` nor a `fields` list",
        ))
    }
}

/// The truth for a file report scored as `object`: that object's fields only (the others
/// would all count as misses).
pub fn truth_of(truth: &Labels, object: &str) -> Labels {
    truth
        .get(object)
        .map(|fields| Labels::from([(object.to_string(), fields.clone())]))
        .unwrap_or_default()
}

/// A report: a scan result (`objects: [{object, fields: [...]}]`) or a file report
/// (`fields: [...]`, scored as `file_object`).
pub fn report_from_json(v: &serde_json::Value, file_object: &str) -> Result<Labels, ScoreError> {
    let mut labels = Labels::new();
    let mut add_fields = |object: &str, fields: &serde_json::Value| -> Result<(), ScoreError> {
        let fields = fields
            .as_array()
            .ok_or(ScoreError::Shape("report", "fields: [{field, data_types}]"))?;
        let entry = labels.entry(object.to_string()).or_default();
        for f in fields {
            let name = f
                .get("field")
                .and_then(|x| x.as_str())
                .ok_or(ScoreError::Shape("report", "each field has a name"))?;
            let set: BTreeSet<String> = f
                .get("data_types")
                .and_then(|d| d.as_array())
                .map(|d| {
                    d.iter()
                        .filter_map(|x| {
                            x.get("data_type")
                                .and_then(|t| t.as_str())
                                .map(str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !set.is_empty() {
                entry.insert(name.to_string(), set);
            }
        }
        Ok(())
    };
    let kind = report_kind(v)?;
    if let (ReportKind::Scan, Some(objects)) = (kind, v.get("objects").and_then(|o| o.as_array())) {
        for o in objects {
            let name = o
                .get("object")
                .and_then(|x| x.as_str())
                .ok_or(ScoreError::Shape("report", "objects: [{object, fields}]"))?;
            add_fields(name, o.get("fields").unwrap_or(&serde_json::Value::Null))?;
        }
    } else if let Some(fields) = v.get("fields") {
        add_fields(file_object, fields)?;
    }
    Ok(labels)
}

/// Field-level scores of `report` against `truth`. With `only_reported_objects`, objects the
/// report does not cover are left out (a scan limited to some objects).
pub fn score(report: &Labels, truth: &Labels, only_reported_objects: bool) -> Score {
    let empty = BTreeSet::new();
    let mut per_type: BTreeMap<String, Counts> = BTreeMap::new();
    let mut overall = Counts::default();
    let mut mismatches = Vec::new();
    let mut keys: BTreeSet<(&String, &String)> = BTreeSet::new();
    for (o, fields) in report {
        keys.extend(fields.keys().map(|f| (o, f)));
    }
    for (o, fields) in truth {
        if only_reported_objects && !report.contains_key(o) {
            continue;
        }
        keys.extend(fields.keys().map(|f| (o, f)));
    }
    for (o, f) in keys {
        let got = report.get(o).and_then(|m| m.get(f)).unwrap_or(&empty);
        let want = truth.get(o).and_then(|m| m.get(f)).unwrap_or(&empty);
        for t in got.union(want) {
            let c = per_type.entry(t.clone()).or_default();
            match (got.contains(t), want.contains(t)) {
                (true, true) => {
                    c.tp += 1;
                    overall.tp += 1;
                }
                (true, false) => {
                    c.fp += 1;
                    overall.fp += 1;
                }
                _ => {
                    c.fn_ += 1;
                    overall.fn_ += 1;
                }
            }
        }
        if got != want {
            mismatches.push(Mismatch {
                object: o.clone(),
                field: f.clone(),
                missing: want.difference(got).cloned().collect(),
                extra: got.difference(want).cloned().collect(),
            });
        }
    }
    for c in per_type.values_mut() {
        c.finish();
    }
    overall.finish();
    let undefined = overall.has_undefined() || per_type.values().any(Counts::has_undefined);
    Score {
        overall,
        per_type,
        mismatches,
        note: undefined.then_some(UNDEFINED_NOTE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_tp_fp_fn_per_type() {
        let truth = truth_from_json(&json!({"objects":{"Contact":{
            "Email":["email"], "Description":["email","phone"], "Phone":["phone"]}}}))
        .unwrap();
        let report = report_from_json(
            &json!({"objects":[{"object":"Contact","records_scanned":3,"fields":[
                {"field":"Email","non_empty":3,"data_types":[{"data_type":"email"}]},
                {"field":"Description","non_empty":3,"data_types":[{"data_type":"email"},{"data_type":"url"}]},
                {"field":"Phone","non_empty":3,"data_types":[]}]}]}),
            "",
        )
        .unwrap();
        let s = score(&report, &truth, false);
        let email = &s.per_type["email"];
        assert_eq!((email.tp, email.fp, email.fn_), (2, 0, 0));
        let phone = &s.per_type["phone"];
        assert_eq!((phone.tp, phone.fn_), (0, 2));
        assert_eq!(s.per_type["url"].fp, 1);
        assert_eq!((s.overall.tp, s.overall.fp, s.overall.fn_), (2, 1, 2));
        assert!((s.overall.precision.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.overall.recall.unwrap() - 0.5).abs() < 1e-9);
        assert!((s.overall.f1.unwrap() - 4.0 / 7.0).abs() < 1e-9);
        assert_eq!(s.mismatches.len(), 2);
    }

    #[test]
    fn a_rate_with_nothing_to_divide_by_is_null_and_said_so() {
        let truth = truth_from_json(&json!({"objects":{"User":{
            "Email":["email"], "Password__c":["credential"]}}}))
        .unwrap();
        let report = report_from_json(
            &json!({"objects":[{"object":"User","fields":[
                {"field":"Email","data_types":[{"data_type":"email"}]},
                {"field":"Notes__c","data_types":[{"data_type":"phone"}]}]}]}),
            "",
        )
        .unwrap();
        let s = score(&report, &truth, false);
        // Never reported: no precision (it was 1.0), recall and F1 0.
        let credential = &s.per_type["credential"];
        assert_eq!(
            (credential.precision, credential.recall, credential.f1),
            (None, Some(0.0), Some(0.0))
        );
        // Not in the truth: no recall, precision and F1 0.
        let phone = &s.per_type["phone"];
        assert_eq!(
            (phone.precision, phone.recall, phone.f1),
            (Some(0.0), None, Some(0.0))
        );
        let out = serde_json::to_value(&s).unwrap();
        assert_eq!(out["per_type"]["credential"]["precision"], json!(null));
        assert_eq!(out["note"], UNDEFINED_NOTE);
        // Every rate defined: no note.
        let all = score(&truth, &truth, false);
        assert_eq!(all.overall.precision, Some(1.0));
        assert!(serde_json::to_value(&all).unwrap().get("note").is_none());
        // Nothing on either side: nothing defined.
        let none = score(&Labels::new(), &Labels::new(), false);
        assert_eq!((none.overall.precision, none.overall.f1), (None, None));
    }

    #[test]
    fn a_stream_of_messages_gives_its_scan_result() {
        let progress = json!({"type":"progress","version":1,"correlation_id":"s-1","phase":"scan"});
        let result = |id: &str| json!({"type":"scan.result","scan_id":id,"objects":[]});
        let pretty = |vs: &[serde_json::Value]| {
            vs.iter()
                .map(|v| serde_json::to_string_pretty(v).unwrap() + "\n")
                .collect::<String>()
        };
        let stream = pretty(&[progress.clone(), progress.clone(), result("s-1")]);
        assert_eq!(
            report_from_stream(stream.as_bytes()).unwrap(),
            result("s-1")
        );
        // One document, as before: a scan result or a file report.
        let file = json!({"records":1,"fields":[]});
        assert_eq!(
            report_from_stream(pretty(std::slice::from_ref(&file)).as_bytes()).unwrap(),
            file
        );
        // The same scan's result twice counts once.
        let twice = pretty(&[result("s-1"), progress.clone(), result("s-1")]);
        assert!(report_from_stream(twice.as_bytes()).is_ok());
        let err = report_from_stream(pretty(&[result("s-1"), result("s-2")]).as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "2 different scans' results (s-1, s-2): score one at a time"
        );
        let dsr = json!({"type":"dsr.result","request_id":"r"});
        let err = report_from_stream(pretty(&[progress.clone(), dsr.clone(), progress]).as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "no scan.result among the 3 JSON values read (progress, dsr.result)"
        );
        assert!(report_from_stream(pretty(&[dsr]).as_bytes()).is_err());
        assert!(report_from_stream(b"  ").is_err());
        assert!(report_from_stream(b"{} {").is_err());
    }

    #[test]
    fn file_reports_score_as_one_object() {
        let truth = truth_from_json(&json!({"objects":{"people":{"a":["email"]}}})).unwrap();
        let report = report_from_json(
            &json!({"records":1,"fields":[{"field":"a","data_types":[{"data_type":"email"}]}]}),
            "people",
        )
        .unwrap();
        assert_eq!(score(&report, &truth, false).overall.f1, Some(1.0));
        assert!(report_from_json(&json!({"x":1}), "").is_err());
        assert!(truth_from_json(&json!([])).is_err());
    }
}
