//! Associated records: the children of each matched Contact, Lead and person account that the
//! [`Policy`](super::policy::Policy) says belong to the subject, found through the parent's
//! describe `childRelationships` (which also say whether deleting the parent cascades to the
//! child or is blocked by it).
//!
//! [`child_queries`] is pure; [`find`] runs its statements. A child object the integration user
//! cannot query is noted and skipped rather than failing the whole request.

use super::policy::Policy;
use crate::salesforce::soql_literal;
use crate::salesforce::{ErrorKind, SObjectDescribe, SalesforceClient, SfError};
use serde::{Deserialize, Serialize};

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
}
