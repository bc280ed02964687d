//! Batched channel events (`append_events`): one result per item in order, offsets
//! contiguous per channel, per-item failure and no-ops that take no offset, nonce
//! duplicates, batches that do not interleave, and a full-size batch.

use std::collections::HashMap;

use protocol::{Attachment, AttachmentId, ChannelId, Message, Role};
use storage::{AttachmentRecord, DynStore, EventWrite, NewMessage, Outcome, Result, StoreError};

use crate::support::{group, new_message, next_id, now_ms, offset, send, user, Backend};

/// Appends `batch`, which must commit.
async fn append(store: &DynStore, batch: Vec<EventWrite>) -> Vec<Result<Outcome>> {
    let len = batch.len();
    let out = store.append_events(batch).await.unwrap();
    assert_eq!(out.len(), len, "one result per item");
    out
}

/// The offset of an item that must be an event.
fn offset_of(result: &Result<Outcome>) -> u64 {
    match result {
        Ok(Outcome::Event { offset, .. }) => *offset,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// The message of an item that must be an event with one.
fn message_of(result: &Result<Outcome>) -> Message {
    match result {
        Ok(Outcome::Event {
            message: Some(message),
            ..
        }) => message.clone(),
        other => panic!("expected an event with a message, got {other:?}"),
    }
}

fn is_unchanged(result: &Result<Outcome>) -> bool {
    matches!(result, Ok(Outcome::Unchanged))
}

fn is_not_found(result: &Result<Outcome>) -> bool {
    matches!(result, Err(StoreError::NotFound(_)))
}

fn create(message: NewMessage) -> EventWrite {
    EventWrite::CreateMessage(message)
}

fn with_nonce(message: NewMessage, nonce: &str) -> NewMessage {
    NewMessage {
        nonce: Some(nonce.to_owned()),
        ..message
    }
}

/// Every kind of item in one batch: results in order, offsets 1.., messages as stored.
pub async fn results_in_order(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let file: AttachmentId = next_id();
    store
        .create_attachment(AttachmentRecord {
            attachment: Attachment {
                id: file,
                filename: "a.png".into(),
                content_type: "image/png".into(),
                size: 10,
                url: format!("/media/{file}/a.png"),
                width: None,
                height: None,
                thumbnail_url: None,
            },
            uploader_id: ann.id,
            message_id: None,
            created_at: now_ms(),
        })
        .await
        .unwrap();
    let first = NewMessage {
        attachment_ids: vec![file],
        ..new_message(channel, ann.id, "hello")
    };
    let id = first.id;
    let (edited_at, deleted_at) = (now_ms() + 1, now_ms() + 2);
    let react = |user, emoji: &str| EventWrite::AddReaction {
        channel,
        message: id,
        user,
        emoji: emoji.into(),
        max_distinct: 20,
    };
    let unreact = |user, emoji: &str| EventWrite::RemoveReaction {
        channel,
        message: id,
        user,
        emoji: emoji.into(),
    };
    let batch = vec![
        create(first),       // 0: 1
        react(bob.id, "👍"), // 1: 2
        react(bob.id, "👍"), // 2: repeat
        EventWrite::EditMessage {
            channel,
            id,
            content: "hello!".into(),
            edited_at,
        }, // 3: 3
        unreact(bob.id, "👍"), // 4: 4
        unreact(bob.id, "👍"), // 5: absent
        react(ann.id, "🎉"), // 6: 5
        EventWrite::AddMember {
            channel,
            user: cat.id,
            role: Role::Member,
            max_members: 10_000,
        }, // 7: 6
        EventWrite::AddMember {
            channel,
            user: cat.id,
            role: Role::Admin,
            max_members: 10_000,
        }, // 8: a member already
        EventWrite::RemoveMember {
            channel,
            user: cat.id,
        }, // 9: 7
        EventWrite::RemoveMember {
            channel,
            user: cat.id,
        }, // 10: not a member
        EventWrite::DeleteMessage {
            channel,
            id,
            deleted_at,
        }, // 11: 8
        EventWrite::DeleteMessage {
            channel,
            id,
            deleted_at,
        }, // 12: deleted already
    ];
    assert_eq!(batch[3].channel(), channel);
    let out = append(store, batch).await;

    let created = message_of(&out[0]);
    assert_eq!(offset_of(&out[0]), 1);
    assert_eq!(created.id, id);
    assert_eq!(created.author, ann);
    assert_eq!(created.content, "hello");
    assert_eq!(
        created.attachments.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![file]
    );
    assert_eq!(offset_of(&out[1]), 2);
    assert!(is_unchanged(&out[2]), "{:?}", out[2]);
    let edited = message_of(&out[3]);
    assert_eq!(offset_of(&out[3]), 3);
    assert_eq!(edited.content, "hello!");
    assert_eq!(edited.edited_at, Some(edited_at));
    assert_eq!(edited.reactions.len(), 1, "as stored: with the reaction");
    assert_eq!(edited.attachments, created.attachments);
    assert_eq!(out[4].as_ref().unwrap().offset(), Some(4));
    assert!(is_unchanged(&out[5]), "{:?}", out[5]);
    assert_eq!(offset_of(&out[6]), 5);
    assert_eq!(offset_of(&out[7]), 6);
    assert!(is_unchanged(&out[8]), "{:?}", out[8]);
    assert_eq!(offset_of(&out[9]), 7);
    assert!(is_unchanged(&out[10]), "{:?}", out[10]);
    assert_eq!(offset_of(&out[11]), 8);
    assert!(is_unchanged(&out[12]), "{:?}", out[12]);
    for i in [1, 4, 6, 7, 9, 11] {
        assert!(
            matches!(&out[i], Ok(Outcome::Event { message: None, .. })),
            "item {i}: {:?}",
            out[i]
        );
    }

    assert_eq!(offset(store, channel).await, 8);
    let record = store.message(id).await.unwrap().unwrap();
    assert_eq!(record.deleted_at, Some(deleted_at));
    assert_eq!(record.message.content, "hello!");
    assert_eq!(store.edits(id).await.unwrap().len(), 1);
    assert_eq!(store.member_role(channel, cat.id).await.unwrap(), None);
    assert_eq!(
        store.channel(channel).await.unwrap().unwrap().member_count,
        2
    );
    assert!(append(store, Vec::new()).await.is_empty());
}

/// A created or edited message comes back exactly as `message()` reads it.
pub async fn messages_as_stored(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    let spec = with_nonce(new_message(channel, ann.id, "as stored"), "s-1");
    let id = spec.id;
    let out = append(
        store,
        vec![
            create(spec),
            EventWrite::AddReaction {
                channel,
                message: id,
                user: ann.id,
                emoji: "👀".into(),
                max_distinct: 20,
            },
            EventWrite::EditMessage {
                channel,
                id,
                content: "edited".into(),
                edited_at: now_ms(),
            },
        ],
    )
    .await;
    let created = message_of(&out[0]);
    let edited = message_of(&out[2]);
    let stored = store.message(id).await.unwrap().unwrap().message;
    assert_eq!(edited, stored);
    assert_eq!(
        created,
        Message {
            content: "as stored".into(),
            edited_at: None,
            reactions: Vec::new(),
            ..stored
        }
    );
}

/// Offsets are contiguous per channel, in batch order, across batches, with channels
/// interleaved and one-item writes in between.
pub async fn offsets_contiguous_per_channel(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let mut channels = Vec::new();
    for _ in 0..3 {
        channels.push(group(store, ann.id, &[]).await.id);
    }
    let mut expected: HashMap<ChannelId, u64> = HashMap::new();
    for round in 0..4 {
        // Uneven interleaving: channel k gets k + 1 items per round, spread out.
        let mut batch = Vec::new();
        for i in 0..6 {
            for (k, &channel) in channels.iter().enumerate() {
                if i % (3 - k) == 0 {
                    batch.push(create(new_message(
                        channel,
                        ann.id,
                        &format!("{round}/{i}"),
                    )));
                }
            }
        }
        let targets: Vec<ChannelId> = batch.iter().map(EventWrite::channel).collect();
        let out = append(store, batch).await;
        for (target, result) in targets.iter().zip(&out) {
            let next = expected.entry(*target).or_insert(0);
            *next += 1;
            assert_eq!(offset_of(result), *next, "channel {target}");
            assert_eq!(message_of(result).channel_id, *target);
        }
        // A one-item write in between takes the next offset too.
        let (_, at) = send(store, channels[round % 3], ann.id, "single").await;
        let next = expected.entry(channels[round % 3]).or_insert(0);
        *next += 1;
        assert_eq!(at, *next);
    }
    for channel in &channels {
        assert_eq!(offset(store, *channel).await, expected[channel]);
    }
}

/// A failing item is rolled back alone (its offset bump too); the others stay, and the
/// offsets of those that stay are contiguous.
pub async fn failed_items_take_no_offset(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let elsewhere = group(store, ann.id, &[]).await.id;
    let (target, _) = send(store, channel, ann.id, "target").await;
    let (gone, _) = send(store, channel, ann.id, "gone").await;
    store.delete_message(gone.id, now_ms()).await.unwrap();
    store
        .add_reaction(target.id, ann.id, "1️⃣", 1)
        .await
        .unwrap();
    let start = offset(store, channel).await;
    assert_eq!(start, 4);

    let taken_id = NewMessage {
        id: target.id,
        ..new_message(channel, ann.id, "an id that is taken")
    };
    let good = |text: &str| new_message(channel, ann.id, text);
    let kept = [good("kept 1"), good("kept 2"), good("kept 3")];
    let batch = vec![
        create(kept[0].clone()),
        // An id that is taken: the insert fails, and no offset stays taken for it.
        create(taken_id),
        EventWrite::EditMessage {
            channel,
            id: next_id(),
            content: "absent".into(),
            edited_at: now_ms(),
        },
        EventWrite::EditMessage {
            channel,
            id: gone.id,
            content: "deleted".into(),
            edited_at: now_ms(),
        },
        EventWrite::EditMessage {
            channel: elsewhere,
            id: target.id,
            content: "wrong channel".into(),
            edited_at: now_ms(),
        },
        create(new_message(next_id(), ann.id, "no channel")),
        create(new_message(channel, next_id(), "no author")),
        create(kept[1].clone()),
        EventWrite::AddReaction {
            channel,
            message: target.id,
            user: bob.id,
            emoji: "2️⃣".into(),
            max_distinct: 1,
        },
        EventWrite::AddReaction {
            channel,
            message: gone.id,
            user: bob.id,
            emoji: "1️⃣".into(),
            max_distinct: 20,
        },
        EventWrite::RemoveReaction {
            channel: elsewhere,
            message: target.id,
            user: ann.id,
            emoji: "1️⃣".into(),
        },
        EventWrite::DeleteMessage {
            channel,
            id: next_id(),
            deleted_at: now_ms(),
        },
        EventWrite::AddMember {
            channel: next_id(),
            user: bob.id,
            role: Role::Member,
            max_members: 10_000,
        },
        EventWrite::RemoveMember {
            channel: next_id(),
            user: bob.id,
        },
        create(kept[2].clone()),
    ];
    let out = append(store, batch).await;
    assert_eq!(offset_of(&out[0]), start + 1);
    assert!(
        matches!(out[1], Err(StoreError::Conflict(_))),
        "{:?}",
        out[1]
    );
    for i in [2, 3, 4, 5, 9, 10, 11, 12, 13] {
        assert!(is_not_found(&out[i]), "item {i}: {:?}", out[i]);
    }
    assert!(
        matches!(out[6], Err(StoreError::Invalid(_))),
        "{:?}",
        out[6]
    );
    assert_eq!(offset_of(&out[7]), start + 2);
    assert!(
        matches!(&out[8], Err(StoreError::Invalid(text)) if text.contains("emoji")),
        "{:?}",
        out[8]
    );
    assert_eq!(offset_of(&out[14]), start + 3);

    assert_eq!(offset(store, channel).await, start + 3);
    assert_eq!(offset(store, elsewhere).await, 0);
    for spec in &kept {
        assert!(store.message(spec.id).await.unwrap().is_some());
    }
    let target_now = store.message(target.id).await.unwrap().unwrap();
    assert_eq!(target_now.message.content, "target", "untouched");
    assert_eq!(target_now.message.reactions.len(), 1);
    assert!(store.edits(gone.id).await.unwrap().is_empty());
    let record = store.channel(channel).await.unwrap().unwrap();
    assert_eq!(record.last_message_id, Some(kept[2].id));
    assert_eq!(record.member_count, 2);

    // A batch of failures only commits nothing, and the next event follows on.
    let out = append(
        store,
        vec![EventWrite::DeleteMessage {
            channel: elsewhere,
            id: target.id,
            deleted_at: now_ms(),
        }],
    )
    .await;
    assert!(is_not_found(&out[0]), "{:?}", out[0]);
    let (_, at) = send(store, channel, ann.id, "after").await;
    assert_eq!(at, start + 4);
}

/// Repeats, absent removals, present members, absent members and deleted deletes are
/// `Unchanged`: no offset, and the next event gets the next one.
pub async fn unchanged_items_take_no_offset(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let (message, _) = send(store, channel, ann.id, "m").await;
    let (deleted, _) = send(store, channel, ann.id, "d").await;
    store
        .add_reaction(message.id, bob.id, "👍", 20)
        .await
        .unwrap();
    store.delete_message(deleted.id, now_ms()).await.unwrap();
    let start = offset(store, channel).await;
    let out = append(
        store,
        vec![
            EventWrite::AddReaction {
                channel,
                message: message.id,
                user: bob.id,
                emoji: "👍".into(),
                max_distinct: 20,
            },
            EventWrite::RemoveReaction {
                channel,
                message: message.id,
                user: ann.id,
                emoji: "👍".into(),
            },
            EventWrite::AddMember {
                channel,
                user: bob.id,
                role: Role::Admin,
                max_members: 10_000,
            },
            EventWrite::RemoveMember {
                channel,
                user: cat.id,
            },
            EventWrite::DeleteMessage {
                channel,
                id: deleted.id,
                deleted_at: now_ms(),
            },
            EventWrite::AddMember {
                channel,
                user: cat.id,
                role: Role::Member,
                max_members: 10_000,
            },
        ],
    )
    .await;
    for (i, result) in out.iter().take(5).enumerate() {
        assert!(is_unchanged(result), "item {i}: {result:?}");
    }
    assert_eq!(offset_of(&out[5]), start + 1);
    assert_eq!(offset(store, channel).await, start + 1);
    assert_eq!(
        store.member_role(channel, bob.id).await.unwrap(),
        Some(Role::Member),
        "a repeated join changes no role"
    );
}

/// A `(channel, author, nonce)` that is stored already answers `Duplicate` with the
/// first message, within one batch and across batches, and takes no offset; the
/// one-item `create_message` refuses it with `Conflict`.
pub async fn nonce_duplicates(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let other = group(store, ann.id, &[]).await.id;
    let first = with_nonce(new_message(channel, ann.id, "first"), "n-1");
    let out = append(
        store,
        vec![
            create(first.clone()),
            create(with_nonce(new_message(channel, ann.id, "again"), "n-1")),
            create(with_nonce(new_message(channel, bob.id, "bob's"), "n-1")),
            create(with_nonce(new_message(other, ann.id, "elsewhere"), "n-1")),
            create(with_nonce(new_message(channel, ann.id, "new nonce"), "n-2")),
            create(new_message(channel, ann.id, "no nonce")),
            create(new_message(channel, ann.id, "no nonce")),
        ],
    )
    .await;
    let stored = message_of(&out[0]);
    assert_eq!(stored.id, first.id);
    assert_eq!(offset_of(&out[0]), 1);
    assert!(
        matches!(&out[1], Ok(Outcome::Duplicate(m)) if *m == stored),
        "{:?}",
        out[1]
    );
    assert_eq!(offset_of(&out[2]), 2, "another author's nonce");
    assert_eq!(offset_of(&out[3]), 1, "another channel's nonce");
    assert_eq!(offset_of(&out[4]), 3);
    assert_eq!(offset_of(&out[5]), 4);
    assert_eq!(offset_of(&out[6]), 5, "no nonce never repeats");

    // Across batches: the first message as stored now (here: edited).
    store
        .edit_message(first.id, "first, edited", now_ms())
        .await
        .unwrap()
        .unwrap();
    let now = store.message(first.id).await.unwrap().unwrap().message;
    let repeat = with_nonce(new_message(channel, ann.id, "later"), "n-1");
    let out = append(store, vec![create(repeat.clone())]).await;
    assert!(
        matches!(&out[0], Ok(Outcome::Duplicate(m)) if *m == now),
        "{:?}",
        out[0]
    );
    assert_eq!(offset(store, channel).await, 6, "duplicates take no offset");
    assert!(store.message(repeat.id).await.unwrap().is_none());

    let err = store.create_message(repeat.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(offset(store, channel).await, 6);
    assert!(store.message(repeat.id).await.unwrap().is_none());
}

/// Concurrent batches on one channel never interleave: each one's offsets are one
/// contiguous run, and together they cover every offset once.
pub async fn batches_do_not_interleave(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            let batch: Vec<_> = (0..16)
                .map(|i| create(new_message(channel, ann.id, &format!("{t}/{i}"))))
                .collect();
            tokio::spawn(async move {
                store
                    .append_events(batch)
                    .await
                    .unwrap()
                    .iter()
                    .map(offset_of)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let offsets = task.await.unwrap();
        assert!(
            offsets.windows(2).all(|w| w[1] == w[0] + 1),
            "one batch, one run: {offsets:?}"
        );
        all.extend(offsets);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=128).collect::<Vec<_>>());
}

/// 512 items across 10 channels in one batch: every one stored, offsets 1..=n per
/// channel in batch order.
pub async fn full_batch_across_ten_channels(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let mut channels = Vec::new();
    for _ in 0..10 {
        channels.push(group(store, ann.id, &[]).await.id);
    }
    let batch: Vec<_> = (0..512)
        .map(|i| {
            // Not round-robin: runs of varying length, so order within a channel matters.
            let channel = channels[(i * 7 + i / 13) % 10];
            create(new_message(channel, ann.id, &format!("m{i}")))
        })
        .collect();
    let ids: Vec<_> = batch
        .iter()
        .map(|item| match item {
            EventWrite::CreateMessage(new) => (new.channel_id, new.id),
            _ => unreachable!(),
        })
        .collect();
    let out = append(store, batch).await;
    let mut next: HashMap<ChannelId, u64> = HashMap::new();
    for ((channel, id), result) in ids.iter().zip(&out) {
        let expected = next.entry(*channel).or_insert(0);
        *expected += 1;
        assert_eq!(offset_of(result), *expected);
        assert_eq!(message_of(result).id, *id);
    }
    assert_eq!(next.len(), 10);
    for channel in &channels {
        let record = store.channel(*channel).await.unwrap().unwrap();
        assert_eq!(record.offset, next[channel]);
        let last = ids.iter().rev().find(|(c, _)| c == channel).unwrap().1;
        assert_eq!(record.last_message_id, Some(last));
    }
    for (_, id) in ids.iter().step_by(37) {
        assert!(store.message(*id).await.unwrap().is_some());
    }
}

/// The member cap is decided inside the batch: the join that would pass `max_members`
/// fails alone with `Limit` and takes no offset, even when it shares a batch with the
/// join that filled the channel; a member who already is one stays `Unchanged`.
pub async fn member_cap_inside_the_batch(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat, dan) = (
        user(store).await,
        user(store).await,
        user(store).await,
        user(store).await,
    );
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let start = offset(store, channel).await;
    let join = |user: protocol::UserId| EventWrite::AddMember {
        channel,
        user,
        role: Role::Member,
        max_members: 3,
    };
    let out = append(
        store,
        vec![join(cat.id), join(dan.id), join(cat.id), join(bob.id)],
    )
    .await;
    assert_eq!(offset_of(&out[0]), start + 1);
    assert!(
        matches!(&out[1], Err(StoreError::Limit(text)) if text.contains('3')),
        "{:?}",
        out[1]
    );
    assert!(is_unchanged(&out[2]), "{:?}", out[2]);
    assert!(is_unchanged(&out[3]), "{:?}", out[3]);
    assert_eq!(offset(store, channel).await, start + 1);
    assert_eq!(store.member_ids(channel).await.unwrap().len(), 3);
    assert_eq!(store.member_role(channel, dan.id).await.unwrap(), None);
}

/// New messages that fail between good ones in one channel, mixed with an item of
/// another kind and nonces repeated inside the batch: each failure leaves no trace (its
/// nonce is free again for a later item of the batch), the offsets of what stays are
/// contiguous, and the channel's counters (offset, last message, unread counts) are
/// those of the messages that stayed.
pub async fn failed_creates_between_good_ones(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let (target, start) = send(store, channel, bob.id, "target").await;
    let first = with_nonce(new_message(channel, ann.id, "first"), "x");
    let taken = NewMessage {
        id: target.id,
        ..with_nonce(new_message(channel, ann.id, "an id that is taken"), "y")
    };
    let retried = with_nonce(new_message(channel, ann.id, "nonce y, again"), "y");
    let later = new_message(channel, ann.id, "after the edit");
    let last = new_message(channel, ann.id, "last");
    let out = append(
        store,
        vec![
            create(first.clone()),
            create(taken),
            create(retried.clone()),
            create(with_nonce(new_message(channel, ann.id, "repeat"), "x")),
            EventWrite::EditMessage {
                channel,
                id: first.id,
                content: "first, edited".into(),
                edited_at: now_ms(),
            },
            create(later.clone()),
            create(new_message(channel, next_id(), "no author")),
            create(new_message(next_id(), ann.id, "no channel")),
            create(last.clone()),
        ],
    )
    .await;
    assert_eq!(offset_of(&out[0]), start + 1);
    assert!(
        matches!(out[1], Err(StoreError::Conflict(_))),
        "{:?}",
        out[1]
    );
    assert_eq!(
        offset_of(&out[2]),
        start + 2,
        "the failed item's nonce is free"
    );
    assert!(
        matches!(&out[3], Ok(Outcome::Duplicate(m)) if m.id == first.id && m.content == "first"),
        "{:?}",
        out[3]
    );
    assert_eq!(offset_of(&out[4]), start + 3);
    assert_eq!(offset_of(&out[5]), start + 4);
    assert!(
        matches!(out[6], Err(StoreError::Invalid(_))),
        "{:?}",
        out[6]
    );
    assert!(is_not_found(&out[7]), "{:?}", out[7]);
    assert_eq!(offset_of(&out[8]), start + 5);

    let record = store.channel(channel).await.unwrap().unwrap();
    assert_eq!(record.offset, start + 5);
    assert_eq!(record.last_message_id, Some(last.id));
    let untouched = store.message(target.id).await.unwrap().unwrap().message;
    assert_eq!(untouched.content, "target");
    assert_eq!(untouched.author.id, bob.id);
    let stored = store.message(retried.id).await.unwrap().unwrap().message;
    assert_eq!(stored.nonce.as_deref(), Some("y"));
    // Bob has read nothing: ann's four messages that stayed are unread to him.
    let views: HashMap<_, _> = store
        .member_views(channel)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(views[&bob.id].unread_count, 4);
    assert_eq!(views[&ann.id].unread_count, 1, "bob's target");
    // The counters went to storage: a one-item write and the next batch follow on.
    let (_, at) = send(store, channel, bob.id, "single").await;
    assert_eq!(at, start + 6);
    let out = append(store, vec![create(new_message(channel, ann.id, "next"))]).await;
    assert_eq!(offset_of(&out[0]), start + 7);
}

/// Messages into several channels interleaved with items of other kinds on the same
/// channels, in one batch: every channel's offsets stay contiguous in batch order.
pub async fn creates_interleaved_with_other_kinds(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let one = group(store, ann.id, &[bob.id]).await.id;
    let two = group(store, ann.id, &[bob.id]).await.id;
    let (target, _) = send(store, one, bob.id, "react to me").await;
    let (start_one, start_two) = (offset(store, one).await, offset(store, two).await);
    let out = append(
        store,
        vec![
            create(new_message(one, ann.id, "1")),
            create(new_message(two, ann.id, "2")),
            EventWrite::AddReaction {
                channel: one,
                message: target.id,
                user: ann.id,
                emoji: "👍".into(),
                max_distinct: 20,
            },
            create(new_message(one, bob.id, "3")),
            EventWrite::AddMember {
                channel: two,
                user: cat.id,
                role: Role::Member,
                max_members: 10_000,
            },
            create(new_message(two, cat.id, "4")),
            create(new_message(one, ann.id, "5")),
            EventWrite::DeleteMessage {
                channel: one,
                id: target.id,
                deleted_at: now_ms(),
            },
            create(new_message(two, bob.id, "6")),
        ],
    )
    .await;
    let offsets: Vec<u64> = out.iter().map(offset_of).collect();
    assert_eq!(
        offsets,
        vec![
            start_one + 1,
            start_two + 1,
            start_one + 2,
            start_one + 3,
            start_two + 2,
            start_two + 3,
            start_one + 4,
            start_one + 5,
            start_two + 4,
        ]
    );
    assert_eq!(offset(store, one).await, start_one + 5);
    assert_eq!(offset(store, two).await, start_two + 4);
    let record = store.channel(one).await.unwrap().unwrap();
    assert_eq!(record.last_message_id, Some(message_of(&out[6]).id));
    let views: HashMap<_, _> = store.member_views(two).await.unwrap().into_iter().collect();
    assert_eq!(views[&ann.id].unread_count, 2, "cat's and bob's");
}
