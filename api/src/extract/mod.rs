//! Request extractors whose rejections are our JSON error body, never axum's plain
//! text: a bad body, path or query is a `400` naming the field, not a `422` or a `500`.

pub mod auth;
pub mod client_ip;
pub mod json;
pub mod path;
pub mod query;

pub use auth::Auth;
pub use client_ip::{AuthAttempt, ClientIp};
pub use json::{Json, LateJson, OptionalJson};
pub use path::Path;
pub use query::Params;
