//! Discovery: every record where an email-typed field equals one of the subject's emails,
//! exactly and case-insensitively. Shared by copy, delete and anonymize.
//!
//! Two sources, because neither is enough alone: SOSL `IN EMAIL FIELDS` covers every searchable
//! object but is tokenised (`jane@example.com` also hits `jane@example.com.au`) and lags writes;
//! SOQL on the core objects' email fields sees a record written a second ago. Every row from
//! either source is re-checked here with [`matched_fields`] before it counts. Statements are
//! built by pure functions ([`sosl_statements`], [`soql_statements`]) with the client's escapers.

use crate::message::{ObjectSelection, SubjectEmail};
use crate::salesforce::{Record, SObjectDescribe, SalesforceClient, SfError};
use crate::salesforce::{soql_literal, sosl_escape};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Objects searched by default, and always also queried with SOQL.
pub const CORE_OBJECTS: [&str; 3] = ["User", "Lead", "Contact"];
/// Objects per SOSL statement: each object in RETURNING shares the 2,000-row cap, so fewer
/// objects per statement leave more rows for each.
pub const SOSL_OBJECTS_PER_STATEMENT: usize = 20;
/// Upper bound on one SOSL statement (sent in a GET query string; Salesforce allows 100,000
/// characters, proxies and URL limits far less).
pub const SOSL_MAX_CHARS: usize = 4_000;
/// Values per SOQL `IN (…)` list, keeping each statement short.
pub const SOQL_IN_CHUNK: usize = 200;

/// An object that can hold the subject's email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub object: String,
    pub email_fields: Vec<String>,
    pub searchable: bool,
    pub queryable: bool,
}

impl Candidate {
    /// `None` when the object has no email-typed field.
    pub fn from_describe(d: &SObjectDescribe) -> Option<Self> {
        let email_fields: Vec<String> = d.email_fields().map(|f| f.name.clone()).collect();
        (!email_fields.is_empty()).then(|| Self {
            object: d.name.clone(),
            email_fields,
            searchable: d.searchable,
            queryable: d.queryable,
        })
    }
}

/// One matched record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub object: String,
    pub id: String,
    /// The email fields that hold one of the subject's emails (names only).
    pub matched_fields: Vec<String>,
    /// Found by SOSL, by SOQL, or both (a record found only by SOQL was not yet searchable).
    pub by_search: bool,
    pub by_query: bool,
}

/// The result of discovery: candidates, their describes and the exact matches.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub candidates: Vec<Candidate>,
    pub describes: BTreeMap<String, Arc<SObjectDescribe>>,
    pub matches: Vec<Match>,
}

impl Discovery {
    pub fn matches_of<'a>(&'a self, object: &'a str) -> impl Iterator<Item = &'a Match> + 'a {
        self.matches.iter().filter(move |m| m.object == object)
    }
}

/// The email fields of `record` that equal one of `emails` (already lowercased), ignoring case
/// and surrounding blanks. Anything else, however similar, is not a match.
pub fn matched_fields(
    record: &Record,
    email_fields: &[String],
    emails: &[SubjectEmail],
) -> Vec<String> {
    email_fields
        .iter()
        .filter(|f| {
            record
                .get(f.as_str())
                .and_then(|v| v.as_str())
                .is_some_and(|v| {
                    let v = v.trim().to_lowercase();
                    emails.iter().any(|e| e.as_str() == v)
                })
        })
        .cloned()
        .collect()
}

/// SOSL statements: one search term per email, RETURNING lists split by object count and
/// statement length.
pub fn sosl_statements(emails: &[SubjectEmail], candidates: &[Candidate]) -> Vec<String> {
    let specs: Vec<String> = candidates
        .iter()
        .filter(|c| c.searchable)
        .map(|c| format!("{}(Id, {})", c.object, c.email_fields.join(", ")))
        .collect();
    let mut out = Vec::new();
    for email in emails {
        let head = format!(
            "FIND {{{}}} IN EMAIL FIELDS RETURNING ",
            sosl_escape(email.as_str())
        );
        let mut current: Vec<&str> = Vec::new();
        let mut len = head.len();
        for spec in &specs {
            let extra = spec.len() + 2;
            if !current.is_empty()
                && (current.len() >= SOSL_OBJECTS_PER_STATEMENT || len + extra > SOSL_MAX_CHARS)
            {
                out.push(format!("{head}{}", current.join(", ")));
                current.clear();
                len = head.len();
            }
            current.push(spec);
            len += extra;
        }
        if !current.is_empty() {
            out.push(format!("{head}{}", current.join(", ")));
        }
    }
    out
}

