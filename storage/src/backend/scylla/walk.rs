//! Walking a channel's buckets for a page, over any source of rows.
//!
//! The source ([`RowSource`]) maps `(walk, bucket, paging state)` to one page of that
//! bucket's rows in the walk's order (newest first for `AtOrBefore`, oldest first for
//! `After`) and the state of the next page: the driver in production, a vector in the
//! tests, which check pages against a brute-force model of the SQLite semantics.

use std::future::Future;

use super::bucket::{plan, Walk};
use super::rows::{MessageRow, StoredMessage};
use crate::error::Result;
use crate::ops::messages::Page;

/// Where a walk gets its rows: one page of a bucket's rows in the walk's order, from
/// `paging` on (the start when `None`), and the state of the next page if any. (A
/// trait rather than an async closure, so that the walk's future is `Send`.)
pub(super) trait RowSource: Sync {
    /// The state of the next page.
    type Paging: Send;

    /// One page of rows.
    fn fetch(
        &self,
        walk: Walk,
        bucket: i64,
        paging: Option<Self::Paging>,
    ) -> impl Future<Output = Result<(Vec<MessageRow>, Option<Self::Paging>)>> + Send;
}

/// What a walk does with a row.
pub(super) enum Step {
    /// Keep it if it is undeleted.
    Take,
    /// Leave it out.
    Skip,
    /// End the walk before it.
    Stop,
}

/// Up to `want` undeleted rows that `step` takes, bucket after bucket in the walk's
/// order, fetching a bucket's further pages only while rows are still missing.
pub(super) async fn walk_rows(
    source: &impl RowSource,
    buckets: &[i64],
    walk: Walk,
    step: impl Fn(&MessageRow) -> Step + Send,
    want: u32,
) -> Result<Vec<StoredMessage>> {
    let want = usize::try_from(want).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    if want == 0 {
        return Ok(out);
    }
    for bucket in walk.buckets(buckets) {
        let mut paging = None;
        loop {
            let (rows, next) = source.fetch(walk, bucket, paging).await?;
            for row in rows {
                match step(&row) {
                    Step::Stop => return Ok(out),
                    Step::Skip => continue,
                    Step::Take if row.deleted_at.is_some() => continue,
                    Step::Take => match row.into_stored() {
                        Some(message) => out.push(message),
                        None => continue,
                    },
                }
                if out.len() >= want {
                    return Ok(out);
                }
            }
            match next {
                Some(next) => paging = Some(next),
                None => break,
            }
        }
    }
    Ok(out)
}

/// A page of undeleted messages, newest first, at most `limit` (without reactions):
/// the walks of [`plan`], the `After` rows reversed in front of the `AtOrBefore` ones.
pub(super) async fn page_rows(
    source: &impl RowSource,
    buckets: &[i64],
    page: Page,
    limit: u32,
) -> Result<Vec<StoredMessage>> {
    let mut out = Vec::new();
    for (walk, want) in plan(page, limit) {
        let mut rows = walk_rows(source, buckets, walk, |_| Step::Take, want).await?;
        if matches!(walk, Walk::After(_)) {
            rows.reverse();
        }
        out.extend(rows);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
