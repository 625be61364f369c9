//! The consumer loop and its supervisor.
//!
//! The supervisor ([`run_worker`]) owns the loop "connect → declare → consume until the
//! session ends", rebuilding connection, channels and consumers after a dropped connection or a
//! consumer cancelled by the broker (lapin's own auto-recovery is young; we do not rely on it).
//! Each delivery runs in its own task (prefetch = concurrency bounds how many); the task calls
//! [`Jobs::handle`] and maps the [`Outcome`] to broker actions, acking only after every message
//! it publishes is confirmed. A task whose channel died simply stops: the broker redelivers the
//! message and job state in Redis makes the redelivery re-publish instead of redo.
//!
//! On cancellation the consumers are cancelled, in-flight tasks get the shutdown deadline to
//! finish, and the connection is closed.

use super::headers;
use super::publisher::Publisher;
use super::topology::{self, Names};
use super::{BrokerError, short};
use crate::jobs::{DeliveryMeta, Destination, Jobs, OutMessage, Outcome};
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, error, info, warn};

/// How the worker reaches RabbitMQ and what it consumes.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub amqp_url: String,
    pub names: Names,
    /// Prefetch and in-flight limit.
    pub concurrency: u16,
    pub shutdown_deadline: Duration,
    /// Shown in the management UI / `rabbitmqctl list_connections`.
    pub connection_name: String,
    /// Routing keys whose queues this worker consumes (default: all three).
    pub routing_keys: Vec<&'static str>,
}

/// Shared view of the worker's state for health checks and tests.
#[derive(Debug, Clone, Default)]
pub struct WorkerHandle {
    connected: Arc<AtomicBool>,
    sessions: Arc<AtomicU64>,
    handled: Arc<AtomicU64>,
    /// Deliveries acked with a `publish` outcome, per routing key (the work this replica did).
    published: Arc<std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>>,
}

impl WorkerHandle {
    /// Whether consumers are currently subscribed.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }
    /// Sessions started (1 + reconnects).
    pub fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::SeqCst)
    }
    /// Deliveries fully handled (acked).
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::SeqCst)
    }
    /// Deliveries from the `routing_key` queue that this replica carried out (acked after a
    /// `publish` outcome: not parked, retried or dead-lettered).
    pub fn published(&self, routing_key: &str) -> u64 {
        let map = self.published.lock().unwrap_or_else(|p| p.into_inner());
        map.get(routing_key).copied().unwrap_or(0)
    }
}

enum SessionEnd {
    Shutdown,
    Lost(String),
}

/// Runs until `cancel` fires; reconnects forever on broker trouble (an unreachable broker
/// included). Returns an error only for a problem reconnecting cannot fix: an unparseable URL,
/// a login refused before the first successful connection, or a topology that exists with
/// other arguments.
pub async fn run_worker(
    opts: WorkerOptions,
    jobs: Arc<Jobs>,
    cancel: CancellationToken,
    handle: WorkerHandle,
) -> Result<(), BrokerError> {
    super::check_amqp_url(&opts.amqp_url)?;
    let mut backoff = Duration::from_millis(200);
    // Once the credentials have worked, a refusal (e.g. a broker restarting with its user
    // store not yet loaded) is retried like any other outage.
    let mut ever_connected = false;
    loop {
        if cancel.is_cancelled() {
            return Ok(());
        }
        let started = Instant::now();
        if handle.sessions.fetch_add(1, Ordering::SeqCst) > 0 {
            metrics::counter!(crate::ops::metrics::BROKER_RECONNECTS).increment(1);
        }
        let end = session(&opts, &jobs, &cancel, &handle, &mut ever_connected).await;
        handle.connected.store(false, Ordering::SeqCst);
        match end {
            Ok(SessionEnd::Shutdown) => return Ok(()),
            Ok(SessionEnd::Lost(why)) => warn!(reason = %why, "broker session ended; reconnecting"),
            Err(Fatal(e)) => {
                error!(error = %e, "cannot use the broker; stopping");
                return Err(e);
            }
            Err(Retryable(e)) => warn!(error = %e, "broker unavailable; retrying"),
        }
        if started.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_millis(200);
        }
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

enum SessionError {
    Fatal(BrokerError),
    Retryable(BrokerError),
}
use SessionError::{Fatal, Retryable};

impl From<lapin::Error> for SessionError {
    fn from(e: lapin::Error) -> Self {
        Retryable(e.into())
    }
}

impl From<BrokerError> for SessionError {
    fn from(e: BrokerError) -> Self {
        Retryable(e)
    }
}

/// The broker's own words (`ACCESS_REFUSED - Login was refused …`), which never echo the
/// password.
fn login_refusal_reason(e: &lapin::Error) -> String {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => amqp.get_message().to_string(),
        _ => "authentication failed".into(),
    }
}

