//! Copy requests against the emulator (issue 3, "Copy requests"): `+` and `-` in the address,
//! a record written a second ago, case differences, and a longer address that merely contains
//! the subject's, which must not match.

mod dsr_harness;
mod sf_harness;

use dsr_harness::{Dsr, request};
use serde_json::json;
use sfprivacy::message::{DsrAction, ObjectSelection, RecordOutcomeKind as K, ResultStatus};

#[tokio::test]
async fn finds_exact_matches_only_including_fresh_records() {
    let t = Dsr::start().await;
    let email = "mary-jane+news@example-mail.com";
    let old = t.insert("Contact", vec![json!({"LastName": "Watson", "FirstName": "Mary", "Email": email, "MailingCity": "NYC"})], true).await;
    let cased = t.insert("Lead", vec![json!({"LastName": "Watson", "Company": "Bugle", "Email": "Mary-Jane+News@Example-Mail.COM"})], true).await;
    let fresh = t
        .insert(
            "Contact",
            vec![json!({"LastName": "Watson2", "Email": email})],
            false,
        )
        .await;
    let longer = t
        .insert(
            "Contact",
            vec![
                json!({"LastName": "Other", "Email": "mary-jane+news@example-mail.com.au"}),
                json!({"LastName": "Other2", "Email": "xmary-jane+news@example-mail.com"}),
            ],
            true,
        )
        .await;

    let report = t
        .run(
            &request(DsrAction::Copy, &[email], ObjectSelection::Default),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed);
    let ids: Vec<&str> = report.exported.iter().map(|r| r.id.as_str()).collect();
    for id in [&old[0], &cased[0], &fresh[0]] {
        assert!(ids.contains(&id.as_str()), "{id} missing from {ids:?}");
    }
    for id in &longer {
        assert!(!ids.contains(&id.as_str()), "{id} is not the subject's");
    }
    assert_eq!(report.exported.len(), 3);
    assert!(report.records.iter().all(|r| r.outcome == K::Copied));
    let contact = report.exported.iter().find(|r| r.id == old[0]).unwrap();
    assert_eq!(
        contact.fields["MailingCity"],
        json!("NYC"),
        "address read through its components"
    );
    assert!(!contact.fields.contains_key("MailingAddress"));
    assert!(!contact.fields.contains_key("attributes"));
    t.cleanup().await;
}

