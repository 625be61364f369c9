//! Write rules over HTTP, each failing with Salesforce's status, errorCode and message form.

use reqwest::Method;
use serde_json::{Value, json};
use sf_emulator::EmulatorConfig;

mod common;

struct App {
    s: common::Session,
}

impl App {
    async fn start() -> App {
        let config = EmulatorConfig {
            seed: 3,
            size: 0,
            ..Default::default()
        };
        App {
            s: common::Session::start(config, "v59.0").await,
        }
    }
    async fn call(
        &self,
        m: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        self.s.call(m, path, body, headers).await
    }
    async fn create(&self, object: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, &format!("sobjects/{object}"), Some(body), &[])
            .await
    }
}

fn code(v: &Value) -> &str {
    v[0]["errorCode"].as_str().unwrap_or("")
}

#[tokio::test]
async fn field_rules() {
    let app = App::start().await;
    let (s, e) = app.create("Contact", json!({"FirstName": "A"})).await;
    assert_eq!((s, code(&e)), (400, "REQUIRED_FIELD_MISSING"));
    assert_eq!(e[0]["message"], "Required fields are missing: [LastName]");
    assert_eq!(e[0]["fields"], json!(["LastName"]));
    let (_, e) = app
        .create("Contact", json!({"LastName": "A", "Email": "not-an-email"}))
        .await;
    assert_eq!(code(&e), "INVALID_EMAIL_ADDRESS");
    assert_eq!(
        e[0]["message"],
        "Email: invalid email address: not-an-email"
    );
    let (_, e) = app
        .create("Contact", json!({"LastName": "x".repeat(81)}))
        .await;
    assert_eq!(code(&e), "STRING_TOO_LONG");
    assert!(
        e[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(max length=80)")
    );
    let (_, e) = app
        .create(
            "Contact",
            json!({"LastName": "A", "Name": "A B", "MailingAddress": {"city": "X"}}),
        )
        .await;
    assert_eq!(code(&e), "INVALID_FIELD_FOR_INSERT_UPDATE");
    assert_eq!(e[0]["fields"], json!(["Name", "MailingAddress"]));
    let (_, e) = app
        .create("Contact", json!({"LastName": "A", "Foo__c": 1}))
        .await;
    assert_eq!(code(&e), "INVALID_FIELD");
    let (_, e) = app
        .create(
            "Contact",
            json!({"LastName": "A", "AccountId": "001000000000zzz"}),
        )
        .await;
    assert_eq!(code(&e), "INVALID_CROSS_REFERENCE_KEY");
    let (s, e) = app.create("Campaign", json!({"Name": "C"})).await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "insufficient access rights on object id",
        Some(json!([])),
    );
    let (s, e) = app
        .call(
            Method::DELETE,
            "sobjects/User/005000000000001AAA",
            None,
            &[],
        )
        .await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "insufficient access rights on object id",
        Some(json!([])),
    );
    let (_, ok) = app
        .create(
            "Inventory_Item__c",
            json!({"Name": "Bolt", "Sku__c": "SKU-1"}),
        )
        .await;
    assert_eq!(ok["success"], true);
    let (_, e) = app
        .create(
            "Inventory_Item__c",
            json!({"Name": "Bolt 2", "Sku__c": "sku-1"}),
        )
        .await;
    assert_eq!(code(&e), "DUPLICATE_VALUE");
    assert!(
        e[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("duplicate value found: Sku__c duplicates value on record with id: ")
    );
}

