//! `sfprivacy replay`: move (or copy) dead letters from `{prefix}.dead` back to their work
//! queue, after an operator fixed what made them fail.
//!
//! **One pass, in order, confirm before remove.** The pass reads at most the number of
//! messages the dead-letter queue held when it started (`basic.get`, manual ack), so it never
//! loops over what it put back. For each message:
//! - it matches the filters → republished to the work exchange with its original routing key
//!   (publisher confirm + `mandatory`); only after the broker confirmed it is the dead-letter
//!   delivery acked. In copy mode the dead letter is also re-appended to the dead-letter queue.
//! - it does not match (or its destination cannot be told) → re-appended, unchanged, to the
//!   tail of the dead-letter queue (confirmed), then acked.
//!
//! Re-appending rather than `nack(requeue)` is deliberate: a quorum queue counts every requeue
//! against its delivery limit (RabbitMQ 4.x applies a default of 20, and the dead-letter queue
//! has no dead-letter target of its own), so repeated replays with narrow filters would
//! eventually drop messages that nobody replayed. Re-appending keeps the relative order of the
//! messages left behind; the only change an operator sees is that dead letters which arrived
//! *during* the pass now sit ahead of them. A crash between a confirm and its ack leaves a
//! duplicate (never a loss): a duplicate dead letter is harmless, and a duplicate replay is
//! absorbed by the worker's idempotency on the request id.
//!
//! `--limit` stops the pass after that many replays; the rest of the queue is not touched.
//!
//! **Dry run** reads the whole queue without acking anything, prints counts and a sample of
//! ids and headers (never bodies: they hold subjects' emails), then returns every message with
//! one `nack(requeue)` and waits until the queue counts them again: each message keeps its
//! place and is delivered once more in the broker's count, which is why a dry run is cheap but
//! not free on quorum queues.
//!
//! The replayed message has its attempt count reset to 0, a `sfprivacy-replays` header one
//! above the previous, the failure headers and the broker's `x-death` history removed (the
//! previous error code is kept in `sfprivacy-replayed-error-code`). Every replay writes one
//! audit line (target `sfprivacy::audit`).

use super::headers;
use super::publisher::Publisher;
use super::topology::{Names, ROUTING_KEYS};
use super::{BrokerError, short};
use crate::message::redact_value;
use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicGetOptions, BasicNackOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Connection};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How many times a message was replayed.
pub const REPLAYS: &str = "sfprivacy-replays";
/// When it was last replayed (RFC 3339).
pub const REPLAYED_AT: &str = "sfprivacy-replayed-at";
/// The error code it had in the dead-letter queue before its last replay.
pub const REPLAYED_ERROR_CODE: &str = "sfprivacy-replayed-error-code";

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("the broker did not accept the ack of a dead letter (channel closed); stopped")]
    AckRefused,
    #[error("invalid filter: {0}")]
    Filter(String),
}

impl From<lapin::Error> for ReplayError {
    fn from(e: lapin::Error) -> Self {
        ReplayError::Broker(BrokerError::Amqp(e))
    }
}

/// The request types `--type` accepts.
pub const TYPES: [&str; 3] = ["dsr.request", "scan.request", "scan.part"];

/// Move the dead letters, or copy them (the dead letter stays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    #[default]
    Move,
    Copy,
}

/// Which dead letters to replay. Empty lists match everything; given lists are OR-ed within,
/// AND-ed across.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `sfprivacy-error-code` values; `broker:<reason>` for messages the broker dead-lettered
    /// (e.g. `broker:delivery_limit`).
    pub error_codes: BTreeSet<String>,
    pub connections: BTreeSet<String>,
    /// `dsr.request`, `scan.request`, `scan.part`.
    pub types: BTreeSet<String>,
    /// Failed at or after.
    pub since: Option<DateTime<Utc>>,
    /// Failed before.
    pub until: Option<DateTime<Utc>>,
    /// Request, scan or part ids.
    pub request_ids: BTreeSet<String>,
}

impl Filter {
    /// Refuses a type no dead letter can have (`dsr` for `dsr.request`), which would
    /// otherwise match nothing without a word.
    pub fn validate(&self) -> Result<(), ReplayError> {
        if let Some(t) = self.types.iter().find(|t| !TYPES.contains(&t.as_str())) {
            return Err(ReplayError::Filter(format!(
                "unknown --type {t:?}: expected one of {}",
                TYPES.join(", ")
            )));
        }
        Ok(())
    }

