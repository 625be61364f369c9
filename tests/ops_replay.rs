//! `sfprivacy replay` against a real RabbitMQ: filters, dry run, limit, rate, copy mode,
//! confirm-before-remove, and messages the broker itself dead-lettered. No worker consumes the
//! work queues here, so what replay puts there can be read back.

use indicatif::ProgressBar;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, BasicRejectOptions,
    ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use sfprivacy::broker::headers;
use sfprivacy::broker::replay::{self, Filter, Mode, Options, REPLAYED_ERROR_CODE, REPLAYS};
use sfprivacy::broker::topology::{self, Names, ROUTING_KEYS};
use std::time::{Duration, Instant};

const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const EMAIL: &str = "jane.replay@example.com";

struct Rig {
    names: Names,
    conn: Connection,
    ch: Channel,
}

async fn rig() -> Rig {
    let prefix = format!(
        "t-replay-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let names = Names::new(
        &prefix,
        &format!("{prefix}.results"),
        &[Duration::from_secs(10)],
    );
    let conn = Connection::connect(AMQP, ConnectionProperties::default())
        .await
        .expect("RabbitMQ on 127.0.0.1:5672 (scripts/services.sh)");
    let ch = conn.create_channel().await.unwrap();
    topology::declare(&ch, &names).await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    Rig { names, conn, ch }
}

fn body(id: &str, conn: &str, kind: &str) -> Vec<u8> {
    match kind {
        "scan.request" => serde_json::json!({
            "type": "scan.request", "version": 1, "scan_id": id, "connection_id": conn,
        }),
        _ => serde_json::json!({
            "type": "dsr.request", "version": 1, "request_id": id, "connection_id": conn,
            "action": "delete", "subject": { "emails": [EMAIL] },
        }),
    }
    .to_string()
    .into_bytes()
}

