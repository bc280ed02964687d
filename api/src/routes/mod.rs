//! Every route of API.md, one handler per file under `routes/<resource>/<action>.rs`,
//! and the answers for unknown routes (404) and wrong methods (405) in our error body.
//!
//! Uploads and downloads are in `media/` (the upload route lifts the 1 MiB body limit
//! and caps the body itself, as it streams), search in `search/`.

pub mod auth;
pub mod bodies;
pub mod channels;
pub mod dm;
pub mod media;
pub mod messages;
pub mod search;
pub mod system;
pub mod users;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post, put};
use axum::Router;
use protocol::ErrorCode;

use crate::error::ApiError;
use crate::state::ApiState;

/// The routes, without the outer layers (body limit, metrics).
pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/healthz", get(system::healthz::healthz))
        .route("/readyz", get(system::readyz::readyz))
        .route("/metrics", get(system::metrics::metrics))
        .route("/api/openapi.json", get(system::openapi::openapi))
        .route("/api/auth/register", post(auth::register::register))
        .route("/api/auth/login", post(auth::login::login))
        .route(
            "/api/users/me",
            get(users::me::me).patch(users::update_me::update_me),
        )
        .route("/api/chat/users/search", get(users::search::search))
        .route("/api/chat/users/blocked", get(users::blocked::blocked))
        .route(
            "/api/chat/users/{id}/block",
            put(users::block::block).delete(users::unblock::unblock),
        )
        .route(
            "/api/chat/channels",
            get(channels::list::list).post(channels::create::create),
        )
        .route("/api/chat/channels/public", get(channels::public::public))
        .route(
            "/api/chat/channels/{id}",
            get(channels::get::get)
                .patch(channels::update::update)
                .delete(channels::delete::delete),
        )
        .route(
            "/api/chat/channels/{id}/members",
            get(channels::members::members).post(channels::add_members::add_members),
        )
        .route(
            "/api/chat/channels/{id}/members/{user_id}",
            axum::routing::delete(channels::remove_member::remove_member),
        )
        .route(
            "/api/chat/channels/{id}/messages",
            get(channels::messages::messages),
        )
        .route(
            "/api/chat/channels/{id}/receipts",
            get(channels::receipts::receipts),
        )
        .route(
            "/api/chat/channels/{id}/mute",
            put(channels::mute::mute).delete(channels::unmute::unmute),
        )
        .route("/api/chat/messages/{id}/edits", get(messages::edits::edits))
        .route(
            "/api/chat/messages/{id}/thread",
            post(messages::thread::thread),
        )
        .route("/api/chat/dm/create", post(dm::create::create))
        .route(
            "/api/chat/media/upload",
            post(media::upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/media/{id}/thumbnail", get(media::thumbnail::thumbnail))
        .route("/media/{id}/{filename}", get(media::download::download))
        .route("/api/chat/search", get(search::messages::search))
        // The web client when configured, else (and for API paths) the JSON 404.
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed(method: Method) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = ApiError::new(
        ErrorCode::BadRequest,
        format!("method {method} is not allowed on this route"),
    )
    .into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}