#[tokio::test]
async fn duplicate_rules_and_validation_rules() {
    let app = App::start().await;
    app.create(
        "Lead",
        json!({"LastName": "A", "Company": "C", "Email": "dup@example.com"}),
    )
    .await;
    let (_, e) = app
        .create(
            "Lead",
            json!({"LastName": "B", "Company": "C", "Email": "DUP@example.com"}),
        )
        .await;
    assert_eq!(code(&e), "DUPLICATES_DETECTED");
    let (s, v) = app
        .call(
            Method::POST,
            "sobjects/Lead",
            Some(json!({"LastName": "B", "Company": "C", "Email": "dup@example.com"})),
            &[("Sforce-Duplicate-Rule-Header", "allowSave=true")],
        )
        .await;
    assert_eq!((s, v["success"].as_bool()), (201, Some(true)));
    let rules = json!({"validationRules": [{"object": "Contact", "field": "Phone", "pattern": "^\\+", "message": "Phone must start with +"}]});
    let (s, _) = app
        .call(Method::PUT, "/__emulator/settings", Some(rules), &[])
        .await;
    assert_eq!(s, 200);
    let (_, e) = app
        .create("Contact", json!({"LastName": "V", "Phone": "555 1234"}))
        .await;
    assert_eq!(
        (code(&e), e[0]["message"].as_str()),
        (
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            Some("Phone must start with +")
        )
    );
    let (_, v) = app
        .create("Contact", json!({"LastName": "V", "Phone": "+1 555 1234"}))
        .await;
    assert_eq!(v["success"], true);
}

/// The duplicate rule matching on name instead of email, a field length set at run time, and
/// an object the profile cannot read.
#[tokio::test]
async fn configurable_duplicate_rule_field_lengths_and_unreadable_objects() {
    let app = App::start().await;
    let put = |body: Value| app.call(Method::PUT, "/__emulator/settings", Some(body), &[]);
    let (s, v) = put(json!({"duplicateRuleFields": ["LastName"], "fieldLengths": [{"object": "contact", "field": "lastname", "length": 5}], "unreadableObjects": ["ContactHistory"]})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["fieldLengths"][0]["field"], "LastName");
    let (_, a) = app.create("Contact", json!({"LastName": "Smith"})).await;
    assert_eq!(a["success"], true, "{a}");
    let (_, e) = app
        .create(
            "Contact",
            json!({"LastName": "SMITH", "Email": "x@example.com"}),
        )
        .await;
    assert_eq!(code(&e), "DUPLICATES_DETECTED");
    // An update that leaves the matched field alone is not checked.
    let (_, b) = app.create("Contact", json!({"LastName": "Jones"})).await;
    let b = b["id"].as_str().unwrap().to_string();
    let (s, e) = app
        .call(
            Method::PATCH,
            &format!("sobjects/Contact/{b}"),
            Some(json!({"LastName": "smith"})),
            &[],
        )
        .await;
    assert_eq!((s, code(&e)), (400, "DUPLICATES_DETECTED"));
    let (s, _) = app
        .call(
            Method::PATCH,
            &format!("sobjects/Contact/{b}"),
            Some(json!({"LastName": "smith"})),
            &[("Sforce-Duplicate-Rule-Header", "allowSave=true")],
        )
        .await;
    assert_eq!(s, 204);

    let (_, e) = app.create("Contact", json!({"LastName": "Longer"})).await;
    assert_eq!(code(&e), "STRING_TOO_LONG");
    let (_, d) = app
        .call(Method::GET, "sobjects/Contact/describe", None, &[])
        .await;
    let last = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "LastName")
        .unwrap();
    assert_eq!(last["length"], 5);

    let (s, e) = app
        .call(
            Method::GET,
            "query?q=SELECT+Id+FROM+ContactHistory",
            None,
            &[],
        )
        .await;
    assert_eq!((s, code(&e)), (400, "INVALID_TYPE"));
    let (s, _) = app
        .call(Method::GET, "query?q=SELECT+Id+FROM+LeadHistory", None, &[])
        .await;
    assert_eq!(s, 200);
    let (s, _) = put(json!({"unreadableObjects": ["NoSuchThing"]})).await;
    assert_eq!(s, 400);
}

