//! The parts of a batch that need no server: how history writes are grouped, what a
//! failed write takes down with it, the reaction decisions and the overlay.
#![allow(clippy::unwrap_used)]

use protocol::{ChannelId, MessageId, ReactionCount, UserId};

use super::*;
use crate::backend::pg_scylla::memory::MemoryHistory;
use crate::backend::pg_scylla::overlay::Overlay;
use crate::backend::pg_scylla::step::{reaction_add, with_count};
use crate::backend::scylla::ReactionState;
use crate::ops::messages::{NewMessage, Page};

fn stored(id: u64, offset: u64) -> StoredMessage {
    StoredMessage::new(
        NewMessage {
            id: MessageId::new(id),
            channel_id: ChannelId::new(7),
            author_id: UserId::new(3),
            content: format!("m{id}"),
            created_at: 1,
            reply_to: None,
            nonce: Some(format!("n{id}")),
            attachment_ids: Vec::new(),
        },
        Vec::new(),
        offset,
    )
}

fn react(message: u64, emoji: &str, add: bool, offset: u64) -> RowWrite {
    RowWrite::React {
        channel: ChannelId::new(7),
        message: MessageId::new(message),
        user: UserId::new(3),
        emoji: emoji.into(),
        add,
        offset,
    }
}

#[test]
fn writes_group_by_message_in_batch_order() {
    let writes: Vec<(usize, RowWrite)> = vec![
        (0, RowWrite::Create(stored(10, 1))),
        (1, RowWrite::Create(stored(11, 2))),
        (3, react(10, "a", true, 3)),
        (4, react(11, "b", true, 4)),
        (5, react(10, "a", false, 5)),
    ];
    assert_eq!(by_message(&writes), vec![vec![0, 2, 4], vec![1, 3]]);
    assert!(by_message(&[]).is_empty());
}

#[test]
fn row_writes_name_their_message_channel_and_offset() {
    let edit = RowWrite::Edit {
        current: stored(10, 1),
        content: "x".into(),
        edited_at: 2,
        offset: 9,
    };
    assert_eq!(
        (edit.message(), edit.channel(), edit.offset()),
        (MessageId::new(10), ChannelId::new(7), 9)
    );
    let delete = RowWrite::Delete {
        channel: ChannelId::new(8),
        id: MessageId::new(12),
        deleted_at: 5,
        offset: 4,
    };
    assert_eq!(
        (delete.message(), delete.channel(), delete.offset()),
        (MessageId::new(12), ChannelId::new(8), 4)
    );
    assert_eq!(RowWrite::Create(stored(10, 6)).offset(), 6);
}

