#![recursion_limit = "256"]
//! `sf-emulator`: a stand-in Salesforce org that behaves like Salesforce on the wire.
//!
//! Real Salesforce is not reachable from build and test machines, so every DSR and scan test
//! stands on this crate. It is checked by real clients (simple-salesforce, jsforce) in
//! `tests/conformance/`, so it must never be more lenient than Salesforce.
//!
//! Module map:
//! - [`oauth`]: login hosts, authorize (PKCE), token grants, revoke, introspect, userinfo, sessions.
//! - [`org`]: the org itself: schema (describe metadata), records, recycle bin, seeded data,
//!   ground truth, write rules.
//! - [`soql`]: SOQL parser and executor, query cursors.
//! - [`sosl`]: SOSL parser, tokenised search index with lag.
//! - [`rest`]: the REST data API routes (`/services/data/vNN.0/...`).
//! - [`bulk`]: Bulk API 2.0 query and ingest jobs.
//! - [`faults`]: latency and error injection, connection drops.
//! - [`limits`]: daily API allocation, concurrent long requests, `Sforce-Limit-Info`.
//! - [`counters`]: API calls per endpoint and per connection, for tests.
//! - [`admin`]: the test/admin API under `/__emulator` (a path Salesforce never uses).
//! - [`error`]: Salesforce's error shapes.
//! - [`listener`]: TCP/TLS accept loop under the router; connection drops.
//! - [`server`]: building the router and running it on a port (0 allowed).

pub mod admin;
pub mod bulk;
pub mod clock;
pub mod counters;
pub mod error;
pub mod faults;
pub mod limits;
pub mod listener;
pub mod oauth;
pub mod org;
pub mod rest;
pub mod server;
pub mod soql;
pub mod sosl;

pub use server::{Emulator, EmulatorConfig, RunningEmulator};
