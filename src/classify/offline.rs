//! Offline classification of a file: CSV with a header row, or JSON Lines (one object per
//! line). Each column is classified with the same engine as a scan and the result has the
//! same shape as an object report, so exports can be checked and benchmarks compared.

use super::detect::Detector;
use super::profile::FieldProfile;
use super::table::TableClassifier;
use crate::message::{ConfidenceLevel, FieldVerdict};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("cannot open {path}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("JSON Lines, line {line}: {message}")]
    Json { line: usize, message: String },
}

/// The file's report: records read and one verdict per column.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub records: u64,
    pub fields: Vec<FieldVerdict>,
}

/// Input format, decided by extension (or content for stdin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson" | "json") => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// Classifies every column of a CSV (header row first).
pub fn classify_csv<R: Read>(
    input: R,
    threshold: ConfidenceLevel,
) -> Result<FileReport, OfflineError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers()?.clone();
    let profiles = headers.iter().map(FieldProfile::from_column).collect();
    let mut table = TableClassifier::new(Detector::default(), profiles);
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record)? {
        let cells: Vec<Option<&str>> = record.iter().map(Some).collect();
        table.add_record(&cells);
    }
    Ok(FileReport {
        records: table.records(),
        fields: table.verdicts(threshold),
    })
}

/// Classifies JSON Lines: a column per key, added when first met.
pub fn classify_jsonl<R: Read>(
    input: R,
    threshold: ConfidenceLevel,
) -> Result<FileReport, OfflineError> {
    let mut table = TableClassifier::new(Detector::default(), Vec::new());
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| OfflineError::Json {
            line: i + 1,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let serde_json::Value::Object(obj) = value else {
            return Err(bad("not a JSON object".into()));
        };
        for k in obj.keys() {
            if known.insert(k.clone()) {
                table.add_column(FieldProfile::from_column(k));
            }
        }
        table.add_json(&obj);
    }
    Ok(FileReport {
        records: table.records(),
        fields: table.verdicts(threshold),
    })
}

/// Classifies a file by its format.
pub fn classify_file(
    path: &std::path::Path,
    threshold: ConfidenceLevel,
) -> Result<FileReport, OfflineError> {
    let file = std::fs::File::open(path).map_err(|source| OfflineError::Open {
        path: path.display().to_string(),
        source,
    })?;
    match Format::from_path(path) {
        Format::Csv => classify_csv(file, threshold),
        Format::JsonLines => classify_jsonl(file, threshold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types<'a>(r: &'a FileReport, field: &str) -> Vec<&'a str> {
        r.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.data_types.iter().map(|d| d.data_type.as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn csv_columns_get_verdicts() {
        let csv = "Name,Email,Phone,Order\n\
                   JANE SMITH,jane@example.com,(415) 555-2671,00012345\n\
                   carlos garcia,carlos@example.org,+44 20 7946 0958,00012346\n\
                   Priya Sharma,priya@example.in,+91 98765 43210,00012347\n";
        let r = classify_csv(csv.as_bytes(), ConfidenceLevel::Medium).unwrap();
        assert_eq!(r.records, 3);
        assert_eq!(types(&r, "Name"), ["person_name"]);
        assert_eq!(types(&r, "Email"), ["email"]);
        assert_eq!(types(&r, "Phone"), ["phone"]);
        assert!(types(&r, "Order").is_empty());
    }

    #[test]
    fn jsonl_with_late_keys() {
        let jl = "{\"a\":\"jane@example.com\"}\n{\"a\":\"x@y.io\",\"b\":\"4111 1111 1111 1111\"}\n";
        let r = classify_jsonl(jl.as_bytes(), ConfidenceLevel::Medium).unwrap();
        assert_eq!(r.records, 2);
        assert_eq!(types(&r, "a"), ["email"]);
        assert_eq!(types(&r, "b"), ["credit_card"]);
        assert!(classify_jsonl("[1]\n".as_bytes(), ConfidenceLevel::Low).is_err());
    }
}
