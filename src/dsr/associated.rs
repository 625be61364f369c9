//! Associated records: the children of each matched Contact, Lead and person account that the
//! [`Policy`](super::policy::Policy) says belong to the subject, found through the parent's
//! describe `childRelationships` (which also say whether deleting the parent cascades to the
//! child or is blocked by it).
//!
//! [`child_queries`] is pure; [`find`] runs its statements. A child object the integration user
//! cannot query is noted and skipped rather than failing the whole request.
//!
//! Individuals are parents, not children: the callers read the `IndividualId` of the
//! subject's Contacts and Leads with their other fields, and [`individual_users`] says who else
//! points at those Individuals ([`usage`] is pure), so a shared one is kept.

use super::policy::Policy;
use crate::salesforce::soql_literal;
use crate::salesforce::{ErrorKind, SObjectDescribe, SalesforceClient, SfError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Parents whose children are looked at.
pub const PARENT_OBJECTS: [&str; 3] = ["Contact", "Lead", "Account"];
/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 200;

/// A record associated with one of the subject's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Associated {
    pub object: String,
    pub id: String,
    pub parent_object: String,
    pub parent_id: String,
    /// The child's field pointing at the parent.
    pub field: String,
    /// Deleting the parent deletes this record.
    pub cascade: bool,
    /// This record blocks deleting the parent.
    pub restricted: bool,
}

/// One query for one child relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildQuery {
    pub child: String,
    pub field: String,
    pub parent_object: String,
    pub cascade: bool,
    pub restricted: bool,
    pub soql: String,
}

/// The queries that find `parent`'s children covered by `policy`.
pub fn child_queries(
    parent: &SObjectDescribe,
    parent_ids: &[String],
    policy: &Policy,
) -> Vec<ChildQuery> {
    let mut out = Vec::new();
    if parent_ids.is_empty() {
        return out;
    }
    for rel in &parent.child_relationships {
        if !policy.deletes(&rel.child_sobject) || rel.child_sobject == parent.name {
            continue;
        }
        for chunk in parent_ids.chunks(IDS_PER_QUERY) {
            let list = chunk
                .iter()
                .map(|id| soql_literal(id))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(ChildQuery {
                child: rel.child_sobject.clone(),
                field: rel.field.clone(),
                parent_object: parent.name.clone(),
                cascade: rel.cascade_delete,
                restricted: rel.restricted_delete,
                soql: format!(
                    "SELECT Id, {f} FROM {c} WHERE {f} IN ({list})",
                    f = rel.field,
                    c = rel.child_sobject
                ),
            });
        }
    }
    out
}

