//! The figures of a run: one serializable value, printed as a table for people and as
//! one JSON object (`--json`) for scripts and docs/benchmarks.md.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::ceiling::Ceiling;
use crate::checks::Failures;
use crate::coordinator::{Outcome, Sample};
use crate::metrics::Summary;

/// Connection figures.
#[derive(Debug, Serialize)]
pub struct ConnectFigures {
    /// Seconds from the first connect to the last READY.
    pub secs: f64,
    /// Identified connections per second.
    pub per_sec: f64,
    /// Connect-to-READY time.
    pub ready: Summary,
}

/// Silence figures (issue 14's stall: members that get nothing for a long time).
#[derive(Debug, Serialize)]
pub struct SilenceFigures {
    /// Longest gap between channel events per member, from the load's start.
    pub per_member_max: Summary,
    /// Members whose longest gap was over 1 s, 5 s, 10 s.
    pub over_1s: u64,
    /// See above.
    pub over_5s: u64,
    /// See above.
    pub over_10s: u64,
}

/// Server cost, summed over `--server-pid`.
#[derive(Debug, Serialize)]
pub struct ServerFigures {
    /// Pids measured.
    pub pids: Vec<u32>,
    /// CPU seconds from the load's start until the drain finished.
    pub cpu_secs: f64,
    /// Deliveries per server CPU-second over that interval.
    pub deliveries_per_cpu_sec: f64,
    /// RSS before connecting, after connecting, at the end, KiB.
    pub rss_kib_before: u64,
    /// See above.
    pub rss_kib_connected: u64,
    /// See above.
    pub rss_kib_end: u64,
    /// (RSS after connecting - before) / identified connections, KiB: right after the
    /// storm, with what it left behind.
    pub rss_per_idle_conn_kib: f64,
    /// (RSS at the end of the load phase - before) / identified connections, KiB. For
    /// `connect`, whose load phase is idle, the cost of an idle connection once the
    /// storm is over.
    pub rss_per_conn_load_end_kib: f64,
    /// CPU seconds spent from before connecting until the load started.
    pub cpu_connect_secs: f64,
    /// Identified connections per CPU-second of connecting (IDENTIFY->READY, the
    /// WebSocket upgrade and the TCP accept included).
    pub identified_per_cpu_sec: f64,
    /// Server CPU during the load phase alone, in cores (for `connect`, the cost of
    /// idle connections: their heartbeats and the shard's tick).
    pub load_cpu_cores: f64,
    /// Server CPU in cores before we connected (`connect --baseline-secs`).
    pub baseline_cpu_cores: Option<f64>,
    /// Each process on its own (a cluster: which node paid).
    pub per_pid: Vec<PidFigures>,
}

/// One server process's share.
#[derive(Debug, Serialize)]
pub struct PidFigures {
    /// Pid.
    pub pid: u32,
    /// CPU seconds from the load's start until the drain finished.
    pub cpu_secs: f64,
    /// RSS at the end, KiB.
    pub rss_kib_end: u64,
}

/// Everything reported.
#[derive(Debug, Serialize)]
pub struct Figures {
    /// Scenario name.
    pub scenario: String,
    /// Its parameters.
    pub params: serde_json::Value,
    /// Server limits the run assumed raised.
    pub limits_assumed: Vec<String>,
    /// Connections planned and identified.
    pub conns: u64,
    /// See above.
    pub identified: u64,
    /// Connection storm.
    pub connect: ConnectFigures,
    /// Seconds of load; from the load's start until drained.
    pub load_secs: f64,
    /// See above.
    pub total_secs: f64,
    /// Requests sent and acknowledged during the run.
    pub sent: u64,
    /// See above.
    pub acked: u64,
    /// Channel events received during the load phase, and in total.
    pub deliveries_load: u64,
    /// See above.
    pub deliveries_total: u64,
    /// Deliveries per second during the load phase.
    pub deliveries_per_sec: f64,
    /// Send-to-receive latency of every delivery of this run's messages: until the
    /// client read it.
    pub latency: Summary,
    /// The same until the kernel put it in the member's socket (its receive stamp):
    /// the server's part, without the client's own wait for CPU.
    pub arrival: Summary,
    /// Send-to-ACK latency.
    pub ack: Summary,
    /// Silences.
    pub silence: SilenceFigures,
    /// Server cost.
    pub server: Option<ServerFigures>,
    /// Client CPU seconds (all client processes).
    pub client_cpu_secs: f64,
    /// Counters (events by kind, reconnects, resyncs, ...).
    pub counts: BTreeMap<String, u64>,
    /// Close codes received.
    pub closes: BTreeMap<u16, u64>,
    /// Check failures.
    pub failures: Failures,
    /// Samples during the load (soak).
    pub samples: Vec<Sample>,
    /// The plain write-loop ceiling of the same run.
    pub ceiling: Option<Ceiling>,
}

