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

/// What `auto` picks where the kernel allows both: io_uring, which delivered as much
/// or more per gateway CPU-second in every scenario measured (docs/benchmarks.md,
/// "epoll vs io_uring"). It was held back once, while a gateway that lost 50 000
/// connections at once spun on receive re-arms instead of draining; that is fixed
/// (receive buffers are counted from completions, and a starved receive waits).
const AUTO_PREFERS: Selected = Selected::Uring;

/// Resolves the configured driver. `uring` where the kernel refuses it is an error
/// that says why; `auto` then falls back to epoll and logs the reason.
pub fn select(io: IoDriver) -> std::io::Result<Selected> {
    match io {
        IoDriver::Epoll => {
            tracing::info!("io driver: epoll (--io epoll)");
            Ok(Selected::Epoll)
        }
        IoDriver::Uring => match probe() {
            Ok(()) => {
                tracing::info!("io driver: io_uring (--io uring)");
                Ok(Selected::Uring)
            }
            Err(reason) => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!("--io uring: {reason}"),
            )),
        },
        IoDriver::Auto => Ok(match AUTO_PREFERS {
            Selected::Epoll => {
                tracing::info!("io driver: epoll (auto's default; io_uring with --io uring)");
                Selected::Epoll
            }
            Selected::Uring => match probe() {
                Ok(()) => {
                    tracing::info!("io driver: io_uring (auto: the kernel allows it)");
                    Selected::Uring
                }
                Err(reason) => {
                    tracing::info!("io driver: epoll (auto: {reason})");
                    Selected::Epoll
                }
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_choice_resolves_as_documented() {
        assert_eq!(select(IoDriver::Epoll).unwrap(), Selected::Epoll);
        match probe() {
            Ok(()) => assert_eq!(select(IoDriver::Uring).unwrap(), Selected::Uring),
            Err(reason) => {
                let err = select(IoDriver::Uring).unwrap_err();
                assert!(err.to_string().contains(&reason), "{err}");
            }
        }
        let auto = select(IoDriver::Auto).unwrap();
        let expected = match (AUTO_PREFERS, probe()) {
            (Selected::Uring, Ok(())) => Selected::Uring,
            _ => Selected::Epoll,
        };
        assert_eq!(auto, expected);
    }
}
