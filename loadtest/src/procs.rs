//! `--procs P`: workers in this process or in child processes (this binary re-executed
//! with the hidden `worker` subcommand), behind one interface.
//!
//! Why children: one process may hold at most 20 000 sockets here, and one client
//! process decoding every delivery competes with itself. A child reads its
//! [`WorkerPlan`] as the first JSON line of stdin, then [`Control`] lines, and writes
//! [`Report`] lines to stdout; stderr is passed through. A child that dies closes its
//! stdout, which the coordinator reports as a failed run.

use std::process::Stdio;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::plan::{Control, Report, WorkerPlan};
use crate::worker::{self, ReportTx};

/// The coordinator's handle on its workers.
pub struct Workers {
    /// One control channel per worker.
    pub control: Vec<mpsc::UnboundedSender<Control>>,
    /// Every worker's reports, tagged with its number.
    pub reports: mpsc::UnboundedReceiver<(usize, Report)>,
    children: Vec<tokio::process::Child>,
}

impl Workers {
    /// Starts one worker per plan: in this process when there is one plan, else children.
    pub fn start(plans: Vec<WorkerPlan>) -> anyhow::Result<Self> {
        let (report_tx, reports) = mpsc::unbounded_channel();
        let mut control = Vec::new();
        let mut children = Vec::new();
        let in_process = plans.len() == 1;
        for plan in plans {
            let (tx, rx) = mpsc::unbounded_channel();
            control.push(tx);
            if in_process {
                let report_tx = report_tx.clone();
                let me = plan.worker;
                tokio::spawn(async move {
                    if let Err(err) = worker::run(plan, rx, report_tx, false).await {
                        eprintln!("worker {me}: {err:#}");
                    }
                });
            } else {
                children.push(spawn_child(plan, rx, report_tx.clone())?);
            }
        }
        Ok(Self {
            control,
            reports,
            children,
        })
    }

    /// Sends `command` to every worker.
    pub fn broadcast(&self, command: &Control) -> anyhow::Result<()> {
        for tx in &self.control {
            tx.send(command.clone()).context("a worker went away")?;
        }
        Ok(())
    }

    /// Waits for the children to exit.
    pub async fn wait(mut self) {
        // Closing the control channels ends the stdin writers: the children see EOF.
        self.control.clear();
        for child in &mut self.children {
            let _ = child.wait().await;
        }
    }
}

fn spawn_child(
    plan: WorkerPlan,
    mut control: mpsc::UnboundedReceiver<Control>,
    reports: ReportTx,
) -> anyhow::Result<tokio::process::Child> {
    let me = plan.worker;
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut child = tokio::process::Command::new(exe)
        .arg("worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting a worker process")?;
    let mut stdin = child.stdin.take().context("worker stdin")?;
    let stdout = child.stdout.take().context("worker stdout")?;
    let first = serde_json::to_string(&plan)?;
    tokio::spawn(async move {
        let mut line = first;
        loop {
            line.push('\n');
            if stdin.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            let Some(command) = control.recv().await else {
                break;
            };
            match serde_json::to_string(&command) {
                Ok(text) => line = text,
                Err(_) => break,
            }
        }
    });
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            match serde_json::from_str::<Report>(&line) {
                Ok(report) => {
                    if reports.send((me, report)).is_err() {
                        break;
                    }
                }
                Err(err) => eprintln!("worker {me}: unreadable report ({err}): {line:.200}"),
            }
        }
    });
    Ok(child)
}

/// The hidden `worker` subcommand: a child's side of the protocol above.
pub async fn child_main() -> anyhow::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let first = lines.next_line().await?.context("no plan on stdin")?;
    let plan: WorkerPlan = serde_json::from_str(&first).context("worker plan")?;
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            match serde_json::from_str::<Control>(&line) {
                Ok(command) => {
                    if control_tx.send(command).is_err() {
                        break;
                    }
                }
                Err(err) => eprintln!("worker: unreadable control line ({err})"),
            }
        }
    });
    let (report_tx, mut report_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some((_, report)) = report_rx.recv().await {
            let mut text = serde_json::to_string(&report)?;
            text.push('\n');
            stdout.write_all(text.as_bytes()).await?;
            stdout.flush().await?;
        }
        anyhow::Ok(())
    });
    let result = worker::run(plan, control_rx, report_tx, true).await;
    // The reports end when the worker's senders are gone; do not hang on a failed run.
    if let Ok(written) = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await {
        written??;
    }
    result
}
