//! Delete requests: a plan in an order Salesforce accepts, run through sObject Collections
//! (or Bulk API 2.0 `hardDelete`), then proof that no live row with the subject's email remains.
//!
//! [`plan_delete`] is pure: User records are skipped (never deleted); a person account's
//! Contact goes through its Account; a contact behind an active portal user is reported, not
//! attempted; associated records whose parent delete cascades to them are reported
//! `cascade_deleted` (not deleted twice), the others are deleted in an earlier wave than their
//! parent (so restricted-delete children never block it); a shared Individual is kept. A record
//! matched on its own (`objects: "all"`) whose object hangs off a Contact, Lead or Account
//! (a Case by its `SuppliedEmail`) joins that earlier wave too, reported once.
//! [`run`] executes the waves in ≤ 200-id calls with `allOrNone=false`, marking each call's ids
//! as sent before it and saving its outcomes to the checkpoint after it. A resumed attempt that
//! gets `ENTITY_IS_DELETED` for an id an interrupted attempt had sent reports it `deleted`: that
//! attempt's delete landed and only its response was lost.

use super::associated::{self, Associated};
use super::discover::{self, Discovery};
use super::policy::Policy;
use super::verify;
use super::{
    COLLECTION_CHUNK, DsrContext, DsrError, DsrReport, checkpoint, outcome, overall_status,
};
use crate::message::{DsrRequest, RecordOutcome, RecordOutcomeKind};
use crate::salesforce::soql_literal;
use crate::salesforce::{ErrorKind, SalesforceClient, SaveResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Days a soft-deleted row stays in the recycle bin before Salesforce purges it.
pub const RECYCLE_BIN_DAYS: i64 = 15;

/// A record the subject matched, with what the plan needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRecord {
    pub object: String,
    pub id: String,
    /// For a person account's Contact: the Account to delete instead.
    #[serde(default)]
    pub person_account_id: Option<String>,
    /// A Contact with an active portal/community user: Salesforce refuses the delete.
    #[serde(default)]
    pub active_portal_user: bool,
}

/// Everything the plan is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteInput {
    pub subjects: Vec<SubjectRecord>,
    pub associated: Vec<Associated>,
    /// Individuals only the subject's records use (others are kept).
    pub individuals: Vec<String>,
    pub notes: Vec<String>,
    /// Objects other than Contact/Lead/Account that are children of one of them (describe
    /// `childRelationships`): a matched record of these may block its parent's delete.
    pub child_objects: BTreeSet<String>,
}

/// One record to delete explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub object: String,
    pub id: String,
}

/// Records deleted by one or more calls; every wave finishes before the next starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wave {
    pub label: String,
    pub records: Vec<Target>,
}

/// A record deleted by Salesforce along with its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cascaded {
    pub object: String,
    pub id: String,
    pub parent_object: String,
    pub parent_id: String,
}

/// The delete plan (also what a dry run returns, and what the checkpoint saves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletePlan {
    pub waves: Vec<Wave>,
    pub cascaded: Vec<Cascaded>,
    /// Outcomes known before any write (skipped Users, portal-blocked contacts).
    pub settled: Vec<RecordOutcome>,
    pub hard_delete: bool,
    pub notes: Vec<String>,
}

impl DeletePlan {
    /// API calls the writes take: one per 200 ids soft, five per object and wave for a Bulk
    /// job (create, upload, close, poll, results).
    pub fn write_calls(&self) -> u64 {
        self.waves
            .iter()
            .map(|w| {
                if self.hard_delete {
                    let objects: BTreeSet<&str> =
                        w.records.iter().map(|t| t.object.as_str()).collect();
                    5 * objects.len() as u64
                } else {
                    w.records.len().div_ceil(COLLECTION_CHUNK) as u64
                }
            })
            .sum()
    }

    /// Every record the plan covers, in report order.
    pub fn record_ids(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        out.extend(
            self.settled
                .iter()
                .map(|o| (o.object.clone(), o.id.clone())),
        );
        for w in &self.waves {
            out.extend(w.records.iter().map(|t| (t.object.clone(), t.id.clone())));
        }
        out.extend(
            self.cascaded
                .iter()
                .map(|c| (c.object.clone(), c.id.clone())),
        );
        out
    }
}

