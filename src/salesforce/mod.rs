//! The Salesforce adapter: OAuth grants, the REST client (retry/backoff, limits), describe
//! cache, SOQL/SOSL builders with escaping, sObject Collections, Bulk API 2.0.
//!
//! Everything HTTP lives here; `dsr` and `classify` call typed methods and never build URLs.
//!
//! Module map (each layer uses only the ones below it):
//! - [`client`]: `SalesforceClient`, the entry point; the one request path (token, send,
//!   count, limits, one renewal on `INVALID_SESSION_ID`, retries).
//! - [`query`] (SOQL pages, SOSL search), [`collections`], [`bulk`]: the API families.
//! - [`session`]: access tokens per connection — memory, Redis cache, lock, single flight.
//! - [`auth`]: the OAuth token requests (refresh token, JWT bearer, client credentials,
//!   authorization code); [`connect`]: the `sfprivacy connect` flow (PKCE, loopback).
//! - [`http`]: the shared `reqwest::Client`, error-body parsing, [`RetryPolicy`].
//! - [`limits`]: `Sforce-Limit-Info`; [`describe_cache`]: describes per org with a TTL.
//! - [`soql`], [`sosl`]: statement builders, each with its own escaper.
//! - [`describe`], [`error`]: typed describe metadata and the error classification.

pub mod auth;
pub mod bulk;
pub mod client;
pub mod collections;
pub mod connect;
pub mod describe;
pub mod describe_cache;
pub mod error;
pub mod history;
pub mod http;
pub mod limits;
pub mod query;
pub mod session;
pub mod soql;
pub mod sosl;

pub use bulk::BulkQueryPager;
pub use client::{BulkOptions, ClientOptions, QueryPager, Record, SalesforceClient, SaveResult};
pub use describe::{ChildRelationship, FieldDescribe, SObjectDescribe, SObjectSummary};
pub use error::{ErrorKind, SfError};
pub use http::{RetryPolicy, http_client};
pub use limits::{ApiUsage, OrgLimit};
pub use session::SessionOptions;
pub use soql::soql_literal;
pub use sosl::sosl_escape;
