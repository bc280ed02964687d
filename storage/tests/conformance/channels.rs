//! Channels: DMs, groups, the viewer's view (name, unread, mute), listings, updates,
//! deletion.

use std::collections::HashSet;

use protocol::{ChannelId, ChannelKind, Role, Visibility};
use storage::{NewChannel, SearchQuery, StoreError};

use crate::support::{group, new_group, next_id, now_ms, send, token, user, user_named, Backend};

/// The same DM every time, whichever user asks first.
pub async fn dm_is_idempotent(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let (dm, created) = store
        .create_dm(next_id(), ann.id, bob.id, now_ms())
        .await
        .unwrap();
    assert!(created);
    assert_eq!(dm.kind, ChannelKind::Dm);
    assert_eq!(dm.visibility, Visibility::Private);
    assert_eq!(dm.member_count, 2);
    assert_eq!(dm.offset, 0);
    assert_eq!(dm.name, "");
    let (again, created) = store
        .create_dm(next_id(), ann.id, bob.id, now_ms())
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, dm.id);
    let (reversed, created) = store
        .create_dm(next_id(), bob.id, ann.id, now_ms())
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(reversed.id, dm.id);
    let mut members = store.member_ids(dm.id).await.unwrap();
    members.sort();
    let mut expected = vec![ann.id, bob.id];
    expected.sort();
    assert_eq!(members, expected);
}

/// Racing calls for the same pair get one DM, created exactly once.
pub async fn dm_races_create_one_channel(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let (a, b) = if i % 2 == 0 {
                (ann.id, bob.id)
            } else {
                (bob.id, ann.id)
            };
            tokio::spawn(async move { store.create_dm(next_id(), a, b, now_ms()).await })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut created = 0;
    for task in tasks {
        let (dm, new) = task.await.unwrap().unwrap();
        ids.insert(dm.id);
        created += usize::from(new);
    }
    assert_eq!(ids.len(), 1, "one DM");
    assert_eq!(created, 1, "created once");
}