/// Field history rows are deleted only with the Delete From Field History permission, and then
/// for good.
#[tokio::test]
async fn field_history_is_deleted_only_with_the_permission() {
    let app = App::start().await;
    let (_, c) = app.create("Contact", json!({"LastName": "Hist"})).await;
    let contact = c["id"].as_str().unwrap().to_string();
    let (s, v) = app
        .call(
            Method::POST,
            "/__emulator/records/ContactHistory",
            Some(json!({"ContactId": contact, "Field": "LastName", "OldValue": "Old", "NewValue": "Hist"})),
            &[],
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let row = v["ids"][0].as_str().unwrap().to_string();
    let path = format!("composite/sobjects?ids={row}&allOrNone=false");
    let delete = || app.call(Method::DELETE, &path, None, &[]);
    // Describe says what a delete will meet: per object and in the global list.
    let deletable = || async {
        let (_, d) = app
            .call(Method::GET, "sobjects/ContactHistory/describe", None, &[])
            .await;
        let (_, g) = app.call(Method::GET, "sobjects", None, &[]).await;
        let listed = g["sobjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "ContactHistory")
            .unwrap()["deletable"]
            .clone();
        assert_eq!(d["undeletable"], false, "never in the recycle bin");
        (d["deletable"].clone(), listed)
    };
    assert_eq!(deletable().await, (json!(false), json!(false)));
    let (_, r) = delete().await;
    assert_eq!(
        r[0]["errors"][0]["statusCode"], "INSUFFICIENT_ACCESS_OR_READONLY",
        "{r}"
    );
    app.call(
        Method::PUT,
        "/__emulator/settings",
        Some(json!({"deleteFieldHistory": true})),
        &[],
    )
    .await;
    assert_eq!(deletable().await, (json!(true), json!(true)));
    let (_, r) = delete().await;
    assert_eq!(r[0]["success"], true, "{r}");
    let (_, q) = app
        .call(
            Method::GET,
            &format!("queryAll?q=SELECT+Id+FROM+ContactHistory+WHERE+ContactId='{contact}'"),
            None,
            &[],
        )
        .await;
    assert_eq!(q["totalSize"], 0, "purged, not in the recycle bin: {q}");
}

#[tokio::test]
async fn delete_rules_and_converted_leads() {
    let app = App::start().await;
    let (_, a) = app.create("Account", json!({"Name": "Acme"})).await;
    let acct = a["id"].as_str().unwrap().to_string();
    let (_, c) = app
        .create(
            "Contact",
            json!({"LastName": "Case", "FirstName": "Has", "AccountId": acct}),
        )
        .await;
    let contact = c["id"].as_str().unwrap().to_string();
    let (_, k) = app
        .create("Case", json!({"ContactId": contact, "Subject": "Help"}))
        .await;
    assert_eq!(k["success"], true, "{k}");
    let (s, e) = app
        .call(
            Method::DELETE,
            &format!("sobjects/Contact/{contact}"),
            None,
            &[],
        )
        .await;
    assert_eq!((s, code(&e)), (400, "DELETE_FAILED"));
    let msg = e[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("Your attempt to delete Has Case could not be completed because it is associated with the following cases.: "), "{msg}");
    // Account → Contact cascades (the case goes first: see README, known differences).
    let case_id = k["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("sobjects/Case/{case_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("sobjects/Account/{acct}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = app
        .call(
            Method::GET,
            &format!("sobjects/Contact/{contact}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 404);
    common::assert_error_body(
        &e,
        "ENTITY_IS_DELETED",
        "entity is deleted",
        Some(json!([])),
    );

    let ids: Value = app
        .call(Method::POST, "/__emulator/records/Lead", Some(json!({"LastName": "Conv", "Company": "C", "IsConverted": true, "Status": "Closed - Converted"})), &[])
        .await
        .1;
    let lead = ids["ids"][0].as_str().unwrap().to_string();
    let (s, e) = app
        .call(
            Method::PATCH,
            &format!("sobjects/Lead/{lead}"),
            Some(json!({"Email": "x@example.com"})),
            &[],
        )
        .await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "cannot reference converted lead",
        Some(json!([])),
    );
    // Not an id at all: read as an external-id path, as Salesforce does.
    let (s, e) = app
        .call(
            Method::PATCH,
            "sobjects/Lead/00Qbad",
            Some(json!({"Email": "x@example.com"})),
            &[],
        )
        .await;
    assert_eq!(s, 404);
    common::assert_error_body(
        &e,
        "NOT_FOUND",
        "Provided external ID field does not exist or is not accessible: 00Qbad",
        None,
    );
    // A well-formed id of another object is MALFORMED_ID naming the URL's object.
    let (s, e) = app
        .call(
            Method::PATCH,
            &format!("sobjects/Lead/{contact}"),
            Some(json!({"Email": "x@example.com"})),
            &[],
        )
        .await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "MALFORMED_ID",
        &format!("Lead ID: id value of incorrect type: {contact}"),
        Some(json!(["Id"])),
    );
}

#[tokio::test]
async fn a_cascade_that_reaches_a_restricted_grandchild_fails_whole() {
    let app = App::start().await;
    let (_, a) = app.create("Account", json!({"Name": "Acme"})).await;
    let acct = a["id"].as_str().unwrap().to_string();
    let (_, c) = app
        .create(
            "Contact",
            json!({"LastName": "Payer", "FirstName": "Pat", "AccountId": acct}),
        )
        .await;
    let contact = c["id"].as_str().unwrap().to_string();
    // Account → Contact cascades; Contact → Payment_Method__c is restricted.
    let (_, p) = app
        .create(
            "Payment_Method__c",
            json!({"Name": "Card on file", "Contact__c": contact}),
        )
        .await;
    assert_eq!(p["success"], true, "{p}");
    let pm = p["id"].as_str().unwrap().to_string();
    let (s, e) = app
        .call(
            Method::DELETE,
            &format!("sobjects/Account/{acct}"),
            None,
            &[],
        )
        .await;
    assert_eq!((s, code(&e)), (400, "DELETE_FAILED"), "{e}");
    assert_eq!(
        e[0]["message"],
        "Your attempt to delete Pat Payer could not be completed because it is associated with the following payment methods.: Card on file\n"
    );
    // Nothing was deleted: not the account, not the contact the cascade reached first.
    for path in [
        format!("sobjects/Account/{acct}"),
        format!("sobjects/Contact/{contact}"),
        format!("sobjects/Payment_Method__c/{pm}"),
    ] {
        let (s, _) = app.call(Method::GET, &path, None, &[]).await;
        assert_eq!(s, 200, "{path}");
    }
    // The same delete through sObject Collections fails that record the same way.
    let (s, r) = app
        .call(
            Method::DELETE,
            &format!("composite/sobjects?ids={acct}&allOrNone=false"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r[0]["success"], false);
    assert_eq!(r[0]["errors"][0]["statusCode"], "DELETE_FAILED");
    // Once the blocking record is gone, the cascade goes through.
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("sobjects/Payment_Method__c/{pm}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("sobjects/Account/{acct}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = app
        .call(
            Method::GET,
            &format!("sobjects/Contact/{contact}"),
            None,
            &[],
        )
        .await;
    assert_eq!((s, code(&e)), (404, "ENTITY_IS_DELETED"));
}

/// Salesforce's refusal of a write to a field the user may read but not edit (text as live
/// orgs report it for FLS-protected and system fields alike).
fn read_only_message(fields: &str) -> String {
    format!(
        "Unable to create/update fields: {fields}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
    )
}

fn describe_field<'a>(d: &'a Value, name: &str) -> &'a Value {
    d["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn a_field_read_only_by_field_level_security() {
    let app = App::start().await;
    let (_, settings) = app
        .call(Method::GET, "/__emulator/settings", None, &[])
        .await;
    assert_eq!(settings["readOnlyFields"], json!([]), "none by default");
    let (_, c) = app
        .create(
            "Contact",
            json!({"LastName": "R", "Title": "CTO", "Phone": "555 0100"}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();

    // Names are matched case-insensitively and echoed as the schema spells them.
    let (s, v) = app
        .call(
            Method::PUT,
            "/__emulator/settings",
            Some(json!({"readOnlyFields": [{"object": "contact", "field": "title"}]})),
            &[],
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["readOnlyFields"],
        json!([{"object": "Contact", "field": "Title"}])
    );

    let (_, d) = app
        .call(Method::GET, "sobjects/Contact/describe", None, &[])
        .await;
    let title = describe_field(&d, "Title");
    assert_eq!(
        (&title["createable"], &title["updateable"]),
        (&json!(false), &json!(false)),
        "{title}"
    );
    assert_eq!(describe_field(&d, "Phone")["updateable"], json!(true));
    let soql = format!("query?q=SELECT+Title,Phone+FROM+Contact+WHERE+Id='{id}'");
    let (s, q) = app.call(Method::GET, &soql, None, &[]).await;
    assert_eq!(
        (s, &q["records"][0]["Title"]),
        (200, &json!("CTO")),
        "readable"
    );

    let refused = json!([{
        "message": read_only_message("Title"),
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "fields": ["Title"],
    }]);
    let (s, e) = app
        .call(
            Method::PATCH,
            &format!("sobjects/Contact/{id}"),
            Some(json!({"Title": "X", "Phone": "1"})),
            &[],
        )
        .await;
    assert_eq!((s, &e), (400, &refused));
    let (s, e) = app
        .create("Contact", json!({"LastName": "S", "Title": "X"}))
        .await;
    assert_eq!((s, &e), (400, &refused));

    // Collections: per-record results, the other record saved.
    let (_, r) = app
        .call(
            Method::PATCH,
            "composite/sobjects",
            Some(json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Contact"}, "Id": id, "Title": "X"},
                {"attributes": {"type": "Contact"}, "Id": id, "Phone": "2"},
            ]})),
            &[],
        )
        .await;
    assert_eq!(r[0]["success"], false, "{r}");
    assert_eq!(
        r[0]["errors"][0],
        json!({"statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "message": read_only_message("Title"), "fields": ["Title"]})
    );
    assert_eq!(r[1]["success"], true, "{r}");
    let (_, r) = app
        .call(
            Method::POST,
            "composite/sobjects",
            Some(json!({"records": [{"attributes": {"type": "Contact"}, "LastName": "T", "Title": "X"}]})),
            &[],
        )
        .await;
    assert_eq!(
        r[0]["errors"][0]["statusCode"], "INVALID_FIELD_FOR_INSERT_UPDATE",
        "{r}"
    );

    // Composite: the subrequest answers as the direct call does.
    let (s, r) = app
        .call(
            Method::POST,
            "composite",
            Some(json!({"compositeRequest": [{
                "method": "PATCH", "referenceId": "c", "body": {"Title": "X"},
                "url": format!("/services/data/v59.0/sobjects/Contact/{id}"),
            }]})),
            &[],
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["compositeResponse"][0]["httpStatusCode"], 400, "{r}");
    assert_eq!(r["compositeResponse"][0]["body"], refused);

    // Bulk ingest: the row fails with the same code, message and field.
    let (_, job) = app
        .call(
            Method::POST,
            "jobs/ingest",
            Some(json!({"object": "Contact", "operation": "update", "lineEnding": "LF"})),
            &[],
        )
        .await;
    let job = job["id"].as_str().unwrap().to_string();
    let s = &app.s;
    let resp = s
        .app
        .http
        .put(s.url(&format!("jobs/ingest/{job}/batches")))
        .bearer_auth(&s.token)
        .header("content-type", "text/csv")
        .body(format!("Id,Title\n{id},X\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    app.call(
        Method::PATCH,
        &format!("jobs/ingest/{job}"),
        Some(json!({"state": "UploadComplete"})),
        &[],
    )
    .await;
    app.call(
        Method::POST,
        "/__emulator/clock/advance",
        Some(json!({"seconds": 60})),
        &[],
    )
    .await;
    let (_, info) = app
        .call(Method::GET, &format!("jobs/ingest/{job}"), None, &[])
        .await;
    assert_eq!(
        (&info["state"], &info["numberRecordsFailed"]),
        (&json!("JobComplete"), &json!(1)),
        "{info}"
    );
    let failed = s
        .app
        .http
        .get(s.url(&format!("jobs/ingest/{job}/failedResults/")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        failed.contains(&format!(
            "\"INVALID_FIELD_FOR_INSERT_UPDATE:{}:Title --\"",
            read_only_message("Title")
        )),
        "{failed}"
    );

    let (_, q) = app.call(Method::GET, &soql, None, &[]).await;
    assert_eq!(
        (&q["records"][0]["Title"], &q["records"][0]["Phone"]),
        (&json!("CTO"), &json!("2")),
        "never written; the other field was"
    );

    // Required and hidden fields cannot be made read-only; unknown names are refused.
    for bad in [
        json!({"object": "Contact", "field": "LastName"}),
        json!({"object": "Contact", "field": "SSN__c"}),
        json!({"object": "Nope__c", "field": "Name"}),
    ] {
        let (s, e) = app
            .call(
                Method::PUT,
                "/__emulator/settings",
                Some(json!({"readOnlyFields": [bad]})),
                &[],
            )
            .await;
        assert_eq!(
            (
                s,
                e["error"]["key"]
                    .as_str()
                    .map(|k| k.starts_with("readOnlyFields[0]"))
            ),
            (400, Some(true)),
            "{e}"
        );
    }

    // Reset clears the setting.
    app.call(Method::POST, "/__emulator/reset", None, &[]).await;
    let (_, settings) = app
        .call(Method::GET, "/__emulator/settings", None, &[])
        .await;
    assert_eq!(settings["readOnlyFields"], json!([]));
    let (_, d) = app
        .call(Method::GET, "sobjects/Contact/describe", None, &[])
        .await;
    assert_eq!(describe_field(&d, "Title")["updateable"], json!(true));
}

/// CampaignMember's name, email and phone are read-only in Salesforce, which shows the current
/// values of the member (its Contact, else its Lead): a write to the member shows there too.
#[tokio::test]
async fn a_campaign_member_shows_its_members_current_values() {
    let config = EmulatorConfig {
        seed: 3,
        size: 2000,
        ..Default::default()
    };
    let s = common::Session::start(config, "v59.0").await;
    async fn rows(s: &common::Session, soql: &str) -> Vec<Value> {
        let path = format!("query?q={}", soql.replace(' ', "+"));
        let (status, v) = s.call(Method::GET, &path, None, &[]).await;
        assert_eq!(status, 200, "{soql}: {v}");
        v["records"].as_array().cloned().unwrap_or_default()
    }
    for (link, object) in [("ContactId", "Contact"), ("LeadId", "Lead")] {
        let members = rows(
            &s,
            &format!("SELECT Id, {link}, Email, LastName FROM CampaignMember WHERE {link} != null"),
        )
        .await;
        let mut chosen = None;
        for m in &members {
            let id = m[link].as_str().unwrap_or_default();
            let row = &rows(
                &s,
                &format!("SELECT Email, LastName FROM {object} WHERE Id = '{id}'"),
            )
            .await[0];
            assert_eq!(
                (&m["Email"], &m["LastName"]),
                (&row["Email"], &row["LastName"]),
                "{m}"
            );
            // A converted Lead cannot be updated; any other member will do.
            let converted = object == "Lead"
                && rows(
                    &s,
                    &format!("SELECT IsConverted FROM Lead WHERE Id = '{id}'"),
                )
                .await[0]["IsConverted"]
                    == json!(true);
            if !converted {
                chosen = Some((
                    m["Id"].as_str().unwrap_or_default().to_string(),
                    id.to_string(),
                ));
                break;
            }
        }
        let (member, person) = chosen.unwrap_or_else(|| panic!("no {object} member: {members:?}"));
        let (st, v) = s
            .call(
                Method::PATCH,
                &format!("sobjects/{object}/{person}"),
                Some(json!({"Email": "moved@example.com", "LastName": "Moved"})),
                &[],
            )
            .await;
        assert_eq!(st, 204, "{v}");
        let m = &rows(
            &s,
            &format!("SELECT Email, LastName FROM CampaignMember WHERE Id = '{member}'"),
        )
        .await[0];
        assert_eq!(
            (&m["Email"], &m["LastName"]),
            (&json!("moved@example.com"), &json!("Moved"))
        );
        let found = rows(
            &s,
            "SELECT Id FROM CampaignMember WHERE Email = 'moved@example.com'",
        )
        .await;
        assert!(found.iter().any(|r| r["Id"] == json!(member)), "{found:?}");

        let (st, e) = s
            .call(
                Method::PATCH,
                &format!("sobjects/CampaignMember/{member}"),
                Some(json!({"Email": "other@example.com"})),
                &[],
            )
            .await;
        assert_eq!(
            (st, &e[0]["errorCode"]),
            (400, &json!("INVALID_FIELD_FOR_INSERT_UPDATE")),
            "{e}"
        );
    }
}