#[tokio::test]
async fn all_objects_include_associated_records() {
    let t = Dsr::start().await;
    let email = "assoc@example.com";
    let c = t
        .insert(
            "Contact",
            vec![json!({"LastName": "A", "Email": email})],
            true,
        )
        .await;
    let case = t
        .insert(
            "Case",
            vec![json!({"ContactId": c[0], "Subject": "x"})],
            true,
        )
        .await;
    let report = t
        .run(
            &request(DsrAction::Copy, &[email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    let ids: Vec<&str> = report.exported.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.contains(&c[0].as_str()) && ids.contains(&case[0].as_str()),
        "{ids:?}"
    );
    t.cleanup().await;
}

/// The Individual behind the subject's Contact and Lead (one record, exported once) is part of
/// the copy, unless the request lists its objects.
#[tokio::test]
async fn the_subjects_individual_is_exported_once() {
    let t = Dsr::start().await;
    let email = "ivy.copy@example.com";
    let ind = t
        .insert(
            "Individual",
            vec![json!({"FirstName": "Ivy", "LastName": "Copy", "BirthDate": "1979-03-04"})],
            false,
        )
        .await;
    t.insert(
        "Contact",
        vec![json!({"LastName": "Copy", "Email": email, "IndividualId": ind[0]})],
        true,
    )
    .await;
    t.insert(
        "Lead",
        vec![json!({"LastName": "Copy", "Company": "C", "Email": email, "IndividualId": ind[0]})],
        true,
    )
    .await;
    for selection in [ObjectSelection::Default, ObjectSelection::All] {
        let report = t
            .run(&request(DsrAction::Copy, &[email], selection), &t.context())
            .await;
        let individuals: Vec<_> = report
            .exported
            .iter()
            .filter(|r| r.object == "Individual")
            .collect();
        assert_eq!(individuals.len(), 1, "{:?}", report.exported);
        assert_eq!(individuals[0].id, ind[0]);
        assert_eq!(individuals[0].fields["BirthDate"], json!("1979-03-04"));
        assert!(
            report
                .records
                .iter()
                .any(|r| r.id == ind[0] && r.outcome == K::Copied)
        );
    }
    let listed = ObjectSelection::Listed(vec!["Contact".into()]);
    let report = t
        .run(&request(DsrAction::Copy, &[email], listed), &t.context())
        .await;
    assert!(
        report.exported.iter().all(|r| r.object == "Contact"),
        "{:?}",
        report.exported
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_listed_object_the_org_lacks_is_named_in_the_error() {
    let t = Dsr::start().await;
    let req = request(
        DsrAction::Copy,
        &["nobody@example.com"],
        ObjectSelection::Listed(vec!["Contact".into(), "Loyalty_Card__c".into()]),
    );
    let err = sfprivacy::dsr::execute(&t.client.for_job(), &req, &t.context())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), sfprivacy::dsr::DsrErrorKind::Permanent);
    assert_eq!(err.code(), "INVALID_TYPE");
    let text = err.to_string();
    assert!(text.contains("Loyalty_Card__c"), "{text}");
    // Our finding from describe, not an error Salesforce sent back.
    assert!(!text.contains("404"), "{text}");
    t.cleanup().await;
}

/// An object asked for by name that has no email field cannot hold a match: the request says
/// so instead of completing with nothing found there.
#[tokio::test]
async fn a_listed_object_without_an_email_field_is_named_in_the_error() {
    let t = Dsr::start().await;
    for action in [DsrAction::Copy, DsrAction::Delete, DsrAction::Anonymize] {
        let req = request(
            action,
            &["nobody@example.com"],
            ObjectSelection::Listed(vec!["Contact".into(), "Project__c".into()]),
        );
        let err = sfprivacy::dsr::execute(&t.client.for_job(), &req, &t.context())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), sfprivacy::dsr::DsrErrorKind::Permanent);
        assert_eq!(err.code(), "NO_EMAIL_FIELD");
        let text = err.to_string();
        assert!(!text.contains("Salesforce 400"), "{text}");
        assert!(!text.contains("  "), "one sentence: {text}");
        assert!(text.contains("Project__c"), "{text}");
    }
    t.cleanup().await;
}

#[tokio::test]
async fn a_session_expiring_mid_copy_costs_one_refresh_and_exports_each_record_once() {
    let t = Dsr::start().await;
    let email = "long.export@example.com";
    let ids = t
        .insert(
            "Contact",
            (0..450)
                .map(|i| json!({"LastName": format!("E{i}"), "Email": email}))
                .collect(),
            true,
        )
        .await;
    // A session first, so the refresh below is the only token request of the copy.
    t.client
        .query_all("SELECT Id FROM User LIMIT 1")
        .await
        .unwrap();
    const TOKEN: &str = "POST /services/oauth2/token";
    const SEARCH: &str = "GET /services/data/{version}/search";
    let tokens_before = t.h.count(TOKEN).await;
    // Some latency, so the watcher sees the search answered before the queries and the read.
    t.h.emu
        .state
        .faults
        .set(sf_emulator::faults::FaultSettings {
            latency_ms: 50,
            ..Default::default()
        });
    let req = request(DsrAction::Copy, &[email], ObjectSelection::Default);
    let ctx = t.context();
    let expire_after_the_search = async {
        let start = std::time::Instant::now();
        while t.h.count(SEARCH).await < 1 {
            assert!(start.elapsed() < std::time::Duration::from_secs(30));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        t.h.sessions_issued_and_expire()
    };
    let (report, expired) = tokio::join!(t.run(&req, &ctx), expire_after_the_search);
    assert!(expired >= 1, "a session was expired mid-copy");
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    let exported: Vec<&str> = report.exported.iter().map(|r| r.id.as_str()).collect();
    let unique: std::collections::BTreeSet<&str> = exported.iter().copied().collect();
    assert_eq!(exported.len(), 450, "no duplicates");
    assert_eq!(
        unique,
        ids.iter().map(String::as_str).collect(),
        "nothing missing"
    );
    assert_eq!(t.h.count(TOKEN).await, tokens_before + 1, "one refresh");
    t.cleanup().await;
}
