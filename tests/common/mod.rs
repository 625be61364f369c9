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
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

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
        }
    }
}

pub struct TestApp {
    pub prefix: String,
    pub names: Names,
    pub reply_queue: String,
    pub settings: Settings,
    pub handle: WorkerHandle,
    pub conn: Connection,
    pub channel: Channel,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

/// Unique id for names in this test.
pub fn unique(tag: &str) -> String {
    format!(
        "t-{tag}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

pub fn settings_for(prefix: &str, opts: &AppOptions) -> Settings {
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
    let mut s = Settings::from_sources(None, &env).expect("test settings");
    s.connections = opts.connections.clone();
    s
}

/// Starts a worker with its own prefix and waits until it consumes.
pub async fn spawn_app(opts: AppOptions) -> TestApp {
    sfprivacy::telemetry::init_for_tests();
    let prefix = unique("w");
    let settings = settings_for(&prefix, &opts);
    let app = Application::build(settings.clone(), opts.factory.clone())
        .await
        .expect("build app (is Redis up? scripts/services.sh)");
    let names = app.names();
    let handle = app.handle();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let task = tokio::spawn(async move {
        app.run_until_stopped(c2).await.expect("worker");
    });
    wait_until(Duration::from_secs(20), || handle.is_connected()).await;
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
        names,
        reply_queue,
        settings,
        handle,
        conn,
        channel,
        cancel,
        task: Some(task),
    }
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
