//! SOQL text: string-literal escaping and the few statement shapes the worker needs.
//!
//! Part of the Salesforce adapter; `dsr` and `classify` build queries only through here.
//! Values only ever enter a statement through [`soql_literal`]; object and field names cannot
//! be escaped in SOQL, so they are checked against the identifier grammar instead. SOSL has
//! its own escaper in `sosl.rs`: the two are never mixed.
//!
//! Statements are sent as a URL query parameter, so builders keep each statement under
//! [`MAX_SOQL_LEN`] (well below Salesforce's 100,000-character limit and its ~16 KB URI
//! limit) by splitting long `IN` lists across several statements.

use super::error::SfError;

/// Longest statement the builders produce (characters, before URL encoding).
pub const MAX_SOQL_LEN: usize = 8_000;

/// `'…'`: a SOQL string literal. Escapes `\` and `'` (the reserved characters), `"`, and
/// the control characters SOQL has sequences for (`\n \r \t \b \f`); any other control
/// character becomes `\uXXXX`. Everything else is literal (no LIKE wildcards are escaped:
/// builders here use `=`/`IN`, never `LIKE`).
pub fn soql_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Checks an object or field name (`Contact`, `Custom__c`, `Account.Owner.Email`, `ns__X__c`).
pub fn identifier(name: &str) -> Result<&str, SfError> {
    let ok = !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(name)
    } else {
        Err(SfError::InvalidInput(format!(
            "not a SOQL identifier: {:?}",
            name.chars().take(80).collect::<String>()
        )))
    }
}

fn field_list<S: AsRef<str>>(fields: &[S]) -> Result<String, SfError> {
    if fields.is_empty() {
        return Ok("Id".into());
    }
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(identifier(f.as_ref())?);
    }
    Ok(out)
}

/// `SELECT {fields} FROM {object}` followed by `tail` (already-built clauses).
fn select<S: AsRef<str>>(object: &str, fields: &[S], tail: &str) -> Result<String, SfError> {
    let mut q = format!(
        "SELECT {} FROM {}",
        field_list(fields)?,
        identifier(object)?
    );
    if !tail.is_empty() {
        q.push(' ');
        q.push_str(tail);
    }
    Ok(q)
}

/// `SELECT fields FROM object WHERE (f1 IN (v…) OR f2 IN (v…))`, split into as many
/// statements as needed to stay under `max_len`. Every value appears in exactly one
/// statement. An empty `values` gives no statements.
pub fn select_where_any_in<S: AsRef<str>, F: AsRef<str>>(
    object: &str,
    fields: &[S],
    match_fields: &[F],
    values: &[String],
    max_len: usize,
) -> Result<Vec<String>, SfError> {
    if match_fields.is_empty() {
        return Err(SfError::InvalidInput("no field to match on".into()));
    }
    for f in match_fields {
        identifier(f.as_ref())?;
    }
    let base = select(object, fields, "")?;
    let build = |lits: &[String]| -> String {
        let list = lits.join(", ");
        let conds: Vec<String> = match_fields
            .iter()
            .map(|f| format!("{} IN ({list})", f.as_ref()))
            .collect();
        format!("{base} WHERE ({})", conds.join(" OR "))
    };
    let mut out = Vec::new();
    let mut batch: Vec<String> = Vec::new();
    for v in values {
        let lit = soql_literal(v);
        batch.push(lit);
        if build(&batch).len() > max_len {
            let lit = batch.pop().unwrap_or_default();
            if batch.is_empty() {
                return Err(SfError::InvalidInput(
                    "one value alone exceeds the statement length limit".into(),
                ));
            }
            out.push(build(&batch));
            batch = vec![lit];
            if build(&batch).len() > max_len {
                return Err(SfError::InvalidInput(
                    "one value alone exceeds the statement length limit".into(),
                ));
            }
        }
    }
    if !batch.is_empty() {
        out.push(build(&batch));
    }
    Ok(out)
}

/// One slice of an object in Id order: `WHERE Id > after ORDER BY Id LIMIT limit` (keyset
/// paging; the next slice starts after the last Id returned).
pub fn select_id_slice<S: AsRef<str>>(
    object: &str,
    fields: &[S],
    after_id: Option<&str>,
    limit: u32,
) -> Result<String, SfError> {
    let mut tail = String::new();
    if let Some(id) = after_id {
        tail.push_str(&format!("WHERE Id > {} ", soql_literal(id)));
    }
    tail.push_str(&format!("ORDER BY Id LIMIT {limit}"));
    select(object, fields, &tail)
}

