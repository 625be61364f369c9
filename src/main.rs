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
