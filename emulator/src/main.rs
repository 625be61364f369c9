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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = sf_emulator::EmulatorConfig {
        seed: cli.seed,
        size: cli.size,
    };
    let running = sf_emulator::Emulator::new(config).start(&cli.addr).await?;
    println!("sf-emulator listening on {}", running.base_url);
    tokio::signal::ctrl_c().await?;
    running.shutdown.cancel();
    Ok(())
}