enum Event {
    Delivery(&'static str, Box<lapin::Result<Delivery>>),
    Ended(&'static str),
}

async fn session(
    opts: &WorkerOptions,
    jobs: &Arc<Jobs>,
    cancel: &CancellationToken,
    handle: &WorkerHandle,
    ever_connected: &mut bool,
) -> Result<SessionEnd, SessionError> {
    let props =
        ConnectionProperties::default().with_connection_name(opts.connection_name.clone().into());
    let conn = tokio::select! {
        _ = cancel.cancelled() => return Ok(SessionEnd::Shutdown),
        c = Connection::connect(&opts.amqp_url, props) => match c {
            Ok(c) => c,
            Err(e) if !*ever_connected && super::is_login_refused(&e) => {
                return Err(Fatal(BrokerError::LoginRefused {
                    url: crate::app::redact_url(&opts.amqp_url),
                    reason: login_refusal_reason(&e),
                }));
            }
            Err(e) => return Err(e.into()),
        },
    };
    *ever_connected = true;
    let topo = conn.create_channel().await?;
    if let Err(e) = topology::declare(&topo, &opts.names).await {
        // Still connected means the broker refused the declaration itself.
        return Err(if conn.status().connected() {
            Fatal(e)
        } else {
            Retryable(e)
        });
    }
    let _ = topo.close(200, "declared".into()).await;
    let publisher = Publisher::open(&conn).await?;
    let ch = conn.create_channel().await?;
    ch.basic_qos(opts.concurrency, BasicQosOptions::default())
        .await?;
    let mut streams = Vec::new();
    let mut tags = Vec::new();
    for rk in &opts.routing_keys {
        let rk: &'static str = rk;
        let queue = opts.names.work_queue(rk);
        let consumer = ch
            .basic_consume(
                short(&queue)?,
                short(&format!(
                    "sfprivacy-{}-{}",
                    rk,
                    uuid::Uuid::new_v4().simple()
                ))?,
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        tags.push(consumer.tag());
        streams.push(
            consumer
                .map(move |d| Event::Delivery(rk, Box::new(d)))
                .chain(futures::stream::once(async move { Event::Ended(rk) }))
                .boxed(),
        );
    }
    let mut events = futures::stream::select_all(streams);
    handle.connected.store(true, Ordering::SeqCst);
    info!(queues = ?opts.routing_keys, prefetch = opts.concurrency, "consuming");
    let tracker = TaskTracker::new();
    let end = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                for tag in &tags {
                    let _ = ch.basic_cancel(tag.clone(), BasicCancelOptions::default()).await;
                }
                break SessionEnd::Shutdown;
            }
            ev = events.next() => match ev {
                Some(Event::Delivery(rk, d)) => match *d {
                    Ok(delivery) => {
                    let ctx = TaskCtx {
                        jobs: jobs.clone(),
                        publisher: publisher.clone(),
                        names: opts.names.clone(),
                        handle: handle.clone(),
                    };
                    tracker.spawn(ctx.process(rk, delivery));
                    }
                    Err(e) => break SessionEnd::Lost(e.to_string()),
                },
                Some(Event::Ended(rk)) => break SessionEnd::Lost(format!("consumer on {rk} was cancelled")),
                None => break SessionEnd::Lost("all consumers ended".into()),
            }
        }
    };
    tracker.close();
    if matches!(end, SessionEnd::Shutdown) {
        info!(in_flight = tracker.len(), "draining in-flight jobs");
        if tokio::time::timeout(opts.shutdown_deadline, tracker.wait())
            .await
            .is_err()
        {
            warn!(
                abandoned = tracker.len(),
                "shutdown deadline passed; unfinished deliveries will be redelivered"
            );
        }
        let _ = conn.close(200, "shutdown".into()).await;
    }
    // On a lost session in-flight tasks keep their channel clones; they finish or fail alone.
    Ok(end)
}

