//! Blocks: both directions, the blocked list, blockers among candidates, blockers of a
//! user.

use crate::support::{user, Backend};

/// `is_blocked_either` sees both directions; `blockers_of` filters candidates.
pub async fn both_ways_and_blockers_of(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    store.block(ann.id, bob.id).await.unwrap();
    store.block(ann.id, bob.id).await.unwrap();
    assert!(store.is_blocked_either(ann.id, bob.id).await.unwrap());
    assert!(store.is_blocked_either(bob.id, ann.id).await.unwrap());
    assert!(!store.is_blocked_either(ann.id, cat.id).await.unwrap());
    assert_eq!(store.blocked_ids(ann.id).await.unwrap(), vec![bob.id]);
    assert!(store.blocked_ids(bob.id).await.unwrap().is_empty());
    assert_eq!(
        store.blocked_users(ann.id).await.unwrap(),
        vec![bob.clone()]
    );

    store.block(cat.id, bob.id).await.unwrap();
    let mut blockers = store
        .blockers_of(bob.id, &[ann.id, cat.id, bob.id])
        .await
        .unwrap();
    blockers.sort();
    let mut expected = vec![ann.id, cat.id];
    expected.sort();
    assert_eq!(blockers, expected);
    assert_eq!(
        store.blockers_of(bob.id, &[cat.id]).await.unwrap(),
        vec![cat.id]
    );
    assert!(store
        .blockers_of(ann.id, &[bob.id, cat.id])
        .await
        .unwrap()
        .is_empty());
    assert!(store.blockers_of(bob.id, &[]).await.unwrap().is_empty());

    store.unblock(ann.id, bob.id).await.unwrap();
    store.unblock(ann.id, bob.id).await.unwrap();
    assert!(!store.is_blocked_either(ann.id, bob.id).await.unwrap());
    assert!(store.blocked_users(ann.id).await.unwrap().is_empty());
    assert!(store.is_blocked_either(bob.id, cat.id).await.unwrap());
}

/// `blocked_by` lists who blocked a user, from the blocked side, without candidates.
pub async fn blocked_by_reads_the_reverse_side(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    assert!(store.blocked_by(bob.id).await.unwrap().is_empty());
    store.block(ann.id, bob.id).await.unwrap();
    store.block(cat.id, bob.id).await.unwrap();
    store.block(bob.id, ann.id).await.unwrap();
    let mut expected = vec![ann.id, cat.id];
    expected.sort();
    assert_eq!(store.blocked_by(bob.id).await.unwrap(), expected);
    assert_eq!(store.blocked_by(ann.id).await.unwrap(), vec![bob.id]);
    assert!(store.blocked_by(cat.id).await.unwrap().is_empty());
    store.unblock(ann.id, bob.id).await.unwrap();
    assert_eq!(store.blocked_by(bob.id).await.unwrap(), vec![cat.id]);
}
