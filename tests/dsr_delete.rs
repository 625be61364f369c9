//! Delete requests against the emulator (issue 4): associated records in an order the org
//! accepts, Users skipped, the edge outcomes, `partial` on a failure, hard delete with proof,
//! and a 500-record delete interrupted midway that resumes into one complete report.

mod dsr_harness;
mod sf_harness;

use dsr_harness::{Dsr, count, outcome_of, request};
use serde_json::json;
use sfprivacy::dsr::{self, delete};
use sfprivacy::message::{DsrAction, ObjectSelection, RecordOutcomeKind as K, ResultStatus};

#[tokio::test]
async fn contact_with_cases_tasks_and_campaign_members_goes_with_them_user_skipped() {
    let t = Dsr::start().await;
    let email = "jane.doe@example.com";
    let contact = t
        .insert(
            "Contact",
            vec![json!({"LastName": "Doe", "FirstName": "Jane", "Email": email})],
            true,
        )
        .await;
    let c = &contact[0];
    let cases = t
        .insert(
            "Case",
            vec![
                json!({"ContactId": c, "Subject": "a"}),
                json!({"ContactId": c, "Subject": "b"}),
            ],
            true,
        )
        .await;
    let tasks = t
        .insert(
            "Task",
            vec![
                json!({"WhoId": c, "Subject": "Call"}),
                json!({"WhoId": c, "Subject": "Mail"}),
            ],
            true,
        )
        .await;
    let campaign = t
        .insert("Campaign", vec![json!({"Name": "Spring"})], true)
        .await;
    let members = t
        .insert(
            "CampaignMember",
            vec![json!({"CampaignId": campaign[0], "ContactId": c})],
            true,
        )
        .await;
    let user = t.insert("User", vec![json!({"LastName": "Doe", "Email": "Jane.Doe@example.com", "Username": "jane@corp.example", "Alias": "jdoe", "IsActive": true})], true).await;
    let other = t
        .insert(
            "Contact",
            vec![json!({"LastName": "Roe", "Email": "jane.doe@example.com.au"})],
            true,
        )
        .await;

    // The dry run says already what the real run will: the User is kept back.
    let mut dry = request(DsrAction::Delete, &[email], ObjectSelection::Default);
    dry.options.dry_run = true;
    let plan = t.run(&dry, &t.context()).await;
    assert_eq!(plan.status, ResultStatus::Partial, "{plan:#?}");

    let report = t
        .run(
            &request(DsrAction::Delete, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;

    // The User keeps the person's email: the request cannot be complete until an admin
    // scrambles that user, and says so.
    assert_eq!(report.status, ResultStatus::Partial, "{report:#?}");
    assert_eq!(outcome_of(&report, c).outcome, K::Deleted);
    for id in &cases {
        assert_eq!(
            outcome_of(&report, id).outcome,
            K::Deleted,
            "cases go before their contact"
        );
    }
    for id in tasks.iter().chain(&members) {
        assert_eq!(outcome_of(&report, id).outcome, K::CascadeDeleted);
    }
    let u = outcome_of(&report, &user[0]);
    assert_eq!(u.outcome, K::Skipped);
    assert_eq!(u.error_code.as_deref(), Some("USER_NEEDS_OBFUSCATION"));
    assert!(u.reason.as_deref().unwrap().contains("never deleted"));
    assert!(u.reason.as_deref().unwrap().contains("obfuscat"));
    let others: Vec<_> = report.records.iter().filter(|r| r.id != user[0]).collect();
    assert!(
        others.iter().all(|r| r.error_code.is_none()),
        "only the User keeps the request partial: {report:#?}"
    );
    assert!(
        report.records.iter().all(|r| r.id != other[0]),
        "a longer email is not the subject's"
    );
    assert_eq!(report.records.len(), 7);

    // The org agrees: nothing of the subject is live, the User and the other contact are.
    assert!(
        t.live(&format!("SELECT Id FROM Contact WHERE Email = '{email}'"))
            .await
            .is_empty()
    );
    assert!(
        t.live(&format!("SELECT Id FROM Case WHERE ContactId = '{c}'"))
            .await
            .is_empty()
    );
    assert_eq!(
        t.live(&format!("SELECT Id FROM User WHERE Id = '{}'", user[0]))
            .await
            .len(),
        1
    );
    assert_eq!(
        t.live(&format!("SELECT Id FROM Contact WHERE Id = '{}'", other[0]))
            .await
            .len(),
        1
    );
    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(true));
    // Soft delete: the rows sit in the recycle bin, each with the day it is purged.
    let bin = proof["recycle_bin"].as_array().unwrap();
    assert_eq!(bin.len(), 6, "{proof:#}");
    assert!(
        bin.iter()
            .all(|r| r["purged_after"].as_str().unwrap().len() == 10)
    );
    assert!(report.api_calls > 0);
    t.cleanup().await;
}

#[tokio::test]
async fn fresh_already_deleted_and_converted_records_end_with_the_right_outcome() {
    let t = Dsr::start().await;
    let email = "sam+dsr-1@example.org";
    let searchable = t
        .insert(
            "Contact",
            vec![
                json!({"LastName": "A", "Email": email}),
                json!({"LastName": "B", "Email": email}),
            ],
            true,
        )
        .await;
    // Written a moment ago: inside the search index lag, only SOQL sees it.
    let fresh = t
        .insert(
            "Contact",
            vec![json!({"LastName": "C", "Email": "SAM+dsr-1@Example.org"})],
            false,
        )
        .await;
    let converted = t.insert("Lead", vec![json!({"LastName": "D", "Company": "X", "Email": email, "IsConverted": true, "Status": "Closed - Converted"})], true).await;

    // Redelivery after the plan was made: meanwhile someone deleted one of the records.
    let ctx = t.context_with_checkpoints().await;
    let req = request(DsrAction::Delete, &[email], ObjectSelection::Default);
    let policy = dsr::policy::Policy::default();
    let (_, input) = delete::gather(&t.client, &req, &policy).await.unwrap();
    let plan = delete::plan_delete(&input, false);
    ctx.checkpoints
        .as_ref()
        .unwrap()
        .save_plan(&req.request_id, &plan)
        .await
        .unwrap();
    let r = t
        .client
        .delete(std::slice::from_ref(&searchable[1]), false)
        .await
        .unwrap();
    assert!(r[0].success);

    let report = t.run(&req, &ctx).await;
    assert_eq!(outcome_of(&report, &searchable[0]).outcome, K::Deleted);
    assert_eq!(
        outcome_of(&report, &searchable[1]).outcome,
        K::AlreadyDeleted
    );
    assert_eq!(
        outcome_of(&report, &fresh[0]).outcome,
        K::Deleted,
        "found by SOQL before it is searchable"
    );
    assert_eq!(outcome_of(&report, &converted[0]).outcome, K::Deleted);
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    t.cleanup().await;
}

#[tokio::test]
async fn one_failing_record_makes_the_result_partial_with_its_code() {
    let t = Dsr::start().await;
    let email = "blocked@example.com";
    let ids = t
        .insert(
            "Contact",
            vec![
                json!({"LastName": "A", "Email": email}),
                json!({"LastName": "B", "Email": email}),
            ],
            true,
        )
        .await;
    // A payment method (kept by the default policy) blocks deleting its contact.
    t.insert(
        "Payment_Method__c",
        vec![json!({"Name": "card", "Contact__c": ids[1]})],
        true,
    )
    .await;

    let report = t
        .run(
            &request(DsrAction::Delete, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Partial);
    assert_eq!(outcome_of(&report, &ids[0]).outcome, K::Deleted);
    let failed = outcome_of(&report, &ids[1]);
    assert_eq!(failed.outcome, K::Failed);
    assert_eq!(failed.error_code.as_deref(), Some("DELETE_FAILED"));
    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(false));
    assert_eq!(
        proof["live_rows_with_subject_email"][0]["id"],
        json!(ids[1])
    );
    t.cleanup().await;
}

/// A contact with a case, both holding the subject's data, for the hard-delete tests.
async fn contact_with_case(t: &Dsr, email: &str) -> (String, String) {
    let ids = t
        .insert(
            "Contact",
            vec![json!({"LastName": "A", "Email": email})],
            true,
        )
        .await;
    let cases = t
        .insert(
            "Case",
            vec![json!({"ContactId": ids[0], "Subject": "x"})],
            true,
        )
        .await;
    (ids[0].clone(), cases[0].clone())
}

#[tokio::test]
async fn hard_delete_with_the_permission_purges_and_query_all_proves_it() {
    let t = Dsr::start().await;
    let email = "purge.me@example.com";
    let (contact, case) = contact_with_case(&t, email).await;
    t.reset_counters().await;
    let mut req = request(DsrAction::Delete, &[email], ObjectSelection::Default);
    req.options.hard_delete = true;
    let report = t.run(&req, &t.context()).await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    let proof = report.verification.clone().unwrap();
    assert_eq!(proof["ok"], json!(true), "{proof:#}");
    assert_eq!(proof["hard_delete"], json!(true));
    assert_eq!(proof["recycle_bin"], json!([]));
    assert!(
        !proof["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("hardDelete")),
        "{proof:#}"
    );
    assert_eq!(outcome_of(&report, &contact).outcome, K::Deleted);
    // The rows went through Bulk hardDelete jobs (one per object), never a soft delete.
    let counters = t.counters().await;
    let endpoints = &counters["endpoints"];
    assert_eq!(
        endpoints["POST /services/data/{version}/jobs/ingest"],
        json!(2),
        "{counters:#}"
    );
    assert!(endpoints["DELETE /services/data/{version}/composite/sobjects"].is_null());
    // Purged: queryAll sees neither row any more.
    for (object, id) in [("Contact", &contact), ("Case", &case)] {
        assert!(
            t.query_all_rows(&format!("SELECT Id FROM {object} WHERE Id = '{id}'"))
                .await
                .is_empty(),
            "{object} {id} still in the recycle bin"
        );
    }
    t.cleanup().await;
}

#[tokio::test]
async fn hard_delete_without_the_permission_says_the_rows_sit_in_the_recycle_bin_until_when() {
    let t = Dsr::start().await;
    t.put("/__emulator/settings", json!({"bulkApiHardDelete": false}))
        .await;
    let email = "cannot.purge@example.com";
    let (contact, case) = contact_with_case(&t, email).await;
    let mut req = request(DsrAction::Delete, &[email], ObjectSelection::Default);
    req.options.hard_delete = true;
    let before = chrono::Utc::now();
    let report = t.run(&req, &t.context()).await;
    let after = chrono::Utc::now();
    let days = chrono::Duration::days(delete::RECYCLE_BIN_DAYS);
    let purge_days: Vec<String> = [before, after]
        .iter()
        .map(|t| (*t + days).date_naive().to_string())
        .collect();

    // Never claims a purge: the result is partial and the proof lists both rows with the day
    // Salesforce empties them.
    assert_eq!(report.status, ResultStatus::Partial, "{report:#?}");
    let proof = report.verification.clone().unwrap();
    assert_eq!(proof["ok"], json!(false));
    let bin = proof["recycle_bin"].as_array().unwrap();
    let mut binned: Vec<&str> = bin.iter().map(|r| r["id"].as_str().unwrap()).collect();
    binned.sort();
    let mut expected = vec![contact.as_str(), case.as_str()];
    expected.sort();
    assert_eq!(binned, expected, "{proof:#}");
    for row in bin {
        assert!(
            purge_days.contains(&row["purged_after"].as_str().unwrap().to_string()),
            "{row}"
        );
    }
    // The notes and each record say it in words, with the date.
    let notes: Vec<&str> = proof["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    for n in &notes {
        assert!(n.contains("refused (FEATURENOTENABLED)"), "{n}");
        assert!(
            purge_days
                .iter()
                .any(|d| n.contains(&format!("recycle bin until Salesforce empties it on {d}"))),
            "{n}"
        );
    }
    for id in [&contact, &case] {
        let o = outcome_of(&report, id);
        assert_eq!(o.outcome, K::Deleted);
        let reason = o.reason.as_deref().unwrap();
        assert!(reason.starts_with("in the recycle bin until "), "{reason}");
        assert!(
            reason.ends_with("hardDelete refused (FEATURENOTENABLED)"),
            "{reason}"
        );
    }
    // And that is where they are: gone from live queries, still in queryAll.
    assert!(
        t.live(&format!("SELECT Id FROM Contact WHERE Id = '{contact}'"))
            .await
            .is_empty()
    );
    let rows = t
        .query_all_rows(&format!(
            "SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact}'"
        ))
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["IsDeleted"], json!(true));
    t.cleanup().await;
}

#[tokio::test]
async fn dry_run_plans_everything_and_writes_nothing() {
    let t = Dsr::start().await;
    let email = "plan@example.com";
    let ids = t
        .insert(
            "Contact",
            vec![json!({"LastName": "A", "Email": email})],
            true,
        )
        .await;
    t.insert(
        "Case",
        vec![json!({"ContactId": ids[0], "Subject": "x"})],
        true,
    )
    .await;
    let mut req = request(DsrAction::Delete, &[email], ObjectSelection::Default);
    req.options.dry_run = true;
    let report = t.run(&req, &t.context()).await;
    assert_eq!(count(&report, K::Planned), 2);
    let plan = report.plan.unwrap();
    assert_eq!(plan["waves"].as_array().unwrap().len(), 2);
    assert_eq!(plan["api_calls"]["writes"], json!(2));
    assert_eq!(
        t.live(&format!("SELECT Id FROM Contact WHERE Id = '{}'", ids[0]))
            .await
            .len(),
        1
    );
    let counters = t.counters().await;
    let writes: u64 = counters["endpoints"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.contains("DELETE") || k.contains("PATCH"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(writes, 0, "{counters:#}");
    t.cleanup().await;
}

#[tokio::test]
async fn an_interrupted_500_record_delete_resumes_into_one_complete_report() {
    let t = Dsr::start().await;
    let email = "many@example.com";
    let records: Vec<_> = (0..500)
        .map(|i| json!({"LastName": format!("N{i}"), "Email": email}))
        .collect();
    let ids = t.insert("Contact", records, true).await;
    let ctx = t.context_with_checkpoints().await;
    let req = request(DsrAction::Delete, &[email], ObjectSelection::Default);

    // The connection to Salesforce dies after the first delete call (the retrieve of the
    // contacts' person-account fields is the first `composite` call).
    t.put("/__emulator/faults", json!({"fail_next": [{"endpoint": "composite", "kind": "SERVER_UNAVAILABLE", "count": 1000, "after": 2}]})).await;
    let err = dsr::execute(&t.client.for_job(), &req, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), dsr::DsrErrorKind::Transient);
    let saved = ctx
        .checkpoints
        .as_ref()
        .unwrap()
        .outcomes(&req.request_id)
        .await
        .unwrap();
    assert_eq!(
        saved.len(),
        200,
        "the first chunk's outcomes were saved as they happened"
    );

    // Redelivery.
    t.h.admin(reqwest::Method::DELETE, "/__emulator/faults", json!({}))
        .await;
    let report = t.run(&req, &ctx).await;
    assert_eq!(
        report.status,
        ResultStatus::Completed,
        "{:#?}",
        report.verification
    );
    assert_eq!(report.records.len(), 500);
    let mut seen: Vec<&str> = report.records.iter().map(|r| r.id.as_str()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 500);
    assert_eq!(count(&report, K::Deleted), 500);
    assert!(
        ids.iter()
            .all(|id| report.records.iter().any(|r| &r.id == id))
    );
    assert!(
        t.live(&format!("SELECT Id FROM Contact WHERE Email = '{email}'"))
            .await
            .is_empty()
    );
    t.cleanup().await;
}

#[tokio::test]
async fn records_an_interrupted_attempt_deleted_but_never_saved_are_reported_deleted() {
    let t = Dsr::start().await;
    let email = "lost.response@example.com";
    let records: Vec<_> = (0..300)
        .map(|i| json!({"LastName": format!("L{i}"), "Email": email}))
        .collect();
    let ids = t.insert("Contact", records, true).await;
    let ctx = t.context_with_checkpoints().await;
    let req = request(DsrAction::Delete, &[email], ObjectSelection::Default);

    // The second delete call fails (the retrieve is the first `composite` call).
    t.put("/__emulator/faults", json!({"fail_next": [{"endpoint": "composite", "kind": "SERVER_UNAVAILABLE", "count": 1000, "after": 2}]})).await;
    let err = dsr::execute(&t.client.for_job(), &req, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), dsr::DsrErrorKind::Transient);
    let checkpoints = ctx.checkpoints.as_ref().unwrap();
    let saved = checkpoints.outcomes(&req.request_id).await.unwrap();
    assert_eq!(saved.len(), 200);
    let unsaved: Vec<String> = ids
        .iter()
        .filter(|id| !saved.contains_key(*id))
        .cloned()
        .collect();
    assert_eq!(unsaved.len(), 100);
    assert!(
        checkpoints
            .in_flight(&req.request_id)
            .await
            .unwrap()
            .is_superset(&unsaved.iter().cloned().collect()),
        "the failed call's ids were marked as sent before it"
    );

    // As when Salesforce carried out that call and only its response was lost (a worker
    // killed while it waited): the rows are in the recycle bin, no outcome was saved.
    t.h.admin(reqwest::Method::DELETE, "/__emulator/faults", json!({}))
        .await;
    let results = t.client.delete(&unsaved, false).await.unwrap();
    assert!(results.iter().all(|r| r.success));

    let report = t.run(&req, &ctx).await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    assert_eq!(report.records.len(), 300);
    assert_eq!(count(&report, K::Deleted), 300, "{report:#?}");
    for id in &unsaved {
        let o = outcome_of(&report, id);
        assert!(
            o.reason.as_deref().unwrap().contains("earlier attempt"),
            "{o:?}"
        );
    }
    for id in saved.keys() {
        assert_eq!(outcome_of(&report, id).reason, None);
    }
    t.cleanup().await;
}

#[tokio::test]
async fn rows_this_request_deleted_are_purged_fifteen_days_from_now_whatever_their_modstamp() {
    let t = Dsr::start_seeded(3, 200).await;
    // A seeded contact: last modified long before the request.
    let seeded = t
        .live("SELECT Id, Email, SystemModstamp FROM Contact WHERE Email != null ORDER BY SystemModstamp LIMIT 1")
        .await;
    let row = &seeded[0];
    let email = row["Email"].as_str().unwrap().to_string();
    let modstamp =
        sfprivacy::dsr::verify::parse_sf_datetime(row["SystemModstamp"].as_str().unwrap()).unwrap();
    let before = chrono::Utc::now();
    assert!(before - modstamp > chrono::Duration::days(30), "{row:?}");
    let report = t
        .run(
            &request(DsrAction::Delete, &[&email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    let after = chrono::Utc::now();
    let days = chrono::Duration::days(delete::RECYCLE_BIN_DAYS);
    let purge_days: Vec<String> = [before, after]
        .iter()
        .map(|t| (*t + days).date_naive().to_string())
        .collect();
    let proof = report.verification.unwrap();
    let bin = proof["recycle_bin"].as_array().unwrap();
    assert!(
        bin.iter().any(|r| r["id"] == row["Id"]),
        "the seeded contact is in the recycle bin: {proof:#}"
    );
    for r in bin {
        assert!(
            purge_days.contains(&r["purged_after"].as_str().unwrap().to_string()),
            "deleted now, purged {RECYCLE:?} days from now: {r}",
            RECYCLE = delete::RECYCLE_BIN_DAYS
        );
    }
    t.cleanup().await;
}

/// The default selection finds the person Contact by its Email (`all` finds the Account by its
/// PersonEmail too); Salesforce deletes a person account through its Account, which takes the
/// Contact with it.
async fn a_person_account_is_deleted_through_its_account(selection: ObjectSelection) {
    let t = Dsr::start_seeded(5, 400).await;
    let rows = t
        .live("SELECT Id, PersonContactId, PersonEmail FROM Account WHERE IsPersonAccount = true AND PersonEmail != null LIMIT 1")
        .await;
    let acc = rows[0]["Id"].as_str().unwrap().to_string();
    let pc = rows[0]["PersonContactId"].as_str().unwrap().to_string();
    let contact = t
        .live(&format!(
            "SELECT Id, Email, IsPersonAccount FROM Contact WHERE Id = '{pc}'"
        ))
        .await;
    assert_eq!(contact[0]["IsPersonAccount"], json!(true));
    let email = contact[0]["Email"].as_str().unwrap().to_string();
    assert_eq!(rows[0]["PersonEmail"], json!(email));

    let report = t
        .run(
            &request(DsrAction::Delete, &[&email], selection),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    let a = outcome_of(&report, &acc);
    assert_eq!(
        (a.object.as_str(), a.outcome),
        ("Account", K::Deleted),
        "{a:#?}"
    );
    let c = outcome_of(&report, &pc);
    assert_eq!(
        (c.object.as_str(), c.outcome),
        ("Contact", K::CascadeDeleted),
        "{c:#?}"
    );
    assert!(
        t.live(&format!("SELECT Id FROM Account WHERE Id = '{acc}'"))
            .await
            .is_empty()
    );
    assert!(
        t.live(&format!("SELECT Id FROM Contact WHERE Id = '{pc}'"))
            .await
            .is_empty()
    );
    assert_eq!(report.verification.unwrap()["ok"], json!(true));
    t.cleanup().await;
}

#[tokio::test]
async fn by_default_a_person_account_found_through_its_contact_is_deleted_through_its_account() {
    a_person_account_is_deleted_through_its_account(ObjectSelection::Default).await;
}

#[tokio::test]
async fn with_all_objects_a_person_account_matched_twice_is_deleted_once() {
    a_person_account_is_deleted_through_its_account(ObjectSelection::All).await;
}

/// With `objects: "all"` a Case carrying the subject's SuppliedEmail is matched on its own as
/// well as found through its Contact; Contact→Case is a restricted delete, so the Case must go
/// in the wave before the Contact or the Contact fails `DELETE_FAILED`.
#[tokio::test]
async fn with_all_objects_a_matched_case_goes_before_its_contact() {
    let t = Dsr::start().await;
    let email = "aditya.patel6@example.in";
    let contact = t
        .insert(
            "Contact",
            vec![json!({"LastName": "Patel", "FirstName": "Aditya", "Email": email})],
            true,
        )
        .await;
    let c = &contact[0];
    let cases = t
        .insert(
            "Case",
            vec![
                json!({"ContactId": c, "SuppliedEmail": email, "Subject": "matched"}),
                json!({"ContactId": c, "Subject": "associated only"}),
            ],
            true,
        )
        .await;

    // The dry run must plan every record once, the Cases before the Contact.
    let mut dry = request(DsrAction::Delete, &[email], ObjectSelection::All);
    dry.options.dry_run = true;
    let plan = t.run(&dry, &t.context()).await;
    for id in cases.iter().chain([c]) {
        assert_eq!(
            plan.records.iter().filter(|r| &r.id == id).count(),
            1,
            "{id} planned once: {plan:#?}"
        );
    }
    let waves = plan.plan.as_ref().unwrap()["waves"].as_array().unwrap();
    let wave_of = |id: &str| {
        waves
            .iter()
            .position(|w| {
                w["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["id"] == json!(id))
            })
            .unwrap_or_else(|| panic!("{id} in no wave: {waves:#?}"))
    };
    for id in &cases {
        assert!(
            wave_of(id) < wave_of(c),
            "{id} before its contact: {waves:#?}"
        );
    }

    let report = t
        .run(
            &request(DsrAction::Delete, &[email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    // Each once (outcome_of checks it).
    for id in cases.iter().chain([c]) {
        assert_eq!(outcome_of(&report, id).outcome, K::Deleted, "{report:#?}");
    }
    assert_eq!(report.records.len(), 3, "{report:#?}");
    assert!(
        t.live(&format!("SELECT Id FROM Contact WHERE Id = '{c}'"))
            .await
            .is_empty()
    );
    assert!(
        t.live(&format!(
            "SELECT Id FROM Case WHERE ContactId = '{c}' OR SuppliedEmail = '{email}'"
        ))
        .await
        .is_empty()
    );
    assert_eq!(report.verification.unwrap()["ok"], json!(true));
    t.cleanup().await;
}

/// The tester's report exactly: the emulator binary's default org (seed 42, 1,000 records),
/// where this subject's Contact has a Case carrying the same email as SuppliedEmail.
#[tokio::test]
async fn with_all_objects_the_reported_subject_on_the_default_seeded_org_completes() {
    let t = Dsr::start_seeded(42, 1000).await;
    let email = "aditya.patel6@example.in";
    let contacts = t
        .live(&format!("SELECT Id FROM Contact WHERE Email = '{email}'"))
        .await;
    let c = contacts[0]["Id"].as_str().unwrap().to_string();
    let cases = t
        .live(&format!(
            "SELECT Id FROM Case WHERE ContactId = '{c}' AND SuppliedEmail = '{email}'"
        ))
        .await;
    assert!(!cases.is_empty(), "the seed holds the reported Case");

    let mut dry = request(DsrAction::Delete, &[email], ObjectSelection::All);
    dry.options.dry_run = true;
    let plan = t.run(&dry, &t.context()).await;
    let report = t
        .run(
            &request(DsrAction::Delete, &[email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    let mut ids: Vec<&str> = report.records.iter().map(|r| r.id.as_str()).collect();
    let planned: Vec<&str> = plan.records.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "every record reported once: {report:#?}");
    assert_eq!(
        planned.len(),
        n,
        "the dry run plans the same records: {plan:#?}"
    );
    assert!(
        report.records.iter().all(|r| r.outcome != K::Failed),
        "{report:#?}"
    );
    for case in &cases {
        let id = case["Id"].as_str().unwrap();
        assert_eq!(outcome_of(&report, id).outcome, K::Deleted);
    }
    assert_eq!(outcome_of(&report, &c).outcome, K::Deleted);
    for object in ["Contact", "Lead"] {
        assert!(
            t.live(&format!("SELECT Id FROM {object} WHERE Email = '{email}'"))
                .await
                .is_empty()
        );
    }
    assert!(
        t.live(&format!(
            "SELECT Id FROM Case WHERE ContactId = '{c}' OR SuppliedEmail = '{email}'"
        ))
        .await
        .is_empty()
    );
    assert_eq!(report.verification.unwrap()["ok"], json!(true));
    t.cleanup().await;
}

/// The tester's report: a person account's Case points at both the Account (cascade) and the
/// person Contact (restricted). Found through both, it must be deleted before the Account, not
/// reported cascaded with it, or the Account's delete fails `DELETE_FAILED` on the Case.
#[tokio::test]
async fn a_person_accounts_case_on_both_its_account_and_contact_goes_before_the_account() {
    let t = Dsr::start_seeded(5, 400).await;
    let rows = t
        .live("SELECT Id, PersonContactId, PersonEmail FROM Account WHERE IsPersonAccount = true AND PersonEmail != null LIMIT 1")
        .await;
    let acc = rows[0]["Id"].as_str().unwrap().to_string();
    let pc = rows[0]["PersonContactId"].as_str().unwrap().to_string();
    let email = rows[0]["PersonEmail"].as_str().unwrap().to_string();
    let case = t
        .insert(
            "Case",
            vec![json!({"AccountId": acc, "ContactId": pc, "Subject": "both"})],
            true,
        )
        .await;
    let case = &case[0];

    let report = t
        .run(
            &request(DsrAction::Delete, &[&email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    // Each once (outcome_of checks it).
    let k = outcome_of(&report, case);
    assert_eq!(
        (k.object.as_str(), k.outcome),
        ("Case", K::Deleted),
        "{k:#?}"
    );
    let a = outcome_of(&report, &acc);
    assert_eq!(
        (a.object.as_str(), a.outcome),
        ("Account", K::Deleted),
        "{a:#?}"
    );
    let c = outcome_of(&report, &pc);
    assert_eq!(
        (c.object.as_str(), c.outcome),
        ("Contact", K::CascadeDeleted),
        "{c:#?}"
    );
    for (object, id) in [("Case", case), ("Account", &acc), ("Contact", &pc)] {
        assert!(
            t.live(&format!("SELECT Id FROM {object} WHERE Id = '{id}'"))
                .await
                .is_empty(),
            "{object} {id} still live"
        );
    }
    assert_eq!(report.verification.unwrap()["ok"], json!(true));
    t.cleanup().await;
}
