//! The scan flow: a coordinator that splits a scan request into parts, and a part runner that
//! streams one part's records through the detectors and adds the counts to the scan's state
//! in Redis; the part that completes the scan assembles the report.
//!
//! Sits above the Salesforce client and the Redis store, below `jobs` (which publishes parts,
//! progress and the result). Key choices:
//! - Parts are one object, or an Id range of a large object (boundaries every
//!   [`ScanOptions::slice_records`] Ids, read by the coordinator from an Id-only query), so
//!   handlers stay far below the broker's consumer timeout and replicas share the work.
//! - A part reads page by page and keeps only per-field counts; it commits once, at the end,
//!   through [`ScanState::commit_part`], which counts a part exactly once. A worker killed
//!   mid-part has committed nothing; the redelivered part runs from scratch.
//! - A part whose object Salesforce refuses permanently (a field or object that vanished) is
//!   committed with its error, so the scan still ends (`partial`).

use super::aggregate::{FieldStats, verdict};
use super::detect::Detector;
use super::history;
use super::profile::{ContentKind, FieldProfile};
use super::table::TableClassifier;
use super::types::DataType;
use crate::message::{
    ConfidenceLevel, DataTypeVerdict, ErrorInfo, FieldVerdict, ObjectReport, Progress,
    ResultStatus, ScanPart, ScanRequest, ScanResult, VERSION,
};
use crate::salesforce::describe::SObjectDescribe;
use crate::salesforce::{ErrorKind, SalesforceClient, SfError, soql_literal};
use crate::store::scan_state::{SEP, ScanMeta, ScanState, part_id};
use crate::store::{Store, StoreError};
use std::collections::HashMap;

/// Tunables of the split.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Records per part for large objects.
    pub slice_records: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            slice_records: 50_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Salesforce(#[from] SfError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A part arrived for a scan whose plan is not in Redis (expired, or never planned).
    #[error("scan {0} has no plan")]
    NotPlanned(String),
    /// A part its scan's plan did not make (unknown id, object or connection).
    #[error("part {part_id} is not in scan {scan_id}'s plan")]
    UnknownPart { scan_id: String, part_id: String },
}

impl ScanError {
    /// How jobs should treat it: Redis failures are transient; Salesforce errors carry their
    /// own classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ScanError::Salesforce(e) => e.kind(),
            ScanError::Store(_) => ErrorKind::Transient,
            ScanError::NotPlanned(_) | ScanError::UnknownPart { .. } => ErrorKind::Permanent,
        }
    }

    /// Stable code for results and dead-letter headers, the same vocabulary as DSR errors:
    /// Redis trouble is `STORE_UNAVAILABLE` (whether the scan state or the client's token
    /// store failed), which the per-org breaker does not count against the org's Salesforce.
    pub fn code(&self) -> String {
        match self {
            ScanError::Salesforce(e) => e.code(),
            ScanError::Store(_) => "STORE_UNAVAILABLE".into(),
            ScanError::NotPlanned(_) => "scan_not_planned".into(),
            ScanError::UnknownPart { .. } => "scan_part_unknown".into(),
        }
    }
}

/// What a part produced: progress to publish, and the report when it completed the scan.
#[derive(Debug, Clone)]
pub struct PartOutcome {
    pub progress: Option<Progress>,
    pub report: Option<ScanResult>,
}

/// The fields a scan reads: everything classifiable (text, email, phone, url, picklists,
/// dates, hinted coordinates); ids, references, numbers, booleans and binary are skipped, and
/// compound fields are read through their components.
pub fn scan_profiles(d: &SObjectDescribe) -> Vec<FieldProfile> {
    let person_accounts = d.field("IsPersonAccount").is_some();
    d.selectable_fields()
        .filter(|f| f.kind != "base64")
        .map(|f| FieldProfile::from_describe(&d.name, f).person_accounts(&d.name, person_accounts))
        .filter(|p| p.kind != ContentKind::Skip)
        .collect()
}

/// The object a field history object tracks, when `d` is one (`Field` and anyType
/// `OldValue`/`NewValue`): its rows' values are read with their `Field` as the name hint.
pub fn history_parent(d: &SObjectDescribe) -> Option<String> {
    d.field(history::KEY)?;
    let any_type = |n: &str| d.field(n).is_some_and(|f| f.kind == "anyType");
    if !history::VALUES.iter().any(|n| any_type(n)) {
        return None;
    }
    history::parent_object(&d.name)
}

