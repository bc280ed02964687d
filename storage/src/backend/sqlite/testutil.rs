//! Test fixtures shared by this backend's unit tests.

use protocol::{ChannelId, ChannelKind, UserId, Visibility};

use super::SqliteStore;
use crate::ops::channels::{ChannelStore, NewChannel};
use crate::ops::users::{NewUser, UserStore};

/// Creates user `ann` ("ann") and a private group `channel` she owns, in `store`.
pub(crate) async fn user_and_group(store: &SqliteStore, ann: UserId, channel: ChannelId) {
    store
        .create_user(NewUser {
            id: ann,
            username: "ann".into(),
            display_name: "Ann".into(),
            password_hash: "h".into(),
            created_at: 0,
        })
        .await
        .unwrap();
    store
        .create_channel(NewChannel {
            id: channel,
            kind: ChannelKind::Group,
            name: "g".into(),
            visibility: Visibility::Private,
            parent_id: None,
            root_message_id: None,
            owner_id: ann,
            member_ids: Vec::new(),
            created_at: 0,
        })
        .await
        .unwrap();
}

/// An in-memory store with user 1 in group 2 (see [`user_and_group`]).
pub(crate) async fn store_with_channel() -> (SqliteStore, UserId, ChannelId) {
    let store = SqliteStore::open_in_memory().unwrap();
    let (ann, channel) = (UserId::new(1), ChannelId::new(2));
    user_and_group(&store, ann, channel).await;
    (store, ann, channel)
}
