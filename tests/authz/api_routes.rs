//! The route table: one [`Route`] per operation of the OpenAPI document, with a
//! concrete request that would succeed for the owner (alice) and whether it is public.
//! The coverage check compares this table with the served document both ways.

use serde_json::{json, Value};

use crate::world::{World, ATTACHMENT_NAME};

/// Who may call a route at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with or without a token; answers this status.
    Public(u16),
    /// A valid bearer token is required (else 401 `UNAUTHORIZED`).
    Authenticated,
}

/// One OpenAPI operation and a request that would succeed for its owner (alice), so
/// that a refusal can only come from who is calling.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: &'static str,
    pub template: &'static str,
    pub path: String,
    pub body: Option<Value>,
    pub access: Access,
}

/// Every operation of the API, keyed as the OpenAPI document keys them.
pub fn routes(w: &World) -> Vec<Route> {
    use Access::{Authenticated as Auth, Public};
    let (private, bob, msg) = (w.private, w.bob.id, w.alice_private);
    let r = |method, template, path: String, body: Option<Value>, access| Route {
        method,
        template,
        path,
        body,
        access,
    };
    vec![
        r("GET", "/healthz", "/healthz".into(), None, Public(200)),
        r("GET", "/readyz", "/readyz".into(), None, Public(200)),
        r("GET", "/metrics", "/metrics".into(), None, Public(200)),
        r(
            "GET",
            "/api/openapi.json",
            "/api/openapi.json".into(),
            None,
            Public(200),
        ),
        r(
            "POST",
            "/api/auth/register",
            "/api/auth/register".into(),
            Some(json!({"username": "newcomer", "password": "correct horse"})),
            Public(201),
        ),
        r(
            "POST",
            "/api/auth/login",
            "/api/auth/login".into(),
            Some(json!({"username": "alice", "password": "correct horse"})),
            Public(200),
        ),
        r("GET", "/api/users/me", "/api/users/me".into(), None, Auth),
        r(
            "PATCH",
            "/api/users/me",
            "/api/users/me".into(),
            Some(json!({"display_name": "Mallory"})),
            Auth,
        ),
        r(
            "GET",
            "/api/chat/users/search",
            "/api/chat/users/search?q=a".into(),
            None,
            Auth,
        ),
        r(
            "GET",
            "/api/chat/users/blocked",
            "/api/chat/users/blocked".into(),
            None,
            Auth,
        ),
        r(
            "PUT",
            "/api/chat/users/{id}/block",
            format!("/api/chat/users/{bob}/block"),
            None,
            Auth,
        ),
        r(
            "DELETE",
            "/api/chat/users/{id}/block",
            format!("/api/chat/users/{bob}/block"),
            None,
            Auth,
        ),
        r(
            "GET",
            "/api/chat/channels",
            "/api/chat/channels".into(),
            None,
            Auth,
        ),
        r(
            "POST",
            "/api/chat/channels",
            "/api/chat/channels".into(),
            Some(json!({"name": "sneaky"})),
            Auth,
        ),
        r(
            "GET",
            "/api/chat/channels/public",
            "/api/chat/channels/public".into(),
            None,
            Auth,
        ),
        r(
            "GET",
            "/api/chat/channels/{id}",
            format!("/api/chat/channels/{private}"),
            None,
            Auth,
        ),
        r(
            "PATCH",
            "/api/chat/channels/{id}",
            format!("/api/chat/channels/{private}"),
            Some(json!({"name": "taken over"})),
            Auth,
        ),
        r(
            "DELETE",
            "/api/chat/channels/{id}",
            format!("/api/chat/channels/{private}"),
            None,
            Auth,
        ),
        r(
            "GET",
            "/api/chat/channels/{id}/members",
            format!("/api/chat/channels/{private}/members"),
            None,
            Auth,
        ),
        r(
            "POST",
            "/api/chat/channels/{id}/members",
            format!("/api/chat/channels/{private}/members"),
            Some(json!({"user_ids": [w.frank.id.to_string()]})),
            Auth,
        ),
        r(
            "DELETE",
            "/api/chat/channels/{id}/members/{user_id}",
            format!("/api/chat/channels/{private}/members/{bob}"),
            None,
            Auth,
        ),
        r(
            "GET",
            "/api/chat/channels/{id}/messages",
            format!("/api/chat/channels/{private}/messages"),
            None,
            Auth,
        ),
        r(
            "GET",
            "/api/chat/channels/{id}/receipts",
            format!("/api/chat/channels/{private}/receipts"),
            None,
            Auth,
        ),
        r(
            "PUT",
            "/api/chat/channels/{id}/mute",
            format!("/api/chat/channels/{private}/mute"),
            Some(json!({})),
            Auth,
        ),
        r(
            "DELETE",
            "/api/chat/channels/{id}/mute",
            format!("/api/chat/channels/{private}/mute"),
            None,
            Auth,
        ),
        r(
            "GET",
            "/api/chat/messages/{id}/edits",
            format!("/api/chat/messages/{msg}/edits"),
            None,
            Auth,
        ),
        r(
            "POST",
            "/api/chat/messages/{id}/thread",
            format!("/api/chat/messages/{msg}/thread"),
            Some(json!({"name": "side talk"})),
            Auth,
        ),
        r(
            "POST",
            "/api/chat/dm/create",
            "/api/chat/dm/create".into(),
            Some(json!({"user_id": w.frank.id.to_string()})),
            Auth,
        ),
        // The token is checked before the (multipart) body is read.
        r(
            "POST",
            "/api/chat/media/upload",
            "/api/chat/media/upload".into(),
            None,
            Auth,
        ),
        // Downloads take no token (API.md): public by the attachment's id and filename,
        // even for a private channel's file.
        r(
            "GET",
            "/media/{id}/{filename}",
            format!("/media/{}/{ATTACHMENT_NAME}", w.attachment),
            None,
            Public(200),
        ),
        r(
            "GET",
            "/media/{id}/thumbnail",
            format!("/media/{}/thumbnail", w.attachment),
            None,
            Public(200),
        ),
        r(
            "GET",
            "/api/chat/search",
            "/api/chat/search?q=a".into(),
            None,
            Auth,
        ),
    ]
}
