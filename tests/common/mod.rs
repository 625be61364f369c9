//! The shared integration-test harness: a worker on real RabbitMQ and Redis, with a unique
//! queue prefix and Redis prefix per test, a reply queue, and helpers to publish requests and
//! read what comes back. Call [`TestApp::cleanup`] at the end of each test.
#![allow(dead_code)]

use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use sfprivacy::app::Application;
use sfprivacy::broker::{Names, WorkerHandle};
use sfprivacy::config::{Connection as SfConnection, Settings};
use sfprivacy::jobs::ClientFactory;
use sfprivacy::salesforce::SalesforceClient;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub mod process;

pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379/0";

/// Options for one test's worker.
pub struct AppOptions {
    pub connections: Vec<SfConnection>,
    /// `None`: the real Salesforce client.
    pub factory: Option<ClientFactory>,
    /// e.g. `"200ms,400ms"`: tiny tiers so retry tests run in seconds.
    pub retry_tiers: &'static str,
    pub concurrency: u16,
    pub chunk_bytes: usize,
    pub extra_env: Vec<(&'static str, String)>,
    /// Options of the real Salesforce client (when `factory` is `None`).
    pub client_options: sfprivacy::salesforce::ClientOptions,
}

impl AppOptions {
    pub fn new(connections: Vec<SfConnection>, factory: Option<ClientFactory>) -> Self {
        Self {
            connections,
            factory,
            retry_tiers: "300ms,600ms",
            concurrency: 4,
            chunk_bytes: 1024 * 1024,
            extra_env: Vec::new(),
            client_options: fast_client_options(),
        }
    }
}

pub struct TestApp {
    pub prefix: String,
    /// The `SFPRIVACY_*` environment the worker's settings came from.
    pub env: BTreeMap<String, String>,
    pub names: Names,
    pub reply_queue: String,
    pub settings: Settings,
    pub handle: WorkerHandle,
    pub conn: Connection,
    pub channel: Channel,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
    /// Salesforce clients the worker created (real factory only).
    pub clients: Arc<Mutex<Vec<SalesforceClient>>>,
}

/// Unique id for names in this test.
pub fn unique(tag: &str) -> String {
    format!(
        "t-{tag}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

pub fn settings_for(prefix: &str, opts: &AppOptions) -> Settings {
    let env = env_for(prefix, opts);
    let mut s = Settings::from_sources(None, &env).expect("test settings");
    s.connections = opts.connections.clone();
    s
}

/// The `SFPRIVACY_*` environment of a test worker (connections aside).
pub fn env_for(prefix: &str, opts: &AppOptions) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        env.insert(format!("SFPRIVACY_{k}"), v);
    };
    put("AMQP_URL", AMQP_URL.into());
    put("REDIS_URL", REDIS_URL.into());
    put("QUEUE_PREFIX", prefix.into());
    put("REDIS_PREFIX", prefix.into());
    put("INSECURE_DEV_TOKEN_KEY", "1".into());
    put("RETRY_TIERS", opts.retry_tiers.into());
    put("CONCURRENCY", opts.concurrency.to_string());
    put("EXPORT_CHUNK_BYTES", opts.chunk_bytes.to_string());
    put("SHUTDOWN_DEADLINE_SECS", "5".into());
    put("JOB_LEASE_SECS", "5".into());
    put("LOG_FORMAT", "pretty".into());
    for (k, v) in &opts.extra_env {
        put(k, v.clone());
    }
    env
}

/// Starts a worker with its own prefix and waits until it consumes.
pub async fn spawn_app(opts: AppOptions) -> TestApp {
    sfprivacy::telemetry::init_for_tests();
    let prefix = unique("w");
    let env = env_for(&prefix, &opts);
    let settings = settings_for(&prefix, &opts);
    let clients: Arc<Mutex<Vec<SalesforceClient>>> = Arc::default();
    let (names, handle, cancel, task) = start_worker(
        &settings,
        &opts,
        clients.clone(),
        format!("{prefix}-worker"),
    )
    .await;
    let mut app = connect_test_side(prefix, env, names, settings).await;
    app.handle = handle;
    app.cancel = cancel;
    app.task = Some(task);
    app.clients = clients;
    app
}

/// The test's side of the broker without a worker in this process (the worker under test is
/// the real binary, see [`process`]): the topology declared, so requests can be published
/// before any worker runs, and the reply queue.
pub async fn broker_rig(opts: &AppOptions) -> TestApp {
    let prefix = unique("p");
    let env = env_for(&prefix, opts);
    let settings = settings_for(&prefix, opts);
    let names = Names::new(
        &settings.queue_prefix,
        &settings.results_queue,
        &settings.retry_tiers,
    );
    let app = connect_test_side(prefix, env, names, settings).await;
    sfprivacy::broker::topology::declare(&app.channel, &app.names)
        .await
        .expect("declare the topology");
    app
}

async fn connect_test_side(
    prefix: String,
    env: BTreeMap<String, String>,
    names: Names,
    settings: Settings,
) -> TestApp {
    let conn = Connection::connect(
        AMQP_URL,
        ConnectionProperties::default().with_connection_name(format!("{prefix}-test").into()),
    )
    .await
    .expect("connect to RabbitMQ (scripts/services.sh)");
    let channel = conn.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let reply_queue = format!("{prefix}.reply");
    channel
        .queue_declare(
            reply_queue.as_str().into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    TestApp {
        prefix,
        env,
        names,
        reply_queue,
        settings,
        handle: WorkerHandle::default(),
        conn,
        channel,
        cancel: CancellationToken::new(),
        task: None,
        clients: Arc::default(),
    }
}

/// Builds a worker from `settings` and runs it until the returned token is cancelled; returns
/// once it consumes. Salesforce clients it creates are pushed to `clients` (real factory only).
async fn start_worker(
    settings: &Settings,
    opts: &AppOptions,
    clients: Arc<Mutex<Vec<SalesforceClient>>>,
    connection_name: String,
) -> (Names, WorkerHandle, CancellationToken, JoinHandle<()>) {
    let factory = match opts.factory.clone() {
        Some(f) => f,
        None => {
            let store = sfprivacy::store::Store::connect(REDIS_URL, &settings.redis_prefix)
                .await
                .expect("redis (scripts/services.sh)");
            let real =
                sfprivacy::app::salesforce_factory(settings, &store, opts.client_options.clone())
                    .expect("factory");
            Arc::new(move |c| {
                let client = real(c)?;
                clients.lock().unwrap().push(client.clone());
                Ok(client)
            })
        }
    };
    let app = Application::build(settings.clone(), Some(factory))
        .await
        .expect("build app (is Redis up? scripts/services.sh)")
        .with_connection_name(connection_name);
    let names = app.names();
    let handle = app.handle();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let task = tokio::spawn(async move {
        app.run_until_stopped(c2).await.expect("worker");
    });
    wait_until(Duration::from_secs(20), || handle.is_connected()).await;
    (names, handle, cancel, task)
}

/// Another worker replica on the same queues and Redis prefix as a [`TestApp`].
pub struct Peer {
    pub handle: WorkerHandle,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Peer {
    /// Stops the replica (graceful: it drains within the shutdown deadline).
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

/// Client options for tests: no in-process retry delays worth waiting for.
pub fn fast_client_options() -> sfprivacy::salesforce::ClientOptions {
    let mut o = sfprivacy::salesforce::ClientOptions::default();
    o.retry.max_retries = 1;
    o.retry.min_delay = Duration::from_millis(20);
    o.retry.max_delay = Duration::from_millis(50);
    o.request_timeout = Duration::from_secs(10);
    o
}

pub async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A message read back from a queue.
#[derive(Debug, Clone)]
pub struct Got {
    pub props: BasicProperties,
    pub body: Vec<u8>,
}

impl Got {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        sfprivacy::broker::headers::string(&self.props, name)
    }
}

impl TestApp {
    /// Salesforce API calls made by every client of this worker (all jobs, retries included).
    pub fn api_calls(&self) -> u64 {
        self.clients
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.total_api_calls())
            .sum()
    }

    /// Closes this test's worker connection on the broker side (as an operator or a network
    /// failure would), without touching other tests' connections.
    pub fn close_worker_connection(&self) {
        close_broker_connections_named(&format!("{}-worker", self.prefix));
    }

    /// Opens a new test-side connection and channel (after the broker closed the old ones).
    pub async fn reconnect_test_side(&mut self) {
        self.conn = Connection::connect(
            AMQP_URL,
            ConnectionProperties::default()
                .with_connection_name(format!("{}-test", self.prefix).into()),
        )
        .await
        .expect("reconnect to RabbitMQ");
        self.channel = self.conn.create_channel().await.unwrap();
        self.channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
    }

    /// Starts a second worker replica sharing this worker's queues and Redis prefix (its own
    /// connection name, concurrency and client options from `opts`; connections as this one).
    pub async fn spawn_peer(&self, opts: AppOptions) -> Peer {
        let mut settings = self.settings.clone();
        settings.concurrency = opts.concurrency;
        let (_, handle, cancel, task) = start_worker(
            &settings,
            &opts,
            self.clients.clone(),
            format!(
                "{}-peer-{}",
                self.prefix,
                &uuid::Uuid::new_v4().simple().to_string()[..6]
            ),
        )
        .await;
        Peer {
            handle,
            cancel,
            task: Some(task),
        }
    }

    /// Stops this test's in-process worker (gracefully), keeping queues, channel and Redis keys
    /// so other workers can take over.
    pub async fn stop_worker(&mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }

    /// Starts a `sfprivacy worker` process on this test's queues and Redis prefix, with the
    /// connections in `connections_toml`, and waits until it consumes.
    pub async fn spawn_worker_process(
        &self,
        connections_toml: &str,
        concurrency: u16,
    ) -> process::WorkerProcess {
        let mut p = process::WorkerProcess::spawn(
            &self.env,
            connections_toml,
            &[("SFPRIVACY_CONCURRENCY", concurrency.to_string())],
        );
        p.wait_ready(Duration::from_secs(30)).await;
        p
    }

    /// Consumers subscribed to a queue.
    pub async fn consumers(&self, queue: &str) -> u32 {
        self.channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map(|q| q.consumer_count())
            .unwrap_or(0)
    }

    /// Publishes a request on the work exchange (confirmed), replies to the test's reply queue.
    pub async fn publish(&self, routing_key: &str, body: &[u8]) {
        self.publish_with(routing_key, body, Some(&self.reply_queue.clone()))
            .await
    }

    pub async fn publish_with(&self, routing_key: &str, body: &[u8], reply_to: Option<&str>) {
        let props = sfprivacy::broker::consumer::request_properties(
            &uuid::Uuid::new_v4().to_string(),
            reply_to,
        )
        .unwrap();
        let confirm = self
            .channel
            .basic_publish(
                self.names.exchange.as_str().into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack());
        assert!(confirm.take_message().is_none(), "request was unroutable");
    }

    /// Publishes many requests back to back and then waits for every confirm (pipelined, so
    /// the publisher does not set the pace of a throughput benchmark).
    pub async fn publish_many(&self, routing_key: &str, bodies: &[Vec<u8>]) {
        let mut confirms = Vec::with_capacity(bodies.len());
        for body in bodies {
            let props = sfprivacy::broker::consumer::request_properties(
                &uuid::Uuid::new_v4().to_string(),
                Some(&self.reply_queue),
            )
            .unwrap();
            let options = BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            };
            confirms.push(
                self.channel
                    .basic_publish(
                        self.names.exchange.as_str().into(),
                        routing_key.into(),
                        options,
                        body,
                        props,
                    )
                    .await
                    .unwrap(),
            );
        }
        for c in confirms {
            let confirm = c.await.unwrap();
            assert!(confirm.is_ack());
            assert!(confirm.take_message().is_none(), "request was unroutable");
        }
    }

    /// Waits for the next message on `queue` (acked on receipt).
    pub async fn next(&self, queue: &str, limit: Duration) -> Option<Got> {
        let start = std::time::Instant::now();
        loop {
            let got = self
                .channel
                .basic_get(queue.into(), BasicGetOptions { no_ack: true })
                .await
                .unwrap();
            if let Some(m) = got {
                return Some(Got {
                    props: m.delivery.properties.clone(),
                    body: m.delivery.data.clone(),
                });
            }
            if start.elapsed() > limit {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Collects messages from `queue` until `done` says so or the limit passes.
    pub async fn collect_until(
        &self,
        queue: &str,
        limit: Duration,
        mut done: impl FnMut(&[Got]) -> bool,
    ) -> Vec<Got> {
        let start = std::time::Instant::now();
        let mut all = Vec::new();
        while !done(&all) && start.elapsed() < limit {
            if let Some(g) = self.next(queue, Duration::from_millis(200)).await {
                all.push(g);
            }
        }
        all
    }

    /// Messages currently in a queue, without consuming them.
    pub async fn depth(&self, queue: &str) -> u32 {
        self.channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map(|q| q.message_count())
            .unwrap_or(0)
    }

    /// Stops the worker and deletes every queue, exchange and Redis key of this test.
    pub async fn cleanup(mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        let ch = self.conn.create_channel().await.unwrap();
        let mut queues: Vec<String> = vec![
            self.names.dead.clone(),
            self.names.results.clone(),
            self.reply_queue.clone(),
        ];
        for rk in sfprivacy::broker::topology::ROUTING_KEYS {
            queues.push(self.names.work_queue(rk));
        }
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
        if let Ok(client) = redis::Client::open(REDIS_URL)
            && let Ok(mut c) = client.get_multiplexed_async_connection().await
        {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:*", self.prefix))
                .query_async(&mut c)
                .await
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut c).await;
            }
        }
    }
}

/// Redis keys matching `pattern` (a test's own prefix, e.g. `{prefix}:run:*`).
pub async fn redis_keys(pattern: &str) -> Vec<String> {
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Deletes the Redis keys matching `pattern`.
pub async fn delete_redis_keys(pattern: &str) {
    let keys = redis_keys(pattern).await;
    if keys.is_empty() {
        return;
    }
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(keys)
        .query_async(&mut c)
        .await
        .unwrap();
}

/// Closes, on the broker side, every AMQP connection whose client properties contain `name`
/// (as an operator or a network failure would); other connections are untouched.
pub fn close_broker_connections_named(name: &str) {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["-q", "list_connections", "pid", "client_properties"])
        .output()
        .expect("rabbitmqctl");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut closed = 0;
    for line in text.lines().filter(|l| l.contains(name)) {
        let pid = line.split_whitespace().next().unwrap_or_default();
        let st = std::process::Command::new("rabbitmqctl")
            .args(["-q", "close_connection", pid, "test"])
            .status()
            .expect("rabbitmqctl close_connection");
        assert!(st.success());
        closed += 1;
    }
    assert!(closed > 0, "connection {name} not found in:\n{text}");
}

/// Inserts `records` into the emulator at `base_url` through its admin API, searchable at
/// once; returns their ids.
pub async fn insert_records(
    base_url: &str,
    object: &str,
    records: Vec<serde_json::Value>,
) -> Vec<String> {
    let resp = reqwest::Client::new()
        .post(format!("{base_url}/__emulator/records/{object}"))
        .json(&serde_json::json!({"records": records, "searchable": true}))
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "insert {object}: {}",
        resp.status()
    );
    let v: serde_json::Value = resp.json().await.unwrap();
    v["ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|id| id.as_str().map(str::to_string))
        .collect()
}

/// A DSR request body (contract v1) for `connection`.
pub fn dsr_request(action: &str, id: &str, connection: &str, email: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "dsr.request", "version": 1,
        "request_id": id, "connection_id": connection,
        "action": action,
        "subject": { "emails": [email] },
        "options": { "dry_run": false, "objects": null, "hard_delete": false }
    }))
    .unwrap()
}

