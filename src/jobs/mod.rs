//! The orchestration layer: one delivery body in, one [`Outcome`] out.
//!
//! [`Jobs::handle`] validates the body at the edge ([`Request::parse`]), looks up the
//! connection, consults job state (idempotency and a lease), runs the job with the
//! connection's shared Salesforce client (`for_job()` per job) inside one tracing span carrying
//! the request id and connection id (never an email), catches a panic as an ordinary failure,
//! and classifies failures:
//!
//! | failure | outcome |
//! |---|---|
//! | bad message (JSON, type, version, fields, email, unknown connection) | dead letter + `failed` result when the id is readable and no request holds it (no stored state, lease or DSR plan) |
//! | request id reused by a different request (`REQUEST_ID_REUSED`) | dead letter, no result (the id's result belongs to the first request) |
//! | transient (Salesforce 5xx/timeouts after the client's own retries, Redis down) | next retry tier; after the last: dead letter + `dead_lettered` |
//! | operator-fixable (credential revoked, daily limit, missing permission) | dead letter + `dead_lettered` |
//! | permanent | terminal `failed` result |
//!
//! It knows nothing about lapin: the broker maps outcomes to acks, tiers and dead letters.

pub mod dsr_job;
pub mod export;
pub mod local;
pub mod outcome;
pub mod registry;
pub mod results;
pub mod scan_job;

pub use outcome::{Destination, OutMessage, Outcome};
pub use registry::{ClientFactory, ClientRegistry};

use crate::config::Connection;
use crate::message::{Request, ResultStatus};
use crate::store::Store;
use crate::store::job_state::{Begin, JobStates};
use futures::FutureExt;
use results::Answering;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tracing::{Instrument, info, warn};

/// What the broker knows about a delivery besides its body.
#[derive(Debug, Clone, Default)]
pub struct DeliveryMeta {
    /// AMQP `reply_to` of the request, if set.
    pub reply_to: Option<String>,
    /// Our `sfprivacy-attempts` header (retry tiers already passed).
    pub attempts: u32,
    pub redelivered: bool,
    /// Routing key of the work queue it came from (`None` outside a queue: `sfprivacy run`).
    pub routing_key: Option<String>,
}

/// How a job ended, before idempotency and publishing.
#[derive(Debug)]
pub enum JobEnd {
    /// Terminal messages to publish (chunks, progress, result): stored, then published.
    Finished(Vec<OutMessage>),
    /// Will not succeed: a terminal `failed` result.
    Failed { code: String, message: String },
    /// Retry later. `cause` says whose trouble it is: only the org's own failures feed its
    /// circuit breaker.
    Transient {
        code: String,
        message: String,
        cause: TransientCause,
    },
    /// An operator must act first.
    Operator { code: String, message: String },
    /// Not to be answered: its id belongs to another request, or it is a scan part no plan
    /// made. Dead letter only.
    Rejected { code: String, message: String },
}

/// Whose trouble a transient failure is, decided from the error's variant (not its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransientCause {
    /// The org's Salesforce (5xx, timeouts, dropped connections, rejected sessions).
    Salesforce,
    /// Our Redis: says nothing about the org.
    Store,
    /// Our own per-org concurrency cap had no free slot: the org is busy with our calls.
    OwnLimit,
}

impl TransientCause {
    pub fn of_salesforce(e: &crate::salesforce::SfError) -> Self {
        match e {
            crate::salesforce::SfError::Store(_) => TransientCause::Store,
            crate::salesforce::SfError::ConcurrencyCap { .. } => TransientCause::OwnLimit,
            _ => TransientCause::Salesforce,
        }
    }

    pub fn of_dsr(e: &crate::dsr::DsrError) -> Self {
        match e {
            crate::dsr::DsrError::Salesforce(e) => Self::of_salesforce(e),
            crate::dsr::DsrError::Store(_) => TransientCause::Store,
            // Not transient today; were it, it would be ours, not the org's.
            crate::dsr::DsrError::Policy(_) => TransientCause::OwnLimit,
        }
    }

