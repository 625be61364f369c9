//! The data API over HTTP: versions, describe, query paging, SOQL errors, rows,
//! collections, SOSL with index lag, counters, ground truth, admin inserts.

use serde_json::{Value, json};
use sf_emulator::EmulatorConfig;

mod common;

const V: &str = "v59.0";

struct App {
    s: common::Session,
    http: reqwest::Client,
}

impl App {
    async fn start(size: usize) -> App {
        let s = common::Session::start(
            EmulatorConfig {
                seed: 7,
                size,
                ..Default::default()
            },
            V,
        )
        .await;
        App {
            http: s.app.http.clone(),
            s,
        }
    }
    fn url(&self, path: &str) -> String {
        self.s.url(path)
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        self.s.call(reqwest::Method::GET, path, None, &[]).await
    }
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.s.call(method, path, body, &[]).await
    }
    async fn query(&self, soql: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url("query"))
            .query(&[("q", soql)])
            .bearer_auth(&self.s.token)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap())
    }
    /// First page of `soql` with `Sforce-Query-Options: batchSize=N`.
    async fn query_batch(&self, soql: &str, batch: usize) -> (u16, Value) {
        let r = self
            .http
            .get(self.url("query"))
            .query(&[("q", soql)])
            .header("Sforce-Query-Options", format!("batchSize={batch}"))
            .bearer_auth(&self.s.token)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap())
    }
    async fn admin_insert(&self, object: &str, records: Value, searchable: bool) -> Vec<String> {
        let (s, v) = self
            .send(
                reqwest::Method::POST,
                &format!("/__emulator/records/{object}"),
                Some(json!({"records": records, "searchable": searchable})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    }
}

#[tokio::test]
async fn versions_and_describe() {
    let app = App::start(50).await;
    let r = app
        .http
        .get(app.url("/services/data"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "versions list needs no session");
    let versions: Value = r.json().await.unwrap();
    assert!(
        versions
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["version"] == "59.0" && v["url"] == "/services/data/v59.0")
    );

    let (s, g) = app.get("sobjects").await;
    assert_eq!(s, 200);
    let names: Vec<&str> = g["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for o in [
        "Account",
        "Contact",
        "Lead",
        "User",
        "Case",
        "Opportunity",
        "OpportunityContactRole",
        "Task",
        "Event",
        "Campaign",
        "CampaignMember",
        "EmailMessage",
        "Individual",
        "ContactPointEmail",
        "ContactPointPhone",
        "ContactHistory",
        "LeadHistory",
        "Identity_Document__c",
        "Payment_Method__c",
        "Project__c",
        "Inventory_Item__c",
    ] {
        assert!(names.contains(&o), "{o} missing from global describe");
    }

    let (s, d) = app.get("sobjects/Contact/describe").await;
    assert_eq!(s, 200);
    let field = |n: &str| {
        d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .cloned()
    };
    let email = field("Email").unwrap();
    assert_eq!(email["type"], "email");
    assert_eq!(email["length"], 80);
    assert_eq!(email["nillable"], true);
    let name = field("Name").unwrap();
    assert_eq!(
        (name["createable"].as_bool(), name["updateable"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(field("FirstName").unwrap()["compoundFieldName"], "Name");
    assert_eq!(
        field("MailingCity").unwrap()["compoundFieldName"],
        "MailingAddress"
    );
    assert_eq!(field("MailingAddress").unwrap()["type"], "address");
    let acct = field("AccountId").unwrap();
    assert_eq!(acct["referenceTo"], json!(["Account"]));
    assert_eq!(acct["relationshipName"], "Account");
    assert_eq!(email["securityClassification"], "Confidential");
    assert!(
        field("SSN__c").is_none(),
        "field hidden by FLS must not be described"
    );

    // Delete rules of real orgs, as child relationships on the parent.
    let rel = |d: &Value, child: &str, field: &str| {
        d["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["childSObject"] == child && r["field"] == field)
            .cloned()
            .unwrap()
    };
    let (_, account) = app.get("sobjects/Account/describe").await;
    let contacts = rel(&account, "Contact", "AccountId");
    assert_eq!(
        (
            contacts["cascadeDelete"].as_bool(),
            contacts["restrictedDelete"].as_bool(),
            contacts["relationshipName"].as_str()
        ),
        (Some(true), Some(false), Some("Contacts"))
    );
    assert_eq!(
        rel(&account, "Opportunity", "AccountId")["cascadeDelete"],
        true
    );
    let cases = rel(&d, "Case", "ContactId");
    assert_eq!(
        (
            cases["cascadeDelete"].as_bool(),
            cases["restrictedDelete"].as_bool()
        ),
        (Some(false), Some(true))
    );
    assert_eq!(
        rel(&d, "CampaignMember", "ContactId")["cascadeDelete"],
        true
    );
    assert_eq!(
        rel(&d, "OpportunityContactRole", "ContactId")["cascadeDelete"],
        true
    );
    assert_eq!(rel(&d, "Task", "WhoId")["cascadeDelete"], true);
    assert_eq!(
        rel(&d, "ContactHistory", "ContactId")["cascadeDelete"],
        true
    );
    assert_eq!(
        rel(&d, "Payment_Method__c", "Contact__c")["restrictedDelete"],
        true
    );
    assert_eq!(
        rel(&d, "Identity_Document__c", "Contact__c")["cascadeDelete"],
        true
    );

    let (s, e) = app.get("sobjects/Nope__c/describe").await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (404, Some("NOT_FOUND")));
    let (s, e) = app.get("/services/data/v9.0/sobjects").await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (404, Some("NOT_FOUND")));
}

/// The Account describe has the person-account fields (and Contact `IsPersonAccount`) only
/// when person accounts are enabled, as in a real org; SOQL agrees with the describe.
#[tokio::test]
async fn person_account_fields_are_described_only_when_enabled() {
    const PERSON: [&str; 9] = [
        "IsPersonAccount",
        "PersonContactId",
        "PersonEmail",
        "PersonMobilePhone",
        "PersonHomePhone",
        "PersonBirthdate",
        "PersonMailingCity",
        "PersonMailingAddress",
        "LastName",
    ];
    for enabled in [false, true] {
        let s = common::Session::start(
            EmulatorConfig {
                seed: 7,
                size: 0,
                person_accounts: enabled,
                ..Default::default()
            },
            V,
        )
        .await;
        let names = |d: &Value| -> Vec<String> {
            d["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect()
        };
        let (st, account) = s
            .call(reqwest::Method::GET, "sobjects/Account/describe", None, &[])
            .await;
        assert_eq!(st, 200);
        let account = names(&account);
        assert!(account.iter().any(|n| n == "Name"), "{account:?}");
        for f in PERSON {
            assert_eq!(
                account.iter().any(|n| n == f),
                enabled,
                "Account.{f} with person accounts {enabled}"
            );
        }
        let (_, contact) = s
            .call(reqwest::Method::GET, "sobjects/Contact/describe", None, &[])
            .await;
        assert_eq!(
            names(&contact).iter().any(|n| n == "IsPersonAccount"),
            enabled
        );
        let r = s
            .app
            .http
            .get(s.url("query"))
            .query(&[("q", "SELECT PersonEmail FROM Account")])
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status() == 200,
            enabled,
            "SELECT PersonEmail, enabled {enabled}"
        );
    }
}

/// `unique` is true only for unique fields (User.Username, an external-id SKU); no field of
/// the modelled schema is a formula, so `calculated` is false and `calculatedFormula` null.
#[tokio::test]
async fn describe_unique_and_calculated_flags() {
    let app = App::start(0).await;
    let flags = |d: &Value, name: &str| -> (Value, Value, Value) {
        let f = d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} not described"));
        (
            f["unique"].clone(),
            f["calculated"].clone(),
            f["calculatedFormula"].clone(),
        )
    };
    let (_, user) = app.get("sobjects/User/describe").await;
    assert_eq!(
        flags(&user, "Username"),
        (json!(true), json!(false), Value::Null)
    );
    assert_eq!(
        flags(&user, "Email"),
        (json!(false), json!(false), Value::Null)
    );
    let (_, item) = app.get("sobjects/Inventory_Item__c/describe").await;
    assert_eq!(
        flags(&item, "Sku__c"),
        (json!(true), json!(false), Value::Null)
    );
    assert_eq!(
        flags(&item, "Name"),
        (json!(false), json!(false), Value::Null)
    );
    for object in ["Contact", "Account", "Lead", "Case"] {
        let (_, d) = app.get(&format!("sobjects/{object}/describe")).await;
        for f in d["fields"].as_array().unwrap() {
            assert_eq!(f["unique"], false, "{object}.{}", f["name"]);
            assert_eq!(f["calculated"], false, "{object}.{}", f["name"]);
            assert_eq!(
                f["calculatedFormula"],
                Value::Null,
                "{object}.{}",
                f["name"]
            );
        }
    }
}

#[tokio::test]
async fn missing_session_is_invalid_session_id() {
    let app = App::start(0).await;
    let r = app.http.get(app.url("sobjects")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v[0]["errorCode"], "INVALID_SESSION_ID");
    // Sessions idle out on the shared clock (default timeout 2 h).
    let (s, _) = app.get("sobjects").await;
    assert_eq!(s, 200);
    app.http
        .post(app.url("/__emulator/clock/advance"))
        .json(&json!({"seconds": 3 * 3600}))
        .send()
        .await
        .unwrap();
    let (s, v) = app.get("sobjects").await;
    assert_eq!(
        (s, v[0]["errorCode"].as_str()),
        (401, Some("INVALID_SESSION_ID"))
    );
}

#[tokio::test]
async fn query_pages_until_done_with_batch_size() {
    // 2,500 business contacts + 160 person contacts (every 5th of 800 accounts).
    let app = App::start(10_000).await;
    let (_, count) = app.query("SELECT COUNT() FROM Contact").await;
    let total = count["totalSize"].as_u64().unwrap();
    assert_eq!(total, 2660);

    let first = app
        .http
        .get(app.url("query"))
        .query(&[("q", "SELECT Id, Email, Account.Name FROM Contact")])
        .header("Sforce-Query-Options", "batchSize=700")
        .bearer_auth(&app.s.token)
        .send()
        .await
        .unwrap();
    let mut page: Value = first.json().await.unwrap();
    let mut ids: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        assert_eq!(page["totalSize"], total);
        for r in page["records"].as_array().unwrap() {
            assert_eq!(r["attributes"]["type"], "Contact");
            ids.push(r["Id"].as_str().unwrap().to_string());
        }
        if page["done"] == true {
            assert!(page.get("nextRecordsUrl").is_none());
            break;
        }
        let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
        assert!(next.starts_with("/services/data/v59.0/query/01g"), "{next}");
        let (s, p) = app.get(&next).await;
        assert_eq!(s, 200);
        page = p;
    }
    assert_eq!(pages, 4, "700+700+700+400");
    assert_eq!(ids.len() as u64, total);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "ids unique and in id order");

    // Id slicing as the scanner does it.
    let (_, slice) = app
        .query(&format!(
            "SELECT Id FROM Contact WHERE Id > '{}' ORDER BY Id LIMIT 5",
            ids[99]
        ))
        .await;
    let got: Vec<&str> = slice["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        ids[100..105].iter().map(String::as_str).collect::<Vec<_>>()
    );

    let (s, e) = app.get("query/01g000000000zZZAAA-2000").await;
    assert_eq!(s, 400);
    common::assert_error_body(&e, "INVALID_QUERY_LOCATOR", "invalid query locator", None);
}

