//! The `sfprivacy` command line: worker, run, demo, replay, connect, schema, classify, score.
//!
//! Thin: parse arguments, load settings, call into the library, say who ended why.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;

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
    /// Authorize a connection (OAuth authorization code + PKCE) and store its refresh token in
    /// the connection's `refresh_token_file`.
    Connect {
        /// Connection id from the connections file.
        connection: String,
        /// Loopback port of the redirect URI (a callback URL of the connected app).
        #[arg(long, default_value_t = 1717)]
        port: u16,
        /// Path of the redirect URI.
        #[arg(long, default_value = "/OauthRedirect")]
        callback_path: String,
    },
    /// Print the JSON Schemas of the wire contract v1.
    Schema,
    /// Print the digest that stands for EMAIL in this deployment's logs (keyed by the token
    /// key), to find a subject's log lines.
    SubjectDigest { email: String },
    /// Move (or copy) dead letters back to their work queue (see README, Operations).
    Replay(ReplayArgs),
    /// Run the emulator, a worker and a few requests on this machine; print a summary.
    Demo {
        /// Use the emulator at this URL instead of starting one in-process.
        #[arg(long)]
        emulator: Option<String>,
        /// Do not start a worker: rely on one already consuming (docker-compose). Needs
        /// --emulator: the demo's subjects must be in the org that worker's connection reaches.
        #[arg(long, requires = "emulator")]
        no_worker: bool,
        /// Records to seed in the in-process emulator.
        #[arg(long, default_value_t = 300)]
        org_size: usize,
        /// Seconds to wait for all results.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Classify every column of a CSV (header row) or JSON Lines file; prints field verdicts.
    /// The format is read from the content: JSON Lines when it starts with `{`.
    Classify {
        /// The file, or `-` for stdin.
        file: std::path::PathBuf,
        /// Lowest confidence level reported.
        #[arg(long, value_enum, default_value = "medium")]
        confidence: CliConfidence,
    },
    /// Score a report (scan result or `classify` output) against ground truth: field-level
    /// precision, recall and F1 per data type and overall.
    Score {
        /// A scan result, `classify` output, or what `run --request` printed for a scan
        /// (several JSON values: the scan.result among them is scored).
        #[arg(long)]
        report: std::path::PathBuf,
        /// Ground truth JSON file (`{"objects":{"Obj":{"Field":["type"]}}}`).
        #[arg(long, conflicts_with = "emulator")]
        truth: Option<std::path::PathBuf>,
        /// Or a running emulator's base URL (reads `/__emulator/ground-truth`).
        #[arg(long)]
        emulator: Option<String>,
        /// Object name a file report is scored as (default: the truth's only object).
        #[arg(long)]
        object: Option<String>,
        /// Leave out truth objects the report does not cover.
        #[arg(long)]
        only_reported_objects: bool,
    },
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
    // Without hide_env_values clap prints `[env: SFPRIVACY_QUEUE_PREFIX=]` when the variable is
    // unset, which reads as "set to empty".
    #[arg(
        long,
        env = "SFPRIVACY_QUEUE_PREFIX",
        default_value = "sfprivacy",
        hide_env_values = true
    )]
    queue_prefix: String,
    /// Only dead letters with this error code (repeatable; `broker:<reason>` for broker ones).
    #[arg(long = "error-code")]
    error_codes: Vec<String>,
    /// Only this connection (repeatable).
    #[arg(long = "connection")]
    connections: Vec<String>,
    /// Only this request type: dsr.request, scan.request, scan.part (repeatable).
    #[arg(long = "type", value_parser = sfprivacy::broker::replay::TYPES)]
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
    /// At most this many replays per second (a positive number, e.g. 5 or 0.5).
    #[arg(long, allow_negative_numbers = true, value_parser = positive_rate)]
    rate: Option<f64>,
    /// Stop after this many replays (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Dead letters shown in a dry run's sample.
    #[arg(long, default_value_t = 10)]
    sample: usize,
}

/// `--rate`: clap would read `-1` as an unknown flag; say what is wanted instead.
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?}: must be a positive number of replays per second (e.g. 5 or 0.5)"
        )),
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CliConfidence {
    Low,
    Medium,
    High,
}

impl From<CliConfidence> for sfprivacy::message::ConfidenceLevel {
    fn from(c: CliConfidence) -> Self {
        match c {
            CliConfidence::Low => Self::Low,
            CliConfidence::Medium => Self::Medium,
            CliConfidence::High => Self::High,
        }
    }
}

/// Prints a JSON document on stdout (see [`print_out`]).
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    print_out(&serde_json::to_string_pretty(value)?)
}

/// Prints a line on stdout. A reader that closed the pipe early (`| head`) is a normal end,
/// not a panic as with `println!`.
fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Reads a JSON file, naming it when it cannot be read or parsed.
fn read_json(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", path.display()))
}

