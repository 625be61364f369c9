//! Bulk API 2.0 over HTTP: job states, CSV shape, locator paging with maxRecords, refusals
//! (compound fields, bad SOQL, hardDelete without the permission), ingest results with
//! `sf__Error`, hardDelete purging versus soft delete into the recycle bin.

mod common;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

const V: &str = "/services/data/v62.0";

struct T {
    app: common::App,
    token: String,
}

impl T {
    /// An emulator seeded with `size` records; jobs stay `InProgress` until the test advances
    /// the emulator's clock by a minute, so no test depends on timing.
    async fn start(size: u64) -> T {
        let app = common::spawn().await;
        if size > 0 {
            app.admin(
                Method::POST,
                "/__emulator/seed",
                json!({"seed": 11, "size": size}),
            )
            .await;
        }
        app.admin(
            Method::PUT,
            "/__emulator/settings",
            json!({"bulkJobDelayMs": 60_000}),
        )
        .await;
        let token = app.login().await;
        T { app, token }
    }

    async fn call(&self, m: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut rb = self
            .app
            .http
            .request(m, self.app.url(&format!("{V}/{path}")))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.unwrap()
    }

    async fn json(&self, m: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let resp = self.call(m, path, body).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn advance(&self) {
        self.app
            .admin(
                Method::POST,
                "/__emulator/clock/advance",
                json!({"seconds": 61}),
            )
            .await;
    }

    async fn insert(&self, object: &str, records: Value) -> Vec<String> {
        let v = self
            .app
            .admin(
                Method::POST,
                &format!("/__emulator/records/{object}"),
                records,
            )
            .await;
        v["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect()
    }

    async fn rest_query(&self, soql: &str, all: bool) -> Value {
        let path = if all { "queryAll" } else { "query" };
        let resp = self
            .app
            .http
            .get(self.app.url(&format!("{V}/{path}")))
            .query(&[("q", soql)])
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        resp.json().await.unwrap()
    }

    /// Creates a query job and lets it complete.
    async fn query_job(&self, operation: &str, soql: &str) -> String {
        let (s, job) = self
            .json(
                Method::POST,
                "jobs/query",
                Some(json!({"operation": operation, "query": soql})),
            )
            .await;
        assert_eq!(s, 200, "{job}");
        self.advance().await;
        job["id"].as_str().unwrap().to_string()
    }

    /// Every page of a completed query job: (records header value, locator, body) each.
    async fn pages(&self, id: &str, max: u64) -> Vec<(u64, String, String)> {
        let mut out = Vec::new();
        let mut locator: Option<String> = None;
        loop {
            let mut path = format!("jobs/query/{id}/results?maxRecords={max}");
            if let Some(l) = &locator {
                path.push_str(&format!("&locator={l}"));
            }
            let resp = self.call(Method::GET, &path, None).await;
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["content-type"], "text/csv");
            let n: u64 = resp.headers()["sforce-numberofrecords"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let loc = resp.headers()["sforce-locator"]
                .to_str()
                .unwrap()
                .to_string();
            out.push((n, loc.clone(), resp.text().await.unwrap()));
            if loc == "null" {
                return out;
            }
            locator = Some(loc);
        }
    }

    /// An ingest job with `csv` uploaded and closed, then completed.
    async fn ingest(&self, object: &str, operation: &str, csv: &str) -> (String, Value) {
        let (s, job) = self
            .json(
                Method::POST,
                "jobs/ingest",
                Some(json!({"object": object, "operation": operation, "contentType": "CSV", "lineEnding": "LF"})),
            )
            .await;
        assert_eq!(s, 200, "{job}");
        assert_eq!(job["state"], "Open");
        let id = job["id"].as_str().unwrap().to_string();
        assert_eq!(
            job["contentUrl"],
            format!("services/data/v62.0/jobs/ingest/{id}/batches")
        );
        let resp = self
            .app
            .http
            .put(self.app.url(&format!("{V}/jobs/ingest/{id}/batches")))
            .bearer_auth(&self.token)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let (s, closed) = self
            .json(
                Method::PATCH,
                &format!("jobs/ingest/{id}"),
                Some(json!({"state": "UploadComplete"})),
            )
            .await;
        assert_eq!((s, closed["state"].as_str()), (200, Some("UploadComplete")));
        let (_, polled) = self
            .json(Method::GET, &format!("jobs/ingest/{id}"), None)
            .await;
        assert_eq!(polled["state"], "InProgress", "{polled}");
        self.advance().await;
        let (_, done) = self
            .json(Method::GET, &format!("jobs/ingest/{id}"), None)
            .await;
        (id, done)
    }

    async fn text(&self, path: &str) -> String {
        let resp = self.call(Method::GET, path, None).await;
        assert_eq!(resp.status(), 200, "{path}");
        resp.text().await.unwrap()
    }
}

fn lines(csv: &str) -> Vec<&str> {
    csv.lines().collect()
}

#[tokio::test]
async fn query_job_passes_through_its_states_and_pages_csv_by_locator() {
    let t = T::start(3000).await;
    let total = t.rest_query("SELECT COUNT() FROM Contact", false).await["totalSize"]
        .as_u64()
        .unwrap();
    assert!(total > 700, "{total}");
    let (s, created) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(json!({"operation": "query", "query": "SELECT Id, LastName, Account.Name FROM Contact"})),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    assert_eq!(created["state"], "UploadComplete");
    assert_eq!(created["operation"], "query");
    assert_eq!(created["object"], "Contact");
    assert_eq!(created["contentType"], "CSV");
    assert_eq!(created["columnDelimiter"], "COMMA");
    assert_eq!(created["lineEnding"], "LF");
    assert_eq!(created["apiVersion"], 62.0);
    assert_eq!(created["concurrencyMode"], "Parallel");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("750") && id.len() == 18);

    let (_, polled) = t.json(Method::GET, &format!("jobs/query/{id}"), None).await;
    assert_eq!(polled["state"], "InProgress");
    assert_eq!(polled["jobType"], "V2Query");
    assert_eq!(polled["numberRecordsProcessed"], 0);
    let (s, early) = t
        .json(Method::GET, &format!("jobs/query/{id}/results"), None)
        .await;
    assert_eq!(
        (s, early[0]["errorCode"].as_str()),
        (400, Some("INVALIDJOBSTATE"))
    );

    t.advance().await;
    let (_, done) = t.json(Method::GET, &format!("jobs/query/{id}"), None).await;
    assert_eq!(done["state"], "JobComplete");
    assert_eq!(done["numberRecordsProcessed"], total);

    let pages = t.pages(&id, 300).await;
    assert_eq!(pages.len() as u64, total.div_ceil(300));
    let engine = base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut ids = Vec::new();
    for (i, (n, loc, body)) in pages.iter().enumerate() {
        let ls = lines(body);
        assert_eq!(ls[0], "\"Id\",\"LastName\",\"Account.Name\"");
        assert_eq!(ls.len() as u64 - 1, *n);
        if i + 1 < pages.len() {
            assert_eq!(*n, 300);
            assert_eq!(*loc, engine.encode(format!("{}", (i + 1) * 300)));
        }
        for l in &ls[1..] {
            assert!(l.starts_with("\"003"), "{l}");
            ids.push(l.split(',').next().unwrap().trim_matches('"').to_string());
        }
    }
    assert_eq!(ids.len() as u64, total);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "ids come once each, in id order");

