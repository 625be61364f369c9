//! Offline classification of a file: CSV with a header row, or JSON Lines (one object per
//! line), told apart by content. Each column is classified with the same engine as a scan and
//! the result has the same shape as an object report, so exports can be checked and benchmarks
//! compared. A JSON Lines value that is an object or array is read into dotted columns.
//! What would misread the data is refused, naming the line and never a value: a CSV row with
//! more values than the header has columns, a CSV quote never closed, a CSV header name blank
//! or given twice, a JSON key given twice (or two keys flattening to one column), a field name
//! that is an email address (a headerless file).

use super::detect::Detector;
use super::profile::FieldProfile;
use super::table::{TableClassifier, cell_text};
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
        "CSV, line {line}: a quoted field starts here and is never closed (the input ends inside it)"
    )]
    UnclosedQuote { line: u64 },
    #[error("CSV, line {line}, column {column}: {problem}")]
    BadHeader {
        line: u64,
        column: usize,
        problem: String,
    },
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
    let tail = Tail::new(input);
    let kept = tail.kept.clone();
    // Flexible so a short row is read (its missing trailing values are empty); a long one is
    // refused below, naming its line, rather than cut to the header's width.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(tail);
    let headers = reader.headers()?.clone();
    let header_at = headers
        .position()
        .cloned()
        .unwrap_or_else(csv::Position::new);
    let header_line = header_at.line().max(1) + skipped;
    // A quote left open in the header row swallowed the file: say so before naming columns.
    // Only once the input is known to end there: a header with a closed multi-line name is
    // followed by records, and the bytes read so far may stop inside one of their quotes.
    let mut record = csv::StringRecord::new();
    let mut pending = false;
    if headers.iter().any(|h| h.contains(['\n', '\r'])) {
        pending = reader.read_record(&mut record)?;
        if !pending {
            kept.borrow().check_quotes(&header_at, skipped)?;
        }
    }
    for (i, h) in headers.iter().enumerate() {
        check_field_name(
            h.trim(),
            || format!("CSV, line {header_line}"),
            &format!("header {} of {}", i + 1, headers.len()),
        )?;
    }
    check_header_names(&headers, header_line)?;
    let profiles = headers.iter().map(FieldProfile::from_column).collect();
    let mut table = TableClassifier::new(Detector::default(), profiles);
    let mut last = header_at;
    while std::mem::take(&mut pending) || reader.read_record(&mut record)? {
        if let Some(at) = record.position() {
            last = at.clone();
            kept.borrow_mut().forget_before(at.byte());
        }
        if record.len() > headers.len() {
            // Its extra values may be the rest of the file in a quote left open: say that.
            let to_the_end = record.iter().next_back().is_some_and(|f| f.contains('\n'))
                && !reader.read_record(&mut csv::StringRecord::new())?;
            if to_the_end {
                kept.borrow().check_quotes(&last, skipped)?;
            }
            return Err(OfflineError::Ragged {
                line: record.position().map_or(0, |p| p.line()) + skipped,
                values: record.len(),
                columns: headers.len(),
            });
        }
        let cells: Vec<Option<&str>> = record.iter().map(Some).collect();
        table.add_record(&cells);
    }
    // An unclosed quote runs to the end of the input, so it can only be in the last record.
    kept.borrow().check_quotes(&last, skipped)?;
    Ok(FileReport {
        records: table.records(),
        fields: table.verdicts(threshold),
    })
}

/// Refuses a blank header name and a name given twice (after trimming): either would leave
/// columns that cannot be told apart. Names are not shown (a headerless file's first row is
/// data); their columns are.
fn check_header_names(headers: &csv::StringRecord, line: u64) -> Result<(), OfflineError> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim();
        let problem = if name.is_empty() {
            Some("a blank header name".to_string())
        } else {
            seen.get(name)
                .map(|first| format!("the same header name as column {first}"))
        };
        if let Some(problem) = problem {
            return Err(OfflineError::BadHeader {
                line,
                column: i + 1,
                problem,
            });
        }
        seen.insert(name, i + 1);
    }
    Ok(())
}

