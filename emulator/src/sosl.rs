//! SOSL: `FIND {…} [IN ALL|NAME|EMAIL|PHONE FIELDS] [RETURNING Obj(fields [WHERE …]
//! [ORDER BY …] [LIMIT n]), …] [LIMIT n]`, and parameterized search.
//!
//! Matching is token based like Salesforce's index: text is split on anything that is not a
//! letter or digit, and a term matches a field when its tokens appear there in sequence
//! (`jane@example.com` → `jane example com`, which `jane@example.com.au` also contains).
//! Quoted phrases work the same way; `*` matches any token suffix, `?` one character;
//! several terms are AND-ed unless joined by `OR`. Phone fields also match on digits.
//! Rows written within the index lag are not searchable yet. Reserved characters must be
//! escaped with `\`; an unescaped one is `MALFORMED_SEARCH` in Salesforce's caret form.
//! A RETURNING clause is bound as SOQL; its errors are re-pointed at the search text.

use chrono::Utc;
use serde_json::{Value, json};

use crate::error::{ApiError, caret_message, row_col};
use crate::org::schema::{FType, ObjectDef};
use crate::org::{Org, RowRef};
use crate::soql::bind::{BCond, BOrder, Binder, Entry};
use crate::soql::exec::{matches, render};

/// At most this many rows in one search.
pub const MAX_ROWS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Name,
    Email,
    Phone,
}

/// One search term: a token sequence (phrase), each token possibly a wildcard pattern.
#[derive(Debug, Clone)]
pub struct Term {
    tokens: Vec<String>,
    digits: String,
}

/// A FIND expression: OR of AND-groups of terms (with negated terms).
#[derive(Debug, Clone, Default)]
pub struct Expr {
    pub groups: Vec<Vec<(Term, bool)>>,
}

/// What to return for one object.
#[derive(Debug, Clone)]
pub struct Returning {
    pub object: String,
    pub fields: Vec<String>,
    pub where_: Option<String>,
    pub order: Option<String>,
    pub limit: Option<usize>,
    /// Where the clause sits in the search text (`None` for parameterized search), so an
    /// error inside it points at the right column.
    pub at: Option<Spans>,
}

/// Byte offsets in the search text of a RETURNING clause's parts, each with its raw text.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    pub object: usize,
    pub fields: Option<(usize, String)>,
    pub where_: Option<(usize, String)>,
    pub order: Option<(usize, String)>,
}

#[derive(Debug, Clone)]
pub struct Search {
    /// The SOSL text (empty for parameterized search).
    pub text: String,
    pub expr: Expr,
    pub scope: Scope,
    pub returning: Vec<Returning>,
    pub limit: usize,
}

fn malformed(q: &str, pos: usize, detail: &str) -> ApiError {
    ApiError::bad_request("MALFORMED_SEARCH", caret_message(q, 1, pos.max(1), detail))
}

/// Splits text into lower-cased index tokens.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn term_of(text: &str) -> Term {
    // Keep wildcards inside tokens.
    let toks: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '?'))
        .filter(|t| !t.is_empty() && t.chars().any(char::is_alphanumeric))
        .map(str::to_lowercase)
        .collect();
    Term {
        tokens: toks,
        digits: text.chars().filter(char::is_ascii_digit).collect(),
    }
}

const RESERVED: &str = "&|!{}[]^~:'+-\\\"()";

