//! Copy requests: every field the integration user can read of every matched record (and, with
//! `objects: "all"`, of the matched Contacts' and Leads' associated records), as
//! [`ExportedRecord`]s. Read-only: no checkpoint is needed, a redelivery simply reads again.
//!
//! Fields come from the describe ([`readable_fields`], pure): compound fields are read through
//! their components; binary (`base64`) fields are skipped — the export is JSON, and files are
//! their own request.

use super::associated;
use super::discover;
use super::policy::Policy;
use super::{DsrContext, DsrError, DsrReport, outcome};
use crate::message::{
    DsrRequest, ExportedRecord, ObjectSelection, RecordOutcomeKind, ResultStatus,
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
        let policy =
            Policy::from_overrides(&ctx.connection.child_policy).map_err(DsrError::Invalid)?;
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
        let d = client.describe(object).await?;
        let fields = readable_fields(&d);
        for mut row in client.retrieve(object, ids, &fields).await? {
            let Some(id) = super::record_id(&row).map(str::to_string) else {
                continue;
            };
            row.remove("attributes");
            records.push(outcome(object, &id, RecordOutcomeKind::Copied));
            exported.push(ExportedRecord {
                object: object.clone(),
                id,
                fields: row,
            });
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
}