/// `batchSize` is a hint: with `varyQueryPageSizes` pages differ in size (within 200-2000,
/// here 200-300 for 200), every row still comes exactly once, and a page fetched again is the
/// same page.
#[tokio::test]
async fn query_page_sizes_vary_when_asked() {
    let app = App::start(4000).await;
    let (s, v) = app
        .send(
            reqwest::Method::PUT,
            "/__emulator/settings",
            Some(json!({"varyQueryPageSizes": true})),
        )
        .await;
    assert_eq!((s, &v["varyQueryPageSizes"]), (200, &json!(true)), "{v}");
    let (_, count) = app.query("SELECT COUNT() FROM Contact").await;
    let total = count["totalSize"].as_u64().unwrap();
    assert!(total > 1000, "{total}");

    let (s, mut page) = app.query_batch("SELECT Id FROM Contact", 200).await;
    assert_eq!(s, 200, "{page}");
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    loop {
        let records = page["records"].as_array().unwrap();
        sizes.push(records.len());
        ids.extend(
            records
                .iter()
                .map(|r| r["Id"].as_str().unwrap().to_string()),
        );
        if page["done"] == true {
            break;
        }
        let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
        let (s, p) = app.get(&next).await;
        assert_eq!(s, 200, "{p}");
        let (_, again) = app.get(&next).await;
        assert_eq!(again, p, "a page fetched twice is the same page");
        page = p;
    }
    let (last, full) = sizes.split_last().unwrap();
    assert!(full.iter().all(|n| (200..=300).contains(n)), "{sizes:?}");
    assert!(*last <= 300, "{sizes:?}");
    assert!(
        full.iter().any(|n| *n != full[0]),
        "sizes differ before the last page: {sizes:?}"
    );
    assert_eq!(ids.len() as u64, total);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "every row once");

    // Off again: every page but the last is exactly batchSize.
    app.send(
        reqwest::Method::PUT,
        "/__emulator/settings",
        Some(json!({"varyQueryPageSizes": false})),
    )
    .await;
    let (_, page) = app.query_batch("SELECT Id FROM Contact", 200).await;
    assert_eq!(page["records"].as_array().unwrap().len(), 200);
}

