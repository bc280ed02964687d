//! Writes: each an upsert or delete stamped `USING TIMESTAMP` with the offset of the
//! channel event it belongs to (reserved in PostgreSQL beforehand), so it can be sent
//! again after a timeout or a crash and change nothing, and a late retry never
//! overwrites a newer event. None reads before writing: the decisions (the nonce is
//! free, the message is there and undeleted, the reaction is new, the emoji cap) are
//! the caller's, made with the reads of [`super::reads`].

use protocol::{ChannelId, MessageId, UserId};

use super::bucket::bucket_of;
use super::error::ExecResultExt;
use super::rows::{insert_values, int, new_id, timestamp, StoredMessage};
use super::ScyllaHistory;
use crate::error::Result;

impl ScyllaHistory {
    /// Writes a new message (`StoredMessage::new`, its `offset` the reserved offset of
    /// its `MESSAGE_RECEIVED`): the row, its by-id lookup, its bucket in the channel's
    /// list, and its nonce, in one logged batch (all of them or, after a failure, none
    /// until the retry).
    pub async fn write_message(&self, message: &StoredMessage) -> Result<()> {
        let values = insert_values(message)?;
        let (channel, bucket, id, author) = (values.0, values.1, values.2, values.3);
        let ts = timestamp(message.offset);
        let lookup = (id, channel, ts);
        let listed = (channel, bucket, ts);
        match &message.nonce {
            Some(nonce) => {
                let nonce = (channel, author, nonce.as_str(), id, ts);
                self.session
                    .batch(&self.st.create_with_nonce, (values, lookup, listed, nonce))
                    .await
            }
            None => {
                self.session
                    .batch(&self.st.create, (values, lookup, listed))
                    .await
            }
        }
        .store()
        .map(|_| ())
    }

    /// Replaces the content of `current` (the message as just read, undeleted) with
    /// `content`, keeping `current.content` in the audit trail, for the edit event at
    /// `offset`. Answers the message as stored afterwards.
    pub async fn write_edit(
        &self,
        current: &StoredMessage,
        content: &str,
        edited_at: u64,
        offset: u64,
    ) -> Result<StoredMessage> {
        let ts = timestamp(offset);
        let id = new_id(current.id, "id")?;
        let channel = int(current.channel_id.get());
        let update = (ts, content, int(edited_at), channel, current.bucket(), id);
        let trail = (
            id,
            int(offset),
            current.content.as_str(),
            int(edited_at),
            ts,
        );
        self.session
            .batch(&self.st.edit, (update, trail))
            .await
            .store()?;
        Ok(StoredMessage {
            content: content.to_owned(),
            edited_at: Some(edited_at),
            ..current.clone()
        })
    }

    /// Soft-deletes a message of `channel` for the delete event at `offset`.
    pub async fn write_delete(
        &self,
        channel: ChannelId,
        id: MessageId,
        deleted_at: u64,
        offset: u64,
    ) -> Result<()> {
        let values = (
            timestamp(offset),
            int(deleted_at),
            int(channel.get()),
            bucket_of(id.get()),
            new_id(id, "id")?,
        );
        self.session
            .execute_unpaged(&self.st.update_deleted, values)
            .await
            .store()
            .map(|_| ())
    }

    /// Adds `user`'s `emoji` to a message of `channel` for the `REACTION_ADDED` at
    /// `offset` (which also orders emoji by first use).
    pub async fn write_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        offset: u64,
    ) -> Result<()> {
        let values = (
            int(channel.get()),
            bucket_of(message.get()),
            new_id(message, "message_id")?,
            emoji,
            new_id(user, "user_id")?,
            int(offset),
            timestamp(offset),
        );
        self.session
            .execute_unpaged(&self.st.insert_reaction, values)
            .await
            .store()
            .map(|_| ())
    }

    /// Removes `user`'s `emoji` from a message of `channel` for the `REACTION_REMOVED`
    /// at `offset`.
    pub async fn remove_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        offset: u64,
    ) -> Result<()> {
        let values = (
            timestamp(offset),
            int(channel.get()),
            bucket_of(message.get()),
            int(message.get()),
            emoji,
            int(user.get()),
        );
        self.session
            .execute_unpaged(&self.st.delete_reaction, values)
            .await
            .store()
            .map(|_| ())
    }

    /// Deletes a channel's history: lookups, audit trails and nonces of each message,
    /// then each bucket's partitions, then the bucket list (so a call cut short can be
    /// made again). `final_offset` is the channel's offset when it was deleted in
    /// PostgreSQL; the deletes are stamped above it, so they shadow every write the
    /// channel ever made, a late retry included.
    pub async fn delete_channel(&self, channel: ChannelId, final_offset: u64) -> Result<()> {
        let ts = timestamp(final_offset.saturating_add(1));
        let c = int(channel.get());
        for bucket in self.buckets(channel).await? {
            let rows: Vec<(i64, Option<i64>, Option<String>)> =
                self.all_rows(&self.st.select_ids, (c, bucket)).await?;
            for (id, author, nonce) in rows {
                self.session
                    .execute_unpaged(&self.st.delete_by_id, (ts, id))
                    .await
                    .store()?;
                self.session
                    .execute_unpaged(&self.st.delete_edits, (ts, id))
                    .await
                    .store()?;
                if let (Some(author), Some(nonce)) = (author, nonce) {
                    self.session
                        .execute_unpaged(&self.st.delete_nonce, (ts, c, author, nonce))
                        .await
                        .store()?;
                }
            }
            self.session
                .execute_unpaged(&self.st.delete_reactions, (ts, c, bucket))
                .await
                .store()?;
            self.session
                .execute_unpaged(&self.st.delete_partition, (ts, c, bucket))
                .await
                .store()?;
        }
        self.session
            .execute_unpaged(&self.st.delete_buckets, (ts, c))
            .await
            .store()
            .map(|_| ())
    }
}
