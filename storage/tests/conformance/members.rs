//! Members: roles, paging, contacts.

use std::collections::BTreeSet;

use protocol::Role;

use crate::support::{group, next_id, now_ms, user, Backend};

/// Adding, roles, paging by user id, removing; repeats are no events.
pub async fn membership_and_paging(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(user(store).await);
    }
    let channel = group(store, ann.id, &[]).await.id;
    for other in &others {
        assert!(store
            .add_member(channel, other.id, Role::Member)
            .await
            .unwrap()
            .is_some());
    }
    assert!(store
        .add_member(channel, others[0].id, Role::Admin)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.member_role(channel, others[0].id).await.unwrap(),
        Some(Role::Member)
    );
    let admin = user(store).await;
    store
        .add_member(channel, admin.id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        store.member_role(channel, admin.id).await.unwrap(),
        Some(Role::Admin)
    );
    assert_eq!(
        store.channel(channel).await.unwrap().unwrap().member_count,
        6
    );

    let mut all: Vec<_> = [ann.id, admin.id]
        .into_iter()
        .chain(others.iter().map(|u| u.id))
        .collect();
    all.sort();
    assert_eq!(store.member_ids(channel).await.unwrap().len(), 6);
    let first = store.members(channel, None, 4).await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.user.id).collect::<Vec<_>>(),
        all[..4].to_vec()
    );
    let rest = store
        .members(channel, Some(first[3].user.id), 4)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|m| m.user.id).collect::<Vec<_>>(),
        all[4..].to_vec()
    );
    let owner = first
        .iter()
        .chain(&rest)
        .find(|m| m.user.id == ann.id)
        .unwrap();
    assert_eq!(owner.role, Role::Owner);
    assert_eq!(owner.user, ann);

    assert!(store
        .remove_member(channel, others[1].id)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .remove_member(channel, others[1].id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.member_role(channel, others[1].id).await.unwrap(),
        None
    );
    assert_eq!(
        store.channel(channel).await.unwrap().unwrap().member_count,
        5
    );
    assert!(store
        .add_member(next_id(), ann.id, Role::Member)
        .await
        .is_err());
}

/// Contacts share a DM, or a channel of at most `max_members` members.
pub async fn contacts_are_dms_and_small_channels(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let mut u = Vec::new();
    for _ in 0..6 {
        u.push(user(store).await.id);
    }
    let stranger = user(store).await.id;
    store
        .create_dm(next_id(), ann.id, u[0], now_ms())
        .await
        .unwrap();
    group(store, u[1], &[ann.id, u[2]]).await; // 3 members: small
    group(store, ann.id, &[u[3], u[4], u[5]]).await; // 4 members: large
    group(store, u[5], &[stranger]).await; // without ann

    let contacts: BTreeSet<_> = store
        .contacts(ann.id, 3)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(contacts, [u[0], u[1], u[2]].into_iter().collect());
    let wider: BTreeSet<_> = store
        .contacts(ann.id, 4)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(wider, u.iter().copied().collect());
    assert!(!wider.contains(&ann.id));
    // A DM counts whatever the limit.
    let dm_only: BTreeSet<_> = store
        .contacts(ann.id, 1)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(dm_only, [u[0]].into_iter().collect());
}