/// Orders the deletes. Pure.
pub fn plan_delete(input: &DeleteInput, hard_delete: bool) -> DeletePlan {
    let mut settled = Vec::new();
    let mut parents: Vec<Target> = Vec::new();
    // Deleted before `parents`: a restricted child (Contact→Case) would block its parent.
    let mut children: Vec<Target> = Vec::new();
    let mut cascaded: Vec<Cascaded> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();

    for s in &input.subjects {
        if !seen.insert(s.id.clone()) {
            continue;
        }
        if s.object == "User" {
            let mut o = outcome(&s.object, &s.id, RecordOutcomeKind::Skipped);
            o.error_code = Some(super::USER_KEPT.into());
            o.reason = Some(super::USER_KEPT_REASON.into());
            settled.push(o);
        } else if s.active_portal_user {
            let mut o = outcome(&s.object, &s.id, RecordOutcomeKind::Failed);
            o.error_code = Some("ACTIVE_PORTAL_USER".into());
            o.reason = Some(
                "contact is linked to an active portal/community user: deactivate the user first"
                    .into(),
            );
            settled.push(o);
        } else if let Some(account) = &s.person_account_id {
            // A person account's Contact can only go through its Account.
            if seen.insert(account.clone()) {
                parents.push(Target {
                    object: "Account".into(),
                    id: account.clone(),
                });
            }
            cascaded.push(Cascaded {
                object: s.object.clone(),
                id: s.id.clone(),
                parent_object: "Account".into(),
                parent_id: account.clone(),
            });
        } else {
            let t = Target {
                object: s.object.clone(),
                id: s.id.clone(),
            };
            if input.child_objects.contains(&s.object) && !is_parent_object(&s.object) {
                children.push(t);
            } else {
                parents.push(t);
            }
        }
    }

    let deleted_parents: BTreeSet<String> = parents
        .iter()
        .chain(&children)
        .map(|t| t.id.clone())
        .chain(cascaded.iter().map(|c| c.id.clone()))
        .collect();
    // Decided over every sighting of a record, not its first: a Case on a person account is
    // found through the Contact (restricted) and through the Account (cascade), and one
    // restricted sighting means it must go explicitly, before its parents.
    let mut all_cascade: HashMap<&str, bool> = HashMap::new();
    for a in &input.associated {
        let cascades = a.cascade && deleted_parents.contains(&a.parent_id);
        *all_cascade.entry(a.id.as_str()).or_insert(true) &= cascades;
    }
    let mut decided: HashSet<&str> = HashSet::new();
    for a in &input.associated {
        if !decided.insert(a.id.as_str()) {
            continue;
        }
        let cascades = all_cascade[a.id.as_str()];
        if seen.contains(&a.id) {
            // Matched on its own (e.g. a Case with the subject's SuppliedEmail): cascade wins
            // if every parent it is found through goes with it; otherwise it must go before
            // its parent, like any associated record (a Contact/Lead/Account stays with the
            // subject records: none of their relationships among each other restricts a
            // delete). A settled record or a person account's Contact stays as it is.
            let planned = |t: &Target| t.id == a.id;
            if !parents.iter().any(planned) && !children.iter().any(planned) {
                continue;
            }
            if cascades {
                parents.retain(|t| t.id != a.id);
                children.retain(|t| t.id != a.id);
                cascaded.push(cascade_of(a));
            } else if !is_parent_object(&a.object)
                && let Some(i) = parents.iter().position(|t| t.id == a.id)
            {
                children.push(parents.remove(i));
            }
            continue;
        }
        seen.insert(a.id.clone());
        if cascades {
            cascaded.push(cascade_of(a));
        } else {
            children.push(Target {
                object: a.object.clone(),
                id: a.id.clone(),
            });
        }
    }
    let individuals: Vec<Target> = input
        .individuals
        .iter()
        .filter(|id| seen.insert((*id).clone()))
        .map(|id| Target {
            object: "Individual".into(),
            id: id.clone(),
        })
        .collect();

    let mut waves = Vec::new();
    for (label, records) in [
        ("associated records (before their parents)", children),
        ("subject records", parents),
        ("individuals no longer used", individuals),
    ] {
        if !records.is_empty() {
            waves.push(Wave {
                label: label.into(),
                records,
            });
        }
    }
    DeletePlan {
        waves,
        cascaded,
        settled,
        hard_delete,
        notes: input.notes.clone(),
    }
}

fn is_parent_object(object: &str) -> bool {
    associated::PARENT_OBJECTS.contains(&object)
}

