//! Per-org budget, concurrency cap and circuit breaker against a real Redis, with two
//! `OrgLimits` handles standing in for two replicas.

mod sf_harness;

use sf_harness::Harness;
use sfprivacy::store::Store;
use sfprivacy::store::budget::{Admission, BreakerChange, DeferReason, LimitSettings, OrgLimits};
use std::time::Duration;

const REDIS: &str = "redis://127.0.0.1:6379";

struct Prefix(String);

impl Drop for Prefix {
    fn drop(&mut self) {
        // Clean up every key the test wrote.
        if let Ok(client) = redis::Client::open(REDIS)
            && let Ok(mut c) = client.get_connection()
        {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:*", self.0))
                .query(&mut c)
                .unwrap_or_default();
            for k in keys {
                let _: Result<(), _> = redis::cmd("DEL").arg(k).query(&mut c);
            }
        }
    }
}

async fn replicas(settings: LimitSettings) -> (Prefix, OrgLimits, OrgLimits) {
    let prefix = format!("test-budget-{}", uuid::Uuid::new_v4());
    let a = OrgLimits::new(
        Store::connect(REDIS, &prefix).await.unwrap(),
        settings.clone(),
    );
    let b = OrgLimits::new(Store::connect(REDIS, &prefix).await.unwrap(), settings);
    (Prefix(prefix), a, b)
}

#[tokio::test]
async fn budget_defers_above_the_share_and_resumes_when_usage_frees_up() {
    let settings = LimitSettings {
        usage_ttl: Duration::from_millis(400),
        ..LimitSettings::default()
    };
    let (_p, a, b) = replicas(settings).await;

    // Unknown usage: proceed (the job's first call will publish figures).
    assert_eq!(
        a.admit("acme").await.unwrap(),
        Admission::Proceed { probe: false }
    );
    a.record_usage("acme", 799, 1000).await.unwrap();
    assert_eq!(
        b.admit("acme").await.unwrap(),
        Admission::Proceed { probe: false }
    );

    // Replica A sees 80%: replica B must stop starting work for that org.
    a.record_usage("acme", 800, 1000).await.unwrap();
    match b.admit("acme").await.unwrap() {
        Admission::Defer {
            reason: DeferReason::Budget { used, max },
            retry_after,
        } => {
            assert_eq!((used, max), (800, 1000));
            assert!(retry_after <= Duration::from_millis(400), "{retry_after:?}");
        }
        other => panic!("expected a budget deferral, got {other:?}"),
    }
    // Other orgs are unaffected.
    assert_eq!(
        b.admit("globex").await.unwrap(),
        Admission::Proceed { probe: false }
    );

    // The figure goes stale: the next job goes through as the probe…
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(b.usage("acme").await.unwrap(), None);
    assert_eq!(
        b.admit("acme").await.unwrap(),
        Admission::Proceed { probe: false }
    );
    // …and the allocation it reports has freed up, so work resumes.
    b.record_usage("acme", 500, 1000).await.unwrap();
    assert_eq!(
        a.admit("acme").await.unwrap(),
        Admission::Proceed { probe: false }
    );
}

#[tokio::test]
async fn budget_share_is_configurable() {
    let settings = LimitSettings {
        budget_share: 0.5,
        ..LimitSettings::default()
    };
    let (_p, a, _b) = replicas(settings).await;
    a.record_usage("acme", 499, 1000).await.unwrap();
    assert!(matches!(
        a.admit("acme").await.unwrap(),
        Admission::Proceed { .. }
    ));
    a.record_usage("acme", 500, 1000).await.unwrap();
    assert!(matches!(
        a.admit("acme").await.unwrap(),
        Admission::Defer { .. }
    ));
}

#[tokio::test]
async fn breaker_isolates_a_failing_org_and_half_opens_one_probe() {
    let settings = LimitSettings {
        breaker_failures: 3,
        breaker_cooldown: Duration::from_millis(300),
        ..LimitSettings::default()
    };
    let (_p, a, b) = replicas(settings).await;

    assert_eq!(
        a.record_transient_failure("acme").await.unwrap(),
        BreakerChange::Counted { failures: 1 }
    );
    // A success in between resets the count: failures must be consecutive.
    b.record_success("acme").await.unwrap();
    a.record_transient_failure("acme").await.unwrap();
    b.record_transient_failure("acme").await.unwrap();
    assert_eq!(
        a.record_transient_failure("acme").await.unwrap(),
        BreakerChange::Opened
    );
    assert_eq!(
        b.record_transient_failure("acme").await.unwrap(),
        BreakerChange::AlreadyOpen
    );

    // Open on every replica for that org only.
    for r in [&a, &b] {
        match r.admit("acme").await.unwrap() {
            Admission::Defer {
                reason: DeferReason::BreakerOpen,
                retry_after,
            } => assert!(retry_after <= Duration::from_millis(300)),
            other => panic!("expected breaker deferral, got {other:?}"),
        }
        assert_eq!(
            r.admit("globex").await.unwrap(),
            Admission::Proceed { probe: false }
        );
    }

    // After the cool-down exactly one caller is the half-open probe.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        a.admit("acme").await.unwrap(),
        Admission::Proceed { probe: true }
    );
    assert!(matches!(
        b.admit("acme").await.unwrap(),
        Admission::Defer {
            reason: DeferReason::BreakerOpen,
            ..
        }
    ));
    // A probe that tells nothing about the org (our Redis or our cap failed it) frees its
    // claim: the next caller probes at once instead of after the claim's lifetime.
    a.release_probe("acme").await.unwrap();
    assert_eq!(
        b.admit("acme").await.unwrap(),
        Admission::Proceed { probe: true }
    );
    // The probe fails: open again for a full cool-down.
    assert_eq!(
        a.record_transient_failure("acme").await.unwrap(),
        BreakerChange::Opened
    );
    assert!(matches!(
        b.admit("acme").await.unwrap(),
        Admission::Defer {
            reason: DeferReason::BreakerOpen,
            ..
        }
    ));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        b.admit("acme").await.unwrap(),
        Admission::Proceed { probe: true }
    );
    // The probe succeeds: closed for everyone.
    assert!(b.record_success("acme").await.unwrap());
    assert_eq!(
        a.admit("acme").await.unwrap(),
        Admission::Proceed { probe: false }
    );
    assert_eq!(
        a.record_transient_failure("acme").await.unwrap(),
        BreakerChange::Counted { failures: 1 }
    );
}

