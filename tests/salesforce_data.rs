//! The Salesforce client's data API against the emulator: query paging, session expiry in the
//! middle of a query, SOSL search with escaping, describe cache, sObject Collections.

mod sf_harness;

use sf_harness::Harness;
use sfprivacy::salesforce::sosl::{self, Returning};
use sfprivacy::salesforce::{
    BulkOptions, ClientOptions, Record, SalesforceClient, soql, soql_literal,
};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

fn id(r: &Record) -> String {
    r["Id"].as_str().unwrap().to_string()
}

async fn contacts(h: &Harness, tag: &str, n: usize) -> Vec<String> {
    let rows = (0..n)
        .map(|i| {
            serde_json::json!({
                "LastName": format!("Pager{i}"),
                "Title": tag,
                "Email": format!("pager{i}.{tag}@example.com"),
            })
        })
        .collect();
    h.insert("Contact", rows, true).await
}

async fn paging_client(h: &Harness) -> SalesforceClient {
    let options = ClientOptions {
        query_batch_size: Some(200),
        ..sf_harness::quick_options()
    };
    SalesforceClient::new(h.connection(), h.tokens().await, h.http.clone(), options).for_job()
}

/// Salesforce treats `batchSize` as a hint: pages may be smaller or larger. With the
/// emulator's varying page sizes on, the pager must still return every record exactly once.
#[tokio::test]
async fn a_query_over_pages_of_varying_sizes_returns_every_record_once() {
    let h = Harness::start().await;
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/settings",
        serde_json::json!({"varyQueryPageSizes": true}),
    )
    .await;
    let inserted: HashSet<String> = contacts(&h, "paging-a", 1000).await.into_iter().collect();
    let client = paging_client(&h).await;
    let soql = format!(
        "SELECT Id, LastName FROM Contact WHERE Title = {}",
        soql_literal("paging-a")
    );

    let mut pager = client.query(&soql, false).await.unwrap();
    assert_eq!(pager.total_size(), 1000);
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        sizes.push(page.len());
        seen.extend(page.iter().map(id));
    }
    // batchSize 200 asked for; the emulator varies pages within 200-300.
    let (_, full) = sizes.split_last().unwrap();
    assert!(full.len() >= 3, "pages {sizes:?}");
    assert!(
        full.iter().collect::<BTreeSet<_>>().len() > 1,
        "sizes differ before the last page: {sizes:?}"
    );
    assert!(
        full.iter().any(|n| *n != 200),
        "not exactly batchSize: {sizes:?}"
    );
    assert_eq!(seen.len(), 1000, "no duplicates");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), inserted);
    assert_eq!(client.api_calls(), sizes.len() as u64);

    // query_all gives the same rows.
    let all = client.query_all(&soql).await.unwrap();
    assert_eq!(all.len(), 1000);
    assert_eq!(all.iter().map(id).collect::<HashSet<_>>(), inserted);
    h.cleanup().await;
}

#[tokio::test]
async fn session_expiring_mid_query_costs_one_refresh_and_one_retry() {
    let h = Harness::start().await;
    let inserted: HashSet<String> = contacts(&h, "paging-b", 450).await.into_iter().collect();
    let client = paging_client(&h).await;
    let soql = format!(
        "SELECT Id FROM Contact WHERE Title = {}",
        soql_literal("paging-b")
    );
    let mut pager = client.query(&soql, false).await.unwrap();
    let mut seen: Vec<String> = pager
        .next_page()
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    let tokens_before = h.count("POST /services/oauth2/token").await;

    assert_eq!(h.sessions_issued_and_expire(), 1);
    let mut pages = 1;
    while let Some(page) = pager.next_page().await.unwrap() {
        pages += 1;
        seen.extend(page.iter().map(id));
    }
    assert_eq!(seen.len(), 450, "no duplicates, nothing missing");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), inserted);
    assert_eq!(client.token_requests(), 2);
    assert_eq!(
        h.count("POST /services/oauth2/token").await,
        tokens_before + 1
    );
    // Every page once, plus the one call rejected with INVALID_SESSION_ID.
    assert_eq!(client.api_calls(), pages + 1);
    h.cleanup().await;
}

