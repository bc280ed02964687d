//! `soak`: the fanout shape at a steady open-loop rate for a long time, sampled every
//! `--sample-secs`: server RSS, server CPU, deliveries per second, mean latency,
//! requests unanswered and (with `--metrics-url`) the servers' bytes queued to
//! connections. Fails when the heap (`RssAnon`) or mean latency in the last quarter of
//! the samples exceeds the first quarter by more than `--max-growth-pct`, or when the unanswered
//! requests or the queued bytes keep piling up (a queue that grows without bound).
//! Samples of the first `--warmup-secs` are not judged: a cache that fills and stops
//! grows like a leak until it is full, and only a run past that point tells them apart.
//! Total RSS is printed, not judged: it counts the file pages a server maps (SQLite's
//! writer maps up to 256 MiB of the database), which grow with the data up to the
//! mapping's size and are the kernel's to reclaim; an hour at 400 messages/s grew RSS
//! 120 -> 189 MiB that way with the heap flat at about 80 MiB.

use std::time::Duration;

use serde_json::json;

use crate::cli::SoakArgs;
use crate::coordinator::{Sample, Schedule};
use crate::plan::{ConnPlan, Load, SendMode};
use crate::scenarios::{self, Needs};

/// Queued bytes below which growth is not judged: a burst, not a queue without bound.
const QUEUE_FLOOR_BYTES: f64 = 4.0 * 1024.0 * 1024.0;

/// The samples taken after `warmup_secs` of load, the ones judged.
fn after_warmup(samples: &[Sample], warmup_secs: u64) -> Vec<Sample> {
    samples
        .iter()
        .filter(|s| s.t_secs >= warmup_secs as f64)
        .cloned()
        .collect()
}

/// Mean of `f` over the first and last quarter of `samples`.
fn quarters(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> Option<(f64, f64)> {
    let q = samples.len() / 4;
    if q == 0 {
        return None;
    }
    let mean = |s: &[Sample]| s.iter().map(&f).sum::<f64>() / s.len() as f64;
    Some((mean(&samples[..q]), mean(&samples[samples.len() - q..])))
}

/// Runs the scenario.
pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let members = args.members.max(1);
    let senders = args.senders.clamp(1, members);
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
    let per_sender = args.rate / senders as f64;
    let needs = Needs {
        conns: members,
        sessions_per_user: 1,
        messages_per_sec: Some(per_sender),
        frames_per_sec: Some(per_sender),
        registrations: members,
    }
    .lines(c);
    let load = Load {
        mode: SendMode::EveryMicros((1e6 / per_sender.max(1e-6)).round() as u64),
        content_len: 100,
        mix: None,
    };
    let plans = scenarios::split(c, conns, load);
    let schedule = Schedule {
        duration: Duration::from_secs(args.duration),
        settle_before_start: Duration::from_secs(1),
        server_pids: c.server_pids.clone(),
        baseline: Duration::ZERO,
        sample_every: Some(Duration::from_secs(args.sample_secs.max(1))),
        metrics_urls: args.metrics_urls.clone(),
        metrics_token: args.metrics_token.clone(),
    };
    let params = json!({
        "members": members, "senders": senders, "rate": args.rate, "duration_secs": args.duration,
        "sample_secs": args.sample_secs, "max_growth_pct": args.max_growth_pct,
        "warmup_secs": args.warmup_secs, "procs": c.procs,
        "metrics_urls": args.metrics_urls,
    });
    let want_queue = !args.metrics_urls.is_empty();
    let max = args.max_growth_pct;
    let warmup = args.warmup_secs;
    scenarios::finish(c, "soak", params, plans, schedule, needs, move |o, figures| {
        let judged = after_warmup(&o.samples, warmup);
        let after = if warmup == 0 {
            String::new()
        } else {
            format!(" after the {warmup} s warm-up")
        };
        let queued: Vec<Sample> = judged
            .iter()
            .filter(|s| s.server_queued_bytes.is_some())
            .cloned()
            .collect();
        let growth = |name: &str, samples: &[Sample], f: &dyn Fn(&Sample) -> f64, floor: f64| {
            quarters(samples, f).and_then(|(first, last)| {
                let grew = 100.0 * (last - first) / first.max(floor);
                (grew > max).then(|| format!("soak: {name} grew {grew:.0}% from the first to the last quarter{after} ({first:.1} -> {last:.1}), more than {max}%"))
            })
        };
        let checks = [
            (judged.len() < 4).then(|| {
                format!(
                    "soak: {} samples{after}, too few to judge growth (4 needed): lengthen --duration or shorten --warmup-secs / --sample-secs",
                    judged.len()
                )
            }),
            growth("server heap (RssAnon, KiB)", &judged, &|s| s.server_rss_anon_kib as f64, 1.0),
            // Latency below 5 ms is noise, not growth.
            growth("mean latency (ms)", &judged, &|s| s.mean_latency_ms, 5.0),
            growth("unanswered requests", &judged, &|s| s.unanswered as f64, 10.0),
            // A few MiB queued is a burst (one connection may queue 4 MiB), not growth.
            growth(
                "server queued bytes",
                &queued,
                &|s| s.server_queued_bytes.unwrap_or(0) as f64,
                QUEUE_FLOOR_BYTES,
            ),
            (want_queue && queued.len() < 4 && judged.len() >= 4).then(|| {
                format!(
                    "soak: the servers' queued bytes were read in only {} of {} samples (see the messages above)",
                    queued.len(),
                    judged.len()
                )
            }),
        ];
        for failure in checks.into_iter().flatten() {
            figures.failures.add(failure);
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rss: u64, queued: Option<u64>) -> Sample {
        Sample {
            t_secs: 0.0,
            server_rss_kib: rss,
            server_rss_anon_kib: rss / 2,
            server_cpu_share: 0.0,
            deliveries_per_sec: 0.0,
            mean_latency_ms: 0.0,
            unanswered: 0,
            server_queued_bytes: queued,
        }
    }

    #[test]
    fn quarters_compare_the_first_and_last_quarter() {
        let s: Vec<Sample> = [10, 12, 50, 60, 70, 20, 30, 40]
            .iter()
            .map(|&r| sample(r, None))
            .collect();
        assert_eq!(
            quarters(&s, |x| x.server_rss_kib as f64),
            Some((11.0, 35.0))
        );
        // Fewer than four samples: nothing to judge.
        assert_eq!(quarters(&s[..3], |x| x.server_rss_kib as f64), None);
    }

    #[test]
    fn the_warmup_samples_are_not_judged() {
        // A heap that fills a cache for the first 3 samples, then stays level.
        let s: Vec<Sample> = [10, 40, 70, 100, 101, 100, 102, 101]
            .iter()
            .enumerate()
            .map(|(i, &r)| Sample {
                t_secs: 10.0 * (i + 1) as f64,
                ..sample(r, None)
            })
            .collect();
        let rss = |x: &Sample| x.server_rss_kib as f64;
        let (first, last) = quarters(&s, rss).unwrap();
        assert!(
            last > 2.0 * first,
            "judged from the start it looks like a leak"
        );
        let judged = after_warmup(&s, 40);
        assert_eq!(judged.len(), 5);
        assert_eq!(judged[0].t_secs, 40.0);
        let (first, last) = quarters(&judged, rss).unwrap();
        assert!((last - first).abs() / first < 0.02, "{first} -> {last}");
        assert_eq!(after_warmup(&s, 0).len(), s.len());
    }
}