#[tokio::test]
async fn concurrency_cap_is_shared_across_replicas() {
    let settings = LimitSettings {
        max_concurrent: 3,
        ..LimitSettings::default()
    };
    let (_p, a, b) = replicas(settings).await;
    let p1 = a.try_acquire("acme").await.unwrap().unwrap();
    let _p2 = b.try_acquire("acme").await.unwrap().unwrap();
    let _p3 = a.try_acquire("acme").await.unwrap().unwrap();
    assert!(b.try_acquire("acme").await.unwrap().is_none());
    assert_eq!(a.in_use("acme").await.unwrap(), 3);
    // Another org has its own slots.
    assert!(b.try_acquire("globex").await.unwrap().is_some());

    // A waiter gets the slot once one is released.
    let waiter = {
        let b = b.clone();
        tokio::spawn(async move { b.acquire("acme", Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    p1.release().await.unwrap();
    let got = waiter.await.unwrap().unwrap();
    assert!(got.is_some());
    // And gives up when none frees in time.
    assert!(
        a.acquire("acme", Duration::from_millis(100))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn leases_of_a_dead_replica_expire() {
    let settings = LimitSettings {
        max_concurrent: 1,
        permit_ttl: Duration::from_millis(200),
        ..LimitSettings::default()
    };
    let (_p, a, b) = replicas(settings).await;
    let p = a.try_acquire("acme").await.unwrap().unwrap();
    // The holder vanishes without releasing (no Drop, as if the process died).
    std::mem::forget(p);
    assert!(b.try_acquire("acme").await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(b.try_acquire("acme").await.unwrap().is_some());
}

#[tokio::test]
async fn dropping_a_permit_releases_it() {
    let settings = LimitSettings {
        max_concurrent: 1,
        ..LimitSettings::default()
    };
    let (_p, a, _b) = replicas(settings).await;
    drop(a.try_acquire("acme").await.unwrap().unwrap());
    // The release runs in the background; it lands quickly.
    let got = a.acquire("acme", Duration::from_secs(2)).await.unwrap();
    assert!(got.is_some());
}

/// Salesforce counts limits per org: two connections that reach one org (here: two connected
/// integrations of the same emulator org) share them once their tokens named the org.
#[tokio::test]
async fn connections_to_one_org_share_its_limits_once_a_token_names_it() {
    let h = Harness::start().await;
    let settings = LimitSettings {
        max_concurrent: 1,
        ..LimitSettings::default()
    };
    let limits = OrgLimits::new(
        Store::connect(REDIS, &h.prefix).await.unwrap(),
        settings.clone(),
    );
    // Before any token, each connection's limits are its own.
    assert_eq!(limits.scope("conn-a").await, "conn:conn-a");
    let a = limits.try_acquire("conn-a").await.unwrap().unwrap();
    let b = limits.try_acquire("conn-b").await.unwrap();
    assert!(b.is_some(), "separate caps while the org is unknown");
    drop(b);
    a.release().await.unwrap();

    for id in ["conn-a", "conn-b"] {
        let mut c = h.connection();
        c.id = id.into();
        h.replica(c).await.org_limits().await.unwrap();
    }
    let org = format!("org:{}", &sf_emulator::oauth::ORG_ID[..15]);
    // A second replica, with nothing remembered in-process, reads the same from Redis.
    let other = OrgLimits::new(Store::connect(REDIS, &h.prefix).await.unwrap(), settings);
    for (l, id) in [(&limits, "conn-a"), (&limits, "conn-b"), (&other, "conn-b")] {
        assert_eq!(l.scope(id).await, org, "{id}");
    }

    // One cap: a slot taken through one connection is missing for the other.
    let a = limits.try_acquire("conn-a").await.unwrap().unwrap();
    assert!(other.try_acquire("conn-b").await.unwrap().is_none());
    a.release().await.unwrap();
    assert!(other.try_acquire("conn-b").await.unwrap().is_some());

    // One budget: usage seen through one connection defers the other's jobs.
    limits.record_usage("conn-a", 90, 100).await.unwrap();
    match other.admit("conn-b").await.unwrap() {
        Admission::Defer {
            reason: DeferReason::Budget { used, max },
            ..
        } => assert_eq!((used, max), (90, 100)),
        a => panic!("conn-b admitted past the org's budget: {a:?}"),
    }
    // A connection to another org is untouched.
    assert!(matches!(
        other.admit("globex").await.unwrap(),
        Admission::Proceed { .. }
    ));
    h.cleanup().await;
}