struct TaskCtx {
    jobs: Arc<Jobs>,
    publisher: Publisher,
    names: Names,
    handle: WorkerHandle,
}

impl TaskCtx {
    async fn process(self, routing_key: &'static str, delivery: Delivery) {
        let meta = DeliveryMeta {
            reply_to: delivery
                .properties
                .reply_to()
                .as_ref()
                .map(|s| s.to_string()),
            attempts: headers::attempts(&delivery.properties),
            redelivered: delivery.redelivered,
            routing_key: Some(routing_key.to_string()),
        };
        let span = tracing::info_span!(
            "delivery",
            queue = routing_key,
            delivery_tag = delivery.delivery_tag,
            attempts = meta.attempts,
            redelivered = meta.redelivered,
            // Filled in by the job once the body names them, so the publish and ack lines
            // after the job can be found by request id too.
            request_id = tracing::field::Empty,
            connection_id = tracing::field::Empty,
        );
        async move {
            // A replayed request's first delivery (replay resets the attempt count); not its
            // retries or a redelivery after a lost connection.
            let replayed = meta.attempts == 0
                && !meta.redelivered
                && headers::has(&delivery.properties, crate::broker::replay::REPLAYS);
            let timer = crate::ops::job_metrics::JobTimer::start(routing_key, replayed);
            let outcome = self.jobs.handle(&delivery.data, &meta).await;
            // What is done with the delivery, not what the job asked for: a retry past the
            // last tier is dead-lettered, and is logged and timed as such.
            let exhausted = matches!(outcome, Outcome::Retry { .. })
                && self.names.tiers.get(meta.attempts as usize).is_none();
            let mut label = if exhausted { "dead_letter" } else { outcome.label() };
            let mut counted = crate::ops::job_metrics::OutcomeCount::of(routing_key, &outcome, meta.attempts, &self.names);
            match self.apply(routing_key, &delivery, &meta, outcome).await {
                Ok(rerouted) => match delivery.acker.ack(BasicAckOptions::default()).await {
                    Ok(true) => {
                        if let Some(code) = rerouted {
                            counted = crate::ops::job_metrics::OutcomeCount::dead_lettered(routing_key, code);
                            label = "dead_letter";
                        }
                        counted.record();
                        timer.finish(label);
                        self.handle.handled.fetch_add(1, Ordering::SeqCst);
                        if label == "publish" {
                            let mut map = self.handle.published.lock().unwrap_or_else(|p| p.into_inner());
                            *map.entry(routing_key).or_default() += 1;
                        }
                        info!(outcome = label, "delivery done");
                    }
                    Ok(false) => warn!(outcome = label, "ack was not applied (channel gone?); broker will redeliver"),
                    Err(e) => warn!(outcome = label, error = %e, "ack failed; broker will redeliver"),
                },
                Err(e) => warn!(outcome = label, error = %e, "could not act on outcome; leaving the delivery unacked for redelivery"),
            }
        }
        .instrument(span)
        .await
    }