    // A locator returns the same page again for as long as the job exists.
    let again = t
        .text(&format!(
            "jobs/query/{id}/results?maxRecords=300&locator={}",
            pages[0].1
        ))
        .await;
    assert_eq!(again, pages[1].2);

    // Cells match the REST API's values (parent path included; null is an empty cell).
    let rest = t
        .rest_query(
            &format!(
                "SELECT Id, LastName, Account.Name FROM Contact WHERE Id = '{}'",
                ids[1]
            ),
            false,
        )
        .await;
    let r = &rest["records"][0];
    let expect = format!(
        "\"{}\",\"{}\",\"{}\"",
        r["Id"].as_str().unwrap(),
        r["LastName"].as_str().unwrap(),
        r["Account"]["Name"].as_str().unwrap_or("")
    );
    assert_eq!(lines(&pages[0].2)[2], expect);

    // Without maxRecords the whole result comes in one page.
    let all = t.pages(&id, 1_000_000).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, total);
}

#[tokio::test]
async fn query_job_honours_delimiter_and_line_ending() {
    let t = T::start(0).await;
    t.insert(
        "Contact",
        json!([{"LastName": "Quote \"me\"; please", "FirstName": "A"}]),
    )
    .await;
    let (s, job) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(json!({"operation": "query", "query": "SELECT FirstName, LastName, Email FROM Contact",
                "columnDelimiter": "SEMICOLON", "lineEnding": "CRLF"})),
        )
        .await;
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["columnDelimiter"], "SEMICOLON");
    t.advance().await;
    let body = t
        .text(&format!(
            "jobs/query/{}/results",
            job["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        body,
        "\"FirstName\";\"LastName\";\"Email\"\r\n\"A\";\"Quote \"\"me\"\"; please\";\"\"\r\n"
    );
}

#[tokio::test]
async fn compound_fields_and_bad_soql_are_refused_at_create() {
    let t = T::start(0).await;
    let create = |q: &str| json!({"operation": "query", "query": q});
    let (s, e) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(create("SELECT Id, MailingAddress FROM Contact")),
        )
        .await;
    assert_eq!(s, 400);
    // Bulk 2.0 errors carry no `fields`, as users of live orgs report them.
    assert_eq!(
        e,
        json!([{"message": "Selecting compound data not supported in Bulk Query", "errorCode": "API_ERROR"}])
    );
    // A parent's compound field too.
    let (s, e) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(create("SELECT Id, Account.BillingAddress FROM Contact")),
        )
        .await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (400, Some("API_ERROR")));
    // Name is a compound name field but Bulk queries select it.
    let (s, _) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(create("SELECT Id, Name FROM Contact")),
        )
        .await;
    assert_eq!(s, 200);
    // Bad SOQL: the REST query's error, at create.
    for q in [
        "SELECT Id, Nope__c FROM Contact",
        "SELECT Id FRM Contact",
        "SELECT Id FROM Nope",
    ] {
        let rest = t.rest_query(q, false).await;
        let (s, e) = t.json(Method::POST, "jobs/query", Some(create(q))).await;
        assert_eq!(s, 400, "{q}");
        assert_eq!(e[0]["errorCode"], rest[0]["errorCode"], "{q}");
        assert_eq!(e[0]["message"], rest[0]["message"], "{q}");
    }
    let (s, e) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(create("SELECT Id, (SELECT Id FROM Cases) FROM Contact")),
        )
        .await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (400, Some("API_ERROR")));
    let (s, e) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(json!({"operation": "upsert", "query": "SELECT Id FROM Contact"})),
        )
        .await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (400, Some("INVALIDJOB")));
}

