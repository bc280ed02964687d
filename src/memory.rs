//! How the process gives memory back: large blocks freed go back to the kernel.
//!
//! Why: every password hash (argon2id) takes ~19 MiB. glibc serves a block that large
//! with `mmap` at first, but raises its threshold when one is freed, so the next ones
//! come from its per-thread arenas and are kept after `free`: an API process that had
//! registered 300 users held 1 GB. A fixed threshold (as `MALLOC_MMAP_THRESHOLD_` would
//! set) keeps every large block on `mmap`, returned on `free`; small allocations are
//! unaffected.

/// Blocks of this size and above are mapped, and unmapped when freed.
pub const MMAP_THRESHOLD: usize = 1024 * 1024;

/// Fixes the allocator's large-block threshold; call first thing in `main`. Does
/// nothing where the allocator is not glibc's.
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