    pub fn of_scan(e: &crate::classify::scan::ScanError) -> Self {
        use crate::classify::scan::ScanError;
        match e {
            ScanError::Salesforce(e) => Self::of_salesforce(e),
            // Whatever its code (`store_error` or `STORE_UNAVAILABLE`): Redis, not the org.
            ScanError::Store(_) => TransientCause::Store,
            ScanError::NotPlanned(_) | ScanError::UnknownPart { .. } => TransientCause::OwnLimit,
        }
    }
}

/// What a job's end tells the org's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerVerdict {
    /// The org's Salesforce failed (transiently): counts towards opening the breaker.
    Failure,
    /// Salesforce answered: closes the breaker (and ends a half-open probe).
    Success,
    /// Our own trouble (Redis, our concurrency cap): tells nothing about the org.
    Neutral,
}

impl JobEnd {
    pub fn breaker_verdict(&self) -> BreakerVerdict {
        match self {
            JobEnd::Transient {
                cause: TransientCause::Salesforce,
                ..
            } => BreakerVerdict::Failure,
            JobEnd::Transient { .. } => BreakerVerdict::Neutral,
            _ => BreakerVerdict::Success,
        }
    }
}

/// What a job's end tells the org's breaker. A success needs Salesforce to have answered: a
/// job that made no call (a panic, a connection it could not build) says nothing about the
/// org, and must not close a half-open breaker.
fn verdict(end: &JobEnd, calls: u64) -> BreakerVerdict {
    match end.breaker_verdict() {
        BreakerVerdict::Success if calls == 0 => BreakerVerdict::Neutral,
        v => v,
    }
}

/// Salesforce codes that mean "an admin must grant something", which a retry cannot fix but
/// an operator can: dead-letter them instead of failing the request for good.
pub fn operator_fixable(code: &str) -> bool {
    matches!(
        code,
        "INSUFFICIENT_ACCESS"
            | "INSUFFICIENT_ACCESS_OR_READONLY"
            | "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
            | "API_DISABLED_FOR_ORG"
            | "API_CURRENTLY_DISABLED"
            | "FUNCTIONALITY_NOT_ENABLED"
    )
}

/// Tunables of the orchestration layer.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Export chunk size limit (bytes of JSON records).
    pub chunk_bytes: usize,
}

/// Everything jobs need; shared by all in-flight deliveries.
pub struct Jobs {
    connections: BTreeMap<String, Arc<Connection>>,
    clients: ClientRegistry,
    store: Option<Store>,
    states: Option<JobStates>,
    options: JobOptions,
    /// Per-org API budget and circuit breaker (ops); `None` in `sfprivacy run`.
    limits: Option<crate::store::budget::OrgLimits>,
}

impl Jobs {
    /// `store`/`states` are `None` only for `sfprivacy run` without Redis (no idempotency).
    pub fn new(
        connections: Vec<Connection>,
        clients: ClientRegistry,
        store: Option<Store>,
        states: Option<JobStates>,
        options: JobOptions,
    ) -> Self {
        Self {
            connections: connections
                .into_iter()
                .map(|c| (c.id.clone(), Arc::new(c)))
                .collect(),
            clients,
            store,
            states,
            options,
            limits: None,
        }
    }

