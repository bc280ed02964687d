//! `/api/chat/dm/...`: direct messages.

pub mod create;