#[tokio::test]
async fn deleted_rows_show_only_in_query_all() {
    let h = Harness::start().await;
    let ids = contacts(&h, "recycle", 3).await;
    let client = h.replica(h.connection()).await;
    let results = client.delete(&ids[..1], false).await.unwrap();
    assert!(results[0].success);
    let soql = format!(
        "SELECT Id, IsDeleted FROM Contact WHERE Title = {}",
        soql_literal("recycle")
    );
    assert_eq!(client.query_all(&soql).await.unwrap().len(), 2);
    let mut pager = client.query(&soql, true).await.unwrap();
    let rows = pager.next_page().await.unwrap().unwrap();
    assert_eq!(rows.len(), 3);
    let deleted: Vec<_> = rows
        .iter()
        .filter(|r| r["IsDeleted"] == true)
        .map(id)
        .collect();
    assert_eq!(deleted, vec![ids[0].clone()]);
    h.cleanup().await;
}

#[tokio::test]
async fn search_escapes_every_reserved_character_and_finds_plus_and_minus() {
    let h = Harness::start().await;
    let email = "jane+doe-x@example.com";
    let ids = h
        .insert(
            "Contact",
            vec![serde_json::json!({"LastName": "Doe", "Email": email})],
            true,
        )
        .await;
    let client = h.replica(h.connection()).await;
    let returning = [
        Returning::new("Contact", &["Id", "Email"]),
        Returning::new("Lead", &["Id", "Email"]),
    ];
    let statements = sosl::find_email(email, &returning).unwrap();
    assert_eq!(statements.len(), 1);
    let hits = client.search(&statements[0]).await.unwrap();
    assert!(hits.iter().any(|r| id(r) == ids[0]), "{hits:?}");

    // A term holding each reserved character is accepted by the search endpoint.
    for c in sosl::RESERVED {
        let term = format!("a{c}b@example.com");
        let q = sosl::find_email(&term, &returning).unwrap().remove(0);
        client
            .search(&q)
            .await
            .unwrap_or_else(|e| panic!("reserved {c:?}: {e}"));
    }
    h.cleanup().await;
}

#[tokio::test]
async fn describes_are_cached_per_org() {
    let h = Harness::start().await;
    let client = h.replica(h.connection()).await.for_job();
    let global = client.describe_global().await.unwrap();
    assert!(global.iter().any(|o| o.name == "Contact"));
    let d1 = client.describe("Contact").await.unwrap();
    assert!(d1.email_fields().any(|f| f.name == "Email"));
    let again = client.for_job();
    let d2 = again.describe("contact").await.unwrap();
    again.describe_global().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&d1, &d2));
    assert_eq!(client.api_calls(), 2);
    assert_eq!(again.api_calls(), 0);
    assert!(client.describe("Contact; DROP").await.is_err());
    h.cleanup().await;
}

