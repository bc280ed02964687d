//! Figures: HDR histograms, live counters, and server/client cost read from `/proc`.
//!
//! Connections never share a lock per delivery: each keeps a small local batch of
//! latencies and merges it into its worker's histogram every [`BATCH`] samples, and the
//! progress counters are relaxed atomics. Histograms cross process boundaries as
//! base64 of hdrhistogram's V2 serialization, so `--procs` merges exact distributions,
//! not percentiles of percentiles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::Context;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Samples a connection keeps before merging them into the shared histogram.
const BATCH: usize = 512;
/// Highest recordable value: one hour in microseconds.
const MAX_MICROS: u64 = 3_600_000_000;

/// A new histogram of microseconds (1 µs to 1 h, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).unwrap_or_else(|_| unreachable!())
}

/// A histogram shared by the connections of one worker.
#[derive(Debug)]
pub struct SharedHist(Mutex<Histogram<u64>>);

impl Default for SharedHist {
    fn default() -> Self {
        Self(Mutex::new(histogram()))
    }
}

impl SharedHist {
    /// Merges `batch` into the histogram and empties it.
    pub fn absorb(&self, batch: &mut Vec<u64>) {
        if batch.is_empty() {
            return;
        }
        let mut h = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for &v in batch.iter() {
            h.saturating_record(v.clamp(1, MAX_MICROS));
        }
        batch.clear();
    }

    /// Records one value (rare events: READY times, silences).
    pub fn record(&self, micros: u64) {
        let mut one = vec![micros];
        self.absorb(&mut one);
    }

    /// A copy of the histogram.
    pub fn snapshot(&self) -> Histogram<u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A connection's local batch for a [`SharedHist`].
#[derive(Debug, Default)]
pub struct Batch(Vec<u64>);

impl Batch {
    /// Adds a sample; merges when the batch is full.
    pub fn record(&mut self, micros: u64, into: &SharedHist) {
        self.0.push(micros);
        if self.0.len() >= BATCH {
            into.absorb(&mut self.0);
        }
    }

    /// Merges what is left.
    pub fn flush(&mut self, into: &SharedHist) {
        into.absorb(&mut self.0);
    }
}

/// Progress counters of one worker (relaxed atomics; read for the progress line).
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections identified (READY received), current.
    pub identified: AtomicU64,
    /// Channel events received.
    pub deliveries: AtomicU64,
    /// Requests that change something (messages, edits, reactions, ...) sent.
    pub sent: AtomicU64,
    /// Of them, answered with ACK.
    pub acked: AtomicU64,
    /// ERROR replies, failed connects and protocol violations.
    pub errors: AtomicU64,
    /// Sum of the send-to-receive latencies recorded, µs (for a mean per interval).
    pub latency_sum_us: AtomicU64,
    /// Number of latencies in `latency_sum_us`.
    pub latency_count: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Subtracts one from `counter`.
    pub fn bump_down(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> Progress {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Progress {
            identified: get(&self.identified),
            deliveries: get(&self.deliveries),
            sent: get(&self.sent),
            acked: get(&self.acked),
            errors: get(&self.errors),
            latency_sum_us: get(&self.latency_sum_us),
            latency_count: get(&self.latency_count),
        }
    }
}

/// A snapshot of [`Counters`], also sent by worker processes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Progress {
    /// See [`Counters`].
    pub identified: u64,
    /// See [`Counters`].
    pub deliveries: u64,
    /// See [`Counters`].
    pub sent: u64,
    /// See [`Counters`].
    pub acked: u64,
    /// See [`Counters`].
    pub errors: u64,
    /// See [`Counters`].
    pub latency_sum_us: u64,
    /// See [`Counters`].
    pub latency_count: u64,
}

impl Progress {
    /// Sum of two workers' progress.
    pub fn add(self, o: Progress) -> Progress {
        Progress {
            identified: self.identified + o.identified,
            deliveries: self.deliveries + o.deliveries,
            sent: self.sent + o.sent,
            acked: self.acked + o.acked,
            errors: self.errors + o.errors,
            latency_sum_us: self.latency_sum_us + o.latency_sum_us,
            latency_count: self.latency_count + o.latency_count,
        }
    }
}

