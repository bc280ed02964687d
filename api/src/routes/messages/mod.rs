//! `/api/chat/messages/{id}/...`: a message's edit history and threads.

pub mod edits;
pub mod thread;