/// A terminal DSR result (`dead_lettered` is not one: a replay produces the terminal result).
pub fn is_terminal(v: &serde_json::Value) -> bool {
    v["type"] == "dsr.result"
        && matches!(
            v["status"].as_str(),
            Some("completed" | "partial" | "failed")
        )
}

impl TestApp {
    /// Every terminal result on the reply queue, by request id, until each of `ids` has one
    /// and two quiet seconds passed (to catch a duplicate), or `limit`.
    pub async fn terminal_results(
        &self,
        ids: &[String],
        limit: Duration,
    ) -> BTreeMap<String, Vec<serde_json::Value>> {
        let mut by_request: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        let start = std::time::Instant::now();
        let mut quiet_since: Option<std::time::Instant> = None;
        while start.elapsed() < limit {
            match self
                .next(&self.reply_queue, Duration::from_millis(300))
                .await
            {
                Some(g) => {
                    quiet_since = None;
                    let v = g.json();
                    if is_terminal(&v) {
                        let id = v["request_id"].as_str().unwrap_or_default().to_string();
                        by_request.entry(id).or_default().push(v);
                    }
                }
                None => {
                    let all = ids.iter().all(|i| by_request.contains_key(i));
                    let q = quiet_since.get_or_insert_with(std::time::Instant::now);
                    if all && q.elapsed() > Duration::from_secs(2) {
                        break;
                    }
                }
            }
        }
        by_request
    }
}

