//! Fixtures for the checks: the backend handle, fresh ids, and builders for users,
//! channels and messages.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use protocol::{ChannelId, ChannelKind, Id, Message, User, UserId, Visibility};
use storage::{ChannelRecord, DynStore, NewChannel, NewMessage, NewUser};

/// Reopens a backend on the same data (file-backed and server backends).
pub type Reopen = Box<dyn Fn() -> DynStore + Send + Sync>;

/// A backend under test.
pub struct Backend {
    /// The store.
    pub store: DynStore,
    reopen: Option<Reopen>,
    _keep: Option<Box<dyn Any + Send + Sync>>,
}

impl Backend {
    /// A backend; `reopen` is `None` when its data does not outlive the store.
    pub fn new(store: DynStore, reopen: Option<Reopen>) -> Self {
        Self {
            store,
            reopen,
            _keep: None,
        }
    }

    /// Keeps `value` (a temporary folder) alive as long as the backend.
    pub fn keep(mut self, value: impl Any + Send + Sync) -> Self {
        self._keep = Some(Box::new(value));
        self
    }

    /// A new store on the same data, if the backend can reopen.
    pub fn reopen(&self) -> Option<DynStore> {
        self.reopen.as_ref().map(|reopen| reopen())
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A fresh id, increasing across calls (so message ids sort by creation), unique
/// across tests and runs (seeded from the clock), below 2^63.
pub fn next_id<M>() -> Id<M> {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU64::new(now_ms() << 20));
    Id::new(next.fetch_add(1, Ordering::Relaxed))
}

/// A short token unique to this call, for names that must not collide with other
/// tests' data in a shared database.
pub fn token() -> String {
    format!("t{}", next_id::<()>().get())
}

/// Creates a user named `{token}{suffix}` with the given display name.
pub async fn user_named(store: &DynStore, username: &str, display_name: &str) -> User {
    store
        .create_user(NewUser {
            id: next_id(),
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            created_at: now_ms(),
        })
        .await
        .unwrap()
}

/// Creates a user with a unique username.
pub async fn user(store: &DynStore) -> User {
    let name = token();
    let display = format!("User {name}");
    user_named(store, &name, &display).await
}

/// A group spec owned by `owner` with `members`.
pub fn new_group(owner: UserId, members: &[UserId], name: &str) -> NewChannel {
    NewChannel {
        id: next_id(),
        kind: ChannelKind::Group,
        name: name.to_owned(),
        visibility: Visibility::Private,
        parent_id: None,
        root_message_id: None,
        owner_id: owner,
        member_ids: members.to_vec(),
        created_at: now_ms(),
    }
}

/// Creates a private group owned by `owner` with `members`.
pub async fn group(store: &DynStore, owner: UserId, members: &[UserId]) -> ChannelRecord {
    store
        .create_channel(new_group(owner, members, &token()))
        .await
        .unwrap()
}

/// A message spec.
pub fn new_message(channel: ChannelId, author: UserId, content: &str) -> NewMessage {
    NewMessage {
        id: next_id(),
        channel_id: channel,
        author_id: author,
        content: content.to_owned(),
        created_at: now_ms(),
        reply_to: None,
        nonce: None,
        attachment_ids: Vec::new(),
    }
}

/// Sends a message; returns it and its event offset.
pub async fn send(
    store: &DynStore,
    channel: ChannelId,
    author: UserId,
    content: &str,
) -> (Message, u64) {
    store
        .create_message(new_message(channel, author, content))
        .await
        .unwrap()
}

/// The channel's current offset.
pub async fn offset(store: &DynStore, channel: ChannelId) -> u64 {
    store.channel(channel).await.unwrap().unwrap().offset
}
