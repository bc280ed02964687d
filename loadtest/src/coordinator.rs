//! The coordinator: drives the workers through connect, load, settle and drain, samples
//! the servers' CPU and memory between the phases, and merges what the workers report.
//!
//! Server cost is read from `/proc/PID` of every `--server-pid` at phase boundaries, so
//! "deliveries per server CPU-second" uses exactly the interval the deliveries happened in.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;

use crate::checks::Failures;
use crate::metrics::{self, decode_hist, histogram, proc_sample, total, ProcSample, Progress};
use crate::plan::{Control, Report, WorkerPlan};
use crate::procs::Workers;
use crate::scrape::Scraper;

/// How the coordinator runs the phases.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Length of the load phase.
    pub duration: Duration,
    /// Pause after everyone is connected, before measuring memory and starting.
    pub settle_before_start: Duration,
    /// Server pids to sample.
    pub server_pids: Vec<u32>,
    /// Sample the servers' CPU this long before connecting (zero: not at all), so an
    /// idle phase's cost can be told apart from what the servers spend without us.
    pub baseline: Duration,
    /// Sample the servers (and the progress) every this often during the load (soak).
    pub sample_every: Option<Duration>,
    /// Prometheus `/metrics` URLs whose `gateway_queued_bytes` each sample adds up (soak).
    pub metrics_urls: Vec<String>,
    /// Bearer token for them.
    pub metrics_token: Option<String>,
}

/// One sample taken during the load phase.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    /// Seconds since the load started.
    pub t_secs: f64,
    /// Server RSS, KiB (sum over pids).
    pub server_rss_kib: u64,
    /// Its anonymous part (heap), KiB.
    pub server_rss_anon_kib: u64,
    /// Server CPU used since the previous sample, as a share of one core.
    pub server_cpu_share: f64,
    /// Deliveries per second since the previous sample.
    pub deliveries_per_sec: f64,
    /// Mean send-to-receive latency since the previous sample, ms.
    pub mean_latency_ms: f64,
    /// Requests sent and not yet answered, all workers.
    pub unanswered: u64,
    /// Bytes queued to connections and not yet written, all servers (`--metrics-url`;
    /// `None` when not asked or when the read failed).
    pub server_queued_bytes: Option<u64>,
}

/// Everything a run measured, merged over workers.
pub struct Outcome {
    /// Connections planned.
    pub conns: u64,
    /// Identified at the end of the connect phase.
    pub identified: u64,
    /// Seconds from the first connect to the last READY.
    pub connect_secs: f64,
    /// Seconds of load, and from the start of the load until the drain finished.
    pub load_secs: f64,
    /// See above.
    pub total_secs: f64,
    /// Progress counters at the end of the load phase and at the end.
    pub at_load_end: Progress,
    /// See above.
    pub at_end: Progress,
    /// Merged histograms.
    pub latency: Histogram<u64>,
    /// See above.
    pub arrival: Histogram<u64>,
    /// See above.
    pub ack: Histogram<u64>,
    /// See above.
    pub ready: Histogram<u64>,
    /// See above.
    pub silence: Histogram<u64>,
    /// Merged counters.
    pub counts: BTreeMap<String, u64>,
    /// Merged close codes.
    pub closes: BTreeMap<u16, u64>,
    /// Merged failures.
    pub failures: Failures,
    /// Server before connecting, after connecting, at load end, at the end.
    pub server: [ProcSample; 4],
    /// Server CPU in cores over [`Schedule::baseline`] before connecting.
    pub baseline_cpu_cores: Option<f64>,
    /// Each `--server-pid` after connecting and at the end, in the order given.
    pub server_per_pid: Vec<(ProcSample, ProcSample)>,
    /// Client CPU seconds (this process and its workers).
    pub client_cpu_secs: f64,
    /// Samples during the load (soak).
    pub samples: Vec<Sample>,
    /// One received MESSAGE_RECEIVED frame.
    pub sample_frame: Option<Vec<u8>>,
}

fn server_now(pids: &[u32]) -> anyhow::Result<ProcSample> {
    Ok(total(&metrics::server_samples(pids)?))
}

