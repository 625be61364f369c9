//! Copy requests: every field the integration user can read of every matched record (and, with
//! `objects: "all"`, of the matched Contacts' and Leads' associated records; unless objects are
//! listed, of the Individuals they link to), as [`ExportedRecord`]s. Read-only: no checkpoint is needed, a redelivery simply reads again.
//!
//! Fields come from the describe ([`readable_fields`], pure): compound fields are read through
//! their components; binary (`base64`) fields are skipped — the export is JSON, and files are
//! their own request.

use super::associated;
use super::discover;
use super::policy::Policy;
use super::{DsrContext, DsrError, DsrReport, outcome};
use crate::message::{
    DsrRequest, ExportedRecord, ObjectSelection, RecordOutcome, RecordOutcomeKind, ResultStatus,
};
use crate::salesforce::{SObjectDescribe, SalesforceClient};
use std::collections::BTreeMap;

/// Fields to read for an export.
pub fn readable_fields(d: &SObjectDescribe) -> Vec<String> {
    d.selectable_fields()
        .filter(|f| f.kind != "base64")
        .map(|f| f.name.clone())
        .collect()
}

/// Runs a copy request.
pub async fn run(
    client: &SalesforceClient,
    request: &DsrRequest,
    ctx: &DsrContext,
) -> Result<DsrReport, DsrError> {
    let discovery =
        discover::discover(client, &request.subject.emails, &request.options.objects).await?;
    let mut by_object: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &discovery.matches {
        by_object
            .entry(m.object.clone())
            .or_default()
            .push(m.id.clone());
    }
    let mut notes = Vec::new();
    if request.options.objects == ObjectSelection::All {
        let policy = Policy::from_overrides(&ctx.connection.child_policy)?;
        for parent in ["Contact", "Lead"] {
            let Some(ids) = by_object.get(parent).cloned() else {
                continue;
            };
            let d = client.describe(parent).await?;
            let (found, n) = associated::find(client, &d, &ids, &policy).await?;
            notes.extend(n);
            for a in found {
                let list = by_object.entry(a.object).or_default();
                if !list.contains(&a.id) {
                    list.push(a.id);
                }
            }
        }
    }
    let mut exported = Vec::new();
    let mut records = Vec::new();
    for (object, ids) in &by_object {
        export(client, object, ids, &mut records, &mut exported).await?;
    }
    // The Individual behind the subject's Contacts and Leads is the person's own record (name,
    // birth date, consent flags): part of what they have a right to see. A list of objects
    // asks for those objects only.
    if !matches!(request.options.objects, ObjectSelection::Listed(_)) {
        let individuals = linked_individuals(&exported);
        if !individuals.is_empty() {
            export(
                client,
                "Individual",
                &individuals,
                &mut records,
                &mut exported,
            )
            .await?;
        }
    }
    Ok(DsrReport {
        status: ResultStatus::Completed,
        records,
        exported,
        verification: (!notes.is_empty()).then(|| serde_json::json!({ "notes": notes })),
        plan: None,
        api_calls: 0,
    })
}

/// Reads and exports `ids` of `object`, every readable field.
async fn export(
    client: &SalesforceClient,
    object: &str,
    ids: &[String],
    records: &mut Vec<RecordOutcome>,
    exported: &mut Vec<ExportedRecord>,
) -> Result<(), DsrError> {
    let d = client.describe(object).await?;
    let fields = readable_fields(&d);
    for mut row in client.retrieve(object, ids, &fields).await? {
        let Some(id) = super::record_id(&row).map(str::to_string) else {
            continue;
        };
        row.remove("attributes");
        records.push(outcome(object, &id, RecordOutcomeKind::Copied));
        exported.push(ExportedRecord {
            object: object.to_string(),
            id,
            fields: row,
        });
    }
    Ok(())
}

/// Pure: the Individuals the exported Contacts and Leads point at that are not exported
/// already, each once, in the order first seen.
fn linked_individuals(exported: &[ExportedRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in exported
        .iter()
        .filter(|r| associated::INDIVIDUAL_PARENTS.contains(&r.object.as_str()))
    {
        let Some(ind) = r.fields.get("IndividualId").and_then(|v| v.as_str()) else {
            continue;
        };
        let known = out.iter().any(|x| x == ind)
            || exported
                .iter()
                .any(|e| e.object == "Individual" && e.id == ind);
        if !known {
            out.push(ind.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsr::values::tests::field;

    #[test]
    fn compounds_through_components_and_no_binaries() {
        let d = SObjectDescribe {
            name: "Contact".into(),
            label: String::new(),
            custom: false,
            queryable: true,
            searchable: true,
            deletable: true,
            updateable: true,
            createable: true,
            fields: vec![
                field("Id", "id", 18, false),
                field("MailingAddress", "address", 0, true),
                field("MailingCity", "string", 40, true),
                field("Photo__c", "base64", 0, true),
                field("Email", "email", 80, true),
            ],
            child_relationships: vec![],
        };
        assert_eq!(readable_fields(&d), vec!["Id", "MailingCity", "Email"]);
    }

    #[test]
    fn individuals_of_contacts_and_leads_once_and_not_twice() {
        let rec = |object: &str, id: &str, ind: Option<&str>| {
            let mut fields = serde_json::Map::new();
            if let Some(i) = ind {
                fields.insert("IndividualId".into(), serde_json::json!(i));
            }
            ExportedRecord {
                object: object.into(),
                id: id.into(),
                fields,
            }
        };
        let exported = vec![
            rec("Contact", "003A", Some("0PKA")),
            rec("Lead", "00QA", Some("0PKA")),
            rec("Lead", "00QB", Some("0PKB")),
            rec("Contact", "003C", None),
            rec("Case", "500A", Some("0PKC")),
            rec("Contact", "003D", Some("0PKD")),
            rec("Individual", "0PKD", None),
        ];
        assert_eq!(linked_individuals(&exported), vec!["0PKA", "0PKB"]);
    }
}