impl Figures {
    /// Figures of an outcome.
    pub fn new(
        scenario: &str,
        params: serde_json::Value,
        o: &Outcome,
        pids: &[u32],
        limits_assumed: Vec<String>,
    ) -> Self {
        let over = |secs: u64| o.silence.count_between(secs * 1_000_000, u64::MAX);
        let [before, connected, load_end, end] = o.server;
        let server = (!pids.is_empty()).then(|| {
            let cpu = end.cpu_secs - connected.cpu_secs;
            ServerFigures {
                pids: pids.to_vec(),
                cpu_secs: cpu,
                deliveries_per_cpu_sec: o.at_end.deliveries as f64 / cpu.max(0.01),
                rss_kib_before: before.rss_kib,
                rss_kib_connected: connected.rss_kib,
                rss_kib_end: end.rss_kib,
                rss_per_idle_conn_kib: (connected.rss_kib as f64 - before.rss_kib as f64)
                    / o.identified.max(1) as f64,
                rss_per_conn_load_end_kib: (load_end.rss_kib as f64 - before.rss_kib as f64)
                    / o.identified.max(1) as f64,
                cpu_connect_secs: connected.cpu_secs - before.cpu_secs,
                identified_per_cpu_sec: o.identified as f64
                    / (connected.cpu_secs - before.cpu_secs).max(0.01),
                load_cpu_cores: (load_end.cpu_secs - connected.cpu_secs) / o.load_secs.max(1e-9),
                baseline_cpu_cores: o.baseline_cpu_cores,
                per_pid: pids
                    .iter()
                    .zip(&o.server_per_pid)
                    .map(|(&pid, (connected, end))| PidFigures {
                        pid,
                        cpu_secs: end.cpu_secs - connected.cpu_secs,
                        rss_kib_end: end.rss_kib,
                    })
                    .collect(),
            }
        });
        Self {
            scenario: scenario.to_owned(),
            params,
            limits_assumed,
            conns: o.conns,
            identified: o.identified,
            connect: ConnectFigures {
                secs: o.connect_secs,
                per_sec: o.identified as f64 / o.connect_secs.max(1e-9),
                ready: Summary::of(&o.ready),
            },
            load_secs: o.load_secs,
            total_secs: o.total_secs,
            sent: o.at_end.sent,
            acked: o.at_end.acked,
            deliveries_load: o.at_load_end.deliveries,
            deliveries_total: o.at_end.deliveries,
            deliveries_per_sec: o.at_load_end.deliveries as f64 / o.load_secs.max(1e-9),
            latency: Summary::of(&o.latency),
            arrival: Summary::of(&o.arrival),
            ack: Summary::of(&o.ack),
            silence: SilenceFigures {
                per_member_max: Summary::of(&o.silence),
                over_1s: over(1),
                over_5s: over(5),
                over_10s: over(10),
            },
            server,
            client_cpu_secs: o.client_cpu_secs,
            counts: o.counts.clone(),
            closes: o.closes.clone(),
            failures: o.failures.clone(),
            samples: o.samples.clone(),
            ceiling: None,
        }
    }
}

fn lat(s: &Summary) -> String {
    format!(
        "n={} p50 {:.1} ms  p99 {:.1} ms  p99.9 {:.1} ms  max {:.1} ms",
        s.count, s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms
    )
}

