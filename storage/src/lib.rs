//! Layer4 storage: everything the gateway and the API keep.
//!
//! [`Store`] is the sum of one trait per aggregate ([`ops`]); callers hold an
//! `Arc<dyn Store>`. Backends live in [`backend`]: SQLite (embedded, the single-node
//! default), PostgreSQL (several nodes, one database) and PostgreSQL+ScyllaDB (history
//! in ScyllaDB). One conformance suite (`tests/conformance.rs`) runs on each.
//!
//! Channel events (messages, edits, deletes, reactions, joins, leaves) move the channel
//! offset in the same transaction as the write and return it, so offsets survive
//! restarts. [`EventStore::append_events`] writes many such events in one transaction
//! (group commit). Storage does not check permissions: the service layer does.

// This crate's own tests exercise the raw calls that clippy.toml bans elsewhere.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod backend;
pub mod error;
pub mod ops;

use std::sync::Arc;

pub use error::{Result, StoreError};
pub use ops::attachments::{AttachmentRecord, AttachmentStore};
pub use ops::blocks::BlockStore;
pub use ops::channels::{ChannelRecord, ChannelStore, NewChannel};
pub use ops::events::{EventStore, EventWrite, Outcome};
pub use ops::members::MemberStore;
pub use ops::messages::{Edit, MessageRecord, MessageStore, NewMessage, Page};
pub use ops::mutes::MuteStore;
pub use ops::reactions::ReactionStore;
pub use ops::receipts::ReceiptStore;
pub use ops::search::{SearchQuery, SearchStore};
pub use ops::session::{SessionStart, SessionStore};
pub use ops::users::{NewUser, UserStore};

/// Everything a backend provides.
#[async_trait::async_trait]
pub trait Store:
    UserStore
    + ChannelStore
    + MemberStore
    + MessageStore
    + EventStore
    + ReactionStore
    + ReceiptStore
    + BlockStore
    + MuteStore
    + AttachmentStore
    + SearchStore
    + SessionStore
    + Send
    + Sync
{
    /// Whether the backend answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Each service the backend depends on, by name, and whether it answers
    /// (`/readyz` reports them one by one). One, `storage`, unless a backend has more.
    async fn dependencies(&self) -> Vec<(&'static str, Result<()>)> {
        vec![("storage", self.ping().await)]
    }
}

/// A shared handle to a backend.
pub type DynStore = Arc<dyn Store>;