    pub fn matches(&self, d: &DeadLetter) -> bool {
        fn any(set: &BTreeSet<String>, v: Option<&String>) -> bool {
            set.is_empty() || v.is_some_and(|v| set.contains(v))
        }
        let time_ok = match (self.since, self.until, d.failed_at) {
            (None, None, _) => true,
            (_, _, None) => false,
            (since, until, Some(t)) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u),
        };
        // Codes come in both cases (`invalid_grant` from OAuth, `SERVER_UNAVAILABLE` from the
        // API, ours): an operator should not have to know which.
        let code_ok = self.error_codes.is_empty()
            || d.error_code
                .as_ref()
                .is_some_and(|c| self.error_codes.iter().any(|f| f.eq_ignore_ascii_case(c)));
        code_ok
            && any(&self.connections, d.connection_id.as_ref())
            && any(&self.types, d.request_type.as_ref())
            && any(&self.request_ids, d.request_id.as_ref())
            && time_ok
    }
}

/// What replay knows about one dead letter: ids and headers only, never the body's contents
/// beyond them (the body holds the subject's emails). The fields hold what was read, for the
/// filters to match; printed (serialised), an id that fails the contract's id rule shows only
/// its length ([`redact_value`]): a malformed message may carry an address as its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    #[serde(serialize_with = "redacted")]
    pub request_id: Option<String>,
    /// The AMQP `message_id`, the only id of a body that is not a request.
    #[serde(serialize_with = "redacted")]
    pub message_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub request_type: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub connection_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub error_code: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub replays: u32,
    /// The routing key of the work queue it came from, if it can be told.
    pub routing_key: Option<String>,
}

/// The few body fields replay reads; everything else (the subject) is skipped unparsed.
#[derive(serde::Deserialize)]
struct Ids {
    #[serde(rename = "type")]
    kind: Option<String>,
    request_id: Option<String>,
    scan_id: Option<String>,
    part_id: Option<String>,
    connection_id: Option<String>,
}

impl DeadLetter {
    pub fn read(names: &Names, routing_key: &str, props: &BasicProperties, body: &[u8]) -> Self {
        let ids: Option<Ids> = serde_json::from_slice(body).ok();
        let (kind, id, conn) = match ids {
            Some(i) => (
                i.kind,
                i.part_id.or(i.request_id).or(i.scan_id),
                i.connection_id,
            ),
            None => (None, None, None),
        };
        let deaths = x_death(props);
        let error_code = headers::string(props, headers::ERROR_CODE).or_else(|| {
            deaths
                .first()
                .and_then(|d| d.reason.as_ref())
                .map(|r| format!("broker:{r}"))
        });
        let failed_at = headers::string(props, headers::FAILED_AT)
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| deaths.first().and_then(|d| d.time))
            .or_else(|| {
                props
                    .timestamp()
                    .and_then(|t| DateTime::from_timestamp(i64::try_from(t).ok()?, 0))
            });
        // Where it came from: the broker's record of the work queue, else the routing key it
        // was dead-lettered with, else its type.
        let routing_key = deaths
            .iter()
            .find_map(|d| d.queue.as_deref().and_then(|q| names.routing_key_of(q)))
            .or_else(|| ROUTING_KEYS.iter().copied().find(|k| *k == routing_key))
            .or(match kind.as_deref() {
                Some("dsr.request") => Some("dsr"),
                Some("scan.request") => Some("scan"),
                Some("scan.part") => Some("scan.part"),
                _ => None,
            })
            .map(str::to_string);
        DeadLetter {
            request_id: id,
            message_id: props.message_id().as_ref().map(|m| m.to_string()),
            request_type: kind,
            connection_id: conn,
            error_code,
            failed_at,
            attempts: headers::attempts(props),
            replays: int_header(props, REPLAYS),
            routing_key,
        }
    }
}

/// A value read from a dead letter as printed and logged: `-` when absent, else as
/// [`redact_value`] shows it.
fn shown(v: Option<&str>) -> Cow<'_, str> {
    v.map_or(Cow::Borrowed("-"), redact_value)
}

fn redacted<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    v.as_deref().map(redact_value).serialize(s)
}