/// A locator idle for longer than its lifetime (15 minutes) is refused; abandoned cursors are
/// swept when a new one opens.
#[tokio::test]
async fn an_expired_query_locator_is_invalid() {
    let app = App::start(1000).await;
    let advance = |ms: u64| {
        let app = &app;
        async move {
            let (s, _) = app
                .send(
                    reqwest::Method::POST,
                    "/__emulator/clock/advance",
                    Some(json!({"ms": ms})),
                )
                .await;
            assert_eq!(s, 200);
        }
    };
    let (_, page) = app.query_batch("SELECT Id FROM Contact", 200).await;
    let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
    // Idle for less than the lifetime: still valid.
    advance(14 * 60 * 1000).await;
    let (s, v) = app.get(&next).await;
    assert_eq!(s, 200, "{v}");

    let (_, page) = app.query_batch("SELECT Id FROM Contact", 200).await;
    let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
    advance(15 * 60 * 1000 + 1).await;
    let r = app
        .http
        .get(app.url(&next))
        .bearer_auth(&app.s.token)
        .send()
        .await
        .unwrap();
    common::assert_sf_error(r, 400, "INVALID_QUERY_LOCATOR", "invalid query locator").await;

    let cursors = &app.s.app.emu.state.cursors;
    assert!(cursors.open_count() >= 1);
    advance(15 * 60 * 1000 + 1).await;
    let (_, page) = app.query_batch("SELECT Id FROM Contact", 200).await;
    assert!(page["nextRecordsUrl"].is_string());
    assert_eq!(cursors.open_count(), 1, "only the new cursor is left");
}

#[tokio::test]
async fn an_empty_query_is_malformed() {
    let app = App::start(0).await;
    for q in [Some(""), Some("   "), None] {
        let mut rb = app.http.get(app.url("query")).bearer_auth(&app.s.token);
        if let Some(q) = q {
            rb = rb.query(&[("q", q)]);
        }
        let r = rb.send().await.unwrap();
        common::assert_sf_error(
            r,
            400,
            "MALFORMED_QUERY",
            "A query string has to be specified",
        )
        .await;
    }
}