/// A histogram as text (base64 of the V2 serialization).
pub fn encode_hist(h: &Histogram<u64>) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| anyhow::anyhow!("serializing a histogram: {e:?}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The inverse of [`encode_hist`].
pub fn decode_hist(text: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .context("histogram base64")?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| anyhow::anyhow!("deserializing a histogram: {e:?}"))?;
    let mut out = histogram();
    out.add(&h).context("merging a histogram")?;
    Ok(out)
}

/// p50/p99/p99.9/max of a histogram of microseconds, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    /// Samples.
    pub count: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest, ms.
    pub max_ms: f64,
}

impl Summary {
    /// Summarizes `h`.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |v: u64| v as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.5)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// Clock ticks per second of `/proc/PID/stat` times (USER_HZ; 100 on every Linux
/// architecture this runs on, and not readable without libc).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU time and memory of one process, read from `/proc`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProcSample {
    /// User + system CPU seconds so far.
    pub cpu_secs: f64,
    /// Resident set size, KiB.
    pub rss_kib: u64,
    /// Its anonymous part (heap, stacks), KiB: RSS minus mapped files such as the binary
    /// and a memory-mapped SQLite database, which grow with the file, not with a leak.
    pub rss_anon_kib: u64,
}

/// Reads `/proc/<pid>/stat` and `/proc/<pid>/status` (`pid` may be `self` or `thread-self`).
pub fn proc_sample(pid: &str) -> anyhow::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat (is --server-pid right?)"))?;
    // Fields after the `(comm)`, which may itself hold spaces: state is field 3, utime 14.
    let after = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i).context("stat field")?.parse::<u64>()? as f64 / TICKS_PER_SEC)
    };
    // `after` starts at field 3, so utime (14) is index 11 and stime (15) index 12.
    let cpu_secs = tick(11)? + tick(12)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(ProcSample {
        cpu_secs,
        rss_kib: field("VmRSS:"),
        rss_anon_kib: field("RssAnon:"),
    })
}

/// Samples every server pid; missing processes are an error (a crashed server).
pub fn server_samples(pids: &[u32]) -> anyhow::Result<Vec<ProcSample>> {
    pids.iter().map(|p| proc_sample(&p.to_string())).collect()
}

/// Totals of several samples.
pub fn total(samples: &[ProcSample]) -> ProcSample {
    samples
        .iter()
        .fold(ProcSample::default(), |a, s| ProcSample {
            cpu_secs: a.cpu_secs + s.cpu_secs,
            rss_kib: a.rss_kib + s.rss_kib,
            rss_anon_kib: a.rss_anon_kib + s.rss_anon_kib,
        })
}

/// Microseconds since the Unix epoch (comparable across the worker processes).
pub fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_trip_between_processes() -> anyhow::Result<()> {
        let mut h = histogram();
        for v in [1, 10, 100, 1_000, 1_000_000] {
            h.record(v)?;
        }
        let back = decode_hist(&encode_hist(&h)?)?;
        assert_eq!(back.len(), 5);
        assert_eq!(back.max(), h.max());
        Ok(())
    }

    #[test]
    fn reads_its_own_proc_entry() -> anyhow::Result<()> {
        let s = proc_sample("self")?;
        assert!(s.rss_kib > 0);
        assert!(s.rss_anon_kib > 0 && s.rss_anon_kib <= s.rss_kib);
        assert!(s.cpu_secs >= 0.0);
        Ok(())
    }

    #[test]
    fn batches_reach_the_shared_histogram() {
        let shared = SharedHist::default();
        let mut batch = Batch::default();
        for v in 0..(BATCH as u64 + 3) {
            batch.record(v, &shared);
        }
        assert_eq!(shared.snapshot().len(), BATCH as u64);
        batch.flush(&shared);
        assert_eq!(shared.snapshot().len(), BATCH as u64 + 3);
    }
}