/// A group starts at offset 0 with its owner and deduplicated members; an unknown
/// member is `Invalid` and stores nothing.
pub async fn create_channel_with_members(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let spec = new_group(ann.id, &[bob.id, ann.id, cat.id, bob.id], "Team Room");
    let record = store.create_channel(spec.clone()).await.unwrap();
    assert_eq!(record.id, spec.id);
    assert_eq!(record.kind, ChannelKind::Group);
    assert_eq!(record.name, "Team Room");
    assert_eq!(record.owner_id, ann.id);
    assert_eq!(record.member_count, 3);
    assert_eq!(record.offset, 0);
    assert_eq!(record.last_message_id, None);
    assert_eq!(
        store.channel(record.id).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store.member_role(record.id, ann.id).await.unwrap(),
        Some(Role::Owner)
    );
    assert_eq!(
        store.member_role(record.id, bob.id).await.unwrap(),
        Some(Role::Member)
    );

    let (root, _) = send(store, record.id, ann.id, "start a thread here").await;
    let thread = store
        .create_channel(NewChannel {
            kind: ChannelKind::Thread,
            parent_id: Some(record.id),
            root_message_id: Some(root.id),
            ..new_group(bob.id, &[], "A thread")
        })
        .await
        .unwrap();
    assert_eq!(thread.parent_id, Some(record.id));
    assert_eq!(thread.root_message_id, Some(root.id));
    let seen = store.channel_for(thread.id, bob.id).await.unwrap().unwrap();
    assert_eq!(seen.kind, ChannelKind::Thread);
    assert_eq!(seen.parent_id, Some(record.id));
    assert_eq!(seen.root_message_id, Some(root.id));

    let bad = new_group(ann.id, &[bob.id, next_id()], "Nope");
    let bad_id = bad.id;
    let err = store.create_channel(bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(store.channel(bad_id).await.unwrap(), None);
    assert!(store.member_ids(bad_id).await.unwrap().is_empty());
    assert_eq!(store.channel(next_id()).await.unwrap(), None);
    assert_eq!(store.channel_for(next_id(), ann.id).await.unwrap(), None);
}

/// A DM is named after the other member, for each side.
pub async fn view_names_a_dm_after_the_other_member(b: &Backend) {
    let store = &b.store;
    let ann = user_named(store, &token(), "Ann Example").await;
    let bob = user_named(store, &token(), "Bob Example").await;
    let (dm, _) = store
        .create_dm(next_id(), ann.id, bob.id, now_ms())
        .await
        .unwrap();
    let for_ann = store.channel_for(dm.id, ann.id).await.unwrap().unwrap();
    let for_bob = store.channel_for(dm.id, bob.id).await.unwrap().unwrap();
    assert_eq!(for_ann.name, "Bob Example");
    assert_eq!(for_bob.name, "Ann Example");
    assert_eq!(for_ann.visibility, Visibility::Private);
    store.update_display_name(bob.id, "Robert").await.unwrap();
    let for_ann = store.channel_for(dm.id, ann.id).await.unwrap().unwrap();
    assert_eq!(for_ann.name, "Robert");
}

/// Unread counts other members' undeleted messages after the viewer's last read one;
/// a non-member sees none.
pub async fn view_counts_unread_from_others(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let (_m1, _) = send(store, channel, ann.id, "one").await;
    let (m2, _) = send(store, channel, ann.id, "two").await;
    let (m3, _) = send(store, channel, ann.id, "three").await;
    let (m4, _) = send(store, channel, bob.id, "four").await;

    let unread = |viewer| async move {
        store
            .channel_for(channel, viewer)
            .await
            .unwrap()
            .unwrap()
            .unread_count
    };
    assert_eq!(unread(bob.id).await, 3, "own messages are not unread");
    assert_eq!(unread(ann.id).await, 1);
    let seen = store.channel_for(channel, bob.id).await.unwrap().unwrap();
    assert_eq!(seen.last_read_message_id, None);
    assert_eq!(seen.last_message_id, Some(m4.id));
    assert_eq!(seen.member_count, 2);

    store.mark_read(channel, bob.id, m2.id).await.unwrap();
    let seen = store.channel_for(channel, bob.id).await.unwrap().unwrap();
    assert_eq!(seen.last_read_message_id, Some(m2.id));
    assert_eq!(seen.unread_count, 1);
    store.delete_message(m3.id, now_ms()).await.unwrap();
    assert_eq!(unread(bob.id).await, 0, "deleted messages are not unread");

    let outside = store.channel_for(channel, cat.id).await.unwrap().unwrap();
    assert_eq!(outside.unread_count, 0);
    assert_eq!(outside.last_read_message_id, None);
    assert!(!outside.muted);
    assert_eq!(outside.id, channel);
}

/// Muted until unmuted, until a time, expired; unmute is idempotent.
pub async fn view_reports_mutes(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    let view = || async { store.channel_for(channel, ann.id).await.unwrap().unwrap() };
    let seen = view().await;
    assert!(!seen.muted);
    assert_eq!(seen.muted_until, None);

    store.mute(channel, ann.id, None).await.unwrap();
    let seen = view().await;
    assert!(seen.muted);
    assert_eq!(seen.muted_until, None, "until unmuted");

    let later = now_ms() + 3_600_000;
    store.mute(channel, ann.id, Some(later)).await.unwrap();
    let seen = view().await;
    assert!(seen.muted);
    assert_eq!(seen.muted_until, Some(later));

    store
        .mute(channel, ann.id, Some(now_ms() - 1_000))
        .await
        .unwrap();
    let seen = view().await;
    assert!(!seen.muted, "an expired mute reads as not muted");
    assert_eq!(seen.muted_until, None);

    store.mute(channel, ann.id, None).await.unwrap();
    store.unmute(channel, ann.id).await.unwrap();
    store.unmute(channel, ann.id).await.unwrap();
    assert!(!view().await.muted);
    let listed = store.channels_for_user(ann.id).await.unwrap();
    assert!(listed.iter().any(|c| c.id == channel && !c.muted));
}

/// Every channel the user is in, as they see it, newest activity first.
pub async fn channels_for_user_newest_activity_first(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let older = group(store, ann.id, &[bob.id]).await.id;
    let (dm, _) = store
        .create_dm(next_id(), ann.id, cat.id, now_ms())
        .await
        .unwrap();
    let newer = group(store, bob.id, &[ann.id]).await.id;
    let _not_mine = group(store, bob.id, &[cat.id]).await.id;

    let ids = |list: Vec<protocol::Channel>| -> Vec<ChannelId> {
        list.into_iter().map(|c| c.id).collect()
    };
    assert_eq!(
        ids(store.channels_for_user(ann.id).await.unwrap()),
        vec![newer, dm.id, older]
    );
    send(store, older, bob.id, "wake up").await;
    let listed = store.channels_for_user(ann.id).await.unwrap();
    assert_eq!(listed[0].unread_count, 1);
    assert_eq!(ids(listed), vec![older, newer, dm.id]);
    let listed = store.channels_for_user(ann.id).await.unwrap();
    let as_dm = listed.iter().find(|c| c.id == dm.id).unwrap();
    assert_eq!(as_dm.name, cat.display_name);
    assert!(store.channels_for_user(next_id()).await.unwrap().is_empty());
}

/// Public groups by case-insensitive substring of the name, ordered by name, limited.
pub async fn public_channels_by_name(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let tok = token();
    let public = |name: String| NewChannel {
        visibility: Visibility::Public,
        ..new_group(ann.id, &[], &name)
    };
    let beta = store
        .create_channel(public(format!("Beta {tok}")))
        .await
        .unwrap();
    let alpha = store
        .create_channel(public(format!("alpha {}", tok.to_uppercase())))
        .await
        .unwrap();
    let gamma = store
        .create_channel(public(format!("Gamma_{tok}%")))
        .await
        .unwrap();
    store
        .create_channel(new_group(ann.id, &[], &format!("Private {tok}")))
        .await
        .unwrap();

    let ids = |list: Vec<protocol::Channel>| -> Vec<ChannelId> {
        list.into_iter().map(|c| c.id).collect()
    };
    assert_eq!(
        ids(store.public_channels(ann.id, &tok, 10).await.unwrap()),
        vec![alpha.id, beta.id, gamma.id]
    );
    assert_eq!(
        ids(store
            .public_channels(ann.id, &tok.to_uppercase(), 2)
            .await
            .unwrap()),
        vec![alpha.id, beta.id]
    );
    assert_eq!(
        ids(store
            .public_channels(ann.id, &format!("{tok}%"), 10)
            .await
            .unwrap()),
        vec![gamma.id],
        "LIKE wildcards are literal"
    );
    let viewer = user(store).await;
    let seen = store
        .public_channels(viewer.id, &format!("beta {tok}"), 10)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name, format!("Beta {tok}"));
    assert_eq!(seen[0].unread_count, 0);
    assert_eq!(store.public_channels(ann.id, "", 1).await.unwrap().len(), 1);
}

