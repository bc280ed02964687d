//! Attachments: attached once, only by the uploader; a bad list stores nothing.

use protocol::{Attachment, AttachmentId, UserId};
use storage::{AttachmentRecord, NewMessage, Page, StoreError};

use crate::support::{group, new_message, next_id, now_ms, offset, user, Backend};

fn record(uploader: UserId, size: u64) -> AttachmentRecord {
    let id: AttachmentId = next_id();
    AttachmentRecord {
        attachment: Attachment {
            id,
            filename: format!("file-{id}.png"),
            content_type: "image/png".into(),
            size,
            url: format!("/media/{id}/file-{id}.png"),
            width: Some(640),
            height: Some(480),
            thumbnail_url: Some(format!("/media/{id}/thumbnail")),
        },
        uploader_id: uploader,
        message_id: None,
        created_at: now_ms(),
    }
}

/// Upload, quota, attach in order; someone else's, unknown, duplicate or already
/// attached ids are `Invalid` naming `attachment_ids`, and nothing is stored.
pub async fn attach_once_by_uploader(b: &Backend) {
    let store = &b.store;
    let (ann, bob) = (user(store).await, user(store).await);
    let channel = group(store, ann.id, &[bob.id]).await.id;
    let first = record(ann.id, 100);
    let second = AttachmentRecord {
        attachment: Attachment {
            width: None,
            height: None,
            thumbnail_url: None,
            ..record(ann.id, 50).attachment
        },
        ..record(ann.id, 50)
    };
    let bobs = record(bob.id, 7);
    for r in [&first, &second, &bobs] {
        store.create_attachment(r.clone()).await.unwrap();
    }
    let err = store.create_attachment(first.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.attachment(first.attachment.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.attachment(next_id()).await.unwrap(), None);
    assert_eq!(store.uploaded_bytes(ann.id).await.unwrap(), 150);
    assert_eq!(store.uploaded_bytes(bob.id).await.unwrap(), 7);
    assert_eq!(store.uploaded_bytes(next_id()).await.unwrap(), 0);

    let with = |ids: Vec<AttachmentId>| NewMessage {
        attachment_ids: ids,
        ..new_message(channel, ann.id, "files")
    };
    let bad_lists = [
        vec![first.attachment.id, bobs.attachment.id],
        vec![next_id()],
        vec![first.attachment.id, first.attachment.id],
    ];
    for ids in bad_lists {
        let spec = with(ids);
        let message_id = spec.id;
        let err = store.create_message(spec).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid(text) if text.contains("attachment_ids")),
            "{err:?}"
        );
        assert_eq!(store.message(message_id).await.unwrap(), None);
        assert_eq!(offset(store, channel).await, 0);
        assert_eq!(
            store
                .attachment(first.attachment.id)
                .await
                .unwrap()
                .unwrap()
                .message_id,
            None
        );
    }

    let (sent, at) = store
        .create_message(with(vec![second.attachment.id, first.attachment.id]))
        .await
        .unwrap();
    assert_eq!(at, 1);
    assert_eq!(
        sent.attachments,
        vec![second.attachment.clone(), first.attachment.clone()]
    );
    let stored = store
        .attachment(first.attachment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.message_id, Some(sent.id));
    let page = store.messages(channel, Page::Latest, 10).await.unwrap();
    assert_eq!(
        page[0].attachments, sent.attachments,
        "the order the sender gave"
    );
    assert_eq!(store.message(sent.id).await.unwrap().unwrap().message, sent);

    let again = with(vec![first.attachment.id]);
    let again_id = again.id;
    let err = store.create_message(again).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(_)),
        "already attached: {err:?}"
    );
    assert_eq!(store.message(again_id).await.unwrap(), None);
    assert_eq!(offset(store, channel).await, 1);
}
