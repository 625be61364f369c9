//! Benchmark runner: Salesforce API calls per delete and per anonymize request for subjects
//! with 1, 10 and 500 records, against the same work done the per-record way (one query to
//! find the records, then a read and a write per record), counted by the emulator.
//!
//! `cargo bench --bench dsr_api_calls` (needs Redis on 127.0.0.1:6379); prints the Markdown
//! table that BENCHMARKS.md carries. Describe caches are warm in both ways (one dry run first).

#[path = "../tests/sf_harness/mod.rs"]
mod sf_harness;

use serde_json::{Value, json};
use sf_harness::Harness;
use sfprivacy::dsr::{self, DsrContext};
use sfprivacy::message::{
    DsrAction, DsrOptions, DsrRequest, ObjectSelection, Subject, SubjectEmail,
};
use sfprivacy::salesforce::{Record, SalesforceClient, soql_literal};

fn request(action: DsrAction, email: &str, dry_run: bool) -> DsrRequest {
    DsrRequest {
        kind: "dsr.request".into(),
        version: 1,
        request_id: format!("bench-{}", uuid::Uuid::new_v4().simple()),
        connection_id: "bench".into(),
        action,
        subject: Subject {
            emails: vec![SubjectEmail::parse(email).unwrap()],
        },
        options: DsrOptions {
            dry_run,
            objects: ObjectSelection::Default,
            hard_delete: false,
        },
    }
}

async fn insert(h: &Harness, n: usize, email: &str) {
    let records: Vec<Value> = (0..n)
        .map(|i| json!({"FirstName": "Pat", "LastName": format!("Bench{i}"), "Email": email, "Phone": "+1 415 555 0100", "MailingCity": "Springfield"}))
        .collect();
    let resp = reqwest::Client::new()
        .post(format!("{}/__emulator/records/Contact", h.base_url()))
        .json(&json!({"records": records, "searchable": true}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

async fn calls(h: &Harness) -> u64 {
    let v: Value = reqwest::get(format!("{}/__emulator/counters", h.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["total"].as_u64().unwrap_or(0)
}

async fn reset(h: &Harness) {
    h.admin(
        reqwest::Method::POST,
        "/__emulator/counters/reset",
        json!({}),
    )
    .await;
}

/// The per-record way: one SOQL query to find the rows, then per record one read and one write.
async fn per_record(client: &SalesforceClient, action: DsrAction, email: &str) {
    let rows = client
        .query_all(&format!(
            "SELECT Id FROM Contact WHERE Email = {}",
            soql_literal(email)
        ))
        .await
        .unwrap();
    let fields: Vec<String> = ["FirstName", "LastName", "Email", "Phone", "MailingCity"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for row in rows {
        let id = row["Id"].as_str().unwrap().to_string();
        let _ = client
            .retrieve("Contact", std::slice::from_ref(&id), &fields)
            .await
            .unwrap();
        match action {
            DsrAction::Delete => {
                client.delete(&[id], false).await.unwrap();
            }
            _ => {
                let mut r = Record::new();
                r.insert("attributes".into(), json!({"type": "Contact"}));
                r.insert("Id".into(), json!(id));
                r.insert("FirstName".into(), Value::Null);
                r.insert("LastName".into(), json!("Anonymized"));
                r.insert(
                    "Email".into(),
                    json!(format!("anon-{id}@anonymized.invalid")),
                );
                r.insert("Phone".into(), Value::Null);
                r.insert("MailingCity".into(), Value::Null);
                client.update(vec![r], false).await.unwrap();
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let mut lines = vec![
        "| action | records | sfprivacy (calls) | per-record way (calls) |".to_string(),
        "|---|---:|---:|---:|".to_string(),
    ];
    for action in [DsrAction::Delete, DsrAction::Anonymize] {
        for n in [1usize, 10, 500] {
            let h = Harness::start().await;
            let client = h.replica(h.connection()).await;
            let ctx = DsrContext::new(h.connection());
            // Warm token and describe caches.
            dsr::execute(&client, &request(action, "warm@example.com", true), &ctx)
                .await
                .unwrap();

            insert(&h, n, "ours@example.com").await;
            reset(&h).await;
            let report = dsr::execute(&client, &request(action, "ours@example.com", false), &ctx)
                .await
                .unwrap();
            assert_eq!(report.records.len(), n, "{:?}", report.status);
            let ours = calls(&h).await;

            insert(&h, n, "theirs@example.com").await;
            reset(&h).await;
            per_record(&client, action, "theirs@example.com").await;
            let theirs = calls(&h).await;
            lines.push(format!("| {} | {n} | {ours} | {theirs} |", action.as_str()));
            h.cleanup().await;
        }
    }
    println!("{}", lines.join("\n"));
}
