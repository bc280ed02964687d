//! Read receipts: forward only, members only.

use crate::support::{group, send, user, Backend};

/// A receipt moves only to a newer message; leavers are left out of the list.
pub async fn only_move_forward(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id, cat.id]).await.id;
    let (m1, _) = send(store, channel, ann.id, "one").await;
    let (m2, _) = send(store, channel, ann.id, "two").await;
    let (m3, _) = send(store, channel, ann.id, "three").await;

    assert!(store.receipts(channel).await.unwrap().is_empty());
    assert!(store.mark_read(channel, bob.id, m2.id).await.unwrap());
    assert!(
        !store.mark_read(channel, bob.id, m1.id).await.unwrap(),
        "backwards"
    );
    assert!(
        !store.mark_read(channel, bob.id, m2.id).await.unwrap(),
        "same"
    );
    assert_eq!(
        store.receipts(channel).await.unwrap(),
        vec![(bob.id, m2.id)]
    );
    assert!(store.mark_read(channel, bob.id, m3.id).await.unwrap());
    assert!(store.mark_read(channel, cat.id, m1.id).await.unwrap());
    let mut receipts = store.receipts(channel).await.unwrap();
    receipts.sort();
    let mut expected = vec![(bob.id, m3.id), (cat.id, m1.id)];
    expected.sort();
    assert_eq!(receipts, expected);

    store.remove_member(channel, cat.id).await.unwrap();
    assert_eq!(
        store.receipts(channel).await.unwrap(),
        vec![(bob.id, m3.id)]
    );
}