fn part_soql(part: &ScanPart, profiles: &[FieldProfile]) -> String {
    let mut fields: Vec<&str> = vec!["Id"];
    fields.extend(
        profiles
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| *n != "Id"),
    );
    let mut q = format!("SELECT {} FROM {}", fields.join(", "), part.object);
    let mut conds = Vec::new();
    if let Some(a) = &part.id_after {
        conds.push(format!("Id > {}", soql_literal(a)));
    }
    if let Some(b) = &part.id_upto {
        conds.push(format!("Id <= {}", soql_literal(b)));
    }
    if !conds.is_empty() {
        q.push_str(" WHERE ");
        q.push_str(&conds.join(" AND "));
    }
    if part.id_after.is_some() || part.id_upto.is_some() {
        q.push_str(" ORDER BY Id");
    }
    if let Some(n) = part.max_records {
        q.push_str(&format!(" LIMIT {n}"));
    }
    q
}

/// Splits a scan request into parts and records the plan. Call [`assemble`] directly when
/// it returns no parts (an org with nothing to scan).
pub async fn coordinate(
    client: &SalesforceClient,
    store: &Store,
    req: &ScanRequest,
    reply_to: Option<String>,
) -> Result<Vec<ScanPart>, ScanError> {
    coordinate_with(client, store, req, reply_to, &ScanOptions::default()).await
}

pub async fn coordinate_with(
    client: &SalesforceClient,
    store: &Store,
    req: &ScanRequest,
    reply_to: Option<String>,
    opts: &ScanOptions,
) -> Result<Vec<ScanPart>, ScanError> {
    let state = ScanState::new(store.clone());
    if let Some(meta) = state.meta(&req.scan_id).await? {
        // A redelivered scan request: the plan stands; rebuild its parts (idempotent ids).
        return Ok(rebuild_parts(client, req, &meta, reply_to, opts).await?);
    }
    let calls_before = client.api_calls();
    let global = client.describe_global().await?;
    let queryable: Vec<&str> = global
        .iter()
        .filter(|o| o.queryable)
        .map(|o| o.name.as_str())
        .collect();
    let (wanted, missing): (Vec<String>, Vec<String>) = match &req.objects {
        Some(list) => list
            .iter()
            .cloned()
            .partition(|o| queryable.contains(&o.as_str())),
        None => (
            queryable.iter().map(|s| s.to_string()).collect(),
            Vec::new(),
        ),
    };
    let mut parts = Vec::new();
    let mut objects = Vec::new();
    for object in wanted {
        let d = client.describe(&object).await?;
        if scan_profiles(&d).is_empty() {
            continue;
        }
        let ranges = slices(client, &object, req.max_records_per_object, opts).await?;
        objects.push((object.clone(), ranges.len() as u64));
        for (i, (after, upto)) in ranges.into_iter().enumerate() {
            parts.push(ScanPart {
                kind: "scan.part".into(),
                version: VERSION,
                scan_id: req.scan_id.clone(),
                part_id: part_id(&req.scan_id, &object, i as u64),
                connection_id: req.connection_id.clone(),
                object: object.clone(),
                id_after: after,
                id_upto: upto,
                max_records: req.max_records_per_object,
                confidence: req.confidence,
                reply_to: reply_to.clone(),
            });
        }
    }
    let meta = ScanMeta {
        scan_id: req.scan_id.clone(),
        connection_id: req.connection_id.clone(),
        confidence: req.confidence,
        reply_to,
        started_at: crate::message::now(),
        total_parts: parts.len() as u64,
        objects,
        missing,
        plan_api_calls: client.api_calls().saturating_sub(calls_before),
    };
    let kept = state.init(&meta).await?;
    if kept != meta {
        // Another coordinator won the race: use its plan.
        return Ok(rebuild_parts(client, req, &kept, kept.reply_to.clone(), opts).await?);
    }
    Ok(parts)
}

