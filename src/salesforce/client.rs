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
#[derive(Debug, Clone)]
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
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            session: SessionOptions::default(),
            describe_ttl: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(120),
            bulk: BulkOptions::default(),
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
}

impl ApiRequest {
    pub(super) fn new(method: reqwest::Method, target: Target) -> Self {
        Self {
            method,
            target,
            query: Vec::new(),
            body: None,
            accept: "application/json",
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

    /// One attempt, plus exactly one renewal and resend if the token was rejected.
    async fn send_authenticated(&self, req: &ApiRequest) -> Result<Response, SfError> {
        let session = self.shared.sessions.get().await?;
        match self.send_once(&session, req).await {
            Err(e) if e.kind() == ErrorKind::Auth => {
                tracing::info!(connection_id = %self.connection_id(), "session rejected; renewing the token once");
                let renewed = self.shared.sessions.renew(&session).await?;
                self.send_once(&renewed, req).await
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
        self.shared.total_calls.fetch_add(1, Ordering::Relaxed);
        self.job_calls.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let resp = rb.send().await.map_err(http::transport_error)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.shared.limits.observe(&headers);
        let body = resp.bytes().await.map_err(http::transport_error)?.to_vec();
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
