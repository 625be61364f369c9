//! Per-delivery metrics, recorded by the consumer loop: received and in flight when a delivery
//! starts, its duration and how it ended once it is acked (only then is the outcome real: an
//! unacked delivery will be redelivered and counted again).
//!
//! Kept apart from [`super::metrics`] (a leaf every layer may use) because it reads the job
//! layer's [`Outcome`].

use super::metrics as names;
use crate::broker::Names;
use crate::jobs::Outcome;
use std::time::Instant;

/// Started when a delivery is taken; counts it as received and in flight until dropped.
pub struct JobTimer {
    kind: &'static str,
    started: Instant,
}

impl JobTimer {
    /// `kind`: the work queue's routing key (`dsr`, `scan`, `scan.part`); `replayed`: the
    /// delivery is a dead letter an operator replayed.
    pub fn start(kind: &'static str, replayed: bool) -> Self {
        metrics::counter!(names::REQUESTS_RECEIVED, "type" => kind).increment(1);
        if replayed {
            metrics::counter!(names::REPLAYED).increment(1);
        }
        metrics::gauge!(names::JOBS_IN_FLIGHT).increment(1.0);
        Self {
            kind,
            started: Instant::now(),
        }
    }

    /// The delivery was acked with this outcome label.
    pub fn finish(self, outcome: &'static str) {
        metrics::histogram!(names::JOB_DURATION, "type" => self.kind, "outcome" => outcome)
            .record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for JobTimer {
    fn drop(&mut self) {
        metrics::gauge!(names::JOBS_IN_FLIGHT).decrement(1.0);
    }
}

/// The counters one outcome adds, computed before the outcome is consumed.
#[derive(Debug, Default, PartialEq)]
pub struct OutcomeCount {
    kind: &'static str,
    counts: Vec<(&'static str, &'static str, String)>,
}

#[derive(serde::Deserialize)]
struct Head {
    status: Option<String>,
    error: Option<Code>,
}

#[derive(serde::Deserialize)]
struct Code {
    code: String,
}

impl OutcomeCount {
    pub fn of(kind: &'static str, outcome: &Outcome, attempts: u32, topology: &Names) -> Self {
        let mut counts = Vec::new();
        match outcome {
            Outcome::Publish(msgs) => {
                let head = msgs
                    .iter()
                    .find(|m| m.terminal)
                    .and_then(|m| serde_json::from_str::<Head>(&m.body).ok());
                match head {
                    Some(Head {
                        status: Some(s),
                        error,
                    }) if s == "failed" => counts.push((
                        names::REQUESTS_FAILED,
                        "reason",
                        error.map_or_else(|| "unknown".into(), |e| e.code),
                    )),
                    Some(Head {
                        status: Some(s), ..
                    }) => counts.push((names::REQUESTS_SUCCEEDED, "status", s)),
                    // No terminal result: a scan request split into parts, or a part (the
                    // report comes with the last one).
                    _ if kind == "scan" => {
                        counts.push((names::REQUESTS_SUCCEEDED, "status", "planned".into()))
                    }
                    _ => counts.push((names::REQUESTS_SUCCEEDED, "status", "part_done".into())),
                }
                if kind == "scan.part" {
                    counts.push((names::SCAN_PARTS_DONE, "", String::new()));
                }
            }
            Outcome::Retry { code, .. } => match topology.tiers.get(attempts as usize) {
                Some((tier, _)) => {
                    let label = tier.rsplit('.').next().unwrap_or(tier).to_string();
                    counts.push((names::REQUESTS_RETRIED, "tier", label));
                }
                None => counts.push((names::REQUESTS_DEAD_LETTERED, "reason", code.clone())),
            },
            Outcome::DeadLetter { code, publish, .. } => {
                counts.push((names::REQUESTS_DEAD_LETTERED, "reason", code.clone()));
                let failed = publish.iter().any(|m| {
                    m.terminal
                        && serde_json::from_str::<Head>(&m.body)
                            .is_ok_and(|h| h.status.as_deref() == Some("failed"))
                });
                if failed {
                    counts.push((names::REQUESTS_FAILED, "reason", code.clone()));
                }
            }
            // Deferrals are counted where they are decided (`store::budget`); a busy lease is
            // another replica's work.
            Outcome::Busy | Outcome::Defer { .. } => {}
        }
        Self { kind, counts }
    }

    /// A request dead-lettered by the consumer itself (its result could not be delivered).
    pub fn dead_lettered(kind: &'static str, code: &str) -> Self {
        Self {
            kind,
            counts: vec![(names::REQUESTS_DEAD_LETTERED, "reason", code.to_string())],
        }
    }

    /// Adds the counts (call after the ack).
    pub fn record(self) {
        for (name, label, value) in self.counts {
            if label.is_empty() {
                metrics::counter!(name).increment(1);
            } else {
                metrics::counter!(name, "type" => self.kind, label => value).increment(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{Destination, OutMessage};
    use std::time::Duration;

    fn terminal(body: serde_json::Value) -> OutMessage {
        OutMessage::new(Destination::Reply, "m", "r", "dsr.result", true, &body).unwrap()
    }

    #[test]
    fn outcomes_become_the_documented_counters() {
        let topology = Names::new("px", "px.results", &[Duration::from_secs(10)]);
        let recorder = names::builder().unwrap().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let t = JobTimer::start("dsr", false);
            OutcomeCount::of(
                "dsr",
                &Outcome::Publish(vec![terminal(serde_json::json!({"status": "completed"}))]),
                0,
                &topology,
            )
            .record();
            t.finish("publish");
            OutcomeCount::of(
                "dsr",
                &Outcome::Publish(vec![terminal(
                    serde_json::json!({"status": "failed", "error": {"code": "MALFORMED_QUERY", "message": "x"}}),
                )]),
                0,
                &topology,
            )
            .record();
            let retry = |attempts| {
                OutcomeCount::of(
                    "dsr",
                    &Outcome::Retry {
                        code: "SERVER_UNAVAILABLE".into(),
                        message: "down".into(),
                        dead_lettered: vec![],
                    },
                    attempts,
                    &topology,
                )
                .record()
            };
            retry(0);
            retry(1);
            // A scan request publishes its parts, not a result; a part only progress.
            OutcomeCount::of("scan", &Outcome::Publish(vec![]), 0, &topology).record();
            OutcomeCount::of("scan.part", &Outcome::Publish(vec![]), 0, &topology).record();
            OutcomeCount::dead_lettered("dsr", "result_unroutable").record();
        });
        let text = handle.render();
        for line in [
            r#"sfprivacy_requests_received_total{type="dsr"} 1"#,
            r#"sfprivacy_requests_succeeded_total{type="dsr",status="completed"} 1"#,
            r#"sfprivacy_requests_failed_total{type="dsr",reason="MALFORMED_QUERY"} 1"#,
            r#"sfprivacy_requests_retried_total{type="dsr",tier="10s"} 1"#,
            r#"sfprivacy_requests_dead_lettered_total{type="dsr",reason="SERVER_UNAVAILABLE"} 1"#,
            r#"sfprivacy_requests_dead_lettered_total{type="dsr",reason="result_unroutable"} 1"#,
            r#"sfprivacy_requests_succeeded_total{type="scan",status="planned"} 1"#,
            r#"sfprivacy_requests_succeeded_total{type="scan.part",status="part_done"} 1"#,
            "sfprivacy_scan_parts_done_total 1",
            "sfprivacy_jobs_in_flight 0",
            r#"sfprivacy_job_duration_seconds_count{type="dsr",outcome="publish"} 1"#,
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