/// Parts of an existing plan (same ids, same ranges when the org has not changed).
async fn rebuild_parts(
    client: &SalesforceClient,
    req: &ScanRequest,
    meta: &ScanMeta,
    reply_to: Option<String>,
    opts: &ScanOptions,
) -> Result<Vec<ScanPart>, SfError> {
    let mut parts = Vec::new();
    for (object, n) in &meta.objects {
        let mut ranges = slices(client, object, req.max_records_per_object, opts).await?;
        ranges.resize(*n as usize, (None, None));
        for (i, (after, upto)) in ranges.into_iter().enumerate() {
            parts.push(ScanPart {
                kind: "scan.part".into(),
                version: VERSION,
                scan_id: req.scan_id.clone(),
                part_id: part_id(&req.scan_id, object, i as u64),
                connection_id: req.connection_id.clone(),
                object: object.clone(),
                id_after: after,
                id_upto: upto,
                max_records: req.max_records_per_object,
                confidence: req.confidence,
                reply_to: reply_to.clone(),
            });
        }
    }
    Ok(parts)
}

type Range = (Option<String>, Option<String>);

/// Id ranges `(after, upto]` covering an object: one when it is small or sampled, else a
/// boundary every `slice_records` Ids (read from an Id-only query, one page at a time).
async fn slices(
    client: &SalesforceClient,
    object: &str,
    sample: Option<u64>,
    opts: &ScanOptions,
) -> Result<Vec<Range>, SfError> {
    if sample.is_some() {
        return Ok(vec![(None, None)]);
    }
    let mut pager = client
        .query(&format!("SELECT Id FROM {object} ORDER BY Id"), false)
        .await?;
    if pager.total_size() <= opts.slice_records {
        return Ok(vec![(None, None)]);
    }
    let mut cuts = Slicer::new(opts.slice_records);
    while let Some(page) = pager.next_page().await? {
        for r in page {
            cuts.push(r.get("Id").and_then(|v| v.as_str()));
        }
    }
    Ok(cuts.ranges())
}

/// Id boundaries every `every` records, turned into ranges `(after, upto]` with an open last
/// one.
struct Slicer {
    every: u64,
    seen: u64,
    bounds: Vec<String>,
    /// Whether the last record read was a boundary.
    last_was_bound: bool,
}

impl Slicer {
    fn new(every: u64) -> Self {
        Self {
            every: every.max(1),
            seen: 0,
            bounds: Vec::new(),
            last_was_bound: false,
        }
    }

    fn push(&mut self, id: Option<&str>) {
        self.seen += 1;
        self.last_was_bound = false;
        if self.seen.is_multiple_of(self.every)
            && let Some(id) = id
        {
            self.bounds.push(id.to_string());
            self.last_was_bound = true;
        }
    }

    fn ranges(mut self) -> Vec<Range> {
        // A boundary on the very last record would leave nothing for the open range after
        // it (an empty part): that record ends the open range instead.
        if self.last_was_bound {
            self.bounds.pop();
        }
        let mut ranges = Vec::with_capacity(self.bounds.len() + 1);
        let mut after: Option<String> = None;
        for b in self.bounds {
            ranges.push((after.take(), Some(b.clone())));
            after = Some(b);
        }
        ranges.push((after, None));
        ranges
    }
}

fn progress(scan_id: &str, objects_done: u64, objects_total: u64, records: u64) -> Progress {
    Progress {
        kind: "progress".into(),
        version: VERSION,
        message_id: uuid::Uuid::new_v4().to_string(),
        correlation_id: scan_id.to_string(),
        phase: "scan".into(),
        objects_done,
        objects_total,
        records_done: records,
    }
}

/// Counts as Redis hash fields: `object␟field␟ne`, `…␟h␟type`, `…␟c␟type`.
fn count_fields(object: &str, table: &TableClassifier) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for (name, s) in table.counted() {
        if s.non_empty == 0 {
            continue;
        }
        out.push((format!("{object}{SEP}{name}{SEP}ne"), s.non_empty));
        for &t in DataType::ALL {
            let (h, c) = (s.hits[t.index()], s.cands[t.index()]);
            if h > 0 {
                out.push((format!("{object}{SEP}{name}{SEP}h{SEP}{}", t.name()), h));
            }
            if c > 0 {
                out.push((format!("{object}{SEP}{name}{SEP}c{SEP}{}", t.name()), c));
            }
        }
    }
    out
}

