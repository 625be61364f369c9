//! SOQL queries paged through `nextRecordsUrl`, and SOSL searches.
//!
//! Part of the Salesforce adapter. A [`QueryPager`] holds one page at a time and asks for the
//! next only when the caller wants it, so a scan of a large object never holds more than a
//! page; page sizes are whatever Salesforce sends (2,000 is common, never assumed). Only
//! [`SalesforceClient::query_all`] collects every page, for results known to be small.

use super::client::{ApiRequest, Record, SalesforceClient, Target};
use super::error::SfError;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryPage {
    #[serde(default)]
    total_size: u64,
    done: bool,
    #[serde(default)]
    next_records_url: Option<String>,
    #[serde(default)]
    records: Vec<Record>,
}

/// Pages of a SOQL query, followed through `nextRecordsUrl` until `done`.
pub struct QueryPager {
    client: SalesforceClient,
    first: Option<Vec<Record>>,
    next_url: Option<String>,
    total_size: u64,
    pages: u64,
}

impl QueryPager {
    fn from_page(client: SalesforceClient, page: QueryPage) -> Result<Self, SfError> {
        let next_url = next_url(&page)?;
        Ok(Self {
            client,
            first: Some(page.records),
            next_url,
            total_size: page.total_size,
            pages: 1,
        })
    }

    /// The next page of records, or `None` when the query is done.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Record>>, SfError> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        let Some(url) = self.next_url.take() else {
            return Ok(None);
        };
        let req = ApiRequest::new(reqwest::Method::GET, Target::Instance(url.clone()));
        let page: QueryPage = match self.client.send(&req).await {
            Ok(resp) => resp.json()?,
            Err(e) => {
                // Keep the cursor so a caller that retries resumes at the same page.
                self.next_url = Some(url);
                return Err(e);
            }
        };
        self.next_url = next_url(&page)?;
        self.pages += 1;
        Ok(Some(page.records))
    }

    /// `totalSize` from the first page.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages
    }

    /// The pages as a stream (same one-page-at-a-time behaviour).
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<Vec<Record>, SfError>> {
        futures::stream::try_unfold(self, |mut pager| async move {
            Ok(pager.next_page().await?.map(|page| (page, pager)))
        })
    }

    /// Whether every page has been handed out.
    pub fn is_done(&self) -> bool {
        self.first.is_none() && self.next_url.is_none()
    }
}

fn next_url(page: &QueryPage) -> Result<Option<String>, SfError> {
    if page.done {
        return Ok(None);
    }
    match &page.next_records_url {
        Some(u) => Ok(Some(u.clone())),
        None => Err(SfError::Decode(
            "query page not done but has no nextRecordsUrl".into(),
        )),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SearchResponse {
    Wrapped {
        #[serde(rename = "searchRecords")]
        search_records: Vec<Record>,
    },
    /// Older API versions answer with the bare list.
    Bare(Vec<Record>),
}

impl SalesforceClient {
    /// `GET /query` (or `/queryAll` with `include_deleted`), paged.
    pub async fn query(&self, soql: &str, include_deleted: bool) -> Result<QueryPager, SfError> {
        let path = if include_deleted { "queryAll" } else { "query" };
        let mut req = ApiRequest::get(path).query("q", soql);
        if let Some(n) = self.shared.options.query_batch_size {
            req = req.header("Sforce-Query-Options", format!("batchSize={n}"));
        }
        let page: QueryPage = self.send(&req).await?.json()?;
        QueryPager::from_page(self.clone(), page)
    }

    /// Every row of a query (all pages). Only for results known to be small.
    pub async fn query_all(&self, soql: &str) -> Result<Vec<Record>, SfError> {
        let mut pager = self.query(soql, false).await?;
        let mut out = Vec::with_capacity(pager.total_size().min(10_000) as usize);
        while let Some(page) = pager.next_page().await? {
            out.extend(page);
        }
        Ok(out)
    }

    /// `GET /search?q=…` → `searchRecords`.
    pub async fn search(&self, sosl: &str) -> Result<Vec<Record>, SfError> {
        let resp: SearchResponse = self
            .send(&ApiRequest::get("search").query("q", sosl))
            .await?
            .json()?;
        Ok(match resp {
            SearchResponse::Wrapped { search_records } => search_records,
            SearchResponse::Bare(v) => v,
        })
    }
}