/// Why a matching dead letter has no work queue to go back to (ids and routing key only).
fn unroutable_reason(d: &DeadLetter, delivered_with: &str) -> String {
    let body = match &d.request_type {
        Some(t) => format!("its type {} is not a request type", redact_value(t)),
        None => "its body is not a request (no readable type)".into(),
    };
    format!(
        "{body}, no x-death entry names a work queue, and its routing key {} is not one of {}",
        redact_value(delivered_with),
        ROUTING_KEYS.join(", ")
    )
}

/// A matching dead letter that stayed in the dead-letter queue, and why (ids redacted when
/// printed, as in [`DeadLetter`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unroutable {
    #[serde(serialize_with = "redacted")]
    pub message_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub request_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub error_code: Option<String>,
    pub reason: String,
}

struct Death {
    queue: Option<String>,
    reason: Option<String>,
    time: Option<DateTime<Utc>>,
}

/// The broker's `x-death` entries, most recent first.
fn x_death(props: &BasicProperties) -> Vec<Death> {
    let Some(AMQPValue::FieldArray(arr)) = props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("x-death"))
        .cloned()
    else {
        return Vec::new();
    };
    arr.as_slice()
        .iter()
        .filter_map(|v| match v {
            AMQPValue::FieldTable(t) => {
                let s = |k: &str| match t.inner().get(k) {
                    Some(AMQPValue::LongString(s)) => Some(s.to_string()),
                    Some(AMQPValue::ShortString(s)) => Some(s.to_string()),
                    _ => None,
                };
                let time = match t.inner().get("time") {
                    Some(AMQPValue::Timestamp(ts)) => i64::try_from(*ts)
                        .ok()
                        .and_then(|t| DateTime::from_timestamp(t, 0)),
                    _ => None,
                };
                Some(Death {
                    queue: s("queue"),
                    reason: s("reason"),
                    time,
                })
            }
            _ => None,
        })
        .collect()
}

fn int_header(props: &BasicProperties, name: &str) -> u32 {
    match props.headers().as_ref().and_then(|h| h.inner().get(name)) {
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongUInt(n)) => *n,
        Some(AMQPValue::LongString(s)) => s.to_string().parse().unwrap_or(0),
        _ => 0,
    }
}

/// The properties of the replayed copy: attempts reset, replay counted, failure history gone.
pub fn replay_properties(props: &BasicProperties, previous: &DeadLetter) -> BasicProperties {
    let mut table = props.headers().clone().unwrap_or_default();
    let mut inner: BTreeMap<ShortString, AMQPValue> = table.inner().clone();
    inner.retain(|k, _| {
        let k = k.as_str();
        !(k == "x-death"
            || k.starts_with("x-first-death-")
            || k.starts_with("x-last-death-")
            || k == headers::ERROR
            || k == headers::ERROR_CODE
            || k == headers::FAILED_AT)
    });
    table = FieldTable::from(inner);
    let mut set = |k: &str, v: AMQPValue| {
        table.insert(ShortString::from(k), v);
    };
    set(headers::ATTEMPTS, AMQPValue::LongLongInt(0));
    set(
        REPLAYS,
        AMQPValue::LongLongInt(i64::from(previous.replays) + 1),
    );
    set(
        REPLAYED_AT,
        AMQPValue::LongString(LongString::from(crate::message::now())),
    );
    if let Some(code) = &previous.error_code {
        set(
            REPLAYED_ERROR_CODE,
            AMQPValue::LongString(LongString::from(code.as_str())),
        );
    }
    props.clone().with_headers(table)
}

/// How to run a replay.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub filter: Filter,
    pub mode: Mode,
    pub dry_run: bool,
    /// At most this many replays per second.
    pub rate: Option<f64>,
    /// Stop after this many replays.
    pub limit: Option<u64>,
    /// Dead letters shown in a dry run's sample.
    pub sample: usize,
}

/// What a replay (or dry run) did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub dry_run: bool,
    /// Messages in the dead-letter queue when the pass began.
    pub queue_depth: u64,
    /// Messages read.
    pub scanned: u64,
    /// Matching the filters (and routable).
    pub matched: u64,
    /// Republished to their work queue (0 in a dry run).
    pub replayed: u64,
    /// Dry run: how many a real run with the same options would replay.
    pub would_replay: u64,
    /// Matching but with no work queue to go to (kept in the dead-letter queue).
    pub unroutable: u64,
    /// The first of those (up to the sample size), each with the reason.
    pub unroutable_sample: Vec<Unroutable>,
    /// Matching messages by error code.
    pub by_error_code: BTreeMap<String, u64>,
    /// Matching messages by work queue routing key.
    pub by_routing_key: BTreeMap<String, u64>,
    /// A few matching dead letters (ids and headers only).
    pub sample: Vec<DeadLetter>,
}