/// The `planned` progress of a scan whose plan is stored: every requested object counts in
/// `objects_total`, and those the org lacks are already done (reported, nothing to scan), as
/// the parts' progress counts them.
pub async fn planned_progress(store: &Store, scan_id: &str) -> Result<Progress, ScanError> {
    let meta = ScanState::new(store.clone())
        .meta(scan_id)
        .await?
        .ok_or_else(|| ScanError::NotPlanned(scan_id.to_string()))?;
    let missing = meta.missing.len() as u64;
    let mut p = progress(scan_id, missing, meta.objects.len() as u64 + missing, 0);
    p.phase = "planned".into();
    Ok(p)
}

/// Runs one part: streams its records through the detectors, commits the counts once, and
/// assembles the report when this part completed the scan.
pub async fn run_part(
    client: &SalesforceClient,
    store: &Store,
    part: &ScanPart,
) -> Result<PartOutcome, ScanError> {
    let state = ScanState::new(store.clone());
    let meta = state
        .meta(&part.scan_id)
        .await?
        .ok_or_else(|| ScanError::NotPlanned(part.scan_id.clone()))?;
    if !meta.has_part(&part.part_id, &part.object, &part.connection_id) {
        return Err(ScanError::UnknownPart {
            scan_id: part.scan_id.clone(),
            part_id: part.part_id.clone(),
        });
    }
    let objects_total = meta.objects.len() as u64 + meta.missing.len() as u64;
    let calls_before = client.api_calls();
    let mut counts = Vec::new();
    let mut records = 0u64;
    let mut error: Option<String> = None;
    if !state.is_done(&part.scan_id, &part.part_id).await? {
        match scan_records(client, part).await {
            Ok(table) => {
                records = table.records();
                counts = count_fields(&part.object, &table);
                // Records read, also when a redelivery reads them again (work done).
                metrics::counter!(crate::ops::metrics::SCAN_RECORDS_SCANNED).increment(records);
            }
            Err(e) if e.kind() == ErrorKind::Permanent => {
                let info = ErrorInfo {
                    code: ScanError::Salesforce(e).code(),
                    message: "Salesforce refused the object's query".into(),
                };
                error = serde_json::to_string(&info).ok();
            }
            Err(e) => return Err(e.into()),
        }
    }
    let api_calls = client.api_calls().saturating_sub(calls_before);
    let commit = state
        .commit_part(
            &part.scan_id,
            &part.part_id,
            &part.object,
            &counts,
            records,
            api_calls,
            error.as_deref(),
        )
        .await?;
    tracing::info!(
        scan_id = %part.scan_id,
        part_id = %part.part_id,
        records,
        newly = commit.newly,
        parts_done = commit.parts_done,
        total_parts = meta.total_parts,
        "scan part committed"
    );
    let report = if commit.parts_done >= meta.total_parts {
        Some(assemble(client, store, &part.scan_id).await?)
    } else {
        None
    };
    Ok(PartOutcome {
        progress: Some(progress(
            &part.scan_id,
            // Objects the org lacks were settled when the scan was planned.
            commit.objects_done + meta.missing.len() as u64,
            objects_total,
            commit.records_done,
        )),
        report,
    })
}

async fn scan_records(
    client: &SalesforceClient,
    part: &ScanPart,
) -> Result<TableClassifier, SfError> {
    let d = client.describe(&part.object).await?;
    let profiles = scan_profiles(&d);
    let mut table = TableClassifier::new(Detector::default(), profiles);
    if let Some(parent) = history_parent(&d) {
        table = table.history_of(&parent);
    }
    let soql = part_soql(part, table.profiles());
    let mut pager = client.query(&soql, false).await?;
    while let Some(page) = pager.next_page().await? {
        for record in &page {
            if part.max_records.is_some_and(|m| table.records() >= m) {
                return Ok(table);
            }
            table.add_json(record);
        }
    }
    Ok(table)
}

