//! Channels, members, history, receipts and mutes, with the events they publish.

mod common;

use axum::http::{Method, StatusCode};
use bus::Target;
use common::TestApp;
use protocol::events::ServerEvent;
use protocol::UserId;
use serde_json::{json, Value};

/// The `key` of every element of a JSON array (missing ones as empty strings, which
/// then fail the comparison).
fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| v[key].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_publishes_channel_created_to_each_member() {
    let mut app = TestApp::new();
    let (ada, token) = app.register("ada").await;
    let (bob, _) = app.register("bob").await;
    let answer = app
        .call(
            Method::POST,
            "/api/chat/channels",
            Some(&token),
            Some(json!({"name": "team", "member_ids": [bob.to_string()]})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let channel = &answer.body["channel"];
    assert_eq!(channel["kind"], "group");
    assert_eq!(channel["visibility"], "private");
    assert_eq!(channel["member_count"], 2);
    assert_eq!(channel["unread_count"], 0);
    let published = app.drain();
    assert_eq!(published.len(), 1);
    let Target::Users(users) = &published[0].target else {
        panic!("users target expected");
    };
    assert!(users.contains(&ada) && users.contains(&bob));
    assert!(
        matches!(&published[0].event, ServerEvent::ChannelCreated(d) if d.channel.name == "team")
    );

    let list = app.get("/api/chat/channels", &token).await;
    assert_eq!(
        ids(&list.body["channels"], "id"),
        [channel["id"].as_str().unwrap()]
    );
    let bad = app
        .call(
            Method::POST,
            "/api/chat/channels",
            Some(&token),
            Some(json!({"name": 1})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = app
        .call(
            Method::POST,
            "/api/chat/channels",
            Some(&token),
            Some(json!({"name": "x", "visibility": "secret"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("visibility"));
}

#[tokio::test]
async fn visibility_404_for_private_403_for_public_non_members() {
    let mut app = TestApp::new();
    let (_, ada) = app.register("ada").await;
    let (_, bob) = app.register("bob").await;
    let private = app.group(&ada, "private", &[]).await;
    let public = app.group(&ada, "public", &[]).await;
    let get = app
        .get(&format!("/api/chat/channels/{private}"), &bob)
        .await;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    assert_eq!(get.code(), "NOT_FOUND");
    let get = app.get(&format!("/api/chat/channels/{public}"), &bob).await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.body["channel"]["visibility"], "public");
    for suffix in ["messages", "members", "receipts"] {
        let answer = app
            .get(&format!("/api/chat/channels/{public}/{suffix}"), &bob)
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{suffix}");
        assert_eq!(answer.code(), "FORBIDDEN");
        let answer = app
            .get(&format!("/api/chat/channels/{private}/{suffix}"), &bob)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{suffix}");
    }
    let listed = app.get("/api/chat/channels/public?q=gro", &bob).await;
    assert_eq!(ids(&listed.body["channels"], "id"), [public.to_string()]);
    let bad = app.get("/api/chat/channels/abc", &bob).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "BAD_REQUEST");
}

#[tokio::test]
async fn update_and_delete_check_roles_and_publish() {
    let mut app = TestApp::new();
    let (_, ada) = app.register("ada").await;
    let (bob_id, bob) = app.register("bob").await;
    let ch = app.group(&ada, "private", &[bob_id]).await;
    let path = format!("/api/chat/channels/{ch}");
    let by_member = app
        .call(
            Method::PATCH,
            &path,
            Some(&bob),
            Some(json!({"name": "mine"})),
        )
        .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let renamed = app
        .call(
            Method::PATCH,
            &path,
            Some(&ada),
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["channel"]["name"], "renamed");
    // One CHANNEL_UPDATED per distinct view: both members see the same one.
    let published = app.drain();
    assert_eq!(published.len(), 1);
    assert!(
        matches!(&published[0].target, bus::Target::Users(users) if users.len() == 2),
        "{:?}",
        published[0].target
    );
    assert!(published.iter().all(
        |p| matches!(&p.event, ServerEvent::ChannelUpdated(d) if d.channel.name == "renamed")
    ));

    assert_eq!(
        app.call(Method::DELETE, &path, Some(&bob), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let deleted = app.call(Method::DELETE, &path, Some(&ada), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let published = app.drain();
    assert!(matches!(published[0].event, ServerEvent::ChannelDeleted(d) if d.channel_id == ch));
    let Target::Users(users) = &published[0].target else {
        panic!("users target expected");
    };
    assert_eq!(users.len(), 2);
    assert_eq!(app.get(&path, &ada).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_add_list_remove_with_events() {
    let mut app = TestApp::new();
    let (ada_id, ada) = app.register("ada").await;
    let (bob_id, bob) = app.register("bob").await;
    let (cy_id, _) = app.register("cyd").await;
    let ch = app.group(&ada, "private", &[bob_id]).await;
    let path = format!("/api/chat/channels/{ch}/members");
    let by_member = app
        .call(
            Method::POST,
            &path,
            Some(&bob),
            Some(json!({"user_ids": [cy_id.to_string()]})),
        )
        .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let added = app
        .call(
            Method::POST,
            &path,
            Some(&ada),
            Some(json!({"user_ids": [cy_id.to_string(), bob_id.to_string()]})),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    assert_eq!(added.body, json!({"added": 1}));
    let published = app.drain();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0].offset, Some(1));
    assert!(matches!(&published[0].event, ServerEvent::UserJoined(j) if j.user.id == cy_id));
    assert_eq!(published[1].target, Target::Users(vec![cy_id]));
    assert!(matches!(&published[1].event, ServerEvent::ChannelCreated(d) if d.channel.id == ch));

    let listed = app.get(&format!("{path}?limit=2"), &ada).await;
    let members = listed.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert!(members
        .iter()
        .any(|m| m["role"] == "owner" && m["user"]["id"] == ada_id.to_string()));
    let after = members[1]["user"]["id"].as_str().unwrap();
    let rest = app.get(&format!("{path}?after={after}"), &ada).await;
    assert_eq!(rest.body["members"].as_array().unwrap().len(), 1);

    let remove = |who: UserId| format!("/api/chat/channels/{ch}/members/{who}");
    assert_eq!(
        app.call(Method::DELETE, &remove(cy_id), Some(&bob), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::DELETE, &remove(cy_id), Some(&ada), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let published = app.drain();
    assert!(matches!(published[0].event, ServerEvent::UserLeft(u) if u.user_id == cy_id));
    assert_eq!(published[0].offset, Some(2));
    // Oneself: leaving.
    assert_eq!(
        app.call(Method::DELETE, &remove(bob_id), Some(&bob), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let bad = app
        .call(
            Method::DELETE,
            &format!("/api/chat/channels/{ch}/members/x1"),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("user_id"));
}

#[tokio::test]
async fn messages_pages_and_validates_parameters() {
    let mut app = TestApp::new();
    let (ada_id, ada) = app.register("ada").await;
    let ch = app.group(&ada, "private", &[]).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(
            app.message(ada_id, ch, &format!("m{i}"))
                .await
                .id
                .to_string(),
        );
    }
    let path = format!("/api/chat/channels/{ch}/messages");
    let latest = app.get(&format!("{path}?limit=2"), &ada).await;
    assert_eq!(latest.status, StatusCode::OK);
    assert_eq!(
        ids(&latest.body["messages"], "id"),
        [sent[4].clone(), sent[3].clone()]
    );
    let before = app
        .get(&format!("{path}?before={}&limit=10", sent[2]), &ada)
        .await;
    assert_eq!(
        ids(&before.body["messages"], "id"),
        [sent[1].clone(), sent[0].clone()]
    );
    let around = app
        .get(&format!("{path}?around={}&limit=3", sent[2]), &ada)
        .await;
    assert_eq!(
        ids(&around.body["messages"], "id"),
        [sent[3].clone(), sent[2].clone(), sent[1].clone()]
    );
    for bad in ["limit=0", "limit=101", "before=1&after=2", "around=abc"] {
        let answer = app.get(&format!("{path}?{bad}"), &ada).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.code(), "BAD_REQUEST");
    }
}

#[tokio::test]
async fn receipts_and_mutes() {
    let mut app = TestApp::new();
    let (ada_id, ada) = app.register("ada").await;
    let (bob_id, bob) = app.register("bob").await;
    let ch = app.group(&ada, "private", &[bob_id]).await;
    let m = app.message(ada_id, ch, "hello").await;
    app.chat
        .mark_read(
            bob_id,
            protocol::events::client::MarkAsRead {
                channel_id: ch,
                message_id: m.id,
            },
        )
        .await
        .unwrap();
    let receipts = app
        .get(&format!("/api/chat/channels/{ch}/receipts"), &ada)
        .await;
    assert_eq!(
        receipts.body,
        json!({"receipts": [{"user_id": bob_id.to_string(), "message_id": m.id.to_string()}]})
    );
    app.drain();

    let mute = format!("/api/chat/channels/{ch}/mute");
    let muted = app.call(Method::PUT, &mute, Some(&bob), None).await;
    assert_eq!(muted.status, StatusCode::NO_CONTENT);
    let seen = app.get(&format!("/api/chat/channels/{ch}"), &bob).await;
    assert_eq!(seen.body["channel"]["muted"], true);
    assert!(seen.body["channel"].get("muted_until").is_none());
    let until = app
        .call(
            Method::PUT,
            &mute,
            Some(&bob),
            Some(json!({"until": 4_102_444_800_000u64})),
        )
        .await;
    assert_eq!(until.status, StatusCode::NO_CONTENT);
    let seen = app.get(&format!("/api/chat/channels/{ch}"), &bob).await;
    assert_eq!(seen.body["channel"]["muted_until"], 4_102_444_800_000u64);
    let published = app.drain();
    assert!(published
        .iter()
        .all(|p| p.target == Target::Users(vec![bob_id])));
    let unmuted = app.call(Method::DELETE, &mute, Some(&bob), None).await;
    assert_eq!(unmuted.status, StatusCode::NO_CONTENT);
    let seen = app.get(&format!("/api/chat/channels/{ch}"), &bob).await;
    assert_eq!(seen.body["channel"]["muted"], false);
    let bad = app
        .call(
            Method::PUT,
            &mute,
            Some(&bob),
            Some(json!({"until": "soon"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let outsider = app.register("cyd").await.1;
    assert_eq!(
        app.call(Method::PUT, &mute, Some(&outsider), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
