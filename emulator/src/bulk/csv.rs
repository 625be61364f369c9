//! Bulk API 2.0 CSV: the job's column delimiter and line ending, Salesforce's quoting.
//!
//! Query results quote every cell, header included (`"Id","Name"`), as Salesforce writes them;
//! ingest results quote the `sf__` columns and echo the uploaded cells, quoted only where
//! needed. Uploads are read with the job's delimiter; a ragged row fails the job.

use crate::error::ApiError;

/// `columnDelimiter` values and their characters.
pub const DELIMITERS: &[(&str, u8)] = &[
    ("BACKQUOTE", b'`'),
    ("CARET", b'^'),
    ("COMMA", b','),
    ("PIPE", b'|'),
    ("SEMICOLON", b';'),
    ("TAB", b'\t'),
];

/// A job's CSV dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    pub crlf: bool,
}

impl Dialect {
    /// From a create-job body's `columnDelimiter` / `lineEnding` (defaults COMMA / LF).
    pub fn parse(delimiter: Option<&str>, line_ending: Option<&str>) -> Result<Self, ApiError> {
        let delimiter = match delimiter {
            None => b',',
            Some(d) => DELIMITERS
                .iter()
                .find(|(name, _)| *name == d)
                .map(|(_, c)| *c)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "INVALIDJOB",
                        format!("InvalidJob : Invalid column delimiter: {d}"),
                    )
                })?,
        };
        let crlf = match line_ending {
            None | Some("LF") => false,
            Some("CRLF") => true,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "INVALIDJOB",
                    format!("InvalidJob : Invalid line ending: {other}"),
                ));
            }
        };
        Ok(Self { delimiter, crlf })
    }

    pub fn delimiter_name(&self) -> &'static str {
        DELIMITERS
            .iter()
            .find(|(_, c)| *c == self.delimiter)
            .map_or("COMMA", |(n, _)| n)
    }

    pub fn line_ending_name(&self) -> &'static str {
        if self.crlf { "CRLF" } else { "LF" }
    }

    fn eol(&self) -> &'static str {
        if self.crlf { "\r\n" } else { "\n" }
    }

    /// One line with every cell quoted.
    pub fn quoted_line(&self, out: &mut String, cells: impl IntoIterator<Item = impl AsRef<str>>) {
        for (i, c) in cells.into_iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter as char);
            }
            push_quoted(out, c.as_ref());
        }
        out.push_str(self.eol());
    }

    /// One result line: `quoted` cells first (always quoted), then `raw` cells quoted only
    /// where they must be.
    pub fn result_line(&self, out: &mut String, quoted: &[&str], raw: &[String]) {
        for (i, c) in quoted.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter as char);
            }
            push_quoted(out, c);
        }
        for c in raw {
            out.push(self.delimiter as char);
            self.push_raw(out, c);
        }
        out.push_str(self.eol());
    }

    /// One line of echoed cells, quoted only where they must be.
    pub fn raw_line(&self, out: &mut String, raw: &[String]) {
        for (i, c) in raw.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter as char);
            }
            self.push_raw(out, c);
        }
        out.push_str(self.eol());
    }

    fn push_raw(&self, out: &mut String, c: &str) {
        let special = c.contains(|ch: char| {
            ch == '"' || ch == '\n' || ch == '\r' || ch == self.delimiter as char
        });
        if special {
            push_quoted(out, c);
        } else {
            out.push_str(c);
        }
    }

    /// Reads an upload: header and rows. A row whose cell count differs from the header's,
    /// or text that is not CSV, is an error message for the job's `errorMessage`.
    pub fn read(&self, body: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
        let mut rdr = ::csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(body);
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| format!("InvalidBatch : Failed to parse CSV header: {e}"))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for (n, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| format!("InvalidBatch : Failed to parse CSV: {e}"))?;
            if rec.len() != header.len() {
                return Err(format!(
                    "InvalidBatch : Wrong number of columns in row {}: expected {}, found {}",
                    n + 1,
                    header.len(),
                    rec.len()
                ));
            }
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok((header, rows))
    }
}

fn push_quoted(out: &mut String, cell: &str) {
    out.push('"');
    for ch in cell.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_query_cell_and_doubles_quotes() {
        let d = Dialect::parse(Some("PIPE"), Some("CRLF")).unwrap();
        let mut s = String::new();
        d.quoted_line(&mut s, ["Id", "Say \"hi\"", ""]);
        assert_eq!(s, "\"Id\"|\"Say \"\"hi\"\"\"|\"\"\r\n");
    }

    #[test]
    fn result_lines_echo_raw_cells() {
        let d = Dialect::parse(None, None).unwrap();
        let mut s = String::new();
        d.result_line(&mut s, &["003A", "false"], &["003A".into(), "a,b".into()]);
        assert_eq!(s, "\"003A\",\"false\",003A,\"a,b\"\n");
    }

    #[test]
    fn reads_with_the_delimiter_and_refuses_ragged_rows() {
        let d = Dialect::parse(Some("SEMICOLON"), None).unwrap();
        let (h, rows) = d.read(b"Id;Name\n001;\"x;y\"\n").unwrap();
        assert_eq!(h, vec!["Id", "Name"]);
        assert_eq!(rows, vec![vec!["001".to_string(), "x;y".to_string()]]);
        assert!(d.read(b"Id;Name\n001\n").unwrap_err().contains("columns"));
        assert!(Dialect::parse(Some("SPACE"), None).is_err());
    }
}
