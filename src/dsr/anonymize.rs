//! Anonymize requests: redact the personal fields of every matched record and its associated
//! records with values Salesforce accepts, then re-read each record and prove (by digest) that
//! none of the original values remains; report field-history rows that still hold them.
//!
//! [`personal_fields`] and [`plan_record`] are pure: the standard personal fields, every field
//! typed email/phone/url, every component of a name or address compound, the connection's
//! `anonymize_fields` and the fields the latest classification scan marks personal; only
//! updateable, non-compound, non-calculated fields are written (see [`values`](super::values)).
//! [`run`] writes through sObject Collections PATCH (≤ 200 records a call, duplicate rules
//! bypassed by the client's header); a record refused because of some fields is retried without
//! them and those fields are reported.
//!
//! The Individual a matched Contact/Lead points at is anonymized with them when no record outside
//! the subject's uses it; a shared one is left as it is and reported as skipped.
//!
//! A person account's Contact is not written: its person fields are edited through the Account
//! (PersonEmail, FirstName, PersonMobilePhone, …), which Salesforce keeps in step with the
//! Contact. The Contact's plan only holds the digests its re-read is proven against, and its
//! outcome follows the Account's.

use super::associated;
use super::discover;
use super::policy::Policy;
use super::values::{FieldWrite, ValueKind, replacement};
use super::verify::digest;
use super::{
    COLLECTION_CHUNK, DsrContext, DsrError, DsrReport, checkpoint, outcome, overall_status,
};
use crate::message::{DsrRequest, RecordOutcome, RecordOutcomeKind};
use crate::salesforce::history::history_object;
use crate::salesforce::{ErrorKind, FieldDescribe, Record, SObjectDescribe, SalesforceClient};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Personal fields by API name, on any object that has them.
pub const STANDARD_PERSONAL: [&str; 40] = [
    "FirstName",
    "LastName",
    "MiddleName",
    "Suffix",
    "Salutation",
    "Title",
    "Phone",
    "MobilePhone",
    "HomePhone",
    "OtherPhone",
    "AssistantPhone",
    "AssistantName",
    "Fax",
    "Email",
    "Website",
    "Birthdate",
    "Department",
    "Street",
    "City",
    "State",
    "PostalCode",
    "Country",
    "SuppliedName",
    "SuppliedEmail",
    "SuppliedPhone",
    "SuppliedCompany",
    "PersonEmail",
    "PersonMobilePhone",
    "PersonHomePhone",
    "PersonOtherPhone",
    "PersonAssistantPhone",
    "PersonAssistantName",
    "PersonBirthdate",
    "PersonTitle",
    "PersonDepartment",
    "Nickname",
    "CommunityNickname",
    "FromAddress",
    "FromName",
    "ToAddress",
];

/// Rounds of "retry without the refused fields".
const MAX_ROUNDS: usize = 3;

/// A personal field left as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptField {
    pub field: String,
    pub code: String,
}

/// What will be done to one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordPlan {
    pub object: String,
    pub id: String,
    pub writes: Vec<FieldWrite>,
    pub kept: Vec<KeptField>,
    /// The record is left alone: (code, reason).
    #[serde(default)]
    pub skip: Option<(Option<String>, String)>,
    /// Digest of each personal field's original value (never the value).
    pub digests: BTreeMap<String, String>,
    /// A person account's Contact: the Account it is anonymized through (no writes of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// The anonymize plan (dry-run output and checkpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnonymizePlan {
    pub records: Vec<RecordPlan>,
    pub notes: Vec<String>,
}

impl AnonymizePlan {
    /// PATCH calls of the first round (one per object per 200 records).
    pub fn write_calls(&self) -> u64 {
        let mut per_object: BTreeMap<&str, usize> = BTreeMap::new();
        for r in self
            .records
            .iter()
            .filter(|r| r.skip.is_none() && !r.writes.is_empty())
        {
            *per_object.entry(r.object.as_str()).or_default() += 1;
        }
        per_object
            .values()
            .map(|n| n.div_ceil(COLLECTION_CHUNK) as u64)
            .sum()
    }
}

/// Names of compound fields: those other fields name as their `compoundFieldName`, and every
/// address/location field. They are never written.
pub fn compound_names(d: &SObjectDescribe) -> BTreeSet<String> {
    d.fields
        .iter()
        .filter_map(|f| f.compound_field_name.clone())
        .chain(
            d.fields
                .iter()
                .filter(|f| f.is_compound())
                .map(|f| f.name.clone()),
        )
        .collect()
}

/// The personal fields of an object (written or not), given extra `Field` names for it.
pub fn personal_fields<'a>(d: &'a SObjectDescribe, extra: &[String]) -> Vec<&'a FieldDescribe> {
    let compounds = compound_names(d);
    let addressish: BTreeSet<&str> = d
        .fields
        .iter()
        .filter(|f| f.is_compound())
        .map(|f| f.name.as_str())
        .chain(["Name"])
        .collect();
    d.fields
        .iter()
        .filter(|f| !compounds.contains(&f.name) && !f.calculated)
        .filter(|f| !matches!(f.kind.as_str(), "id" | "reference" | "boolean" | "base64"))
        .filter(|f| {
            // Case-insensitive: Individual spells it `BirthDate`, Contact `Birthdate`.
            STANDARD_PERSONAL
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&f.name))
                || matches!(f.kind.as_str(), "email" | "phone" | "url")
                || f.compound_field_name
                    .as_deref()
                    .is_some_and(|c| addressish.contains(c))
                || extra.iter().any(|e| e.eq_ignore_ascii_case(&f.name))
        })
        .collect()
}

