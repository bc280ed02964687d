//! Test fixture: a [`Chat`] over an in-memory SQLite store and a [`LocalBus`] whose
//! publications the test reads.

use std::sync::Arc;

use bus::{LocalBus, Publication, Subscription};
use protocol::events::client::SendMessage;
use protocol::{ChannelId, Message, UserId, Visibility};
use storage::backend::sqlite::SqliteStore;
use storage::{DynStore, NewUser};

use crate::{Chat, ChatConfig, PasswordParams, Result};

pub(crate) struct Fixture {
    pub(crate) chat: Chat,
    pub(crate) rx: Subscription,
}

pub(crate) fn config() -> ChatConfig {
    ChatConfig {
        password: PasswordParams::insecure_fast(),
        ..ChatConfig::default()
    }
}

impl Fixture {
    pub(crate) fn new() -> Self {
        Self::with_config(config())
    }

    pub(crate) fn with_config(config: ChatConfig) -> Self {
        let store: DynStore = Arc::new(SqliteStore::open_in_memory().unwrap());
        let bus = Arc::new(LocalBus::new());
        let rx = bus.watch_all();
        Self {
            chat: Chat::new(store, bus, config),
            rx,
        }
    }

    /// A user created straight in storage (no password hashing).
    pub(crate) async fn user(&self, name: &str) -> UserId {
        let id = UserId::new(self.chat.next_id());
        self.chat
            .store()
            .create_user(NewUser {
                id,
                username: name.to_owned(),
                display_name: name.to_uppercase(),
                password_hash: "unused".to_owned(),
                created_at: 1,
            })
            .await
            .unwrap();
        id
    }

    /// A group of `owner` and `members`; the publications it made are drained.
    pub(crate) async fn group(
        &mut self,
        owner: UserId,
        visibility: Visibility,
        members: &[UserId],
    ) -> ChannelId {
        let channel = self
            .chat
            .create_channel(owner, "group", Some(visibility), members.to_vec())
            .await
            .unwrap();
        self.drain();
        channel.id
    }

    pub(crate) async fn send(
        &self,
        user: UserId,
        channel: ChannelId,
        content: &str,
    ) -> Result<Message> {
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
    }

    /// Every publication made so far.
    pub(crate) fn drain(&mut self) -> Vec<Arc<Publication>> {
        let mut out = Vec::new();
        while let Ok(batch) = self.rx.rx.try_recv() {
            out.extend(batch.iter().cloned());
        }
        out
    }
}
