//! Scan state in real Redis: a redelivered part never counts twice, progress and the last
//! part are detected across parts, and the summed counts give the same verdicts as one pass.

use sfprivacy::classify::{Detector, FieldProfile, TableClassifier};
use sfprivacy::message::ConfidenceLevel;
use sfprivacy::store::Store;
use sfprivacy::store::scan_state::{SEP, ScanMeta, ScanState};

async fn store() -> Store {
    let prefix = format!("test-classify-{}", uuid::Uuid::new_v4().simple());
    Store::connect("redis://127.0.0.1:6379", &prefix)
        .await
        .unwrap()
}

fn meta(scan_id: &str) -> ScanMeta {
    ScanMeta {
        scan_id: scan_id.into(),
        connection_id: "acme".into(),
        confidence: ConfidenceLevel::Medium,
        reply_to: None,
        started_at: "2026-01-01T00:00:00.000Z".into(),
        total_parts: 3,
        objects: vec![("Contact".into(), 2), ("Lead".into(), 1)],
        missing: vec![],
        plan_api_calls: 2,
    }
}

#[tokio::test]
async fn redelivered_parts_count_once_and_the_last_part_is_seen() {
    let state = ScanState::new(store().await);
    let scan = "scan-1";
    let m = meta(scan);
    assert_eq!(state.init(&m).await.unwrap(), m);
    // A second coordinator keeps the first plan.
    let mut other = meta(scan);
    other.total_parts = 9;
    assert_eq!(state.init(&other).await.unwrap(), m);

    let ne = format!("Contact{SEP}Email{SEP}ne");
    let hit = format!("Contact{SEP}Email{SEP}h{SEP}email");
    let counts = vec![(ne.clone(), 10), (hit.clone(), 9)];
    let c1 = state
        .commit_part(scan, "p0", "Contact", &counts, 10, 3, None)
        .await
        .unwrap();
    assert!(c1.newly);
    assert_eq!(
        (c1.parts_done, c1.objects_done, c1.records_done),
        (1, 0, 10)
    );
    // Redelivery of the same part: nothing added.
    let again = state
        .commit_part(scan, "p0", "Contact", &counts, 10, 3, None)
        .await
        .unwrap();
    assert!(!again.newly);
    assert_eq!((again.parts_done, again.records_done), (1, 10));
    let c2 = state
        .commit_part(scan, "p1", "Contact", &counts, 10, 3, None)
        .await
        .unwrap();
    assert_eq!((c2.parts_done, c2.objects_done), (2, 1));
    let c3 = state
        .commit_part(
            scan,
            "p2",
            "Lead",
            &[],
            0,
            1,
            Some(r#"{"code":"INVALID_FIELD","message":"x"}"#),
        )
        .await
        .unwrap();
    assert_eq!(
        (c3.parts_done, c3.objects_done, c3.records_done),
        (3, 2, 20)
    );

    let t = state.totals(scan).await.unwrap();
    assert_eq!(t.counts[&ne], 20);
    assert_eq!(t.counts[&hit], 18);
    assert_eq!(t.records, 20);
    assert_eq!(t.api_calls, 7);
    assert!(t.errors["Lead"].contains("INVALID_FIELD"));
    state.delete(scan).await.unwrap();
    assert!(state.meta(scan).await.unwrap().is_none());
}

#[tokio::test]
async fn parts_summed_equal_one_pass() {
    let rows = [
        ["Jane Doe", "jane@example.com"],
        ["Luis Garcia", "luis@example.es"],
        ["Priya Sharma", "priya@example.in"],
        ["Oliver Smith", "oliver@example.co.uk"],
    ];
    let profiles = || {
        vec![
            FieldProfile::from_column("Full_Name__c"),
            FieldProfile::from_column("Email"),
        ]
    };
    let mut whole = TableClassifier::new(Detector::default(), profiles());
    let mut a = TableClassifier::new(Detector::default(), profiles());
    let mut b = TableClassifier::new(Detector::default(), profiles());
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<Option<&str>> = r.iter().map(|c| Some(*c)).collect();
        whole.add_record(&cells);
        if i % 2 == 0 { &mut a } else { &mut b }.add_record(&cells);
    }
    let mut merged = a.stats().to_vec();
    for (m, s) in merged.iter_mut().zip(b.stats()) {
        m.merge(s);
    }
    assert_eq!(merged, whole.stats());
    let v = whole.verdicts(ConfidenceLevel::Medium);
    assert_eq!(v[0].data_types[0].data_type, "person_name");
    assert_eq!(v[1].data_types[0].data_type, "email");
}