#[tokio::test]
async fn every_write_reaches_history_when_it_answers() {
    let history = MemoryHistory::new();
    let writes = vec![
        (0, RowWrite::Create(stored(10, 1))),
        (1, react(10, "a", true, 2)),
        (
            2,
            RowWrite::Edit {
                current: stored(10, 1),
                content: "edited".into(),
                edited_at: 5,
                offset: 3,
            },
        ),
    ];
    assert!(write_rows(&history, &writes).await.is_empty());
    let m = history
        .message_in(ChannelId::new(7), MessageId::new(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.content, "edited");
    assert_eq!(
        m.reactions,
        vec![ReactionCount {
            emoji: "a".into(),
            count: 1
        }]
    );
    assert_eq!(history.edits(MessageId::new(10)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_write_fails_the_later_writes_of_its_message_only() {
    let history = MemoryHistory::new();
    history.fail_next_writes(1);
    // One message: its create fails, its reactions depend on it.
    let writes = vec![
        (0, RowWrite::Create(stored(10, 1))),
        (2, react(10, "a", true, 3)),
        (3, react(10, "b", true, 4)),
    ];
    let failed = write_rows(&history, &writes).await;
    let slots: Vec<usize> = failed.iter().map(|((slot, _), _)| *slot).collect();
    assert_eq!(slots, vec![0, 2, 3]);
    assert!(failed
        .iter()
        .all(|(_, err)| matches!(err, StoreError::Unavailable(_))));
    assert_eq!(
        history.writes(),
        0,
        "nothing after the failed create was tried"
    );
    assert!(history
        .messages(ChannelId::new(7), Page::Latest, 10)
        .await
        .unwrap()
        .is_empty());

    // The next batch writes again.
    let later = vec![(0, RowWrite::Create(stored(11, 5)))];
    assert!(write_rows(&history, &later).await.is_empty());
}

#[tokio::test]
async fn a_failure_in_one_message_leaves_the_others_written() {
    let history = MemoryHistory::new();
    let writes = vec![
        (0, RowWrite::Create(stored(10, 1))),
        (1, RowWrite::Create(stored(11, 2))),
    ];
    history.fail_next_writes(1);
    let failed = write_rows(&history, &writes).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(history.writes(), 1);
    let written = history
        .messages(ChannelId::new(7), Page::Latest, 10)
        .await
        .unwrap();
    assert_eq!(written.len(), 1);
    let ((slot, _), _) = &failed[0];
    assert_ne!(written[0].id, writes[*slot].1.message());
}

#[test]
fn reaction_adds_repeat_or_hit_the_cap() {
    let state = |mine, emoji_present, distinct| ReactionState {
        mine,
        emoji_present,
        distinct,
    };
    assert!(!reaction_add(state(true, true, 20), 20).unwrap());
    assert!(reaction_add(state(false, true, 20), 20).unwrap());
    assert!(reaction_add(state(false, false, 19), 20).unwrap());
    let err = reaction_add(state(false, false, 20), 20).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(t) if t.starts_with("emoji:")));
}

#[test]
fn overlay_counts_follow_adds_and_removes() {
    let m = stored(10, 1);
    let m = with_count(m, "a", true);
    let m = with_count(m, "b", true);
    let m = with_count(m, "a", true);
    let counts = |m: &StoredMessage| -> Vec<(String, u32)> {
        m.reactions
            .iter()
            .map(|r| (r.emoji.clone(), r.count))
            .collect()
    };
    assert_eq!(counts(&m), vec![("a".into(), 2), ("b".into(), 1)]);
    let m = with_count(m, "a", false);
    let m = with_count(m, "a", false);
    let m = with_count(m, "zzz", false);
    assert_eq!(counts(&m), vec![("b".into(), 1)]);
    let m = with_count(m, "a", true);
    assert_eq!(counts(&m), vec![("b".into(), 1), ("a".into(), 1)]);
}

#[tokio::test]
async fn the_overlay_sees_the_batch_before_history_does() {
    let history = MemoryHistory::new();
    history.write_message(&stored(10, 1)).await.unwrap();
    let mut overlay = Overlay::new(&history);
    let channel = ChannelId::new(7);
    // Read through: the stored message and its nonce.
    assert!(overlay
        .live(channel, MessageId::new(10))
        .await
        .unwrap()
        .is_ok());
    assert_eq!(
        overlay.nonce(channel, UserId::new(3), "n10").await.unwrap(),
        Some(MessageId::new(10))
    );
    // Elsewhere or absent: NotFound.
    assert!(matches!(
        overlay.live(ChannelId::new(8), MessageId::new(10)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        overlay.live(channel, MessageId::new(99)).await,
        Err(StoreError::NotFound(_))
    ));
    // A message of the batch: its nonce is taken, its reactions start empty.
    overlay.created(&stored(11, 2));
    assert_eq!(
        overlay.nonce(channel, UserId::new(3), "n11").await.unwrap(),
        Some(MessageId::new(11))
    );
    assert!(overlay
        .reactions(channel, MessageId::new(11))
        .await
        .unwrap()
        .is_empty());
    // A delete of the batch: there, but deleted.
    overlay.changed(StoredMessage {
        deleted_at: Some(5),
        ..stored(10, 1)
    });
    assert_eq!(
        overlay.live(channel, MessageId::new(10)).await.unwrap(),
        Err(())
    );
    // None of it reached history.
    assert_eq!(history.writes(), 1);
}