/// Query errors are `[{"message","errorCode"}]` (no `fields`, as real orgs send them) with
/// the whole caret-form message: the query, the caret under the column, the row and column.
#[tokio::test]
async fn soql_errors_use_the_caret_form() {
    let app = App::start(20).await;
    const COLUMN: &str = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
    let (s, e) = app.query("SELECT Foo FROM Contact").await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "INVALID_FIELD",
        &format!(
            "\nSELECT Foo FROM Contact\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Contact'. {COLUMN}"
        ),
        None,
    );
    let (s, e) = app.query("SELECT Id, SSN__c FROM Contact").await;
    assert_eq!(s, 400, "FLS-hidden fields are not queryable");
    common::assert_error_body(
        &e,
        "INVALID_FIELD",
        &format!(
            "\nSELECT Id, SSN__c FROM Contact\n           ^\nERROR at Row:1:Column:12\nNo such column 'SSN__c' on entity 'Contact'. {COLUMN}"
        ),
        None,
    );
    let (s, e) = app.query("SELECT Id FROM Contct").await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "INVALID_TYPE",
        "\nSELECT Id FROM Contct\n               ^\nERROR at Row:1:Column:16\nsObject type 'Contct' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
        None,
    );
    // Past the end: the caret sits one column after the last character.
    let (s, e) = app.query("SELECT Id FROM Contact WHERE").await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "MALFORMED_QUERY",
        &format!(
            "\nSELECT Id FROM Contact WHERE\n{}^\nERROR at Row:1:Column:29\nunexpected token: '<EOF>'",
            " ".repeat(28)
        ),
        None,
    );
    let (s, e) = app.query("SELECT Id FROM Contact LIMIT x").await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "MALFORMED_QUERY",
        &format!(
            "\nSELECT Id FROM Contact LIMIT x\n{}^\nERROR at Row:1:Column:30\nunexpected token: 'x'",
            " ".repeat(29)
        ),
        None,
    );
    let (_, e) = app
        .query("SELECT Id FROM Contact WHERE Description = 'x'")
        .await;
    assert_eq!(
        e[0]["errorCode"], "INVALID_FIELD",
        "long text areas cannot be filtered"
    );
    assert!(e[0].get("fields").is_none(), "{e}");
    let (_, e) = app.query("SELECT Id FROM Contact WHERE Email = 5").await;
    assert!(
        e[0]["message"]
            .as_str()
            .unwrap()
            .contains("must be of type string and should be enclosed in quotes")
    );
    let (_, e) = app.query("SELECT FIELDS(ALL) FROM Contact").await;
    assert_eq!(e[0]["errorCode"], "MALFORMED_QUERY");
    let (s, v) = app.query("SELECT FIELDS(ALL) FROM Contact LIMIT 2").await;
    assert_eq!(s, 200);
    assert!(v["records"][0].get("MailingCity").is_some());
}

/// `< <= > >= NOT IN`, date and datetime literals and `LAST_N_DAYS:n` over HTTP, each
/// returning exactly the matching rows.
#[tokio::test]
async fn soql_comparisons_and_date_literals_return_exactly_the_matching_rows() {
    let app = App::start(0).await;
    app.admin_insert(
        "Contact",
        json!([
            {"LastName": "A", "Birthdate": "1980-01-01", "CreatedDate": "2019-06-01T00:00:00.000+0000"},
            {"LastName": "B", "Birthdate": "1990-05-05", "CreatedDate": "2020-01-01T00:00:00.000+0000"},
            {"LastName": "C", "Birthdate": "2000-12-31", "CreatedDate": "2021-03-01T12:30:00.000+0000"},
            // Created now, by the emulator's clock; no birthdate.
            {"LastName": "D"}
        ]),
        true,
    )
    .await;
    let names = |where_: &'static str| {
        let app = &app;
        async move {
            let (s, v) = app
                .query(&format!(
                    "SELECT LastName FROM Contact WHERE {where_} ORDER BY LastName"
                ))
                .await;
            assert_eq!(s, 200, "{where_}: {v}");
            let got: Vec<String> = v["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["LastName"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(v["totalSize"], got.len(), "{where_}");
            got
        }
    };
    assert_eq!(names("Birthdate < 1990-05-05").await, ["A"]);
    assert_eq!(names("Birthdate <= 1990-05-05").await, ["A", "B"]);
    assert_eq!(
        names("Birthdate >= 1990-05-05").await,
        ["B", "C"],
        "null is never >="
    );
    assert_eq!(names("Birthdate > 1990-05-05").await, ["C"]);
    assert_eq!(names("LastName NOT IN ('A', 'c')").await, ["B", "D"]);
    assert_eq!(names("LastName < 'C'").await, ["A", "B"]);
    assert_eq!(
        names("CreatedDate > 2020-01-01T00:00:00Z").await,
        ["C", "D"],
        "strictly after the instant"
    );
    assert_eq!(
        names("CreatedDate >= 2020-01-01T00:00:00Z").await,
        ["B", "C", "D"]
    );
    assert_eq!(names("CreatedDate < 2020-01-01T00:00:00Z").await, ["A"]);
    assert_eq!(
        names("CreatedDate <= 2021-03-01T12:30:00.000+0000").await,
        ["A", "B", "C"]
    );
    assert_eq!(names("CreatedDate = LAST_N_DAYS:30").await, ["D"]);
    assert_eq!(
        names("CreatedDate < LAST_N_DAYS:30 AND Birthdate != null").await,
        ["A", "B", "C"]
    );
}

