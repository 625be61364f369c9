//! Scan jobs: the coordinator turns a `scan.request` into part messages (published on
//! `scan.part` so every replica shares the work) plus a `progress` message; each part runs on
//! whichever worker takes it and publishes progress, and the part that completes the scan
//! publishes the terminal `scan.result`. Parts aggregate in Redis (`classify`, `store::scan_state`).

use super::JobEnd;
use super::outcome::{Destination, OutMessage};
use crate::classify::scan::{self, ScanError};
use crate::message::{ScanPart, ScanRequest};
use crate::salesforce::{ErrorKind, SalesforceClient};
use crate::store::Store;

/// Maps a scan failure onto the job outcome classes.
pub(super) fn failure(e: ScanError) -> JobEnd {
    let code = e.code();
    let message = e.to_string();
    // A part no plan knows is not a job to answer or count as done: dead letter, with why.
    if matches!(e, ScanError::NotPlanned(_) | ScanError::UnknownPart { .. }) {
        return JobEnd::Rejected { code, message };
    }
    match e.kind() {
        ErrorKind::Transient | ErrorKind::Auth => JobEnd::Transient {
            code,
            message,
            cause: super::TransientCause::of_scan(&e),
        },
        ErrorKind::CredentialRevoked | ErrorKind::DailyLimit => JobEnd::Operator { code, message },
        ErrorKind::Permanent if super::operator_fixable(&code) => {
            JobEnd::Operator { code, message }
        }
        ErrorKind::Permanent => JobEnd::Failed { code, message },
    }
}

fn serialised(r: Result<Vec<OutMessage>, serde_json::Error>) -> JobEnd {
    match r {
        Ok(m) => JobEnd::Finished(m),
        Err(e) => JobEnd::Failed {
            code: "internal_error".into(),
            message: format!("could not serialise a message: {e}"),
        },
    }
}

/// Where a scan's progress and result go: the scan request's `reply_to`, else results.
fn reply(reply_to: &Option<String>) -> Destination {
    match reply_to {
        Some(q) => Destination::Queue(q.clone()),
        None => Destination::Reply,
    }
}

/// The coordinator: plans the parts (idempotent: a redelivery plans the same part ids).
pub async fn coordinate(
    client: &SalesforceClient,
    store: &Store,
    req: &ScanRequest,
    reply_to: Option<String>,
) -> JobEnd {
    let parts = match scan::coordinate(client, store, req, reply_to.clone()).await {
        Ok(p) => p,
        Err(e) => return failure(e),
    };
    let dest = reply(&reply_to);
    if parts.is_empty() {
        // Nothing to scan (no objects): the report is complete now.
        return match scan::assemble(client, store, &req.scan_id).await {
            Ok(report) => serialised(
                OutMessage::new(
                    dest,
                    &report.message_id,
                    &req.scan_id,
                    "scan.result",
                    true,
                    &report,
                )
                .map(|m| vec![m]),
            ),
            Err(e) => failure(e),
        };
    }
    let planned = match scan::planned_progress(store, &req.scan_id).await {
        Ok(p) => p,
        Err(e) => return failure(e),
    };
    let build = || -> Result<Vec<OutMessage>, serde_json::Error> {
        let mut out = Vec::with_capacity(parts.len() + 1);
        for p in &parts {
            out.push(OutMessage::new(
                Destination::ScanPart,
                &p.part_id,
                &req.scan_id,
                "scan.part",
                false,
                p,
            )?);
        }
        out.push(OutMessage::new(
            dest.clone(),
            &planned.message_id,
            &req.scan_id,
            "progress",
            false,
            &planned,
        )?);
        Ok(out)
    };
    serialised(build())
}

/// One part: progress, and the terminal report when this part completed the scan.
pub async fn run_part(client: &SalesforceClient, store: &Store, part: &ScanPart) -> JobEnd {
    let outcome = match scan::run_part(client, store, part).await {
        Ok(o) => o,
        Err(e) => return failure(e),
    };
    let dest = reply(&part.reply_to);
    let build = || -> Result<Vec<OutMessage>, serde_json::Error> {
        let mut out = Vec::new();
        if let Some(p) = &outcome.progress {
            out.push(OutMessage::new(
                dest.clone(),
                &p.message_id,
                &part.scan_id,
                "progress",
                false,
                p,
            )?);
        }
        if let Some(r) = &outcome.report {
            out.push(OutMessage::new(
                dest.clone(),
                &r.message_id,
                &part.scan_id,
                "scan.result",
                true,
                r,
            )?);
        }
        Ok(out)
    };
    serialised(build())
}
