//! `sfprivacy demo`: the whole product on one machine in a minute.
//!
//! Starts the Salesforce emulator in-process with a seeded org (or uses one at `--emulator`),
//! starts a worker on a private queue prefix (unless `--no-worker`: then the running worker of
//! the deployment answers, as in docker-compose), picks a few subjects from the org, enqueues
//! DSRs through RabbitMQ exactly as the platform would, shows progress, and prints a summary of
//! the results. Unreachable RabbitMQ or Redis is reported with how to start them.

use crate::app::{Application, redact_url};
use crate::broker::consumer::request_properties;
use crate::broker::{Names, Publisher};
use crate::config::{Connection, Settings};
use crate::message::{DsrAction, DsrResult, ResultStatus, ScanResult};
use crate::store::Store;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeleteOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Demo flags.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Use this emulator instead of starting one in-process.
    pub emulator_url: Option<String>,
    /// Start a worker in-process (default) or rely on a running one.
    pub run_worker: bool,
    /// Records to seed in the in-process emulator.
    pub org_size: usize,
    pub seed: u64,
    /// Give up waiting for results after this long.
    pub timeout: Duration,
    /// Draw progress bars (off in tests).
    pub progress: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            emulator_url: None,
            run_worker: true,
            org_size: 300,
            seed: 42,
            timeout: Duration::from_secs(120),
            progress: true,
        }
    }
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Settings(#[from] crate::config::ConfigError),
    #[error(
        "Redis is not reachable at {0}. Start it with `scripts/services.sh` (or `redis-server --daemonize yes`), or set SFPRIVACY_REDIS_URL."
    )]
    Redis(String),
    #[error(
        "RabbitMQ is not reachable at {0}. Start it with `scripts/services.sh` (or `rabbitmq-server -detached`), or set SFPRIVACY_AMQP_URL."
    )]
    Rabbit(String),
    #[error("the emulator could not start: {0}")]
    Emulator(String),
    #[error("could not read subjects from the emulated org: {0}")]
    Subjects(String),
    #[error("broker: {0}")]
    Broker(String),
    #[error("{0}")]
    App(#[from] crate::app::AppError),
    #[error("timed out after {0:?} waiting for results ({1} of {2} arrived)")]
    Timeout(Duration, usize, usize),
}

/// One request the demo sent and what came back.
#[derive(Debug, Clone)]
pub struct DemoLine {
    pub request_id: String,
    pub what: String,
    pub status: Option<ResultStatus>,
    pub records: BTreeMap<String, usize>,
    pub exported: u32,
    pub api_calls: u64,
    pub error: Option<String>,
    /// Why records were not processed as asked (object, outcome, Salesforce's code).
    pub notes: Vec<String>,
    pub seconds: f64,
}

/// What the demo did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub emulator_url: String,
    pub lines: Vec<DemoLine>,
    pub elapsed: Duration,
}

impl DemoReport {
    /// Every request got a terminal result that is not `failed`.
    pub fn all_succeeded(&self) -> bool {
        self.lines.iter().all(|l| {
            matches!(
                l.status,
                Some(ResultStatus::Completed) | Some(ResultStatus::Partial)
            )
        })
    }

    /// A readable summary for the terminal.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "\nsfprivacy demo against the emulated org at {}\n\n",
            self.emulator_url
        ));
        s.push_str(&format!(
            "{:<28} {:<10} {:>9} {:>9}  {}\n",
            "request", "status", "api calls", "seconds", "records"
        ));
        for l in &self.lines {
            let status = l
                .status
                .map(|s| format!("{s:?}").to_lowercase())
                .unwrap_or_else(|| "no result".into());
            let mut recs: Vec<String> = l.records.iter().map(|(k, v)| format!("{k} {v}")).collect();
            if l.exported > 0 {
                recs.push(format!("exported {}", l.exported));
            }
            if let Some(e) = &l.error {
                recs.push(format!("error: {e}"));
            }
            s.push_str(&format!(
                "{:<28} {:<10} {:>9} {:>9.2}  {}\n",
                l.what,
                status,
                l.api_calls,
                l.seconds,
                if recs.is_empty() {
                    "-".into()
                } else {
                    recs.join(", ")
                }
            ));
            for n in &l.notes {
                s.push_str(&format!("{:<28} └ {n}\n", ""));
            }
        }
        let count =
            |want: ResultStatus| self.lines.iter().filter(|l| l.status == Some(want)).count();
        s.push_str(&format!(
            "\n{} requests in {:.1} s: {} completed, {} partial (some records could not be \
             processed; each is listed in the result with its reason), {} failed\n",
            self.lines.len(),
            self.elapsed.as_secs_f64(),
            count(ResultStatus::Completed),
            count(ResultStatus::Partial),
            count(ResultStatus::Failed),
        ));
        s
    }
}

