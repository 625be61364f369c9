//! A DSR job: run `dsr::execute` with the connection's client and build what gets published:
//! the export chunks (when the export is larger than the chunk limit) and the terminal
//! `dsr.result` listing them with their checksums.

use super::JobEnd;
use super::export;
use super::outcome::{Destination, OutMessage};
use crate::dsr::{self, DsrContext, DsrErrorKind};
use crate::message::{DsrRequest, DsrResult, Export, ExportChunk, ResultStatus, VERSION};
use crate::salesforce::SalesforceClient;
use crate::store::checkpoint::Checkpoints;

pub struct DsrJob<'a> {
    pub client: &'a SalesforceClient,
    pub request: &'a DsrRequest,
    pub connection: &'a crate::config::Connection,
    pub checkpoints: Option<Checkpoints>,
    /// Where the latest scan of the connection left the fields it found personal.
    pub store: Option<&'a crate::store::Store>,
    pub chunk_bytes: usize,
    pub started_at: String,
}

/// Maps a DSR that could not run onto the job outcome classes.
pub(super) fn failure(e: &dsr::DsrError) -> JobEnd {
    let code = e.code();
    let message = e.to_string();
    match e.kind() {
        DsrErrorKind::Transient => JobEnd::Transient {
            code,
            message,
            cause: super::TransientCause::of_dsr(e),
        },
        DsrErrorKind::Operator => JobEnd::Operator { code, message },
        DsrErrorKind::Permanent if super::operator_fixable(&code) => {
            JobEnd::Operator { code, message }
        }
        DsrErrorKind::Permanent => JobEnd::Failed { code, message },
        DsrErrorKind::Rejected => JobEnd::Rejected { code, message },
    }
}

impl DsrJob<'_> {
    pub async fn run(self) -> JobEnd {
        let mut ctx = DsrContext::new(self.connection.clone());
        ctx.checkpoints = self.checkpoints.clone();
        // Anonymize also redacts what the latest classification scan found personal (a card
        // number in a custom field the standard list does not know).
        if self.request.action == crate::message::DsrAction::Anonymize
            && let Some(store) = self.store
        {
            match crate::store::scan_state::latest_personal_fields(store, &self.connection.id).await
            {
                Ok(fields) => ctx.classified_fields = fields,
                Err(e) => {
                    return JobEnd::Transient {
                        code: "STORE_UNAVAILABLE".into(),
                        message: format!("cannot read the latest scan's personal fields: {e}"),
                        cause: super::TransientCause::Store,
                    };
                }
            }
        }
        let report = match dsr::execute(self.client, self.request, &ctx).await {
            Ok(r) => r,
            Err(e) => return failure(&e),
        };
        match self.messages(report) {
            Ok(m) => JobEnd::Finished(m),
            Err(e) => JobEnd::Failed {
                code: "internal_error".into(),
                message: format!("could not serialise the result: {e}"),
            },
        }
    }

    fn messages(&self, report: dsr::DsrReport) -> Result<Vec<OutMessage>, serde_json::Error> {
        let req = self.request;
        let mut out = Vec::new();
        let record_count = u32::try_from(report.exported.len()).unwrap_or(u32::MAX);
        let export = if req.action != crate::message::DsrAction::Copy {
            None
        } else if export::json_size(&report.exported) <= self.chunk_bytes {
            Some(Export {
                record_count,
                records: report.exported,
                chunks: Vec::new(),
            })
        } else {
            let mut refs = Vec::new();
            for (i, chunk) in export::split(report.exported, self.chunk_bytes)?
                .into_iter()
                .enumerate()
            {
                let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
                let message_id = uuid::Uuid::new_v4().to_string();
                refs.push(export::chunk_ref(number, &message_id, &chunk));
                out.push(OutMessage::new(
                    Destination::Reply,
                    &message_id,
                    &req.request_id,
                    "dsr.export_chunk",
                    false,
                    &ExportChunk {
                        kind: "dsr.export_chunk".into(),
                        version: VERSION,
                        message_id: message_id.clone(),
                        correlation_id: req.request_id.clone(),
                        request_id: req.request_id.clone(),
                        chunk: number,
                        records: chunk.records,
                    },
                )?);
            }
            Some(Export {
                record_count,
                records: Vec::new(),
                chunks: refs,
            })
        };
        let message_id = uuid::Uuid::new_v4().to_string();
        let status = match report.status {
            ResultStatus::Partial => ResultStatus::Partial,
            _ => ResultStatus::Completed,
        };
        let result = DsrResult {
            kind: "dsr.result".into(),
            version: VERSION,
            message_id: message_id.clone(),
            correlation_id: req.request_id.clone(),
            request_id: req.request_id.clone(),
            connection_id: req.connection_id.clone(),
            action: Some(req.action),
            status,
            dry_run: req.options.dry_run,
            records: report.records,
            export,
            verification: report.verification,
            plan: report.plan,
            error: None,
            api_calls: report.api_calls.max(self.client.api_calls()),
            started_at: self.started_at.clone(),
            finished_at: crate::message::now(),
        };
        out.push(OutMessage::new(
            Destination::Reply,
            &message_id,
            &req.request_id,
            "dsr.result",
            true,
            &result,
        )?);
        Ok(out)
    }
}