    /// Everything the outcome requires before the ack, each publish confirmed. Returns the
    /// dead-letter code when a result could not be delivered and the request was parked instead.
    async fn apply(
        &self,
        routing_key: &str,
        delivery: &Delivery,
        meta: &DeliveryMeta,
        outcome: Outcome,
    ) -> Result<Option<&'static str>, BrokerError> {
        const UNROUTABLE: &str = "result_unroutable";
        let done = match outcome {
            Outcome::Publish(msgs) => match self.publish_all(&msgs, meta).await {
                Err(e) if e.is_returned() => {
                    // The reply destination does not exist: park the request with the reason.
                    let msg = e.to_string();
                    warn!(code = UNROUTABLE, error = %msg, "result unroutable; dead-lettering the request");
                    self.dead_letter(routing_key, delivery, meta.attempts, UNROUTABLE, &msg)
                        .await?;
                    return Ok(Some(UNROUTABLE));
                }
                other => other,
            },
            Outcome::Retry {
                code,
                message,
                dead_lettered,
            } => {
                let next = meta.attempts + 1;
                match self.names.tiers.get(meta.attempts as usize) {
                    Some((tier, delay)) => {
                        info!(tier = %tier, delay_ms = delay.as_millis() as u64, attempt = next, code = %code, "transient failure; retrying later");
                        let props = headers::with_failure(
                            &delivery.properties,
                            next,
                            Some((&code, &message)),
                        );
                        self.publisher
                            .publish(tier, routing_key, &delivery.data, props)
                            .await
                    }
                    None => {
                        warn!(attempts = meta.attempts, code = %code, "retry tiers exhausted; dead-lettering");
                        self.dead_letter(routing_key, delivery, meta.attempts, &code, &message)
                            .await?;
                        self.publish_best_effort(&dead_lettered, meta).await;
                        Ok(())
                    }
                }
            }
            Outcome::DeadLetter {
                code,
                message,
                publish,
            } => {
                warn!(code = %code, "dead-lettering");
                self.dead_letter(routing_key, delivery, meta.attempts, &code, &message)
                    .await?;
                self.publish_best_effort(&publish, meta).await;
                Ok(())
            }
            Outcome::Busy => {
                let Some((tier, _)) = self.names.tiers.first() else {
                    return Err(BrokerError::Name("no retry tier configured".into()));
                };
                let props = headers::with_failure(&delivery.properties, meta.attempts, None);
                self.publisher
                    .publish(tier, routing_key, &delivery.data, props)
                    .await
            }
            Outcome::Defer { code, delay } => {
                // The shortest tier that waits at least `delay`, else the longest.
                let Some((tier, wait)) = self
                    .names
                    .tiers
                    .iter()
                    .find(|(_, d)| *d >= delay)
                    .or_else(|| self.names.tiers.last())
                else {
                    return Err(BrokerError::Name("no retry tier configured".into()));
                };
                info!(tier = %tier, wait_ms = wait.as_millis() as u64, code = %code, "deferred by the org's limits");
                let props = headers::with_failure(&delivery.properties, meta.attempts, None);
                self.publisher
                    .publish(tier, routing_key, &delivery.data, props)
                    .await
            }
        };
        done.map(|()| None)
    }

    /// The original body and properties, plus our failure headers, onto the dead-letter queue.
    async fn dead_letter(
        &self,
        routing_key: &str,
        delivery: &Delivery,
        attempts: u32,
        code: &str,
        message: &str,
    ) -> Result<(), BrokerError> {
        let props = headers::with_failure(&delivery.properties, attempts, Some((code, message)));
        self.publisher
            .publish(&self.names.dlx, routing_key, &delivery.data, props)
            .await
    }

    async fn publish_all(
        &self,
        msgs: &[OutMessage],
        meta: &DeliveryMeta,
    ) -> Result<(), BrokerError> {
        for m in msgs {
            let props = headers::outgoing(&m.message_id, &m.correlation_id, &m.kind)?;
            match &m.destination {
                Destination::Queue(queue) => {
                    self.publisher
                        .to_queue(queue, m.body.as_bytes(), props)
                        .await?
                }
                Destination::Reply => {
                    let queue = meta.reply_to.as_deref().unwrap_or(&self.names.results);
                    self.publisher
                        .to_queue(queue, m.body.as_bytes(), props)
                        .await?
                }
                Destination::ScanPart => {
                    self.publisher
                        .publish(&self.names.exchange, "scan.part", m.body.as_bytes(), props)
                        .await?
                }
            }
        }
        Ok(())
    }

    /// Results that accompany a dead letter: the message itself is already safe in the DLQ, so
    /// a missing reply queue must not turn into a loop. Connection errors still propagate by
    /// leaving the log line; the DLQ copy is what matters for the operator.
    async fn publish_best_effort(&self, msgs: &[OutMessage], meta: &DeliveryMeta) {
        if let Err(e) = self.publish_all(msgs, meta).await {
            warn!(error = %e, "could not publish the result that accompanies a dead letter");
        }
    }
}

/// Properties for a request published by producers and tests: persistent JSON.
pub fn request_properties(
    message_id: &str,
    reply_to: Option<&str>,
) -> Result<BasicProperties, BrokerError> {
    let mut p = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_message_id(short(message_id)?);
    if let Some(r) = reply_to {
        p = p.with_reply_to(short(r)?);
    }
    Ok(p)
}
