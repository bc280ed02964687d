//! Resolving `--io epoll|uring|auto` once, before the shards start.

use crate::config::IoDriver;

/// The driver the shards run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    /// Readiness through tokio.
    Epoll,
    /// One io_uring per shard.
    Uring,
}

/// What `auto` picks where the kernel allows both (the one that delivered more per
/// gateway CPU-second, docs/benchmarks.md "epoll vs io_uring").
const AUTO_PREFERS: Selected = Selected::Uring;

/// Resolves the configured driver. `uring` where the kernel refuses it is an error
/// that says why; `auto` then falls back to epoll and logs the reason.
pub fn select(io: IoDriver) -> std::io::Result<Selected> {
    match io {
        IoDriver::Epoll => Ok(Selected::Epoll),
        IoDriver::Uring => match probe() {
            Ok(()) => Ok(Selected::Uring),
            Err(reason) => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!("--io uring: {reason}"),
            )),
        },
        IoDriver::Auto => Ok(match (AUTO_PREFERS, probe()) {
            (Selected::Epoll, _) => {
                tracing::info!("io driver: epoll (auto: it delivers more per CPU-second here)");
                Selected::Epoll
            }
            (Selected::Uring, Ok(())) => {
                tracing::info!("io driver: io_uring (auto: the kernel allows it)");
                Selected::Uring
            }
            (Selected::Uring, Err(reason)) => {
                tracing::info!("io driver: epoll (auto: {reason})");
                Selected::Epoll
            }
        }),
    }
}

#[cfg(target_os = "linux")]
fn probe() -> Result<(), String> {
    crate::driver::uring::probe()
}

#[cfg(not(target_os = "linux"))]
fn probe() -> Result<(), String> {
    Err("io_uring is Linux only".to_owned())
}
