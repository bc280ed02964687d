//! `/api/chat/channels...`: groups, their members, history, receipts and mutes.

pub mod add_members;
pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod members;
pub mod messages;
pub mod mute;
pub mod public;
pub mod receipts;
pub mod remove_member;
pub mod unmute;
pub mod update;