/// The raw bytes the CSV reader has been given since the start of the record being read, so
/// the last record can be checked for a quote left open (the csv crate reads such a field to
/// the end of the input and returns it without an error).
struct Tail<R> {
    inner: R,
    kept: std::rc::Rc<std::cell::RefCell<Kept>>,
}

#[derive(Default)]
struct Kept {
    /// Offset in the input of `bytes[0]`.
    start: u64,
    bytes: Vec<u8>,
}

impl<R> Tail<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            kept: Default::default(),
        }
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.borrow_mut().bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Kept {
    /// Drops the bytes before input offset `offset` (a record's start) once they are many:
    /// memory stays about one record plus the reader's buffer, without a copy per record.
    fn forget_before(&mut self, offset: u64) {
        let drop = usize::try_from(offset.saturating_sub(self.start))
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if drop < 64 * 1024 {
            return;
        }
        self.bytes.drain(..drop);
        self.start += drop as u64;
    }

    /// Refuses input that ends inside a quoted field opened in the record starting at `at`,
    /// naming the line the field starts on.
    fn check_quotes(&self, at: &csv::Position, skipped: u64) -> Result<(), OfflineError> {
        let from = usize::try_from(at.byte().saturating_sub(self.start))
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        let raw = &self.bytes[from..];
        match open_quote(raw) {
            Some(i) => Err(OfflineError::UnclosedQuote {
                line: at.line().max(1)
                    + raw[..i].iter().filter(|&&b| b == b'\n').count() as u64
                    + skipped,
            }),
            None => Ok(()),
        }
    }
}

/// Where the quoted field left open at the end of `raw` (a record's bytes to the end of the
/// input) starts, read as the csv crate reads: a quote opens a field only at its start, `""`
/// inside is a quote, and after the closing quote the field goes on unquoted.
fn open_quote(raw: &[u8]) -> Option<usize> {
    #[derive(Clone, Copy)]
    enum S {
        FieldStart,
        Unquoted,
        Quoted(usize),
        /// A quote inside a quoted field: its end, or the first of `""`.
        QuoteInQuoted(usize),
    }
    let mut s = S::FieldStart;
    for (i, &b) in raw.iter().enumerate() {
        s = match (s, b) {
            (S::FieldStart, b'"') => S::Quoted(i),
            (S::Quoted(open), b'"') => S::QuoteInQuoted(open),
            (S::Quoted(open), _) => S::Quoted(open),
            (S::QuoteInQuoted(open), b'"') => S::Quoted(open),
            (_, b',' | b'\n' | b'\r') => S::FieldStart,
            _ => S::Unquoted,
        };
    }
    match s {
        S::Quoted(open) => Some(open),
        _ => None,
    }
}

/// Classifies JSON Lines: a column per key (nested keys dotted), added when first met.
pub fn classify_jsonl<R: Read>(
    input: R,
    threshold: ConfidenceLevel,
) -> Result<FileReport, OfflineError> {
    classify_jsonl_from(input, threshold, 0)
}

/// The most distinct (flattened) keys a JSON Lines file may have.
const MAX_JSONL_COLUMNS: usize = 10_000;

