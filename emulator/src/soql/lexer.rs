//! SOQL tokens with their byte offsets (for Salesforce's caret-form errors).

use crate::error::{ApiError, caret_message, row_col};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    /// `2024-01-31` or `2024-01-31T10:00:00Z` (unquoted, as SOQL writes them).
    DateLit(String),
    Comma,
    Dot,
    LParen,
    RParen,
    Colon,
    Op(&'static str),
    Eof,
}

impl Tok {
    pub fn text(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Num(s) | Tok::DateLit(s) => s.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Comma => ",".into(),
            Tok::Dot => ".".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::Colon => ":".into(),
            Tok::Op(o) => (*o).into(),
            Tok::Eof => "<EOF>".into(),
        }
    }

    /// Case-insensitive keyword test.
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// A `MALFORMED_QUERY` pointing at `pos`.
pub fn malformed(query: &str, pos: usize, detail: &str) -> ApiError {
    let (row, col) = row_col(query, pos);
    ApiError::bad_request("MALFORMED_QUERY", caret_message(query, row, col, detail))
}

pub fn lex(q: &str) -> Result<Vec<Token>, ApiError> {
    let b = q.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b',' => {
                out.push(Token {
                    tok: Tok::Comma,
                    pos: i,
                });
                i += 1;
            }
            b'.' => {
                out.push(Token {
                    tok: Tok::Dot,
                    pos: i,
                });
                i += 1;
            }
            b'(' => {
                out.push(Token {
                    tok: Tok::LParen,
                    pos: i,
                });
                i += 1;
            }
            b')' => {
                out.push(Token {
                    tok: Tok::RParen,
                    pos: i,
                });
                i += 1;
            }
            b':' => {
                out.push(Token {
                    tok: Tok::Colon,
                    pos: i,
                });
                i += 1;
            }
            b'=' => {
                out.push(Token {
                    tok: Tok::Op("="),
                    pos: i,
                });
                i += 1;
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                out.push(Token {
                    tok: Tok::Op("!="),
                    pos: i,
                });
                i += 2;
            }
            b'<' => {
                let (op, n) = match b.get(i + 1) {
                    Some(b'=') => ("<=", 2),
                    Some(b'>') => ("!=", 2),
                    _ => ("<", 1),
                };
                out.push(Token {
                    tok: Tok::Op(op),
                    pos: i,
                });
                i += n;
            }
            b'>' => {
                let (op, n) = if b.get(i + 1) == Some(&b'=') {
                    (">=", 2)
                } else {
                    (">", 1)
                };
                out.push(Token {
                    tok: Tok::Op(op),
                    pos: i,
                });
                i += n;
            }
            b'\'' => {
                i += 1;
                let mut s = String::new();
                loop {
                    let Some(&ch) = b.get(i) else {
                        return Err(malformed(
                            q,
                            start,
                            &format!("line 1:{start} mismatched character '<EOF>' expecting '''"),
                        ));
                    };
                    if ch == b'\'' {
                        i += 1;
                        break;
                    }
                    if ch == b'\\' {
                        let Some(&e) = b.get(i + 1) else {
                            return Err(malformed(q, start, "unexpected token: '<EOF>'"));
                        };
                        let mapped = match e {
                            b'\'' => "'",
                            b'"' => "\"",
                            b'\\' => "\\",
                            b'n' => "\n",
                            b'r' => "\r",
                            b't' => "\t",
                            b'b' => "\u{8}",
                            b'f' => "\u{c}",
                            // Kept escaped: only LIKE gives them meaning.
                            b'%' => "\\%",
                            b'_' => "\\_",
                            _ => {
                                let end = q[i..].find('\'').map_or(q.len(), |p| i + p);
                                let lit = &q[start..(end + 1).min(q.len())];
                                return Err(malformed(
                                    q,
                                    start,
                                    &format!(
                                        "Invalid string literal {lit}. Illegal character sequence '\\{}' in string literal.",
                                        e as char
                                    ),
                                ));
                            }
                        };
                        s.push_str(mapped);
                        i += 2;
                        continue;
                    }
                    // Push the whole UTF-8 character.
                    let ch_len = q[i..].chars().next().map_or(1, char::len_utf8);
                    s.push_str(&q[i..i + ch_len]);
                    i += ch_len;
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    pos: start,
                });
            }
            b'0'..=b'9' | b'-' | b'+' => {
                // Date/datetime literal, or number.
                let rest = &q[i..];
                if let Some(len) = date_literal_len(rest) {
                    out.push(Token {
                        tok: Tok::DateLit(rest[..len].to_string()),
                        pos: i,
                    });
                    i += len;
                    continue;
                }
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                    j += 1;
                }
                if (c == b'-' || c == b'+') && j == i + 1 {
                    return Err(malformed(
                        q,
                        i,
                        &format!("unexpected token: '{}'", c as char),
                    ));
                }
                out.push(Token {
                    tok: Tok::Num(q[i..j].to_string()),
                    pos: i,
                });
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(q[i..j].to_string()),
                    pos: i,
                });
                i = j;
            }
            _ => {
                let ch = q[i..].chars().next().unwrap_or('?');
                return Err(malformed(
                    q,
                    i,
                    &format!("line 1:{i} no viable alternative at character '{ch}'"),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: q.len(),
    });
    Ok(out)
}

fn date_literal_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    if !(digits(0, 4)
        && b.get(4) == Some(&b'-')
        && digits(5, 2)
        && b.get(7) == Some(&b'-')
        && digits(8, 2))
    {
        return None;
    }
    if b.get(10) != Some(&b'T') {
        return Some(10);
    }
    // Time part: up to the zone (Z or ±hh:mm).
    let mut j = 11;
    while j < b.len() && (b[j].is_ascii_digit() || b[j] == b':' || b[j] == b'.') {
        j += 1;
    }
    match b.get(j) {
        Some(b'Z') => Some(j + 1),
        Some(b'+') | Some(b'-') => {
            let mut k = j + 1;
            while k < b.len() && (b[k].is_ascii_digit() || b[k] == b':') {
                k += 1;
            }
            Some(k)
        }
        _ => Some(j),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_literals() {
        let t = lex("SELECT Id FROM Contact WHERE Name = 'O\\'Brien' AND CreatedDate > 2024-01-01T00:00:00Z").unwrap();
        assert!(t.iter().any(|t| t.tok == Tok::Str("O'Brien".into())));
        assert!(
            t.iter()
                .any(|t| t.tok == Tok::DateLit("2024-01-01T00:00:00Z".into()))
        );
    }

    #[test]
    fn illegal_escape_is_malformed() {
        let e = lex("SELECT Id FROM Contact WHERE FirstName = 'Anne\\-Marie'").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(
            e.message
                .contains("Illegal character sequence '\\-' in string literal."),
            "{}",
            e.message
        );
    }
}
