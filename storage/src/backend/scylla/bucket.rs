//! Time buckets and the order in which a page walks them.
//!
//! A message's partition is `(channel_id, bucket)`, where the bucket is a fixed
//! 10-day window of Snowflake time taken from the message id alone (`protocol`'s
//! Snowflake: the top 42 bits are ms since the Snowflake epoch). So the bucket of any
//! id, a cursor included, is known without a read, and buckets grow with ids: every id
//! of bucket `b` is smaller than every id of bucket `b + 1`. A page therefore reads the
//! cursor's bucket first and moves to older (or newer) buckets only while it still
//! needs rows, visiting only the buckets the channel has (`channel_buckets`).

use protocol::snowflake::{SEQUENCE_BITS, WORKER_BITS};

/// Bits below a Snowflake's time field.
const TIME_SHIFT: u32 = WORKER_BITS + SEQUENCE_BITS;

/// The width of a bucket: 10 days of Snowflake time, in ms.
pub const BUCKET_MS: u64 = 10 * 24 * 60 * 60 * 1000;

/// The bucket of a message id (or of a cursor).
pub fn bucket_of(id: u64) -> i64 {
    // (2^64 >> 22) / BUCKET_MS is far below i64::MAX, so this never saturates.
    i64::try_from((id >> TIME_SHIFT) / BUCKET_MS).unwrap_or(i64::MAX)
}

/// The smallest id of `bucket` (for tests and range checks); `u64::MAX` past the
/// last bucket Snowflakes can reach.
pub fn first_id_of(bucket: i64) -> u64 {
    let time = u64::try_from(bucket).unwrap_or(0).saturating_mul(BUCKET_MS);
    if time > u64::MAX >> TIME_SHIFT {
        return u64::MAX;
    }
    time << TIME_SHIFT
}

/// The buckets a "newest first" read visits, from the one holding `from` down to the
/// channel's first: `known` filtered to `<= bucket_of(from)`, newest first. `known` is
/// the channel's buckets in any order (duplicates are harmless).
pub fn older_buckets(known: &[i64], from: u64) -> Vec<i64> {
    let start = bucket_of(from);
    let mut out: Vec<i64> = known.iter().copied().filter(|&b| b <= start).collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.dedup();
    out
}

/// The buckets an "oldest first" read visits, from the one holding `from` up to the
/// channel's newest: `known` filtered to `>= bucket_of(from)`, oldest first.
pub fn newer_buckets(known: &[i64], from: u64) -> Vec<i64> {
    let start = bucket_of(from);
    let mut out: Vec<i64> = known.iter().copied().filter(|&b| b >= start).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// How a page of `limit` around a cursor splits (the SQLite backend's rule, which the
/// conformance suite pins): `(newer, older)`, where `newer` rows come strictly after the
/// cursor and `older` rows at or before it, the cursor itself included.
pub fn split_around(limit: u32) -> (u32, u32) {
    if limit == 0 {
        return (0, 0);
    }
    let newer = (limit - 1) / 2;
    (newer, limit - newer)
}

/// A read of one direction of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Ids `<= bound`, newest first.
    AtOrBefore(u64),
    /// Ids `> bound`, oldest first (the page reverses them).
    After(u64),
}

impl Walk {
    /// The buckets this walk visits, in visiting order.
    pub fn buckets(self, known: &[i64]) -> Vec<i64> {
        match self {
            Self::AtOrBefore(bound) => older_buckets(known, bound),
            Self::After(bound) => newer_buckets(known, bound),
        }
    }
}

/// The walks behind a page (newest-first reads and oldest-first reads), with how many
/// undeleted rows each must produce. `Latest` is `AtOrBefore(u64::MAX)`; `Before(c)` is
/// `AtOrBefore(c - 1)` (nothing when `c` is 0); `Around(c)` is `After(c)` then
/// `AtOrBefore(c)`, split by [`split_around`]. The page is the reversed `After` rows
/// followed by the `AtOrBefore` rows: newest first.
pub fn plan(page: crate::ops::messages::Page, limit: u32) -> Vec<(Walk, u32)> {
    use crate::ops::messages::Page;
    if limit == 0 {
        return Vec::new();
    }
    match page {
        Page::Latest => vec![(Walk::AtOrBefore(u64::MAX), limit)],
        Page::Before(cursor) => match cursor.get().checked_sub(1) {
            Some(bound) => vec![(Walk::AtOrBefore(bound), limit)],
            None => Vec::new(),
        },
        Page::After(cursor) => vec![(Walk::After(cursor.get()), limit)],
        Page::Around(cursor) => {
            let (newer, older) = split_around(limit);
            let mut walks = Vec::with_capacity(2);
            if newer > 0 {
                walks.push((Walk::After(cursor.get()), newer));
            }
            walks.push((Walk::AtOrBefore(cursor.get()), older));
            walks
        }
    }
}

#[cfg(test)]
mod tests {
    use protocol::snowflake::{first_id_at, EPOCH_MS};
    use protocol::MessageId;

    use super::*;
    use crate::ops::messages::Page;

