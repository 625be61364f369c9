//! DSR checkpoints against the real Redis (127.0.0.1:6379): plans and outcomes survive a
//! "restart" (a new handle), outcomes accumulate across attempts, API calls add up, clear forgets.

use sfprivacy::message::{RecordOutcome, RecordOutcomeKind};
use sfprivacy::store::Store;
use sfprivacy::store::checkpoint::Checkpoints;

fn outcome(id: &str, kind: RecordOutcomeKind) -> RecordOutcome {
    RecordOutcome {
        object: "Contact".into(),
        id: id.into(),
        outcome: kind,
        fields: vec![],
        error_code: None,
        reason: None,
    }
}

#[tokio::test]
async fn checkpoints_survive_a_new_handle_and_accumulate() {
    let prefix = format!("test-dsr-{}", uuid::Uuid::new_v4());
    let store = Store::connect("redis://127.0.0.1:6379", &prefix)
        .await
        .unwrap();
    let cp = Checkpoints::new(store.clone());
    let rid = "req-1";
    assert_eq!(cp.load_plan::<Vec<String>>(rid).await.unwrap(), None);
    cp.save_plan(rid, &vec!["003A".to_string(), "003B".to_string()])
        .await
        .unwrap();
    cp.record_outcomes(rid, &[outcome("003A", RecordOutcomeKind::Deleted)])
        .await
        .unwrap();
    assert_eq!(cp.add_api_calls(rid, 5).await.unwrap(), 5);

    // A second worker picks the request up.
    let store2 = Store::connect("redis://127.0.0.1:6379", &prefix)
        .await
        .unwrap();
    let cp2 = Checkpoints::new(store2);
    let plan: Vec<String> = cp2.load_plan(rid).await.unwrap().unwrap();
    assert_eq!(plan, vec!["003A", "003B"]);
    cp2.record_outcomes(rid, &[outcome("003B", RecordOutcomeKind::AlreadyDeleted)])
        .await
        .unwrap();
    let all = cp2.outcomes(rid).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all["003A"].outcome, RecordOutcomeKind::Deleted);
    assert_eq!(all["003B"].outcome, RecordOutcomeKind::AlreadyDeleted);
    assert_eq!(cp2.add_api_calls(rid, 3).await.unwrap(), 8);

    let mut conn = store.conn();
    let ttl: i64 = redis::cmd("TTL")
        .arg(store.key("dsr:req-1:outcomes"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0, "checkpoints expire");

    cp2.clear(rid).await.unwrap();
    assert!(cp.outcomes(rid).await.unwrap().is_empty());
    assert_eq!(cp.load_plan::<Vec<String>>(rid).await.unwrap(), None);
}
