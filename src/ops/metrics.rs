//! Metric names and the Prometheus recorder.
//!
//! Every metric the worker exports is named here, once, as a `pub const`, so call sites, the
//! alert rules in `deploy/` and the dashboard cannot drift apart (`tests/deploy_manifests.rs`
//! checks that every name the manifests use is one of [`ALL`]). Call sites record through the
//! `metrics` facade (`metrics::counter!(names::REQUESTS_RECEIVED, "type" => …)`); this module
//! installs the one process-wide Prometheus recorder that `/metrics` renders.
//!
//! Labels never carry personal data: connection ids, request types, reasons (error codes),
//! tiers and HTTP statuses only — never request ids (unbounded) or subjects.

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::Mutex;

/// Counter `{type}`: requests taken off a work queue.
pub const REQUESTS_RECEIVED: &str = "sfprivacy_requests_received_total";
/// Counter `{type, status}`: terminal `completed` / `partial` results published.
pub const REQUESTS_SUCCEEDED: &str = "sfprivacy_requests_succeeded_total";
/// Counter `{type, reason}`: terminal `failed` results published (reason = error code).
pub const REQUESTS_FAILED: &str = "sfprivacy_requests_failed_total";
/// Counter `{type, reason}`: requests parked in the dead-letter queue.
pub const REQUESTS_DEAD_LETTERED: &str = "sfprivacy_requests_dead_lettered_total";
/// Counter `{type, tier}`: requests sent to a retry tier (tier = its delay, e.g. `10s`).
pub const REQUESTS_RETRIED: &str = "sfprivacy_requests_retried_total";
/// Counter `{connection, reason}`: requests deferred before starting (`budget`, `breaker`).
pub const REQUESTS_DEFERRED: &str = "sfprivacy_requests_deferred_total";
/// Gauge: jobs being handled by this replica right now.
pub const JOBS_IN_FLIGHT: &str = "sfprivacy_jobs_in_flight";
/// Histogram `{type, outcome}`: wall time of one job, delivery to ack.
pub const JOB_DURATION: &str = "sfprivacy_job_duration_seconds";
/// Counter `{connection, status}`: HTTP requests to Salesforce by response status
/// (`200`, `503`, …, or `transport` when no answer came).
pub const SALESFORCE_CALLS: &str = "sfprivacy_salesforce_calls_total";
/// Gauge `{connection}`: used / max of the org's daily API allocation (`Sforce-Limit-Info`).
pub const API_USAGE_RATIO: &str = "sfprivacy_api_usage_ratio";
/// Counter `{connection, outcome}`: OAuth access-token refreshes (`ok`, `failed`).
pub const TOKEN_REFRESHES: &str = "sfprivacy_token_refreshes_total";
/// Counter: connections to RabbitMQ rebuilt after a loss.
pub const BROKER_RECONNECTS: &str = "sfprivacy_broker_reconnects_total";
/// Counter: published messages the broker returned as unroutable (`mandatory`).
pub const PUBLISH_RETURNS: &str = "sfprivacy_publish_returns_total";
/// Counter: published messages the broker nacked.
pub const PUBLISH_NACKS: &str = "sfprivacy_publish_nacks_total";
/// Counter: scan parts (objects or slices) finished.
pub const SCAN_PARTS_DONE: &str = "sfprivacy_scan_parts_done_total";
/// Counter: records read by scans.
pub const SCAN_RECORDS_SCANNED: &str = "sfprivacy_scan_records_scanned_total";
/// Gauge `{connection}`: 1 while the org's circuit breaker is open, else 0.
pub const BREAKER_OPEN: &str = "sfprivacy_breaker_open";
/// Counter `{connection}`: times the org's circuit breaker opened.
pub const BREAKER_OPENED: &str = "sfprivacy_breaker_opened_total";
/// Counter `{outcome}`: dead letters handled by `sfprivacy replay` (`replayed`, `skipped`).
pub const REPLAYED: &str = "sfprivacy_replayed_total";
/// Gauge: 1 while this replica is ready (connected and consuming), else 0.
pub const READY: &str = "sfprivacy_ready";

/// Every name above, for tests and the manifests check.
pub const ALL: &[&str] = &[
    REQUESTS_RECEIVED,
    REQUESTS_SUCCEEDED,
    REQUESTS_FAILED,
    REQUESTS_DEAD_LETTERED,
    REQUESTS_RETRIED,
    REQUESTS_DEFERRED,
    JOBS_IN_FLIGHT,
    JOB_DURATION,
    SALESFORCE_CALLS,
    API_USAGE_RATIO,
    TOKEN_REFRESHES,
    BROKER_RECONNECTS,
    PUBLISH_RETURNS,
    PUBLISH_NACKS,
    SCAN_PARTS_DONE,
    SCAN_RECORDS_SCANNED,
    BREAKER_OPEN,
    BREAKER_OPENED,
    REPLAYED,
    READY,
];

