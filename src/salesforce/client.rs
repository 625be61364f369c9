//! `SalesforceClient`: the typed entry point `dsr`, `classify` and `jobs` use — one per
//! connection per process, cloned freely, with [`SalesforceClient::for_job`] per job.
//!
//! Part of the Salesforce adapter. This file holds the shared state (session manager, limit
//! tracker, describe cache, call counters) and the one request path every API call takes:
//! get a token → send → count → read `Sforce-Limit-Info` → on `INVALID_SESSION_ID` renew the
//! token once and retry once → transient failures retried by the [`RetryPolicy`]. The API
//! families live next to it: `query.rs` (SOQL paging, SOSL), `collections.rs`, `bulk.rs`.

use super::describe::{SObjectDescribe, SObjectSummary};
use super::describe_cache::DescribeCache;
use super::error::{ApiErrorBody, ErrorKind, SfError};
use super::http::{self, Response, RetryPolicy};
use super::limits::{ApiUsage, LimitTracker};
use super::session::{Session, SessionOptions, Sessions};
use crate::config::Connection;
use crate::store::tokens::TokenCache;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use super::query::QueryPager;

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

impl SaveResult {
    /// The first error's status code, if the write failed.
    pub fn status_code(&self) -> Option<&str> {
        self.errors.first().map(|e| e.error_code.as_str())
    }
}

/// Tuning of one client. `Default` suits production; tests shorten the delays.
#[derive(Clone)]
pub struct ClientOptions {
    /// In-process retries of transient failures (per HTTP call, and per record for
    /// collection writes).
    pub retry: RetryPolicy,
    /// Token refresh lock and its waits.
    pub session: SessionOptions,
    /// How long describe results are reused.
    pub describe_ttl: Duration,
    /// Timeout of one REST call.
    pub request_timeout: Duration,
    /// Bulk API 2.0 job polling.
    pub bulk: BulkOptions,
    /// `Sforce-Query-Options: batchSize=N` on queries (200–2,000; a hint Salesforce may
    /// override). `None`: Salesforce's default (2,000).
    pub query_batch_size: Option<u32>,
    /// The org's concurrent-request cap shared across replicas: when set, every call holds
    /// one slot while it runs (a slot not free within [`CONCURRENCY_WAIT`] is a transient
    /// error).
    pub concurrency: Option<crate::store::budget::OrgLimits>,
}

/// Longest wait for a concurrency slot before a call fails transiently.
pub const CONCURRENCY_WAIT: Duration = Duration::from_secs(30);

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("retry", &self.retry)
            .field("session", &self.session)
            .field("describe_ttl", &self.describe_ttl)
            .field("request_timeout", &self.request_timeout)
            .field("bulk", &self.bulk)
            .field("query_batch_size", &self.query_batch_size)
            .field("concurrency", &self.concurrency.is_some())
            .finish()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            session: SessionOptions::default(),
            describe_ttl: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(120),
            bulk: BulkOptions::default(),
            query_batch_size: None,
            concurrency: None,
        }
    }
}

/// Bulk API 2.0 polling and paging.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    pub poll_min: Duration,
    pub poll_max: Duration,
    /// A job not finished after this long is reported as a transient failure.
    pub timeout: Duration,
    /// `maxRecords` per result page of a bulk query.
    pub query_page_size: u32,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            poll_min: Duration::from_millis(500),
            poll_max: Duration::from_secs(10),
            timeout: Duration::from_secs(30 * 60),
            query_page_size: 10_000,
        }
    }
}

/// What every handle of one connection shares.
pub(super) struct Shared {
    pub(super) connection: Arc<Connection>,
    pub(super) http: reqwest::Client,
    pub(super) sessions: Sessions,
    pub(super) limits: LimitTracker,
    pub(super) describe: DescribeCache,
    pub(super) options: ClientOptions,
    pub(super) total_calls: AtomicU64,
    /// `/services/data/vNN.0`
    pub(super) api_base: String,
}

/// A client for one connection (org). Cheap to clone; clones share token, describe and limit
/// caches. [`SalesforceClient::for_job`] gives a handle with its own API-call counter.
#[derive(Clone)]
pub struct SalesforceClient {
    pub(super) shared: Arc<Shared>,
    job_calls: Arc<AtomicU64>,
}

/// Where a request goes.
pub(super) enum Target {
    /// Relative to the API base: `query`, `sobjects/Contact/describe`.
    Api(String),
    /// A path from the instance root that Salesforce handed us (`nextRecordsUrl`).
    Instance(String),
}

