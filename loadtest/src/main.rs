//! `layer4-loadtest`: an independent client of PROTOCOL.md and API.md that drives a
//! Layer4 node with many WebSocket clients, checks that every member receives every
//! acknowledged channel event exactly once and in order, and reports latency (HDR),
//! throughput and server cost (from `/proc`), beside a plain write-loop ceiling.
//!
//! It does not use the server's crates for wire handling (see `wire`), so a bug in the
//! gateway cannot hide behind the same bug in its client. Layout: `cli` (flags),
//! `provision` (HTTP API), `client` + `wire` + `session` (one WebSocket client),
//! `checks` (exactly-once), `worker` + `procs` + `coordinator` (phases over
//! processes), `scenarios/*`, `metrics` + `report` (figures), `scrape` (the servers'
//! queue depth from `/metrics`), `ceiling`.

mod ceiling;
mod checks;
mod cli;
mod client;
mod coordinator;
mod metrics;
mod plan;
mod procs;
mod provision;
mod report;
mod scenarios;
mod scrape;
mod session;
mod stamped;
mod wire;
mod worker;

use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::CeilingWriter { args } = &cli.command {
        return exit(ceiling::writer_main(args));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => return exit(Err(err.into())),
    };
    let result = runtime.block_on(run(cli.command));
    // A worker's stdin reader is a blocking read that cannot be cancelled: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
    exit(result)
}

fn exit(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("layer4-loadtest: FAILED: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Provision(args) => {
            let c = &args.common;
            let mut p = scenarios::users(c, args.users).await?;
            if let Some(n) = args.group {
                p.ensure_users(n, c.register_concurrency, &c.file).await?;
                let id = p
                    .ensure_group(&format!("fanout-{n}"), (0..n).collect(), true, &c.file)
                    .await?;
                println!("fanout group of {n} members: channel {id}");
            }
            p.save(&c.file)?;
            println!("{} users in {}", p.users.len(), c.file.display());
            Ok(())
        }
        Command::Fanout(args) => scenarios::fanout::run(args).await,
        Command::Connect(args) => scenarios::connect::run(args).await,
        Command::Chat(args) => scenarios::chat::run(args).await,
        Command::Soak(args) => scenarios::soak::run(args).await,
        Command::Ceiling(args) => {
            let payload = vec![0xa5u8; args.frame_bytes];
            let sources = client::loopback_sources(args.source_ips);
            let c = ceiling::run(
                args.conns,
                &payload,
                args.frames_per_write,
                Duration::from_secs(args.duration),
                &sources,
            )
            .await?;
            if args.json {
                println!("{}", serde_json::to_string(&c)?);
            } else {
                println!(
                    "write loop: {} sockets, {} x {} B frames per write(): {:.0} frames/s, {:.0} frames per writer CPU-s",
                    c.conns, c.frames_per_write, c.frame_bytes, c.frames_per_sec, c.frames_per_cpu_sec
                );
            }
            Ok(())
        }
        Command::Worker => procs::child_main().await,
        Command::CeilingWriter { .. } => Ok(()),
    }
}
