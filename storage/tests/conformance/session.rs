//! What IDENTIFY reads: `session_start` answers what the three reads it stands for
//! answer, and `None` for a user that does not exist.

use storage::{SessionStart, StoreError};

use crate::support::{group, next_id, user, Backend};

/// The user, their channels (newest activity first) and their blocks, as the
/// one-aggregate reads give them; nothing for an unknown user.
pub async fn start_matches_the_three_reads(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    group(store, ann.id, &[bob.id]).await;
    group(store, cat.id, &[ann.id]).await;
    store.block(ann.id, cat.id).await.unwrap();

    let SessionStart {
        user: found,
        channels,
        blocked,
    } = store
        .session_start(ann.id)
        .await
        .unwrap()
        .expect("ann exists");
    assert_eq!(found, store.user(ann.id).await.unwrap().unwrap());
    assert_eq!(channels, store.channels_for_user(ann.id).await.unwrap());
    assert_eq!(channels.len(), 2);
    assert_eq!(blocked, vec![cat.id]);

    let lonely = store.session_start(bob.id).await.unwrap().unwrap();
    assert_eq!(lonely.channels.len(), 1);
    assert!(lonely.blocked.is_empty());

    let nobody: Result<Option<SessionStart>, StoreError> = store.session_start(next_id()).await;
    assert!(nobody.unwrap().is_none());
}