/// Extra field names for `object` from `Object.Field` entries.
pub fn extra_for(object: &str, entries: &[String]) -> Vec<String> {
    entries
        .iter()
        .filter_map(|e| e.split_once('.'))
        .filter(|(o, _)| o.eq_ignore_ascii_case(object))
        .map(|(_, f)| f.to_string())
        .collect()
}

/// Plans one record from its describe and current values. `subject`: a matched record (its
/// non-editable personal fields are reported); associated records only get their writable
/// fields redacted (read-only ones mirror the subject's record, e.g. CampaignMember.Email).
pub fn plan_record(
    d: &SObjectDescribe,
    record: &Record,
    extra: &[String],
    subject: bool,
) -> RecordPlan {
    let id = super::record_id(record).unwrap_or_default().to_string();
    let mut plan = RecordPlan {
        object: d.name.clone(),
        id: id.clone(),
        writes: Vec::new(),
        kept: Vec::new(),
        skip: None,
        digests: BTreeMap::new(),
        via: None,
    };
    for f in personal_fields(d, extra) {
        if let Some(h) = record.get(&f.name).and_then(digest) {
            plan.digests.insert(f.name.clone(), h);
        }
    }
    if let Some(account) = person_account_of(d, record) {
        plan.via = Some(account.to_string());
        return plan;
    }
    if d.name == "User" {
        plan.skip = Some((
            Some(super::USER_KEPT.into()),
            super::USER_KEPT_REASON.into(),
        ));
        return plan;
    }
    if record.get("IsConverted").and_then(|v| v.as_bool()) == Some(true) {
        plan.skip = Some((
            Some("CANNOT_UPDATE_CONVERTED_LEAD".into()),
            "Salesforce refuses updates to a converted Lead, so its values stay; a delete \
             request removes it (the Contact it was converted to is handled on its own)"
                .into(),
        ));
        return plan;
    }
    if !d.updateable {
        plan.skip = Some((
            Some("OBJECT_NOT_UPDATEABLE".into()),
            "the integration user cannot edit this object".into(),
        ));
        return plan;
    }
    for f in personal_fields(d, extra) {
        let current = record
            .get(&f.name)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        // Required fields must hold something; others only change when they hold something.
        if digest(&current).is_none() {
            continue;
        }
        if !f.updateable {
            if subject {
                plan.kept.push(KeptField {
                    field: f.name.clone(),
                    code: "FIELD_NOT_UPDATEABLE".into(),
                });
            }
            continue;
        }
        // Account has a LastName only as a person account, which Salesforce keeps required.
        let w = if d.name == "Account" && f.name == "LastName" {
            Some(super::values::placeholder_text(f))
        } else {
            replacement(f, &id)
        };
        match w {
            Some(w) if w.value == current => {}
            Some(w) => plan.writes.push(w),
            None => plan.kept.push(KeptField {
                field: f.name.clone(),
                code: "NO_SAFE_PLACEHOLDER".into(),
            }),
        }
    }
    plan
}

/// The Account of a person account's Contact (`IsPersonAccount` and `AccountId` as read).
pub fn person_account_of<'r>(d: &SObjectDescribe, record: &'r Record) -> Option<&'r str> {
    if d.name != "Contact" || record.get("IsPersonAccount").and_then(|v| v.as_bool()) != Some(true)
    {
        return None;
    }
    record.get("AccountId").and_then(|v| v.as_str())
}

/// The plans of one object's records, and the Individuals the subject's records among them
/// link to (read in the same call).
struct Planned {
    records: Vec<RecordPlan>,
    individuals: Vec<String>,
}

/// Reads the records and plans each one.
async fn plan_object(
    client: &SalesforceClient,
    object: &str,
    ids: &[String],
    extra: &[String],
    subject: bool,
) -> Result<Planned, DsrError> {
    let d = client.describe(object).await?;
    let mut fields: Vec<String> = personal_fields(&d, extra)
        .iter()
        .map(|f| f.name.clone())
        .collect();
    if d.field("IsConverted").is_some() {
        fields.push("IsConverted".into());
    }
    // Read in the same call: whether a Contact is a person account's, and whose.
    if d.name == "Contact" && d.field("IsPersonAccount").is_some() {
        fields.extend(["IsPersonAccount".into(), "AccountId".into()]);
    }
    // And the Individual behind the subject's Contacts and Leads.
    let links = subject
        && associated::INDIVIDUAL_PARENTS.contains(&d.name.as_str())
        && d.field("IndividualId").is_some();
    if links {
        fields.push("IndividualId".into());
    }
    // Collections retrieve returns only the fields asked for.
    fields.push("Id".into());
    if fields.len() == 1 {
        let records = ids
            .iter()
            .map(|id| RecordPlan {
                object: object.to_string(),
                id: id.clone(),
                writes: vec![],
                kept: vec![],
                skip: None,
                digests: BTreeMap::new(),
                via: None,
            })
            .collect();
        return Ok(Planned {
            records,
            individuals: vec![],
        });
    }
    let rows = client.retrieve(object, ids, &fields).await?;
    let mut individuals: Vec<String> = Vec::new();
    for ind in rows
        .iter()
        .filter(|_| links)
        .filter_map(|r| r.get("IndividualId").and_then(|v| v.as_str()))
    {
        if !individuals.iter().any(|x| x == ind) {
            individuals.push(ind.to_string());
        }
    }
    let records = rows
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| plan_record(&d, r, extra, subject))
        .collect();
    Ok(Planned {
        records,
        individuals,
    })
}