/// One REST call, re-sendable (the body is owned bytes).
pub(super) struct ApiRequest {
    pub(super) method: reqwest::Method,
    pub(super) target: Target,
    pub(super) query: Vec<(&'static str, String)>,
    pub(super) body: Option<(&'static str, Vec<u8>)>,
    pub(super) accept: &'static str,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl ApiRequest {
    pub(super) fn new(method: reqwest::Method, target: Target) -> Self {
        Self {
            method,
            target,
            query: Vec::new(),
            body: None,
            accept: "application/json",
            headers: Vec::new(),
        }
    }

    pub(super) fn get(path: impl Into<String>) -> Self {
        Self::new(reqwest::Method::GET, Target::Api(path.into()))
    }

    pub(super) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub(super) fn json<T: serde::Serialize>(mut self, body: &T) -> Result<Self, SfError> {
        let bytes = serde_json::to_vec(body).map_err(|e| SfError::Decode(e.to_string()))?;
        self.body = Some(("application/json", bytes));
        Ok(self)
    }

    pub(super) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(super) fn path(&self) -> &str {
        match &self.target {
            Target::Api(p) | Target::Instance(p) => p,
        }
    }
}

#[derive(serde::Deserialize)]
struct GlobalDescribe {
    sobjects: Vec<SObjectSummary>,
}

impl SalesforceClient {
    /// A client for `connection`. Build one per connection per process and clone it: the
    /// in-process single flight for token refreshes is per client. `http` should come from
    /// [`super::http_client`] (rustls, no redirects).
    pub fn new(
        connection: Connection,
        tokens: TokenCache,
        http: reqwest::Client,
        options: ClientOptions,
    ) -> Self {
        let version = connection.api_version.trim().trim_start_matches('v');
        let api_base = format!("/services/data/v{version}");
        let connection = Arc::new(connection);
        let sessions = Sessions::new(
            connection.clone(),
            tokens,
            http.clone(),
            options.session.clone(),
        );
        Self {
            shared: Arc::new(Shared {
                describe: DescribeCache::new(options.describe_ttl),
                connection,
                http,
                sessions,
                limits: LimitTracker::default(),
                options,
                total_calls: AtomicU64::new(0),
                api_base,
            }),
            job_calls: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn connection_id(&self) -> &str {
        &self.shared.connection.id
    }

    pub fn connection(&self) -> &Connection {
        &self.shared.connection
    }

    /// A handle sharing caches but counting its own API calls (one per job).
    pub fn for_job(&self) -> SalesforceClient {
        SalesforceClient {
            shared: self.shared.clone(),
            job_calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// REST API calls made through this handle (every HTTP request to the data API, retries
    /// included; token requests are counted separately by [`Self::token_requests`]).
    pub fn api_calls(&self) -> u64 {
        self.job_calls.load(Ordering::Relaxed)
    }

    /// REST API calls made by every handle of this client.
    pub fn total_api_calls(&self) -> u64 {
        self.shared.total_calls.load(Ordering::Relaxed)
    }

    /// Token-endpoint requests this process made for the connection.
    pub fn token_requests(&self) -> u64 {
        self.shared.sessions.token_requests()
    }

    /// Latest `Sforce-Limit-Info: api-usage=used/max` seen for this org.
    pub fn api_usage(&self) -> Option<(u64, u64)> {
        self.shared.limits.latest().map(|u| (u.used, u.max))
    }

    /// Changes of the org's API usage, as responses arrive.
    pub fn subscribe_api_usage(&self) -> tokio::sync::watch::Receiver<Option<ApiUsage>> {
        self.shared.limits.subscribe()
    }

    /// `GET /limits`: every org limit by name (`DailyApiRequests`, `DailyBulkV2QueryJobs`, …).
    /// Entries that are not `{Max, Remaining}` pairs are skipped.
    pub async fn org_limits(
        &self,
    ) -> Result<std::collections::BTreeMap<String, super::limits::OrgLimit>, SfError> {
        let raw: serde_json::Map<String, serde_json::Value> =
            self.send(&ApiRequest::get("limits")).await?.json()?;
        Ok(raw
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_value(v).ok().map(|l| (k, l)))
            .collect())
    }

    pub async fn describe_global(&self) -> Result<Arc<Vec<SObjectSummary>>, SfError> {
        if let Some(hit) = self.shared.describe.global() {
            return Ok(hit);
        }
        let g: GlobalDescribe = self.send(&ApiRequest::get("sobjects")).await?.json()?;
        Ok(self.shared.describe.put_global(g.sobjects))
    }

    /// Cached per org.
    pub async fn describe(&self, object: &str) -> Result<Arc<SObjectDescribe>, SfError> {
        if let Some(hit) = self.shared.describe.object(object) {
            return Ok(hit);
        }
        let name = super::soql::identifier(object)?;
        let d: SObjectDescribe = self
            .send(&ApiRequest::get(format!("sobjects/{name}/describe")))
            .await?
            .json()?;
        Ok(self.shared.describe.put_object(object, d))
    }

    /// Forgets cached describes (after the org's metadata changed).
    pub fn clear_describe_cache(&self) {
        self.shared.describe.clear();
    }

    /// Sends one REST call with token handling and retries, and returns a success response.
    pub(super) async fn send(&self, req: &ApiRequest) -> Result<Response, SfError> {
        self.shared
            .options
            .retry
            .run(|| self.send_authenticated(req))
            .await
    }

    /// One attempt; if the token is rejected, one renewal (at most one token request) and
    /// one resend. A renewal served from the shared cache may hold a token killed by the same
    /// event as ours (an admin ending all sessions); if that one is rejected too, it is
    /// renewed again, which then asks the token endpoint.
    async fn send_authenticated(&self, req: &ApiRequest) -> Result<Response, SfError> {
        let session = self.shared.sessions.get().await?;
        match self.send_once(&session, req).await {
            Err(e) if e.kind() == ErrorKind::Auth => {
                tracing::info!(connection_id = %self.connection_id(), "session rejected; renewing the token");
                let renewed = self.shared.sessions.renew(&session).await?;
                match self.send_once(&renewed, req).await {
                    Err(e) if e.kind() == ErrorKind::Auth && !renewed.fresh => {
                        let refreshed = self.shared.sessions.renew(&renewed).await?;
                        self.send_once(&refreshed, req).await
                    }
                    other => other,
                }
            }
            other => other,
        }
    }

    async fn send_once(&self, session: &Session, req: &ApiRequest) -> Result<Response, SfError> {
        let url = match &req.target {
            Target::Api(p) => format!(
                "{}{}/{}",
                session.instance_url,
                self.shared.api_base,
                p.trim_start_matches('/')
            ),
            Target::Instance(p) => {
                format!("{}/{}", session.instance_url, p.trim_start_matches('/'))
            }
        };
        let mut rb = self
            .shared
            .http
            .request(req.method.clone(), url)
            .bearer_auth(session.access_token.expose())
            .header(reqwest::header::ACCEPT, req.accept)
            .timeout(self.shared.options.request_timeout);
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        if let Some((content_type, body)) = &req.body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, *content_type)
                .body(body.clone());
        }
        for (name, value) in &req.headers {
            rb = rb.header(*name, value.as_str());
        }
        let permit = match &self.shared.options.concurrency {
            Some(limits) => Some(
                limits
                    .acquire(self.connection_id(), CONCURRENCY_WAIT)
                    .await
                    .map_err(|e| SfError::Store(e.to_string()))?
                    .ok_or(SfError::ConcurrencyCap {
                        waited: CONCURRENCY_WAIT,
                    })?,
            ),
            None => None,
        };
        self.shared.total_calls.fetch_add(1, Ordering::Relaxed);
        self.job_calls.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let outcome = async {
            let resp = rb
                .send()
                .await
                .map_err(|e| http::transport_error(e, self.connection_id()))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            self.shared.limits.observe(&headers);
            let body = resp
                .bytes()
                .await
                .map_err(|e| http::transport_error(e, self.connection_id()))?
                .to_vec();
            Ok::<_, SfError>((status, headers, body))
        }
        .await;
        if let Some(p) = permit
            && let Err(e) = p.release().await
        {
            tracing::warn!(connection_id = %self.connection_id(), error = %e, "releasing a concurrency slot failed; it expires on its own");
        }
        let status_label = match &outcome {
            Ok((status, _, _)) => status.to_string(),
            Err(_) => "transport".to_string(),
        };
        metrics::counter!(
            crate::ops::metrics::SALESFORCE_CALLS,
            "connection" => self.connection_id().to_string(),
            "status" => status_label
        )
        .increment(1);
        let (status, headers, body) = outcome?;
        tracing::debug!(
            connection_id = %self.connection_id(),
            method = %req.method,
            path = req.path(),
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "salesforce call"
        );
        if (200..300).contains(&status) {
            Ok(Response {
                status,
                headers,
                body,
            })
        } else {
            Err(http::api_error(status, &headers, &body))
        }
    }
}