/// Stats of one object's fields from the summed counts.
fn object_stats(object: &str, counts: &HashMap<String, u64>) -> HashMap<String, FieldStats> {
    let mut out: HashMap<String, FieldStats> = HashMap::new();
    let prefix = format!("{object}{SEP}");
    for (k, &n) in counts {
        let Some(rest) = k.strip_prefix(&prefix) else {
            continue;
        };
        let parts: Vec<&str> = rest.split(SEP).collect();
        match parts.as_slice() {
            [field, "ne"] => out.entry(field.to_string()).or_default().non_empty = n,
            [field, kind, t] => {
                if let Some(t) = DataType::from_name(t) {
                    let s = out.entry(field.to_string()).or_default();
                    if *kind == "h" {
                        s.hits[t.index()] = n;
                    } else {
                        s.cands[t.index()] = n;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Every scanned field's verdict from its summed counts; a history object's value columns
/// join their buckets' verdicts.
fn object_verdicts(
    d: &SObjectDescribe,
    stats: &HashMap<String, FieldStats>,
    threshold: ConfidenceLevel,
) -> Vec<FieldVerdict> {
    let parent = history_parent(d);
    scan_profiles(d)
        .iter()
        .map(|p| {
            let s = stats.get(&p.name).cloned().unwrap_or_default();
            let Some(parent) = parent.as_deref() else {
                return verdict(p, &s, threshold);
            };
            let mut buckets: Vec<(FieldProfile, FieldStats)> = stats
                .iter()
                .filter_map(|(name, bs)| {
                    let (col, tracked) = history::split_bucket(name)?;
                    (col == p.name).then_some(())?;
                    Some((history::bucket_profile(p, parent, tracked)?, bs.clone()))
                })
                .collect();
            // Counts come from a map: a fixed order keeps ties between buckets stable.
            buckets.sort_by(|a, b| a.0.name.cmp(&b.0.name));
            history::verdict(p, &s, &buckets, threshold)
        })
        .collect()
}

/// A compound field (address, location) reports the union of its components' types.
fn compound_verdicts(d: &SObjectDescribe, fields: &[FieldVerdict]) -> Vec<FieldVerdict> {
    d.fields
        .iter()
        .filter(|f| f.is_compound())
        .filter_map(|c| {
            let components: Vec<&FieldVerdict> = fields
                .iter()
                .filter(|v| {
                    d.field(&v.field)
                        .and_then(|f| f.compound_field_name.as_deref())
                        .is_some_and(|n| n == c.name)
                })
                .collect();
            if components.is_empty() {
                return None;
            }
            let mut merged: Vec<DataTypeVerdict> = Vec::new();
            for v in components.iter().flat_map(|c| &c.data_types) {
                match merged.iter_mut().find(|m| m.data_type == v.data_type) {
                    Some(m) if m.confidence < v.confidence => *m = v.clone(),
                    Some(_) => {}
                    None => merged.push(v.clone()),
                }
            }
            merged.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
            Some(FieldVerdict {
                field: c.name.clone(),
                non_empty: components.iter().map(|c| c.non_empty).max().unwrap_or(0),
                data_types: merged,
            })
        })
        .collect()
}

/// Builds the scan's report from the counts in Redis (any worker can; the result is the same).
/// Also records the connection's personal fields for the DSR anonymizer.
pub async fn assemble(
    client: &SalesforceClient,
    store: &Store,
    scan_id: &str,
) -> Result<ScanResult, ScanError> {
    let state = ScanState::new(store.clone());
    let meta = state
        .meta(scan_id)
        .await?
        .ok_or_else(|| ScanError::NotPlanned(scan_id.to_string()))?;
    let totals = state.totals(scan_id).await?;
    let mut objects = Vec::new();
    let mut personal = Vec::new();
    for (object, _) in &meta.objects {
        let d = client.describe(object).await?;
        let stats = object_stats(object, &totals.counts);
        let mut fields = object_verdicts(&d, &stats, meta.confidence);
        fields.extend(compound_verdicts(&d, &fields));
        for f in &fields {
            if f.data_types
                .iter()
                .any(|t| t.level >= ConfidenceLevel::Medium)
            {
                personal.push(format!("{object}.{}", f.field));
            }
        }
        let error = totals
            .errors
            .get(object)
            .and_then(|e| serde_json::from_str::<ErrorInfo>(e).ok());
        objects.push(ObjectReport {
            object: object.clone(),
            records_scanned: totals
                .counts
                .get(&format!("{object}{SEP}_records"))
                .copied()
                .unwrap_or(0),
            fields,
            error,
        });
    }
    for m in &meta.missing {
        objects.push(ObjectReport {
            object: m.clone(),
            records_scanned: 0,
            fields: Vec::new(),
            error: Some(ErrorInfo {
                code: "INVALID_TYPE".into(),
                message: "object not found or not queryable".into(),
            }),
        });
    }
    state
        .set_personal_fields(&meta.connection_id, &personal)
        .await?;
    let status = if objects.iter().any(|o| o.error.is_some()) {
        ResultStatus::Partial
    } else {
        ResultStatus::Completed
    };
    Ok(ScanResult {
        kind: "scan.result".into(),
        version: VERSION,
        message_id: uuid::Uuid::new_v4().to_string(),
        correlation_id: scan_id.to_string(),
        scan_id: scan_id.to_string(),
        connection_id: meta.connection_id.clone(),
        status,
        confidence: meta.confidence,
        objects,
        error: None,
        api_calls: totals.api_calls + meta.plan_api_calls,
        records_scanned: totals.records,
        started_at: meta.started_at.clone(),
        finished_at: crate::message::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::describe::FieldDescribe;

    fn field(name: &str, kind: &str, compound: Option<&str>) -> FieldDescribe {
        serde_json::from_value(serde_json::json!({
            "name": name, "type": kind, "length": 255, "compoundFieldName": compound
        }))
        .unwrap()
    }

    fn contact() -> SObjectDescribe {
        serde_json::from_value(serde_json::json!({"name": "Contact"}))
            .map(|mut d: SObjectDescribe| {
                d.fields = vec![
                    field("Id", "id", None),
                    field("Email", "email", None),
                    field("MailingStreet", "textarea", Some("MailingAddress")),
                    field("MailingCity", "string", Some("MailingAddress")),
                    field("MailingAddress", "address", None),
                    field("Photo", "base64", None),
                    field("IsActive", "boolean", None),
                ];
                d
            })
            .unwrap()
    }

    #[test]
    fn redis_failures_in_a_scan_are_store_unavailable_and_transient() {
        // The per-org breaker skips exactly this code: a Redis hiccup is not the org failing.
        let redis =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        for e in [
            ScanError::Store(StoreError::Redis(redis)),
            ScanError::Store(StoreError::Corrupt("meta".into())),
            ScanError::Salesforce(SfError::Store("token store down".into())),
        ] {
            assert_eq!(e.code(), "STORE_UNAVAILABLE", "{e}");
            assert_eq!(e.kind(), ErrorKind::Transient, "{e}");
        }
        // Salesforce's own failures keep their codes.
        let api = ScanError::Salesforce(SfError::Api {
            status: 400,
            code: "INVALID_FIELD".into(),
            message: "No such column".into(),
            retry_after: None,
        });
        assert_eq!(api.code(), "INVALID_FIELD");
        let transport = ScanError::Salesforce(SfError::Transport("reset".into()));
        assert_eq!(transport.code(), "TRANSPORT_ERROR");
    }

    #[test]
    fn profiles_skip_ids_binary_and_compounds() {
        let names: Vec<String> = scan_profiles(&contact())
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["Email", "MailingStreet", "MailingCity"]);
    }

    #[test]
    fn person_accounts_make_account_name_partly_a_person_name() {
        let account = |person: bool| -> SObjectDescribe {
            let mut d: SObjectDescribe =
                serde_json::from_value(serde_json::json!({"name": "Account"})).unwrap();
            d.fields = vec![field("Name", "string", None)];
            if person {
                d.fields.push(field("IsPersonAccount", "boolean", None));
            }
            d
        };
        assert!(scan_profiles(&account(true))[0].partly_person_name);
        assert!(!scan_profiles(&account(false))[0].partly_person_name);
        assert!(!scan_profiles(&contact())[0].partly_person_name);
    }

    #[test]
    fn slice_soql_has_bounds_order_and_limit() {
        let part: ScanPart = serde_json::from_value(serde_json::json!({
            "type": "scan.part", "version": 1, "scan_id": "s", "part_id": "s:Contact:1",
            "connection_id": "c", "object": "Contact", "id_after": "003A", "id_upto": "003B",
            "max_records": 10, "confidence": "medium"
        }))
        .unwrap();
        let q = part_soql(&part, &scan_profiles(&contact()));
        assert_eq!(
            q,
            "SELECT Id, Email, MailingStreet, MailingCity FROM Contact WHERE Id > '003A' AND Id <= '003B' ORDER BY Id LIMIT 10"
        );
    }

    fn slice(ids: u64, every: u64) -> Vec<Range> {
        let mut cuts = Slicer::new(every);
        for i in 1..=ids {
            cuts.push(Some(&format!("{i:03}")));
        }
        cuts.ranges()
    }

    fn ends(ranges: &[Range]) -> Vec<(Option<&str>, Option<&str>)> {
        ranges
            .iter()
            .map(|(a, b)| (a.as_deref(), b.as_deref()))
            .collect()
    }

    #[test]
    fn slices_cover_every_id_once_without_an_empty_last_part() {
        // An exact multiple: three full parts, no fourth empty one after the last Id.
        assert_eq!(
            ends(&slice(30, 10)),
            [
                (None, Some("010")),
                (Some("010"), Some("020")),
                (Some("020"), None)
            ]
        );
        // One more: the open last part holds the one extra Id.
        assert_eq!(
            ends(&slice(31, 10)),
            [
                (None, Some("010")),
                (Some("010"), Some("020")),
                (Some("020"), Some("030")),
                (Some("030"), None)
            ]
        );
        // One less: the last part is short.
        assert_eq!(
            ends(&slice(29, 10)),
            [
                (None, Some("010")),
                (Some("010"), Some("020")),
                (Some("020"), None)
            ]
        );
        assert_eq!(ends(&slice(10, 10)), [(None, None)]);
        assert_eq!(ends(&slice(0, 10)), [(None, None)]);
    }

    #[test]
    fn counts_round_trip_into_stats_and_compounds_roll_up() {
        let d = contact();
        let mut table = TableClassifier::new(Detector::default(), scan_profiles(&d));
        for (e, s, c) in [
            ("a@example.com", "1 Main Street", "Springfield"),
            ("b@example.com", "22 Baker St", "London"),
        ] {
            table.add_record(&[Some(e), Some(s), Some(c)]);
        }
        let counts: HashMap<String, u64> = count_fields("Contact", &table).into_iter().collect();
        let stats = object_stats("Contact", &counts);
        assert_eq!(stats["Email"], table.stats()[0]);
        let fields: Vec<FieldVerdict> = scan_profiles(&d)
            .iter()
            .map(|p| verdict(p, &stats[&p.name], ConfidenceLevel::Medium))
            .collect();
        let compound = compound_verdicts(&d, &fields);
        assert_eq!(compound.len(), 1);
        let mut types: Vec<&str> = compound[0]
            .data_types
            .iter()
            .map(|t| t.data_type.as_str())
            .collect();
        types.sort();
        assert_eq!(compound[0].field, "MailingAddress");
        assert_eq!(types, ["city", "street_address"]);
    }

    fn history(name: &str) -> SObjectDescribe {
        serde_json::from_value(serde_json::json!({"name": name}))
            .map(|mut d: SObjectDescribe| {
                d.fields = vec![
                    field("Id", "id", None),
                    field("ContactId", "reference", None),
                    field("Field", "picklist", None),
                    field("OldValue", "anyType", None),
                    field("NewValue", "anyType", None),
                ];
                d
            })
            .unwrap()
    }

    #[test]
    fn a_history_objects_buckets_round_trip_through_the_counts() {
        let d = history("ContactHistory");
        assert_eq!(history_parent(&d).as_deref(), Some("Contact"));
        assert_eq!(history_parent(&contact()), None);
        let mut table =
            TableClassifier::new(Detector::default(), scan_profiles(&d)).history_of("Contact");
        let rows = [
            ("LastName", "Okafor", "Brennan"),
            ("MailingCity", "Lyon", "Porto"),
            ("Status", "Working", "Closed"),
            ("Status", "Open", "Working"),
        ];
        for i in 0..100 {
            let (f, a, b) = rows[i % rows.len()];
            table.add_record(&[Some(f), Some(a), Some(b)]);
        }
        let counts: HashMap<String, u64> =
            count_fields("ContactHistory", &table).into_iter().collect();
        assert!(counts.contains_key(&format!("ContactHistory{SEP}OldValue/LastName{SEP}ne")));
        // No bucket for a tracked field that hints at nothing.
        assert!(!counts.keys().any(|k| k.contains("/Status")));
        let stats = object_stats("ContactHistory", &counts);
        let fields = object_verdicts(&d, &stats, ConfidenceLevel::Medium);
        assert_eq!(fields, table.verdicts(ConfidenceLevel::Medium));
        let old = fields.iter().find(|f| f.field == "OldValue").unwrap();
        let mut types: Vec<&str> = old
            .data_types
            .iter()
            .map(|t| t.data_type.as_str())
            .collect();
        types.sort();
        assert_eq!(types, ["city", "person_name"]);
    }
}
