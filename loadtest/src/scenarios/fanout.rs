//! `fanout`: the headline. One public group of N members, each one connection; S of
//! them send, closed loop (each keeps `--window` messages unanswered) or open loop
//! (`--rate` messages per second in total). Every member must receive every
//! acknowledged message once and in order.

use std::time::Duration;

use serde_json::json;

use crate::cli::FanoutArgs;
use crate::coordinator::Schedule;
use crate::plan::{ConnPlan, Load, SendMode};
use crate::scenarios::{self, Needs};

/// Runs the scenario.
pub async fn run(args: FanoutArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let members = args.members.max(1);
    let senders = args.senders.min(members);
    let mut p = scenarios::users(c, members).await?;
    let channel = p
        .ensure_group(
            &format!("fanout-{members}"),
            (0..members).collect(),
            true,
            &c.file,
        )
        .await?;
    let conns = (0..members)
        .map(|i| ConnPlan {
            index: i,
            token: p.users[i].token.clone(),
            send_to: if i < senders { vec![channel] } else { vec![] },
        })
        .collect();
    let mode = match args.rate {
        Some(rate) if rate > 0.0 => {
            SendMode::EveryMicros((senders as f64 * 1e6 / rate).round().max(1.0) as u64)
        }
        _ => SendMode::Window(args.window.max(1)),
    };
    let per_sender = args.rate.map(|r| r / senders.max(1) as f64);
    let needs = Needs {
        conns: members,
        sessions_per_user: 1,
        messages_per_sec: per_sender,
        frames_per_sec: per_sender,
        registrations: members,
    }
    .lines(c);
    let load = Load {
        mode,
        content_len: args.content_len,
        mix: None,
    };
    let plans = scenarios::split(c, conns, load);
    let schedule = Schedule {
        duration: Duration::from_secs(args.duration),
        settle_before_start: Duration::from_secs(1),
        server_pids: c.server_pids.clone(),
        baseline: Duration::ZERO,
        sample_every: None,
        metrics_urls: Vec::new(),
        metrics_token: None,
    };
    let params = json!({
        "members": members, "senders": senders, "window": args.window, "rate": args.rate,
        "duration_secs": args.duration, "content_len": args.content_len, "procs": c.procs,
        "channel": channel.to_string(),
    });
    scenarios::finish(c, "fanout", params, plans, schedule, needs, |_, _| {}).await
}