/// `FIELDS(STANDARD)` selects every visible standard field and no custom one, without the
/// `LIMIT` that `FIELDS(ALL)` needs.
#[tokio::test]
async fn fields_standard_selects_standard_fields_only() {
    let app = App::start(0).await;
    let ids = app
        .admin_insert(
            "Project__c",
            json!([
                {"Name": "Apollo", "Notes__c": "n", "Budget__c": 10},
                {"Name": "Gemini", "Budget__c": 20}
            ]),
            true,
        )
        .await;
    let (s, v) = app
        .query("SELECT FIELDS(STANDARD) FROM Project__c WHERE Budget__c < 15")
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["totalSize"], 1);
    let row = v["records"][0].as_object().unwrap();
    assert_eq!(row["Id"], ids[0].as_str());
    assert_eq!(row["Name"], "Apollo");
    for f in ["OwnerId", "CreatedDate", "IsDeleted"] {
        assert!(row.contains_key(f), "{f} missing: {v}");
    }
    let custom: Vec<&String> = row.keys().filter(|k| k.ends_with("__c")).collect();
    assert!(custom.is_empty(), "custom fields selected: {custom:?}");
    let (_, v) = app
        .query("SELECT FIELDS(CUSTOM) FROM Project__c WHERE Budget__c >= 15 LIMIT 5")
        .await;
    assert_eq!(v["totalSize"], 1);
    assert_eq!(v["records"][0]["Budget__c"], 20.0);
    assert!(v["records"][0].get("Name").is_none(), "{v}");
}

#[tokio::test]
async fn soql_filters_relationships_and_subqueries() {
    let app = App::start(0).await;
    let acct = app
        .admin_insert("Account", json!([{"Name": "Zeta Corp"}]), true)
        .await
        .remove(0);
    let c = app
        .admin_insert(
            "Contact",
            json!([
                {"FirstName": "Jane", "LastName": "O'Brien", "Email": "Jane.OBrien@Example.com", "AccountId": acct},
                {"FirstName": "Ana", "LastName": "Lima", "Email": null, "AccountId": acct},
                {"FirstName": "Bob", "LastName": "Stone", "Email": "bob@example.org"}
            ]),
            true,
        )
        .await;
    app.admin_insert(
        "Case",
        json!([{"ContactId": c[0], "Subject": "Help", "Status": "New"}]),
        true,
    )
    .await;

    let (s, v) = app
        .query("SELECT Id, Name, Account.Name FROM Contact WHERE Email = 'jane.obrien@example.com'")
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["totalSize"], 1, "string comparison is case-insensitive");
    assert_eq!(v["records"][0]["Name"], "Jane O'Brien");
    assert_eq!(v["records"][0]["Account"]["Name"], "Zeta Corp");
    let (_, v) = app
        .query("SELECT Id FROM Contact WHERE LastName = 'O\\'Brien'")
        .await;
    assert_eq!(v["totalSize"], 1);
    let (_, v) = app.query("SELECT Id FROM Contact WHERE Email = null").await;
    assert_eq!(v["totalSize"], 1);
    let (_, v) = app
        .query(
            "SELECT Id FROM Contact WHERE Email LIKE '%example%' AND (NOT LastName IN ('Stone'))",
        )
        .await;
    assert_eq!(v["totalSize"], 1);
    let (_, v) = app
        .query("SELECT Id, Account.Name FROM Contact WHERE AccountId = null")
        .await;
    assert_eq!(v["records"][0]["Account"], Value::Null);
    let (_, v) = app
        .query("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account")
        .await;
    let sub = &v["records"][0]["Contacts"];
    assert_eq!(sub["totalSize"], 2);
    assert_eq!(sub["records"][0]["LastName"], "Lima");
    let (_, v) = app
        .query("SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM Case)")
        .await;
    assert_eq!(v["records"][0]["Id"], c[0].as_str());
    let (_, v) = app
        .query("SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 2 OFFSET 1")
        .await;
    let names: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["LastName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["O'Brien", "Lima"]);
    let (_, v) = app
        .query("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:1")
        .await;
    assert_eq!(v["totalSize"], 3);
}