/// Parses the text between the braces of FIND (`start` = its offset in `q`, for errors).
pub fn parse_terms(q: &str, text: &str, start: usize) -> Result<Expr, ApiError> {
    let mut groups: Vec<Vec<(Term, bool)>> = vec![Vec::new()];
    let mut negate = false;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let mut word = String::new();
    let flush = |word: &mut String,
                 groups: &mut Vec<Vec<(Term, bool)>>,
                 negate: &mut bool|
     -> Result<(), ApiError> {
        if word.is_empty() {
            return Ok(());
        }
        let w = std::mem::take(word);
        match w.to_ascii_uppercase().as_str() {
            "OR" => groups.push(Vec::new()),
            "AND" => {}
            "NOT" => *negate = true,
            _ => {
                let t = term_of(&w);
                let core: usize = w.chars().filter(|c| c.is_alphanumeric()).count();
                if core < 2 {
                    // A validation, not a parse error: INVALID_SEARCH, as reported from orgs.
                    return Err(ApiError::bad_request(
                        "INVALID_SEARCH",
                        "search term must be longer than one character",
                    ));
                }
                if let Some(g) = groups.last_mut() {
                    g.push((t, *negate));
                }
                *negate = false;
            }
        }
        Ok(())
    };
    while i < chars.len() {
        let (off, c) = chars[i];
        match c {
            '\\' => {
                if let Some(&(_, n)) = chars.get(i + 1) {
                    // An escaped reserved character is a separator inside the term.
                    word.push(if n.is_alphanumeric() { n } else { ' ' });
                    i += 2;
                    continue;
                }
                return Err(malformed(
                    q,
                    start + off,
                    &format!(
                        "line 1:{} mismatched character '<EOF>' expecting '}}'",
                        start + off
                    ),
                ));
            }
            '"' => {
                flush(&mut word, &mut groups, &mut negate)?;
                let end = chars[i + 1..]
                    .iter()
                    .position(|(_, c)| *c == '"')
                    .map(|p| p + i + 1);
                let Some(end) = end else {
                    return Err(malformed(
                        q,
                        start + off,
                        &format!(
                            "line 1:{} mismatched character '<EOF>' expecting '\"'",
                            start + off
                        ),
                    ));
                };
                let phrase: String = chars[i + 1..end].iter().map(|(_, c)| *c).collect();
                if let Some(g) = groups.last_mut() {
                    g.push((term_of(&phrase), negate));
                }
                negate = false;
                i = end + 1;
                continue;
            }
            c if c.is_whitespace() => flush(&mut word, &mut groups, &mut negate)?,
            '(' | ')' => flush(&mut word, &mut groups, &mut negate)?,
            c if RESERVED.contains(c) => {
                let col = start + off;
                return Err(malformed(
                    q,
                    col,
                    &format!("line 1:{col} mismatched character '{c}' expecting '}}'"),
                ));
            }
            c => word.push(c),
        }
        i += 1;
    }
    flush(&mut word, &mut groups, &mut negate)?;
    groups.retain(|g| !g.is_empty());
    if groups.is_empty() {
        return Err(ApiError::bad_request(
            "MALFORMED_SEARCH",
            "No search term found. The search term must be enclosed in braces.",
        ));
    }
    Ok(Expr { groups })
}

fn token_match(pattern: &str, token: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == token;
    }
    let mut re = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(token))
}

fn phrase_in(term: &Term, toks: &[String]) -> bool {
    let n = term.tokens.len();
    if n == 0 || toks.len() < n {
        return false;
    }
    toks.windows(n)
        .any(|w| w.iter().zip(&term.tokens).all(|(t, p)| token_match(p, t)))
}

fn field_matches(term: &Term, kind: FType, value: &str) -> bool {
    if kind == FType::Phone && term.digits.len() >= 4 {
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        if digits.ends_with(&term.digits) || digits.contains(&term.digits) {
            return true;
        }
    }
    // Cheap pre-check on the first literal token before tokenising.
    if let Some(first) = term.tokens.first().filter(|t| !t.contains(['*', '?']))
        && !value.to_lowercase().contains(first.as_str())
    {
        return false;
    }
    phrase_in(term, &tokens(value))
}

fn searchable_fields(obj: &ObjectDef, scope: Scope) -> Vec<usize> {
    obj.visible_fields()
        .filter(|(_, f)| match scope {
            Scope::Email => f.kind == FType::Email,
            Scope::Phone => f.kind == FType::Phone,
            Scope::Name => {
                f.name_field
                    || matches!(
                        f.name,
                        "FirstName" | "LastName" | "Name" | "Company" | "MiddleName"
                    )
            }
            Scope::All => f.kind.is_text() && f.kind != FType::Picklist,
        })
        .map(|(i, _)| i)
        .collect()
}

