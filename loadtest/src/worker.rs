//! A worker: the connections of one [`WorkerPlan`], driven through the phases the
//! coordinator calls (connect, load, settle, drain), in this process or in a child.
//!
//! The phases are a `watch` channel every session follows; sessions answer the
//! "connected" and "settled" rounds over unbounded channels, so a worker knows when all
//! of its connections are there without polling them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;

use crate::checks::Failures;
use crate::metrics::{encode_hist, proc_sample, Counters, SharedHist};
use crate::plan::{Control, Report, WorkerPlan, WorkerResult};
use crate::session::Session;

/// Where the run is; sessions follow it.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Connecting and identifying.
    Connect,
    /// Sending.
    Load,
    /// Sending stopped; waiting for every reply.
    Settle,
    /// Receiving until every channel reaches these offsets.
    Drain(Arc<HashMap<u64, u64>>),
}

/// Totals merged once per connection, at its end.
#[derive(Debug, Default)]
pub struct Totals {
    /// Event and outcome counters.
    pub counts: BTreeMap<String, u64>,
    /// Close codes.
    pub closes: BTreeMap<u16, u64>,
    /// Check failures.
    pub failures: Failures,
}

/// What the sessions of a worker share.
pub struct Shared {
    /// The plan.
    pub plan: WorkerPlan,
    /// Progress counters.
    pub counters: Counters,
    /// Send-to-receive latency.
    pub latency: SharedHist,
    /// Send-to-arrival latency (the kernel's receive stamp).
    pub arrival: SharedHist,
    /// Send-to-ACK latency.
    pub ack: SharedHist,
    /// Connect-to-READY time.
    pub ready: SharedHist,
    /// Longest silence per member.
    pub silence: SharedHist,
    /// The phase.
    pub phase: watch::Sender<Phase>,
    /// Handshakes in flight at once.
    pub gate: Semaphore,
    /// "My connect attempt finished."
    pub connected_tx: mpsc::UnboundedSender<()>,
    /// "Everything I sent is answered; my highest acknowledged offsets."
    pub settled_tx: mpsc::UnboundedSender<HashMap<u64, u64>>,
    /// End-of-connection totals.
    pub totals: Mutex<Totals>,
    /// One received MESSAGE_RECEIVED frame.
    pub sample_frame: OnceLock<Vec<u8>>,
}

/// Reports tagged with the worker number.
pub type ReportTx = mpsc::UnboundedSender<(usize, Report)>;

/// Runs one worker until the coordinator's drain finishes or it goes away.
/// `own_process`: measure this process's CPU (a child worker) or not (in process).
pub async fn run(
    plan: WorkerPlan,
    mut control: mpsc::UnboundedReceiver<Control>,
    report: ReportTx,
    own_process: bool,
) -> anyhow::Result<()> {
    let cpu_before = if own_process {
        proc_sample("self")?.cpu_secs
    } else {
        0.0
    };
    let me = plan.worker;
    let (phase, _) = watch::channel(Phase::Connect);
    let (connected_tx, mut connected_rx) = mpsc::unbounded_channel();
    let (settled_tx, mut settled_rx) = mpsc::unbounded_channel();
    let n = plan.conns.len();
    let shared = Arc::new(Shared {
        gate: Semaphore::new(plan.connect_concurrency.max(1)),
        plan,
        counters: Counters::default(),
        latency: SharedHist::default(),
        arrival: SharedHist::default(),
        ack: SharedHist::default(),
        ready: SharedHist::default(),
        silence: SharedHist::default(),
        phase,
        connected_tx,
        settled_tx,
        totals: Mutex::new(Totals::default()),
        sample_frame: OnceLock::new(),
    });

    let progress = {
        let (shared, report) = (shared.clone(), report.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if report
                    .send((me, Report::Progress(shared.counters.snapshot())))
                    .is_err()
                {
                    break;
                }
            }
        })
    };
    let spawner = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let rate = shared.plan.connect_rate;
            let step = (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
            let mut next = Instant::now();
            let mut handles = Vec::with_capacity(shared.plan.conns.len());
            for conn in shared.plan.conns.clone() {
                if let Some(step) = step {
                    tokio::time::sleep_until(next).await;
                    next += step;
                }
                let session = Session::new(shared.clone(), conn);
                handles.push(tokio::spawn(session.run()));
            }
            handles
        })
    };

    for _ in 0..n {
        connected_rx.recv().await.context("sessions went away")?;
    }
    report.send((me, Report::Progress(shared.counters.snapshot())))?;
    report.send((me, Report::Connected))?;
    let handles = spawner.await?;

    while let Some(command) = control.recv().await {
        match command {
            Control::Start => {
                shared.phase.send_replace(Phase::Load);
            }
            Control::Settle => {
                shared.phase.send_replace(Phase::Settle);
                let mut highest: HashMap<u64, u64> = HashMap::new();
                for _ in 0..n {
                    let mine = settled_rx.recv().await.context("sessions went away")?;
                    for (channel, offset) in mine {
                        let e = highest.entry(channel).or_default();
                        *e = (*e).max(offset);
                    }
                }
                report.send((me, Report::Settled(highest)))?;
            }
            Control::Drain(required) => {
                shared.phase.send_replace(Phase::Drain(Arc::new(required)));
                for handle in handles {
                    handle.await?;
                }
                progress.abort();
                let _ = report.send((me, Report::Progress(shared.counters.snapshot())));
                let result = result(&shared, n, own_process, cpu_before)?;
                report.send((me, Report::Done(Box::new(result))))?;
                return Ok(());
            }
        }
    }
    anyhow::bail!("the coordinator went away")
}

fn result(
    shared: &Shared,
    n: usize,
    own_process: bool,
    cpu_before: f64,
) -> anyhow::Result<WorkerResult> {
    let totals = std::mem::take(&mut *shared.totals.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(WorkerResult {
        conns: n as u64,
        latency: encode_hist(&shared.latency.snapshot())?,
        arrival: encode_hist(&shared.arrival.snapshot())?,
        ack: encode_hist(&shared.ack.snapshot())?,
        ready: encode_hist(&shared.ready.snapshot())?,
        silence: encode_hist(&shared.silence.snapshot())?,
        counts: totals.counts,
        closes: totals.closes,
        failures: totals.failures,
        cpu_secs: if own_process {
            proc_sample("self")?.cpu_secs - cpu_before
        } else {
            0.0
        },
        sample_frame: shared
            .sample_frame
            .get()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
    })
}
