//! Offline classification of a file: CSV with a header row, or JSON Lines (one object per
//! line), told apart by content. Each column is classified with the same engine as a scan and
//! the result has the same shape as an object report, so exports can be checked and benchmarks
//! compared. What would misread the data is refused, naming the line and never a value: a CSV
//! row with more values than the header has columns, a JSON key given twice, a field name that
//! is an email address (a headerless file).

use super::detect::Detector;
use super::profile::FieldProfile;
use super::table::TableClassifier;
use crate::message::{ConfidenceLevel, ContractError, FieldVerdict, SubjectEmail};
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
    Json { line: u64, message: String },
    #[error(
        "CSV, line {line}: {values} values for {columns} columns in the header row (a value with an unquoted comma?)"
    )]
    Ragged {
        line: u64,
        values: usize,
        columns: usize,
    },
    /// A field name that is data: the value is never shown.
    #[error(
        "{at}: {what} is an email address, not a field name (the file needs a header row; a JSON Lines file starts with `{{`)"
    )]
    DataAsFieldName { at: String, what: String },
    #[error(
        "{path} is named as JSON Lines but does not start with `{{`: give one JSON object per line (or a .csv name for CSV)"
    )]
    NotJsonLines { path: String },
}

/// The file's report: records read and one verdict per column.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub records: u64,
    pub fields: Vec<FieldVerdict>,
}

/// Input format, decided by content: JSON Lines when the first non-blank character is `{`,
/// CSV otherwise (a file named `.jsonl`, `.ndjson` or `.json` that is not JSON Lines is refused
/// rather than read as CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// Whether the file's name says JSON Lines.
    fn named_json_lines(path: &std::path::Path) -> bool {
        matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("jsonl" | "ndjson" | "json")
        )
    }
}

/// Reads past leading blank lines and spaces and says which format follows (`None` for an
/// input with nothing else), with the number of lines passed, so line numbers in errors
/// still count from the top of the input.
fn sniff<R: BufRead>(input: &mut R) -> std::io::Result<(Option<Format>, u64)> {
    let mut lines = 0;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok((None, lines));
        }
        let blank = buf
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        lines += buf[..blank].iter().filter(|&&b| b == b'\n').count() as u64;
        let next = buf.get(blank).copied();
        // Only whole blank lines are passed: a CSV's first line keeps its leading spaces.
        let keep = buf[..blank]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        input.consume(keep);
        if let Some(b) = next {
            let format = if b == b'{' {
                Format::JsonLines
            } else {
                Format::Csv
            };
            return Ok((Some(format), lines));
        }
        if keep == 0 {
            // Spaces with no newline at the end of the buffer: pass them too.
            input.consume(blank);
        }
    }
}

/// Refuses a field name that is an email address: a headerless CSV's first row, or data used
/// as JSON keys, would otherwise be printed as field names.
fn check_field_name(
    name: &str,
    at: impl FnOnce() -> String,
    what: &str,
) -> Result<(), OfflineError> {
    if name.contains('@') && SubjectEmail::parse(name).is_some() {
        return Err(OfflineError::DataAsFieldName {
            at: at(),
            what: what.to_string(),
        });
    }
    Ok(())
}

/// Classifies every column of a CSV (header row first).
pub fn classify_csv<R: Read>(
    input: R,
    threshold: ConfidenceLevel,
) -> Result<FileReport, OfflineError> {
    classify_csv_from(input, threshold, 0)
}

/// [`classify_csv`] of input whose first `skipped` lines were already read (blank).
fn classify_csv_from<R: Read>(
    input: R,
    threshold: ConfidenceLevel,
    skipped: u64,
) -> Result<FileReport, OfflineError> {
    // Flexible so a short row is read (its missing trailing values are empty); a long one is
    // refused below, naming its line, rather than cut to the header's width.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers()?.clone();
    let header_line = headers.position().map_or(1, |p| p.line()) + skipped;
    for (i, h) in headers.iter().enumerate() {
        check_field_name(
            h.trim(),
            || format!("CSV, line {header_line}"),
            &format!("header {} of {}", i + 1, headers.len()),
        )?;
    }
    let profiles = headers.iter().map(FieldProfile::from_column).collect();
    let mut table = TableClassifier::new(Detector::default(), profiles);
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record)? {
        if record.len() > headers.len() {
            return Err(OfflineError::Ragged {
                line: record.position().map_or(0, |p| p.line()) + skipped,
                values: record.len(),
                columns: headers.len(),
            });
        }
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
    classify_jsonl_from(input, threshold, 0)
}

/// [`classify_jsonl`] of input whose first `skipped` lines were already read (blank).
fn classify_jsonl_from<R: Read>(
    input: R,
    threshold: ConfidenceLevel,
    skipped: u64,
) -> Result<FileReport, OfflineError> {
    let mut table = TableClassifier::new(Detector::default(), Vec::new());
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let number = i as u64 + 1 + skipped;
        let bad = |message: String| OfflineError::Json {
            line: number,
            message,
        };
        // A key given twice is refused: keeping either value would classify half the data.
        let value = crate::message::json_without_duplicate_keys(line.as_bytes()).map_err(|e| {
            bad(match e {
                ContractError::InvalidField { field, .. } => format!("key `{field}` given twice"),
                ContractError::InvalidJson(text) => text,
                other => other.to_string(),
            })
        })?;
        let serde_json::Value::Object(obj) = value else {
            return Err(bad("not a JSON object".into()));
        };
        for k in obj.keys() {
            if known.insert(k.clone()) {
                check_field_name(k, || format!("JSON Lines, line {number}"), "a key")?;
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

/// Classifies input in the format its content shows ([`Format`]); `name` is the file's path
/// (for the JSON Lines naming check), `None` for stdin.
pub fn classify_reader<R: Read>(
    input: R,
    name: Option<&std::path::Path>,
    threshold: ConfidenceLevel,
) -> Result<FileReport, OfflineError> {
    let mut input = BufReader::new(input);
    let (format, skipped) = sniff(&mut input)?;
    let named_json_lines = name.is_some_and(Format::named_json_lines);
    match format {
        None => Ok(FileReport {
            records: 0,
            fields: Vec::new(),
        }),
        Some(Format::JsonLines) => classify_jsonl_from(input, threshold, skipped),
        Some(Format::Csv) if named_json_lines => Err(OfflineError::NotJsonLines {
            path: name.map(|p| p.display().to_string()).unwrap_or_default(),
        }),
        Some(Format::Csv) => classify_csv_from(input, threshold, skipped),
    }
}

/// Classifies a file (`-`: stdin) in the format its content shows.
pub fn classify_file(
    path: &std::path::Path,
    threshold: ConfidenceLevel,
) -> Result<FileReport, OfflineError> {
    if path.as_os_str() == "-" {
        return classify_reader(std::io::stdin().lock(), None, threshold);
    }
    let file = std::fs::File::open(path).map_err(|source| OfflineError::Open {
        path: path.display().to_string(),
        source,
    })?;
    classify_reader(file, Some(path), threshold)
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