fn cascade_of(a: &Associated) -> Cascaded {
    Cascaded {
        object: a.object.clone(),
        id: a.id.clone(),
        parent_object: a.parent_object.clone(),
        parent_id: a.parent_id.clone(),
    }
}

/// Maps one collections/bulk result to an outcome. Salesforce's messages can quote a record's
/// name, so only the part naming the blocking records is kept.
pub fn delete_outcome(target: &Target, result: &SaveResult) -> RecordOutcome {
    if result.success {
        return outcome(&target.object, &target.id, RecordOutcomeKind::Deleted);
    }
    let code = result
        .errors
        .first()
        .map(|e| e.error_code.clone())
        .unwrap_or_else(|| "UNKNOWN_ERROR".into());
    if code == "ENTITY_IS_DELETED" {
        let mut o = outcome(
            &target.object,
            &target.id,
            RecordOutcomeKind::AlreadyDeleted,
        );
        o.reason = Some("already in the recycle bin".into());
        return o;
    }
    let mut o = outcome(&target.object, &target.id, RecordOutcomeKind::Failed);
    o.reason = Some(match result.errors.first() {
        Some(e) if code == "DELETE_FAILED" => match e.message.find("associated with") {
            // Salesforce lists the blocking records by name after the colon; a name can be
            // personal (a payment method called after its holder), so only their count stays.
            Some(i) => {
                let (what, list) = e.message[i..]
                    .split_once(':')
                    .unwrap_or((&e.message[i..], ""));
                let n = list.split(',').filter(|r| !r.trim().is_empty()).count();
                let what = what.trim_end_matches(['.', ' ']);
                format!(
                    "blocked: {what} ({n} record{})",
                    if n == 1 { "" } else { "s" }
                )
            }
            None => "blocked by related records".into(),
        },
        Some(e) if !e.fields.is_empty() => format!("fields: {}", e.fields.join(", ")),
        _ => "Salesforce refused the delete".into(),
    });
    o.error_code = Some(code);
    o
}

/// Collects what the plan needs: subjects, their associated records, unused Individuals.
pub async fn gather(
    client: &SalesforceClient,
    request: &DsrRequest,
    policy: &Policy,
) -> Result<(Discovery, DeleteInput), DsrError> {
    let discovery =
        discover::discover(client, &request.subject.emails, &request.options.objects).await?;
    let mut input = DeleteInput::default();
    let contact_ids: Vec<String> = discovery
        .matches_of("Contact")
        .map(|m| m.id.clone())
        .collect();
    let lead_ids: Vec<String> = discovery.matches_of("Lead").map(|m| m.id.clone()).collect();

    // Person accounts and Individuals: read the Contact/Lead fields that point at them.
    let mut person_account: HashMap<String, String> = HashMap::new();
    let mut individual_of: Vec<String> = Vec::new();
    for (object, ids) in [("Contact", &contact_ids), ("Lead", &lead_ids)] {
        if ids.is_empty() {
            continue;
        }
        let d = client.describe(object).await?;
        let mut wanted: Vec<String> = ["IsPersonAccount", "AccountId", "IndividualId"]
            .iter()
            .filter(|f| d.field(f).is_some())
            .map(|f| f.to_string())
            .collect();
        if wanted.is_empty() {
            continue;
        }
        wanted.push("Id".into());
        for r in client.retrieve(object, ids, &wanted).await? {
            let Some(id) = super::record_id(&r) else {
                continue;
            };
            if r.get("IsPersonAccount").and_then(|v| v.as_bool()) == Some(true)
                && let Some(acc) = r.get("AccountId").and_then(|v| v.as_str())
            {
                person_account.insert(id.to_string(), acc.to_string());
            }
            if let Some(ind) = r.get("IndividualId").and_then(|v| v.as_str())
                && !individual_of.iter().any(|x| x == ind)
            {
                individual_of.push(ind.to_string());
            }
        }
    }

    // A contact behind an active portal user cannot be deleted; find those before trying.
    let mut portal: BTreeSet<String> = BTreeSet::new();
    if !contact_ids.is_empty() {
        let user = client.describe("User").await?;
        if user.field("ContactId").is_some() {
            for soql in in_queries(
                "SELECT Id, ContactId FROM User WHERE IsActive = true AND ContactId IN",
                &contact_ids,
            ) {
                for r in client.query_all(&soql).await? {
                    if let Some(c) = r.get("ContactId").and_then(|v| v.as_str()) {
                        portal.insert(c.to_string());
                    }
                }
            }
        }
    }

    for m in &discovery.matches {
        input.subjects.push(SubjectRecord {
            object: m.object.clone(),
            id: m.id.clone(),
            person_account_id: person_account.get(&m.id).cloned(),
            active_portal_user: portal.contains(&m.id),
        });
    }

    // Matched records of other objects (only with `objects` beyond the default) may be children
    // of matched Contacts/Leads/Accounts; their describes are cached by discovery.
    let matched: BTreeSet<&str> = discovery
        .matches
        .iter()
        .map(|m| m.object.as_str())
        .collect();
    if matched.iter().any(|o| !is_parent_object(o) && *o != "User") {
        for parent in associated::PARENT_OBJECTS {
            let deleted =
                matched.contains(parent) || (parent == "Account" && !person_account.is_empty());
            if !deleted {
                continue;
            }
            let d = client.describe(parent).await?;
            input.child_objects.extend(
                d.child_relationships
                    .iter()
                    .map(|r| r.child_sobject.clone())
                    .filter(|c| !is_parent_object(c)),
            );
        }
    }

    // Associated records of Contacts, Leads and person accounts.
    let accounts: Vec<String> = person_account
        .values()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (object, ids) in [
        ("Contact", &contact_ids),
        ("Lead", &lead_ids),
        ("Account", &accounts),
    ] {
        if ids.is_empty() {
            continue;
        }
        let d = client.describe(object).await?;
        let (found, notes) = associated::find(client, &d, ids, policy).await?;
        input.associated.extend(found);
        input.notes.extend(notes);
    }

    // Individuals: deleted only when no record outside the subject's uses them (one that
    // cannot be checked is kept).
    if policy.deletes("Individual") && !individual_of.is_empty() {
        let ours: BTreeSet<&str> = discovery.matches.iter().map(|m| m.id.as_str()).collect();
        input.individuals = associated::individual_users(client, &individual_of, &ours)
            .await?
            .into_iter()
            .filter(|i| i.only_subjects())
            .map(|i| i.id)
            .collect();
    }
    Ok((discovery, input))
}

