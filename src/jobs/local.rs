//! One request run to its end in this process, without a broker (`sfprivacy run`).
//!
//! A worker fans a scan out as `scan.part` messages for any replica to take; here the parts
//! run in-process, a few at a time, and what the platform would receive (progress, the
//! terminal result) is collected in order. Key choices:
//! - No job state: `run` always does the work. A scan therefore keeps its state in a private
//!   Redis scope (`{prefix}:run:{uuid}`), so it never meets a worker's scan of the same id nor
//!   an earlier `run` of the same file, and the scope is deleted at the end. What a worker's
//!   scan leaves behind for the anonymizer (the connection's personal fields) is copied to the
//!   real key space, as a worker's scan would have written it.
//! - DSR requests run exactly as before (`Jobs::handle` on the deployment's key space).

use super::{ClientRegistry, DeliveryMeta, Destination, JobOptions, Jobs, OutMessage, Outcome};
use crate::config::Connection;
use crate::message::Request;
use crate::store::scan_state::{ScanState, latest_personal_fields};
use crate::store::{Store, StoreError};
use futures::StreamExt;

/// What running one request produced.
#[derive(Debug, Default)]
pub struct LocalRun {
    /// Messages the platform would receive, in the order they were produced but with the
    /// terminal result last (scan parts, which stay inside this process, are not among them).
    pub messages: Vec<OutMessage>,
    /// Why the request did not come to an end (a retry, dead letter, deferral), if it did not.
    pub stopped: Option<String>,
    /// Stopped by the caller's cancellation (Ctrl-C) rather than by the request itself.
    pub interrupted: bool,
}

impl LocalRun {
    /// Parts finish in any order: a part that committed before the last one can hand back its
    /// progress after the last one's report. The terminal result goes last (a stable sort).
    fn terminal_last(&mut self) {
        self.messages.sort_by_key(|m| m.terminal);
    }

    /// Keeps the outcome's messages and returns the scan parts it asks for.
    fn take(&mut self, outcome: Outcome) -> Vec<OutMessage> {
        let note = match outcome {
            Outcome::Publish(msgs) => {
                let (parts, out): (Vec<_>, Vec<_>) = msgs
                    .into_iter()
                    .partition(|m| m.destination == Destination::ScanPart);
                self.messages.extend(out);
                return parts;
            }
            Outcome::Retry { code, message, .. } => {
                format!("transient failure {code}: {message} (the worker would retry)")
            }
            Outcome::DeadLetter {
                code,
                message,
                publish,
            } => {
                self.messages.extend(publish);
                format!("would be dead-lettered: {code}: {message}")
            }
            Outcome::Defer { code, .. } => format!("deferred by the org's limits: {code}"),
            Outcome::Busy => "another worker holds this request".into(),
        };
        self.stopped.get_or_insert(note);
        Vec::new()
    }

    /// Whether the request came to an end (a terminal result, nothing stopped it).
    pub fn ended(&self) -> bool {
        self.stopped.is_none() && self.messages.iter().any(|m| m.terminal)
    }
}

/// Runs `body` to its end. `store` is the deployment's Redis (the token cache lives there
/// too, through `clients`); `parts_at_once` bounds the scan parts running together.
pub async fn run(
    connections: Vec<Connection>,
    clients: ClientRegistry,
    store: Store,
    options: JobOptions,
    body: &[u8],
    parts_at_once: usize,
) -> Result<LocalRun, StoreError> {
    let never = tokio_util::sync::CancellationToken::new();
    run_until(
        connections,
        clients,
        store,
        options,
        body,
        parts_at_once,
        &never,
    )
    .await
}

/// [`run`], stopped early when `cancel` fires (Ctrl-C): the work in flight is dropped, the
/// run is marked [`LocalRun::interrupted`], and a scan's private scope is still deleted.
pub async fn run_until(
    connections: Vec<Connection>,
    clients: ClientRegistry,
    store: Store,
    options: JobOptions,
    body: &[u8],
    parts_at_once: usize,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<LocalRun, StoreError> {
    let scan = match Request::parse(body) {
        Ok(Request::Scan(s)) => Some(s),
        _ => None,
    };
    let scope = match &scan {
        Some(_) => store.scoped(&format!("run:{}", uuid::Uuid::new_v4().simple())),
        None => store.clone(),
    };
    let jobs = Jobs::new(connections, clients, Some(scope.clone()), None, options);
    let meta = DeliveryMeta::default();
    let work = async {
        let mut run = LocalRun::default();
        let parts = run.take(jobs.handle(body, &meta).await);
        // Parts never fan out further: one round runs the whole scan.
        let mut outcomes = futures::stream::iter(parts)
            .map(|p| {
                let jobs = &jobs;
                let meta = &meta;
                async move { jobs.handle(p.body.as_bytes(), meta).await }
            })
            .buffer_unordered(parts_at_once.max(1));
        while let Some(outcome) = outcomes.next().await {
            run.take(outcome);
        }
        run.terminal_last();
        run
    };
    let run = tokio::select! {
        run = work => run,
        _ = cancel.cancelled() => LocalRun {
            stopped: Some("interrupted before the request came to an end".into()),
            interrupted: true,
            ..LocalRun::default()
        },
    };
    if let Some(s) = scan {
        let kept = if run.ended() {
            latest_personal_fields(&scope, &s.connection_id).await
        } else {
            Ok(Vec::new())
        };
        // The scope goes whatever happened above: it is private to this run.
        scope.delete_all().await?;
        let fields = kept?;
        if run.ended() {
            ScanState::new(store)
                .set_personal_fields(&s.connection_id, &fields)
                .await?;
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: &str, terminal: bool) -> OutMessage {
        OutMessage {
            destination: Destination::Reply,
            message_id: kind.into(),
            correlation_id: "s".into(),
            kind: kind.into(),
            terminal,
            body: "{}".into(),
        }
    }

    #[test]
    fn the_terminal_result_is_printed_last_whatever_order_parts_finished_in() {
        let mut run = LocalRun {
            messages: vec![
                msg("progress-1", false),
                msg("scan.result", true),
                msg("progress-2", false),
            ],
            stopped: None,
            interrupted: false,
        };
        run.terminal_last();
        let order: Vec<&str> = run.messages.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(order, ["progress-1", "progress-2", "scan.result"]);
    }
}