/// Rename and visibility change; `None` for an unknown channel.
pub async fn update_channel(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await;
    let renamed = store
        .update_channel(channel.id, Some("Renamed".into()), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(renamed.visibility, Visibility::Private);
    let public = store
        .update_channel(channel.id, None, Some(Visibility::Public))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(public.name, "Renamed");
    assert_eq!(public.visibility, Visibility::Public);
    assert_eq!(public.offset, channel.offset, "no channel event");
    assert_eq!(
        store
            .update_channel(next_id(), Some("x".into()), None)
            .await
            .unwrap(),
        None
    );
}

/// Deleting a channel takes its members, messages and threads with it.
pub async fn delete_channel_cascades(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let word = token();
    let (root, _) = send(store, channel, ann.id, &format!("root {word}")).await;
    store.add_reaction(root.id, bob.id, "👍", 20).await.unwrap();
    store
        .edit_message(root.id, &format!("edited {word}"), now_ms())
        .await
        .unwrap();
    store.mark_read(channel, bob.id, root.id).await.unwrap();
    store.mute(channel, bob.id, None).await.unwrap();
    let thread = store
        .create_channel(NewChannel {
            kind: ChannelKind::Thread,
            parent_id: Some(channel),
            root_message_id: Some(root.id),
            ..new_group(bob.id, &[ann.id], "thread")
        })
        .await
        .unwrap();
    let (in_thread, _) = send(store, thread.id, bob.id, &format!("reply {word}")).await;

    assert!(store.delete_channel(channel).await.unwrap());
    assert_eq!(store.channel(channel).await.unwrap(), None);
    assert_eq!(store.channel(thread.id).await.unwrap(), None);
    assert_eq!(store.message(root.id).await.unwrap(), None);
    assert_eq!(store.message(in_thread.id).await.unwrap(), None);
    assert!(store.edits(root.id).await.unwrap().is_empty());
    assert!(store.member_ids(channel).await.unwrap().is_empty());
    assert!(store.receipts(channel).await.unwrap().is_empty());
    assert!(store.channels_for_user(bob.id).await.unwrap().is_empty());
    let query = SearchQuery {
        text: word,
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.search(&query).await.unwrap().1, 0);
    assert!(!store.delete_channel(channel).await.unwrap());
    // The users are untouched and can meet again.
    assert!(store.user(bob.id).await.unwrap().is_some());
    group(store, ann.id, &[bob.id]).await;
}

/// `member_views` gives each member the view `channel_for` gives them, in one read;
/// non-members are not in it.
pub async fn member_views_match_channel_for(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat, dan) = (
        user(store).await,
        user(store).await,
        user(store).await,
        user(store).await,
    );
    let channel = group(store, ann.id, &[bob.id, cat.id]).await.id;
    let (m1, _) = send(store, channel, ann.id, "one").await;
    send(store, channel, ann.id, "two").await;
    store.mark_read(channel, bob.id, m1.id).await.unwrap();
    store.mute(channel, cat.id, None).await.unwrap();

    let views = store.member_views(channel).await.unwrap();
    let mut ids: Vec<_> = views.iter().map(|(member, _)| *member).collect();
    ids.sort();
    let mut expected = vec![ann.id, bob.id, cat.id];
    expected.sort();
    assert_eq!(ids, expected, "members only, once each");
    for (member, view) in &views {
        let alone = store.channel_for(channel, *member).await.unwrap().unwrap();
        assert_eq!(view, &alone, "the view of {member}");
    }
    assert!(!views.iter().any(|(member, _)| *member == dan.id));
    assert!(store.member_views(next_id()).await.unwrap().is_empty());
}

/// `thread_ids` lists the threads of a channel, not those of another.
pub async fn thread_ids_of_a_parent(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let (parent, other) = (
        group(store, ann.id, &[]).await.id,
        group(store, ann.id, &[]).await.id,
    );
    assert!(store.thread_ids(parent).await.unwrap().is_empty());
    let mut threads = Vec::new();
    for n in 0..2 {
        let (root, _) = send(store, parent, ann.id, &format!("root {n}")).await;
        let thread = store
            .create_channel(NewChannel {
                kind: ChannelKind::Thread,
                parent_id: Some(parent),
                root_message_id: Some(root.id),
                ..new_group(ann.id, &[], "thread")
            })
            .await
            .unwrap();
        threads.push(thread.id);
    }
    threads.sort();
    assert_eq!(store.thread_ids(parent).await.unwrap(), threads);
    assert!(store.thread_ids(other).await.unwrap().is_empty());
}
