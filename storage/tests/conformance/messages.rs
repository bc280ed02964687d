//! Messages: pages, nonce lookups, the edit audit trail, soft deletes.

use protocol::{Message, MessageId};
use storage::{Edit, NewMessage, Page};

use crate::support::{group, new_message, next_id, now_ms, send, user, Backend};

fn ids(page: Vec<Message>) -> Vec<MessageId> {
    page.into_iter().map(|m| m.id).collect()
}

/// Latest, before, after and around: newest first, deleted left out, limit honoured.
pub async fn pagination(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    let noise = group(store, ann.id, &[]).await.id;
    let mut m = Vec::new();
    for i in 0..10 {
        m.push(send(store, channel, ann.id, &format!("m{i}")).await.0.id);
        send(store, noise, ann.id, "noise").await;
    }
    store.delete_message(m[5], now_ms()).await.unwrap();
    let page =
        |p: Page, limit: u32| async move { ids(store.messages(channel, p, limit).await.unwrap()) };

    assert_eq!(page(Page::Latest, 3).await, vec![m[9], m[8], m[7]]);
    assert_eq!(page(Page::Latest, 100).await.len(), 9);
    assert_eq!(page(Page::Before(m[7]), 3).await, vec![m[6], m[4], m[3]]);
    assert_eq!(page(Page::Before(m[1]), 5).await, vec![m[0]]);
    assert_eq!(page(Page::After(m[3]), 3).await, vec![m[7], m[6], m[4]]);
    assert_eq!(page(Page::After(m[8]), 5).await, vec![m[9]]);
    assert!(page(Page::After(m[9]), 5).await.is_empty());
    assert_eq!(
        page(Page::Around(m[4]), 5).await,
        vec![m[7], m[6], m[4], m[3], m[2]],
        "centred, itself included"
    );
    assert_eq!(page(Page::Around(m[4]), 1).await, vec![m[4]]);
    assert_eq!(
        page(Page::Around(m[5]), 3).await,
        vec![m[6], m[4], m[3]],
        "deleted left out"
    );
    assert_eq!(page(Page::Around(m[0]), 4).await, vec![m[1], m[0]]);
    let around_all = page(Page::Around(m[6]), 100).await;
    assert_eq!(around_all.len(), 9);
    assert!(around_all.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert!(store
        .messages(next_id(), Page::Latest, 10)
        .await
        .unwrap()
        .is_empty());

    let full = store.messages(channel, Page::Latest, 1).await.unwrap();
    assert_eq!(full[0].author, ann);
    assert_eq!(full[0].content, "m9");
    assert_eq!(full[0].channel_id, channel);
}

/// The undeleted message with the nonce, by the same author, in the window.
pub async fn nonce_lookup_window(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let other = group(store, ann.id, &[]).await.id;
    let at = now_ms();
    let spec = NewMessage {
        nonce: Some("n-1".into()),
        created_at: at,
        ..new_message(channel, ann.id, "hello")
    };
    let (sent, _) = store.create_message(spec).await.unwrap();
    assert_eq!(sent.nonce.as_deref(), Some("n-1"));

    let found = store
        .message_by_nonce(channel, ann.id, "n-1", at - 600_000)
        .await
        .unwrap();
    assert_eq!(found, Some(sent.clone()));
    assert_eq!(
        store
            .message_by_nonce(channel, ann.id, "n-1", at)
            .await
            .unwrap(),
        Some(sent.clone())
    );
    assert_eq!(
        store
            .message_by_nonce(channel, ann.id, "n-1", at + 1)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .message_by_nonce(channel, bob.id, "n-1", 0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .message_by_nonce(other, ann.id, "n-1", 0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .message_by_nonce(channel, ann.id, "n-2", 0)
            .await
            .unwrap(),
        None
    );
    let fetched = store.message(sent.id).await.unwrap().unwrap();
    assert_eq!(fetched.message.nonce.as_deref(), Some("n-1"));

    store.delete_message(sent.id, now_ms()).await.unwrap();
    assert_eq!(
        store
            .message_by_nonce(channel, ann.id, "n-1", 0)
            .await
            .unwrap(),
        None
    );
}

/// Previous versions, oldest first, each with the time it was replaced.
pub async fn edit_audit_trail(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    let (sent, _) = send(store, channel, ann.id, "v1").await;
    assert!(store.edits(sent.id).await.unwrap().is_empty());
    let t1 = sent.created_at + 10;
    let t2 = sent.created_at + 20;
    let (edited, _) = store
        .edit_message(sent.id, "v2", t1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.content, "v2");
    assert_eq!(edited.edited_at, Some(t1));
    assert_eq!(edited.created_at, sent.created_at);
    store
        .edit_message(sent.id, "v3", t2)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        store.edits(sent.id).await.unwrap(),
        vec![
            Edit {
                content: "v1".into(),
                edited_at: t1
            },
            Edit {
                content: "v2".into(),
                edited_at: t2
            },
        ]
    );
    let record = store.message(sent.id).await.unwrap().unwrap();
    assert_eq!(record.message.content, "v3");
    assert_eq!(record.message.edited_at, Some(t2));
    assert_eq!(record.deleted_at, None);
    assert_eq!(store.edit_message(next_id(), "x", t2).await.unwrap(), None);
    assert!(store.edits(next_id()).await.unwrap().is_empty());
}

/// A soft delete keeps the row (with its time) and moves the channel's last message back.
pub async fn soft_delete_fixes_last_message(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    let last = |store: &storage::DynStore| store_last(store.clone(), channel);
    let (m1, _) = send(store, channel, ann.id, "one").await;
    let (m2, _) = send(store, channel, ann.id, "two").await;
    let (m3, _) = send(store, channel, ann.id, "three").await;
    assert_eq!(last(store).await, Some(m3.id));

    store
        .delete_message(m2.id, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        last(store).await,
        Some(m3.id),
        "an older delete keeps the last message"
    );
    let deleted_at = now_ms();
    store
        .delete_message(m3.id, deleted_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last(store).await, Some(m1.id));
    let record = store.message(m3.id).await.unwrap().unwrap();
    assert_eq!(record.deleted_at, Some(deleted_at));
    assert_eq!(record.message.content, "three");
    store
        .delete_message(m1.id, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last(store).await, None);
    assert!(store
        .messages(channel, Page::Latest, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.delete_message(next_id(), now_ms()).await.unwrap(),
        None
    );

    let view = store.channel_for(channel, ann.id).await.unwrap().unwrap();
    assert_eq!(view.last_message_id, None);
}

async fn store_last(store: storage::DynStore, channel: protocol::ChannelId) -> Option<MessageId> {
    store
        .channel(channel)
        .await
        .unwrap()
        .unwrap()
        .last_message_id
}
