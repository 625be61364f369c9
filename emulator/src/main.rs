//! `sf-emulator` binary: serve an emulated Salesforce org.

use clap::Parser;
use sf_emulator::admin::input;

#[derive(Parser)]
#[command(name = "sf-emulator", about = "A Salesforce REST API emulator")]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SF_EMULATOR_ADDR", default_value = "127.0.0.1:8585")]
    addr: String,
    /// Seed of the generated org.
    #[arg(long, env = "SF_EMULATOR_SEED", default_value_t = 42)]
    seed: u64,
    /// Approximate number of seeded records (0: no records but the three directory users).
    #[arg(long, env = "SF_EMULATOR_SIZE", default_value_t = 1000, value_parser = input::flag::size)]
    size: usize,
    /// Search index lag in milliseconds: rows written more recently are not searchable.
    #[arg(long, env = "SF_EMULATOR_INDEX_LAG_MS", default_value_t = 3000, value_parser = input::flag::ms)]
    index_lag_ms: u64,
    /// The org's 18-character id (`00D…`): identity URLs, access tokens, userinfo, introspect.
    #[arg(long, env = "SF_EMULATOR_ORG_ID", default_value = sf_emulator::oauth::ORG_ID, value_parser = input::flag::org_id)]
    org_id: String,
    /// Disable person accounts.
    #[arg(long, env = "SF_EMULATOR_NO_PERSON_ACCOUNTS")]
    no_person_accounts: bool,
    /// Vary query page sizes around the requested batchSize (within 200-2000), as
    /// Salesforce may.
    #[arg(long, env = "SF_EMULATOR_VARY_QUERY_PAGE_SIZES")]
    vary_query_page_sizes: bool,
    /// Play a sandbox org: JWT assertions must name https://test.salesforce.com (not
    /// https://login.salesforce.com) as audience.
    #[arg(long, env = "SF_EMULATOR_SANDBOX")]
    sandbox: bool,
    #[command(flatten)]
    edge: sf_emulator::faults::EdgeFlags,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = sf_emulator::EmulatorConfig {
        seed: cli.seed,
        size: cli.size,
        person_accounts: !cli.no_person_accounts,
        index_lag_ms: cli.index_lag_ms,
        vary_query_page_sizes: cli.vary_query_page_sizes,
        org_id: cli.org_id.clone(),
        sandbox: cli.sandbox,
    };
    let started = std::time::Instant::now();
    let emulator = sf_emulator::Emulator::new(config);
    let tls = cli.edge.apply(&emulator.state)?;
    let running = emulator
        .start_with_tls(&cli.addr, tls)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (--addr): {e}", cli.addr))?;
    println!(
        "sf-emulator listening on {} (org {}, seed {}, size {}, ready in {} ms)",
        running.base_url,
        cli.org_id,
        cli.seed,
        cli.size,
        started.elapsed().as_millis()
    );
    tokio::signal::ctrl_c().await?;
    running.shutdown.cancel();
    Ok(())
}