/// Each of `ids` got a terminal result, and only one distinct one: a result may arrive twice
/// (the connection went between publish and ack; the redelivery re-publishes the stored one),
/// but it is always the same result.
pub fn assert_one_distinct_result_each(
    results: &BTreeMap<String, Vec<serde_json::Value>>,
    ids: &[String],
) {
    for id in ids {
        let set = results
            .get(id)
            .unwrap_or_else(|| panic!("no terminal result for {id}"));
        let set: std::collections::BTreeSet<&str> = set
            .iter()
            .map(|v| v["message_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            set.len(),
            1,
            "{id}: one distinct terminal result, got {set:?}"
        );
    }
}

/// `sfprivacy run --request FILE` for `request` against the emulator at `emulator_url` and the
/// local Redis under `redis_prefix` (development token key, a clean environment).
pub fn run_request(
    request: &serde_json::Value,
    emulator_url: &str,
    redis_prefix: &str,
) -> std::process::Output {
    run_request_with(request, emulator_url, redis_prefix, &[])
}

/// [`run_request`] with more environment (`SFPRIVACY_*` settings, `RUST_LOG`).
pub fn run_request_with(
    request: &serde_json::Value,
    emulator_url: &str,
    redis_prefix: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.json");
    std::fs::write(&path, serde_json::to_vec(request).unwrap()).unwrap();
    let connections = dir.path().join("connections.toml");
    std::fs::write(
        &connections,
        sfprivacy::demo::emulator_connection_toml(emulator_url),
    )
    .unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .arg("run")
        .arg("--request")
        .arg(&path)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SFPRIVACY_REDIS_URL", REDIS_URL)
        .env("SFPRIVACY_REDIS_PREFIX", redis_prefix)
        .env("SFPRIVACY_INSECURE_DEV_TOKEN_KEY", "1")
        .env("SFPRIVACY_CONNECTIONS_FILE", &connections)
        .envs(env.iter().copied())
        .output()
        .expect("run sfprivacy run")
}

/// A factory for tests that never reach Salesforce (bad messages).
pub fn no_salesforce() -> Option<ClientFactory> {
    Some(std::sync::Arc::new(|_c| {
        Err(sfprivacy::salesforce::SfError::Config(
            "tests with no Salesforce".into(),
        ))
    }))
}

/// A connection entry pointing at `url` (the emulator, or nothing).
pub fn connection(id: &str, url: &str) -> SfConnection {
    let text = format!(
        "[[connection]]\nid=\"{id}\"\nenvironment=\"{url}\"\nclient_id=\"test-client\"\nclient_secret=\"test-secret\"\ngrant=\"client_credentials\"\n"
    );
    sfprivacy::config::connections::parse(&text)
        .expect("connection")
        .remove(0)
}