/// SOQL statements that find the subject's rows of one object by its email fields.
/// `extra_fields` are selected too (e.g. `IsConverted`), when the object has them.
pub fn soql_statements(
    emails: &[SubjectEmail],
    candidate: &Candidate,
    extra_fields: &[&str],
) -> Vec<String> {
    let mut fields = vec!["Id".to_string()];
    fields.extend(candidate.email_fields.iter().cloned());
    for f in extra_fields {
        if !fields.iter().any(|x| x.eq_ignore_ascii_case(f)) {
            fields.push((*f).to_string());
        }
    }
    emails
        .chunks(SOQL_IN_CHUNK)
        .map(|chunk| {
            let list = chunk
                .iter()
                .map(|e| soql_literal(e.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            let cond = candidate
                .email_fields
                .iter()
                .map(|f| format!("{f} IN ({list})"))
                .collect::<Vec<_>>()
                .join(" OR ");
            format!(
                "SELECT {} FROM {} WHERE {}",
                fields.join(", "),
                candidate.object,
                cond
            )
        })
        .collect()
}

/// The object of a record: `attributes.type`.
pub fn record_type(r: &Record) -> Option<&str> {
    r.get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(|t| t.as_str())
}

/// Merges one source's rows into the matches, re-checking each for an exact email match.
pub fn merge_rows(
    matches: &mut Vec<Match>,
    rows: &[Record],
    candidates: &[Candidate],
    emails: &[SubjectEmail],
    from_search: bool,
    fallback_object: Option<&str>,
) {
    for row in rows {
        let Some(object) = record_type(row).or(fallback_object) else {
            continue;
        };
        let Some(candidate) = candidates.iter().find(|c| c.object == object) else {
            continue;
        };
        let Some(id) = super::record_id(row) else {
            continue;
        };
        let fields = matched_fields(row, &candidate.email_fields, emails);
        if fields.is_empty() {
            continue;
        }
        match matches.iter_mut().find(|m| m.id == id) {
            Some(m) => {
                m.by_search |= from_search;
                m.by_query |= !from_search;
                for f in fields {
                    if !m.matched_fields.contains(&f) {
                        m.matched_fields.push(f);
                    }
                }
            }
            None => matches.push(Match {
                object: object.to_string(),
                id: id.to_string(),
                matched_fields: fields,
                by_search: from_search,
                by_query: !from_search,
            }),
        }
    }
}

/// Which objects to describe for a selection: `None` means every queryable object.
fn selected_names(selection: &ObjectSelection) -> Option<Vec<String>> {
    match selection {
        ObjectSelection::Default => Some(CORE_OBJECTS.iter().map(|s| s.to_string()).collect()),
        ObjectSelection::Listed(list) => Some(list.clone()),
        ObjectSelection::All => None,
    }
}

/// Describes the candidate objects of a selection.
pub async fn candidates(
    client: &SalesforceClient,
    selection: &ObjectSelection,
) -> Result<(Vec<Candidate>, BTreeMap<String, Arc<SObjectDescribe>>), SfError> {
    let names = match selected_names(selection) {
        Some(n) => n,
        None => client
            .describe_global()
            .await?
            .iter()
            .filter(|s| s.queryable)
            .map(|s| s.name.clone())
            .collect(),
    };
    let mut describes = BTreeMap::new();
    let mut out = Vec::new();
    for name in names {
        let d = match client.describe(&name).await {
            // A listed name the org does not have: say which, not a bare 404.
            Err(SfError::Api { status: 404, .. })
                if matches!(selection, ObjectSelection::Listed(_)) =>
            {
                return Err(SfError::Selection {
                    code: "INVALID_TYPE",
                    message: format!(
                        "options.objects names {name}, which this org does not have \
                         (or the integration user cannot see)"
                    ),
                });
            }
            other => other?,
        };
        match Candidate::from_describe(&d) {
            Some(c) => out.push(c),
            // Asked for by name but unsearchable by email: finding nothing there would read
            // as "the person has no records in it".
            None if matches!(selection, ObjectSelection::Listed(_)) => {
                return Err(SfError::Selection {
                    code: "NO_EMAIL_FIELD",
                    message: format!(
                        "options.objects names {name}, which has no email field the integration \
                         user can read: a subject cannot be found in it by email"
                    ),
                });
            }
            None => {}
        }
        describes.insert(d.name.clone(), d);
    }
    Ok((out, describes))
}

/// Finds the subject's records: SOSL over every searchable candidate, SOQL over the core
/// objects (and every listed object), each row re-checked.
pub async fn discover(
    client: &SalesforceClient,
    emails: &[SubjectEmail],
    selection: &ObjectSelection,
) -> Result<Discovery, SfError> {
    let (candidates, describes) = candidates(client, selection).await?;
    let mut matches = Vec::new();
    for sosl in sosl_statements(emails, &candidates) {
        let rows = client.search(&sosl).await?;
        merge_rows(&mut matches, &rows, &candidates, emails, true, None);
    }
    // SOQL on every candidate too: search lags writes by minutes and cannot reach objects that
    // are not searchable (CampaignMember), and with `all` a record missed here is a record
    // left behind. One query per object (per 200 emails).
    let soql_objects: Vec<&Candidate> = candidates.iter().filter(|c| c.queryable).collect();
    for c in soql_objects {
        for soql in soql_statements(emails, c, &[]) {
            let rows = client.query_all(&soql).await?;
            merge_rows(
                &mut matches,
                &rows,
                &candidates,
                emails,
                false,
                Some(&c.object),
            );
        }
    }
    tracing::info!(
        candidates = candidates.len(),
        matches = matches.len(),
        "discovery done"
    );
    Ok(Discovery {
        candidates,
        describes,
        matches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn email(s: &str) -> SubjectEmail {
        SubjectEmail::parse(s).unwrap()
    }

    fn row(object: &str, id: &str, fields: serde_json::Value) -> Record {
        let mut r = fields.as_object().unwrap().clone();
        r.insert("attributes".into(), json!({ "type": object }));
        r.insert("Id".into(), json!(id));
        r
    }

    fn contact() -> Candidate {
        Candidate {
            object: "Contact".into(),
            email_fields: vec!["Email".into(), "Secondary_Email__c".into()],
            searchable: true,
            queryable: true,
        }
    }

    #[test]
    fn exact_case_insensitive_match_only() {
        let emails = [email("Jane.Doe+x-y@Example.com")];
        let fields = contact().email_fields;
        let hit = row(
            "Contact",
            "003A",
            json!({"Email": " JANE.doe+X-y@example.COM "}),
        );
        assert_eq!(matched_fields(&hit, &fields, &emails), vec!["Email"]);
        let longer = row(
            "Contact",
            "003B",
            json!({"Email": "jane.doe+x-y@example.com.au"}),
        );
        assert!(matched_fields(&longer, &fields, &emails).is_empty());
        let prefix = row(
            "Contact",
            "003C",
            json!({"Email": "xjane.doe+x-y@example.com"}),
        );
        assert!(matched_fields(&prefix, &fields, &emails).is_empty());
        let second = row(
            "Contact",
            "003D",
            json!({"Email": null, "Secondary_Email__c": "jane.doe+x-y@example.com"}),
        );
        assert_eq!(
            matched_fields(&second, &fields, &emails),
            vec!["Secondary_Email__c"]
        );
    }

    #[test]
    fn merge_dedups_and_remembers_the_source() {
        let emails = [email("a@b.co")];
        let cands = [contact()];
        let mut m = Vec::new();
        merge_rows(
            &mut m,
            &[row("Contact", "003A", json!({"Email": "a@b.co"}))],
            &cands,
            &emails,
            true,
            None,
        );
        merge_rows(
            &mut m,
            &[
                row("Contact", "003A", json!({"Email": "A@B.CO"})),
                row("Contact", "003B", json!({"Email": "a@b.co"})),
            ],
            &cands,
            &emails,
            false,
            Some("Contact"),
        );
        assert_eq!(m.len(), 2);
        assert!(m[0].by_search && m[0].by_query);
        assert!(!m[1].by_search && m[1].by_query);
    }

    #[test]
    fn sosl_is_escaped_and_split() {
        let emails = [email("jane+x@example.com")];
        let cands: Vec<Candidate> = (0..45)
            .map(|i| Candidate {
                object: format!("Obj{i}__c"),
                email_fields: vec!["Email__c".into()],
                searchable: true,
                queryable: true,
            })
            .collect();
        let s = sosl_statements(&emails, &cands);
        assert_eq!(s.len(), 3);
        assert!(s[0].starts_with(
            "FIND {jane\\+x@example.com} IN EMAIL FIELDS RETURNING Obj0__c(Id, Email__c), "
        ));
        assert!(s.iter().all(|x| x.len() <= SOSL_MAX_CHARS));
        let total: usize = s.iter().map(|x| x.matches("(Id, ").count()).sum();
        assert_eq!(total, 45);
    }

    #[test]
    fn soql_uses_literals_on_every_email_field() {
        let emails = [email("o'neil@example.com")];
        let s = soql_statements(&emails, &contact(), &["IsPersonAccount"]);
        assert_eq!(
            s,
            vec![
                "SELECT Id, Email, Secondary_Email__c, IsPersonAccount FROM Contact WHERE Email IN ('o\\'neil@example.com') OR Secondary_Email__c IN ('o\\'neil@example.com')"
            ]
        );
    }
}
