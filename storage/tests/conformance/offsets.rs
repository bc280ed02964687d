//! Channel offsets: exactly one per channel event, none for no-ops, durable.

use protocol::Role;

use crate::support::{group, new_message, now_ms, offset, send, user, Backend};

/// Every channel event moves the offset by one and returns it; repeats do not.
pub async fn rise_by_one_per_event_only(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    assert_eq!(offset(store, channel).await, 0, "creation is no event");

    let (message, at) = send(store, channel, ann.id, "hi").await;
    assert_eq!(at, 1);
    let (_, at) = store
        .edit_message(message.id, "hi!", now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at, 2);
    assert_eq!(
        store
            .add_reaction(message.id, bob.id, "👍", 20)
            .await
            .unwrap(),
        Some(3)
    );
    assert_eq!(
        store
            .add_reaction(message.id, bob.id, "👍", 20)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .remove_reaction(message.id, bob.id, "👍")
            .await
            .unwrap(),
        Some(4)
    );
    assert_eq!(
        store
            .remove_reaction(message.id, bob.id, "👍")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .add_member(channel, cat.id, Role::Member)
            .await
            .unwrap(),
        Some(5)
    );
    assert_eq!(
        store
            .add_member(channel, cat.id, Role::Member)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.remove_member(channel, cat.id).await.unwrap(), Some(6));
    assert_eq!(store.remove_member(channel, cat.id).await.unwrap(), None);
    assert_eq!(
        store.delete_message(message.id, now_ms()).await.unwrap(),
        Some(7)
    );
    assert_eq!(
        store.delete_message(message.id, now_ms()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .edit_message(message.id, "late", now_ms())
            .await
            .unwrap(),
        None
    );
    assert_eq!(offset(store, channel).await, 7);
    let seen = store.channel_for(channel, ann.id).await.unwrap().unwrap();
    assert_eq!(seen.offset, 7);

    // Other channels are not touched, and non-events (receipts, mutes) move nothing.
    let other = group(store, bob.id, &[]).await.id;
    send(store, other, bob.id, "elsewhere").await;
    store.mark_read(channel, bob.id, message.id).await.unwrap();
    store.mute(channel, bob.id, None).await.unwrap();
    assert_eq!(offset(store, channel).await, 7);
    assert_eq!(offset(store, other).await, 1);

    // Concurrent sends get distinct, contiguous offsets.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            let spec = new_message(channel, ann.id, &format!("burst {i}"));
            tokio::spawn(async move { store.create_message(spec).await.unwrap().1 })
        })
        .collect();
    let mut offsets = Vec::new();
    for task in tasks {
        offsets.push(task.await.unwrap());
    }
    offsets.sort_unstable();
    assert_eq!(offsets, (8..18).collect::<Vec<_>>());
}

/// Offsets (and data) survive reopening the store.
pub async fn survive_reopening(b: &Backend) {
    let Some(probe) = b.reopen() else {
        eprintln!("skipped: this backend's data does not outlive the store");
        return;
    };
    drop(probe);
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    for i in 0..3 {
        send(store, channel, ann.id, &format!("m{i}")).await;
    }
    let reopened = b.reopen().unwrap();
    assert_eq!(offset(&reopened, channel).await, 3);
    let (_, at) = send(&reopened, channel, ann.id, "after reopen").await;
    assert_eq!(at, 4);
    assert_eq!(reopened.user(ann.id).await.unwrap(), Some(ann));
}
