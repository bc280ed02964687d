//! `layer4`: one binary for the dev server, the gateway, the API and migrations.
//! It parses configuration and wires the crates together; the work is in them.

mod cli;
mod run;

use clap::Parser;

use crate::cli::{Cli, Command};

/// jemalloc: a reconnect storm leaves far less behind (see `layer4::memory`).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    layer4::memory::return_large_frees();
    layer4::memory::purge_in_background();
    // The metrics recorder first: a count made before it exists is lost (a gateway's
    // first connections were, when its metrics task installed it).
    api::metrics::prometheus();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Dev(args) => run::dev(args).await,
            Command::Gateway(args) => run::gateway(args).await,
            Command::Api(args) => run::api(args).await,
            Command::Migrate(args) => run::migrate(args).await,
            Command::Seed(args) => run::seed(args).await,
        }
    })
}
