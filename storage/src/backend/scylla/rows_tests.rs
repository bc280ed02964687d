//! Row mapping round trips and reaction counting.

use protocol::{AttachmentId, ChannelId};

use super::*;

fn unset<T>(value: MaybeUnset<T>) -> Option<T> {
    match value {
        MaybeUnset::Set(v) => Some(v),
        MaybeUnset::Unset => None,
    }
}

/// What the server stores for an insert, read back by a select: unset cells are null.
fn stored_row(values: InsertMessage) -> MessageRow {
    let (
        channel_id,
        _bucket,
        message_id,
        author_id,
        content,
        created_at,
        reply_to,
        nonce,
        attachments,
        event_offset,
        _ts,
    ) = values;
    MessageRow {
        channel_id,
        message_id,
        author_id: Some(author_id),
        content: Some(content),
        created_at: Some(created_at),
        edited_at: None,
        deleted_at: None,
        reply_to: unset(reply_to),
        nonce: unset(nonce),
        attachments: unset(attachments),
        event_offset: Some(event_offset),
    }
}

fn attachment(id: u64, image: bool) -> Attachment {
    Attachment {
        id: AttachmentId::new(id),
        filename: format!("f{id}.png"),
        content_type: "image/png".into(),
        size: 12_345,
        url: format!("/media/{id}/f{id}.png"),
        width: image.then_some(640),
        height: image.then_some(u32::MAX),
        thumbnail_url: image.then(|| format!("/media/{id}/thumbnail")),
    }
}

fn full() -> StoredMessage {
    StoredMessage {
        id: MessageId::new(9_000_000_000_000_000_001),
        channel_id: ChannelId::new(77),
        author_id: UserId::new(5),
        content: "héllo ✓".into(),
        created_at: 1_765_000_000_123,
        edited_at: None,
        deleted_at: None,
        reply_to: Some(MessageId::new(41)),
        nonce: Some("n-1".into()),
        attachments: vec![attachment(3, true), attachment(2, false)],
        reactions: Vec::new(),
        offset: 42,
    }
}

fn bare() -> StoredMessage {
    StoredMessage {
        reply_to: None,
        nonce: None,
        attachments: Vec::new(),
        ..full()
    }
}

#[test]
fn a_new_message_round_trips_through_its_row() {
    for message in [full(), bare()] {
        let values = insert_values(&message).unwrap();
        assert_eq!(values.1, bucket_of(message.id.get()));
        assert_eq!(values.10, 42, "the write timestamp is the offset");
        assert_eq!(stored_row(values).into_stored(), Some(message));
    }
}

#[test]
fn absent_values_are_unset_not_null() {
    let values = insert_values(&bare()).unwrap();
    assert!(matches!(values.6, MaybeUnset::Unset));
    assert!(matches!(values.7, MaybeUnset::Unset));
    assert!(
        matches!(values.8, MaybeUnset::Unset),
        "no attachments: no cell"
    );
    let values = insert_values(&full()).unwrap();
    assert!(matches!(values.6, MaybeUnset::Set(41)));
    assert!(matches!(&values.8, MaybeUnset::Set(list) if list.len() == 2 && list[0].id == 3));
}

#[test]
fn ids_past_i64_are_refused_on_write() {
    let big = StoredMessage {
        id: MessageId::new(u64::MAX),
        ..bare()
    };
    assert!(matches!(insert_values(&big), Err(StoreError::Invalid(t)) if t.starts_with("id:")));
    let big = StoredMessage {
        reply_to: Some(MessageId::new(1 << 63)),
        ..bare()
    };
    assert!(
        matches!(insert_values(&big), Err(StoreError::Invalid(t)) if t.starts_with("reply_to:"))
    );
    assert_eq!(int(u64::MAX), i64::MAX);
    assert_eq!(uint(-1), 0);
}

#[test]
fn a_record_carries_every_field() {
    let author = User {
        id: UserId::new(5),
        username: "ann".into(),
        display_name: "Ann".into(),
        status: None,
    };
    let mut message = full();
    message.edited_at = Some(1);
    message.deleted_at = Some(2);
    message.reactions = vec![ReactionCount {
        emoji: "👍".into(),
        count: 3,
    }];
    let record = message.clone().into_record(author.clone());
    assert_eq!(record.deleted_at, Some(2));
    let m = record.message;
    assert_eq!(
        (m.id, m.channel_id, &m.author, &m.content, m.created_at),
        (
            message.id,
            message.channel_id,
            &author,
            &message.content,
            message.created_at
        )
    );
    assert_eq!(
        (m.edited_at, m.reply_to, &m.nonce),
        (Some(1), message.reply_to, &message.nonce)
    );
    assert_eq!(m.attachments, message.attachments);
    assert_eq!(m.reactions, message.reactions);
}

#[test]
fn a_row_with_out_of_range_values_reads_safely() {
    let row = MessageRow {
        channel_id: -1,
        message_id: 1,
        author_id: Some(2),
        content: Some(String::new()),
        created_at: Some(-5),
        edited_at: None,
        deleted_at: Some(7),
        reply_to: None,
        nonce: None,
        attachments: Some(vec![AttachmentUdt {
            id: 1,
            filename: "a".into(),
            content_type: "b".into(),
            size: -3,
            url: "c".into(),
            width: Some(-1),
            height: Some(i64::MAX),
            thumbnail_url: None,
        }]),
        event_offset: None,
    };
    let stray = MessageRow {
        author_id: None,
        ..row.clone()
    };
    assert_eq!(
        stray.into_stored(),
        None,
        "an update without its create is no message"
    );
    let stored = row.into_stored().unwrap();
    assert_eq!(stored.channel_id, ChannelId::new(0));
    assert_eq!(stored.created_at, 0);
    assert_eq!(stored.deleted_at, Some(7));
    assert_eq!(stored.offset, 0);
    assert_eq!(stored.attachments[0].size, 0);
    assert_eq!(stored.attachments[0].width, Some(0));
    assert_eq!(stored.attachments[0].height, Some(u32::MAX));
}

#[test]
fn reactions_count_per_emoji_in_order_of_first_use() {
    let row = |m: i64, e: &str, u: i64, o: i64| (m, e.to_owned(), u, Some(o));
    let counts = count_reactions(vec![
        row(1, "👍", 10, 5),
        row(1, "❤️", 11, 6),
        row(1, "👍", 12, 7),
        row(2, "🎉", 10, 9),
        // A re-added reaction keeps the offset of its newest add: its emoji moves only
        // when no older row of it remains.
        row(1, "🎉", 10, 3),
        row(1, "❤️", 10, 2),
    ]);
    let as_pairs = |id: u64| -> Vec<(String, u32)> {
        counts[&MessageId::new(id)]
            .iter()
            .map(|r| (r.emoji.clone(), r.count))
            .collect()
    };
    assert_eq!(
        as_pairs(1),
        [("❤️".into(), 2), ("🎉".into(), 1), ("👍".into(), 2)]
    );
    assert_eq!(as_pairs(2), [("🎉".into(), 1)]);
    assert!(!counts.contains_key(&MessageId::new(3)));
    assert!(count_reactions(Vec::new()).is_empty());
}
