//! Shared fixture of the API tests: the router over an in-memory SQLite store and a
//! local bus, driven with `Router::oneshot`.

#![allow(dead_code)] // Each test binary uses a different part.
#![allow(clippy::unwrap_used)] // A test fixture: a failure here is a failed test.

use std::sync::Arc;

use api::{ApiConfig, ApiState};
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use bus::{LocalBus, Publication, Subscription};
use protocol::events::client::SendMessage;
use protocol::{ChannelId, Message, UserId};
use serde_json::{json, Value};
use service::{Chat, ChatConfig, PasswordParams};
use storage::backend::sqlite::SqliteStore;
use tower::ServiceExt;

pub struct TestApp {
    pub app: Router,
    pub chat: Chat,
    pub rx: Subscription,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<none>")
    }
}

pub fn api_config() -> ApiConfig {
    ApiConfig {
        register_per_min: 1000,
        ..ApiConfig::default()
    }
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_config(api_config())
    }

    pub fn with_config(config: ApiConfig) -> Self {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let bus = Arc::new(LocalBus::new());
        let rx = bus.watch_all();
        let chat = Chat::new(
            store,
            bus,
            ChatConfig {
                password: PasswordParams::insecure_fast(),
                ..ChatConfig::default()
            },
        );
        let app = api::app(ApiState::new(chat.clone(), config));
        Self { app, chat, rx }
    }

    /// Sends a raw request.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A JSON request with an optional bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Registers a user through the API: (id, token).
    pub async fn register(&self, username: &str) -> (UserId, String) {
        let answer = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({"username": username, "password": "password123"})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        let id: UserId = answer.body["user"]["id"].as_str().unwrap().parse().unwrap();
        let token = answer.body["token"].as_str().unwrap().to_owned();
        (id, token)
    }

    /// Creates a group through the API; its publications are drained.
    pub async fn group(&mut self, token: &str, visibility: &str, members: &[UserId]) -> ChannelId {
        let members: Vec<String> = members.iter().map(ToString::to_string).collect();
        let answer = self
            .call(
                Method::POST,
                "/api/chat/channels",
                Some(token),
                Some(json!({"name": "group", "visibility": visibility, "member_ids": members})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        self.drain();
        answer.body["channel"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Sends a message through the service (the API has no send route).
    pub async fn message(&self, user: UserId, channel: ChannelId, content: &str) -> Message {
        self.chat
            .send_message(
                user,
                SendMessage {
                    channel_id: channel,
                    content: content.to_owned(),
                    nonce: None,
                    reply_to: None,
                    attachment_ids: None,
                },
            )
            .await
            .unwrap()
    }

    pub fn drain(&mut self) -> Vec<Arc<Publication>> {
        let mut out = Vec::new();
        while let Ok(batch) = self.rx.rx.try_recv() {
            out.extend(batch.iter().cloned());
        }
        out
    }
}