#[tokio::test]
async fn query_all_sees_the_recycle_bin_and_jobs_abort_delete_and_list() {
    let t = T::start(0).await;
    let ids = t
        .insert(
            "Lead",
            json!([
                {"LastName": "Live", "Company": "A"},
                {"LastName": "Binned", "Company": "B", "IsDeleted": true}
            ]),
        )
        .await;
    let live = t.query_job("query", "SELECT Id, IsDeleted FROM Lead").await;
    let all = t
        .query_job("queryAll", "SELECT Id, IsDeleted FROM Lead")
        .await;
    let body = t.text(&format!("jobs/query/{live}/results")).await;
    assert_eq!(lines(&body)[1..], [format!("\"{}\",\"false\"", ids[0])]);
    let body = t.text(&format!("jobs/query/{all}/results")).await;
    assert_eq!(
        lines(&body)[1..],
        [
            format!("\"{}\",\"false\"", ids[0]),
            format!("\"{}\",\"true\"", ids[1])
        ]
    );

    // Abort an unfinished job; it cannot be aborted twice; ended jobs can be deleted.
    let (_, job) = t
        .json(
            Method::POST,
            "jobs/query",
            Some(json!({"operation": "query", "query": "SELECT Id FROM Lead"})),
        )
        .await;
    let id = job["id"].as_str().unwrap();
    let (s, e) = t
        .json(Method::DELETE, &format!("jobs/query/{id}"), None)
        .await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (400, Some("INVALIDJOBSTATE"))
    );
    let (s, aborted) = t
        .json(
            Method::PATCH,
            &format!("jobs/query/{id}"),
            Some(json!({"state": "Aborted"})),
        )
        .await;
    assert_eq!((s, aborted["state"].as_str()), (200, Some("Aborted")));
    let (s, _) = t
        .json(
            Method::PATCH,
            &format!("jobs/query/{id}"),
            Some(json!({"state": "Aborted"})),
        )
        .await;
    assert_eq!(s, 400);
    let (_, list) = t.json(Method::GET, "jobs/query", None).await;
    assert_eq!(list["done"], true);
    assert_eq!(list["records"].as_array().unwrap().len(), 3);
    let resp = t
        .call(Method::DELETE, &format!("jobs/query/{id}"), None)
        .await;
    assert_eq!(resp.status(), 204);
    let resp = t.call(Method::GET, &format!("jobs/query/{id}"), None).await;
    common::assert_sf_error(
        resp,
        404,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
    .await;
    // A query job is not an ingest job.
    let resp = t
        .call(Method::GET, &format!("jobs/ingest/{live}"), None)
        .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn delete_job_follows_the_write_rules_and_reports_sf_error() {
    let t = T::start(0).await;
    let contacts = t
        .insert(
            "Contact",
            json!([
                {"LastName": "One"}, {"LastName": "Two"}, {"LastName": "Blocked"},
                {"LastName": "Gone", "IsDeleted": true}
            ]),
        )
        .await;
    t.insert(
        "Case",
        json!([{"ContactId": contacts[2], "Subject": "Help"}]),
    )
    .await;
    let csv = format!(
        "Id\n{}\n{}\n{}\n{}\nnot-an-id\n",
        contacts[0], contacts[1], contacts[2], contacts[3]
    );
    let (id, done) = t.ingest("Contact", "delete", &csv).await;
    assert_eq!(done["state"], "JobComplete", "{done}");
    assert_eq!(done["jobType"], "V2Ingest");
    assert_eq!(done["numberRecordsProcessed"], 5);
    assert_eq!(done["numberRecordsFailed"], 3);

    let ok = t
        .text(&format!("jobs/ingest/{id}/successfulResults/"))
        .await;
    assert_eq!(
        lines(&ok),
        [
            "\"sf__Id\",\"sf__Created\",Id".to_string(),
            format!("\"{0}\",\"false\",{0}", contacts[0]),
            format!("\"{0}\",\"false\",{0}", contacts[1]),
        ]
    );
    let failed = t.text(&format!("jobs/ingest/{id}/failedResults/")).await;
    let mut rdr = csv::Reader::from_reader(failed.as_bytes());
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["sf__Id", "sf__Error", "Id"]
    );
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][0], contacts[2]);
    assert!(
        rows[0][1].starts_with("DELETE_FAILED:Your attempt to delete Blocked could not be completed because it is associated with the following cases.:"),
        "{}",
        rows[0][1]
    );
    assert!(rows[0][1].ends_with(":--"), "{}", rows[0][1]);
    assert_eq!(rows[1][1], "ENTITY_IS_DELETED:entity is deleted:--");
    assert_eq!(
        rows[2][1],
        "MALFORMED_ID:Contact ID: id value of incorrect type: not-an-id:Id --"
    );
    let unprocessed = t
        .text(&format!("jobs/ingest/{id}/unprocessedrecords/"))
        .await;
    assert_eq!(unprocessed, "Id\n");

    // Soft delete: the rows sit in the recycle bin.
    let bin = t
        .rest_query(
            &format!(
                "SELECT Id, IsDeleted FROM Contact WHERE Id IN ('{}','{}')",
                contacts[0], contacts[1]
            ),
            true,
        )
        .await;
    assert_eq!(bin["totalSize"], 2);
    assert!(
        bin["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["IsDeleted"] == true)
    );
}

