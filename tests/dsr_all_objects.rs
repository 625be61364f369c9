//! `objects: "all"` finds what search cannot: rows the search index does not hold yet and
//! objects that are not searchable at all (CampaignMember); the delete proof checks every
//! object it looked at, so a row left behind there cannot pass as gone.

mod dsr_harness;
mod sf_harness;

use dsr_harness::{Dsr, outcome_of, request};
use serde_json::json;
use sfprivacy::message::{DsrAction, ObjectSelection, RecordOutcomeKind as K, ResultStatus};

#[tokio::test]
async fn unindexed_and_unsearchable_rows_are_found_deleted_and_proven_gone() {
    let t = Dsr::start().await;
    let email = "dave.lag@example.org";
    let contact = t
        .insert(
            "Contact",
            vec![json!({"LastName": "Lag", "Email": email})],
            true,
        )
        .await;
    // Written a moment ago: not in the search index yet.
    let case = t
        .insert(
            "Case",
            vec![json!({"Subject": "web form", "SuppliedEmail": email})],
            false,
        )
        .await;
    let campaign = t
        .insert("Campaign", vec![json!({"Name": "Spring"})], true)
        .await;
    // Not searchable at all. Its Email is read-only in Salesforce and always the current value
    // of its Contact's (or Lead's), so it holds the subject's email through the Contact.
    let member = t
        .insert(
            "CampaignMember",
            vec![json!({"CampaignId": campaign[0], "ContactId": contact[0]})],
            true,
        )
        .await;
    let ids = [&contact[0], &case[0], &member[0]];

    let copy = t
        .run(
            &request(DsrAction::Copy, &[email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    let exported: Vec<&str> = copy.exported.iter().map(|r| r.id.as_str()).collect();
    for id in ids {
        assert!(
            exported.contains(&id.as_str()),
            "{id} not exported: {exported:?}"
        );
    }

    let report = t
        .run(
            &request(DsrAction::Delete, &[email], ObjectSelection::All),
            &t.context(),
        )
        .await;
    assert_eq!(report.status, ResultStatus::Completed, "{report:#?}");
    for id in [&contact[0], &case[0]] {
        assert_eq!(outcome_of(&report, id).outcome, K::Deleted, "{report:#?}");
    }
    // Deleted with its Contact (cascade) or on its own first: gone either way, reported once.
    assert!(
        matches!(
            outcome_of(&report, &member[0]).outcome,
            K::Deleted | K::CascadeDeleted
        ),
        "{report:#?}"
    );
    for (object, id) in [("Case", &case[0]), ("CampaignMember", &member[0])] {
        assert!(
            t.live(&format!("SELECT Id FROM {object} WHERE Id = '{id}'"))
                .await
                .is_empty(),
            "{object} {id} still live"
        );
    }
    let proof = report.verification.unwrap();
    assert_eq!(proof["ok"], json!(true), "{proof:#}");
    let checked: Vec<&str> = proof["checked_objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.as_str())
        .collect();
    for object in ["Contact", "Lead", "Case", "CampaignMember"] {
        assert!(
            checked.contains(&object),
            "{object} not checked: {checked:?}"
        );
    }
    t.cleanup().await;
}
