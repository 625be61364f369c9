//! Anonymize requests against the emulator (issue 4): writes the org accepts (no compound
//! field, no nulled required field, valid unique emails, values within length, past a duplicate
//! rule), a refused field reported while the rest is anonymized, converted leads reported, and
//! the proof by digest, field history included.

mod dsr_harness;
mod sf_harness;

use dsr_harness::{Dsr, count, outcome_of, request};
use serde_json::json;
use sfprivacy::message::{
    DsrAction, ObjectSelection, RecordOutcomeKind as K, ResultStatus, SubjectEmail,
};

#[tokio::test]
async fn contact_and_lead_are_anonymized_with_values_the_org_accepts() {
    let t = Dsr::start().await;
    // A name-based duplicate rule (as Salesforce's standard ones), and records already holding
    // the placeholder name: every write of `LastName: Anonymized` matches them, so only the
    // client's `Sforce-Duplicate-Rule-Header: allowSave=true` gets the writes through.
    t.put(
        "/__emulator/settings",
        json!({"duplicateRules": true, "duplicateRuleFields": ["LastName"]}),
    )
    .await;
    t.insert(
        "Contact",
        vec![json!({"LastName": "Anonymized", "Email": "earlier@anonymized.invalid"})],
        true,
    )
    .await;
    t.insert(
        "Lead",
        vec![json!({"LastName": "Anonymized", "Company": "Earlier", "Status": "Open - Not Contacted"})],
        true,
    )
    .await;
    let email = "jane.doe@example.com";
    let c = t.insert("Contact", vec![json!({
        "Salutation": "Ms.", "FirstName": "Jane", "LastName": "Doe", "Email": email,
        "Phone": "+1 415 555 0100", "MobilePhone": "+1 415 555 0101", "Title": "CFO",
        "MailingStreet": "1 Main St", "MailingCity": "Springfield", "MailingPostalCode": "12345",
        "Birthdate": "1980-01-02"
    })], true).await;
    let l = t.insert("Lead", vec![json!({
        "FirstName": "Jane", "LastName": "Doe", "Company": "Doe Ltd", "Email": "JANE.DOE@example.com",
        "Phone": "+1 415 555 0100", "Website": "https://jane.example.com", "Status": "Open - Not Contacted"
    })], true).await;
    let case = t.insert("Case", vec![json!({"ContactId": c[0], "Subject": "help", "SuppliedName": "Jane Doe", "SuppliedEmail": email, "SuppliedPhone": "+1 415 555 0100"})], true).await;

    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    for id in [&c[0], &l[0], &case[0]] {
        let o = outcome_of(&report, id);
        assert_eq!(o.outcome, K::Anonymized, "{o:#?}");
        assert!(
            !o.fields
                .iter()
                .any(|f| f == "Name" || f.ends_with("Address")),
            "no compound field written"
        );
    }
    let contact_fields = &outcome_of(&report, &c[0]).fields;
    for f in [
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "MailingStreet",
        "Birthdate",
    ] {
        assert!(
            contact_fields.iter().any(|x| x == f),
            "{f} in {contact_fields:?}"
        );
    }

    let row = &t.live(&format!("SELECT Id, FirstName, LastName, Email, Phone, MailingCity, Birthdate FROM Contact WHERE Id = '{}'", c[0])).await[0];
    assert_eq!(
        row["LastName"],
        json!("Anonymized"),
        "required: a placeholder, never null"
    );
    assert_eq!(row["FirstName"], json!(null));
    assert_eq!(row["Birthdate"], json!(null));
    let new_email = row["Email"].as_str().unwrap();
    assert!(
        SubjectEmail::parse(new_email).is_some()
            && new_email.ends_with("@anonymized.invalid")
            && new_email.len() <= 80
    );
    let lead = &t
        .live(&format!(
            "SELECT Id, LastName, Company, Email FROM Lead WHERE Id = '{}'",
            l[0]
        ))
        .await[0];
    assert_ne!(
        lead["Email"], row["Email"],
        "placeholder addresses are unique"
    );
    assert!(
        lead["Company"].as_str().is_some_and(|s| !s.is_empty()),
        "required Company kept non-empty"
    );
    let case_row = &t
        .live(&format!(
            "SELECT Id, SuppliedName, SuppliedEmail FROM Case WHERE Id = '{}'",
            case[0]
        ))
        .await[0];
    assert_eq!(case_row["SuppliedName"], json!(null));
    assert_ne!(case_row["SuppliedEmail"], json!(email));

    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(true), "{proof:#}");
    assert_eq!(proof["original_values_remaining"], json!([]));
    assert!(
        !proof.to_string().contains("Jane"),
        "the proof never holds values"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_refused_field_is_reported_and_the_rest_anonymized() {
    let t = Dsr::start().await;
    // The org refuses a blank Title (a validation rule): the record is retried without it.
    t.put("/__emulator/settings", json!({"validationRules": [{"object": "Contact", "field": "Title", "message": "Title is required"}]})).await;
    let email = "kept.title@example.com";
    let c = t.insert("Contact", vec![json!({"FirstName": "Kim", "LastName": "Lee", "Email": email, "Title": "CTO", "Phone": "555 0100"})], true).await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    let o = outcome_of(&report, &c[0]);
    assert_eq!(o.outcome, K::Anonymized);
    assert_eq!(
        o.error_code.as_deref(),
        Some("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    );
    assert!(o.reason.as_deref().unwrap().contains("Title"));
    assert!(!o.fields.contains(&"Title".to_string()));
    assert_eq!(report.status, ResultStatus::Partial);
    let row = &t
        .live(&format!(
            "SELECT FirstName, Email, Phone, Title FROM Contact WHERE Id = '{}'",
            c[0]
        ))
        .await[0];
    assert_eq!(row["FirstName"], json!(null));
    assert_eq!(row["Phone"], json!(null));
    assert_eq!(row["Title"], json!("CTO"));
    let proof = report.verification.unwrap();
    assert_eq!(
        proof["original_values_remaining"][0]["field"],
        json!("Title"),
        "{proof:#}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn converted_leads_are_reported_and_fresh_records_found() {
    let t = Dsr::start().await;
    let email = "o-neil+x@example.co.uk";
    let conv = t.insert("Lead", vec![json!({"LastName": "O'Neil", "Company": "X", "Email": email, "IsConverted": true, "Status": "Closed - Converted"})], true).await;
    let fresh = t
        .insert(
            "Contact",
            vec![json!({"LastName": "O'Neil", "Email": email})],
            false,
        )
        .await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    let o = outcome_of(&report, &conv[0]);
    assert_eq!(o.outcome, K::Skipped);
    assert_eq!(
        o.error_code.as_deref(),
        Some("CANNOT_UPDATE_CONVERTED_LEAD")
    );
    assert_eq!(outcome_of(&report, &fresh[0]).outcome, K::Anonymized);
    assert_eq!(
        report.status,
        ResultStatus::Partial,
        "the converted lead still holds data"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_field_read_only_by_field_level_security_is_reported_and_the_rest_anonymized() {
    let t = Dsr::start().await;
    // The integration user may read Title but not edit it (FLS "Read-Only").
    t.put(
        "/__emulator/settings",
        json!({"readOnlyFields": [{"object": "Contact", "field": "Title"}]}),
    )
    .await;
    let email = "fls.title@example.com";
    let c = t.insert("Contact", vec![json!({"FirstName": "Ana", "LastName": "Ruiz", "Email": email, "Title": "CTO", "Phone": "555 0100"})], true).await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    let o = outcome_of(&report, &c[0]);
    assert_eq!(o.outcome, K::Anonymized, "{o:#?}");
    assert_eq!(
        o.error_code.as_deref(),
        Some("FIELD_NOT_UPDATEABLE"),
        "{o:#?}"
    );
    assert!(o.reason.as_deref().unwrap().contains("Title"), "{o:#?}");
    assert!(!o.fields.contains(&"Title".to_string()), "{o:#?}");
    assert_eq!(report.status, ResultStatus::Partial);
    let row = &t
        .live(&format!(
            "SELECT FirstName, Email, Phone, Title FROM Contact WHERE Id = '{}'",
            c[0]
        ))
        .await[0];
    assert_eq!(row["FirstName"], json!(null));
    assert_eq!(row["Phone"], json!(null));
    assert_ne!(row["Email"], json!(email));
    assert_eq!(row["Title"], json!("CTO"), "left as it was");
    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(false), "{proof:#}");
    assert_eq!(
        proof["original_values_remaining"][0]["field"],
        json!("Title"),
        "{proof:#}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn with_all_objects_a_person_account_is_anonymized_through_its_account() {
    // A seeded org with person accounts: the subject's address is the account's PersonEmail.
    let t = Dsr::start_seeded(5, 400).await;
    let rows = t
        .live("SELECT Id, PersonEmail, FirstName, LastName FROM Account WHERE IsPersonAccount = true AND PersonEmail != null LIMIT 1")
        .await;
    let row = &rows[0];
    let id = row["Id"].as_str().unwrap();
    let email = row["PersonEmail"].as_str().unwrap().to_string();
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[&email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    let o = outcome_of(&report, id);
    assert_eq!(
        (o.object.as_str(), o.outcome),
        ("Account", K::Anonymized),
        "{o:#?}"
    );
    for f in ["PersonEmail", "FirstName", "LastName"] {
        assert!(o.fields.iter().any(|x| x == f), "{f} in {:?}", o.fields);
    }
    let after = &t
        .live(&format!(
            "SELECT PersonEmail, FirstName, LastName FROM Account WHERE Id = '{id}'"
        ))
        .await[0];
    assert_ne!(after["PersonEmail"], row["PersonEmail"]);
    assert_ne!(after["FirstName"], row["FirstName"]);
    assert_ne!(after["LastName"], row["LastName"]);
    assert_eq!(report.verification.unwrap()["ok"], serde_json::json!(true));
    t.cleanup().await;
}

/// The subject's own Individual is anonymized (placeholders where required, nulls elsewhere,
/// no compound field) and re-read in the proof, whichever objects the request selects.
async fn the_subjects_individual_is_anonymized_and_proven(selection: ObjectSelection) {
    let t = Dsr::start().await;
    let email = "ivy.indi@example.com";
    let ind = t.insert("Individual", vec![json!({"Salutation": "Ms.", "FirstName": "Ivy", "LastName": "Indi", "BirthDate": "1979-03-04"})], false).await;
    let c = t.insert("Contact", vec![json!({"FirstName": "Ivy", "LastName": "Indi", "Email": email, "IndividualId": ind[0]})], true).await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], selection),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    assert_eq!(outcome_of(&report, &c[0]).outcome, K::Anonymized);
    let o = outcome_of(&report, &ind[0]);
    assert_eq!(
        (o.object.as_str(), o.outcome),
        ("Individual", K::Anonymized),
        "{o:#?}"
    );
    for f in ["Salutation", "FirstName", "LastName", "BirthDate"] {
        assert!(o.fields.iter().any(|x| x == f), "{f} in {:?}", o.fields);
    }
    assert!(
        !o.fields.iter().any(|f| f == "Name"),
        "no compound field written"
    );
    let row = &t
        .live(&format!(
            "SELECT Salutation, FirstName, LastName, BirthDate FROM Individual WHERE Id = '{}'",
            ind[0]
        ))
        .await[0];
    assert_eq!(
        row["LastName"],
        json!("Anonymized"),
        "required: a placeholder"
    );
    assert_eq!(row["FirstName"], json!(null));
    assert_eq!(row["Salutation"], json!(null));
    assert_eq!(row["BirthDate"], json!(null));
    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(true), "{proof:#}");
    assert_eq!(proof["original_values_remaining"], json!([]));
    assert_eq!(
        proof["records_rechecked"],
        json!(2),
        "the Individual is re-read too: {proof:#}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn the_subjects_individual_is_anonymized_and_proven_by_default() {
    the_subjects_individual_is_anonymized_and_proven(ObjectSelection::Default).await;
}

#[tokio::test]
async fn with_all_objects_the_subjects_individual_is_anonymized_and_proven() {
    the_subjects_individual_is_anonymized_and_proven(ObjectSelection::All).await;
}

#[tokio::test]
async fn an_individual_shared_with_someone_else_is_kept_and_reported() {
    let t = Dsr::start().await;
    let email = "sam.shared@example.com";
    let ind = t
        .insert(
            "Individual",
            vec![json!({"FirstName": "Sam", "LastName": "Shared", "BirthDate": "1985-07-08"})],
            false,
        )
        .await;
    let c = t.insert("Contact", vec![json!({"FirstName": "Sam", "LastName": "Shared", "Email": email, "IndividualId": ind[0]})], true).await;
    let other = t.insert("Contact", vec![json!({"FirstName": "Pat", "LastName": "Other", "Email": "pat.other@example.com", "IndividualId": ind[0]})], true).await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(outcome_of(&report, &c[0]).outcome, K::Anonymized);
    let o = outcome_of(&report, &ind[0]);
    assert_eq!(
        (o.object.as_str(), o.outcome),
        ("Individual", K::Skipped),
        "{o:#?}"
    );
    assert_eq!(o.error_code.as_deref(), Some("INDIVIDUAL_SHARED"));
    assert!(o.reason.as_deref().unwrap().contains(&other[0]), "{o:#?}");
    assert!(o.fields.is_empty());
    assert_eq!(
        report.status,
        ResultStatus::Partial,
        "the Individual still holds data"
    );
    let row = &t
        .live(&format!(
            "SELECT FirstName, LastName, BirthDate FROM Individual WHERE Id = '{}'",
            ind[0]
        ))
        .await[0];
    assert_eq!(row["FirstName"], json!("Sam"), "left as it was");
    assert_eq!(row["BirthDate"], json!("1985-07-08"));
    let other_row = &t
        .live(&format!(
            "SELECT FirstName, IndividualId FROM Contact WHERE Id = '{}'",
            other[0]
        ))
        .await[0];
    assert_eq!(other_row["FirstName"], json!("Pat"));
    assert_eq!(other_row["IndividualId"], json!(ind[0]));
    t.cleanup().await;
}

#[tokio::test]
async fn in_a_seeded_org_the_contacts_individual_is_anonymized_with_all_objects() {
    // The trial's repro: a seeded contact, its Individual, `objects: "all"`.
    let t = Dsr::start_seeded(7, 400).await;
    let rows = t
        .live("SELECT Id, Email, IndividualId FROM Contact WHERE Email != null AND IndividualId != null LIMIT 1")
        .await;
    let email = rows[0]["Email"].as_str().unwrap().to_string();
    let ind = rows[0]["IndividualId"].as_str().unwrap().to_string();
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[&email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    let o = outcome_of(&report, &ind);
    assert_eq!(
        (o.object.as_str(), o.outcome),
        ("Individual", K::Anonymized),
        "{o:#?}"
    );
    let after = &t
        .live(&format!(
            "SELECT FirstName, LastName, BirthDate FROM Individual WHERE Id = '{ind}'"
        ))
        .await[0];
    assert_eq!(after["FirstName"], json!(null));
    assert_eq!(after["LastName"], json!("Anonymized"));
    assert_eq!(after["BirthDate"], json!(null));
    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(true), "{proof:#}");
    assert_eq!(proof["original_values_remaining"], json!([]));
    t.cleanup().await;
}

/// A seeded person account and its person Contact: (account row, contact row), every field
/// the test compares.
async fn seeded_person_account(t: &Dsr) -> (serde_json::Value, serde_json::Value) {
    let rows = t
        .live("SELECT Id, PersonContactId, Name, PersonEmail, Salutation, FirstName, LastName, Phone, PersonMobilePhone, PersonHomePhone, PersonBirthdate, PersonMailingStreet, PersonMailingCity, PersonMailingPostalCode FROM Account WHERE IsPersonAccount = true AND PersonEmail != null LIMIT 1")
        .await;
    let account = serde_json::Value::Object(rows[0].clone());
    let pc = account["PersonContactId"].as_str().unwrap();
    let contact = serde_json::Value::Object(
        t.live(&format!("SELECT Id, IsPersonAccount, AccountId, Name, Email, Salutation, FirstName, LastName, Phone, MobilePhone, HomePhone, Birthdate, MailingStreet, MailingCity, MailingPostalCode FROM Contact WHERE Id = '{pc}'"))
            .await[0]
            .clone(),
    );
    assert_eq!(contact["IsPersonAccount"], json!(true));
    assert_eq!(contact["AccountId"], account["Id"]);
    assert_eq!(
        contact["Email"], account["PersonEmail"],
        "the person's fields live on both"
    );
    (account, contact)
}

/// Fields of `before` (other than ids and flags) whose value is still in `after`.
fn values_left(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    before
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| {
            !matches!(
                k.as_str(),
                "attributes" | "Id" | "PersonContactId" | "AccountId" | "IsPersonAccount"
            ) && !v.is_null()
                && after[k.as_str()] == **v
        })
        .map(|(k, _)| k.clone())
        .collect()
}

#[tokio::test]
async fn by_default_a_person_account_found_through_its_contact_is_anonymized_through_its_account() {
    // The default selection (User, Lead, Contact) finds the person Contact by its Email; the
    // person's fields are written on the Account, which Salesforce keeps in step with the Contact.
    let t = Dsr::start_seeded(5, 400).await;
    let (account, contact) = seeded_person_account(&t).await;
    let (acc, pc) = (
        account["Id"].as_str().unwrap().to_string(),
        contact["Id"].as_str().unwrap().to_string(),
    );
    let email = contact["Email"].as_str().unwrap().to_string();
    // A contact point under the Account (not the Contact): the person's data too.
    let point = t
        .insert(
            "ContactPointEmail",
            vec![json!({"ParentId": acc, "EmailAddress": email})],
            true,
        )
        .await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[&email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    let a = outcome_of(&report, &acc);
    assert_eq!(
        (a.object.as_str(), a.outcome),
        ("Account", K::Anonymized),
        "{a:#?}"
    );
    for f in ["PersonEmail", "FirstName", "LastName", "PersonMobilePhone"] {
        assert!(a.fields.iter().any(|x| x == f), "{f} in {:?}", a.fields);
    }
    let c = outcome_of(&report, &pc);
    assert_eq!(
        (c.object.as_str(), c.outcome),
        ("Contact", K::Anonymized),
        "{c:#?}"
    );
    assert!(
        c.fields.is_empty(),
        "the Contact is not written itself: {c:#?}"
    );
    assert!(c.reason.as_deref().unwrap().contains(&acc), "{c:#?}");

    let account_after = serde_json::Value::Object(
        t.live(&format!("SELECT Id, PersonContactId, Name, PersonEmail, Salutation, FirstName, LastName, Phone, PersonMobilePhone, PersonHomePhone, PersonBirthdate, PersonMailingStreet, PersonMailingCity, PersonMailingPostalCode FROM Account WHERE Id = '{acc}'"))
            .await[0]
            .clone(),
    );
    let contact_after = serde_json::Value::Object(
        t.live(&format!("SELECT Id, IsPersonAccount, AccountId, Name, Email, Salutation, FirstName, LastName, Phone, MobilePhone, HomePhone, Birthdate, MailingStreet, MailingCity, MailingPostalCode FROM Contact WHERE Id = '{pc}'"))
            .await[0]
            .clone(),
    );
    assert_eq!(values_left(&account, &account_after), Vec::<String>::new());
    assert_eq!(values_left(&contact, &contact_after), Vec::<String>::new());
    assert_eq!(contact_after["Email"], account_after["PersonEmail"]);
    let point_after = t
        .live(&format!(
            "SELECT EmailAddress FROM ContactPointEmail WHERE Id = '{}'",
            point[0]
        ))
        .await;
    assert_ne!(
        point_after[0].get("EmailAddress").and_then(|v| v.as_str()),
        Some(email.as_str()),
        "the Account's contact point is anonymized too"
    );
    assert_eq!(outcome_of(&report, &point[0]).outcome, K::Anonymized);
    // A person account keeps a last name (Salesforce requires one): the placeholder, not null.
    assert_eq!(
        account_after["LastName"],
        json!("Anonymized"),
        "{account_after:#}"
    );
    assert_eq!(
        contact_after["LastName"],
        json!("Anonymized"),
        "{contact_after:#}"
    );
    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(true), "{proof:#}");
    assert_eq!(proof["original_values_remaining"], json!([]));
    assert_eq!(
        proof["records_rechecked"],
        json!(3),
        "the Account, its Contact and the Account's contact point are re-read: {proof:#}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn with_all_objects_a_person_account_matched_twice_is_written_once() {
    // `objects: "all"` matches the Account (PersonEmail) and its Contact (Email).
    let t = Dsr::start_seeded(5, 400).await;
    let (account, contact) = seeded_person_account(&t).await;
    let (acc, pc) = (
        account["Id"].as_str().unwrap(),
        contact["Id"].as_str().unwrap(),
    );
    let email = contact["Email"].as_str().unwrap().to_string();
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[&email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    for id in [acc, pc] {
        assert_eq!(
            report.records.iter().filter(|r| r.id == id).count(),
            1,
            "{report:#?}"
        );
    }
    assert_eq!(outcome_of(&report, acc).outcome, K::Anonymized);
    assert_eq!(outcome_of(&report, pc).outcome, K::Anonymized);
    assert_eq!(report.verification.unwrap()["ok"], json!(true));
    t.cleanup().await;
}

/// A Contact whose history rows hold its values: `(contact id, [rows holding a value, the row
/// that does not])`.
async fn contact_with_history(t: &Dsr, email: &str) -> (String, Vec<String>) {
    let c = t
        .insert(
            "Contact",
            vec![json!({"FirstName": "Hal", "LastName": "Hist", "Email": email, "Phone": "555 0199"})],
            true,
        )
        .await;
    let rows = t
        .insert(
            "ContactHistory",
            vec![
                json!({"ContactId": c[0], "Field": "Email", "OldValue": null, "NewValue": email}),
                json!({"ContactId": c[0], "Field": "LastName", "OldValue": "Histo", "NewValue": "Hist"}),
                json!({"ContactId": c[0], "Field": "MailingCity", "OldValue": "Nowhere", "NewValue": "Elsewhere"}),
            ],
            true,
        )
        .await;
    (c[0].clone(), rows)
}

async fn history_rows_of(t: &Dsr, contact: &str) -> Vec<String> {
    let mut ids: Vec<String> = t
        .live(&format!(
            "SELECT Id FROM ContactHistory WHERE ContactId = '{contact}'"
        ))
        .await
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn listed_history(proof: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = proof["field_history"]["rows_holding_old_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn history_rows_holding_old_values_are_listed_as_remaining_when_deletion_is_off() {
    let t = Dsr::start().await;
    let email = "hist.kept@example.com";
    let (c, rows) = contact_with_history(&t, email).await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(outcome_of(&report, &c).outcome, K::Anonymized);
    let proof = report.verification.clone().unwrap();
    let mut holding = rows[..2].to_vec();
    holding.sort();
    assert_eq!(listed_history(&proof), holding, "{proof:#}");
    let fh = &proof["field_history"];
    assert_eq!(
        (&fh["deletion_allowed"], &fh["deleted"], &fh["remaining"]),
        (&json!(false), &json!(0), &json!(2))
    );
    assert_eq!(proof["ok"], json!(false));
    assert_eq!(report.status, ResultStatus::Partial);
    let mut all = rows.clone();
    all.sort();
    assert_eq!(history_rows_of(&t, &c).await, all, "nothing deleted");
    t.cleanup().await;
}

#[tokio::test]
async fn history_rows_holding_old_values_are_deleted_when_the_connection_allows_it() {
    let t = Dsr::start().await;
    // The integration user holds Delete From Field History.
    t.put("/__emulator/settings", json!({"deleteFieldHistory": true}))
        .await;
    let email = "hist.deleted@example.com";
    let (c, rows) = contact_with_history(&t, email).await;
    let mut ctx = t.context();
    ctx.connection.delete_field_history = true;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &ctx,
        )
        .await;
    let proof = report.verification.clone().unwrap();
    let mut holding = rows[..2].to_vec();
    holding.sort();
    assert_eq!(listed_history(&proof), holding, "{proof:#}");
    let fh = &proof["field_history"];
    assert_eq!(
        (&fh["deleted"], &fh["remaining"], &fh["delete_errors"]),
        (&json!(2), &json!(0), &json!([]))
    );
    assert_eq!(proof["ok"], json!(true), "{proof:#}");
    assert_eq!(report.status, ResultStatus::Completed);
    assert_eq!(
        history_rows_of(&t, &c).await,
        vec![rows[2].clone()],
        "only the row holding none of the values is left"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_history_object_that_cannot_be_read_makes_the_proof_fail() {
    let t = Dsr::start().await;
    let email = "hist.unread@example.com";
    let (c, _) = contact_with_history(&t, email).await;
    // The profile lost read access to ContactHistory (describe still lists it).
    t.put(
        "/__emulator/settings",
        json!({"unreadableObjects": ["ContactHistory"]}),
    )
    .await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(outcome_of(&report, &c).outcome, K::Anonymized);
    let proof = report.verification.clone().unwrap();
    assert_eq!(
        proof["field_history"]["read_errors"],
        json!([{"object": "ContactHistory", "error_code": "INVALID_TYPE", "records": 1}]),
        "{proof:#}"
    );
    assert_eq!(proof["ok"], json!(false), "history not read is not proven");
    assert_eq!(report.status, ResultStatus::Partial);
    t.cleanup().await;
}

#[tokio::test]
async fn a_field_shorter_than_the_placeholders_gets_them_cut_to_its_length() {
    let t = Dsr::start().await;
    // LastName (required: gets the text placeholder) and Email (always a placeholder address)
    // shorter than our placeholders.
    t.put(
        "/__emulator/settings",
        json!({"fieldLengths": [
            {"object": "Contact", "field": "LastName", "length": 5},
            {"object": "Contact", "field": "Email", "length": 30},
        ]}),
    )
    .await;
    let email = "s@example.com";
    let c = t
        .insert(
            "Contact",
            vec![json!({"LastName": "Short", "Email": email})],
            true,
        )
        .await;
    let report = t
        .run(
            &request(DsrAction::Anonymize, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    let o = outcome_of(&report, &c[0]);
    assert_eq!(
        (o.outcome, o.error_code.as_deref()),
        (K::Anonymized, None),
        "{o:#?}"
    );
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    let row = &t
        .live(&format!(
            "SELECT LastName, Email FROM Contact WHERE Id = '{}'",
            c[0]
        ))
        .await[0];
    assert_eq!(row["LastName"], json!("Anony"));
    let new_email = row["Email"].as_str().unwrap();
    assert!(
        new_email.len() <= 30 && new_email.ends_with("@anonymized.invalid"),
        "{new_email}"
    );
    t.cleanup().await;
}

fn write_calls(counters: &serde_json::Value) -> u64 {
    counters["endpoints"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("PATCH") || k.starts_with("DELETE"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_its_plan_lists_the_value_kinds() {
    let t = Dsr::start().await;
    let email = "dry.anon@example.com";
    let c = t
        .insert(
            "Contact",
            vec![
                json!({"FirstName": "Dee", "LastName": "Ry", "Email": email, "Phone": "555 0142"}),
            ],
            true,
        )
        .await;
    t.reset_counters().await;
    let mut req = request(DsrAction::Anonymize, &[email], ObjectSelection::Default);
    req.options.dry_run = true;
    let report = t.run(&req, &t.context()).await;
    assert_eq!(write_calls(&t.counters().await), 0, "no PATCH, no DELETE");
    assert_eq!(outcome_of(&report, &c[0]).outcome, K::Planned);
    assert!(report.verification.is_none());
    let plan = report.plan.unwrap();
    assert_eq!(plan["action"], json!("anonymize"));
    // FirstName and Phone nulled, LastName (required) the text placeholder, Email an address.
    assert_eq!(
        plan["value_kinds"],
        json!({"email_placeholder": 1, "null": 2, "placeholder": 1}),
        "{plan:#}"
    );
    let line = plan["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(c[0]))
        .unwrap();
    let kind_of = |field: &str| {
        line["writes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["field"] == json!(field))
            .map(|w| w["value_kind"].clone())
    };
    assert_eq!(kind_of("Email"), Some(json!("email_placeholder")));
    assert_eq!(kind_of("LastName"), Some(json!("placeholder")));
    assert!(
        !plan.to_string().contains("Dee"),
        "the plan holds no values"
    );
    let row = &t
        .live(&format!(
            "SELECT FirstName, Email FROM Contact WHERE Id = '{}'",
            c[0]
        ))
        .await[0];
    assert_eq!(
        (&row["FirstName"], &row["Email"]),
        (&json!("Dee"), &json!(email))
    );
    t.cleanup().await;
}

#[tokio::test]
async fn an_interrupted_anonymize_resumes_from_its_checkpointed_plan_into_one_report() {
    let t = Dsr::start().await;
    let email = "many.anon@example.com";
    let records: Vec<_> = (0..300)
        .map(|i| json!({"LastName": format!("A{i}"), "Email": email}))
        .collect();
    let ids = t.insert("Contact", records, true).await;
    let ctx = t.context_with_checkpoints().await;
    let req = request(DsrAction::Anonymize, &[email], ObjectSelection::Default);

    // Salesforce goes away after the first PATCH (the retrieve of the contacts is the first
    // `composite` call).
    t.put("/__emulator/faults", json!({"fail_next": [{"endpoint": "composite", "kind": "SERVER_UNAVAILABLE", "count": 1000, "after": 2}]})).await;
    let err = sfprivacy::dsr::execute(&t.client.for_job(), &req, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), sfprivacy::dsr::DsrErrorKind::Transient);
    let saved = ctx
        .checkpoints
        .as_ref()
        .unwrap()
        .outcomes(&req.request_id)
        .await
        .unwrap();
    assert_eq!(saved.len(), 200, "the first chunk's outcomes were saved");

    // A record that arrives before the redelivery: a fresh plan would include it, the
    // checkpointed one does not.
    let late = t
        .insert(
            "Contact",
            vec![json!({"LastName": "Late", "Email": email})],
            true,
        )
        .await;
    t.h.admin(reqwest::Method::DELETE, "/__emulator/faults", json!({}))
        .await;
    t.reset_counters().await;
    let report = t.run(&req, &ctx).await;
    let counters = t.counters().await;
    assert_eq!(
        write_calls(&counters),
        1,
        "only the 100 records not yet written: {counters:#}"
    );
    assert!(
        !counters["endpoints"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.contains("search")),
        "no new search: the plan was reused: {counters:#}"
    );
    assert_eq!(
        report.status,
        ResultStatus::Completed,
        "{:#?}",
        report.verification
    );
    assert_eq!(
        report.verification.as_ref().unwrap()["resumed"],
        json!(true)
    );
    assert_eq!(report.records.len(), 300);
    assert_eq!(count(&report, K::Anonymized), 300);
    assert!(
        ids.iter()
            .all(|id| outcome_of(&report, id).outcome == K::Anonymized)
    );
    assert!(!report.records.iter().any(|r| r.id == late[0]));
    let left = t
        .live(&format!("SELECT Id FROM Contact WHERE Email = '{email}'"))
        .await;
    assert_eq!(
        left.len(),
        1,
        "only the late Contact still holds the address"
    );
    t.cleanup().await;
}
