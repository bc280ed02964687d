//! Reactions: counts per emoji by first use, the distinct-emoji cap.

use protocol::ReactionCount;
use storage::{Page, StoreError};

use crate::support::{group, send, user, Backend};

fn counts(pairs: &[(&str, u32)]) -> Vec<ReactionCount> {
    pairs
        .iter()
        .map(|&(emoji, count)| ReactionCount {
            emoji: emoji.into(),
            count,
        })
        .collect()
}

/// Counts per emoji in order of first use; a new emoji over the cap is `Invalid`.
pub async fn counts_order_and_cap(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id, cat.id]).await.id;
    let (message, _) = send(store, channel, ann.id, "react to me").await;
    let (plain, _) = send(store, channel, ann.id, "no reactions").await;

    store
        .add_reaction(message.id, ann.id, "👍", 2)
        .await
        .unwrap()
        .unwrap();
    store
        .add_reaction(message.id, bob.id, "❤️", 2)
        .await
        .unwrap()
        .unwrap();
    store
        .add_reaction(message.id, cat.id, "👍", 2)
        .await
        .unwrap()
        .unwrap();
    let fetched = store.message(message.id).await.unwrap().unwrap().message;
    assert_eq!(fetched.reactions, counts(&[("👍", 2), ("❤️", 1)]));

    let before = store.channel(channel).await.unwrap().unwrap().offset;
    let err = store
        .add_reaction(message.id, ann.id, "🎉", 2)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(text) if text.contains("emoji")),
        "{err:?}"
    );
    assert_eq!(
        store.channel(channel).await.unwrap().unwrap().offset,
        before
    );
    // An emoji already there is fine at the cap.
    store
        .add_reaction(message.id, ann.id, "❤️", 2)
        .await
        .unwrap()
        .unwrap();

    store
        .remove_reaction(message.id, ann.id, "👍")
        .await
        .unwrap()
        .unwrap();
    store
        .remove_reaction(message.id, cat.id, "👍")
        .await
        .unwrap()
        .unwrap();
    let page = store.messages(channel, Page::Latest, 10).await.unwrap();
    let listed = page.iter().find(|m| m.id == message.id).unwrap();
    assert_eq!(listed.reactions, counts(&[("❤️", 2)]));
    let other = page.iter().find(|m| m.id == plain.id).unwrap();
    assert!(other.reactions.is_empty());
    // Room again for a new emoji, which goes last.
    store
        .add_reaction(message.id, bob.id, "🎉", 2)
        .await
        .unwrap()
        .unwrap();
    let fetched = store.message(message.id).await.unwrap().unwrap().message;
    assert_eq!(fetched.reactions, counts(&[("❤️", 2), ("🎉", 1)]));
}
