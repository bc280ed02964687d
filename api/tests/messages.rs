//! Message edit history and threads; DMs.

mod common;

use axum::http::{Method, StatusCode};
use bus::Target;
use common::TestApp;
use protocol::events::client::EditMessage;
use protocol::events::ServerEvent;
use serde_json::json;

#[tokio::test]
async fn edits_lists_previous_versions_to_members_only() {
    let mut app = TestApp::new();
    let (ada_id, ada) = app.register("ada").await;
    let (_, bob) = app.register("bob").await;
    let ch = app.group(&ada, "public", &[]).await;
    let m = app.message(ada_id, ch, "v1").await;
    for content in ["v2", "v3"] {
        app.chat
            .edit_message(
                ada_id,
                EditMessage {
                    message_id: m.id,
                    content: content.to_owned(),
                },
            )
            .await
            .unwrap();
    }
    let path = format!("/api/chat/messages/{}/edits", m.id);
    let edits = app.get(&path, &ada).await;
    assert_eq!(edits.status, StatusCode::OK);
    let list = edits.body["edits"].as_array().unwrap();
    let contents: Vec<&str> = list
        .iter()
        .map(|e| e["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["v1", "v2"]);
    assert!(list[0]["edited_at"].as_u64().unwrap() <= list[1]["edited_at"].as_u64().unwrap());
    assert_eq!(app.get(&path, &bob).await.status, StatusCode::FORBIDDEN);
    let missing = app.get("/api/chat/messages/99999/edits", &ada).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn thread_is_created_from_a_message() {
    let mut app = TestApp::new();
    let (ada_id, ada) = app.register("ada").await;
    let (_, bob) = app.register("bob").await;
    let ch = app.group(&ada, "private", &[]).await;
    let m = app.message(ada_id, ch, "root").await;
    app.drain();
    let path = format!("/api/chat/messages/{}/thread", m.id);
    let created = app
        .call(
            Method::POST,
            &path,
            Some(&ada),
            Some(json!({"name": "topic"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let thread = &created.body["channel"];
    assert_eq!(thread["kind"], "thread");
    assert_eq!(thread["parent_id"], ch.to_string());
    assert_eq!(thread["root_message_id"], m.id.to_string());
    let published = app.drain();
    assert_eq!(published[0].target, Target::Users(vec![ada_id]));
    assert!(matches!(published[0].event, ServerEvent::ChannelCreated(_)));
    let hidden = app
        .call(
            Method::POST,
            &path,
            Some(&bob),
            Some(json!({"name": "mine"})),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let no_name = app
        .call(Method::POST, &path, Some(&ada), Some(json!({})))
        .await;
    assert_eq!(no_name.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn dm_is_created_once_and_refused_when_blocked() {
    let mut app = TestApp::new();
    let (ada_id, ada) = app.register("ada").await;
    let (bob_id, bob) = app.register("bob").await;
    let body = json!({"user_id": bob_id.to_string()});
    let first = app
        .call(
            Method::POST,
            "/api/chat/dm/create",
            Some(&ada),
            Some(body.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["channel"]["kind"], "dm");
    assert_eq!(first.body["channel"]["name"], "bob");
    let published = app.drain();
    assert_eq!(published.len(), 2, "CHANNEL_CREATED to each of the two");
    assert_eq!(published[1].target, Target::Users(vec![bob_id]));
    let again = app
        .call(
            Method::POST,
            "/api/chat/dm/create",
            Some(&bob),
            Some(json!({"user_id": ada_id.to_string()})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["channel"]["id"], first.body["channel"]["id"]);
    assert_eq!(again.body["channel"]["name"], "ada");

    let (_, cy) = app.register("cyd").await;
    let cy_id = app.get("/api/users/me", &cy).await.body["user"]["id"].clone();
    let block = format!("/api/chat/users/{}/block", cy_id.as_str().unwrap());
    app.call(Method::PUT, &block, Some(&ada), None).await;
    let blocked = app
        .call(
            Method::POST,
            "/api/chat/dm/create",
            Some(&cy),
            Some(json!({"user_id": ada_id.to_string()})),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert_eq!(blocked.code(), "BLOCKED");
    let unknown = app
        .call(
            Method::POST,
            "/api/chat/dm/create",
            Some(&ada),
            Some(json!({"user_id": "77"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let wrong_type = app
        .call(
            Method::POST,
            "/api/chat/dm/create",
            Some(&ada),
            Some(json!({"user_id": true})),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
}
