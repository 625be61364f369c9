//! `sf-emulator` binary: serve an emulated Salesforce org.

use clap::Parser;

#[derive(Parser)]
#[command(name = "sf-emulator", about = "A Salesforce REST API emulator")]
struct Cli {
    #[arg(long, env = "SF_EMULATOR_ADDR", default_value = "127.0.0.1:8585")]
    addr: String,
    #[arg(long, env = "SF_EMULATOR_SEED", default_value_t = 42)]
    seed: u64,
    #[arg(long, env = "SF_EMULATOR_SIZE", default_value_t = 1000)]
    size: usize,
    #[command(flatten)]
    edge: sf_emulator::faults::EdgeFlags,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = sf_emulator::EmulatorConfig {
        seed: cli.seed,
        size: cli.size,
    };
    let emulator = sf_emulator::Emulator::new(config);
    let tls = cli.edge.apply(&emulator.state)?;
    let running = emulator.start_with_tls(&cli.addr, tls).await?;
    println!("sf-emulator listening on {}", running.base_url);
    tokio::signal::ctrl_c().await?;
    running.shutdown.cancel();
    Ok(())
}
