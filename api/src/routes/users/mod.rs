//! `/api/users/me` and `/api/chat/users/...`: the caller's profile, user search and
//! blocks.

pub mod block;
pub mod blocked;
pub mod me;
pub mod search;
pub mod unblock;
pub mod update_me;
