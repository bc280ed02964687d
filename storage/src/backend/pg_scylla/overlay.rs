//! The overlay of phase 1: history as the batch has changed it so far.

use std::collections::HashMap;

use protocol::{ChannelId, MessageId, UserId};

use super::history::History;
use super::step::no_message;
use crate::backend::scylla::StoredMessage;
use crate::error::Result;

/// The history state as the batch has changed it so far: what ScyllaDB holds (read
/// once per message, nonce and reaction list) with the batch's earlier items on top.
pub(crate) struct Overlay<'h> {
    history: &'h dyn History,
    /// `None`: read, and absent.
    messages: HashMap<MessageId, Option<StoredMessage>>,
    reactions: HashMap<MessageId, Vec<(String, UserId)>>,
    nonces: HashMap<(ChannelId, UserId, String), MessageId>,
}

impl<'h> Overlay<'h> {
    pub(crate) fn new(history: &'h dyn History) -> Self {
        Self {
            history,
            messages: HashMap::new(),
            reactions: HashMap::new(),
            nonces: HashMap::new(),
        }
    }

    /// The message as of this point of the batch.
    pub(crate) async fn message(&mut self, message: MessageId) -> Result<Option<StoredMessage>> {
        if let Some(known) = self.messages.get(&message) {
            return Ok(known.clone());
        }
        let found = self.history.message(message).await?;
        self.messages.insert(message, found.clone());
        Ok(found)
    }

    /// The undeleted `message` of `channel`, else `NotFound`; `Ok(Err(()))` when it is
    /// there but deleted.
    pub(crate) async fn live(
        &mut self,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<std::result::Result<StoredMessage, ()>> {
        match self.message(message).await? {
            Some(m) if m.channel_id == channel => Ok(match m.deleted_at {
                None => Ok(m),
                Some(_) => Err(()),
            }),
            _ => Err(no_message()),
        }
    }

    /// The message that took the nonce, as of this point of the batch.
    pub(crate) async fn nonce(
        &mut self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
    ) -> Result<Option<MessageId>> {
        let key = (channel, author, nonce.to_owned());
        if let Some(&first) = self.nonces.get(&key) {
            return Ok(Some(first));
        }
        let first = self.history.nonce_owner(channel, author, nonce).await?;
        if let Some(first) = first {
            self.nonces.insert(key, first);
        }
        Ok(first)
    }

    /// The message's reactions as of this point of the batch.
    pub(crate) async fn reactions(
        &mut self,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<&mut Vec<(String, UserId)>> {
        if !self.reactions.contains_key(&message) {
            let rows = self.history.reactions(channel, message).await?;
            self.reactions.insert(message, rows);
        }
        Ok(self.reactions.entry(message).or_default())
    }

    /// Records a new message of the batch.
    pub(crate) fn created(&mut self, message: &StoredMessage) {
        if let Some(nonce) = &message.nonce {
            self.nonces.insert(
                (message.channel_id, message.author_id, nonce.clone()),
                message.id,
            );
        }
        self.reactions.insert(message.id, Vec::new());
        self.messages.insert(message.id, Some(message.clone()));
    }

    /// Records a change of a known message.
    pub(crate) fn changed(&mut self, message: StoredMessage) {
        self.messages.insert(message.id, Some(message));
    }
}
