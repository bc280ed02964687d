//! `chat`: a realistic mix. Group channels with Zipf-distributed sizes (the k-th largest
//! has largest/k^s members), DMs between random pairs, and every user acting at random:
//! messages, typing, reactions on recent messages, edits of its own, read receipts, and
//! now and then a reconnect with `positions` (replay must continue exactly, or the
//! channel comes back in `resync`). Every channel event is checked on every member.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::cli::ChatArgs;
use crate::coordinator::Schedule;
use crate::plan::{ConnPlan, Load, Mix, SendMode};
use crate::scenarios::{self, Needs};

/// Group sizes: `largest / k^s` for k = 1..=channels, at least 2.
pub fn zipf_sizes(channels: usize, largest: usize, s: f64) -> Vec<usize> {
    (1..=channels)
        .map(|k| ((largest as f64 / (k as f64).powf(s)).round() as usize).max(2))
        .collect()
}

/// Runs the scenario.
pub async fn run(args: ChatArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let users = args.users.max(2);
    let largest = args.largest.unwrap_or(users).clamp(2, users.min(10_000));
    let mut p = scenarios::users(c, users).await?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut send_to: Vec<Vec<u64>> = vec![Vec::new(); users];
    let sizes = zipf_sizes(args.channels, largest, args.zipf);
    eprintln!(
        "chat: {} groups of {:?}... members, {} DMs",
        sizes.len(),
        &sizes[..sizes.len().min(8)],
        args.dms
    );
    for (k, &size) in sizes.iter().enumerate() {
        let members = rand::seq::index::sample(&mut rng, users, size).into_vec();
        let key = format!(
            "chat-u{users}-s{}-z{}-l{largest}-c{k}",
            args.seed, args.zipf
        );
        let id = p
            .ensure_group(&key, members.clone(), false, &c.file)
            .await?;
        for m in members {
            send_to[m].push(id);
        }
    }
    for d in 0..args.dms {
        let a = rng.gen_range(0..users);
        let b = (a + rng.gen_range(1..users)) % users;
        let key = format!("chat-dm-{}-{}", a.min(b), a.max(b));
        let id = p.ensure_dm(&key, a, b, &c.file).await?;
        if !send_to[a].contains(&id) {
            send_to[a].push(id);
            send_to[b].push(id);
        }
        if d + 1 == args.dms {
            p.save(&c.file)?;
        }
    }
    let active = send_to.iter().filter(|s| !s.is_empty()).count().max(1);
    let per_conn = args.rate / active as f64;
    let conns = (0..users)
        .map(|i| ConnPlan {
            index: i,
            token: p.users[i].token.clone(),
            send_to: std::mem::take(&mut send_to[i]),
        })
        .collect();
    let needs = Needs {
        conns: users,
        sessions_per_user: 1,
        messages_per_sec: Some(per_conn),
        frames_per_sec: Some(per_conn),
        registrations: users,
    }
    .lines(c);
    let load = Load {
        mode: SendMode::EveryMicros((1e6 / per_conn.max(1e-6)).round() as u64),
        content_len: 80,
        mix: Some(Mix {
            message: 60,
            typing: 15,
            react: 10,
            edit: 5,
            read: 10,
            reconnect_every_ms: args.reconnect_every_secs * 1000,
        }),
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
        "users": users, "channels": args.channels, "zipf": args.zipf, "largest": largest,
        "dms": args.dms, "rate": args.rate, "reconnect_every_secs": args.reconnect_every_secs,
        "duration_secs": args.duration, "procs": c.procs,
    });
    scenarios::finish(c, "chat", params, plans, schedule, needs, |_, _| {}).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_sizes_fall_off_as_one_over_k() {
        assert_eq!(zipf_sizes(4, 1000, 1.0), vec![1000, 500, 333, 250]);
        assert_eq!(zipf_sizes(3, 10, 2.0), vec![10, 3, 2]);
    }
}
