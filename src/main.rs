//! The `sfprivacy` command line: worker, run, demo, replay, connect, schema, classify, score.
//!
//! Thin: parse arguments, load settings, call into the library, say who ended why.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "sfprivacy",
    version,
    about = "Privacy work in Salesforce orgs, driven by RabbitMQ"
)]
enum Cli {
    /// Consume requests from RabbitMQ until SIGTERM/SIGINT (settings: SFPRIVACY_* env, README).
    Worker,
    /// Process one request file without RabbitMQ and print what would be published.
    Run {
        /// A request as JSON (dsr.request or scan.request).
        #[arg(long)]
        request: PathBuf,
    },
    /// Print the JSON Schemas of the wire contract v1.
    Schema,
    /// Move (or copy) dead letters back to their work queue (see README, Operations).
    Replay(ReplayArgs),
}

/// `sfprivacy replay` flags; the logic lives in `sfprivacy::broker::replay`.
#[derive(clap::Args)]
struct ReplayArgs {
    /// RabbitMQ URL.
    #[arg(
        long,
        env = "SFPRIVACY_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        hide_env_values = true
    )]
    amqp_url: String,
    /// Prefix of exchange and queue names.
    #[arg(long, env = "SFPRIVACY_QUEUE_PREFIX", default_value = "sfprivacy")]
    queue_prefix: String,
    /// Only dead letters with this error code (repeatable; `broker:<reason>` for broker ones).
    #[arg(long = "error-code")]
    error_codes: Vec<String>,
    /// Only this connection (repeatable).
    #[arg(long = "connection")]
    connections: Vec<String>,
    /// Only this request type: dsr.request, scan.request, scan.part (repeatable).
    #[arg(long = "type")]
    types: Vec<String>,
    /// Only dead letters that failed at or after this time (RFC 3339).
    #[arg(long)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only dead letters that failed before this time (RFC 3339).
    #[arg(long)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only these request ids (repeatable, or comma-separated).
    #[arg(long = "request-id", value_delimiter = ',')]
    request_ids: Vec<String>,
    /// move: the dead letter leaves the queue; copy: it stays.
    #[arg(long, value_enum, default_value = "move")]
    mode: sfprivacy::broker::replay::Mode,
    /// Print counts and a sample (ids and headers only) and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// At most this many replays per second.
    #[arg(long)]
    rate: Option<f64>,
    /// Stop after this many replays.
    #[arg(long)]
    limit: Option<u64>,
    /// Dead letters shown in a dry run's sample.
    #[arg(long, default_value_t = 10)]
    sample: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Cli::Schema = cli {
        println!(
            "{}",
            serde_json::to_string_pretty(&sfprivacy::message::schemas())?
        );
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        match cli {
            Cli::Worker => worker().await,
            Cli::Run { request } => run_one(&request).await,
            Cli::Schema => Ok(()),
            Cli::Replay(args) => replay(args).await,
        }
    })
}

fn settings() -> anyhow::Result<sfprivacy::config::Settings> {
    sfprivacy::config::Settings::load().context("invalid settings")
}

async fn worker() -> anyhow::Result<()> {
    let settings = settings()?;
    settings.require_connections().context("invalid settings")?;
    sfprivacy::telemetry::init(settings.log_format == sfprivacy::config::LogFormat::Json);
    if settings.insecure_dev_token_key {
        tracing::warn!(
            "SFPRIVACY_INSECURE_DEV_TOKEN_KEY is set: cached tokens are encrypted with a public key"
        );
    }
    tracing::info!(settings = ?settings, "starting worker");
    let factory = sfprivacy::app::salesforce_factory(&settings);
    let app = sfprivacy::app::Application::build(settings, factory).await?;
    let cancel = CancellationToken::new();
    let signals = cancel.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown signal received; finishing in-flight jobs");
        signals.cancel();
    });
    app.run_until_stopped(cancel).await?;
    tracing::info!("worker stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn run_one(path: &std::path::Path) -> anyhow::Result<()> {
    let settings = settings()?;
    sfprivacy::telemetry::init(false);
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let factory = sfprivacy::app::salesforce_factory(&settings);
    let store = sfprivacy::store::Store::connect(settings.redis_url.expose(), &settings.redis_prefix)
        .await
        .with_context(|| {
            format!(
                "Redis at {} is unreachable (tokens are cached there); start it with scripts/services.sh",
                sfprivacy::app::redact_url(settings.redis_url.expose())
            )
        })?;
    // No job state: `run` is for operators and debugging and always does the work.
    let jobs = sfprivacy::jobs::Jobs::new(
        settings.connections.clone(),
        sfprivacy::jobs::ClientRegistry::new(factory),
        Some(store),
        None,
        sfprivacy::jobs::JobOptions {
            chunk_bytes: settings.export_chunk_bytes,
        },
    );
    let outcome = Arc::new(jobs)
        .handle(&body, &sfprivacy::jobs::DeliveryMeta::default())
        .await;
    use sfprivacy::jobs::Outcome;
    let (ok, msgs, note) = match outcome {
        Outcome::Publish(m) => (true, m, None),
        Outcome::Retry { code, message, .. } => (
            false,
            Vec::new(),
            Some(format!(
                "transient failure {code}: {message} (the worker would retry)"
            )),
        ),
        Outcome::DeadLetter {
            code,
            message,
            publish,
        } => (
            false,
            publish,
            Some(format!("would be dead-lettered: {code}: {message}")),
        ),
        Outcome::Defer { code, .. } => (
            false,
            Vec::new(),
            Some(format!("deferred by the org's limits: {code}")),
        ),
        Outcome::Busy => (
            false,
            Vec::new(),
            Some("another worker holds this request".into()),
        ),
    };
    for m in &msgs {
        let v: serde_json::Value = serde_json::from_str(&m.body)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    if let Some(n) = note {
        eprintln!("{n}");
    }
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    use sfprivacy::broker::replay;
    sfprivacy::telemetry::init(true);
    let filter = replay::Filter {
        error_codes: args.error_codes.into_iter().collect(),
        connections: args.connections.into_iter().collect(),
        types: args.types.into_iter().collect(),
        since: args.since,
        until: args.until,
        request_ids: args.request_ids.into_iter().collect(),
    };
    let opts = replay::Options {
        filter,
        mode: args.mode,
        dry_run: args.dry_run,
        rate: args.rate,
        limit: args.limit,
        sample: args.sample,
    };
    let names = sfprivacy::broker::Names::new(
        &args.queue_prefix,
        &format!("{}.results", args.queue_prefix),
        &[],
    );
    let conn = lapin::Connection::connect(
        &args.amqp_url,
        lapin::ConnectionProperties::default().with_connection_name("sfprivacy-replay".into()),
    )
    .await
    .with_context(|| {
        format!(
            "connecting to RabbitMQ at {}",
            sfprivacy::app::redact_url(&args.amqp_url)
        )
    })?;
    let bar = indicatif::ProgressBar::new(0).with_style(indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} dead letters read [{elapsed_precise}] {msg}",
    )?);
    let summary = replay::run(&conn, &names, &opts, &bar).await;
    bar.finish_and_clear();
    let _ = conn.close(200, "replay done".into()).await;
    let summary = summary.context("replay stopped")?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