    /// Consult the per-org API budget and circuit breaker before each job (ops).
    pub fn with_limits(mut self, limits: crate::store::budget::OrgLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Handles one delivery body. Never panics, never returns without a decision.
    pub async fn handle(&self, body: &[u8], meta: &DeliveryMeta) -> Outcome {
        let started_at = crate::message::now();
        let request = match Request::parse(body) {
            Ok(r) => r,
            Err(e) => {
                warn!(code = e.code(), error = %e, "bad message");
                return self
                    .bad_message(body, e.code(), &e.to_string(), &started_at)
                    .await;
            }
        };
        // Each type has its queue: per-queue scaling, prefetch and metrics rely on it, and a
        // producer that mixes them up should hear so rather than have it work by accident.
        let home = request.routing_key();
        if let Some(rk) = meta.routing_key.as_deref()
            && rk != home
        {
            let msg = format!(
                "a {} belongs on routing key {home}, not {rk}",
                request.type_name()
            );
            warn!(code = "wrong_queue", "bad message: {msg}");
            return self
                .bad_message(body, "wrong_queue", &msg, &started_at)
                .await;
        }
        let Some(connection) = self.connections.get(request.connection_id()).cloned() else {
            // Validation passed the id by the contract's rule; redact anyway should that change.
            let msg = format!(
                "unknown connection {}",
                crate::message::redact_value(request.connection_id())
            );
            warn!(code = "unknown_connection", "bad message: {msg}");
            return self
                .bad_message(body, "unknown_connection", &msg, &started_at)
                .await;
        };
        let span = tracing::info_span!(
            "job",
            request_id = %request.id(),
            connection_id = %connection.id,
            kind = request.type_name(),
            action = tracing::field::Empty,
        );
        if let Request::Dsr(r) = &request {
            span.record("action", r.action.as_str());
        }
        // The enclosing delivery span (the consumer's) declares these fields; elsewhere the
        // record is a no-op.
        let delivery = tracing::Span::current();
        delivery.record("request_id", request.id());
        delivery.record("connection_id", connection.id.as_str());
        self.run(request, connection, meta, started_at)
            .instrument(span)
            .await
    }

    async fn run(
        &self,
        request: Request,
        connection: Arc<Connection>,
        meta: &DeliveryMeta,
        started_at: String,
    ) -> Outcome {
        let answering = answering(&request);
        let kind = request.type_name();
        let id = request.id().to_string();
        let fingerprint = request.fingerprint();
        let transient = |code: &str, message: String, calls: u64| Outcome::Retry {
            dead_lettered: answering.error_result(
                ResultStatus::DeadLettered,
                code,
                &message,
                calls,
                &started_at,
            ),
            code: code.to_string(),
            message,
        };
        let lease = match &self.states {
            None => None,
            Some(states) => match states.begin::<OutMessage>(kind, &id, &fingerprint).await {
                Ok(Begin::Completed(msgs)) => {
                    info!(
                        messages = msgs.len(),
                        "already completed: re-publishing the stored result"
                    );
                    return Outcome::Publish(msgs);
                }
                Ok(Begin::Reused) => {
                    warn!(
                        code = REQUEST_ID_REUSED,
                        "request id already used by a different request"
                    );
                    return reused(&id);
                }
                Ok(Begin::Busy) => {
                    info!("another worker holds this request's lease");
                    return Outcome::Busy;
                }
                Ok(Begin::Acquired(lease)) => Some((states.clone(), lease)),
                Err(e) => return transient("STORE_UNAVAILABLE", e.to_string(), 0),
            },
        };
        let probe = match self.admit(&connection.id).await {
            Ok(probe) => probe,
            Err(deferred) => {
                if let Some((states, lease)) = &lease
                    && let Err(e) = states.release(lease).await
                {
                    warn!(error = %e, "could not release the job lease (it will expire)");
                }
                return deferred;
            }
        };
        // Keep the lease while the job runs (renewed at a third of its length).
        let renewer = lease.as_ref().map(|(states, lease)| {
            let (states, lease) = (states.clone(), lease.clone());
            tokio::spawn(async move {
                let every = states.lease_duration() / 3;
                loop {
                    tokio::time::sleep(every).await;
                    match states.renew(&lease).await {
                        Ok(true) => {}
                        Ok(false) => warn!("job lease lost; another worker may start this request"),
                        Err(e) => warn!(error = %e, "could not renew the job lease"),
                    }
                }
            })
        });
        // The panic is caught here and becomes the result: the worker's panic hook must not
        // shut the process down for it.
        let (end, calls) = AssertUnwindSafe(crate::ops::shutdown::panics_caught_by_caller(
            self.execute(&request, &connection, meta, &started_at),
        ))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(panic = %what, "job panicked");
            // The job's client went down with it: its call count is lost.
            let end = JobEnd::Failed {
                code: "internal_error".into(),
                message: "the job panicked; see the worker logs".into(),
            };
            (end, 0)
        });
        if let Some(r) = renewer {
            r.abort();
        }
        self.observe_limits(&connection, &end, calls, probe).await;
        let outcome = match end {
            JobEnd::Finished(msgs) => self.finish(kind, &id, &fingerprint, msgs).await,
            JobEnd::Failed { code, message } => {
                info!(code = %code, "request failed permanently");
                let msgs = answering.error_result(
                    ResultStatus::Failed,
                    &code,
                    &message,
                    calls,
                    &started_at,
                );
                self.finish(kind, &id, &fingerprint, msgs).await
            }
            JobEnd::Rejected { code, message } => {
                warn!(code = %code, "request rejected");
                Outcome::DeadLetter {
                    code,
                    message,
                    publish: Vec::new(),
                }
            }
            JobEnd::Transient { code, message, .. } => transient(&code, message, calls),
            JobEnd::Operator { code, message } => Outcome::DeadLetter {
                publish: answering.error_result(
                    ResultStatus::DeadLettered,
                    &code,
                    &message,
                    calls,
                    &started_at,
                ),
                code,
                message,
            },
        };
        if let Some((states, lease)) = lease
            && let Err(e) = states.release(&lease).await
        {
            warn!(error = %e, "could not release the job lease (it will expire)");
        }
        outcome
    }

    /// A body that is not a valid request for this worker: dead-letter it with the reason, and
    /// answer with `failed` when an id can be read and is not already a request's: a request
    /// id names one request, so a stored or running request's id gets no second result.
    async fn bad_message(
        &self,
        body: &[u8],
        code: &str,
        message: &str,
        started_at: &str,
    ) -> Outcome {
        let answering = Answering::salvage(body);
        let mut publish = answering.error_result_as(
            &results::bad_message_id(body, code),
            ResultStatus::Failed,
            code,
            message,
            0,
            started_at,
        );
        // Only a result to publish costs a Redis read (one EXISTS).
        if let (Some(id), Some(store)) = (answering.id(), &self.store)
            && !publish.is_empty()
        {
            match crate::store::job_state::id_known(store, id).await {
                Ok(false) => {}
                Ok(true) => {
                    warn!(
                        code,
                        "bad message under a known request id: dead letter, no result"
                    );
                    publish.clear();
                }
                // Unknown whether the id is taken: fail closed, the dead letter keeps the
                // message and its reason for a replay once Redis is back.
                Err(e) => {
                    warn!(error = %e, "cannot tell whether the request id is known: no result");
                    publish.clear();
                }
            }
        }
        Outcome::DeadLetter {
            code: code.to_string(),
            message: message.to_string(),
            publish,
        }
    }

    /// `Ok(probe)` to run the job (`probe`: it is the half-open breaker's probe), `Err(Defer)`
    /// when the org's budget or breaker says not now. A Redis failure here lets the job run:
    /// the limits protect the org, they must not stop work on their own.
    async fn admit(&self, connection_id: &str) -> Result<bool, Outcome> {
        use crate::store::budget::{Admission, DeferReason};
        let Some(limits) = self.limits.as_ref() else {
            return Ok(false);
        };
        match limits.admit(connection_id).await {
            Ok(Admission::Proceed { probe }) => {
                if probe {
                    info!("circuit breaker half-open: this job is the probe");
                }
                Ok(probe)
            }
            Ok(Admission::Defer {
                reason,
                retry_after,
            }) => {
                match &reason {
                    DeferReason::Budget { used, max } => {
                        info!(used, max, "org's API budget nearly spent: deferring")
                    }
                    DeferReason::BreakerOpen => info!("org's circuit breaker is open: deferring"),
                }
                Err(Outcome::Defer {
                    code: reason.code().to_string(),
                    delay: retry_after,
                })
            }
            Err(e) => {
                warn!(error = %e, "cannot read the org's limits; running the job");
                Ok(false)
            }
        }
    }

    /// Feeds the job's end into the org's breaker and publishes its latest API usage.
    /// `calls`: the Salesforce calls the job made; `probe`: it was the half-open probe.
    async fn observe_limits(
        &self,
        connection: &Arc<Connection>,
        end: &JobEnd,
        calls: u64,
        probe: bool,
    ) {
        let Some(limits) = &self.limits else { return };
        let result = match verdict(end, calls) {
            BreakerVerdict::Neutral if probe => limits.release_probe(&connection.id).await,
            BreakerVerdict::Neutral => Ok(()),
            BreakerVerdict::Failure => limits
                .record_transient_failure(&connection.id)
                .await
                .map(|_| ()),
            BreakerVerdict::Success => limits.record_success(&connection.id).await.map(|_| ()),
        };
        if let Err(e) = result {
            warn!(error = %e, "could not update the org's circuit breaker");
        }
        if let Ok(client) = self.clients.get(connection)
            && let Some((used, max)) = client.api_usage()
            && let Err(e) = limits.record_usage(&connection.id, used, max).await
        {
            warn!(error = %e, "could not publish the org's API usage");
        }
    }

    /// Stores the terminal messages (so a redelivery re-publishes them) and publishes them.
    async fn finish(
        &self,
        kind: &str,
        id: &str,
        fingerprint: &str,
        msgs: Vec<OutMessage>,
    ) -> Outcome {
        if let Some(states) = &self.states
            && let Err(e) = states.complete(kind, id, fingerprint, &msgs).await
        {
            // Not stored means a redelivery would redo the work: publish anyway (the platform
            // gets its answer now), the idempotency record is what we lose.
            warn!(error = %e, "could not store the completed job state");
        }
        Outcome::Publish(msgs)
    }

    async fn execute(
        &self,
        request: &Request,
        connection: &Arc<Connection>,
        meta: &DeliveryMeta,
        started_at: &str,
    ) -> (JobEnd, u64) {
        let client = match self.clients.get(connection) {
            Ok(c) => c.for_job(),
            Err(e) => {
                let end = JobEnd::Failed {
                    code: e.code(),
                    message: e.to_string(),
                };
                return (end, 0);
            }
        };
        // The calls this attempt made, for a failed or dead-lettered result too: a request
        // that spent the org's API calls and then failed still spent them.
        let end = match request {
            Request::Dsr(r) => {
                dsr_job::DsrJob {
                    client: &client,
                    request: r,
                    connection,
                    checkpoints: self.store.clone().map(|s| {
                        crate::store::checkpoint::Checkpoints::new(s)
                            .with_fingerprint(request.fingerprint())
                    }),
                    store: self.store.as_ref(),
                    chunk_bytes: self.options.chunk_bytes,
                    started_at: started_at.to_string(),
                }
                .run()
                .await
            }
            Request::Scan(s) => match &self.store {
                Some(store) => scan_job::coordinate(&client, store, s, meta.reply_to.clone()).await,
                None => no_store(),
            },
            Request::ScanPart(p) => match &self.store {
                Some(store) => scan_job::run_part(&client, store, p).await,
                None => no_store(),
            },
        };
        (end, client.api_calls())
    }
}

