//! sfprivacy: a queue-driven worker that carries out privacy work (data subject requests and
//! data classification) in customers' Salesforce orgs.
//!
//! Layers, dependencies pointing one way:
//! `main → broker/ops → jobs → dsr/classify → salesforce/store → message/config`.
//!
//! - [`config`]: settings and connections, validated at start; secrets redacted in Debug.
//! - [`message`]: wire contract v1 (requests, results, progress) and its validation.
//! - [`store`]: Redis adapters: token cache, job state, locks, scan aggregation, budgets.
//! - [`salesforce`]: OAuth grants, REST client with retry/backoff, describe cache, SOQL/SOSL
//!   builders with escaping, collections, Bulk API 2.0.
//! - [`dsr`]: discover a subject's records; copy, delete and anonymize plans; verification.
//! - [`classify`]: detectors, validators, field verdicts, scans, scoring.
//! - [`jobs`]: the orchestration layer: one validated request in, one outcome out.
//! - [`broker`]: RabbitMQ topology, consumer loop, confirmed publisher, retry tiers, DLQ, replay.
//! - [`ops`]: health/readiness/metrics HTTP, graceful shutdown.
//! - [`app`]: builds a worker from settings and runs it until stopped (main, demo, tests).
//! - [`demo`]: `sfprivacy demo`: emulator, worker and requests on one machine.
//! - [`telemetry`]: the one tracing subscriber for the binary and tests.

pub mod app;
pub mod broker;
pub mod classify;
pub mod config;
pub mod demo;
pub mod dsr;
pub mod jobs;
pub mod message;
pub mod ops;
pub mod salesforce;
pub mod store;
pub mod subject_digest;
pub mod telemetry;
