//! The shard's receive buffers: one allocation cut into equal buffers that the kernel
//! picks from as data arrives (provided buffers, one group per ring), so memory for
//! reads is per shard, not per connection (DESIGN.md idea 6).
//!
//! A buffer belongs to the kernel from the time it is provided until the completion
//! that names it arrives; then to us until we give it back. The pages are touched only
//! as buffers get used (a fresh `calloc`), and the kernel hands out what it holds first
//! in, first out, so every buffer it holds gets touched. Hence it starts with a
//! working set ([`Pool::provide_first`]) and the rest is a reserve, provided a chunk
//! at a time only when the kernel runs low ([`Pool::grow`]): a shard whose connections
//! are idle or slow touches 512 KiB, not the pool's 2 MiB.

use io_uring::{opcode, squeue};

/// The buffer group every receive of a ring takes from.
pub(super) const GROUP: u16 = 0;

/// Returned buffers provided again together (see [`Pool::should_provide`]).
const RETURN_BATCH: usize = 32;

/// The reserve is drawn on when the kernel holds fewer than this many buffers...
const LOW_WATER: usize = 64;

/// ...this many at a time.
const GROW_BY: u16 = 128;

/// Receive buffers of one ring.
pub(super) struct Pool {
    /// Start of the allocation (from a boxed slice, see `Drop`).
    base: *mut u8,
    count: u16,
    size: usize,
    /// Buffers from here on were never provided: the reserve.
    reserve_from: u16,
    /// Buffers back with us, to provide again at the next submission.
    returned: Vec<u16>,
    /// Buffers whose provision failed, tried again only when asked ([`Pool::retry`]):
    /// at once, a lasting failure would loop.
    failed: Vec<u16>,
    /// Set when the ring could not be drained: the kernel might still write here.
    leak: bool,
}

impl Pool {
    /// `count` buffers of `size` bytes.
    pub fn new(count: u16, size: usize) -> Self {
        let memory = vec![0u8; usize::from(count) * size].into_boxed_slice();
        Self {
            base: Box::into_raw(memory).cast::<u8>(),
            count,
            size,
            reserve_from: 0,
            returned: Vec::new(),
            failed: Vec::new(),
            leak: false,
        }
    }

    /// The entry that provides the first `working` buffers (once, at the start); the
    /// others stay in reserve. Returns it with how many it provides.
    pub fn provide_first(&mut self, working: u16) -> (squeue::Entry, u16) {
        let count = working.clamp(1, self.count);
        self.reserve_from = count;
        (self.provide(0, count), count)
    }

    /// When the kernel holds fewer than [`LOW_WATER`] buffers (`kernel_has`, or it
    /// said it has none: `starving`), the entry that provides the next chunk of the
    /// reserve, with its first buffer and count.
    pub fn grow(&mut self, kernel_has: usize, starving: bool) -> Option<(squeue::Entry, u16, u16)> {
        if (kernel_has >= LOW_WATER && !starving) || self.reserve_from >= self.count {
            return None;
        }
        let first = self.reserve_from;
        let count = GROW_BY.min(self.count - first);
        self.reserve_from += count;
        Some((self.provide(first, count), first, count))
    }

    /// Buffers in use so far (provided at least once).
    #[cfg(test)]
    pub fn working(&self) -> u16 {
        self.reserve_from
    }

    fn provide(&self, first: u16, count: u16) -> squeue::Entry {
        let offset = usize::from(first) * self.size;
        // In bounds: first + count <= self.count. The pointer is only handed to the
        // kernel here; no Rust reference to those bytes exists while it owns them.
        let addr = self.base.wrapping_add(offset);
        let len = i32::try_from(self.size).unwrap_or(i32::MAX);
        opcode::ProvideBuffers::new(addr, len, count, GROUP, first).build()
    }

