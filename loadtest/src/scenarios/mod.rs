//! The scenarios. Each builds connection plans from provisioned users and channels, runs
//! them through the coordinator, adds its own checks and hands the outcome to the report.
//!
//! What they share lives here: the loopback-only guard, splitting connections over
//! workers and source addresses, and the list of server limits a run assumes raised
//! (the harness cannot read the server's settings, so it says what it needs).

pub mod chat;
pub mod connect;
pub mod fanout;
pub mod soak;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::cli::Common;
use crate::client::loopback_sources;
use crate::coordinator::{self, Outcome, Schedule};
use crate::plan::{ConnPlan, Load, WorkerPlan};
use crate::provision::Provisioned;
use crate::report::{self, Figures};

/// Refuses targets outside 127.0.0.0/8: this harness is for the local machine.
pub fn check_loopback(common: &Common) -> anyhow::Result<()> {
    if common.gateway.is_empty() {
        bail!("--gateway: at least one address");
    }
    if let Some(far) = common.gateway.iter().find(|g| !g.ip().is_loopback()) {
        bail!("--gateway {far} is not a loopback address");
    }
    check_loopback_url(&common.api, "--api")
}

/// Refuses a URL (of `flag`) whose host is not in 127.0.0.0/8 or `localhost`.
pub fn check_loopback_url(url: &str, flag: &str) -> anyhow::Result<()> {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .with_context(|| format!("{flag} must look like http://127.0.0.1:3000"))?;
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("{flag} {url} is not a loopback address");
    }
    Ok(())
}

/// Loads the provision file and makes sure it has `users` users.
pub async fn users(common: &Common, users: usize) -> anyhow::Result<Provisioned> {
    check_loopback(common)?;
    let mut p = Provisioned::load(&common.file, &common.api).await?;
    p.ensure_users(users, common.register_concurrency, &common.file)
        .await?;
    Ok(p)
}

/// A run id: part of every nonce and content.
pub fn run_id() -> String {
    format!("{:x}", crate::metrics::now_micros())
}

/// Source addresses for `conns` connections.
pub fn sources(common: &Common, conns: usize) -> Vec<std::net::Ipv4Addr> {
    let n = if common.source_ips > 0 {
        common.source_ips
    } else {
        conns.div_ceil(10_000).max(common.procs)
    };
    loopback_sources(n)
}

/// Splits connections round-robin over `--procs` workers.
pub fn split(common: &Common, conns: Vec<ConnPlan>, load: Load) -> Vec<WorkerPlan> {
    let procs = common.procs.clamp(1, conns.len().max(1));
    let sources = sources(common, conns.len());
    let run = run_id();
    let mut plans: Vec<WorkerPlan> = (0..procs)
        .map(|worker| WorkerPlan {
            worker,
            run: run.clone(),
            gateways: common.gateway.clone(),
            sources: sources.clone(),
            connect_rate: common.connect_rate / procs as f64,
            connect_concurrency: common.connect_concurrency,
            conns: Vec::new(),
            load: load.clone(),
            drain_secs: common.drain_secs,
            reconnect: !common.no_reconnect,
            arrival_stamps: common.arrival_stamps,
        })
        .collect();
    for conn in conns {
        plans[conn.index % procs].conns.push(conn);
    }
    plans
}

/// The server limits a run needs raised, as flags of `layer4 dev|gateway|api`.
pub struct Needs {
    /// Connections.
    pub conns: usize,
    /// Sessions of one user at once.
    pub sessions_per_user: usize,
    /// Messages one user sends to one channel per second (None: unbounded, closed loop).
    pub messages_per_sec: Option<f64>,
    /// Data frames one connection sends per second (None: unbounded).
    pub frames_per_sec: Option<f64>,
    /// Users registered through the API in this run's provisioning.
    pub registrations: usize,
}

impl Needs {
    /// One line per limit, with the flag and environment variable that lift it.
    pub fn lines(&self, common: &Common) -> Vec<String> {
        let per_ip = self.conns.div_ceil(sources(common, self.conns).len());
        let mut out = vec![format!(
            "--max-connections-per-ip / MAX_CONNECTIONS_PER_IP >= {per_ip} (connections per source address; default 256)"
        )];
        if self.sessions_per_user > 1 {
            out.push(format!(
                "--max-sessions-per-user / MAX_SESSIONS_PER_USER >= {} (default 16)",
                self.sessions_per_user
            ));
        }
        let rate = |r: Option<f64>, window_s: f64| {
            r.map_or(
                "unbounded (closed loop): raise it far, e.g. 1000000".to_owned(),
                |r| format!(">= {:.0} per {window_s:.0} s", (r * window_s).ceil()),
            )
        };
        out.push(format!(
            "--messages-per-window / MESSAGES_PER_WINDOW with --message-window-ms 5000: {} (default 5)",
            rate(self.messages_per_sec, 5.0)
        ));
        out.push(format!(
            "--frames-per-window / FRAMES_PER_WINDOW with --frame-window-ms 60000: {} (default 120)",
            rate(self.frames_per_sec, 60.0)
        ));
        if self.registrations > 0 {
            out.push(format!(
                "--auth-rate-per-min / AUTH_RATE_PER_MIN >= {} for provisioning (`layer4 dev`: 1000; 429s are retried)",
                self.registrations
            ));
        }
        out
    }
}

/// Runs the plans, runs the ceiling if asked, reports, and fails on any failed check.
pub async fn finish(
    common: &Common,
    scenario: &str,
    params: serde_json::Value,
    plans: Vec<WorkerPlan>,
    schedule: Schedule,
    needs: Vec<String>,
    extra: impl FnOnce(&Outcome, &mut Figures),
) -> anyhow::Result<()> {
    eprintln!("{scenario}: assuming these server limits are raised:");
    for line in &needs {
        eprintln!("  {line}");
    }
    let outcome = coordinator::execute(plans, &schedule).await?;
    let mut figures = Figures::new(scenario, params, &outcome, &schedule.server_pids, needs);
    extra(&outcome, &mut figures);
    if common.ceiling {
        let frame = outcome
            .sample_frame
            .clone()
            .unwrap_or_else(|| vec![0x80; 300]);
        let secs = schedule.duration.as_secs().clamp(2, 10);
        let ceiling = crate::ceiling::run(
            outcome.conns as usize,
            &frame,
            common.ceiling_frames_per_write,
            Duration::from_secs(secs),
            &sources(common, outcome.conns as usize),
        )
        .await
        .context("ceiling")?;
        figures.ceiling = Some(ceiling);
    }
    report::emit(&figures, common.json)?;
    if figures.failures.count > 0 {
        bail!(
            "{} check(s) failed; first: {}",
            figures.failures.count,
            figures
                .failures
                .examples
                .first()
                .cloned()
                .unwrap_or_default()
        );
    }
    Ok(())
}