/// `{head} ('a', 'b', …)` statements, 200 values each.
pub(crate) fn in_queries(head: &str, values: &[String]) -> Vec<String> {
    values
        .chunks(200)
        .map(|c| {
            let list = c
                .iter()
                .map(|v| soql_literal(v))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{head} ({list})")
        })
        .collect()
}

/// Runs a delete request (or plans it, on a dry run).
pub async fn run(
    client: &SalesforceClient,
    request: &DsrRequest,
    ctx: &DsrContext,
) -> Result<DsrReport, DsrError> {
    let policy = Policy::from_overrides(&ctx.connection.child_policy)?;
    let rid = request.request_id.as_str();
    let saved: Option<DeletePlan> = match &ctx.checkpoints {
        Some(c) if !request.options.dry_run => c.load_plan(rid).await?,
        _ => None,
    };
    let resumed = saved.is_some();
    let plan = match saved {
        Some(p) => p,
        None => {
            let (_, input) = gather(client, request, &policy).await?;
            let plan = plan_delete(&input, request.options.hard_delete);
            if !request.options.dry_run
                && let Some(c) = &ctx.checkpoints
            {
                c.save_plan(rid, &plan).await?;
            }
            plan
        }
    };
    if request.options.dry_run {
        return Ok(dry_run_report(&plan));
    }
    tracing::info!(
        resumed,
        waves = plan.waves.len(),
        cascaded = plan.cascaded.len(),
        "delete plan ready"
    );

    let mut done: HashMap<String, RecordOutcome> = match &ctx.checkpoints {
        Some(c) => c.outcomes(rid).await?,
        None => HashMap::new(),
    };
    for o in &plan.settled {
        done.entry(o.id.clone()).or_insert_with(|| o.clone());
    }
    let sent_before = match &ctx.checkpoints {
        Some(c) => c.in_flight(rid).await?,
        None => HashSet::new(),
    };
    let attempt = Attempt {
        ctx,
        rid,
        hard_delete: plan.hard_delete,
        sent_before: &sent_before,
    };
    let mut notes = plan.notes.clone();
    for wave in &plan.waves {
        let todo: Vec<Target> = wave
            .records
            .iter()
            .filter(|t| !done.contains_key(&t.id))
            .cloned()
            .collect();
        delete_targets(client, &attempt, &todo, &mut done, &mut notes).await?;
    }
    // A cascade child whose parent was not deleted is still there: delete it on its own.
    let orphans: Vec<Target> = plan
        .cascaded
        .iter()
        .filter(|c| !done.contains_key(&c.id) && !gone(done.get(&c.parent_id)))
        .map(|c| Target {
            object: c.object.clone(),
            id: c.id.clone(),
        })
        .collect();
    delete_targets(client, &attempt, &orphans, &mut done, &mut notes).await?;
    let mut cascade_outcomes = Vec::new();
    for c in &plan.cascaded {
        if done.contains_key(&c.id) {
            continue;
        }
        let mut o = outcome(&c.object, &c.id, RecordOutcomeKind::CascadeDeleted);
        o.reason = Some(format!(
            "deleted with its parent {} {}",
            c.parent_object, c.parent_id
        ));
        cascade_outcomes.push(o);
    }
    checkpoint(ctx, rid, &cascade_outcomes).await?;
    for o in cascade_outcomes {
        done.insert(o.id.clone(), o);
    }

    let records: Vec<RecordOutcome> = plan
        .record_ids()
        .into_iter()
        .filter_map(|(_, id)| done.get(&id).cloned())
        .collect();
    let proof = verify::prove_deleted(client, request, &records, plan.hard_delete, ctx.now).await?;
    let status = overall_status(&records, proof.ok);
    let mut verification = serde_json::to_value(&proof).unwrap_or_default();
    if let Some(map) = verification.as_object_mut() {
        map.insert("notes".into(), serde_json::json!(notes));
        map.insert("resumed".into(), serde_json::json!(resumed));
    }
    Ok(DsrReport {
        status,
        records,
        exported: Vec::new(),
        verification: Some(verification),
        plan: None,
        api_calls: 0,
    })
}

