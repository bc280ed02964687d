//! `GET /api/chat/search`: message search over the caller's channels.

pub mod messages;
