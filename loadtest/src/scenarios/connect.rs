//! `connect`: a connection storm. N connections (several per user when asked) connect
//! and identify as fast as `--connect-rate` allows, then sit idle (PING only) for
//! `--idle-secs`. Reports connections per second, connect-to-READY time and the
//! server's RSS growth per idle identified connection.

use std::time::Duration;

use serde_json::json;

use crate::cli::ConnectArgs;
use crate::coordinator::Schedule;
use crate::plan::{ConnPlan, Load, SendMode};
use crate::scenarios::{self, Needs};

/// Runs the scenario.
pub async fn run(args: ConnectArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let per_user = args.conns_per_user.max(1);
    let users = args.conns.div_ceil(per_user).max(1);
    let p = scenarios::users(c, users).await?;
    let conns = (0..args.conns)
        .map(|i| ConnPlan {
            index: i,
            token: p.users[i % users].token.clone(),
            send_to: vec![],
        })
        .collect();
    let needs = Needs {
        conns: args.conns,
        sessions_per_user: per_user,
        messages_per_sec: Some(0.0),
        frames_per_sec: Some(0.0),
        registrations: users,
    }
    .lines(c);
    let load = Load {
        mode: SendMode::Quiet,
        content_len: 0,
        mix: None,
    };
    let plans = scenarios::split(c, conns, load);
    let schedule = Schedule {
        duration: Duration::from_secs(args.idle_secs),
        settle_before_start: Duration::from_secs(2),
        server_pids: c.server_pids.clone(),
        baseline: Duration::from_secs(args.baseline_secs),
        sample_every: None,
        metrics_urls: Vec::new(),
        metrics_token: None,
    };
    let params = json!({
        "conns": args.conns, "conns_per_user": per_user, "idle_secs": args.idle_secs,
        "baseline_secs": args.baseline_secs,
        "connect_rate": c.connect_rate, "procs": c.procs,
    });
    scenarios::finish(c, "connect", params, plans, schedule, needs, |_, _| {}).await
}