/// The human table.
pub fn table(f: &Figures, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "== {} {}", f.scenario, f.params)?;
    writeln!(
        out,
        "connections        {} planned, {} identified in {:.1} s ({:.0}/s); READY {}",
        f.conns,
        f.identified,
        f.connect.secs,
        f.connect.per_sec,
        lat(&f.connect.ready)
    )?;
    writeln!(
        out,
        "load               {:.1} s (drained after {:.1} s); sent {}, acked {}",
        f.load_secs, f.total_secs, f.sent, f.acked
    )?;
    writeln!(
        out,
        "deliveries         {} in the load phase ({:.0}/s), {} in total",
        f.deliveries_load, f.deliveries_per_sec, f.deliveries_total
    )?;
    writeln!(
        out,
        "send -> receive    {} (read by the client)",
        lat(&f.latency)
    )?;
    if f.arrival.count > 0 {
        writeln!(
            out,
            "send -> arrival    {} (in the member's socket: kernel receive stamp)",
            lat(&f.arrival)
        )?;
    }
    writeln!(out, "send -> ACK        {}", lat(&f.ack))?;
    writeln!(
        out,
        "longest silence    per member: {}; over 1 s: {}, over 5 s: {}, over 10 s: {}",
        lat(&f.silence.per_member_max),
        f.silence.over_1s,
        f.silence.over_5s,
        f.silence.over_10s
    )?;
    if let Some(s) = &f.server {
        writeln!(out, "server {:?}     CPU {:.2} s (load+drain) -> {:.0} deliveries per server CPU-s; connecting cost {:.2} CPU-s ({:.0} identified per CPU-s)", s.pids, s.cpu_secs, s.deliveries_per_cpu_sec, s.cpu_connect_secs, s.identified_per_cpu_sec)?;
        writeln!(
            out,
            "server load phase  {:.3} cores ({:.1} % of one core) over {:.1} s",
            s.load_cpu_cores,
            100.0 * s.load_cpu_cores,
            f.load_secs
        )?;
        if let Some(base) = s.baseline_cpu_cores {
            writeln!(
                out,
                "                   {:.1} % of one core before we connected: {:.1} % is our connections' own",
                100.0 * base,
                100.0 * (s.load_cpu_cores - base)
            )?;
        }
        if s.per_pid.len() > 1 {
            let each: Vec<String> = s
                .per_pid
                .iter()
                .map(|p| format!("{} {:.2} CPU-s, {} KiB", p.pid, p.cpu_secs, p.rss_kib_end))
                .collect();
            writeln!(out, "server per pid     {}", each.join("; "))?;
        }
        writeln!(out, "server RSS         {} KiB before, {} KiB connected, {} KiB at the end: {:.2} KiB per idle identified connection", s.rss_kib_before, s.rss_kib_connected, s.rss_kib_end, s.rss_per_idle_conn_kib)?;
        if f.scenario == "connect" {
            writeln!(
                out,
                "                   at the end of the idle phase: {:.2} KiB per idle identified connection",
                s.rss_per_conn_load_end_kib
            )?;
        }
    }
    writeln!(
        out,
        "client CPU         {:.2} s ({:.0} deliveries per client CPU-s)",
        f.client_cpu_secs,
        f.deliveries_total as f64 / f.client_cpu_secs.max(0.01)
    )?;
    if let Some(c) = &f.ceiling {
        writeln!(out, "ceiling            write loop, {} sockets, {} x {} B frames per write(): {:.0} frames/s, {:.0} per writer CPU-s", c.conns, c.frames_per_write, c.frame_bytes, c.frames_per_sec, c.frames_per_cpu_sec)?;
        if let Some(s) = &f.server {
            writeln!(out, "vs ceiling         deliveries/s {:.0} vs {:.0} ({:.1}%); per CPU-s {:.0} vs {:.0} ({:.1}%)", f.deliveries_per_sec, c.frames_per_sec, 100.0 * f.deliveries_per_sec / c.frames_per_sec.max(1.0), s.deliveries_per_cpu_sec, c.frames_per_cpu_sec, 100.0 * s.deliveries_per_cpu_sec / c.frames_per_cpu_sec.max(1.0))?;
        }
    }
    if !f.closes.is_empty() {
        writeln!(out, "closes by server   {:?}", f.closes)?;
    }
    for (k, v) in &f.counts {
        writeln!(out, "  {k}: {v}")?;
    }
    for s in &f.samples {
        let queued = s
            .server_queued_bytes
            .map_or(String::new(), |b| format!("  queued {b} B"));
        writeln!(out, "  t={:>6.1}s rss {:>8} KiB (anon {:>8})  cpu {:>4.2} cores  {:>9.0} deliveries/s  mean latency {:>8.1} ms  unanswered {}{queued}", s.t_secs, s.server_rss_kib, s.server_rss_anon_kib, s.server_cpu_share, s.deliveries_per_sec, s.mean_latency_ms, s.unanswered)?;
    }
    if f.failures.count == 0 {
        writeln!(out, "checks             passed: offsets contiguous, no duplicates, every acknowledged message received by every member")?;
    } else {
        writeln!(
            out,
            "checks             FAILED: {} failure(s)",
            f.failures.count
        )?;
        for e in &f.failures.examples {
            writeln!(out, "  {e}")?;
        }
    }
    Ok(())
}

/// Prints the figures: the table on stdout, or JSON on stdout and the table on stderr.
pub fn emit(f: &Figures, json: bool) -> anyhow::Result<()> {
    if json {
        table(f, &mut std::io::stderr())?;
        println!("{}", serde_json::to_string(f)?);
    } else {
        table(f, &mut std::io::stdout())?;
    }
    Ok(())
}
