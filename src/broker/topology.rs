//! Exchange and queue names under one prefix, and their idempotent declaration.
//!
//! ```text
//! {p} (direct) ──dsr──▶ {p}.dsr ─┐            quorum, x-dead-letter-exchange={p}.dlx
//!              ──scan─▶ {p}.scan ├──▶ {p}.dlx (fanout) ──▶ {p}.dead
//!         ─scan.part─▶ {p}.scan.part ┘
//! {p}.retry.10s (fanout) ──▶ {p}.retry.10s (x-message-ttl=10000, DLX={p}) ──(orig. key)──▶ {p}
//! … one per tier; {p}.results: default destination of results
//! ```
//!
//! A retry tier is a fanout exchange plus a queue with a queue-wide TTL. We publish to the tier
//! exchange *with the original routing key*; the fanout ignores it, and when the TTL expires the
//! broker dead-letters the message back to the work exchange keeping that key, so it lands on
//! the queue it came from. Explicit dead-letters are published by the worker to `{p}.dlx` with our
//! `sfprivacy-*` headers; broker-side dead-lettering (delivery limit) takes the same route.
//!
//! RabbitMQ 3.10 vs 4.x: every quorum queue is declared with an explicit `x-delivery-limit`
//! because 4.0 introduced a default of 20 (3.x: unlimited) — declaring it makes both behave
//! alike. The worker never requeues on purpose (it republishes to a tier), so on work queues
//! the limit only catches a message that keeps killing workers or connections. The dead-letter
//! and results queues are the end of the line (no dead-letter exchange): a message over the
//! limit there would be dropped, and browsing them (`replay --dry-run`, a platform consumer
//! that requeues) counts deliveries, so they get a limit no browsing reaches. Dead-lettering from quorum
//! queues is at-most-once by default; `x-dead-letter-strategy=at-least-once` (3.10+, needs
//! `x-overflow=reject-publish`) makes the broker keep a message until the DLX target confirmed it.
//! Declarations are idempotent only with identical arguments: a queue that exists with other
//! arguments fails with PRECONDITION_FAILED, which stops the worker with that message.

use super::{BrokerError, short};
use crate::config::tier_label;
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};
use std::time::Duration;

/// Deliveries of one message before the broker dead-letters it on its own.
pub const DELIVERY_LIMIT: i64 = 20;

/// Routing keys of the work exchange, and the queue each feeds.
pub const ROUTING_KEYS: [&str; 3] = ["dsr", "scan", "scan.part"];

/// Every name the topology uses.
#[derive(Debug, Clone)]
pub struct Names {
    pub prefix: String,
    /// The work exchange (`{prefix}`).
    pub exchange: String,
    /// Dead-letter exchange (`{prefix}.dlx`, fanout).
    pub dlx: String,
    /// Dead-letter queue (`{prefix}.dead`).
    pub dead: String,
    /// Default results queue.
    pub results: String,
    /// Retry tiers: (exchange = queue name, delay), shortest first.
    pub tiers: Vec<(String, Duration)>,
}

impl Names {
    pub fn new(prefix: &str, results_queue: &str, tiers: &[Duration]) -> Self {
        Self {
            prefix: prefix.to_string(),
            exchange: prefix.to_string(),
            dlx: format!("{prefix}.dlx"),
            dead: format!("{prefix}.dead"),
            results: results_queue.to_string(),
            tiers: tiers
                .iter()
                .map(|d| (format!("{prefix}.retry.{}", tier_label(*d)), *d))
                .collect(),
        }
    }

    /// `{prefix}.dsr` for routing key `dsr`, etc.
    pub fn work_queue(&self, routing_key: &str) -> String {
        format!("{}.{}", self.prefix, routing_key)
    }

    /// The routing key whose queue is `queue`, if it is one of ours.
    pub fn routing_key_of(&self, queue: &str) -> Option<&'static str> {
        ROUTING_KEYS
            .iter()
            .copied()
            .find(|rk| self.work_queue(rk) == queue)
    }
}

fn quorum_args(dlx: &str) -> FieldTable {
    let mut t = FieldTable::default();
    t.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from("quorum")),
    );
    t.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(LongString::from(dlx)),
    );
    t.insert(
        "x-dead-letter-strategy".into(),
        AMQPValue::LongString(LongString::from("at-least-once")),
    );
    t.insert(
        "x-overflow".into(),
        AMQPValue::LongString(LongString::from("reject-publish")),
    );
    t.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(DELIVERY_LIMIT),
    );
    t
}

/// Deliveries of one message on the dead-letter and results queues before the broker drops it:
/// far above any number of browses or requeues.
pub const END_QUEUE_DELIVERY_LIMIT: i64 = 1_000_000;

/// A quorum queue at the end of the line: nowhere to dead-letter to.
fn end_quorum() -> FieldTable {
    let mut t = FieldTable::default();
    t.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from("quorum")),
    );
    t.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(END_QUEUE_DELIVERY_LIMIT),
    );
    t
}

async fn exchange(ch: &Channel, name: &str, kind: ExchangeKind) -> Result<(), BrokerError> {
    ch.exchange_declare(
        short(name)?,
        kind,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await?;
    Ok(())
}

async fn queue(ch: &Channel, name: &str, args: FieldTable) -> Result<(), BrokerError> {
    ch.queue_declare(short(name)?, QueueDeclareOptions::durable(), args)
        .await?;
    Ok(())
}

async fn bind(ch: &Channel, queue: &str, exchange: &str, key: &str) -> Result<(), BrokerError> {
    ch.queue_bind(
        short(queue)?,
        short(exchange)?,
        short(key)?,
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    Ok(())
}

/// Declares everything (idempotent). Use a channel of its own: a failed declaration closes it.
pub async fn declare(ch: &Channel, names: &Names) -> Result<(), BrokerError> {
    exchange(ch, &names.exchange, ExchangeKind::Direct).await?;
    exchange(ch, &names.dlx, ExchangeKind::Fanout).await?;
    queue(ch, &names.dead, end_quorum()).await?;
    bind(ch, &names.dead, &names.dlx, "").await?;
    for rk in ROUTING_KEYS {
        let q = names.work_queue(rk);
        queue(ch, &q, quorum_args(&names.dlx)).await?;
        bind(ch, &q, &names.exchange, rk).await?;
    }
    for (name, delay) in &names.tiers {
        exchange(ch, name, ExchangeKind::Fanout).await?;
        let mut args = quorum_args(&names.exchange);
        args.insert(
            "x-message-ttl".into(),
            AMQPValue::LongLongInt(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
        );
        queue(ch, name, args).await?;
        bind(ch, name, name, "").await?;
    }
    queue(ch, &names.results, end_quorum()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let n = Names::new("px", "px.results", &crate::config::DEFAULT_RETRY_TIERS);
        assert_eq!(n.work_queue("scan.part"), "px.scan.part");
        assert_eq!(n.routing_key_of("px.scan.part"), Some("scan.part"));
        assert_eq!(n.routing_key_of("px.dead"), None);
        let tiers: Vec<_> = n.tiers.iter().map(|(q, _)| q.as_str()).collect();
        assert_eq!(
            tiers,
            ["px.retry.10s", "px.retry.1m", "px.retry.10m", "px.retry.1h"]
        );
    }
}
