//! Pages over simulated buckets, checked against a brute-force model.

use proptest::prelude::*;
use protocol::MessageId;

use super::*;
use crate::backend::scylla::bucket::{bucket_of, first_id_of};

/// A channel's rows in memory: `(id, deleted)`.
struct Channel {
    rows: Vec<(u64, bool)>,
    /// Rows per fetched page (the driver's page size, tiny to exercise paging).
    page_rows: usize,
}

impl Channel {
    fn buckets(&self) -> Vec<i64> {
        self.rows.iter().map(|&(id, _)| bucket_of(id)).collect()
    }

    /// What the server answers: the bucket's rows matching the walk's bound, in the
    /// walk's order, one page from `at` on.
    fn rows(&self, walk: Walk, bucket: i64, at: Option<usize>) -> (Vec<MessageRow>, Option<usize>) {
        let mut rows: Vec<(u64, bool)> = self
            .rows
            .iter()
            .copied()
            .filter(|&(id, _)| bucket_of(id) == bucket)
            .filter(|&(id, _)| match walk {
                Walk::AtOrBefore(bound) => id <= bound,
                Walk::After(bound) => id > bound,
            })
            .collect();
        rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
        if matches!(walk, Walk::After(_)) {
            rows.reverse();
        }
        let from = at.unwrap_or(0);
        let to = (from + self.page_rows).min(rows.len());
        let page = rows[from..to]
            .iter()
            .map(|&(id, deleted)| row(id, deleted))
            .collect();
        (page, (to < rows.len()).then_some(to))
    }

    /// The SQLite backend's answer (PROTOCOL.md section 6), by brute force.
    fn model(&self, page: Page, limit: u32) -> Vec<u64> {
        let limit = limit as usize;
        let mut live: Vec<u64> = self.rows.iter().filter(|r| !r.1).map(|r| r.0).collect();
        live.sort_unstable_by(|a, b| b.cmp(a));
        let before = |bound: u64, n: usize| -> Vec<u64> {
            live.iter()
                .copied()
                .filter(|&id| id <= bound)
                .take(n)
                .collect()
        };
        let after = |cursor: u64, n: usize| -> Vec<u64> {
            let mut newer: Vec<u64> = live
                .iter()
                .rev()
                .copied()
                .filter(|&id| id > cursor)
                .take(n)
                .collect();
            newer.reverse();
            newer
        };
        match page {
            Page::Latest => before(u64::MAX, limit),
            Page::Before(c) if c.get() == 0 => Vec::new(),
            Page::Before(c) => before(c.get() - 1, limit),
            Page::After(c) => after(c.get(), limit),
            Page::Around(c) => {
                if limit == 0 {
                    return Vec::new();
                }
                let newer = (limit - 1) / 2;
                let mut out = after(c.get(), newer);
                out.extend(before(c.get(), limit - newer));
                out
            }
        }
    }

    fn page(&self, page: Page, limit: u32) -> Vec<u64> {
        let rows = block_on(page_rows(self, &self.buckets(), page, limit)).unwrap();
        rows.into_iter().map(|m| m.id.get()).collect()
    }
}

impl RowSource for Channel {
    type Paging = usize;

    async fn fetch(
        &self,
        walk: Walk,
        bucket: i64,
        paging: Option<usize>,
    ) -> crate::error::Result<(Vec<MessageRow>, Option<usize>)> {
        Ok(self.rows(walk, bucket, paging))
    }
}

fn row(id: u64, deleted: bool) -> MessageRow {
    MessageRow {
        channel_id: 1,
        message_id: i64::try_from(id).unwrap(),
        author_id: Some(2),
        content: Some(format!("m{id}")),
        created_at: Some(0),
        edited_at: None,
        deleted_at: deleted.then_some(5),
        reply_to: None,
        nonce: None,
        attachments: None,
        event_offset: Some(1),
    }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// Ids in a few buckets around `BASE`, some right at bucket edges.
const BASE: i64 = 70;

fn id_in(bucket_step: i64, offset: u64) -> u64 {
    first_id_of(BASE + bucket_step) + offset
}

fn any_page(ids: Vec<u64>) -> impl Strategy<Value = Page> {
    let cursor = prop_oneof![
        proptest::sample::select(ids),
        (0i64..8, 0u64..6).prop_map(|(b, o)| id_in(b, o)),
        Just(0u64),
        Just(u64::MAX >> 1),
    ];
    prop_oneof![
        Just(Page::Latest),
        cursor.clone().prop_map(|c| Page::Before(MessageId::new(c))),
        cursor.clone().prop_map(|c| Page::After(MessageId::new(c))),
        cursor.prop_map(|c| Page::Around(MessageId::new(c))),
    ]
}

proptest! {
    #[test]
    fn pages_match_the_model(
        (rows, page) in proptest::collection::btree_map((0i64..8, 0u64..6), any::<bool>(), 1..30)
            .prop_flat_map(|map| {
                let rows: Vec<(u64, bool)> =
                    map.into_iter().map(|((b, o), d)| (id_in(b, o), d)).collect();
                let ids: Vec<u64> = rows.iter().map(|r| r.0).collect();
                (Just(rows), any_page(ids))
            }),
        limit in 0u32..12,
        page_rows in 1usize..4,
    ) {
        let channel = Channel { rows, page_rows };
        let got = channel.page(page, limit);
        prop_assert_eq!(&got, &channel.model(page, limit), "{:?} limit {}", page, limit);
        prop_assert!(got.windows(2).all(|w| w[0] > w[1]), "newest first");
    }
}

#[test]
fn a_page_crosses_bucket_edges_and_skips_empty_buckets() {
    let edge = first_id_of(BASE + 1);
    let far = first_id_of(BASE + 6);
    let channel = Channel {
        rows: vec![
            (edge - 2, false),
            (edge - 1, true),
            (edge, false),
            (edge + 1, false),
            (far, false),
        ],
        page_rows: 1,
    };
    assert_eq!(
        channel.page(Page::Latest, 10),
        vec![far, edge + 1, edge, edge - 2]
    );
    assert_eq!(
        channel.page(Page::Before(MessageId::new(far)), 2),
        vec![edge + 1, edge]
    );
    assert_eq!(
        channel.page(Page::After(MessageId::new(edge - 2)), 2),
        vec![edge + 1, edge]
    );
    assert_eq!(
        channel.page(Page::Around(MessageId::new(edge - 1)), 3),
        vec![edge, edge - 2],
        "a deleted cursor is left out"
    );
    assert_eq!(
        channel.page(Page::Around(MessageId::new(edge + 1)), 5),
        vec![far, edge + 1, edge, edge - 2]
    );
}

#[test]
fn a_walk_stops_and_skips_where_told() {
    let channel = Channel {
        rows: (0..6).map(|i| (id_in(i % 3, i as u64), false)).collect(),
        page_rows: 2,
    };
    let buckets = channel.buckets();
    let floor = id_in(1, 1);
    let taken = block_on(walk_rows(
        &channel,
        &buckets,
        Walk::AtOrBefore(u64::MAX),
        |row| {
            let id = u64::try_from(row.message_id).unwrap();
            if id <= floor {
                Step::Stop
            } else if id % 2 == 0 {
                Step::Skip
            } else {
                Step::Take
            }
        },
        100,
    ))
    .unwrap();
    let mut expected: Vec<u64> = channel
        .rows
        .iter()
        .map(|r| r.0)
        .filter(|&id| id > floor && id % 2 == 1)
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        taken.into_iter().map(|m| m.id.get()).collect::<Vec<_>>(),
        expected
    );
    assert!(!expected.is_empty());
}