/// The cause chain on one line, no backtrace noise, leaving out a cause whose text is already
/// there (typed errors often quote their source, so `{:#}` repeated it).
fn chain_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn main() -> std::process::ExitCode {
    match real_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Not `eprintln!`: with stderr closed it would panic and exit 101.
            sfprivacy::telemetry::eprint_line(&format!("error: {}", chain_text(&e)));
            std::process::ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Synchronous commands first; the others get a multi-threaded runtime.
    let cli = match cli {
        Cli::Schema => {
            return print_json(&sfprivacy::message::schemas());
        }
        Cli::SubjectDigest { email } => {
            settings()?;
            let email = sfprivacy::message::SubjectEmail::check(&email)
                .map_err(|why| anyhow::anyhow!("not an email address: {why}"))?;
            return print_out(&email.hashed());
        }
        Cli::Classify { file, confidence } => {
            let report = sfprivacy::classify::offline::classify_file(&file, confidence.into())?;
            return print_json(&report);
        }
        Cli::Score {
            report,
            truth,
            emulator,
            object,
            only_reported_objects,
        } => {
            use sfprivacy::classify::score;
            let truth = match (truth, emulator) {
                (Some(path), _) => score::truth_from_json(&read_json(&path)?)?,
                (None, Some(url)) => tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(score::fetch_truth(&url))?,
                (None, None) => anyhow::bail!("give --truth FILE or --emulator URL"),
            };
            let report_path = report;
            let report = std::fs::read(&report_path)
                .with_context(|| format!("cannot read {}", report_path.display()))
                .and_then(|bytes| {
                    score::report_from_stream(&bytes)
                        .with_context(|| format!("--report {}", report_path.display()))
                })?;
            let file_report = score::report_kind(&report)
                .with_context(|| format!("--report {}", report_path.display()))?
                == score::ReportKind::File;
            let known = || truth.keys().cloned().collect::<Vec<_>>().join(", ");
            let object = match object {
                Some(o) if file_report && !truth.contains_key(&o) => {
                    anyhow::bail!(
                        "--object {o}: the ground truth has no such object (it has: {})",
                        known()
                    )
                }
                Some(o) => o,
                None if file_report && truth.len() != 1 => anyhow::bail!(
                    "a file report (from `classify`) is scored as one object: give --object NAME (the ground truth has: {})",
                    known()
                ),
                None => truth.keys().next().cloned().unwrap_or_default(),
            };
            let report = score::report_from_json(&report, &object)?;
            // A file is one object's fields: scored against that object's truth only.
            let truth = if file_report {
                score::truth_of(&truth, &object)
            } else {
                truth
            };
            let result = score::score(&report, &truth, only_reported_objects);
            return print_json(&result);
        }
        other => other,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        match cli {
            Cli::Worker => worker().await,
            Cli::Run { request } => run_one(&request).await,
            Cli::Connect {
                connection,
                port,
                callback_path,
            } => connect(&connection, port, callback_path).await,
            Cli::Schema | Cli::SubjectDigest { .. } | Cli::Classify { .. } | Cli::Score { .. } => {
                Ok(())
            }
            Cli::Replay(args) => replay(args).await,
            Cli::Demo {
                emulator,
                no_worker,
                org_size,
                timeout,
            } => demo(emulator, no_worker, org_size, timeout).await,
        }
    })
}

fn settings() -> anyhow::Result<sfprivacy::config::Settings> {
    let settings = sfprivacy::config::Settings::load().context("invalid settings")?;
    // Subjects' digests in logs are keyed by the token key (the development key is public,
    // so it keeps the default public key).
    if !settings.insecure_dev_token_key {
        sfprivacy::subject_digest::set_key(settings.token_key.bytes());
    }
    Ok(settings)
}

async fn connect(id: &str, port: u16, callback_path: String) -> anyhow::Result<()> {
    use sfprivacy::salesforce::connect::{self, ConnectOptions};
    let settings = settings()?;
    let connection = settings
        .connection(id)
        .with_context(|| format!("no connection {id:?} in the connections file"))?;
    let options = ConnectOptions {
        port,
        callback_path,
        ..ConnectOptions::default()
    };
    let pending = connect::start(connection, &options).await?;
    print_out(&format!(
        "Open this URL in a browser and approve access (redirect URI: {}):\n\n{}\n",
        pending.redirect_uri(),
        pending.authorize_url()
    ))?;
    let http = sfprivacy::salesforce::http_client()?;
    let done = pending.finish(&http).await?;
    print_out(&format!(
        "Connected {id} ({}); refresh token written to {}",
        done.instance_url,
        done.refresh_token_file.display()
    ))?;
    Ok(())
}