/// The emulator's default connected app (see `emulator/README.md`).
pub fn emulator_connection(base_url: &str) -> Result<Connection, crate::config::ConfigError> {
    let mut cs = crate::config::connections::parse(&emulator_connection_toml(base_url))?;
    cs.pop().ok_or(crate::config::ConfigError::Missing {
        setting: "emulator connection",
        hint: "internal",
    })
}

/// The connections file (TOML) of [`emulator_connection`], for a worker process.
pub fn emulator_connection_toml(base_url: &str) -> String {
    use sf_emulator::oauth::directory as d;
    format!(
        "[[connection]]\nid = \"emulator\"\nenvironment = \"{base_url}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\ngrant = \"refresh_token\"\nrefresh_token = \"{}\"\n",
        d::DEFAULT_CLIENT_ID,
        d::DEFAULT_CLIENT_SECRET,
        d::INTEGRATION_REFRESH_TOKEN
    )
}

/// Settings for the demo: the environment, with a development token key when none is set and
/// (for an in-process worker) a private queue and key prefix.
pub fn demo_settings(private_prefix: Option<&str>) -> Result<Settings, crate::config::ConfigError> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with(crate::config::ENV_PREFIX))
        .collect();
    if !env.contains_key("SFPRIVACY_TOKEN_KEY") && !env.contains_key("SFPRIVACY_TOKEN_KEY_FILE") {
        env.insert("SFPRIVACY_INSECURE_DEV_TOKEN_KEY".into(), "1".into());
    }
    if let Some(p) = private_prefix {
        env.insert("SFPRIVACY_QUEUE_PREFIX".into(), p.into());
        env.insert("SFPRIVACY_REDIS_PREFIX".into(), p.into());
        env.remove("SFPRIVACY_RESULTS_QUEUE");
    }
    // The demo's own connection is the emulator's; a configured file is not needed.
    env.remove("SFPRIVACY_CONNECTIONS_FILE");
    Settings::from_sources(None, &env)
}