#[tokio::test]
async fn collections_chunk_and_keep_input_order() {
    let h = Harness::start().await;
    let ids = contacts(&h, "collections", 450).await;
    let client = h.replica(h.connection()).await.for_job();

    // Retrieve: one call for ≤ 2000 ids, input order, unknown ids left out.
    let mut wanted: Vec<String> = ids.iter().rev().cloned().collect();
    wanted.push("003000000000000AAA".into());
    let rows = client
        .retrieve("Contact", &wanted, &["Id".into(), "LastName".into()])
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(id).collect::<Vec<_>>(),
        wanted[..450].to_vec()
    );
    assert_eq!(client.api_calls(), 1);

    // Update 450 records: 3 calls of ≤ 200.
    let records: Vec<Record> = ids
        .iter()
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "attributes": {"type": "Contact"}, "Id": i, "LastName": "Redacted"
            }))
            .unwrap()
        })
        .collect();
    let results = client.update(records, false).await.unwrap();
    assert_eq!(results.len(), 450);
    assert!(results.iter().all(|r| r.success));
    assert_eq!(
        results
            .iter()
            .map(|r| r.id.clone().unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(client.api_calls(), 1 + 3);

    // Delete, then delete again: the second time every record reports ENTITY_IS_DELETED.
    let first = client.delete(&ids[..250], false).await.unwrap();
    assert!(first.iter().all(|r| r.success));
    let mut mixed = ids[240..260].to_vec();
    mixed.reverse();
    let second = client.delete(&mixed, false).await.unwrap();
    for (id, r) in mixed.iter().zip(&second) {
        let was_deleted = ids[..250].contains(id);
        assert_eq!(r.success, !was_deleted, "{id}");
        if was_deleted {
            assert_eq!(r.status_code(), Some("ENTITY_IS_DELETED"));
        }
    }
    let q = soql::select_where_any_in(
        "Contact",
        &["Id"],
        &["Title"],
        &["collections".into()],
        soql::MAX_SOQL_LEN,
    )
    .unwrap();
    assert_eq!(client.query_all(&q[0]).await.unwrap().len(), 450 - 260);
    h.cleanup().await;
}

#[tokio::test]
async fn transient_lock_errors_are_retried() {
    let h = Harness::start().await;
    let ids = contacts(&h, "locks", 5).await;
    let client = h.replica(h.connection()).await.for_job();
    client.describe("Contact").await.unwrap();
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/faults",
        serde_json::json!({"fail_next": [{"endpoint": "composite", "kind": "UNABLE_TO_LOCK_ROW", "count": 2}]}),
    )
    .await;
    let results = client.delete(&ids, false).await.unwrap();
    assert!(results.iter().all(|r| r.success));
    assert_eq!(client.api_calls(), 1 + 3);
    h.cleanup().await;
}

#[tokio::test]
async fn bulk_query_polls_then_pages_by_sforce_locator_until_null() {
    let h = Harness::start().await;
    // Jobs read InProgress for 150 ms, so the client polls more than once.
    h.admin(
        reqwest::Method::PUT,
        "/__emulator/settings",
        serde_json::json!({"bulkJobDelayMs": 150}),
    )
    .await;
    let inserted: HashSet<String> = contacts(&h, "bulk-a", 25).await.into_iter().collect();
    let options = ClientOptions {
        bulk: BulkOptions {
            poll_min: Duration::from_millis(20),
            poll_max: Duration::from_millis(60),
            query_page_size: 10,
            ..BulkOptions::default()
        },
        ..sf_harness::quick_options()
    };
    let client =
        SalesforceClient::new(h.connection(), h.tokens().await, h.http.clone(), options).for_job();
    let soql = format!(
        "SELECT Id, LastName, Title FROM Contact WHERE Title = {}",
        soql_literal("bulk-a")
    );
    let mut pager = client.bulk_query(&soql, false).await.unwrap();
    let job = pager.job_id().to_string();
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        sizes.push(page.len());
        for r in &page {
            assert_eq!(r["Title"], "bulk-a");
            seen.push(id(r));
        }
    }
    assert_eq!(sizes, vec![10, 10, 5]);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), inserted);
    let results = "GET /services/data/{version}/jobs/query/{id}/results";
    assert_eq!(
        h.count(results).await,
        3,
        "one call per page, none after the null locator"
    );
    assert!(
        h.count("GET /services/data/{version}/jobs/query/{id}")
            .await
            >= 2,
        "polled while InProgress"
    );
    assert!(job.starts_with("750"));

    // queryAll sees a deleted row; a plain query job does not.
    let gone = seen[0].clone();
    let res = client
        .delete(std::slice::from_ref(&gone), false)
        .await
        .unwrap();
    assert!(res[0].success);
    let by_id = format!(
        "SELECT Id, IsDeleted FROM Contact WHERE Id = {}",
        soql_literal(&gone)
    );
    let mut all = client.bulk_query(&by_id, true).await.unwrap();
    let rows = all.next_page().await.unwrap().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["IsDeleted"], "true");
    assert!(all.next_page().await.unwrap().is_none());
    let mut live = client.bulk_query(&by_id, false).await.unwrap();
    assert_eq!(live.next_page().await.unwrap().unwrap().len(), 0);
    h.cleanup().await;
}