    /// The first `len` bytes of buffer `bid`, which a completion just handed us.
    pub fn bytes(&self, bid: u16, start: usize, end: usize) -> &[u8] {
        assert!(bid < self.count && start <= end && end <= self.size);
        // SAFETY: in bounds (checked above) of the live allocation; the kernel wrote
        // buffer `bid` before posting the completion that gave it to us and does not
        // touch it again until `give_back` provides it anew, so nothing writes these
        // bytes while the slice lives (the slice is used within a call of ours).
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts(
                self.base.add(usize::from(bid) * self.size + start),
                end - start,
            )
        }
    }

    /// Takes buffer `bid` back for the kernel (provided at the next submission).
    pub fn give_back(&mut self, bid: u16) {
        self.returned.push(bid);
    }

    /// A provision of `count` buffers from `first` failed: keeps them for [`Pool::retry`].
    pub fn provision_failed(&mut self, first: u16, count: u16) {
        let end = first.saturating_add(count).min(self.count);
        self.failed.extend(first..end);
    }

    /// Whether buffers wait for a retry.
    pub fn has_failed(&self) -> bool {
        !self.failed.is_empty()
    }

    /// Provides the failed buffers again at the next submission.
    pub fn retry(&mut self) {
        self.returned.append(&mut self.failed);
    }

    /// Whether buffers wait to be provided again.
    pub fn has_returned(&self) -> bool {
        !self.returned.is_empty()
    }

    /// Whether to provide the returned buffers now. They go back in batches of
    /// [`RETURN_BATCH`] (one provision of a run of buffers, not one per message: 50 000
    /// idle connections' PINGs each cost a provision of their own), and at once when the
    /// kernel is known to hold fewer than half of the working set or a receive starves.
    pub fn should_provide(&self, kernel_has: usize, starving: bool) -> bool {
        !self.returned.is_empty()
            && (starving
                || self.returned.len() >= RETURN_BATCH
                || kernel_has < usize::from(self.reserve_from) / 2)
    }

    /// The entries that provide the returned buffers again, one per run of
    /// consecutive ids, each with its first id and how many buffers it provides.
    pub fn provide_returned(&mut self, mut push: impl FnMut(squeue::Entry, u16, u16)) {
        self.returned.sort_unstable();
        let mut i = 0;
        while i < self.returned.len() {
            let first = self.returned[i];
            let mut count = 1u16;
            while i + usize::from(count) < self.returned.len()
                && self.returned[i + usize::from(count)] == first + count
            {
                count += 1;
            }
            push(self.provide(first, count), first, count);
            i += usize::from(count);
        }
        self.returned.clear();
    }

    /// How many buffers the pool has.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// Never frees the memory (the kernel may still own some of it).
    pub fn leak(&mut self) {
        self.leak = true;
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if self.leak {
            return;
        }
        let len = usize::from(self.count) * self.size;
        // SAFETY: `base` and `len` are those of the boxed slice made in `new`, freed
        // only here; the ring has no request left that could write into it (the ring
        // drains before its pool drops, or leaks the pool).
        #[allow(unsafe_code)]
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.base, len)) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_provided_a_chunk_at_a_time_only_when_the_kernel_runs_low() {
        let mut pool = Pool::new(1024, 64);
        let (_, first) = pool.provide_first(256);
        assert_eq!((first, pool.working()), (256, 256));
        assert!(pool.grow(256, false).is_none(), "the kernel has plenty");
        assert!(pool.grow(LOW_WATER, false).is_none());
        let (_, from, count) = pool.grow(LOW_WATER - 1, false).expect("runs low");
        assert_eq!((from, count, pool.working()), (256, GROW_BY, 256 + GROW_BY));
        let (_, from, _) = pool.grow(500, true).expect("a starved receive");
        assert_eq!(from, 256 + GROW_BY);
        while pool.grow(0, true).is_some() {}
        assert_eq!(pool.working(), 1024, "the whole pool, never more");
        let mut small = Pool::new(4, 64);
        assert_eq!(
            small.provide_first(256).1,
            4,
            "a working set larger than the pool"
        );
        assert!(small.grow(0, true).is_none());
    }

    #[test]
    fn returned_buffers_go_back_in_batches_unless_the_kernel_runs_low() {
        let mut pool = Pool::new(1024, 64);
        pool.provide_first(1024);
        assert!(!pool.should_provide(1024, true), "nothing to give back");
        pool.give_back(7);
        assert!(
            !pool.should_provide(1023, false),
            "one buffer waits for more"
        );
        assert!(
            pool.should_provide(1023, true),
            "a starved receive takes it now"
        );
        assert!(
            pool.should_provide(511, false),
            "the kernel holds under half"
        );
        for bid in 8..(7 + RETURN_BATCH as u16) {
            pool.give_back(bid);
        }
        assert!(
            pool.should_provide(1024 - RETURN_BATCH, false),
            "a full batch"
        );
        let mut runs = Vec::new();
        pool.provide_returned(|_, first, count| runs.push((first, count)));
        assert_eq!(
            runs,
            vec![(7, RETURN_BATCH as u16)],
            "one provision for the run"
        );
        assert!(!pool.should_provide(1024, true));
    }
}