fn gone(o: Option<&RecordOutcome>) -> bool {
    o.is_some_and(|o| {
        matches!(
            o.outcome,
            RecordOutcomeKind::Deleted
                | RecordOutcomeKind::AlreadyDeleted
                | RecordOutcomeKind::CascadeDeleted
        )
    })
}

/// This attempt at a delete request: where it checkpoints, and what earlier attempts sent.
struct Attempt<'a> {
    ctx: &'a DsrContext,
    rid: &'a str,
    hard_delete: bool,
    /// Ids an earlier (interrupted) attempt sent a delete for.
    sent_before: &'a HashSet<String>,
}

impl Attempt<'_> {
    /// Marks ids as sent, before the call that deletes them.
    async fn mark_sent(&self, ids: &[String]) -> Result<(), DsrError> {
        if let Some(c) = &self.ctx.checkpoints {
            c.mark_in_flight(self.rid, ids).await?;
        }
        Ok(())
    }

    /// `already_deleted` would say someone else deleted these; the record was live when the
    /// plan was saved and this request's own earlier call deleted it.
    fn own_earlier_deletes(&self, outs: &mut [RecordOutcome]) {
        for o in outs.iter_mut().filter(|o| {
            o.outcome == RecordOutcomeKind::AlreadyDeleted && self.sent_before.contains(&o.id)
        }) {
            o.outcome = RecordOutcomeKind::Deleted;
            o.reason = Some(
                "deleted by an earlier attempt of this request, interrupted before it saved the outcome"
                    .into(),
            );
        }
    }
}