/// Records with `from_id <= Id < to_id` (either bound optional), ordered by Id: a fixed
/// range for fanning a large object out to several workers.
pub fn select_id_range<S: AsRef<str>>(
    object: &str,
    fields: &[S],
    from_id: Option<&str>,
    to_id: Option<&str>,
) -> Result<String, SfError> {
    let mut conds = Vec::new();
    if let Some(id) = from_id {
        conds.push(format!("Id >= {}", soql_literal(id)));
    }
    if let Some(id) = to_id {
        conds.push(format!("Id < {}", soql_literal(id)));
    }
    let mut tail = String::new();
    if !conds.is_empty() {
        tail.push_str("WHERE ");
        tail.push_str(&conds.join(" AND "));
        tail.push(' ');
    }
    tail.push_str("ORDER BY Id");
    select(object, fields, &tail)
}

/// `SELECT fields FROM object` with an optional `LIMIT` (a whole-object scan).
pub fn select_all<S: AsRef<str>>(
    object: &str,
    fields: &[S],
    limit: Option<u64>,
) -> Result<String, SfError> {
    let tail = limit.map(|n| format!("LIMIT {n}")).unwrap_or_default();
    select(object, fields, &tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_escapes_reserved_and_controls() {
        assert_eq!(soql_literal("Bob's BBQ"), r"'Bob\'s BBQ'");
        assert_eq!(soql_literal(r"a\b"), r"'a\\b'");
        assert_eq!(soql_literal("say \"hi\""), r#"'say \"hi\"'"#);
        assert_eq!(soql_literal("a\nb\rc\td"), r"'a\nb\rc\td'");
        assert_eq!(soql_literal("\u{8}\u{c}"), r"'\b\f'");
        assert_eq!(soql_literal("\u{1}"), r"'\u0001'");
        // SOSL's reserved characters mean nothing in a SOQL literal.
        assert_eq!(
            soql_literal("jane+doe-x@example.com (x) {y} *?"),
            "'jane+doe-x@example.com (x) {y} *?'"
        );
        assert_eq!(soql_literal("' OR Id != '"), r"'\' OR Id != \''");
        assert_eq!(soql_literal("é✓"), "'é✓'");
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(identifier("Contact").is_ok());
        assert!(identifier("Custom_Field__c").is_ok());
        assert!(identifier("Account.Owner.Email").is_ok());
        for bad in [
            "",
            "Id, Name",
            "x'y",
            "1abc",
            "A..B",
            "Id FROM User--",
            "_x",
        ] {
            assert!(identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn in_lists_split_under_limit_and_keep_every_value_once() {
        let values: Vec<String> = (0..300).map(|i| format!("user{i}@example.com")).collect();
        let qs = select_where_any_in(
            "Contact",
            &["Id", "Email"],
            &["Email", "Other__c"],
            &values,
            1000,
        )
        .unwrap();
        assert!(qs.len() > 1);
        let mut seen = 0;
        for q in &qs {
            assert!(q.len() <= 1000, "{}", q.len());
            assert!(q.starts_with("SELECT Id, Email FROM Contact WHERE (Email IN ('"));
            assert!(q.contains(") OR Other__c IN ('"));
            seen += q.matches("@example.com'").count();
        }
        // Each value appears twice per statement (once per match field).
        assert_eq!(seen, 600);
        assert!(
            select_where_any_in::<&str, &str>("Contact", &[], &["Email"], &[], 1000)
                .unwrap()
                .is_empty()
        );
        assert!(
            select_where_any_in("Contact", &["Id"], &["Email"], &["x".repeat(2000)], 1000).is_err()
        );
        assert!(select_where_any_in("Contact", &["Id"], &["Email; DROP"], &values, 1000).is_err());
    }

    #[test]
    fn id_slices_and_ranges() {
        assert_eq!(
            select_id_slice("Lead", &["Id", "Email"], None, 500).unwrap(),
            "SELECT Id, Email FROM Lead ORDER BY Id LIMIT 500"
        );
        assert_eq!(
            select_id_slice("Lead", &["Id"], Some("00Q000000000001AAA"), 2).unwrap(),
            "SELECT Id FROM Lead WHERE Id > '00Q000000000001AAA' ORDER BY Id LIMIT 2"
        );
        assert_eq!(
            select_id_range("Lead", &["Id"], Some("00Q1"), Some("00Q9")).unwrap(),
            "SELECT Id FROM Lead WHERE Id >= '00Q1' AND Id < '00Q9' ORDER BY Id"
        );
        assert_eq!(
            select_id_range::<&str>("Lead", &[], None, None).unwrap(),
            "SELECT Id FROM Lead ORDER BY Id"
        );
        assert_eq!(
            select_all("Case", &["Id", "Subject"], Some(10)).unwrap(),
            "SELECT Id, Subject FROM Case LIMIT 10"
        );
    }
}