fn row_matches(r: &RowRef<'_>, fields: &[usize], expr: &Expr) -> bool {
    let values: Vec<(FType, String)> = fields
        .iter()
        .filter_map(|fi| {
            r.get(*fi)
                .as_str()
                .map(|s| (r.obj().fields[*fi].kind, s.to_string()))
        })
        .collect();
    if values.is_empty() {
        return false;
    }
    expr.groups.iter().any(|g| {
        g.iter().all(|(term, negated)| {
            let hit = values.iter().any(|(k, v)| field_matches(term, *k, v));
            hit != *negated
        })
    })
}

/// Parses a full SOSL statement.
pub fn parse(q: &str) -> Result<Search, ApiError> {
    let trimmed = q.trim_start();
    let lead = q.len() - trimmed.len();
    if !trimmed
        .get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("FIND"))
    {
        return Err(malformed(
            q,
            lead + 1,
            "line 1:0 no viable alternative at character 'F'",
        ));
    }
    let after = &trimmed[4..];
    let after_lead = after.len() - after.trim_start().len();
    let body_start = lead + 4 + after_lead;
    let rest = &q[body_start..];
    let (open, close) = match rest.chars().next() {
        Some('{') => ('{', '}'),
        Some('\'') => ('\'', '\''),
        _ => {
            return Err(ApiError::bad_request(
                "MALFORMED_SEARCH",
                "No search term found. The search term must be enclosed in braces.",
            ));
        }
    };
    // Find the closing brace, honouring escapes.
    let mut end = None;
    let mut esc = false;
    for (i, c) in rest.char_indices().skip(1) {
        if esc {
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == close {
            end = Some(i);
            break;
        } else if c == open && open == '{' {
            return Err(malformed(
                q,
                body_start + i,
                &format!(
                    "line 1:{} mismatched character '{{' expecting '}}'",
                    body_start + i
                ),
            ));
        }
    }
    let Some(end) = end else {
        return Err(malformed(
            q,
            q.len(),
            &format!(
                "line 1:{} mismatched character '<EOF>' expecting '}}'",
                q.len()
            ),
        ));
    };
    let expr = parse_terms(q, &rest[1..end], body_start + 1)?;
    // Suffixes of `q` from here on, so an error can point at its token.
    let mut t = rest[end + 1..].trim_start();
    let mut search = Search {
        text: q.to_string(),
        expr,
        scope: Scope::All,
        returning: Vec::new(),
        limit: MAX_ROWS,
    };
    let (first, after_first) = word(t);
    if first.eq_ignore_ascii_case("IN") {
        let (group, after_group) = word(after_first);
        search.scope = match group.to_ascii_uppercase().as_str() {
            "ALL" | "SIDEBAR" => Scope::All,
            "NAME" => Scope::Name,
            "EMAIL" => Scope::Email,
            "PHONE" => Scope::Phone,
            _ => return Err(unexpected(q, group, after_group)),
        };
        let (fields, after_fields) = word(after_group);
        if !fields.eq_ignore_ascii_case("FIELDS") {
            return Err(unexpected(q, fields, after_fields));
        }
        t = after_fields.trim_start();
    }
    if t.get(..9)
        .is_some_and(|k| k.eq_ignore_ascii_case("RETURNING"))
    {
        let (list, rest) = split_returning(q, &t[9..]);
        search.returning = list?;
        t = rest.trim_start();
    }
    let (kw, after_kw) = word(t);
    if kw.eq_ignore_ascii_case("LIMIT") {
        let (n, after_n) = word(after_kw);
        search.limit = n
            .parse::<usize>()
            .map_err(|_| unexpected(q, n, after_n))?
            .min(MAX_ROWS);
        t = after_n.trim_start();
    }
    if !t.trim().is_empty() {
        let (tok, after) = word(t);
        return Err(unexpected(q, tok, after));
    }
    Ok(search)
}

/// The next whitespace-separated word of `s` and what follows it.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    s.split_at(end)
}

/// `MALFORMED_SEARCH` in the caret form SOQL parse errors use, pointing at `tok` (a word of
/// `q` followed by `after`, the rest of `q`; empty at the end: `'<EOF>'`).
fn unexpected(q: &str, tok: &str, after: &str) -> ApiError {
    let at = q.len().saturating_sub(tok.len() + after.len());
    let (row, col) = row_col(q, at);
    let shown = if tok.is_empty() { "<EOF>" } else { tok };
    ApiError::bad_request(
        "MALFORMED_SEARCH",
        caret_message(q, row, col, &format!("unexpected token: '{shown}'")),
    )
}