/// Runs the demo end to end.
pub async fn run(opts: DemoOptions) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let prefix = opts.run_worker.then(|| {
        format!(
            "sfprivacy-demo-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
    });
    let mut settings = demo_settings(prefix.as_deref())?;

    let store = Store::connect(settings.redis_url.expose(), &settings.redis_prefix)
        .await
        .map_err(|_| DemoError::Redis(redact_url(settings.redis_url.expose())))?;
    let amqp = lapin::Connection::connect(
        settings.amqp_url.expose(),
        lapin::ConnectionProperties::default().with_connection_name("sfprivacy-demo".into()),
    )
    .await
    .map_err(|_| DemoError::Rabbit(redact_url(settings.amqp_url.expose())))?;

    let (emulator_url, _emulator) = match &opts.emulator_url {
        Some(u) => (u.trim_end_matches('/').to_string(), None),
        None => {
            #[allow(clippy::needless_update)] // the emulator's config grows
            let running = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
                seed: opts.seed,
                size: opts.org_size,
                ..Default::default()
            })
            .start("127.0.0.1:0")
            .await
            .map_err(|e| DemoError::Emulator(e.to_string()))?;
            (running.base_url.clone(), Some(running))
        }
    };
    let connection = emulator_connection(&emulator_url)?;
    settings.connections = vec![connection.clone()];

    let subjects = pick_subjects(&settings, &store, &connection).await?;

    let cancel = CancellationToken::new();
    let names = Names::new(
        &settings.queue_prefix,
        &settings.results_queue,
        &settings.retry_tiers,
    );
    let worker = if opts.run_worker {
        let app = Application::build(settings.clone(), None).await?;
        let handle = app.handle();
        let c = cancel.clone();
        let task = tokio::spawn(async move { app.run_until_stopped(c).await });
        let wait = Instant::now();
        while !handle.is_connected() {
            if wait.elapsed() > Duration::from_secs(20) {
                return Err(DemoError::Broker(
                    "the worker did not subscribe within 20 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(task)
    } else {
        None
    };

    let outcome = drive(&amqp, &names, &subjects, &opts, &emulator_url, started).await;

    cancel.cancel();
    if let Some(task) = worker {
        let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
    }
    if prefix.is_some() {
        remove_topology(&amqp, &names).await;
        remove_keys(&store).await;
    }
    let _ = amqp.close(200, "demo done".into()).await;
    outcome
}

/// Subjects from the seeded org: emails of a few Contacts and a Lead.
async fn pick_subjects(
    settings: &Settings,
    store: &Store,
    connection: &Connection,
) -> Result<Vec<(DsrAction, String, String)>, DemoError> {
    let factory = crate::app::salesforce_factory(settings, store, Default::default())
        .map_err(|e| DemoError::Subjects(e.to_string()))?;
    let client = factory(std::sync::Arc::new(connection.clone()))
        .map_err(|e| DemoError::Subjects(e.to_string()))?;
    let mut emails = Vec::new();
    for (object, n) in [("Contact", 4), ("Lead", 1)] {
        let soql = format!("SELECT Email FROM {object} WHERE Email != null ORDER BY Id LIMIT {n}");
        let rows = client
            .query_all(&soql)
            .await
            .map_err(|e| DemoError::Subjects(e.to_string()))?;
        for r in rows {
            if let Some(e) = r.get("Email").and_then(|v| v.as_str()) {
                emails.push((object.to_string(), e.to_string()));
            }
        }
    }
    if emails.is_empty() {
        return Err(DemoError::Subjects(
            "the org has no Contact or Lead with an email".into(),
        ));
    }
    // Different people for each action: requests run concurrently, and delete/anonymize change
    // what a copy would read (the demo org is disposable).
    let plan = [
        DsrAction::Copy,
        DsrAction::Delete,
        DsrAction::Anonymize,
        DsrAction::Copy,
        DsrAction::Copy,
    ];
    let mut contacts = emails.iter().filter(|(o, _)| o == "Contact");
    let lead = emails.iter().find(|(o, _)| o == "Lead");
    let mut out: Vec<(DsrAction, String, String)> = Vec::new();
    for action in plan {
        if let Some((o, e)) = contacts.next() {
            out.push((action, format!("{} {o}", action.as_str()), e.clone()));
        }
    }
    if let Some((o, e)) = lead {
        out.push((DsrAction::Copy, format!("copy {o}"), e.clone()));
    }
    // Number repeated labels ("copy Contact 1", "copy Contact 2"), so rows can be told apart.
    let labels: Vec<String> = out.iter().map(|(_, w, _)| w.clone()).collect();
    for (i, (_, what, _)) in out.iter_mut().enumerate() {
        if labels.iter().filter(|l| **l == labels[i]).count() > 1 {
            let n = labels[..=i].iter().filter(|l| **l == labels[i]).count();
            *what = format!("{what} {n}");
        }
    }
    Ok(out)
}

async fn drive(
    amqp: &lapin::Connection,
    names: &Names,
    subjects: &[(DsrAction, String, String)],
    opts: &DemoOptions,
    emulator_url: &str,
    started: Instant,
) -> Result<DemoReport, DemoError> {
    let b = |e: lapin::Error| DemoError::Broker(e.to_string());
    let ch = amqp.create_channel().await.map_err(b)?;
    let reply = ch
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(b)?;
    let reply_queue = reply.name().to_string();
    let publisher = match Publisher::open(amqp).await {
        Ok(p) => p,
        Err(e) => {
            close_channel(&ch).await;
            return Err(DemoError::Broker(e.to_string()));
        }
    };
    let outcome = exchange(
        &ch,
        &publisher,
        &reply_queue,
        names,
        subjects,
        opts,
        emulator_url,
        started,
    )
    .await;
    close_channel(publisher.channel()).await;
    close_channel(&ch).await;
    outcome
}

async fn close_channel(ch: &lapin::Channel) {
    crate::broker::close_channel(ch, "demo done").await;
}

/// Sends the requests on `publisher` and reads their results from `reply_queue` on `ch`.
#[allow(clippy::too_many_arguments)]
async fn exchange(
    ch: &lapin::Channel,
    publisher: &Publisher,
    reply_queue: &str,
    names: &Names,
    subjects: &[(DsrAction, String, String)],
    opts: &DemoOptions,
    emulator_url: &str,
    started: Instant,
) -> Result<DemoReport, DemoError> {
    let b = |e: lapin::Error| DemoError::Broker(e.to_string());
    let bar = if opts.progress {
        let pb = indicatif::ProgressBar::new(subjects.len() as u64 + 1);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} results  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };

    let mut lines: BTreeMap<String, (DemoLine, Instant)> = BTreeMap::new();
    // The summary lists requests in the order they were sent.
    let mut sent: Vec<String> = Vec::new();
    // Copies first: delete and anonymize change the org the copies read.
    for (action, what, email) in subjects {
        let request_id = format!("demo-{}", uuid::Uuid::new_v4().simple());
        let body = serde_json::json!({
            "type": "dsr.request", "version": 1,
            "request_id": request_id, "connection_id": "emulator",
            "action": action.as_str(),
            "subject": { "emails": [email] },
            "options": { "dry_run": false, "objects": null, "hard_delete": false }
        });
        let props = request_properties(&request_id, Some(reply_queue))
            .map_err(|e| DemoError::Broker(e.to_string()))?;
        publisher
            .publish(&names.exchange, "dsr", body.to_string().as_bytes(), props)
            .await
            .map_err(|e| DemoError::Broker(e.to_string()))?;
        sent.push(request_id.clone());
        lines.insert(
            request_id.clone(),
            (
                DemoLine {
                    request_id,
                    what: what.clone(),
                    status: None,
                    records: BTreeMap::new(),
                    exported: 0,
                    api_calls: 0,
                    error: None,
                    notes: Vec::new(),
                    seconds: 0.0,
                },
                Instant::now(),
            ),
        );
    }
    // One classification scan of the core objects, sampled so the demo stays quick; the
    // coordinator fans it out as `scan.part` messages that the same worker consumes.
    let scan_id = format!("demo-scan-{}", uuid::Uuid::new_v4().simple());
    let scan = serde_json::json!({
        "type": "scan.request", "version": 1,
        "scan_id": scan_id, "connection_id": "emulator",
        "confidence": "medium",
        "objects": ["Contact", "Lead", "Account"],
        "max_records_per_object": 500
    });
    let props = request_properties(&scan_id, Some(reply_queue))
        .map_err(|e| DemoError::Broker(e.to_string()))?;
    publisher
        .publish(&names.exchange, "scan", scan.to_string().as_bytes(), props)
        .await
        .map_err(|e| DemoError::Broker(e.to_string()))?;
    sent.push(scan_id.clone());
    lines.insert(
        scan_id.clone(),
        (
            DemoLine {
                request_id: scan_id,
                what: "scan Contact, Lead, Account".into(),
                status: None,
                records: BTreeMap::new(),
                exported: 0,
                api_calls: 0,
                error: None,
                notes: Vec::new(),
                seconds: 0.0,
            },
            Instant::now(),
        ),
    );
    bar.set_message("requests enqueued; the worker is on it");

    let mut consumer = ch
        .basic_consume(
            reply_queue.into(),
            "demo".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(b)?;
    let deadline = Instant::now() + opts.timeout;
    let mut done = 0usize;
    while done < lines.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = tokio::time::timeout(left, consumer.next()).await;
        let delivery = match next {
            Err(_) => {
                bar.abandon();
                return Err(DemoError::Timeout(opts.timeout, done, lines.len()));
            }
            Ok(None) => return Err(DemoError::Broker("reply consumer ended".into())),
            Ok(Some(Err(e))) => return Err(b(e)),
            Ok(Some(Ok(d))) => d,
        };
        let _ = delivery.acker.ack(BasicAckOptions::default()).await;
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&delivery.data) else {
            continue;
        };
        match v.get("type").and_then(|t| t.as_str()) {
            Some("dsr.result") => {
                let Ok(r) = serde_json::from_value::<DsrResult>(v) else {
                    continue;
                };
                if let Some((line, at)) = lines.get_mut(&r.request_id)
                    && line.status.is_none_or(|s| s == ResultStatus::DeadLettered)
                {
                    line.status = Some(r.status);
                    line.api_calls = r.api_calls;
                    line.seconds = at.elapsed().as_secs_f64();
                    line.exported = r.export.as_ref().map(|e| e.record_count).unwrap_or(0);
                    for rec in &r.records {
                        // The wire name (`cascade_deleted`), as in the result message.
                        let k = serde_json::to_value(rec.outcome)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        *line.records.entry(k.clone()).or_default() += 1;
                        if let Some(code) = &rec.error_code {
                            let note = format!("{} {k}: {code}", rec.object);
                            if !line.notes.contains(&note) {
                                line.notes.push(note);
                            }
                        }
                    }
                    line.error = r.error.map(|e| format!("{}: {}", e.code, e.message));
                    if r.status != ResultStatus::DeadLettered {
                        done += 1;
                        bar.inc(1);
                        bar.set_message(format!("{} → {:?}", line.what, r.status));
                    }
                }
            }
            Some("scan.result") => {
                if let Ok(r) = serde_json::from_value::<ScanResult>(v)
                    && let Some((line, at)) = lines.get_mut(&r.scan_id)
                {
                    line.status = Some(r.status);
                    line.api_calls = r.api_calls;
                    line.seconds = at.elapsed().as_secs_f64();
                    line.records.insert("objects".into(), r.objects.len());
                    let personal = r.objects.iter().flat_map(|o| &o.fields);
                    let personal = personal.filter(|f| !f.data_types.is_empty()).count();
                    line.records.insert("personal fields".into(), personal);
                    line.records
                        .insert("records scanned".into(), r.records_scanned as usize);
                    done += 1;
                    bar.inc(1);
                }
            }
            _ => {}
        }
    }
    bar.finish_and_clear();
    Ok(DemoReport {
        emulator_url: emulator_url.to_string(),
        lines: sent
            .iter()
            .filter_map(|id| lines.remove(id))
            .map(|(l, _)| l)
            .collect(),
        elapsed: started.elapsed(),
    })
}

async fn remove_topology(amqp: &lapin::Connection, names: &Names) {
    let Ok(ch) = amqp.create_channel().await else {
        return;
    };
    let mut queues = vec![names.dead.clone(), names.results.clone()];
    let mut exchanges = vec![names.exchange.clone(), names.dlx.clone()];
    for rk in crate::broker::topology::ROUTING_KEYS {
        queues.push(names.work_queue(rk));
    }
    for (t, _) in &names.tiers {
        queues.push(t.clone());
        exchanges.push(t.clone());
    }
    for q in queues {
        if let Ok(q) = crate::broker::short(&q) {
            let _ = ch.queue_delete(q, QueueDeleteOptions::default()).await;
        }
    }
    for e in exchanges {
        if let Ok(e) = crate::broker::short(&e) {
            let _ = ch
                .exchange_delete(e, ExchangeDeleteOptions::default())
                .await;
        }
    }
    close_channel(&ch).await;
}

async fn remove_keys(store: &Store) {
    let mut conn = store.conn();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", store.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}