#[tokio::test]
async fn hard_delete_purges_so_query_all_no_longer_sees_the_rows() {
    let t = T::start(0).await;
    let contacts = t
        .insert(
            "Contact",
            json!([{"LastName": "Purge"}, {"LastName": "Keep"}]),
        )
        .await;
    let (id, done) = t
        .ingest("Contact", "hardDelete", &format!("Id\n{}\n", contacts[0]))
        .await;
    assert_eq!(done["state"], "JobComplete");
    assert_eq!(done["operation"], "hardDelete");
    assert_eq!(done["numberRecordsFailed"], 0);
    let ok = t
        .text(&format!("jobs/ingest/{id}/successfulResults/"))
        .await;
    assert_eq!(lines(&ok).len(), 2);
    let all = t
        .rest_query(
            &format!("SELECT Id FROM Contact WHERE Id = '{}'", contacts[0]),
            true,
        )
        .await;
    assert_eq!(all["totalSize"], 0, "{all}");
    let resp = t
        .call(
            Method::GET,
            &format!("sobjects/Contact/{}", contacts[0]),
            None,
        )
        .await;
    assert_eq!(resp.status(), 404);
    // A purged row cannot be deleted again: it no longer exists.
    let (id, _) = t
        .ingest("Contact", "hardDelete", &format!("Id\n{}\n", contacts[0]))
        .await;
    let failed = t.text(&format!("jobs/ingest/{id}/failedResults/")).await;
    assert!(
        lines(&failed)[1].contains("INVALID_CROSS_REFERENCE_KEY:"),
        "{failed}"
    );
    let live = t.rest_query("SELECT Id FROM Contact", false).await;
    assert_eq!(live["totalSize"], 1);
}