impl Summary {
    fn count(&mut self, d: &DeadLetter, sample: usize) {
        self.matched += 1;
        *self
            .by_error_code
            .entry(
                d.error_code
                    .as_deref()
                    .map_or_else(|| "unknown".into(), |c| redact_value(c).into_owned()),
            )
            .or_default() += 1;
        if let Some(rk) = &d.routing_key {
            *self.by_routing_key.entry(rk.clone()).or_default() += 1;
        }
        if self.sample.len() < sample {
            self.sample.push(d.clone());
        }
    }

    fn unroutable(&mut self, d: &DeadLetter, delivered_with: &str, sample: usize) -> String {
        self.unroutable += 1;
        let reason = unroutable_reason(d, delivered_with);
        if self.unroutable_sample.len() < sample.max(10) {
            self.unroutable_sample.push(Unroutable {
                message_id: d.message_id.clone(),
                request_id: d.request_id.clone(),
                error_code: d.error_code.clone(),
                reason: reason.clone(),
            });
        }
        reason
    }
}

/// Runs one replay pass over `names.dead`. `progress` advances once per message read.
pub async fn run(
    conn: &Connection,
    names: &Names,
    opts: &Options,
    progress: &ProgressBar,
) -> Result<Summary, ReplayError> {
    if let Some(r) = opts.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(ReplayError::Filter(
            "--rate must be a positive number".into(),
        ));
    }
    opts.filter.validate()?;
    let channel = conn.create_channel().await?;
    let publisher = if opts.dry_run {
        None
    } else {
        match Publisher::open(conn).await {
            Ok(p) => Some(p),
            Err(e) => {
                close(&channel).await;
                return Err(e.into());
            }
        }
    };
    let result = pass(&channel, publisher.as_ref(), names, opts, progress).await;
    if let Some(p) = publisher {
        close(p.channel()).await;
    }
    close(&channel).await;
    result
}

async fn close(channel: &lapin::Channel) {
    super::close_channel(channel, "replay done").await;
}

