//! Large blocks freed on many threads go back to the kernel (see `layer4::memory`): the
//! pattern of password hashing, 19 MiB per hash on blocking threads.
#![allow(clippy::unwrap_used)]

mod common;

/// This process's anonymous resident memory, in KiB.
fn rss_anon_kib() -> u64 {
    common::process::rss_anon_kib("self")
}

#[test]
fn hash_sized_blocks_freed_on_many_threads_are_returned() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        println!("skipped: glibc on Linux only");
        return;
    }
    layer4::memory::return_large_frees();
    let before = rss_anon_kib();
    for _ in 0..3 {
        let threads: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    for round in 0..3u8 {
                        // Touched, as argon2 fills its memory.
                        let block = vec![round ^ i; 19 * 1024 * 1024];
                        std::hint::black_box(&block);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
    let grown_mib = rss_anon_kib().saturating_sub(before) / 1024;
    // Kept, 8 threads' worth of 19 MiB blocks would be over 150 MiB.
    assert!(grown_mib < 40, "{grown_mib} MiB of freed blocks kept");
}
