//! What handling one delivery produced, for the broker to act on, and the messages to publish.

use serde::{Deserialize, Serialize};

/// Where a produced message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// The request's `reply_to` queue when set, else the configured results queue.
    Reply,
    /// A named queue (a scan part answers to its scan request's `reply_to`).
    Queue(String),
    /// The work exchange with routing key `scan.part` (scan fan-out).
    ScanPart,
}

/// A message ready to publish (JSON text). Stored in job state once a job completes, so a
/// redelivery re-publishes byte-identical messages with the same `message_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutMessage {
    pub destination: Destination,
    pub message_id: String,
    pub correlation_id: String,
    /// The message's `type` (`dsr.result`, `dsr.export_chunk`, `progress`, …).
    pub kind: String,
    /// Whether this is the request's terminal result (or its `dead_lettered` result).
    pub terminal: bool,
    pub body: String,
}

impl OutMessage {
    pub fn new<T: Serialize>(
        destination: Destination,
        message_id: &str,
        correlation_id: &str,
        kind: &str,
        terminal: bool,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            destination,
            message_id: message_id.to_string(),
            correlation_id: correlation_id.to_string(),
            kind: kind.to_string(),
            terminal,
            body: serde_json::to_string(value)?,
        })
    }
}

/// The result of handling one delivery. The consumer loop maps it to broker actions; nothing
/// is acked before what it lists is confirmed.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Publish these in order, then ack. (Also a permanent failure: its `failed` result.)
    Publish(Vec<OutMessage>),
    /// A transient failure: republish to the next retry tier; after the last tier, dead-letter
    /// with this reason and publish `dead_lettered`.
    Retry {
        code: String,
        message: String,
        dead_lettered: Vec<OutMessage>,
    },
    /// Not processable now (bad message, or an operator must act): dead-letter with the reason,
    /// publish `publish` (a `failed` or `dead_lettered` result), ack.
    DeadLetter {
        code: String,
        message: String,
        publish: Vec<OutMessage>,
    },
    /// Another replica holds this request's lease: park it in the first retry tier without
    /// counting an attempt.
    Busy,
    /// The org's API budget is nearly spent or its circuit breaker is open (ops,
    /// `store::budget`): park it in the retry tier nearest `delay` without counting an attempt.
    Defer {
        code: String,
        delay: std::time::Duration,
    },
}

impl Outcome {
    /// Short name for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Publish(_) => "publish",
            Outcome::Retry { .. } => "retry",
            Outcome::DeadLetter { .. } => "dead_letter",
            Outcome::Busy => "busy",
            Outcome::Defer { .. } => "defer",
        }
    }
}