#[tokio::test]
async fn hard_delete_needs_the_bulk_api_hard_delete_permission() {
    let t = T::start(0).await;
    t.app
        .admin(
            Method::PUT,
            "/__emulator/settings",
            json!({"bulkApiHardDelete": false}),
        )
        .await;
    let resp = t
        .call(
            Method::POST,
            "jobs/ingest",
            Some(json!({"object": "Contact", "operation": "hardDelete"})),
        )
        .await;
    common::assert_sf_error(
        resp,
        400,
        "FEATURENOTENABLED",
        "hardDelete operation requires special user profile permission, please contact your system administrator",
    )
    .await;
    // A plain delete job is still allowed.
    let (s, _) = t
        .json(
            Method::POST,
            "jobs/ingest",
            Some(json!({"object": "Contact", "operation": "delete"})),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn aborted_and_failed_ingest_jobs() {
    let t = T::start(0).await;
    let ids = t.insert("Contact", json!([{"LastName": "A"}])).await;
    let (_, job) = t
        .json(
            Method::POST,
            "jobs/ingest",
            Some(json!({"object": "Contact", "operation": "delete"})),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    let resp = t
        .app
        .http
        .put(t.app.url(&format!("{V}/jobs/ingest/{id}/batches")))
        .bearer_auth(&t.token)
        .header("content-type", "text/csv")
        .body(format!("Id\n{}\n", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let (_, aborted) = t
        .json(
            Method::PATCH,
            &format!("jobs/ingest/{id}"),
            Some(json!({"state": "Aborted"})),
        )
        .await;
    assert_eq!(aborted["state"], "Aborted");
    let un = t
        .text(&format!("jobs/ingest/{id}/unprocessedrecords/"))
        .await;
    assert_eq!(un, format!("Id\n{}\n", ids[0]));
    assert_eq!(
        t.rest_query("SELECT Id FROM Contact", false).await["totalSize"],
        1
    );

    // A delete upload with more than the Id column fails the whole job.
    let (_, done) = t
        .ingest("Contact", "delete", &format!("Id,LastName\n{},A\n", ids[0]))
        .await;
    assert_eq!(done["state"], "Failed");
    assert_eq!(
        done["errorMessage"],
        "InvalidBatch : The 'delete' batch must contain only ids"
    );
    // Insert and update go through the write rules too.
    let (id, done) = t
        .ingest(
            "Contact",
            "insert",
            "LastName,Email\nNew,new@example.com\n,bad\n",
        )
        .await;
    assert_eq!(done["numberRecordsFailed"], 1, "{done}");
    let ok = t
        .text(&format!("jobs/ingest/{id}/successfulResults/"))
        .await;
    assert!(
        lines(&ok)[1].contains("\"true\",New,new@example.com"),
        "{ok}"
    );
    let failed = t.text(&format!("jobs/ingest/{id}/failedResults/")).await;
    assert!(
        lines(&failed)[1].starts_with("\"\",\"REQUIRED_FIELD_MISSING:"),
        "{failed}"
    );
}

#[tokio::test]
async fn bulk_calls_are_counted_limited_and_faulted_like_other_endpoints() {
    let t = T::start(0).await;
    t.app
        .admin(Method::POST, "/__emulator/counters/reset", json!({}))
        .await;
    let id = t.query_job("query", "SELECT Id FROM Contact").await;
    let resp = t
        .call(Method::GET, &format!("jobs/query/{id}/results"), None)
        .await;
    assert!(resp.headers().contains_key("sforce-limit-info"));
    assert_eq!(resp.headers()["sforce-locator"], "null");
    assert_eq!(resp.headers()["sforce-numberofrecords"], "0");
    assert_eq!(resp.text().await.unwrap(), "\"Id\"\n");
    // jsforce asks for later pages at `jobs/query//{id}/results?locator=…`.
    let resp = t
        .call(
            Method::GET,
            &format!("jobs/query//{id}/results?locator=MA"),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let counters = t
        .app
        .admin(Method::GET, "/__emulator/counters", json!(null))
        .await;
    assert_eq!(
        counters["endpoints"]["POST /services/data/{version}/jobs/query"],
        1
    );
    // Both spellings of the results path are one endpoint.
    assert_eq!(
        counters["endpoints"]["GET /services/data/{version}/jobs/query/{id}/results"],
        2
    );
    t.app
        .admin(
            Method::PUT,
            "/__emulator/faults",
            json!({"fail_next": [{"endpoint": "jobs", "kind": "SERVER_UNAVAILABLE", "count": 1}]}),
        )
        .await;
    let resp = t.call(Method::GET, &format!("jobs/query/{id}"), None).await;
    assert_eq!(resp.status(), 503);
    let resp = t.call(Method::GET, &format!("jobs/query/{id}"), None).await;
    assert_eq!(resp.status(), 200);
    let resp = t
        .app
        .http
        .get(t.app.url(&format!("{V}/jobs/query/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn uploads_larger_than_two_megabytes_are_taken() {
    let t = T::start(0).await;
    let ids = t.insert("Contact", json!([{"LastName": "Big"}])).await;
    // 150,000 ids (2.8 MB): one real, the rest well-formed ids of rows that never existed.
    let mut csv = String::from("Id\n");
    csv.push_str(&ids[0]);
    csv.push('\n');
    for n in 1..150_000u64 {
        csv.push_str(&sf_emulator::org::ids::make_id("003", 500_000_000 + n));
        csv.push('\n');
    }
    assert!(csv.len() > 2 * 1024 * 1024);
    let (id, done) = t.ingest("Contact", "delete", &csv).await;
    assert_eq!(done["state"], "JobComplete", "{done}");
    assert_eq!(done["numberRecordsProcessed"], 150_000);
    assert_eq!(done["numberRecordsFailed"], 149_999);
    let ok = t
        .text(&format!("jobs/ingest/{id}/successfulResults/"))
        .await;
    assert_eq!(lines(&ok)[1], format!("\"{0}\",\"false\",{0}", ids[0]));
    let failed = t.text(&format!("jobs/ingest/{id}/failedResults/")).await;
    assert!(
        lines(&failed)[1].contains("INVALID_CROSS_REFERENCE_KEY:"),
        "{}",
        lines(&failed)[1]
    );
}