/// Deletes targets in ≤ 200-id calls (or one Bulk `hardDelete` job per object), checkpointing
/// after each call. A Bulk job the org refuses falls back to a soft delete, noted.
async fn delete_targets(
    client: &SalesforceClient,
    attempt: &Attempt<'_>,
    targets: &[Target],
    done: &mut HashMap<String, RecordOutcome>,
    notes: &mut Vec<String>,
) -> Result<(), DsrError> {
    if targets.is_empty() {
        return Ok(());
    }
    let (ctx, rid, hard_delete) = (attempt.ctx, attempt.rid, attempt.hard_delete);
    let mut soft: Vec<Target> = Vec::new();
    // Rows soft-deleted because the org refused hardDelete, and the day Salesforce empties them
    // from the recycle bin.
    let mut refused: HashMap<String, String> = HashMap::new();
    let purge_day = (ctx.now + chrono::Duration::days(RECYCLE_BIN_DAYS)).date_naive();
    if hard_delete {
        let mut by_object: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
        for t in targets {
            by_object.entry(t.object.as_str()).or_default().push(t);
        }
        for (object, group) in by_object {
            let ids: Vec<String> = group.iter().map(|t| t.id.clone()).collect();
            attempt.mark_sent(&ids).await?;
            match client.bulk_hard_delete(object, &ids).await {
                Ok(results) => {
                    let mut outs = map_results(&group, &results);
                    attempt.own_earlier_deletes(&mut outs);
                    checkpoint(ctx, rid, &outs).await?;
                    for o in outs {
                        done.insert(o.id.clone(), o);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Permanent => {
                    notes.push(format!(
                        "hardDelete of {object} refused ({}): soft-deleted instead; the {} rows stay in the recycle bin until Salesforce empties it on {purge_day} ({RECYCLE_BIN_DAYS} days)",
                        e.code(),
                        group.len()
                    ));
                    for t in &group {
                        refused.insert(t.id.clone(), e.code());
                    }
                    soft.extend(group.into_iter().cloned());
                }
                Err(e) => return Err(e.into()),
            }
        }
    } else {
        soft = targets.to_vec();
    }
    for chunk in soft.chunks(COLLECTION_CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|t| t.id.clone()).collect();
        attempt.mark_sent(&ids).await?;
        let results = client.delete(&ids, false).await?;
        let refs: Vec<&Target> = chunk.iter().collect();
        let mut outs = map_results(&refs, &results);
        attempt.own_earlier_deletes(&mut outs);
        for o in &mut outs {
            if let Some(code) = refused.get(&o.id)
                && o.outcome == RecordOutcomeKind::Deleted
            {
                o.reason = Some(format!(
                    "in the recycle bin until {purge_day}: hardDelete refused ({code})"
                ));
            }
        }
        checkpoint(ctx, rid, &outs).await?;
        for o in outs {
            done.insert(o.id.clone(), o);
        }
    }
    Ok(())
}

/// Pairs results with targets: by id when Salesforce returns one, else by position.
fn map_results(targets: &[&Target], results: &[SaveResult]) -> Vec<RecordOutcome> {
    targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let r = results
                .iter()
                .find(|r| r.id.as_deref() == Some(t.id.as_str()))
                .or_else(|| results.get(i));
            match r {
                Some(r) => delete_outcome(t, r),
                None => {
                    let mut o = outcome(&t.object, &t.id, RecordOutcomeKind::Failed);
                    o.error_code = Some("NO_RESULT".into());
                    o.reason = Some("Salesforce returned no result for this record".into());
                    o
                }
            }
        })
        .collect()
}