async fn pass(
    channel: &lapin::Channel,
    publisher: Option<&Publisher>,
    names: &Names,
    opts: &Options,
    progress: &ProgressBar,
) -> Result<Summary, ReplayError> {
    let depth = ready(channel, names).await?;
    progress.set_length(u64::from(depth));
    let mut summary = Summary {
        dry_run: opts.dry_run,
        queue_depth: u64::from(depth),
        ..Summary::default()
    };
    let Some(publisher) = publisher else {
        dry_run(channel, names, opts, depth, progress, &mut summary).await?;
        return Ok(summary);
    };
    let mut pace = opts.rate.map(|r| {
        let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    for _ in 0..depth {
        if opts.limit.is_some_and(|l| summary.replayed >= l) {
            break;
        }
        let Some(msg) = channel
            .basic_get(short(&names.dead)?, BasicGetOptions { no_ack: false })
            .await?
        else {
            break;
        };
        let d = msg.delivery;
        summary.scanned += 1;
        progress.inc(1);
        let dl = DeadLetter::read(names, d.routing_key.as_str(), &d.properties, &d.data);
        let target = dl.routing_key.clone().filter(|_| opts.filter.matches(&dl));
        if opts.filter.matches(&dl) {
            summary.count(&dl, opts.sample);
        }
        match target {
            Some(rk) => {
                if let Some(p) = pace.as_mut() {
                    p.tick().await;
                }
                let props = replay_properties(&d.properties, &dl);
                publisher
                    .publish(&names.exchange, &rk, &d.data, props)
                    .await?;
                if opts.mode == Mode::Copy {
                    reappend(publisher, names, &d).await?;
                }
                ack(&d).await?;
                summary.replayed += 1;
                tracing::info!(
                    target: "sfprivacy::audit",
                    action = "replay",
                    mode = ?opts.mode,
                    request_id = %shown(dl.request_id.as_deref()),
                    request_type = %shown(dl.request_type.as_deref()),
                    connection_id = %shown(dl.connection_id.as_deref()),
                    error_code = %shown(dl.error_code.as_deref()),
                    to = %names.work_queue(&rk),
                    replays = dl.replays + 1,
                    "dead letter replayed"
                );
            }
            None => {
                if opts.filter.matches(&dl) {
                    let reason = summary.unroutable(&dl, d.routing_key.as_str(), opts.sample);
                    tracing::warn!(
                        target: "sfprivacy::audit",
                        action = "replay_skipped",
                        request_id = %shown(dl.request_id.as_deref()),
                        message_id = %shown(dl.message_id.as_deref()),
                        reason = %reason,
                        "dead letter matches but its work queue cannot be told; kept"
                    );
                }
                reappend(publisher, names, &d).await?;
                ack(&d).await?;
            }
        }
    }
    Ok(summary)
}

/// Messages ready on the dead-letter queue (a passive declare: never creates it).
async fn ready(channel: &lapin::Channel, names: &Names) -> Result<u32, ReplayError> {
    Ok(channel
        .queue_declare(
            short(&names.dead)?,
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?
        .message_count())
}

/// Reads everything, acks nothing, then hands every message back in one nack.
async fn dry_run(
    channel: &lapin::Channel,
    names: &Names,
    opts: &Options,
    depth: u32,
    progress: &ProgressBar,
    summary: &mut Summary,
) -> Result<(), ReplayError> {
    let mut last: Option<Delivery> = None;
    for _ in 0..depth {
        let Some(msg) = channel
            .basic_get(short(&names.dead)?, BasicGetOptions { no_ack: false })
            .await?
        else {
            break;
        };
        let d = msg.delivery;
        summary.scanned += 1;
        progress.inc(1);
        let dl = DeadLetter::read(names, d.routing_key.as_str(), &d.properties, &d.data);
        if opts.filter.matches(&dl) {
            summary.count(&dl, opts.sample);
            if dl.routing_key.is_none() {
                summary.unroutable(&dl, d.routing_key.as_str(), opts.sample);
            }
        }
        last = Some(d);
    }
    let routable = summary.matched - summary.unroutable;
    summary.would_replay = opts.limit.map_or(routable, |l| routable.min(l));
    if let Some(d) = last {
        let ok = d
            .acker
            .nack(BasicNackOptions {
                multiple: true,
                requeue: true,
            })
            .await?;
        if !ok {
            return Err(ReplayError::AckRefused);
        }
        wait_until_back(channel, names, summary.scanned).await?;
    }
    Ok(())
}

/// A quorum queue applies a requeue through its Raft log after the nack has been sent, so for
/// a moment the messages are neither ready nor counted: a real pass started right after a dry
/// run (what an operator does) would read a depth of 0 and replay nothing. Waits, briefly,
/// until the queue holds at least what the dry run read.
async fn wait_until_back(
    channel: &lapin::Channel,
    names: &Names,
    read: u64,
) -> Result<(), ReplayError> {
    const POLL: Duration = Duration::from_millis(20);
    const PATIENCE: Duration = Duration::from_secs(5);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        // Someone else may consume the dead-letter queue meanwhile; never wait past the deadline.
        if u64::from(ready(channel, names).await?) >= read
            || tokio::time::Instant::now() >= deadline
        {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The dead letter, unchanged, onto the tail of the dead-letter queue (confirmed). Through the
/// dead-letter exchange with the routing key it came with, the way every dead letter arrives:
/// through the default exchange its routing key would become the queue's name, and a body
/// that does not name its type (`invalid_json`) could no longer be routed by a later pass.
async fn reappend(publisher: &Publisher, names: &Names, d: &Delivery) -> Result<(), ReplayError> {
    publisher
        .publish(
            &names.dlx,
            d.routing_key.as_str(),
            &d.data,
            d.properties.clone(),
        )
        .await?;
    Ok(())
}

async fn ack(d: &Delivery) -> Result<(), ReplayError> {
    if d.acker.ack(BasicAckOptions::default()).await? {
        Ok(())
    } else {
        Err(ReplayError::AckRefused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::FieldArray;

    fn names() -> Names {
        Names::new("px", "px.results", &crate::config::DEFAULT_RETRY_TIERS)
    }

    fn props(h: &[(&str, AMQPValue)]) -> BasicProperties {
        let mut t = FieldTable::default();
        for (k, v) in h {
            t.insert(ShortString::from(*k), v.clone());
        }
        BasicProperties::default().with_headers(t)
    }

    fn long(s: &str) -> AMQPValue {
        AMQPValue::LongString(LongString::from(s))
    }

    const BODY: &[u8] = br#"{"type":"dsr.request","version":1,"request_id":"r-1","connection_id":"acme","action":"delete","subject":{"emails":["jane@example.com"]}}"#;

    #[test]
    fn reads_ids_and_our_headers_without_the_subject() {
        let p = props(&[
            (headers::ERROR_CODE, long("INSUFFICIENT_ACCESS")),
            (headers::FAILED_AT, long("2026-01-02T03:04:05Z")),
            (headers::ATTEMPTS, AMQPValue::LongLongInt(3)),
        ]);
        let d = DeadLetter::read(&names(), "dsr", &p, BODY);
        assert_eq!(d.request_id.as_deref(), Some("r-1"));
        assert_eq!(d.connection_id.as_deref(), Some("acme"));
        assert_eq!(d.error_code.as_deref(), Some("INSUFFICIENT_ACCESS"));
        assert_eq!(d.routing_key.as_deref(), Some("dsr"));
        assert_eq!(d.attempts, 3);
        assert!(!serde_json::to_string(&d).unwrap().contains("jane"));
    }

    #[test]
    fn broker_dead_letters_use_x_death() {
        let mut death = FieldTable::default();
        death.insert("queue".into(), long("px.scan.part"));
        death.insert("reason".into(), long("delivery_limit"));
        death.insert("time".into(), AMQPValue::Timestamp(1_767_000_000));
        let p = props(&[(
            "x-death",
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
        )]);
        // Routing key of the delivery unknown; body not JSON: x-death alone tells.
        let d = DeadLetter::read(&names(), "", &p, b"garbage");
        assert_eq!(d.routing_key.as_deref(), Some("scan.part"));
        assert_eq!(d.error_code.as_deref(), Some("broker:delivery_limit"));
        assert!(d.failed_at.is_some());
    }

    #[test]
    fn filters_combine() {
        let d = DeadLetter::read(
            &names(),
            "dsr",
            &props(&[
                (headers::ERROR_CODE, long("INVALID_GRANT")),
                (headers::FAILED_AT, long("2026-01-02T03:04:05Z")),
            ]),
            BODY,
        );
        let mut f = Filter::default();
        assert!(f.matches(&d));
        f.error_codes.insert("invalid_grant".into());
        assert!(f.matches(&d), "error codes match whatever their case");
        f.error_codes.insert("INVALID_GRANT".into());
        f.connections.insert("acme".into());
        assert!(f.matches(&d));
        f.types.insert("scan.request".into());
        assert!(!f.matches(&d));
        f.types.insert("dsr.request".into());
        assert!(f.matches(&d));
        f.since = Some("2026-01-03T00:00:00Z".parse().unwrap());
        assert!(!f.matches(&d));
        f.since = Some("2026-01-02T00:00:00Z".parse().unwrap());
        f.until = Some("2026-01-02T03:04:05Z".parse().unwrap());
        assert!(!f.matches(&d), "until is exclusive");
        f.until = None;
        f.request_ids.insert("other".into());
        assert!(!f.matches(&d));
    }

    #[test]
    fn replayed_properties_reset_attempts_and_count_replays() {
        let p = props(&[
            (headers::ERROR_CODE, long("SERVER_UNAVAILABLE")),
            (headers::ERROR, long("down")),
            (headers::ATTEMPTS, AMQPValue::LongLongInt(5)),
            (REPLAYS, AMQPValue::LongLongInt(1)),
            ("x-death", AMQPValue::FieldArray(FieldArray::default())),
            ("x-first-death-queue", long("px.dsr")),
            ("trace", long("kept")),
        ]);
        let d = DeadLetter::read(&names(), "dsr", &p, BODY);
        let out = replay_properties(&p, &d);
        assert_eq!(headers::attempts(&out), 0);
        assert_eq!(int_header(&out, REPLAYS), 2);
        assert_eq!(headers::string(&out, headers::ERROR_CODE), None);
        assert_eq!(headers::string(&out, headers::ERROR), None);
        assert_eq!(
            headers::string(&out, REPLAYED_ERROR_CODE).as_deref(),
            Some("SERVER_UNAVAILABLE")
        );
        assert_eq!(headers::string(&out, "trace").as_deref(), Some("kept"));
        let h = out.headers().clone().unwrap();
        assert!(!h.inner().contains_key("x-death"));
        assert!(!h.inner().contains_key("x-first-death-queue"));
    }
}