/// Scans aggregate in Redis; without a store they cannot run.
fn no_store() -> JobEnd {
    JobEnd::Failed {
        code: "store_required".into(),
        message: "scans need Redis (SFPRIVACY_REDIS_URL)".into(),
    }
}

fn answering(request: &Request) -> Answering {
    match request {
        Request::Dsr(r) => Answering::Dsr {
            request_id: r.request_id.clone(),
            connection_id: r.connection_id.clone(),
            action: Some(r.action),
            dry_run: r.options.dry_run,
        },
        Request::Scan(s) => Answering::Scan {
            scan_id: s.scan_id.clone(),
            connection_id: s.connection_id.clone(),
            confidence: s.confidence,
        },
        Request::ScanPart(_) => Answering::Nothing,
    }
}

/// Dead-letter code of a request whose id a different request already used.
pub const REQUEST_ID_REUSED: &str = "REQUEST_ID_REUSED";

/// A request reusing another request's id: dead-lettered, and no result is published under
/// the id (the platform already holds the first request's result there).
fn reused(id: &str) -> Outcome {
    Outcome::DeadLetter {
        code: REQUEST_ID_REUSED.to_string(),
        message: crate::store::StoreError::RequestIdReused {
            request_id: id.to_string(),
        }
        .to_string(),
        publish: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_answer_from_salesforce_is_a_success_for_the_breaker() {
        let failed = JobEnd::Failed {
            code: "internal_error".into(),
            message: "the job panicked".into(),
        };
        assert_eq!(verdict(&failed, 0), BreakerVerdict::Neutral);
        assert_eq!(verdict(&failed, 2), BreakerVerdict::Success);
        assert_eq!(
            verdict(&JobEnd::Finished(Vec::new()), 5),
            BreakerVerdict::Success
        );
        // A login host that does not answer: no REST call was made, and it is still a failure.
        let down = JobEnd::Transient {
            code: "TRANSPORT_ERROR".into(),
            message: "connect".into(),
            cause: TransientCause::Salesforce,
        };
        assert_eq!(verdict(&down, 0), BreakerVerdict::Failure);
    }
    use crate::classify::scan::ScanError;
    use crate::dsr::DsrError;
    use crate::salesforce::SfError;
    use crate::store::StoreError;

    fn api(status: u16, code: &str) -> SfError {
        SfError::Api {
            status,
            code: code.into(),
            message: "x".into(),
            retry_after: None,
        }
    }

    fn cap() -> SfError {
        SfError::ConcurrencyCap {
            waited: std::time::Duration::from_secs(30),
        }
    }

    fn store() -> StoreError {
        StoreError::Redis(redis::RedisError::from((
            redis::ErrorKind::Io,
            "connection refused",
        )))
    }

    #[test]
    fn only_salesforce_failures_count_against_the_org_breaker() {
        use BreakerVerdict::*;
        let dsr = |e: DsrError| dsr_job::failure(&e).breaker_verdict();
        let scan = |e: ScanError| scan_job::failure(e).breaker_verdict();

        // The org's Salesforce failing, however it is wrapped.
        assert_eq!(dsr(api(503, "SERVER_UNAVAILABLE").into()), Failure);
        assert_eq!(dsr(SfError::Transport("reset".into()).into()), Failure);
        assert_eq!(scan(api(503, "SERVER_UNAVAILABLE").into()), Failure);
        assert_eq!(scan(SfError::Transport("timeout".into()).into()), Failure);

        // Our own concurrency cap: transient (retried), never the org's fault.
        let end = dsr_job::failure(&cap().into());
        assert!(matches!(&end, JobEnd::Transient { code, .. } if code == "ORG_CONCURRENCY_CAP"));
        assert_eq!(end.breaker_verdict(), Neutral);
        assert_eq!(scan(cap().into()), Neutral);

        // Redis, whichever layer saw it and whatever code it is reported under.
        assert_eq!(dsr(DsrError::Store(store())), Neutral);
        assert_eq!(dsr(SfError::Store("token cache".into()).into()), Neutral);
        assert_eq!(scan(ScanError::Store(store())), Neutral);
        assert_eq!(scan(SfError::Store("token cache".into()).into()), Neutral);

        // Salesforce answered (even with a refusal): the org is up.
        assert_eq!(dsr(api(400, "MALFORMED_QUERY").into()), Success);
        assert_eq!(scan(api(403, "INSUFFICIENT_ACCESS").into()), Success);
    }
}