/// Discovers the subject's records and their associated records and plans every one.
pub async fn build_plan(
    client: &SalesforceClient,
    request: &DsrRequest,
    ctx: &DsrContext,
    policy: &Policy,
) -> Result<AnonymizePlan, DsrError> {
    let discovery =
        discover::discover(client, &request.subject.emails, &request.options.objects).await?;
    let extras: Vec<String> = ctx
        .connection
        .anonymize_fields
        .iter()
        .chain(ctx.classified_fields.iter())
        .cloned()
        .collect();
    let mut by_object: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &discovery.matches {
        by_object
            .entry(m.object.clone())
            .or_default()
            .push(m.id.clone());
    }
    let mut records = Vec::new();
    let mut notes = Vec::new();
    let mut linked: Vec<String> = Vec::new();
    for (object, ids) in &by_object {
        let p = plan_object(client, object, ids, &extra_for(object, &extras), true).await?;
        records.extend(p.records);
        for ind in p.individuals {
            if !linked.contains(&ind) {
                linked.push(ind);
            }
        }
    }
    // Person accounts found through their Contact: the Account is the record written (once,
    // also when it matched on its own PersonEmail).
    let accounts: Vec<String> = records
        .iter()
        .filter_map(|r| r.via.clone())
        .filter(|a| !records.iter().any(|r| &r.id == a))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !accounts.is_empty() {
        let extra = extra_for("Account", &extras);
        records.extend(
            plan_object(client, "Account", &accounts, &extra, true)
                .await?
                .records,
        );
    }
    let mut associated_by_object: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Person accounts' own children too (a ContactPointEmail under the Account): the person's
    // data hangs off both halves.
    let person_accounts: Vec<String> = records
        .iter()
        .filter_map(|r| r.via.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (parent, ids) in [
        ("Contact", by_object.get("Contact")),
        ("Lead", by_object.get("Lead")),
        ("Account", Some(&person_accounts).filter(|a| !a.is_empty())),
    ] {
        let Some(ids) = ids else {
            continue;
        };
        let d = client.describe(parent).await?;
        let (found, n) = associated::find(client, &d, ids, policy).await?;
        notes.extend(n);
        for a in found {
            if records.iter().any(|r| r.id == a.id) {
                continue;
            }
            let list = associated_by_object.entry(a.object).or_default();
            if !list.contains(&a.id) {
                list.push(a.id);
            }
        }
    }
    for (object, ids) in &associated_by_object {
        records.extend(
            plan_object(client, object, ids, &extra_for(object, &extras), false)
                .await?
                .records,
        );
    }
    // The Individual behind a Contact/Lead holds the person's name and birth date: anonymized
    // like the subject's own records unless someone else's record uses it too.
    if policy.deletes("Individual") {
        let ours: BTreeSet<&str> = discovery.matches.iter().map(|m| m.id.as_str()).collect();
        let mut free = Vec::new();
        for ind in associated::individual_users(client, &linked, &ours).await? {
            if records.iter().any(|r| r.id == ind.id) {
                continue;
            }
            if ind.only_subjects() {
                free.push(ind.id);
            } else {
                records.push(shared_individual_plan(&ind));
            }
        }
        if !free.is_empty() {
            // `subject: true`: it is the person's own record, so a read-only field is reported.
            let extra = extra_for("Individual", &extras);
            records.extend(
                plan_object(client, "Individual", &free, &extra, true)
                    .await?
                    .records,
            );
        }
    }
    Ok(AnonymizePlan { records, notes })
}

/// Records named in a reason, at most.
const OTHERS_NAMED: usize = 5;

/// The plan of an Individual left as it is because records outside the subject's use it.
pub fn shared_individual_plan(ind: &associated::LinkedIndividual) -> RecordPlan {
    let (code, reason) = match &ind.unchecked {
        Some(why) => (
            "INDIVIDUAL_USAGE_UNKNOWN",
            format!(
                "could not check whether other people's records use this Individual ({why}); left as it is"
            ),
        ),
        None => {
            let mut named: Vec<String> = ind
                .others
                .iter()
                .take(OTHERS_NAMED)
                .map(|(o, id)| format!("{o} {id}"))
                .collect();
            if ind.others.len() > OTHERS_NAMED {
                named.push(format!("and {} more", ind.others.len() - OTHERS_NAMED));
            }
            (
                "INDIVIDUAL_SHARED",
                format!(
                    "also linked to records outside this request ({}); left as it is",
                    named.join(", ")
                ),
            )
        }
    };
    RecordPlan {
        object: "Individual".into(),
        id: ind.id.clone(),
        writes: Vec::new(),
        kept: Vec::new(),
        skip: Some((Some(code.into()), reason)),
        digests: BTreeMap::new(),
        via: None,
    }
}

/// The outcome of a record that was written (or needed no write).
fn written_outcome(plan: &RecordPlan, written: &[String], kept: &[KeptField]) -> RecordOutcome {
    let mut o = outcome(&plan.object, &plan.id, RecordOutcomeKind::Anonymized);
    o.fields = written.to_vec();
    if let Some(first) = kept.first() {
        o.error_code = Some(first.code.clone());
        o.reason = Some(format!(
            "not anonymized: {}",
            kept.iter()
                .map(|k| format!("{} ({})", k.field, k.code))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else if written.is_empty() {
        o.reason = Some("no personal values held".into());
    }
    if written.is_empty() && !kept.is_empty() {
        o.outcome = RecordOutcomeKind::Failed;
    }
    o
}

/// The outcome of a person account's Contact: its Account's (`None`: the Account had no plan,
/// e.g. it could not be read).
pub fn via_outcome(
    plan: &RecordPlan,
    account: &str,
    of_account: Option<&RecordOutcome>,
) -> RecordOutcome {
    let mut o = outcome(&plan.object, &plan.id, RecordOutcomeKind::Failed);
    match of_account {
        Some(a) => {
            o.outcome = a.outcome;
            o.error_code = a.error_code.clone();
            o.reason = Some(match &a.reason {
                Some(why) => {
                    format!("person account contact, written through Account {account}: {why}")
                }
                None => format!("person account contact, written through Account {account}"),
            });
        }
        None => {
            o.error_code = Some("PERSON_ACCOUNT_NOT_FOUND".into());
            o.reason = Some(format!(
                "person account contact: its Account {account} could not be read"
            ));
        }
    }
    o
}

/// Outcomes that need no write (skipped records, records with nothing to change).
pub fn settled_outcome(plan: &RecordPlan) -> Option<RecordOutcome> {
    if plan.via.is_some() {
        return None; // follows its Account's outcome, known after the writes
    }
    if let Some((code, reason)) = &plan.skip {
        let mut o = outcome(&plan.object, &plan.id, RecordOutcomeKind::Skipped);
        o.error_code = code.clone();
        o.reason = Some(reason.clone());
        return Some(o);
    }
    plan.writes
        .is_empty()
        .then(|| written_outcome(plan, &[], &plan.kept))
}

/// Runs an anonymize request (or plans it, on a dry run).
pub async fn run(
    client: &SalesforceClient,
    request: &DsrRequest,
    ctx: &DsrContext,
) -> Result<DsrReport, DsrError> {
    let policy = Policy::from_overrides(&ctx.connection.child_policy)?;
    let rid = request.request_id.as_str();
    let saved: Option<AnonymizePlan> = match &ctx.checkpoints {
        Some(c) if !request.options.dry_run => c.load_plan(rid).await?,
        _ => None,
    };
    let resumed = saved.is_some();
    let plan = match saved {
        Some(p) => p,
        None => {
            let p = build_plan(client, request, ctx, &policy).await?;
            if !request.options.dry_run
                && let Some(c) = &ctx.checkpoints
            {
                c.save_plan(rid, &p).await?;
            }
            p
        }
    };
    if request.options.dry_run {
        return Ok(dry_run_report(&plan));
    }
    let mut done: HashMap<String, RecordOutcome> = match &ctx.checkpoints {
        Some(c) => c.outcomes(rid).await?,
        None => HashMap::new(),
    };
    let settled: Vec<RecordOutcome> = plan
        .records
        .iter()
        .filter(|r| !done.contains_key(&r.id))
        .filter_map(settled_outcome)
        .collect();
    checkpoint(ctx, rid, &settled).await?;
    for o in settled {
        done.insert(o.id.clone(), o);
    }

    let mut by_object: BTreeMap<&str, Vec<&RecordPlan>> = BTreeMap::new();
    for r in plan
        .records
        .iter()
        .filter(|r| !done.contains_key(&r.id) && r.via.is_none())
    {
        by_object.entry(r.object.as_str()).or_default().push(r);
    }
    for (object, recs) in by_object {
        for chunk in recs.chunks(COLLECTION_CHUNK) {
            let outs = write_chunk(client, object, chunk).await?;
            checkpoint(ctx, rid, &outs).await?;
            for o in outs {
                done.insert(o.id.clone(), o);
            }
        }
    }
    let via: Vec<RecordOutcome> = plan
        .records
        .iter()
        .filter(|r| !done.contains_key(&r.id))
        .filter_map(|r| {
            let account = r.via.as_deref()?;
            Some(via_outcome(r, account, done.get(account)))
        })
        .collect();
    checkpoint(ctx, rid, &via).await?;
    for o in via {
        done.insert(o.id.clone(), o);
    }

    let records: Vec<RecordOutcome> = plan
        .records
        .iter()
        .filter_map(|r| done.get(&r.id).cloned())
        .collect();
    let proof = prove(client, &plan, &records, ctx).await?;
    let proof_ok = proof.get("ok").and_then(|v| v.as_bool()).unwrap_or(false);
    let mut verification = proof;
    if let Some(map) = verification.as_object_mut() {
        map.insert("notes".into(), serde_json::json!(plan.notes));
        map.insert("resumed".into(), serde_json::json!(resumed));
    }
    Ok(DsrReport {
        status: overall_status(&records, proof_ok),
        records,
        exported: Vec::new(),
        verification: Some(verification),
        plan: None,
        api_calls: 0,
    })
}

/// PATCHes one chunk; records refused because of some of their fields are retried without
/// them (up to [`MAX_ROUNDS`]), the fields reported.
async fn write_chunk(
    client: &SalesforceClient,
    object: &str,
    chunk: &[&RecordPlan],
) -> Result<Vec<RecordOutcome>, DsrError> {
    struct Pending<'a> {
        plan: &'a RecordPlan,
        writes: Vec<FieldWrite>,
        kept: Vec<KeptField>,
    }
    let mut pending: Vec<Pending> = chunk
        .iter()
        .map(|p| Pending {
            plan: p,
            writes: p.writes.clone(),
            kept: p.kept.clone(),
        })
        .collect();
    let mut outs = Vec::new();
    for round in 0..MAX_ROUNDS {
        if pending.is_empty() {
            break;
        }
        let body: Vec<Record> = pending
            .iter()
            .map(|p| {
                let mut r = Record::new();
                r.insert("attributes".into(), serde_json::json!({ "type": object }));
                r.insert("Id".into(), serde_json::json!(p.plan.id));
                for w in &p.writes {
                    r.insert(w.field.clone(), w.value.clone());
                }
                r
            })
            .collect();
        let results = client.update(body, false).await?;
        let mut retry = Vec::new();
        for (i, mut p) in pending.into_iter().enumerate() {
            let Some(res) = results.get(i) else {
                let mut o = outcome(object, &p.plan.id, RecordOutcomeKind::Failed);
                o.error_code = Some("NO_RESULT".into());
                outs.push(o);
                continue;
            };
            if res.success {
                let names: Vec<String> = p.writes.iter().map(|w| w.field.clone()).collect();
                outs.push(written_outcome(p.plan, &names, &p.kept));
                continue;
            }
            // Refused because of named fields we wrote: drop them and try again.
            let bad: Vec<(String, String)> = res
                .errors
                .iter()
                .flat_map(|e| {
                    e.fields
                        .iter()
                        .map(move |f| (f.clone(), e.error_code.clone()))
                })
                .filter(|(f, _)| p.writes.iter().any(|w| w.field.eq_ignore_ascii_case(f)))
                .collect();
            let all_named = !bad.is_empty() && res.errors.iter().all(|e| !e.fields.is_empty());
            if all_named && round + 1 < MAX_ROUNDS {
                for (f, code) in bad {
                    p.writes.retain(|w| !w.field.eq_ignore_ascii_case(&f));
                    p.kept.push(KeptField { field: f, code });
                }
                if p.writes.is_empty() {
                    outs.push(written_outcome(p.plan, &[], &p.kept));
                } else {
                    retry.push(p);
                }
                continue;
            }
            let mut o = outcome(object, &p.plan.id, RecordOutcomeKind::Failed);
            let first = res.errors.first();
            o.error_code = Some(
                first
                    .map(|e| e.error_code.clone())
                    .unwrap_or_else(|| "UNKNOWN_ERROR".into()),
            );
            o.reason = Some(match first {
                Some(e) if !e.fields.is_empty() => {
                    format!("refused fields: {}", e.fields.join(", "))
                }
                _ => "Salesforce refused the update".into(),
            });
            outs.push(o);
        }
        pending = retry;
    }
    Ok(outs)
}

/// Re-reads every anonymized record and checks, by digest, that no original value remains;
/// lists (and, when allowed, deletes) field-history rows holding old values. A history object
/// whose query fails permanently is listed in `field_history.read_errors` and the proof is not
/// ok (the request `partial`).
async fn prove(
    client: &SalesforceClient,
    plan: &AnonymizePlan,
    records: &[RecordOutcome],
    ctx: &DsrContext,
) -> Result<serde_json::Value, DsrError> {
    let anonymized: BTreeSet<&str> = records
        .iter()
        .filter(|r| r.outcome == RecordOutcomeKind::Anonymized)
        .map(|r| r.id.as_str())
        .collect();
    let mut by_object: BTreeMap<&str, Vec<&RecordPlan>> = BTreeMap::new();
    for p in plan
        .records
        .iter()
        .filter(|p| anonymized.contains(p.id.as_str()) && !p.digests.is_empty())
    {
        by_object.entry(p.object.as_str()).or_default().push(p);
    }
    let mut remaining = Vec::new();
    let mut checked = 0usize;
    for (object, plans) in &by_object {
        let fields: Vec<String> = plans
            .iter()
            .flat_map(|p| p.digests.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ids: Vec<String> = plans.iter().map(|p| p.id.clone()).collect();
        let mut wanted = fields.clone();
        wanted.push("Id".into());
        let rows = client.retrieve(object, &ids, &wanted).await?;
        for p in plans {
            let Some(row) = rows
                .iter()
                .find(|r| super::record_id(r) == Some(p.id.as_str()))
            else {
                continue;
            };
            checked += 1;
            let originals: BTreeSet<&String> = p.digests.values().collect();
            for f in &fields {
                if row
                    .get(f)
                    .and_then(digest)
                    .is_some_and(|h| originals.contains(&h))
                {
                    remaining.push(serde_json::json!({ "object": object, "id": p.id, "field": f }));
                }
            }
        }
    }
    let history = field_history(client, plan, &anonymized, ctx).await?;
    let history_left = history
        .get("remaining")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    // A history object that could not be read proves nothing about the rows it holds.
    let history_unread = history
        .get("read_errors")
        .and_then(|v| v.as_array())
        .is_some_and(|a| !a.is_empty());
    Ok(serde_json::json!({
        "ok": remaining.is_empty() && history_left == 0 && !history_unread,
        "records_rechecked": checked,
        "original_values_remaining": remaining,
        "field_history": history,
    }))
}

/// Objects whose history object every org has (ContactHistory, LeadHistory).
const ALWAYS_HAS_HISTORY: [&str; 2] = ["Contact", "Lead"];

#[derive(Debug, PartialEq, Eq)]
enum HistoryVisibility {
    Queryable,
    /// No history to check: a custom object's exists only with field history tracking on.
    Absent,
    /// One every org has is missing or not queryable: the integration user cannot read it,
    /// so the history is unproven, not empty.
    Hidden,
}

/// Pure: whether `object`'s history object `history` can be checked, per the global describe.
fn history_visibility(
    object: &str,
    history: &str,
    global: &[crate::salesforce::SObjectSummary],
) -> HistoryVisibility {
    if global.iter().any(|s| s.name == history && s.queryable) {
        HistoryVisibility::Queryable
    } else if ALWAYS_HAS_HISTORY.contains(&object) {
        HistoryVisibility::Hidden
    } else {
        HistoryVisibility::Absent
    }
}

async fn field_history(
    client: &SalesforceClient,
    plan: &AnonymizePlan,
    anonymized: &BTreeSet<&str>,
    ctx: &DsrContext,
) -> Result<serde_json::Value, DsrError> {
    let global = client.describe_global().await?;
    let mut rows_found = Vec::new();
    let mut ids_to_delete = Vec::new();
    let mut read_errors = Vec::new();
    let mut by_object: BTreeMap<&str, Vec<&RecordPlan>> = BTreeMap::new();
    for p in plan
        .records
        .iter()
        .filter(|p| anonymized.contains(p.id.as_str()) && !p.digests.is_empty())
    {
        by_object.entry(p.object.as_str()).or_default().push(p);
    }
    for (object, plans) in by_object {
        let (history, parent_field) = history_object(object);
        match history_visibility(object, &history, &global) {
            HistoryVisibility::Queryable => {}
            HistoryVisibility::Absent => continue,
            HistoryVisibility::Hidden => {
                read_errors.push(serde_json::json!({
                    "object": history, "error_code": "NOT_VISIBLE",
                    "records": plans.len(),
                }));
                continue;
            }
        }
        let ids: Vec<String> = plans.iter().map(|p| p.id.clone()).collect();
        let head = format!(
            "SELECT Id, {parent_field}, Field, OldValue, NewValue FROM {history} WHERE {parent_field} IN"
        );
        for soql in super::delete::in_queries(&head, &ids) {
            let rows = match client.query_all(&soql).await {
                Ok(r) => r,
                // Reported (and the proof not ok) rather than taken for "no rows".
                Err(e) if e.kind() == ErrorKind::Permanent => {
                    read_errors.push(serde_json::json!({
                        "object": history, "error_code": e.code(),
                        "records": plans.len(),
                    }));
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            for row in rows {
                let parent = row
                    .get(&parent_field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let Some(p) = plans.iter().find(|p| p.id == parent) else {
                    continue;
                };
                let originals: BTreeSet<&String> = p.digests.values().collect();
                let holds = ["OldValue", "NewValue"].iter().any(|k| {
                    row.get(*k)
                        .and_then(digest)
                        .is_some_and(|h| originals.contains(&h))
                });
                if holds && let Some(id) = super::record_id(&row) {
                    rows_found.push(serde_json::json!({
                        "object": history, "id": id, "parent_id": parent,
                        "field": row.get("Field").cloned().unwrap_or_default(),
                    }));
                    ids_to_delete.push(id.to_string());
                }
            }
        }
    }
    let mut deleted = 0u64;
    let mut errors = Vec::new();
    if ctx.connection.delete_field_history && !ids_to_delete.is_empty() {
        for chunk in ids_to_delete.chunks(COLLECTION_CHUNK) {
            match client.delete(chunk, false).await {
                Ok(results) => {
                    for r in results {
                        if r.success {
                            deleted += 1;
                        } else if let Some(e) = r.errors.first() {
                            errors.push(e.error_code.clone());
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::Permanent => errors.push(e.code()),
                Err(e) => return Err(e.into()),
            }
        }
    }
    let remaining = rows_found.len() as u64 - deleted;
    Ok(serde_json::json!({
        "rows_holding_old_values": rows_found,
        "deletion_allowed": ctx.connection.delete_field_history,
        "deleted": deleted,
        "delete_errors": errors,
        "remaining": remaining,
        "read_errors": read_errors,
    }))
}

fn dry_run_report(plan: &AnonymizePlan) -> DsrReport {
    let mut records = Vec::new();
    let mut lines = Vec::new();
    for r in &plan.records {
        let mut o = outcome(&r.object, &r.id, RecordOutcomeKind::Planned);
        if let Some(account) = &r.via {
            o.reason = Some(format!(
                "person account contact, written through Account {account}"
            ));
        } else if let Some((code, reason)) = &r.skip {
            o.outcome = RecordOutcomeKind::Skipped;
            o.error_code = code.clone();
            o.reason = Some(reason.clone());
        } else {
            o.fields = r.writes.iter().map(|w| w.field.clone()).collect();
        }
        records.push(o);
        let writes: Vec<serde_json::Value> = r
            .writes
            .iter()
            .map(|w| serde_json::json!({ "field": w.field, "value_kind": w.kind }))
            .collect();
        lines.push(serde_json::json!({
            "object": r.object, "id": r.id, "writes": writes, "kept": r.kept,
            "skip": r.skip.as_ref().map(|(c, why)| serde_json::json!({"code": c, "reason": why})),
            "through": r.via,
        }));
    }
    let kinds: BTreeMap<&str, usize> =
        plan.records
            .iter()
            .flat_map(|r| r.writes.iter())
            .fold(BTreeMap::new(), |mut m, w| {
                let k = match w.kind {
                    ValueKind::Null => "null",
                    ValueKind::Placeholder => "placeholder",
                    ValueKind::UniquePlaceholder => "unique_placeholder",
                    ValueKind::EmailPlaceholder => "email_placeholder",
                };
                *m.entry(k).or_default() += 1;
                m
            });
    DsrReport {
        // What the real run would report, as far as the plan knows (a User or a converted
        // Lead kept back).
        status: super::overall_status(&records, true),
        records,
        exported: Vec::new(),
        verification: None,
        plan: Some(serde_json::json!({
            "action": "anonymize",
            "records": lines,
            "value_kinds": kinds,
            "notes": plan.notes,
            "api_calls": {
                "writes": plan.write_calls(),
                "write_endpoint": "PATCH /composite/sobjects (≤200 records, allOrNone=false, duplicate rules bypassed)",
                "verification": "one collections retrieve per object, one history query per tracked object",
            },
        })),
        api_calls: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsr::values::tests::field;
    use serde_json::json;

    #[test]
    fn a_history_object_every_org_has_but_the_user_cannot_see_is_unproven() {
        let global: Vec<crate::salesforce::SObjectSummary> = serde_json::from_value(json!([
            {"name": "LeadHistory", "queryable": true},
            {"name": "Invoice__History", "queryable": false}
        ]))
        .unwrap();
        let v = |o: &str| history_visibility(o, &history_object(o).0, &global);
        assert_eq!(v("Lead"), HistoryVisibility::Queryable);
        assert_eq!(v("Contact"), HistoryVisibility::Hidden);
        assert_eq!(v("Invoice__c"), HistoryVisibility::Absent);
        assert_eq!(v("Loyalty_Card__c"), HistoryVisibility::Absent);
    }

    fn contact_describe() -> SObjectDescribe {
        let mut first = field("FirstName", "string", 40, true);
        first.compound_field_name = Some("Name".into());
        let mut last = field("LastName", "string", 80, false);
        last.compound_field_name = Some("Name".into());
        let mut name = field("Name", "string", 121, false);
        name.updateable = false;
        let mut street = field("MailingStreet", "textarea", 255, true);
        street.compound_field_name = Some("MailingAddress".into());
        let mut city = field("MailingCity", "string", 40, true);
        city.compound_field_name = Some("MailingAddress".into());
        let address = field("MailingAddress", "address", 0, true);
        let mut phone = field("Phone", "phone", 40, true);
        phone.updateable = false; // field-level security
        let email = field("Email", "email", 80, true);
        let title = field("Title", "string", 128, true);
        let notes = field("Notes__c", "textarea", 32000, true);
        let mut formula = field("Full__c", "string", 200, true);
        formula.calculated = true;
        let id = field("Id", "id", 18, false);
        SObjectDescribe {
            name: "Contact".into(),
            label: String::new(),
            custom: false,
            queryable: true,
            searchable: true,
            deletable: true,
            updateable: true,
            createable: true,
            fields: vec![
                id, first, last, name, street, city, address, phone, email, title, notes, formula,
            ],
            child_relationships: vec![],
        }
    }

    fn record(v: serde_json::Value) -> Record {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn never_writes_compounds_or_calculated_fields_and_never_nulls_required_ones() {
        let d = contact_describe();
        let names: Vec<&str> = personal_fields(&d, &[])
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            names,
            vec![
                "FirstName",
                "LastName",
                "MailingStreet",
                "MailingCity",
                "Phone",
                "Email",
                "Title"
            ]
        );
        let r = record(json!({
            "Id": "003A", "FirstName": "Jane", "LastName": "Doe", "MailingStreet": "1 Main St",
            "MailingCity": null, "Phone": "+1 555 0100", "Email": "jane@example.com", "Title": "CEO"
        }));
        let p = plan_record(&d, &r, &[], true);
        let by: BTreeMap<&str, &FieldWrite> =
            p.writes.iter().map(|w| (w.field.as_str(), w)).collect();
        assert_eq!(by["LastName"].value, json!("Anonymized"));
        assert_eq!(by["FirstName"].value, json!(null));
        assert_eq!(by["MailingStreet"].value, json!(null));
        assert!(
            !by.contains_key("MailingCity"),
            "empty fields are not written"
        );
        assert!(!by.contains_key("Name") && !by.contains_key("MailingAddress"));
        assert_eq!(by["Email"].kind, ValueKind::EmailPlaceholder);
        assert_eq!(
            p.kept,
            vec![KeptField {
                field: "Phone".into(),
                code: "FIELD_NOT_UPDATEABLE".into()
            }]
        );
        assert_eq!(p.digests.len(), 6);
        assert!(
            !serde_json::to_string(&p).unwrap().contains("Jane"),
            "plans never hold values"
        );
    }

    #[test]
    fn configured_and_classified_fields_are_included() {
        let d = contact_describe();
        let extra = extra_for(
            "Contact",
            &["Contact.Notes__c".into(), "Lead.Other__c".into()],
        );
        assert_eq!(extra, vec!["Notes__c"]);
        let names: Vec<&str> = personal_fields(&d, &extra)
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert!(names.contains(&"Notes__c"));
    }

    #[test]
    fn converted_leads_and_users_are_reported_not_written() {
        let mut d = contact_describe();
        d.name = "Lead".into();
        let p = plan_record(
            &d,
            &record(json!({"Id": "00QA", "IsConverted": true, "LastName": "Doe"})),
            &[],
            true,
        );
        let o = settled_outcome(&p).unwrap();
        assert_eq!(o.outcome, RecordOutcomeKind::Skipped);
        assert_eq!(
            o.error_code.as_deref(),
            Some("CANNOT_UPDATE_CONVERTED_LEAD")
        );
        d.name = "User".into();
        let p = plan_record(
            &d,
            &record(json!({"Id": "005A", "LastName": "Doe"})),
            &[],
            true,
        );
        let o = settled_outcome(&p).unwrap();
        assert_eq!(o.outcome, RecordOutcomeKind::Skipped);
        // Kept back, so the request is partial: the person's data stays on the User.
        assert_eq!(o.error_code.as_deref(), Some("USER_NEEDS_OBFUSCATION"));
        assert_eq!(
            crate::dsr::overall_status(&[o], true),
            crate::message::ResultStatus::Partial
        );
    }

    #[test]
    fn associated_records_ignore_read_only_mirrors() {
        let d = contact_describe();
        let p = plan_record(
            &d,
            &record(json!({"Id": "00vA", "Phone": "555"})),
            &[],
            false,
        );
        assert!(p.kept.is_empty());
        assert_eq!(
            settled_outcome(&p).unwrap().outcome,
            RecordOutcomeKind::Anonymized
        );
    }

    #[test]
    fn a_shared_individual_is_skipped_with_its_other_users_named() {
        let ind = associated::LinkedIndividual {
            id: "0PKA".into(),
            others: (0..7)
                .map(|i| ("Contact".into(), format!("003{i}")))
                .collect(),
            unchecked: None,
        };
        let o = settled_outcome(&shared_individual_plan(&ind)).unwrap();
        assert_eq!(
            (o.object.as_str(), o.outcome),
            ("Individual", RecordOutcomeKind::Skipped)
        );
        assert_eq!(o.error_code.as_deref(), Some("INDIVIDUAL_SHARED"));
        let why = o.reason.unwrap();
        assert!(
            why.contains("Contact 0030") && why.contains("and 2 more"),
            "{why}"
        );
        let unknown = associated::LinkedIndividual {
            others: vec![],
            unchecked: Some("Lead not queried (INSUFFICIENT_ACCESS)".into()),
            ..ind
        };
        let o = settled_outcome(&shared_individual_plan(&unknown)).unwrap();
        assert_eq!(o.error_code.as_deref(), Some("INDIVIDUAL_USAGE_UNKNOWN"));
    }

    #[test]
    fn a_person_account_contact_is_planned_through_its_account() {
        let d = contact_describe();
        let r = record(json!({
            "Id": "003P", "FirstName": "Jane", "Email": "jane@example.com",
            "IsPersonAccount": true, "AccountId": "001P"
        }));
        let p = plan_record(&d, &r, &[], true);
        assert_eq!(p.via.as_deref(), Some("001P"));
        assert!(p.writes.is_empty() && p.kept.is_empty(), "{p:?}");
        assert_eq!(p.digests.len(), 2, "its re-read is still proven");
        assert!(settled_outcome(&p).is_none(), "follows the Account");
        let mut acc = outcome("Account", "001P", RecordOutcomeKind::Anonymized);
        acc.fields = vec!["PersonEmail".into()];
        let o = via_outcome(&p, "001P", Some(&acc));
        assert_eq!(
            (o.object.as_str(), o.outcome),
            ("Contact", RecordOutcomeKind::Anonymized)
        );
        assert!(o.fields.is_empty(), "the Contact itself was not written");
        assert!(o.reason.unwrap().contains("Account 001P"));
        let o = via_outcome(&p, "001P", None);
        assert_eq!(o.outcome, RecordOutcomeKind::Failed);
        assert_eq!(o.error_code.as_deref(), Some("PERSON_ACCOUNT_NOT_FOUND"));
        // A business contact is written as before.
        let r = record(json!({
            "Id": "003B", "FirstName": "Jane", "IsPersonAccount": false, "AccountId": "001B"
        }));
        let p = plan_record(&d, &r, &[], true);
        assert_eq!(p.via, None);
        assert!(!p.writes.is_empty());
    }
}