/// Runs the plans through every phase.
pub async fn execute(plans: Vec<WorkerPlan>, schedule: &Schedule) -> anyhow::Result<Outcome> {
    let pids = &schedule.server_pids;
    let scraper = Scraper::new(
        schedule.metrics_urls.clone(),
        schedule.metrics_token.clone(),
    )?;
    if !scraper.is_empty() {
        // A wrong URL fails now, not after a long run.
        scraper.probe().await.context("--metrics-url")?;
    }
    let conns: u64 = plans.iter().map(|p| p.conns.len() as u64).sum();
    let client_cpu_before = proc_sample("self")?.cpu_secs;
    let mut server_before = server_now(pids)?;
    let mut baseline_cpu_cores = None;
    if !schedule.baseline.is_zero() && !pids.is_empty() {
        // The servers alone; the baseline ends with the "before" sample.
        let (start, at) = (server_before, Instant::now());
        tokio::time::sleep(schedule.baseline).await;
        server_before = server_now(pids)?;
        baseline_cpu_cores =
            Some((server_before.cpu_secs - start.cpu_secs) / at.elapsed().as_secs_f64());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let n = plans.len();
    let mut workers = Workers::start(plans)?;
    let mut progress = vec![Progress::default(); n];
    let mut phase = "connect";
    let connect_started = Instant::now();

    // Waits until `want` reports of a kind arrived, keeping the progress line fresh.
    macro_rules! gather {
        ($pattern:pat => $body:expr, $deadline:expr) => {{
            let mut got = 0;
            let deadline: Option<Instant> = $deadline;
            while got < n {
                let next = match deadline {
                    Some(d) => tokio::time::timeout_at(d, workers.reports.recv())
                        .await
                        .ok()
                        .flatten(),
                    None => workers.reports.recv().await,
                };
                let Some((w, report)) = next else {
                    bail!("a worker exited before the {phase} phase ended (see its message above)")
                };
                match report {
                    Report::Progress(p) => {
                        progress[w] = p;
                        show(&bar, phase, conns, &progress);
                    }
                    $pattern => {
                        $body;
                        got += 1;
                    }
                    #[allow(unreachable_patterns)]
                    _ => bail!("unexpected report from worker {w} in the {phase} phase"),
                }
            }
        }};
    }

    gather!(Report::Connected => {}, None);
    let connect_secs = connect_started.elapsed().as_secs_f64();
    let identified = progress.iter().map(|p| p.identified).sum::<u64>();
    tokio::time::sleep(schedule.settle_before_start).await;
    let connected_per_pid = metrics::server_samples(pids)?;
    let server_connected = total(&connected_per_pid);

    phase = "load";
    workers.broadcast(&Control::Start)?;
    let load_started = Instant::now();
    let load_end = load_started + schedule.duration;
    let mut samples = Vec::new();
    let mut last = (load_started, server_connected, Progress::default());
    let start_progress = sum(&progress);
    last.2 = start_progress;
    loop {
        let next_sample = schedule.sample_every.map(|every| last.0 + every);
        let wake = next_sample.map_or(load_end, |s| s.min(load_end));
        match tokio::time::timeout_at(wake, workers.reports.recv()).await {
            Ok(Some((w, Report::Progress(p)))) => {
                progress[w] = p;
                show(&bar, phase, conns, &progress);
            }
            Ok(Some((w, _))) => bail!("unexpected report from worker {w} during the load"),
            Ok(None) => bail!("a worker exited during the load (see its message above)"),
            Err(_) => {
                let now = Instant::now();
                if schedule.sample_every.is_some() {
                    let server = server_now(pids)?;
                    let p = sum(&progress);
                    let dt = (now - last.0).as_secs_f64().max(1e-9);
                    let lat_n = p.latency_count.saturating_sub(last.2.latency_count);
                    let server_queued_bytes = if scraper.is_empty() {
                        None
                    } else {
                        match scraper.queued_bytes().await {
                            Ok(bytes) => Some(bytes),
                            Err(err) => {
                                bar.println(format!("queue depth not read: {err:#}"));
                                None
                            }
                        }
                    };
                    samples.push(Sample {
                        t_secs: (now - load_started).as_secs_f64(),
                        server_rss_kib: server.rss_kib,
                        server_rss_anon_kib: server.rss_anon_kib,
                        server_cpu_share: (server.cpu_secs - last.1.cpu_secs) / dt,
                        deliveries_per_sec: p.deliveries.saturating_sub(last.2.deliveries) as f64
                            / dt,
                        mean_latency_ms: if lat_n == 0 {
                            0.0
                        } else {
                            p.latency_sum_us.saturating_sub(last.2.latency_sum_us) as f64
                                / lat_n as f64
                                / 1000.0
                        },
                        unanswered: p.sent.saturating_sub(p.acked + p.errors.min(p.sent)),
                        server_queued_bytes,
                    });
                    last = (now, server, p);
                }
                if now >= load_end {
                    break;
                }
            }
        }
    }
    let load_secs = load_started.elapsed().as_secs_f64();
    let at_load_end = sum(&progress);
    let server_load_end = server_now(pids)?;

    phase = "settle";
    workers.broadcast(&Control::Settle)?;
    let mut required: HashMap<u64, u64> = HashMap::new();
    gather!(Report::Settled(highest) => {
        for (c, o) in highest { let e = required.entry(c).or_default(); *e = (*e).max(o); }
    }, None);
    phase = "drain";
    workers.broadcast(&Control::Drain(required))?;
    let mut results = Vec::new();
    gather!(Report::Done(result) => results.push(*result), None);
    let total_secs = load_started.elapsed().as_secs_f64();
    let end_per_pid = metrics::server_samples(pids)?;
    let server_end = total(&end_per_pid);
    bar.finish_and_clear();
    workers.wait().await;

    let mut outcome = Outcome {
        conns,
        identified,
        connect_secs,
        load_secs,
        total_secs,
        at_load_end: diff(at_load_end, start_progress),
        at_end: diff(sum(&progress), start_progress),
        latency: histogram(),
        arrival: histogram(),
        ack: histogram(),
        ready: histogram(),
        silence: histogram(),
        counts: BTreeMap::new(),
        closes: BTreeMap::new(),
        failures: Failures::default(),
        baseline_cpu_cores,
        server: [server_before, server_connected, server_load_end, server_end],
        server_per_pid: connected_per_pid.into_iter().zip(end_per_pid).collect(),
        client_cpu_secs: proc_sample("self")?.cpu_secs - client_cpu_before,
        samples,
        sample_frame: None,
    };
    for r in results {
        outcome.latency.add(decode_hist(&r.latency)?)?;
        outcome.arrival.add(decode_hist(&r.arrival)?)?;
        outcome.ack.add(decode_hist(&r.ack)?)?;
        outcome.ready.add(decode_hist(&r.ready)?)?;
        outcome.silence.add(decode_hist(&r.silence)?)?;
        for (k, v) in r.counts {
            *outcome.counts.entry(k).or_default() += v;
        }
        for (k, v) in r.closes {
            *outcome.closes.entry(k).or_default() += v;
        }
        outcome.failures.merge(r.failures);
        outcome.client_cpu_secs += r.cpu_secs;
        if outcome.sample_frame.is_none() {
            if let Some(b64) = r.sample_frame {
                use base64::Engine;
                outcome.sample_frame = Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .context("sample frame")?,
                );
            }
        }
    }
    Ok(outcome)
}

fn sum(all: &[Progress]) -> Progress {
    all.iter().fold(Progress::default(), |a, p| a.add(*p))
}

fn diff(a: Progress, b: Progress) -> Progress {
    Progress {
        identified: a.identified,
        deliveries: a.deliveries.saturating_sub(b.deliveries),
        sent: a.sent.saturating_sub(b.sent),
        acked: a.acked.saturating_sub(b.acked),
        errors: a.errors,
        latency_sum_us: a.latency_sum_us.saturating_sub(b.latency_sum_us),
        latency_count: a.latency_count.saturating_sub(b.latency_count),
    }
}

fn show(bar: &ProgressBar, phase: &str, conns: u64, all: &[Progress]) {
    let p = sum(all);
    bar.set_message(format!(
        "{phase:7} identified {}/{conns}  sent {}  acked {}  deliveries {}  errors {}",
        p.identified, p.sent, p.acked, p.deliveries, p.errors
    ));
}