#[tokio::test]
async fn rows_recycle_bin_and_query_all() {
    let app = App::start(0).await;
    use reqwest::Method;
    let (s, v) = app
        .send(
            Method::POST,
            "sobjects/Contact",
            Some(json!({"LastName": "Doe", "Email": "jd@example.com"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["success"], true);
    let id = v["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("003") && id.len() == 18);
    let (s, r) = app
        .get(&format!("sobjects/Contact/{id}?fields=LastName,Email"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["LastName"], "Doe");
    let (s, _) = app
        .send(
            Method::PATCH,
            &format!("sobjects/Contact/{id}"),
            Some(json!({"FirstName": "Jo"})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, r) = app.get(&format!("sobjects/Contact/{id}")).await;
    assert_eq!(r["Name"], "Jo Doe");
    let (s, _) = app
        .send(Method::DELETE, &format!("sobjects/Contact/{id}"), None)
        .await;
    assert_eq!(s, 204);
    // A record error: `fields` is there, empty (as a live org answers a second delete).
    let (s, e) = app
        .send(Method::DELETE, &format!("sobjects/Contact/{id}"), None)
        .await;
    assert_eq!(s, 404);
    common::assert_error_body(
        &e,
        "ENTITY_IS_DELETED",
        "entity is deleted",
        Some(json!([])),
    );
    let (s, e) = app.get(&format!("sobjects/Contact/{id}")).await;
    assert_eq!(s, 404);
    common::assert_error_body(
        &e,
        "ENTITY_IS_DELETED",
        "entity is deleted",
        Some(json!([])),
    );
    let (_, v) = app.query("SELECT Id FROM Contact").await;
    assert_eq!(v["totalSize"], 0);
    let r = app
        .http
        .get(app.url("queryAll"))
        .query(&[("q", "SELECT Id, IsDeleted FROM Contact")])
        .bearer_auth(&app.s.token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["totalSize"], 1);
    assert_eq!(v["records"][0]["IsDeleted"], true);
    // Not an id: Salesforce reads the segment as an external-id path.
    for m in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (m == Method::PATCH).then(|| json!({"LastName": "X"}));
        let (s, e) = app
            .send(m.clone(), "sobjects/Contact/not-an-id", body)
            .await;
        assert_eq!(s, 404, "{m}");
        common::assert_error_body(
            &e,
            "NOT_FOUND",
            "Provided external ID field does not exist or is not accessible: not-an-id",
            None,
        );
    }
    // An id of another object.
    let acct = sf_emulator::org::ids::make_id("001", 1);
    let (s, e) = app.get(&format!("sobjects/Contact/{acct}")).await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "MALFORMED_ID",
        &format!("Contact ID: id value of incorrect type: {acct}"),
        Some(json!(["Id"])),
    );
    let missing = sf_emulator::org::ids::make_id("003", 999_999);
    let (s, e) = app.get(&format!("sobjects/Contact/{missing}")).await;
    assert_eq!(s, 404);
    common::assert_error_body(
        &e,
        "NOT_FOUND",
        "The requested resource does not exist",
        None,
    );
}

#[tokio::test]
async fn collections_all_or_none() {
    let app = App::start(0).await;
    use reqwest::Method;
    let body = json!({"allOrNone": false, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "A", "Email": "a@example.com"},
        {"attributes": {"type": "Contact"}, "FirstName": "NoLast"},
        {"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C"}
    ]});
    let (s, v) = app
        .send(Method::POST, "composite/sobjects", Some(body.clone()))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["success"], true);
    assert_eq!(v[1]["success"], false);
    assert_eq!(v[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(v[1]["errors"][0]["fields"], json!(["LastName"]));
    assert_eq!(v[2]["success"], true);

    let mut aon = body.clone();
    aon["allOrNone"] = json!(true);
    aon["records"][0]["Email"] = json!("other@example.com");
    let (_, v) = app
        .send(Method::POST, "composite/sobjects", Some(aon))
        .await;
    assert_eq!(
        v[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(v[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    let (_, c) = app.query("SELECT COUNT() FROM Contact").await;
    assert_eq!(c["totalSize"], 1, "rolled back");

    let too_many: Vec<Value> = (0..201)
        .map(|i| json!({"attributes": {"type": "Contact"}, "LastName": format!("n{i}")}))
        .collect();
    let (s, e) = app
        .send(
            Method::POST,
            "composite/sobjects",
            Some(json!({"records": too_many})),
        )
        .await;
    assert_eq!(s, 400);
    common::assert_error_body(
        &e,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
        None,
    );

    let id = v[0].get("id").cloned();
    assert!(id.is_none(), "a rolled-back create has no id");
    let (_, q) = app.query("SELECT Id FROM Contact").await;
    let cid = q["records"][0]["Id"].as_str().unwrap().to_string();
    let (_, got) = app
        .get(&format!(
            "composite/sobjects/Contact?ids={cid},{}&fields=Id,LastName",
            sf_emulator::org::ids::make_id("003", 999_999)
        ))
        .await;
    assert_eq!(got[0]["LastName"], "A");
    assert_eq!(got[1], Value::Null);
    let (_, upd) = app.send(Method::PATCH, "composite/sobjects", Some(json!({"records": [{"attributes": {"type": "Contact"}, "id": cid, "Title": "CTO"}]}))).await;
    assert_eq!(upd[0]["success"], true, "{upd}");
    let (_, del) = app
        .send(
            Method::DELETE,
            &format!("composite/sobjects?ids={cid},{cid}"),
            None,
        )
        .await;
    assert_eq!(del[0]["success"], true);
    assert_eq!(del[1]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
}

#[tokio::test]
async fn sosl_is_tokenised_and_lags_writes() {
    let app = App::start(200).await;
    use reqwest::Method;
    app.admin_insert("Contact", json!([{"LastName": "Au", "Email": "jane@example.com.au"}, {"LastName": "Exact", "Email": "jane@example.com"}]), true).await;
    let search = |q: &'static str| {
        let app = &app;
        async move {
            let r = app
                .http
                .get(app.url("search"))
                .query(&[("q", q)])
                .bearer_auth(&app.s.token)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let (s, v) =
        search("FIND {jane@example.com} IN EMAIL FIELDS RETURNING Contact(Id, Email), Lead(Id)")
            .await;
    assert_eq!(s, 200, "{v}");
    let emails: Vec<&str> = v["searchRecords"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["Email"].as_str())
        .collect();
    assert!(
        emails.contains(&"jane@example.com") && emails.contains(&"jane@example.com.au"),
        "{emails:?}"
    );
    assert_eq!(v["searchRecords"][0]["attributes"]["type"], "Contact");

    let (s, e) = search("FIND {jane-doe@example.com} IN EMAIL FIELDS").await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (400, Some("MALFORMED_SEARCH"))
    );
    assert!(
        e[0]["message"]
            .as_str()
            .unwrap()
            .contains("mismatched character '-' expecting '}'")
    );
    let (s, _) = search("FIND {jane\\-doe@example.com} IN EMAIL FIELDS").await;
    assert_eq!(s, 200);

    // A fresh write is not searchable until the index catches up.
    let (_, created) = app
        .send(
            Method::POST,
            "sobjects/Lead",
            Some(json!({"LastName": "Fresh", "Company": "X", "Email": "fresh.lead@example.net"})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (_, v) = search("FIND {fresh.lead@example.net} IN EMAIL FIELDS RETURNING Lead(Id)").await;
    assert_eq!(v["searchRecords"], json!([]));
    let (s, _) = app
        .send(
            Method::POST,
            "/__emulator/clock/advance",
            Some(json!({"seconds": 4})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, v) = search("FIND {fresh.lead@example.net} IN EMAIL FIELDS RETURNING Lead(Id)").await;
    assert_eq!(v["searchRecords"][0]["Id"], id.as_str());

    let (_, v) = app.send(Method::POST, "parameterizedSearch", Some(json!({"q": "jane@example.com", "in": "EMAIL", "sobjects": [{"name": "Contact", "fields": ["Id", "Email"]}]}))).await;
    assert_eq!(v["searchRecords"].as_array().unwrap().len(), 2, "{v}");
}

#[tokio::test]
async fn sosl_errors_phone_scope_row_cap_and_parameterized_get() {
    let app = App::start(0).await;
    let search = |q: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url("search"))
                .query(&[("q", q)])
                .bearer_auth(&app.s.token)
                .send()
                .await
                .unwrap()
        }
    };
    let json_of = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    };

    // A bad IN clause is a parse error in the caret form, pointing at the token.
    let r = search("FIND {jane} IN FOO FIELDS".into()).await;
    common::assert_sf_error(
        r,
        400,
        "MALFORMED_SEARCH",
        "\nFIND {jane} IN FOO FIELDS\n               ^\nERROR at Row:1:Column:16\nunexpected token: 'FOO'",
    )
    .await;
    let r = search("FIND {jane} IN EMAIL".into()).await;
    common::assert_sf_error(
        r,
        400,
        "MALFORMED_SEARCH",
        "\nFIND {jane} IN EMAIL\n                    ^\nERROR at Row:1:Column:21\nunexpected token: '<EOF>'",
    )
    .await;
    // Errors inside RETURNING use the caret form too, pointing into the search text.
    let caret = |q: &str, col: usize, detail: &str| {
        format!(
            "\n{q}\n{}^\nERROR at Row:1:Column:{col}\n{detail}",
            " ".repeat(col - 1)
        )
    };
    for (q, code, col, detail) in [
        (
            "FIND {jane} RETURNING",
            "MALFORMED_SEARCH",
            22,
            "unexpected token: '<EOF>'".to_string(),
        ),
        (
            "FIND {jane} RETURNING (Id)",
            "MALFORMED_SEARCH",
            23,
            "unexpected token: '('".to_string(),
        ),
        (
            "FIND {jane} RETURNING Contact(Id",
            "MALFORMED_SEARCH",
            33,
            "unexpected token: '<EOF>'".to_string(),
        ),
        (
            "FIND {jane} RETURNING Contact(Id WHERE Email = )",
            "MALFORMED_SEARCH",
            48,
            "unexpected token: ')'".to_string(),
        ),
        (
            "FIND {jane} RETURNING Contact(Id LIMIT x)",
            "MALFORMED_SEARCH",
            40,
            "unexpected token: 'x'".to_string(),
        ),
        (
            "FIND {jane} RETURNING Lead(Id), Contact(Id, Foo ORDER BY Name)",
            "INVALID_FIELD",
            45,
            "No such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.".to_string(),
        ),
        (
            "FIND {jane} RETURNING Contact(Id WHERE Nope = 'x')",
            "INVALID_FIELD",
            40,
            "No such column 'Nope' on entity 'Contact'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.".to_string(),
        ),
        (
            "FIND {jane} RETURNING Nope__c(Id)",
            "INVALID_TYPE",
            23,
            "sObject type 'Nope__c' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.".to_string(),
        ),
    ] {
        let r = search(q.into()).await;
        common::assert_sf_error(r, 400, code, &caret(q, col, &detail)).await;
    }
    let r = search("FIND {a}".into()).await;
    common::assert_sf_error(
        r,
        400,
        "INVALID_SEARCH",
        "search term must be longer than one character",
    )
    .await;

    // IN PHONE FIELDS: phones match on their digits; names are not searched.
    let ids = app
        .admin_insert(
            "Contact",
            json!([{"LastName": "Phonetest", "Phone": "+1 (415) 555-0187"}]),
            true,
        )
        .await;
    let v = json_of(
        search("FIND {4155550187} IN PHONE FIELDS RETURNING Contact(Id, Phone)".into()).await,
    )
    .await;
    assert_eq!(v["searchRecords"][0]["Id"], ids[0].as_str(), "{v}");
    let v = json_of(search("FIND {Phonetest} IN PHONE FIELDS RETURNING Contact(Id)".into()).await)
        .await;
    assert_eq!(v["searchRecords"], json!([]));
    let v =
        json_of(search("FIND {Phonetest} IN NAME FIELDS RETURNING Contact(Id)".into()).await).await;
    assert_eq!(v["searchRecords"].as_array().unwrap().len(), 1);

    // At most 2,000 rows, even when more match or a larger LIMIT is asked for.
    let many: Vec<Value> = (0..2100)
        .map(|i| json!({"LastName": "Capmatch", "FirstName": format!("N{i}")}))
        .collect();
    app.admin_insert("Contact", Value::Array(many), true).await;
    for q in [
        "FIND {Capmatch} RETURNING Contact(Id)",
        "FIND {Capmatch} RETURNING Contact(Id) LIMIT 2500",
    ] {
        let v = json_of(search(q.into()).await).await;
        assert_eq!(v["searchRecords"].as_array().unwrap().len(), 2000, "{q}");
    }

    // GET /parameterizedSearch: plain text, per-object fields and limit, scope.
    let r = app
        .http
        .get(app.url("parameterizedSearch"))
        .query(&[
            ("q", "Capmatch"),
            ("sobject", "Contact"),
            ("Contact.fields", "Id,LastName"),
            ("Contact.limit", "5"),
            ("in", "NAME"),
        ])
        .bearer_auth(&app.s.token)
        .send()
        .await
        .unwrap();
    let v = json_of(r).await;
    let rows = v["searchRecords"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "{v}");
    assert!(rows.iter().all(|r| r["LastName"] == "Capmatch"), "{v}");
    let r = app
        .http
        .get(app.url("parameterizedSearch"))
        .query(&[
            ("q", "415-555-0187"),
            ("sobject", "Contact"),
            ("in", "PHONE"),
        ])
        .bearer_auth(&app.s.token)
        .send()
        .await
        .unwrap();
    let v = json_of(r).await;
    assert_eq!(v["searchRecords"][0]["Id"], ids[0].as_str(), "{v}");
}

/// Collections retrieve takes up to 2,000 ids (not the 200 of writes).
#[tokio::test]
async fn collections_retrieve_takes_up_to_2000_ids() {
    let app = App::start(0).await;
    let ids: Vec<String> = (0..2001).map(|i| format!("003{i:012}AAA")).collect();
    let (s, v) = app
        .send(
            reqwest::Method::POST,
            "composite/sobjects/Contact",
            Some(json!({"ids": &ids[..2000], "fields": ["Id"]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2000);
    let r = app
        .http
        .post(app.url("composite/sobjects/Contact"))
        .bearer_auth(&app.s.token)
        .json(&json!({"ids": ids, "fields": ["Id"]}))
        .send()
        .await
        .unwrap();
    common::assert_sf_error(
        r,
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 2000 records into this call",
    )
    .await;
}

#[tokio::test]
async fn counters_ground_truth_and_reset() {
    let app = App::start(100).await;
    app.query("SELECT Id FROM Contact").await;
    app.query("SELECT Id FROM Lead").await;
    app.get("sobjects/Contact/describe").await;
    app.http
        .post(app.url("/__emulator/counters/reset"))
        .send()
        .await
        .unwrap();
    app.query("SELECT Id FROM Contact").await;
    app.query("SELECT Id FROM Lead").await;
    app.get("sobjects/Contact/describe").await;
    let (_, c) = app.get("/__emulator/counters").await;
    assert_eq!(c["endpoints"]["GET /services/data/{version}/query"], 2);
    assert_eq!(
        c["endpoints"]["GET /services/data/{version}/sobjects/{object}/describe"],
        1
    );
    assert_eq!(c["total"], 3);
    assert_eq!(c["connections"]["sfprivacy-emulator-client"]["total"], 3);
    assert_eq!(
        c["connections"]["sfprivacy-emulator-client"]["endpoints"]["GET /services/data/{version}/query"],
        2
    );

    let (_, gt) = app.get("/__emulator/ground-truth").await;
    assert_eq!(gt["objects"]["Contact"]["Email"], json!(["email"]));
    assert_eq!(
        gt["objects"]["Payment_Method__c"]["Card_Number__c"],
        json!(["credit_card"])
    );
    assert_eq!(gt["objects"]["Project__c"]["Notes__c"], json!([]));

    let (s, _) = app
        .send(
            reqwest::Method::POST,
            "/__emulator/seed",
            Some(json!({"seed": 1, "size": 0})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, v) = app.query("SELECT COUNT() FROM Contact").await;
    assert_eq!(v["totalSize"], 0);
    let (_, v) = app.query("SELECT Username FROM User").await;
    assert_eq!(v["totalSize"], 3, "only the directory's users");
    let (_, v) = app
        .query("SELECT Id, Name FROM User WHERE Username = 'integration@sfprivacy.example'")
        .await;
    assert_eq!(
        v["records"][0]["Id"], "005000000000001AAA",
        "same id as the OAuth directory"
    );
    assert_eq!(v["records"][0]["Name"], "Integration User");
}

#[tokio::test]
async fn seeded_org_is_deterministic() {
    let a = App::start(500).await;
    let b = App::start(500).await;
    let q = "SELECT Id, Name, Email, Phone, MailingCity FROM Contact ORDER BY Id LIMIT 50";
    assert_eq!(a.query(q).await.1, b.query(q).await.1);
}