fn dry_run_report(plan: &DeletePlan) -> DsrReport {
    let mut records = plan.settled.clone();
    for w in &plan.waves {
        for t in &w.records {
            let mut o = outcome(&t.object, &t.id, RecordOutcomeKind::Planned);
            o.reason = Some(format!("delete ({})", w.label));
            records.push(o);
        }
    }
    for c in &plan.cascaded {
        let mut o = outcome(&c.object, &c.id, RecordOutcomeKind::Planned);
        o.reason = Some(format!("cascade with {} {}", c.parent_object, c.parent_id));
        records.push(o);
    }
    let plan_json = serde_json::json!({
        "action": "delete",
        "waves": plan.waves,
        "cascaded": plan.cascaded,
        "hard_delete": plan.hard_delete,
        "notes": plan.notes,
        "api_calls": {
            "writes": plan.write_calls(),
            "write_endpoint": if plan.hard_delete { "Bulk API 2.0 hardDelete job per object and wave" } else { "DELETE /composite/sobjects?ids=…&allOrNone=false (≤200 ids)" },
            "verification": "one SOQL per object for live rows, one queryAll per object for the recycle bin",
        },
    });
    DsrReport {
        // What the real run would report, as far as the plan knows (a User kept back).
        status: super::overall_status(&records, true),
        records,
        exported: Vec::new(),
        verification: None,
        plan: Some(plan_json),
        api_calls: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::error::ApiErrorBody;

    fn subject(object: &str, id: &str) -> SubjectRecord {
        SubjectRecord {
            object: object.into(),
            id: id.into(),
            person_account_id: None,
            active_portal_user: false,
        }
    }

    fn child(object: &str, id: &str, parent: &str, cascade: bool, restricted: bool) -> Associated {
        Associated {
            object: object.into(),
            id: id.into(),
            parent_object: "Contact".into(),
            parent_id: parent.into(),
            field: "ContactId".into(),
            cascade,
            restricted,
        }
    }

    #[test]
    fn restricted_children_go_first_cascades_are_reported_users_skipped() {
        let input = DeleteInput {
            subjects: vec![
                subject("Contact", "003A"),
                subject("User", "005A"),
                subject("Lead", "00QA"),
            ],
            associated: vec![
                child("Case", "500A", "003A", false, true),
                child("Task", "00TA", "003A", true, false),
                child("CampaignMember", "00vA", "003A", true, false),
            ],
            individuals: vec!["0PKA".into()],
            ..Default::default()
        };
        let plan = plan_delete(&input, false);
        assert_eq!(plan.waves.len(), 3);
        assert_eq!(
            plan.waves[0].records,
            vec![Target {
                object: "Case".into(),
                id: "500A".into()
            }]
        );
        let parents: Vec<&str> = plan.waves[1]
            .records
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(parents, vec!["003A", "00QA"]);
        assert_eq!(plan.waves[2].records[0].object, "Individual");
        let cascaded: Vec<&str> = plan.cascaded.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(cascaded, vec!["00TA", "00vA"]);
        assert_eq!(plan.settled.len(), 1);
        assert_eq!(plan.settled[0].outcome, RecordOutcomeKind::Skipped);
        assert_eq!(plan.settled[0].object, "User");
        assert_eq!(plan.write_calls(), 3);
        assert_eq!(plan.record_ids().len(), 7);
    }

    #[test]
    fn person_accounts_go_through_their_account_and_portal_contacts_are_reported() {
        let mut person = subject("Contact", "003P");
        person.person_account_id = Some("001P".into());
        let mut portal = subject("Contact", "003Q");
        portal.active_portal_user = true;
        let input = DeleteInput {
            subjects: vec![person, portal],
            associated: vec![child("Case", "500Q", "003Q", true, false)],
            ..Default::default()
        };
        let plan = plan_delete(&input, true);
        // The portal contact is not deleted, so its cascade child must be deleted explicitly.
        assert_eq!(plan.waves[0].records[0].id, "500Q");
        assert_eq!(
            plan.waves[1].records,
            vec![Target {
                object: "Account".into(),
                id: "001P".into()
            }]
        );
        assert_eq!(plan.cascaded[0].id, "003P");
        assert_eq!(
            plan.settled[0].error_code.as_deref(),
            Some("ACTIVE_PORTAL_USER")
        );
        assert_eq!(plan.write_calls(), 10);
    }

    #[test]
    fn a_record_restricted_by_one_parent_and_cascaded_by_another_goes_first_once() {
        // A person account's Case: ContactId (restricted) and AccountId (cascade). A Task that
        // cascades from both is still reported once.
        let mut person = subject("Contact", "003A");
        person.person_account_id = Some("001A".into());
        let on_account = |object: &str, id: &str, cascade: bool, restricted: bool| Associated {
            parent_object: "Account".into(),
            parent_id: "001A".into(),
            field: "AccountId".into(),
            ..child(object, id, "001A", cascade, restricted)
        };
        let sightings = vec![
            child("Case", "500A", "003A", false, true),
            on_account("Case", "500A", true, false),
            child("Task", "00TA", "003A", true, false),
            on_account("Task", "00TA", true, false),
        ];
        for reversed in [false, true] {
            let mut associated = sightings.clone();
            if reversed {
                associated.reverse();
            }
            let input = DeleteInput {
                subjects: vec![person.clone()],
                associated,
                ..Default::default()
            };
            let plan = plan_delete(&input, false);
            assert_eq!(plan.waves.len(), 2, "{plan:#?}");
            assert_eq!(
                plan.waves[0].records,
                vec![Target {
                    object: "Case".into(),
                    id: "500A".into()
                }],
                "{plan:#?}"
            );
            assert_eq!(
                plan.waves[1].records,
                vec![Target {
                    object: "Account".into(),
                    id: "001A".into()
                }],
                "{plan:#?}"
            );
            let mut cascaded: Vec<&str> = plan.cascaded.iter().map(|c| c.id.as_str()).collect();
            cascaded.sort_unstable();
            assert_eq!(cascaded, vec!["003A", "00TA"], "{plan:#?}");
            let mut ids: Vec<String> = plan.record_ids().into_iter().map(|(_, id)| id).collect();
            ids.sort_unstable();
            assert_eq!(ids, vec!["001A", "003A", "00TA", "500A"], "{plan:#?}");
        }
    }

    #[test]
    fn a_matched_record_that_cascades_is_not_deleted_twice() {
        let input = DeleteInput {
            subjects: vec![subject("Contact", "003A"), subject("Case", "500A")],
            associated: vec![child("Case", "500A", "003A", true, false)],
            ..Default::default()
        };
        let plan = plan_delete(&input, false);
        assert_eq!(plan.waves.len(), 1);
        assert_eq!(plan.waves[0].records.len(), 1);
        assert_eq!(plan.cascaded.len(), 1);
    }

    #[test]
    fn a_matched_restricted_child_goes_before_its_parent_once() {
        // `objects: "all"`: the Case matched by its SuppliedEmail and found through its Contact.
        let ids = |w: &Wave| w.records.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
        for child_objects in [BTreeSet::new(), BTreeSet::from(["Case".to_string()])] {
            let input = DeleteInput {
                subjects: vec![subject("Contact", "003A"), subject("Case", "500A")],
                associated: vec![
                    child("Case", "500A", "003A", false, true),
                    child("Case", "500B", "003A", false, true),
                ],
                child_objects,
                ..Default::default()
            };
            let plan = plan_delete(&input, false);
            assert_eq!(plan.waves.len(), 2, "{plan:#?}");
            assert_eq!(ids(&plan.waves[0]), vec!["500A", "500B"]);
            assert_eq!(ids(&plan.waves[1]), vec!["003A"]);
            assert!(plan.cascaded.is_empty());
            assert_eq!(plan.record_ids().len(), 3);
            assert_eq!(plan.write_calls(), 2);
        }
    }

    #[test]
    fn matched_records_of_child_objects_go_first_parents_stay_with_the_subjects() {
        // Not found through a parent (outside the policy, or another parent): the describe
        // still says a Payment_Method__c can block a Contact.
        let input = DeleteInput {
            subjects: vec![
                subject("Contact", "003A"),
                subject("Payment_Method__c", "a02A"),
                subject("Account", "001A"),
                subject("Campaign", "701A"),
            ],
            child_objects: ["Payment_Method__c", "Case"]
                .into_iter()
                .map(String::from)
                .collect(),
            ..Default::default()
        };
        let plan = plan_delete(&input, false);
        let objects = |w: &Wave| {
            w.records
                .iter()
                .map(|t| t.object.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(objects(&plan.waves[0]), vec!["Payment_Method__c"]);
        assert_eq!(
            objects(&plan.waves[1]),
            vec!["Contact", "Account", "Campaign"]
        );
    }

    #[test]
    fn writes_are_chunked_by_200() {
        let input = DeleteInput {
            subjects: (0..500)
                .map(|i| subject("Contact", &format!("003{i:05}")))
                .collect(),
            ..Default::default()
        };
        assert_eq!(plan_delete(&input, false).write_calls(), 3);
    }

    #[test]
    fn results_map_to_outcomes_without_personal_data() {
        let t = Target {
            object: "Contact".into(),
            id: "003A".into(),
        };
        let err = |code: &str, msg: &str| SaveResult {
            id: Some("003A".into()),
            success: false,
            errors: vec![ApiErrorBody {
                message: msg.into(),
                error_code: code.into(),
                fields: vec![],
            }],
        };
        assert_eq!(
            delete_outcome(&t, &err("ENTITY_IS_DELETED", "entity is deleted")).outcome,
            RecordOutcomeKind::AlreadyDeleted
        );
        let o = delete_outcome(
            &t,
            &err(
                "DELETE_FAILED",
                "Your attempt to delete Jane Doe could not be completed because it is associated with the following cases.: 00001026",
            ),
        );
        assert_eq!(o.outcome, RecordOutcomeKind::Failed);
        assert_eq!(o.error_code.as_deref(), Some("DELETE_FAILED"));
        let reason = o.reason.unwrap();
        assert_eq!(
            reason,
            "blocked: associated with the following cases (1 record)"
        );
        // The blocking records' names are left out: they can be personal.
        let o = delete_outcome(
            &t,
            &err(
                "DELETE_FAILED",
                "Your attempt to delete Carol Trial could not be completed because it is associated with the following payment methods.: PM-caroltrial, PM-carol2\n",
            ),
        );
        let reason = o.reason.unwrap();
        assert_eq!(
            reason,
            "blocked: associated with the following payment methods (2 records)"
        );
        let ok = SaveResult {
            id: Some("003A".into()),
            success: true,
            errors: vec![],
        };
        assert_eq!(delete_outcome(&t, &ok).outcome, RecordOutcomeKind::Deleted);
    }
}
