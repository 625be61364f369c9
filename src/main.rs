//! The `sfprivacy` command line: worker, run, demo, replay, connect, schema, classify, score.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "sfprivacy",
    version,
    about = "Privacy work in Salesforce orgs, driven by RabbitMQ"
)]
enum Cli {
    /// Print the JSON Schemas of the wire contract v1.
    Schema,
    /// Classify every column of a CSV (header row) or JSON Lines file; prints field verdicts.
    Classify {
        file: std::path::PathBuf,
        /// Lowest confidence level reported.
        #[arg(long, value_enum, default_value = "medium")]
        confidence: CliConfidence,
    },
    /// Score a report (scan result or `classify` output) against ground truth: field-level
    /// precision, recall and F1 per data type and overall.
    Score {
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

fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&sfprivacy::message::schemas())?
            );
        }
        Cli::Classify { file, confidence } => {
            let report = sfprivacy::classify::offline::classify_file(&file, confidence.into())?;
            println!("{}", serde_json::to_string_pretty(&report)?);
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
                (Some(path), _) => {
                    score::truth_from_json(&serde_json::from_slice(&std::fs::read(path)?)?)?
                }
                (None, Some(url)) => tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(score::fetch_truth(&url))?,
                (None, None) => anyhow::bail!("give --truth FILE or --emulator URL"),
            };
            let object = object
                .or_else(|| {
                    (truth.len() == 1)
                        .then(|| truth.keys().next().cloned())
                        .flatten()
                })
                .unwrap_or_default();
            let report: serde_json::Value = serde_json::from_slice(&std::fs::read(report)?)?;
            let report = score::report_from_json(&report, &object)?;
            let result = score::score(&report, &truth, only_reported_objects);
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
    }
    Ok(())
}
