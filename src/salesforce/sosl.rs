//! SOSL text: search-term escaping and `FIND … RETURNING …` statements split to fit limits.
//!
//! Part of the Salesforce adapter. Every SOSL reserved character
//! (`& | ! ( ) { } [ ] ^ " ~ * ? : \ ' + -`) in a search term is preceded by a backslash, so
//! an email such as `jane+doe-x@example.com` is searched literally instead of being read as
//! operators. Values in `RETURNING … WHERE` clauses are SOQL-style literals and go through
//! `soql::soql_literal` — the two escapers are never mixed.
//!
//! A statement is kept under [`MAX_SOSL_LEN`] and at most [`MAX_OBJECTS_PER_SEARCH`] objects;
//! a longer `RETURNING` list becomes several statements (each also gets its own 2,000-row
//! allowance, which SOSL shares across all objects of one statement).

use super::error::SfError;
use super::soql::identifier;

/// SOSL's reserved characters.
pub const RESERVED: &[char] = &[
    '&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '\\', '\'', '+', '-',
];

/// Longest statement the builders produce (characters, before URL encoding).
pub const MAX_SOSL_LEN: usize = 8_000;
/// Most objects in one `RETURNING` list.
pub const MAX_OBJECTS_PER_SEARCH: usize = 20;
/// SOSL's row cap per statement.
pub const MAX_SEARCH_ROWS: u32 = 2_000;