/// Runs the child queries; returns the records found and notes about children skipped.
pub async fn find(
    client: &SalesforceClient,
    parent: &SObjectDescribe,
    parent_ids: &[String],
    policy: &Policy,
) -> Result<(Vec<Associated>, Vec<String>), SfError> {
    let mut found: Vec<Associated> = Vec::new();
    let mut notes = Vec::new();
    for q in child_queries(parent, parent_ids, policy) {
        let rows = match client.query_all(&q.soql).await {
            Ok(rows) => rows,
            Err(e) if e.kind() == ErrorKind::Permanent => {
                notes.push(format!(
                    "{} via {}: not queried ({})",
                    q.child,
                    q.field,
                    e.code()
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        for row in rows {
            let (Some(id), Some(parent_id)) = (
                super::record_id(&row),
                row.get(&q.field).and_then(|v| v.as_str()),
            ) else {
                continue;
            };
            if found.iter().any(|a| a.id == id) {
                continue;
            }
            found.push(Associated {
                object: q.child.clone(),
                id: id.to_string(),
                parent_object: q.parent_object.clone(),
                parent_id: parent_id.to_string(),
                field: q.field.clone(),
                cascade: q.cascade,
                restricted: q.restricted,
            });
        }
    }
    Ok((found, notes))
}

/// Objects whose `IndividualId` links a person to an Individual.
pub const INDIVIDUAL_PARENTS: [&str; 2] = ["Contact", "Lead"];

/// An Individual linked to one of the subject's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIndividual {
    pub id: String,
    /// Records outside the subject's that point at it (`Object`, `Id`).
    pub others: Vec<(String, String)>,
    /// Why other users could not be looked for (then it must be treated as shared).
    pub unchecked: Option<String>,
}

impl LinkedIndividual {
    /// Only the subject's records use it, as far as could be checked.
    pub fn only_subjects(&self) -> bool {
        self.others.is_empty() && self.unchecked.is_none()
    }
}

/// Pure: for each of `linked`, the records among `users` (`Object`, `Id`, `IndividualId`) that
/// are not in `ours`.
pub fn usage(
    linked: &[String],
    users: &[(String, String, String)],
    ours: &BTreeSet<&str>,
    unchecked: Option<&str>,
) -> Vec<LinkedIndividual> {
    linked
        .iter()
        .map(|ind| {
            let mut others: Vec<(String, String)> = users
                .iter()
                .filter(|(_, id, i)| i == ind && !ours.contains(id.as_str()))
                .map(|(o, id, _)| (o.clone(), id.clone()))
                .collect();
            others.dedup();
            LinkedIndividual {
                id: ind.clone(),
                others,
                unchecked: unchecked.map(str::to_string),
            }
        })
        .collect()
}

/// Which of [`INDIVIDUAL_PARENTS`] the org links to Individuals (describes are cached).
async fn linking_objects(client: &SalesforceClient) -> Result<Vec<&'static str>, SfError> {
    let mut out = Vec::new();
    for object in INDIVIDUAL_PARENTS {
        match client.describe(object).await {
            Ok(d) if d.field("IndividualId").is_some() => out.push(object),
            Ok(_) => {}
            // An org without Leads (or without access to them): nothing links through them.
            Err(e) if e.kind() == ErrorKind::Permanent => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Who outside `ours` uses each of the `linked` Individuals. An object whose users cannot be
/// queried leaves every Individual `unchecked` (to be treated as shared) instead of failing
/// the request.
pub async fn individual_users(
    client: &SalesforceClient,
    linked: &[String],
    ours: &BTreeSet<&str>,
) -> Result<Vec<LinkedIndividual>, SfError> {
    if linked.is_empty() {
        return Ok(Vec::new());
    }
    let mut users: Vec<(String, String, String)> = Vec::new();
    let mut unchecked: Option<String> = None;
    'objects: for object in linking_objects(client).await? {
        let head = format!("SELECT Id, IndividualId FROM {object} WHERE IndividualId IN");
        for soql in super::delete::in_queries(&head, linked) {
            let rows = match client.query_all(&soql).await {
                Ok(rows) => rows,
                Err(e) if e.kind() == ErrorKind::Permanent => {
                    unchecked = Some(format!("{object} not queried ({})", e.code()));
                    break 'objects;
                }
                Err(e) => return Err(e),
            };
            for r in rows {
                if let (Some(id), Some(ind)) = (
                    super::record_id(&r),
                    r.get("IndividualId").and_then(|v| v.as_str()),
                ) {
                    users.push((object.to_string(), id.to_string(), ind.to_string()));
                }
            }
        }
    }
    Ok(usage(linked, &users, ours, unchecked.as_deref()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::salesforce::ChildRelationship;

    pub(crate) fn rel(
        child: &str,
        field: &str,
        cascade: bool,
        restricted: bool,
    ) -> ChildRelationship {
        ChildRelationship {
            child_sobject: child.into(),
            field: field.into(),
            relationship_name: None,
            cascade_delete: cascade,
            restricted_delete: restricted,
        }
    }

    #[test]
    fn only_policy_children_are_queried() {
        let parent = SObjectDescribe {
            name: "Contact".into(),
            label: String::new(),
            custom: false,
            queryable: true,
            searchable: true,
            deletable: true,
            updateable: true,
            createable: true,
            fields: vec![],
            child_relationships: vec![
                rel("Case", "ContactId", false, true),
                rel("Task", "WhoId", true, false),
                rel("Opportunity", "ContactId", false, false),
                rel("CampaignMember", "ContactId", true, false),
            ],
        };
        let qs = child_queries(&parent, &["003A".into(), "003B".into()], &Policy::default());
        let children: Vec<&str> = qs.iter().map(|q| q.child.as_str()).collect();
        assert_eq!(children, vec!["Case", "Task", "CampaignMember"]);
        assert_eq!(
            qs[0].soql,
            "SELECT Id, ContactId FROM Case WHERE ContactId IN ('003A', '003B')"
        );
        assert!(qs[0].restricted && !qs[0].cascade);
    }

    #[test]
    fn an_individual_used_outside_the_subject_is_shared() {
        let linked = vec!["0PKA".to_string(), "0PKB".to_string()];
        let users = vec![
            (
                "Contact".to_string(),
                "003A".to_string(),
                "0PKA".to_string(),
            ),
            ("Lead".to_string(), "00QA".to_string(), "0PKA".to_string()),
            (
                "Contact".to_string(),
                "003B".to_string(),
                "0PKB".to_string(),
            ),
            (
                "Contact".to_string(),
                "003X".to_string(),
                "0PKB".to_string(),
            ),
        ];
        let ours: BTreeSet<&str> = ["003A", "00QA", "003B"].into_iter().collect();
        let u = usage(&linked, &users, &ours, None);
        assert!(u[0].only_subjects());
        assert_eq!(u[1].others, vec![("Contact".into(), "003X".into())]);
        assert!(!u[1].only_subjects());
        let u = usage(&linked, &users, &ours, Some("Lead not queried (X)"));
        assert!(!u[0].only_subjects(), "unknown usage counts as shared");
    }
}
