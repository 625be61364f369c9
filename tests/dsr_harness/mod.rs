//! Shared set-up of the DSR integration tests: the emulator on port 0 (through the client
//! tests' harness), exact records inserted with the admin API, requests built in one line,
//! checkpoints under a unique Redis prefix, and the emulator's API-call counters.
#![allow(dead_code)]

use crate::sf_harness::{Harness, REDIS_URL};
use serde_json::{Value, json};
use sfprivacy::dsr::{self, DsrContext, DsrReport};
use sfprivacy::message::{
    DsrAction, DsrOptions, DsrRequest, ObjectSelection, RecordOutcome, RecordOutcomeKind, Subject,
    SubjectEmail,
};
use sfprivacy::salesforce::{Record, SalesforceClient};
use sfprivacy::store::Store;
use sfprivacy::store::checkpoint::Checkpoints;

pub struct Dsr {
    pub h: Harness,
    pub client: SalesforceClient,
}

impl Dsr {
    pub async fn start() -> Self {
        Self::start_with(sf_emulator::EmulatorConfig::default()).await
    }

    /// An org seeded with `size` generated records (their modstamps lie in the past).
    pub async fn start_seeded(seed: u64, size: usize) -> Self {
        Self::start_with(sf_emulator::EmulatorConfig {
            seed,
            size,
            ..Default::default()
        })
        .await
    }

    async fn start_with(config: sf_emulator::EmulatorConfig) -> Self {
        let h = Harness::start_with(config).await;
        let client = h.replica(h.connection()).await;
        Self { h, client }
    }

    /// Inserts exact records; `searchable: false` leaves them inside the search index lag.
    pub async fn insert(&self, object: &str, records: Vec<Value>, searchable: bool) -> Vec<String> {
        let resp = reqwest::Client::new()
            .post(format!("{}/__emulator/records/{object}", self.h.base_url()))
            .json(&json!({ "records": records, "searchable": searchable }))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "insert {object}: {}",
            resp.status()
        );
        let body: Value = resp.json().await.unwrap();
        body["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    pub async fn put(&self, path: &str, body: Value) {
        self.h.admin(reqwest::Method::PUT, path, body).await;
    }

    pub async fn counters(&self) -> Value {
        reqwest::get(format!("{}/__emulator/counters", self.h.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn reset_counters(&self) {
        self.h
            .admin(
                reqwest::Method::POST,
                "/__emulator/counters/reset",
                json!({}),
            )
            .await;
    }

    pub fn context(&self) -> DsrContext {
        DsrContext::new(self.h.connection())
    }

    pub async fn context_with_checkpoints(&self) -> DsrContext {
        let store = Store::connect(REDIS_URL, &self.h.prefix).await.unwrap();
        let mut ctx = self.context();
        ctx.checkpoints = Some(Checkpoints::new(store));
        ctx
    }

    pub async fn run(&self, req: &DsrRequest, ctx: &DsrContext) -> DsrReport {
        dsr::execute(&self.client.for_job(), req, ctx)
            .await
            .unwrap()
    }

    /// Every row (live or in the recycle bin) of a query.
    pub async fn query_all_rows(&self, soql: &str) -> Vec<Record> {
        let mut pager = self.client.query(soql, true).await.unwrap();
        let mut out = Vec::new();
        while let Some(page) = pager.next_page().await.unwrap() {
            out.extend(page);
        }
        out
    }

    pub async fn live(&self, soql: &str) -> Vec<Record> {
        self.client.query_all(soql).await.unwrap()
    }

    pub async fn cleanup(&self) {
        self.h.cleanup().await;
    }
}

pub fn request(action: DsrAction, emails: &[&str], objects: ObjectSelection) -> DsrRequest {
    DsrRequest {
        kind: "dsr.request".into(),
        version: 1,
        request_id: format!("req-{}", uuid::Uuid::new_v4().simple()),
        connection_id: "acme-test".into(),
        action,
        subject: Subject {
            emails: emails
                .iter()
                .map(|e| SubjectEmail::parse(e).unwrap())
                .collect(),
        },
        options: DsrOptions {
            dry_run: false,
            objects,
            hard_delete: false,
        },
    }
}

/// The one outcome of record `id`: a record reported twice (or not at all) fails the test.
pub fn outcome_of<'a>(report: &'a DsrReport, id: &str) -> &'a RecordOutcome {
    let mut of_id = report.records.iter().filter(|r| r.id == id);
    let first = of_id
        .next()
        .unwrap_or_else(|| panic!("no outcome for {id}: {:#?}", report.records));
    assert!(
        of_id.next().is_none(),
        "{id} reported more than once: {:#?}",
        report.records
    );
    first
}

pub fn count(report: &DsrReport, kind: RecordOutcomeKind) -> usize {
    report.records.iter().filter(|r| r.outcome == kind).count()
}