    #[test]
    fn bucket_boundaries_are_ten_days_of_snowflake_time() {
        assert_eq!(bucket_of(0), 0);
        let edge = first_id_at(EPOCH_MS + BUCKET_MS);
        assert_eq!(bucket_of(edge - 1), 0, "the last id of bucket 0");
        assert_eq!(bucket_of(edge), 1, "the first id of bucket 1");
        assert_eq!(first_id_of(1), edge);
        assert_eq!(bucket_of(first_id_at(EPOCH_MS + 25 * 24 * 3_600_000)), 2);
        // The worker and sequence bits never move an id to another bucket.
        let last_of_zero = (edge - 1) | 0x3f_ffff;
        assert_eq!(bucket_of(last_of_zero), 0);
        assert_eq!(
            bucket_of(u64::MAX),
            i64::try_from((u64::MAX >> 22) / BUCKET_MS).unwrap()
        );
        assert_eq!(first_id_of(-3), 0);
        assert_eq!(first_id_of(bucket_of(u64::MAX) + 1), u64::MAX);
    }

    #[test]
    fn buckets_grow_with_ids() {
        let mut id = 0u64;
        let mut last = bucket_of(0);
        // Steps of ~3.7 days over the whole Snowflake range of a century.
        while let Some(next) = id.checked_add(1 << 50) {
            id = next;
            let b = bucket_of(id);
            assert!(b >= last, "{id}: {b} < {last}");
            assert!(first_id_of(b) <= id, "{id} before its bucket {b}");
            assert!(
                id < first_id_of(b + 1) || first_id_of(b + 1) == u64::MAX,
                "{id} past its bucket {b}"
            );
            last = b;
        }
    }

    #[test]
    fn walks_visit_known_buckets_in_order() {
        let known = [3, 9, 5, 1, 9];
        let at = |b: i64| first_id_of(b) + 77;
        assert_eq!(older_buckets(&known, at(5)), vec![5, 3, 1]);
        assert_eq!(older_buckets(&known, at(4)), vec![3, 1], "a gap is skipped");
        assert_eq!(older_buckets(&known, at(0)), Vec::<i64>::new());
        assert_eq!(older_buckets(&known, u64::MAX), vec![9, 5, 3, 1]);
        assert_eq!(newer_buckets(&known, at(5)), vec![5, 9]);
        assert_eq!(newer_buckets(&known, at(6)), vec![9]);
        assert_eq!(newer_buckets(&known, at(10)), Vec::<i64>::new());
        assert!(older_buckets(&[], 42).is_empty());
    }

    #[test]
    fn around_splits_like_the_sqlite_backend() {
        assert_eq!(split_around(0), (0, 0));
        assert_eq!(split_around(1), (0, 1));
        assert_eq!(split_around(2), (0, 2));
        assert_eq!(split_around(3), (1, 2));
        assert_eq!(split_around(4), (1, 3));
        assert_eq!(split_around(5), (2, 3));
        assert_eq!(split_around(100), (49, 51));
        for limit in 0..300 {
            let (newer, older) = split_around(limit);
            assert_eq!(newer + older, limit);
            assert!(older >= newer, "the cursor's side gets the extra row");
        }
    }

    #[test]
    fn plans_cover_every_page_kind() {
        let c = MessageId::new(1000);
        assert_eq!(plan(Page::Latest, 0), vec![]);
        assert_eq!(plan(Page::Latest, 7), vec![(Walk::AtOrBefore(u64::MAX), 7)]);
        assert_eq!(plan(Page::Before(c), 7), vec![(Walk::AtOrBefore(999), 7)]);
        assert_eq!(plan(Page::Before(MessageId::new(0)), 7), vec![]);
        assert_eq!(plan(Page::After(c), 7), vec![(Walk::After(1000), 7)]);
        assert_eq!(
            plan(Page::Around(c), 5),
            vec![(Walk::After(1000), 2), (Walk::AtOrBefore(1000), 3)]
        );
        assert_eq!(plan(Page::Around(c), 1), vec![(Walk::AtOrBefore(1000), 1)]);
    }

    #[test]
    fn a_walk_across_a_bucket_edge_returns_ids_in_order() {
        // A simulated channel: ids on both sides of the edge between buckets 4 and 5,
        // and one far away in bucket 9. Reading bucket by bucket in the walk's order,
        // each bucket newest first (its clustering order), must give ids sorted.
        let edge = first_id_of(5);
        let ids = [edge - 2, edge - 1, edge, edge + 1, first_id_of(9) + 3];
        let known: Vec<i64> = ids.iter().map(|&id| bucket_of(id)).collect();
        let read = |walk: Walk| -> Vec<u64> {
            let mut out = Vec::new();
            for bucket in walk.buckets(&known) {
                let mut rows: Vec<u64> = ids
                    .iter()
                    .copied()
                    .filter(|&id| bucket_of(id) == bucket)
                    .filter(|&id| match walk {
                        Walk::AtOrBefore(bound) => id <= bound,
                        Walk::After(bound) => id > bound,
                    })
                    .collect();
                rows.sort_unstable_by(|a, b| b.cmp(a));
                if matches!(walk, Walk::After(_)) {
                    rows.reverse();
                }
                out.extend(rows);
            }
            out
        };
        assert_eq!(
            read(Walk::AtOrBefore(u64::MAX)),
            vec![ids[4], ids[3], ids[2], ids[1], ids[0]]
        );
        assert_eq!(read(Walk::AtOrBefore(edge)), vec![edge, edge - 1, edge - 2]);
        assert_eq!(read(Walk::AtOrBefore(edge - 1)), vec![edge - 1, edge - 2]);
        assert_eq!(
            read(Walk::After(edge - 2)),
            vec![edge - 1, edge, edge + 1, ids[4]]
        );
        assert_eq!(read(Walk::After(edge + 1)), vec![ids[4]]);
    }
}