async fn worker() -> anyhow::Result<()> {
    let settings = settings()?;
    settings.require_connections().context("invalid settings")?;
    // An invalid RUST_LOG stops the worker like an invalid SFPRIVACY_* setting: an operator who
    // asked for debug logs must not get info logs silently.
    sfprivacy::telemetry::init(settings.log_format == sfprivacy::config::LogFormat::Json)?;
    if settings.insecure_dev_token_key {
        tracing::warn!(
            "SFPRIVACY_INSECURE_DEV_TOKEN_KEY is set: cached tokens are encrypted with a public key"
        );
    }
    tracing::info!(settings = ?settings, "starting worker");
    let (health_addr, deadline) = (settings.health_addr, settings.shutdown_deadline);
    let app = sfprivacy::app::Application::build(settings, None).await?;
    let handle = app.handle();
    // Signals, health port, readiness and the deadline-bounded drain: `ops::process`.
    let report = sfprivacy::ops::process::run(
        health_addr,
        deadline,
        move |token| app.run_until_stopped(token),
        move || handle.is_connected(),
    )
    .await?;
    if report.is_clean() {
        tracing::info!(report = %report, "worker stopped");
        Ok(())
    } else {
        tracing::error!(report = %report, "worker stopped abnormally");
        anyhow::bail!("{report}")
    }
}

async fn demo(
    emulator: Option<String>,
    no_worker: bool,
    org_size: usize,
    timeout: u64,
) -> anyhow::Result<()> {
    // Quiet logs: the demo talks through its progress bar and summary.
    sfprivacy::telemetry::init_with_default(false, "error")?;
    let opts = sfprivacy::demo::DemoOptions {
        emulator_url: emulator,
        run_worker: !no_worker,
        org_size,
        timeout: std::time::Duration::from_secs(timeout),
        ..Default::default()
    };
    match sfprivacy::demo::run(opts).await {
        Ok(report) => {
            print_out(&report.render())?;
            if !report.all_succeeded() {
                anyhow::bail!("some requests did not succeed (see the summary above)");
            }
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("demo failed: {e}")),
    }
}

async fn run_one(path: &std::path::Path) -> anyhow::Result<()> {
    // The file first: a typo in its name should not be reported as a settings problem.
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let settings = settings()?;
    // Plain text for a person at a terminal, unless JSON was asked for explicitly.
    let json = std::env::var_os("SFPRIVACY_LOG_FORMAT").is_some()
        && settings.log_format == sfprivacy::config::LogFormat::Json;
    sfprivacy::telemetry::init(json)?;
    let store = sfprivacy::store::Store::connect(settings.redis_url.expose(), &settings.redis_prefix)
        .await
        .with_context(|| {
            format!(
                "Redis at {} is unreachable (tokens are cached there); start it with scripts/services.sh",
                sfprivacy::app::redact_url(settings.redis_url.expose())
            )
        })?;
    let factory = sfprivacy::app::salesforce_factory(
        &settings,
        &store,
        sfprivacy::salesforce::ClientOptions::default(),
    )?;
    // Ctrl-C (or SIGTERM) stops the run but still deletes a scan's private Redis scope; a
    // second one exits at once.
    let interrupt = tokio_util::sync::CancellationToken::new();
    tokio::spawn(interrupt_on_signal(interrupt.clone()));
    // No job state: `run` is for operators and debugging and always does the work; a scan's
    // parts run here too (`jobs::local`).
    let run = sfprivacy::jobs::local::run_until(
        settings.connections.clone(),
        sfprivacy::jobs::ClientRegistry::new(factory),
        store,
        sfprivacy::jobs::JobOptions {
            chunk_bytes: settings.export_chunk_bytes,
        },
        &body,
        usize::from(settings.concurrency),
        &interrupt,
    )
    .await
    .context("Redis failed while running the request")?;
    for m in &run.messages {
        let v: serde_json::Value = serde_json::from_str(&m.body)?;
        print_json(&v)?;
    }
    if let Some(n) = &run.stopped {
        sfprivacy::telemetry::eprint_line(n);
    }
    if run.interrupted {
        std::process::exit(130);
    }
    // Exit 0 only for a `completed` result: scripts must not read `partial` or `failed` as done.
    let completed = run.ended()
        && run
            .messages
            .iter()
            .rev()
            .find(|m| m.terminal)
            .and_then(|m| serde_json::from_str::<serde_json::Value>(&m.body).ok())
            .is_some_and(|v| v["status"] == "completed");
    if !completed {
        std::process::exit(1);
    }
    Ok(())
}

/// Cancels `token` on the first SIGINT or SIGTERM; exits 130 on a second one (cleanup hung).
async fn interrupt_on_signal(token: tokio_util::sync::CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::warn!("cannot install signal handlers: Ctrl-C will not clean up");
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    tracing::warn!("interrupted: stopping and cleaning up (again to exit at once)");
    token.cancel();
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    std::process::exit(130);
}

async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    use sfprivacy::broker::replay;
    sfprivacy::telemetry::init(true)?;
    let filter = replay::Filter {
        error_codes: args.error_codes.into_iter().collect(),
        connections: args.connections.into_iter().collect(),
        types: args.types.into_iter().collect(),
        since: args.since,
        until: args.until,
        request_ids: args.request_ids.into_iter().collect(),
    };
    // Before connecting: a filter that can match nothing is a mistake, not an empty result.
    filter.validate()?;
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
    print_json(&summary)
}