/// The token of `q` at byte `at` as Salesforce names it in `unexpected token: '…'`: a
/// parenthesis or comma, else the word up to the next space or punctuation; `<EOF>` at the end.
fn token_at(q: &str, at: usize) -> &str {
    let s = q.get(at..).unwrap_or("").trim_start();
    match s.chars().next() {
        None => "<EOF>",
        Some(c @ ('(' | ')' | ',')) => &s[..c.len_utf8()],
        Some(_) => {
            let end = s
                .find(|c: char| c.is_whitespace() || "(),".contains(c))
                .unwrap_or(s.len());
            &s[..end]
        }
    }
}

/// `MALFORMED_SEARCH` `unexpected token` in caret form, pointing at the token at byte `at`.
fn unexpected_at(q: &str, at: usize) -> ApiError {
    let at = q.len() - q.get(at..).unwrap_or("").trim_start().len();
    let tok = token_at(q, at);
    let (row, col) = row_col(q, at);
    ApiError::bad_request(
        "MALFORMED_SEARCH",
        caret_message(q, row, col, &format!("unexpected token: '{tok}'")),
    )
}

/// Splits `Contact(Id, Name WHERE … LIMIT 5), Lead` (`s`, a suffix of the search text `q`)
/// into returning specs; returns the rest.
fn split_returning<'a>(q: &str, s: &'a str) -> (Result<Vec<Returning>, ApiError>, &'a str) {
    // Byte offset in `q` of a suffix of it.
    let off = |suffix: &str| q.len() - suffix.len();
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    loop {
        let name_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let object = rest[..name_end].to_string();
        if object.is_empty() {
            return (Err(unexpected_at(q, off(rest))), rest);
        }
        let mut at = Spans {
            object: off(rest),
            ..Spans::default()
        };
        rest = rest[name_end..].trim_start();
        let mut spec = Returning {
            object,
            fields: vec![],
            where_: None,
            order: None,
            limit: None,
            at: None,
        };
        if rest.starts_with('(') {
            let mut depth = 0;
            let mut quote = false;
            let mut close = None;
            for (i, c) in rest.char_indices() {
                match c {
                    '\'' => quote = !quote,
                    '(' if !quote => depth += 1,
                    ')' if !quote => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(close) = close else {
                return (Err(unexpected_at(q, q.len())), "");
            };
            let inner_at = off(rest) + 1;
            let inner = &rest[1..close];
            rest = rest[close + 1..].trim_start();
            let up = inner.to_ascii_uppercase();
            let cut = |kw: &str| up.find(kw);
            let w = cut(" WHERE ");
            let o = cut(" ORDER BY ");
            let l = cut(" LIMIT ");
            let first_kw = [w, o, l].into_iter().flatten().min().unwrap_or(inner.len());
            spec.fields = inner[..first_kw]
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect();
            at.fields = Some((inner_at, inner[..first_kw].to_string()));
            // The raw text of a section and its offset in `q`.
            let section = |from: Option<usize>, kw_len: usize| -> Option<(usize, String)> {
                let start = from? + kw_len;
                let end = [w, o, l]
                    .into_iter()
                    .flatten()
                    .filter(|p| *p > start - kw_len)
                    .min()
                    .unwrap_or(inner.len());
                Some((inner_at + start, inner[start..end.max(start)].to_string()))
            };
            at.where_ = section(w, 7);
            at.order = section(o, 10);
            spec.where_ = at.where_.as_ref().map(|(_, t)| t.trim().to_string());
            spec.order = at.order.as_ref().map(|(_, t)| t.trim().to_string());
            if let Some((l_at, text)) = section(l, 7) {
                match text.trim().parse() {
                    Ok(n) => spec.limit = Some(n),
                    Err(_) => return (Err(unexpected_at(q, l_at)), rest),
                }
            }
        }
        spec.at = Some(at);
        out.push(spec);
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else {
            break;
        }
    }
    (Ok(out), rest)
}

/// The SOQL a RETURNING clause is bound as, with the map from its byte offsets back to the
/// search text: `(start in the SOQL, start in the search text, length)` per copied part.
fn returning_soql(object: &str, spec: &Returning) -> (String, Vec<(usize, usize, usize)>) {
    let mut soql = String::from("SELECT ");
    let mut map = Vec::new();
    let mut push = |soql: &mut String, text: &str, at: Option<usize>| {
        if let Some(at) = at {
            map.push((soql.len(), at, text.len()));
        }
        soql.push_str(text);
    };
    let at = spec.at.as_ref();
    match at.and_then(|a| a.fields.as_ref()) {
        Some((f_at, text)) if !text.trim().is_empty() => push(&mut soql, text, Some(*f_at)),
        _ if !spec.fields.is_empty() => push(&mut soql, &spec.fields.join(", "), None),
        _ => push(&mut soql, "Id", None),
    }
    push(&mut soql, " FROM ", None);
    push(&mut soql, object, at.map(|a| a.object));
    let parts = [
        (" WHERE ", &spec.where_, at.and_then(|a| a.where_.as_ref())),
        (" ORDER BY ", &spec.order, at.and_then(|a| a.order.as_ref())),
    ];
    for (kw, plain, raw) in parts {
        match (plain, raw) {
            (Some(_), Some((p_at, text))) => {
                push(&mut soql, kw, None);
                push(&mut soql, text, Some(*p_at));
            }
            (Some(text), None) => {
                push(&mut soql, kw, None);
                push(&mut soql, text, None);
            }
            _ => {}
        }
    }
    (soql, map)
}

/// Re-points a SOQL caret error raised on a RETURNING clause's SOQL at the search text `q`:
/// same detail (a syntax error becomes `MALFORMED_SEARCH`; an `'<EOF>'` of the clause names
/// the token that follows it in `q`), caret at the matching column of `q`.
fn in_search(q: &str, soql: &str, map: &[(usize, usize, usize)], e: ApiError) -> ApiError {
    let Some((row, col, detail)) = crate::error::caret_parts(&e.message) else {
        return e;
    };
    let pos = crate::error::offset_of(soql, row, col);
    let Some(&(s_at, q_at, len)) = map.iter().rev().find(|(s_at, _, _)| *s_at <= pos) else {
        return e;
    };
    let at = q_at + (pos - s_at).min(len);
    let code = if e.code == "MALFORMED_QUERY" {
        "MALFORMED_SEARCH"
    } else {
        e.code.as_str()
    };
    let detail = if detail == "unexpected token: '<EOF>'" {
        format!("unexpected token: '{}'", token_at(q, at))
    } else {
        detail.to_string()
    };
    let at = q.len() - q.get(at..).unwrap_or("").trim_start().len();
    let (row, col) = row_col(q, at);
    ApiError::new(e.status, code, caret_message(q, row, col, &detail))
}

/// Runs a search against the org: `{"searchRecords":[…]}`.
pub fn execute(
    org: &Org,
    search: &Search,
    now: chrono::DateTime<Utc>,
    lag_ms: u64,
    version: &str,
) -> Result<Value, ApiError> {
    let indexed_before = now.timestamp_millis() - lag_ms as i64;
    let specs: Vec<Returning> = if search.returning.is_empty() {
        org.schema
            .objects
            .iter()
            .filter(|o| o.searchable)
            .map(|o| Returning {
                object: o.name.to_string(),
                fields: vec![],
                where_: None,
                order: None,
                limit: None,
                at: None,
            })
            .collect()
    } else {
        search.returning.clone()
    };
    let mut out = Vec::new();
    for spec in &specs {
        let Some(oi) = org.object_index(&spec.object) else {
            let detail = format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                spec.object
            );
            return Err(match spec.at.as_ref() {
                Some(at) => {
                    let (row, col) = row_col(&search.text, at.object);
                    ApiError::bad_request(
                        "INVALID_TYPE",
                        caret_message(&search.text, row, col, &detail),
                    )
                }
                None => ApiError::bad_request("INVALID_TYPE", detail),
            });
        };
        let obj = &org.schema.objects[oi];
        // Bind fields / WHERE / ORDER BY as a SOQL query over the object; errors point into
        // the search text when there is one.
        let (soql, map) = returning_soql(obj.name, spec);
        let located = |e: ApiError| {
            if spec.at.is_some() {
                in_search(&search.text, &soql, &map, e)
            } else {
                e
            }
        };
        let q = crate::soql::parser::parse(&soql).map_err(located)?;
        let bound = Binder {
            org,
            q: &soql,
            include_deleted: false,
            now,
        }
        .bind(&q)
        .map_err(located)?;
        let tree: &[Entry] = &bound.tree;
        let where_: Option<&BCond> = bound.where_.as_ref();
        let order: &[BOrder] = &bound.order;
        let fis = searchable_fields(obj, search.scope);
        if fis.is_empty() || !obj.searchable {
            continue;
        }
        let cap = spec.limit.unwrap_or(MAX_ROWS);
        let mut hits: Vec<RowRef<'_>> = Vec::new();
        let mut n = 1;
        while let Some(r) = org.next_row(oi, n) {
            n = r.number + 1;
            if r.is_deleted() || r.written_ms() > indexed_before {
                continue;
            }
            if row_matches(&r, &fis, &search.expr) && matches(&r, where_) {
                hits.push(r);
                if order.is_empty() && hits.len() >= cap {
                    break;
                }
            }
        }
        if !order.is_empty() {
            hits.sort_by(|a, b| {
                for o in order {
                    let va = crate::soql::exec::path_value(a, &o.path)
                        .as_str()
                        .map(str::to_lowercase);
                    let vb = crate::soql::exec::path_value(b, &o.path)
                        .as_str()
                        .map(str::to_lowercase);
                    let x = va.cmp(&vb);
                    let x = if o.desc { x.reverse() } else { x };
                    if x != std::cmp::Ordering::Equal {
                        return x;
                    }
                }
                std::cmp::Ordering::Equal
            });
            hits.truncate(cap);
        }
        for r in hits {
            if out.len() >= search.limit {
                break;
            }
            out.push(render(&r, tree, version));
        }
    }
    Ok(json!({ "searchRecords": out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenised_matching() {
        let e = parse("FIND {jane@example.com} IN EMAIL FIELDS RETURNING Contact(Id)").unwrap();
        let t = &e.expr.groups[0][0].0;
        assert!(field_matches(t, FType::Email, "jane@example.com.au"));
        assert!(field_matches(t, FType::Email, "JANE@EXAMPLE.COM"));
        assert!(!field_matches(t, FType::Email, "jane@example.org"));
        assert_eq!(e.scope, Scope::Email);
    }

    #[test]
    fn unescaped_reserved_character_is_malformed() {
        let e = parse("FIND {John|jane_gray@uoa.edu} RETURNING Contact").unwrap_err();
        assert_eq!(e.code, "MALFORMED_SEARCH");
        assert!(
            e.message.contains("ERROR at Row:1:Column:10"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .ends_with("line 1:10 mismatched character '|' expecting '}'"),
            "{}",
            e.message
        );
        assert!(parse("FIND {John\\|jane} RETURNING Contact").is_ok());
        assert!(parse("FIND {jane\\-doe@example.com}").is_ok());
    }

    #[test]
    fn short_terms_and_wildcards() {
        assert!(parse("FIND {a}").is_err());
        let e = parse("FIND {jan*}").unwrap();
        assert!(field_matches(
            &e.expr.groups[0][0].0,
            FType::String,
            "Janet Smith"
        ));
    }

    #[test]
    fn returning_clause() {
        let s = parse("FIND {smith} IN NAME FIELDS RETURNING Contact(Id, Email WHERE Email != null LIMIT 5), Lead LIMIT 20").unwrap();
        assert_eq!(s.returning.len(), 2);
        assert_eq!(s.returning[0].fields, vec!["Id", "Email"]);
        assert_eq!(s.returning[0].where_.as_deref(), Some("Email != null"));
        assert_eq!(s.returning[0].limit, Some(5));
        assert_eq!(s.limit, 20);
    }
}