/// A search term with every reserved character escaped.
pub fn sosl_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Which fields a search looks in (`IN … FIELDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchGroup {
    All,
    Name,
    Email,
    Phone,
}

impl SearchGroup {
    fn as_sosl(self) -> &'static str {
        match self {
            SearchGroup::All => "ALL FIELDS",
            SearchGroup::Name => "NAME FIELDS",
            SearchGroup::Email => "EMAIL FIELDS",
            SearchGroup::Phone => "PHONE FIELDS",
        }
    }
}

/// One object of a `RETURNING` list: `Contact(Id, Email)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returning {
    pub object: String,
    pub fields: Vec<String>,
}

impl Returning {
    pub fn new(object: impl Into<String>, fields: &[&str]) -> Self {
        Self {
            object: object.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn render(&self) -> Result<String, SfError> {
        let obj = identifier(&self.object)?;
        if self.fields.is_empty() {
            return Ok(obj.to_string());
        }
        let mut fields = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            fields.push(identifier(f)?);
        }
        Ok(format!("{obj}({})", fields.join(", ")))
    }
}

/// `FIND {term} IN {group} RETURNING … LIMIT 2000`, as many statements as the `RETURNING`
/// list needs; every object appears in exactly one. An empty list searches all objects.
pub fn find(
    term: &str,
    group: SearchGroup,
    returning: &[Returning],
    max_len: usize,
) -> Result<Vec<String>, SfError> {
    if term.trim().is_empty() {
        return Err(SfError::InvalidInput("empty search term".into()));
    }
    let head = format!("FIND {{{}}} IN {}", sosl_escape(term), group.as_sosl());
    let tail = format!(" LIMIT {MAX_SEARCH_ROWS}");
    if returning.is_empty() {
        return Ok(vec![format!("{head}{tail}")]);
    }
    let build = |specs: &[String]| format!("{head} RETURNING {}{tail}", specs.join(", "));
    let mut out = Vec::new();
    let mut batch: Vec<String> = Vec::new();
    for r in returning {
        let spec = r.render()?;
        if build(std::slice::from_ref(&spec)).len() > max_len {
            return Err(SfError::InvalidInput(format!(
                "RETURNING {} alone exceeds the statement length limit",
                r.object
            )));
        }
        batch.push(spec);
        if batch.len() > MAX_OBJECTS_PER_SEARCH || build(&batch).len() > max_len {
            let spec = batch.pop().unwrap_or_default();
            out.push(build(&batch));
            batch = vec![spec];
        }
    }
    if !batch.is_empty() {
        out.push(build(&batch));
    }
    Ok(out)
}

/// `FIND {email} IN EMAIL FIELDS RETURNING …`: discovery of a subject's records.
pub fn find_email(email: &str, returning: &[Returning]) -> Result<Vec<String>, SfError> {
    find(email, SearchGroup::Email, returning, MAX_SOSL_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reserved_character_is_escaped() {
        // One assertion per reserved character, alone and inside a term.
        let cases: &[(char, &str)] = &[
            ('&', r"\&"),
            ('|', r"\|"),
            ('!', r"\!"),
            ('(', r"\("),
            (')', r"\)"),
            ('{', r"\{"),
            ('}', r"\}"),
            ('[', r"\["),
            (']', r"\]"),
            ('^', r"\^"),
            ('"', r#"\""#),
            ('~', r"\~"),
            ('*', r"\*"),
            ('?', r"\?"),
            (':', r"\:"),
            ('\\', r"\\"),
            ('\'', r"\'"),
            ('+', r"\+"),
            ('-', r"\-"),
        ];
        assert_eq!(cases.len(), RESERVED.len());
        for (c, escaped) in cases {
            assert_eq!(sosl_escape(&c.to_string()), *escaped, "{c}");
            assert_eq!(
                sosl_escape(&format!("a{c}b")),
                format!("a{escaped}b"),
                "{c} inside a term"
            );
        }
    }

    #[test]
    fn unreserved_characters_pass_through() {
        assert_eq!(sosl_escape("jane.doe@example.com"), "jane.doe@example.com");
        assert_eq!(sosl_escape("jane_doe#1 %$é"), "jane_doe#1 %$é");
        assert_eq!(
            sosl_escape("jane+doe-x@example.com"),
            r"jane\+doe\-x@example.com"
        );
        // Not SOQL escaping: a quote gets one backslash, no surrounding quotes.
        assert_eq!(sosl_escape("o'neil"), r"o\'neil");
    }

    #[test]
    fn find_email_builds_one_statement() {
        let q = find_email(
            "jane+doe@example.com",
            &[
                Returning::new("Contact", &["Id", "Email"]),
                Returning::new("Lead", &["Id"]),
                Returning::new("User", &[]),
            ],
        )
        .unwrap();
        assert_eq!(
            q,
            vec![
                r"FIND {jane\+doe@example.com} IN EMAIL FIELDS RETURNING Contact(Id, Email), Lead(Id), User LIMIT 2000"
            ]
        );
    }

    #[test]
    fn returning_lists_are_split_to_fit() {
        let objs: Vec<Returning> = (0..50)
            .map(|i| Returning::new(format!("Obj{i}__c"), &["Id", "Email__c", "Other_Email__c"]))
            .collect();
        let qs = find("a@b.c", SearchGroup::Email, &objs, 600).unwrap();
        assert!(qs.len() >= 3);
        let mut seen = 0;
        for q in &qs {
            assert!(q.len() <= 600);
            assert!(q.starts_with("FIND {a@b.c} IN EMAIL FIELDS RETURNING "));
            assert!(q.ends_with(" LIMIT 2000"));
            let n = q.matches("__c(").count();
            assert!(n <= MAX_OBJECTS_PER_SEARCH);
            seen += n;
        }
        assert_eq!(seen, 50);
        let qs = find("a@b.c", SearchGroup::Email, &objs, MAX_SOSL_LEN).unwrap();
        assert_eq!(qs.len(), 3); // 20 + 20 + 10 by the object cap
    }

    #[test]
    fn rejects_bad_input() {
        assert!(find_email("", &[]).is_err());
        assert!(find_email("a@b.c", &[Returning::new("Contact(Id)", &[])]).is_err());
        assert!(find_email("a@b.c", &[Returning::new("Contact", &["Id) , Lead(Id"])]).is_err());
    }
}
