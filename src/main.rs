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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&sfprivacy::message::schemas())?
            );
        }
    }
    Ok(())
}