impl Rig {
    /// A dead letter as the worker writes one: onto the DLX with the original routing key.
    async fn dead_letter(&self, id: &str, conn: &str, kind: &str, code: &str, failed_at: &str) {
        let mut h = FieldTable::default();
        let mut put = |k: &str, v: &str| {
            h.insert(
                ShortString::from(k),
                AMQPValue::LongString(LongString::from(v)),
            );
        };
        put(headers::ERROR_CODE, code);
        put(headers::ERROR, "operator must fix");
        put(headers::FAILED_AT, failed_at);
        h.insert(
            ShortString::from(headers::ATTEMPTS),
            AMQPValue::LongLongInt(4),
        );
        let rk = if kind == "scan.request" {
            "scan"
        } else {
            "dsr"
        };
        let props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(id.into())
            .with_headers(h);
        let c = self
            .ch
            .basic_publish(
                self.names.dlx.as_str().into(),
                rk.into(),
                BasicPublishOptions::default(),
                &body(id, conn, kind),
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(c.is_ack());
    }

    /// Every message of a queue, in order, taken off it (acked).
    async fn drain(&self, queue: &str) -> Vec<(String, BasicProperties)> {
        let mut out = Vec::new();
        while let Some(m) = self
            .ch
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .unwrap()
        {
            let d = m.delivery;
            let v: serde_json::Value =
                serde_json::from_slice(&d.data).unwrap_or(serde_json::Value::Null);
            let id = v["request_id"]
                .as_str()
                .or(v["scan_id"].as_str())
                .unwrap_or("?")
                .to_string();
            d.acker.ack(BasicAckOptions::default()).await.unwrap();
            out.push((id, d.properties));
        }
        out
    }

    async fn depth(&self, queue: &str) -> u32 {
        self.ch
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap()
            .message_count()
    }

    async fn replay(&self, opts: Options) -> replay::Summary {
        replay::run(&self.conn, &self.names, &opts, &ProgressBar::hidden())
            .await
            .unwrap()
    }

    async fn seed(&self) {
        self.dead_letter(
            "r1",
            "acme",
            "dsr.request",
            "INVALID_GRANT",
            "2026-01-01T10:00:00Z",
        )
        .await;
        self.dead_letter(
            "r2",
            "globex",
            "dsr.request",
            "INVALID_GRANT",
            "2026-01-01T11:00:00Z",
        )
        .await;
        self.dead_letter(
            "r3",
            "acme",
            "dsr.request",
            "REQUEST_LIMIT_EXCEEDED",
            "2026-01-01T12:00:00Z",
        )
        .await;
        self.dead_letter(
            "s4",
            "acme",
            "scan.request",
            "INVALID_GRANT",
            "2026-01-01T13:00:00Z",
        )
        .await;
        self.dead_letter(
            "r5",
            "acme",
            "dsr.request",
            "INVALID_GRANT",
            "2026-01-02T10:00:00Z",
        )
        .await;
    }

    async fn cleanup(self) {
        let ch = self.conn.create_channel().await.unwrap();
        let mut queues = vec![self.names.dead.clone(), self.names.results.clone()];
        queues.extend(ROUTING_KEYS.iter().map(|k| self.names.work_queue(k)));
        let mut exchanges = vec![self.names.exchange.clone(), self.names.dlx.clone()];
        for (t, _) in &self.names.tiers {
            queues.push(t.clone());
            exchanges.push(t.clone());
        }
        for q in queues {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for e in exchanges {
            let _ = ch
                .exchange_delete(e.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
        let _ = self.conn.close(200, "done".into()).await;
    }
}

fn ids(v: &[(String, BasicProperties)]) -> Vec<&str> {
    v.iter().map(|(i, _)| i.as_str()).collect()
}

#[tokio::test]
async fn dry_run_counts_and_samples_without_touching_the_queue() {
    let r = rig().await;
    r.seed().await;
    let mut filter = Filter::default();
    filter.error_codes.insert("INVALID_GRANT".into());
    filter.connections.insert("acme".into());
    let s = r
        .replay(Options {
            filter,
            dry_run: true,
            sample: 2,
            limit: Some(2),
            ..Options::default()
        })
        .await;
    assert_eq!(
        (s.queue_depth, s.scanned, s.matched, s.replayed),
        (5, 5, 3, 0)
    );
    assert_eq!(
        s.would_replay, 2,
        "limit applies to what a real run would do"
    );
    assert_eq!(s.by_error_code.get("INVALID_GRANT"), Some(&3));
    assert_eq!(s.by_routing_key.get("dsr"), Some(&2));
    assert_eq!(s.by_routing_key.get("scan"), Some(&1));
    assert_eq!(s.sample.len(), 2);
    let printed = serde_json::to_string(&s).unwrap();
    assert!(
        !printed.contains(EMAIL),
        "a dry run must not print the subject"
    );
    assert!(printed.contains("r1"));
    // Nothing moved and the order is unchanged.
    assert_eq!(r.depth(&r.names.work_queue("dsr")).await, 0);
    assert_eq!(
        ids(&r.drain(&r.names.dead).await),
        ["r1", "r2", "r3", "s4", "r5"]
    );
    r.cleanup().await;
}

#[tokio::test]
async fn moves_only_matching_dead_letters_and_keeps_the_rest_in_order() {
    let r = rig().await;
    r.seed().await;
    let mut filter = Filter::default();
    filter.error_codes.insert("INVALID_GRANT".into());
    filter.types.insert("dsr.request".into());
    filter.since = Some("2026-01-01T00:00:00Z".parse().unwrap());
    filter.until = Some("2026-01-02T00:00:00Z".parse().unwrap());
    let s = r
        .replay(Options {
            filter,
            ..Options::default()
        })
        .await;
    assert_eq!((s.scanned, s.matched, s.replayed), (5, 2, 2));

    let dsr = r.drain(&r.names.work_queue("dsr")).await;
    assert_eq!(ids(&dsr), ["r1", "r2"]);
    for (_, p) in &dsr {
        assert_eq!(headers::attempts(p), 0, "attempt count reset");
        assert_eq!(headers::string(p, headers::ERROR_CODE), None);
        assert_eq!(
            headers::string(p, REPLAYED_ERROR_CODE).as_deref(),
            Some("INVALID_GRANT")
        );
        let replays = p.headers().as_ref().unwrap().inner().get(REPLAYS).cloned();
        assert_eq!(replays, Some(AMQPValue::LongLongInt(1)));
    }
    assert_eq!(r.depth(&r.names.work_queue("scan")).await, 0);
    // The others stay, unchanged and in their order.
    let dead = r.drain(&r.names.dead).await;
    assert_eq!(ids(&dead), ["r3", "s4", "r5"]);
    assert_eq!(headers::attempts(&dead[0].1), 4);
    r.cleanup().await;
}

#[tokio::test]
async fn request_ids_limit_and_copy_mode() {
    let r = rig().await;
    r.seed().await;
    // Limit: two replays, then the rest of the queue is not touched.
    let s = r
        .replay(Options {
            limit: Some(2),
            ..Options::default()
        })
        .await;
    assert_eq!((s.scanned, s.replayed), (2, 2));
    assert_eq!(
        ids(&r.drain(&r.names.work_queue("dsr")).await),
        ["r1", "r2"]
    );

    // Copy by request id: the dead letter stays (now at the tail), a copy goes to work.
    let mut filter = Filter::default();
    filter.request_ids.insert("s4".into());
    let s = r
        .replay(Options {
            filter,
            mode: Mode::Copy,
            ..Options::default()
        })
        .await;
    assert_eq!((s.scanned, s.replayed), (3, 1));
    assert_eq!(ids(&r.drain(&r.names.work_queue("scan")).await), ["s4"]);
    assert_eq!(ids(&r.drain(&r.names.dead).await), ["r3", "s4", "r5"]);
    r.cleanup().await;
}

#[tokio::test]
async fn rate_paces_the_replays() {
    let r = rig().await;
    for i in 0..5 {
        r.dead_letter(
            &format!("p{i}"),
            "acme",
            "dsr.request",
            "X",
            "2026-01-01T00:00:00Z",
        )
        .await;
    }
    let started = Instant::now();
    let s = r
        .replay(Options {
            rate: Some(10.0),
            ..Options::default()
        })
        .await;
    assert_eq!(s.replayed, 5);
    // Five replays at 10/s need at least four intervals of 100 ms (a lower bound only).
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.depth(&r.names.work_queue("dsr")).await, 5);
    r.cleanup().await;
}

#[tokio::test]
async fn a_dead_letter_stays_when_its_republish_is_not_confirmed() {
    let r = rig().await;
    r.seed().await;
    // The dsr work queue disappears: republishing with `mandatory` is returned, unroutable.
    r.ch.queue_delete(
        r.names.work_queue("dsr").as_str().into(),
        QueueDeleteOptions::default(),
    )
    .await
    .unwrap();
    let err = replay::run(
        &r.conn,
        &r.names,
        &Options::default(),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("returned"), "{err}");
    // The first dead letter was not acked: it is still there, with every other one.
    let mut left = ids(&r.drain(&r.names.dead).await)
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    left.sort();
    assert_eq!(left, ["r1", "r2", "r3", "r5", "s4"]);
    r.cleanup().await;
}

#[tokio::test]
async fn broker_dead_lettered_messages_go_back_to_their_queue() {
    let r = rig().await;
    // A message the broker dead-letters itself (a consumer rejects it without requeue).
    let c =
        r.ch.basic_publish(
            r.names.exchange.as_str().into(),
            "scan".into(),
            BasicPublishOptions::default(),
            &body("s9", "acme", "scan.request"),
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(c.is_ack());
    let m =
        r.ch.basic_get(
            r.names.work_queue("scan").as_str().into(),
            BasicGetOptions::default(),
        )
        .await
        .unwrap()
        .unwrap();
    m.delivery
        .acker
        .reject(BasicRejectOptions { requeue: false })
        .await
        .unwrap();
    let mut waited = 0;
    while r.depth(&r.names.dead).await == 0 && waited < 50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let mut filter = Filter::default();
    filter.error_codes.insert("broker:rejected".into());
    let s = r
        .replay(Options {
            filter,
            ..Options::default()
        })
        .await;
    assert_eq!(s.replayed, 1);
    let back = r.drain(&r.names.work_queue("scan")).await;
    assert_eq!(ids(&back), ["s9"]);
    let h = back[0].1.headers().clone().unwrap();
    assert!(!h.inner().contains_key("x-death"), "broker history cleared");
    r.cleanup().await;
}

/// The broker's own record of a queue's declared arguments.
fn queue_arguments(name: &str) -> String {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["-q", "list_queues", "name", "arguments"])
        .output()
        .expect("rabbitmqctl");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("queue {name} not listed"))
        .to_string()
}

#[tokio::test]
async fn dead_letters_survive_many_dry_runs_whatever_the_brokers_default_delivery_limit() {
    let r = rig().await;
    r.seed().await;
    // RabbitMQ 4.x drops a quorum-queue message past its delivery limit (default 20) when the
    // queue has no dead-letter exchange; every dry run requeues each dead letter once.
    for q in [&r.names.dead, &r.names.results] {
        let args = queue_arguments(q);
        assert!(
            args.contains(&format!(
                "x-delivery-limit\",{}",
                topology::END_QUEUE_DELIVERY_LIMIT
            )),
            "{q}: {args}"
        );
    }
    for pass in 0..25 {
        let s = r
            .replay(Options {
                dry_run: true,
                ..Options::default()
            })
            .await;
        assert_eq!(s.scanned, 5, "pass {pass}: {s:?}");
        // The broker puts the returned messages back asynchronously.
        let start = Instant::now();
        while r.depth(&r.names.dead).await < 5 && start.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(
        ids(&r.drain(&r.names.dead).await),
        ["r1", "r2", "r3", "s4", "r5"]
    );
    r.cleanup().await;
}

impl Rig {
    /// A dead letter whose body is not JSON, as the worker writes one (`invalid_json`).
    async fn invalid_json_dead_letter(&self, message_id: &str) {
        let mut h = FieldTable::default();
        h.insert(
            ShortString::from(headers::ERROR_CODE),
            AMQPValue::LongString(LongString::from("invalid_json")),
        );
        let props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_message_id(message_id.into())
            .with_headers(h);
        let c = self
            .ch
            .basic_publish(
                self.names.dlx.as_str().into(),
                "dsr".into(),
                BasicPublishOptions::default(),
                b"{not json",
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(c.is_ack());
    }

    /// `sfprivacy replay ARGS` (the real binary) on this rig's queues: (success, stdout, stderr).
    async fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let prefix = self.names.dead.trim_end_matches(".dead").to_string();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
            .arg("replay")
            .args(args)
            .env_clear()
            .env("SFPRIVACY_AMQP_URL", AMQP)
            .env("SFPRIVACY_QUEUE_PREFIX", prefix)
            .env("RUST_LOG", "info")
            .output()
            .await
            .expect("run sfprivacy replay");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Dead letters left behind by one pass keep their routing key, so a later pass with a filter
/// that matches them can still send them back (a body that is not JSON cannot tell it).
#[tokio::test]
async fn dead_letters_kept_by_one_pass_are_still_routable_in_the_next() {
    let r = rig().await;
    r.invalid_json_dead_letter("m-bad-1").await;
    r.dead_letter(
        "r1",
        "acme",
        "dsr.request",
        "INVALID_GRANT",
        "2026-01-01T10:00:00Z",
    )
    .await;
    r.invalid_json_dead_letter("m-bad-2").await;
    let mut filter = Filter::default();
    filter.error_codes.insert("INVALID_GRANT".into());
    let s = r
        .replay(Options {
            filter,
            ..Options::default()
        })
        .await;
    assert_eq!((s.matched, s.replayed), (1, 1));
    // Copy mode re-appends too.
    let mut filter = Filter::default();
    filter.request_ids.insert("nothing-matches".into());
    let s = r
        .replay(Options {
            filter,
            mode: Mode::Copy,
            ..Options::default()
        })
        .await;
    assert_eq!(s.matched, 0);

    let mut filter = Filter::default();
    filter.error_codes.insert("invalid_json".into());
    let s = r
        .replay(Options {
            filter,
            ..Options::default()
        })
        .await;
    assert_eq!((s.matched, s.replayed, s.unroutable), (2, 2, 0), "{s:?}");
    assert_eq!(r.depth(&r.names.work_queue("dsr")).await, 3);
    assert_eq!(r.depth(&r.names.dead).await, 0);
    r.cleanup().await;
}

/// A dead letter that really cannot be routed says why, per message.
#[tokio::test]
async fn an_unroutable_dead_letter_is_reported_with_its_reason() {
    let r = rig().await;
    // Straight onto the dead-letter queue (default exchange): no work routing key, no
    // x-death, a body that names no type.
    let c =
        r.ch.basic_publish(
            "".into(),
            r.names.dead.as_str().into(),
            BasicPublishOptions::default(),
            b"{not json",
            BasicProperties::default().with_message_id("m-lost".into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(c.is_ack());
    for dry_run in [true, false] {
        let s = r
            .replay(Options {
                dry_run,
                sample: 5,
                ..Options::default()
            })
            .await;
        assert_eq!((s.matched, s.replayed, s.unroutable), (1, 0, 1), "{s:?}");
        assert_eq!(s.unroutable_sample.len(), 1, "{s:?}");
        let u = &s.unroutable_sample[0];
        assert_eq!(u.message_id.as_deref(), Some("m-lost"));
        assert!(u.reason.contains("not a request"), "{}", u.reason);
        assert!(u.reason.contains(&r.names.dead), "{}", u.reason);
    }
    assert_eq!(r.depth(&r.names.dead).await, 1, "kept");
    r.cleanup().await;
}

#[tokio::test]
async fn the_cli_rejects_an_unknown_type_a_zero_limit_and_a_non_positive_rate_and_exits_cleanly() {
    let r = rig().await;
    r.seed().await;
    // Refused by the argument parser like any other bad argument (usage error, exit 2).
    let (ok, out, err) = r.cli(&["--type", "dsr", "--dry-run"]).await;
    assert!(!ok, "{out}");
    assert!(err.contains("invalid value 'dsr'"), "{err}");
    for t in ["dsr.request", "scan.request", "scan.part"] {
        assert!(err.contains(t), "valid types listed: {err}");
    }
    let (ok, out, err) = r.cli(&["--limit", "0", "--dry-run"]).await;
    assert!(!ok, "{out}");
    assert!(err.contains("invalid value '0'"), "{err}");
    for rate in ["-1", "0", "abc"] {
        let (ok, out, err) = r.cli(&["--rate", rate, "--dry-run"]).await;
        assert!(!ok, "{out}");
        assert!(err.contains("must be a positive number"), "{rate}: {err}");
    }
    // A clean run logs no error (channels and connection closed in order).
    for args in [&["--dry-run"][..], &["--error-code", "INVALID_GRANT"][..]] {
        let (ok, out, err) = r.cli(args).await;
        assert!(ok, "{out}\n{err}");
        assert!(
            !err.contains("ERROR") && !out.contains("ERROR"),
            "{args:?}:\n{out}\n{err}"
        );
        assert!(!err.contains("invalid channel state"), "{err}");
    }
    r.cleanup().await;
}

/// A malformed message may carry an address (or anything) as its ids: replay prints and logs
/// only ids that pass the contract's id rule, the others as their length, while the filters
/// still match on the real values.
#[tokio::test]
async fn ids_that_are_not_contract_ids_are_redacted_in_the_summary_and_the_logs() {
    let r = rig().await;
    let id = "jane.doe@example.com";
    let conn = "john.smith@example.org";
    let long_conn = "c@".repeat(500);
    r.dead_letter(
        id,
        conn,
        "dsr.request",
        "invalid_field",
        "2026-01-01T10:00:00Z",
    )
    .await;
    r.dead_letter(
        "r-long",
        &long_conn,
        "dsr.request",
        "invalid_field",
        "2026-01-01T11:00:00Z",
    )
    .await;
    // One with no work queue to go to, so the unroutable sample and its log line show too.
    let c =
        r.ch.basic_publish(
            "".into(),
            r.names.dead.as_str().into(),
            BasicPublishOptions::default(),
            br#"{"type":"jane@example.net","request_id":"jane.doe@example.com"}"#,
            BasicProperties::default().with_message_id("mary@example.com".into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(c.is_ack());

    let s = r
        .replay(Options {
            dry_run: true,
            sample: 10,
            ..Options::default()
        })
        .await;
    assert_eq!((s.matched, s.unroutable), (3, 1), "{s:?}");
    let printed = serde_json::to_string(&s).unwrap();
    assert!(!printed.contains('@'), "{printed}");
    assert!(!printed.contains(&"c".repeat(20)), "{printed}");
    assert!(printed.contains("(redacted, 20 chars)"), "{printed}");
    assert!(printed.contains("(redacted, 1000 chars)"), "{printed}");
    assert!(printed.contains("r-long"), "a valid id is shown: {printed}");
    // The command an operator runs: its summary (stdout) and its logs (stderr).
    let (ok, out, err) = r.cli(&["--dry-run", "--sample", "10"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(!out.contains('@') && !err.contains('@'), "{out}\n{err}");
    assert!(out.contains("(redacted, 20 chars)"), "{out}");

    // The filters match on the real values.
    let mut filter = Filter::default();
    filter.request_ids.insert(id.into());
    let s = r
        .replay(Options {
            filter,
            mode: Mode::Copy,
            ..Options::default()
        })
        .await;
    assert_eq!((s.matched, s.replayed, s.unroutable), (2, 1, 1), "{s:?}");
    assert_eq!(ids(&r.drain(&r.names.work_queue("dsr")).await), [id]);
    let mut filter = Filter::default();
    filter.connections.insert(long_conn.clone());
    let s = r
        .replay(Options {
            filter,
            mode: Mode::Copy,
            ..Options::default()
        })
        .await;
    assert_eq!(s.replayed, 1, "{s:?}");
    assert_eq!(ids(&r.drain(&r.names.work_queue("dsr")).await), ["r-long"]);
    assert!(!serde_json::to_string(&s).unwrap().contains('@'));

    // The audit lines of a replay by the redacted id, through the command: the filter matches
    // the real value, the logs show it only as its length.
    let (ok, out, err) = r.cli(&["--request-id", id, "--mode", "copy"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("dead letter replayed"), "{err}");
    assert!(err.contains("replay_skipped"), "{err}");
    assert!(!out.contains('@') && !err.contains('@'), "{out}\n{err}");
    assert!(err.contains("(redacted, 20 chars)"), "{err}");
    r.cleanup().await;
}
