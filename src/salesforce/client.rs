//! SKELETON: the public surface `dsr`, `classify` and `jobs` code against. The sf-client
//! developer replaces every `todo!()` body (and may split this file into modules) while keeping
//! these signatures, or changes them and fixes the callers in the same commit.

use super::describe::{SObjectDescribe, SObjectSummary};
use super::error::{ApiErrorBody, SfError};
use std::sync::Arc;

/// A Salesforce record as JSON (`attributes` included as Salesforce sends it).
pub type Record = serde_json::Map<String, serde_json::Value>;

/// Per-record result of a collections write (`[{"id","success","errors":[{"statusCode",...}]}]`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SaveResult {
    #[serde(default)]
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ApiErrorBody>,
}

/// A client for one connection (org). Cheap to clone; clones share token, describe and limit
/// caches. [`SalesforceClient::for_job`] gives a handle with its own API-call counter.
#[derive(Clone)]
pub struct SalesforceClient {
    _inner: Arc<()>,
}

/// Pages of a SOQL query, followed through `nextRecordsUrl` until `done`.
pub struct QueryPager {
    _p: (),
}

impl QueryPager {
    /// The next page of records, or `None` when the query is done.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Record>>, SfError> {
        todo!()
    }
    /// `totalSize` from the first page.
    pub fn total_size(&self) -> u64 {
        todo!()
    }
}

impl SalesforceClient {
    pub fn connection_id(&self) -> &str {
        todo!()
    }
    /// A handle sharing caches but counting its own API calls (one per job).
    pub fn for_job(&self) -> SalesforceClient {
        todo!()
    }
    /// API calls made through this handle (every HTTP request to Salesforce, retries included).
    pub fn api_calls(&self) -> u64 {
        todo!()
    }
    /// Latest `Sforce-Limit-Info: api-usage=used/max` seen for this org.
    pub fn api_usage(&self) -> Option<(u64, u64)> {
        todo!()
    }
    pub async fn describe_global(&self) -> Result<Arc<Vec<SObjectSummary>>, SfError> {
        todo!()
    }
    /// Cached per org.
    pub async fn describe(&self, _object: &str) -> Result<Arc<SObjectDescribe>, SfError> {
        todo!()
    }
    /// `GET /query` (or `/queryAll` with `include_deleted`), paged.
    pub async fn query(&self, _soql: &str, _include_deleted: bool) -> Result<QueryPager, SfError> {
        todo!()
    }
    /// Every row of a query (all pages). Only for results known to be small.
    pub async fn query_all(&self, _soql: &str) -> Result<Vec<Record>, SfError> {
        todo!()
    }
    /// `GET /search?q=…` → `searchRecords`.
    pub async fn search(&self, _sosl: &str) -> Result<Vec<Record>, SfError> {
        todo!()
    }
    /// sObject Collections retrieve (≤ 2000 ids a call; chunked here).
    pub async fn retrieve(
        &self,
        _object: &str,
        _ids: &[String],
        _fields: &[String],
    ) -> Result<Vec<Record>, SfError> {
        todo!()
    }
    /// sObject Collections PATCH (≤ 200 a call; chunked here). Each record carries
    /// `attributes.type` and `Id`. Results in input order.
    pub async fn update(
        &self,
        _records: Vec<Record>,
        _all_or_none: bool,
    ) -> Result<Vec<SaveResult>, SfError> {
        todo!()
    }
    /// sObject Collections DELETE (≤ 200 ids a call; chunked here). Results in input order.
    pub async fn delete(
        &self,
        _ids: &[String],
        _all_or_none: bool,
    ) -> Result<Vec<SaveResult>, SfError> {
        todo!()
    }
    /// Bulk API 2.0 `hardDelete` ingest job; waits for it and returns per-id results.
    pub async fn bulk_hard_delete(
        &self,
        _object: &str,
        _ids: &[String],
    ) -> Result<Vec<SaveResult>, SfError> {
        todo!()
    }
}

/// `'…'` SOQL string literal: escapes `\` and `'` (and control characters), nothing else.
pub fn soql_literal(_s: &str) -> String {
    todo!()
}

/// A SOSL search term with every reserved character escaped.
pub fn sosl_escape(_s: &str) -> String {
    todo!()
}