/// [`classify_jsonl`] of input whose first `skipped` lines were already read (blank).
fn classify_jsonl_from<R: Read>(
    input: R,
    threshold: ConfidenceLevel,
    skipped: u64,
) -> Result<FileReport, OfflineError> {
    let mut table = TableClassifier::new(Detector::default(), Vec::new());
    let mut columns: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut records = 0u64;
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
        let mut flat = Flat::default();
        for (k, v) in &obj {
            flat.add(k, std::slice::from_ref(&k), v)
                .map_err(|e| e.at(number))?;
        }
        let mut cells: Vec<(usize, Vec<std::borrow::Cow<'_, str>>)> = Vec::new();
        for (name, (_, values)) in flat.columns {
            let index = match columns.get(&name) {
                Some(&index) => index,
                // Each record is passed to the table at the width of every column seen, so
                // the count is bounded: no export has this many fields, a key-per-line file
                // would make the work quadratic.
                None if columns.len() >= MAX_JSONL_COLUMNS => {
                    return Err(bad(format!(
                        "more than {MAX_JSONL_COLUMNS} distinct keys in the file (keys that are data, not field names?)"
                    )));
                }
                None => {
                    let index = table.add_column(FieldProfile::from_column(&name));
                    columns.insert(name, index);
                    index
                }
            };
            cells.push((index, values));
        }
        // An array's elements are values of one column: a record with arrays goes to the
        // table in rounds, the k-th element of each array in round k, and counts once.
        let rounds = cells.iter().map(|(_, v)| v.len()).max().unwrap_or(0).max(1);
        for round in 0..rounds {
            let mut row: Vec<Option<&str>> = vec![None; table.profiles().len()];
            for (index, values) in &cells {
                row[*index] = values.get(round).map(|v| v.as_ref());
            }
            table.add_record(&row);
        }
        records += 1;
    }
    Ok(FileReport {
        records,
        fields: table.verdicts(threshold),
    })
}

/// One JSON Lines record flattened to columns: a nested object's keys become dotted columns
/// (`a.email`), an array's scalar elements are values of the array's column (its objects'
/// keys, of dotted columns under it). Each column remembers the key path that named it.
#[derive(Default)]
struct Flat<'a> {
    columns: Vec<(String, FlatColumn<'a>)>,
    /// Position of each name in `columns`: a record with many keys stays linear.
    index: std::collections::HashMap<String, usize>,
}

/// The key path that named a column (arrays not counted), and its values in one record.
type FlatColumn<'a> = (Vec<&'a str>, Vec<std::borrow::Cow<'a, str>>);

/// Why a record cannot be flattened; the line is added by the caller.
enum FlatError {
    EmailKey,
    /// Two key paths give one dotted name (`{"a.b":1,"a":{"b":2}}`).
    SameColumn(String),
}

impl FlatError {
    fn at(self, line: u64) -> OfflineError {
        match self {
            FlatError::EmailKey => OfflineError::DataAsFieldName {
                at: format!("JSON Lines, line {line}"),
                what: "a key".into(),
            },
            FlatError::SameColumn(name) => OfflineError::Json {
                line,
                message: format!(
                    "two different keys flatten to the column `{}` (a key with a dot and a nested object)",
                    crate::message::redact_value(&name)
                ),
            },
        }
    }
}

impl<'a> Flat<'a> {
    /// The column `name` reached by `path` (keys from the top, arrays not counted).
    fn column(
        &mut self,
        name: &str,
        path: &[&'a String],
    ) -> Result<&mut Vec<std::borrow::Cow<'a, str>>, FlatError> {
        let path: Vec<&'a str> = path.iter().map(|k| k.as_str()).collect();
        let at = match self.index.get(name) {
            Some(&at) if self.columns[at].1.0 != path => {
                return Err(FlatError::SameColumn(name.to_string()));
            }
            Some(&at) => at,
            None => {
                self.columns.push((name.to_string(), (path, Vec::new())));
                self.index.insert(name.to_string(), self.columns.len() - 1);
                self.columns.len() - 1
            }
        };
        Ok(&mut self.columns[at].1.1)
    }

    fn add(
        &mut self,
        name: &str,
        path: &[&'a String],
        value: &'a serde_json::Value,
    ) -> Result<(), FlatError> {
        use serde_json::Value;
        if let Some(key) = path.last()
            && key.contains('@')
            && SubjectEmail::parse(key).is_some()
        {
            return Err(FlatError::EmailKey);
        }
        match value {
            Value::Object(obj) if !obj.is_empty() => {
                for (k, v) in obj {
                    let mut sub = path.to_vec();
                    sub.push(k);
                    self.add(&format!("{name}.{k}"), &sub, v)?;
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for v in items {
                    self.add(name, path, v)?;
                }
            }
            // Null, `{}`, `[]`: the column exists, with no value here.
            _ => {
                let values = self.column(name, path)?;
                values.extend(cell_text(value));
            }
        }
        Ok(())
    }
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