/// Buckets for job durations: DSRs take seconds, scan parts minutes.
const DURATION_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// A recorder configured the way the worker exports (histogram buckets for `*_seconds`).
pub fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_string()), DURATION_BUCKETS)
}

/// Counters without labels: they exist from the start at 0, so `increase()` and `rate()` in
/// alerts see their first event (a series that appears at 1 shows no increase).
pub const LABEL_FREE_COUNTERS: &[&str] = &[
    BROKER_RECONNECTS,
    PUBLISH_RETURNS,
    PUBLISH_NACKS,
    SCAN_PARTS_DONE,
    SCAN_RECORDS_SCANNED,
    REPLAYED,
];

/// Installs the process-wide recorder once and returns the handle `/metrics` renders.
/// Later calls return the same handle. Fails only if another recorder was installed first.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    // The lock is held across installation so two callers cannot both try to install.
    let mut slot = HANDLE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = slot.as_ref() {
        return Ok(h.clone());
    }
    let handle = builder()?.install_recorder()?;
    describe();
    for name in LABEL_FREE_COUNTERS {
        metrics::counter!(*name).absolute(0);
    }
    *slot = Some(handle.clone());
    Ok(handle)
}

/// Help texts shown on `/metrics`.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(REQUESTS_RECEIVED, "Requests taken off a work queue");
    describe_counter!(REQUESTS_SUCCEEDED, "Completed or partial results published");
    describe_counter!(REQUESTS_FAILED, "Failed results published, by reason");
    describe_counter!(REQUESTS_DEAD_LETTERED, "Requests dead-lettered, by reason");
    describe_counter!(REQUESTS_RETRIED, "Requests sent to a retry tier");
    describe_counter!(
        REQUESTS_DEFERRED,
        "Requests deferred by the org's budget or breaker"
    );
    describe_gauge!(JOBS_IN_FLIGHT, "Jobs in progress on this replica");
    describe_histogram!(JOB_DURATION, Unit::Seconds, "Job wall time");
    describe_counter!(SALESFORCE_CALLS, "HTTP calls to Salesforce by status");
    describe_gauge!(
        API_USAGE_RATIO,
        "Share of the org's daily API allocation used"
    );
    describe_counter!(TOKEN_REFRESHES, "OAuth access-token refreshes");
    describe_counter!(BROKER_RECONNECTS, "RabbitMQ connections rebuilt");
    describe_counter!(PUBLISH_RETURNS, "Published messages returned unroutable");
    describe_counter!(PUBLISH_NACKS, "Published messages nacked by the broker");
    describe_counter!(SCAN_PARTS_DONE, "Scan parts finished");
    describe_counter!(SCAN_RECORDS_SCANNED, "Records read by scans");
    describe_gauge!(BREAKER_OPEN, "1 while the org's circuit breaker is open");
    describe_counter!(BREAKER_OPENED, "Times the org's circuit breaker opened");
    describe_counter!(
        REPLAYED,
        "Replayed dead letters taken by this worker (the replay command itself serves no metrics)"
    );
    describe_gauge!(READY, "1 while this replica is ready");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_free_counters_are_exported_before_their_first_event() {
        let text = install().unwrap().render();
        for name in LABEL_FREE_COUNTERS {
            assert!(
                text.lines().any(|l| l.starts_with(&format!("{name} "))),
                "{name} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn names_are_unique_and_prometheus_safe() {
        let mut seen = std::collections::BTreeSet::new();
        for n in ALL {
            assert!(seen.insert(*n), "duplicate {n}");
            assert!(n.starts_with("sfprivacy_"), "{n}");
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
    }

    #[test]
    fn recorder_renders_histograms_with_buckets_and_labels() {
        let recorder = builder().unwrap().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            metrics::histogram!(JOB_DURATION, "type" => "dsr.request", "outcome" => "completed")
                .record(0.3);
            metrics::counter!(SALESFORCE_CALLS, "connection" => "acme", "status" => "200")
                .increment(2);
        });
        let text = handle.render();
        assert!(
            text.contains(r#"sfprivacy_job_duration_seconds_bucket{type="dsr.request",outcome="completed",le="0.5"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"sfprivacy_salesforce_calls_total{connection="acme",status="200"} 2"#),
            "{text}"
        );
    }
}
