//! How the process uses memory and gives it back.
//!
//! **jemalloc** is the `layer4` binary's allocator (`main.rs`). A gateway allocates in
//! bursts: a reconnect storm makes tens of thousands of short-lived handshake and
//! identify objects between the long-lived per-connection ones. glibc's arenas kept the
//! holes: 10 000 idle connections after a storm cost 2.5-3.0 KiB of RSS each, about a
//! third of it free memory glibc could not return (`malloc_trim` got back 1.6 of 12 MB
//! free in the shards' arenas). jemalloc's size-class slabs keep short-lived and
//! long-lived objects of different sizes apart: 2.1-2.2 KiB, with fanout throughput
//! unchanged (docs/benchmarks.md). Its background thread ([`purge_in_background`])
//! returns pages freed after a burst within its decay time (10 s) even when the process
//! then goes quiet and never calls the allocator again.
//!
//! Built with `--no-default-features` (no `jemalloc` feature) the binary uses the system
//! allocator, so heap profilers that interpose `malloc` (heaptrack) see every
//! allocation; [`purge_in_background`] then does nothing.
//!
//! **glibc's malloc** still serves C code (SQLite) and the tests, which run the stack
//! in their own binaries. Why its large-block threshold is fixed: every password hash
//! (argon2id) takes ~19 MiB. glibc serves a block that large with `mmap` at first, but
//! raises its threshold when one is freed, so the next ones come from its per-thread
//! arenas and are kept after `free`: an API process that had registered 300 users held
//! 1 GB. A fixed threshold (as `MALLOC_MMAP_THRESHOLD_` would set) keeps every large
//! block on `mmap`, returned on `free`; small allocations are unaffected.

/// Starts jemalloc's background thread, which purges freed pages on time; logs and
/// carries on where it cannot (jemalloc built without it).
pub fn purge_in_background() {
    #[cfg(feature = "jemalloc")]
    if let Err(err) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!("jemalloc: no background purging ({err}); freed pages return later");
    }
}

/// Blocks of this size and above are mapped, and unmapped when freed.
pub const MMAP_THRESHOLD: usize = 1024 * 1024;

/// Fixes glibc's large-block threshold; call first thing in `main`. Does nothing where
/// the C allocator is not glibc's.
pub fn return_large_frees() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let threshold = libc::c_int::try_from(MMAP_THRESHOLD).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a glibc allocator parameter; it takes no pointer
        // and is safe to call at any time (it locks the arenas itself). A return of
        // 0 means the value was refused, which leaves the default behaviour.
        #[allow(unsafe_code)]
        let accepted = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, threshold) };
        if accepted == 0 {
            tracing::warn!("the allocator refused M_MMAP_THRESHOLD; freed hash memory may be kept");
        }
    }
}
