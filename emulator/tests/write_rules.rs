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
    assert_eq!((s, code(&e)), (400, "INSUFFICIENT_ACCESS_OR_READONLY"));
    let (_, e) = app
        .call(
            Method::DELETE,
            "sobjects/User/005000000000001AAA",
            None,
            &[],
        )
        .await;
    assert_eq!(code(&e), "INSUFFICIENT_ACCESS_OR_READONLY");
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
    assert_eq!((s, code(&e)), (404, "ENTITY_IS_DELETED"));

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
    assert_eq!((s, code(&e)), (400, "CANNOT_UPDATE_CONVERTED_LEAD"));
    let (s, e) = app
        .call(
            Method::PATCH,
            "sobjects/Lead/00Qbad",
            Some(json!({"Email": "x@example.com"})),
            &[],
        )
        .await;
    assert_eq!((s, code(&e)), (400, "MALFORMED_ID"));
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
