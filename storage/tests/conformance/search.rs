//! Search: words, case, membership, deletes, filters, totals.

use protocol::{Attachment, MessageId};
use storage::{AttachmentRecord, NewMessage, SearchQuery};

use crate::support::{group, new_message, next_id, now_ms, send, token, user, Backend};

fn ids(found: &[protocol::Message]) -> Vec<MessageId> {
    found.iter().map(|m| m.id).collect()
}

/// All words must match, in any case; only the searcher's channels; never deleted
/// messages; edits re-index; FTS syntax in the input is inert.
pub async fn words_case_membership_and_deletes(b: &Backend) {
    let store = &b.store;
    let (ann, bob, cat) = (user(store).await, user(store).await, user(store).await);
    let shared = group(store, ann.id, &[bob.id]).await.id;
    let secret = group(store, cat.id, &[]).await.id;
    let tok = token();
    let (m1, _) = send(
        store,
        shared,
        ann.id,
        &format!("Hello brave new World {tok}"),
    )
    .await;
    let (m2, _) = send(store, shared, bob.id, &format!("hello again, {tok}!")).await;
    let (m3, _) = send(store, secret, cat.id, &format!("hello {tok} secret")).await;
    let (m4, _) = send(store, shared, ann.id, &format!("doomed {tok} hello")).await;
    store.delete_message(m4.id, now_ms()).await.unwrap();

    let search = |user: protocol::UserId, text: String| async move {
        store
            .search(&SearchQuery {
                user: Some(user),
                text,
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap()
    };
    let (found, total) = search(ann.id, format!("{} HELLO", tok.to_uppercase())).await;
    assert_eq!(
        ids(&found),
        vec![m2.id, m1.id],
        "newest first, deleted never"
    );
    assert_eq!(total, 2);
    assert_eq!(
        found[1],
        store.message(m1.id).await.unwrap().unwrap().message
    );
    let (found, _) = search(bob.id, format!("world {tok}")).await;
    assert_eq!(ids(&found), vec![m1.id], "every word must match");
    let (found, total) = search(cat.id, format!("hello {tok}")).await;
    assert_eq!((ids(&found), total), (vec![m3.id], 1), "members only");
    let (found, _) = search(ann.id, format!("secret {tok}")).await;
    assert!(found.is_empty());
    let (found, _) = search(ann.id, format!("doomed {tok}")).await;
    assert!(found.is_empty(), "deleted messages are not found");
    let (found, _) = search(ann.id, format!("hel {tok}")).await;
    assert!(found.is_empty(), "whole words");

    store
        .edit_message(m1.id, &format!("Goodbye cruel planet {tok}"), now_ms())
        .await
        .unwrap();
    assert!(
        search(ann.id, format!("brave {tok}")).await.0.is_empty(),
        "old words gone"
    );
    assert_eq!(
        ids(&search(ann.id, format!("planet {tok}")).await.0),
        vec![m1.id]
    );

    for hostile in [
        "\"",
        "AND",
        "OR (",
        "col:x",
        "*",
        "NEAR(a b)",
        "^x",
        "a\"b",
        "-x",
        "'",
    ] {
        let (found, _) = search(ann.id, format!("{hostile} {tok}")).await;
        assert!(found.len() <= 2, "{hostile}: {found:?}");
    }
    let (found, total) = search(next_id(), format!("hello {tok}")).await;
    assert!(found.is_empty());
    assert_eq!(total, 0);
}

/// Channel, author, before/after and attachment filters; limit with the full total.
pub async fn filters_and_total(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let first = group(store, ann.id, &[bob.id]).await.id;
    let second = group(store, bob.id, &[ann.id]).await.id;
    let tok = token();
    let text = format!("report {tok}");
    let (a1, _) = send(store, first, ann.id, &text).await;
    let (b1, _) = send(store, first, bob.id, &text).await;
    let (a2, _) = send(store, second, ann.id, &text).await;
    let upload = AttachmentRecord {
        attachment: Attachment {
            id: next_id(),
            filename: "r.pdf".into(),
            content_type: "application/pdf".into(),
            size: 10,
            url: "/media/r.pdf".into(),
            width: None,
            height: None,
            thumbnail_url: None,
        },
        uploader_id: bob.id,
        message_id: None,
        created_at: now_ms(),
    };
    store.create_attachment(upload.clone()).await.unwrap();
    let (b2, _) = store
        .create_message(NewMessage {
            attachment_ids: vec![upload.attachment.id],
            ..new_message(second, bob.id, &text)
        })
        .await
        .unwrap();

    let base = SearchQuery {
        user: Some(ann.id),
        text: tok.clone(),
        limit: 50,
        ..Default::default()
    };
    let run = |query: SearchQuery| async move { store.search(&query).await.unwrap() };
    let (found, total) = run(base.clone()).await;
    assert_eq!((ids(&found), total), (vec![b2.id, a2.id, b1.id, a1.id], 4));
    let (found, total) = run(SearchQuery {
        limit: 2,
        ..base.clone()
    })
    .await;
    assert_eq!(
        (ids(&found), total),
        (vec![b2.id, a2.id], 4),
        "total ignores the limit"
    );
    let (found, _) = run(SearchQuery {
        channel_id: Some(first),
        ..base.clone()
    })
    .await;
    assert_eq!(ids(&found), vec![b1.id, a1.id]);
    let (found, _) = run(SearchQuery {
        author_id: Some(ann.id),
        ..base.clone()
    })
    .await;
    assert_eq!(ids(&found), vec![a2.id, a1.id]);
    let (found, _) = run(SearchQuery {
        before: Some(a2.id),
        ..base.clone()
    })
    .await;
    assert_eq!(ids(&found), vec![b1.id, a1.id]);
    let (found, _) = run(SearchQuery {
        after: Some(b1.id),
        ..base.clone()
    })
    .await;
    assert_eq!(ids(&found), vec![b2.id, a2.id]);
    let (found, total) = run(SearchQuery {
        has_attachment: true,
        ..base.clone()
    })
    .await;
    assert_eq!((ids(&found), total), (vec![b2.id], 1));
    assert_eq!(found[0].attachments, vec![upload.attachment.clone()]);
    let (found, _) = run(SearchQuery {
        channel_id: Some(second),
        author_id: Some(bob.id),
        after: Some(a1.id),
        ..base.clone()
    })
    .await;
    assert_eq!(ids(&found), vec![b2.id]);
    // Filters alone (no words) search by filters.
    let (found, total) = run(SearchQuery {
        text: "  ".into(),
        channel_id: Some(first),
        after: Some(a1.id),
        ..base.clone()
    })
    .await;
    assert_eq!((ids(&found), total), (vec![b1.id], 1));
}

/// With words, the most relevant message comes first whatever its age; ties (the same
/// text) come newest first; an exhausted time budget is `Unavailable`, never a partial
/// or wrong answer.
pub async fn ranked_by_relevance_then_recency(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let channel = group(store, ann.id, &[]).await.id;
    let tok = token();
    let (dense, _) = send(store, channel, ann.id, &format!("{tok} apple apple apple")).await;
    let (tie_old, _) = send(
        store,
        channel,
        ann.id,
        &format!("{tok} apple pie with cream and a cherry on top"),
    )
    .await;
    let (tie_new, _) = send(
        store,
        channel,
        ann.id,
        &format!("{tok} apple pie with cream and a cherry on top"),
    )
    .await;
    let query = SearchQuery {
        user: Some(ann.id),
        text: format!("apple {tok}"),
        limit: 10,
        time_budget: Some(std::time::Duration::from_secs(5)),
        ..Default::default()
    };
    let (found, total) = store.search(&query).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(ids(&found), vec![dense.id, tie_new.id, tie_old.id]);
    // Filters alone: newest first.
    let (found, _) = store
        .search(&SearchQuery {
            text: String::new(),
            channel_id: Some(channel),
            ..query.clone()
        })
        .await
        .unwrap();
    assert_eq!(ids(&found), vec![tie_new.id, tie_old.id, dense.id]);

    for i in 0..200 {
        send(store, channel, ann.id, &format!("{tok} filler {i} apple")).await;
    }
    let err = store
        .search(&SearchQuery {
            time_budget: Some(std::time::Duration::ZERO),
            ..query
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, storage::StoreError::Unavailable(_)),
        "{err:?}"
    );
}
