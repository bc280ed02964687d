//! [`EventStore`] for PostgreSQL+ScyllaDB: reserve in PostgreSQL, then write history.
//!
//! **Locks.** The batch first takes a session-level advisory lock per channel (in id
//! order) on its PostgreSQL connection and keeps it until its history writes are done
//! ([`ChannelLocks`]): reserving and writing are two steps, and the next batch of a
//! channel, on whatever node, must not read history between them (it would miss a
//! message that is committed but not yet written, and take its nonce again).
//!
//! **Phase 1, one PostgreSQL transaction.** The batch locks its channels' rows (in id
//! order, as the PostgreSQL backend does) and keeps them locked until it commits. Item
//! by item it reads the history state its decision depends on through an [`Overlay`]
//! (ScyllaDB read once per message, then the batch's own earlier items applied on
//! top, since none of them is in ScyllaDB yet): is the nonce taken, is the message
//! there, in this channel, undeleted, is this reaction new, how many distinct emoji.
//! Then, in a savepoint, it does the item's PostgreSQL part: the offset (and the
//! channel's last message), the attachments claimed, the `message_index` row (search,
//! unread counts); joins and leaves are entirely PostgreSQL and run the PostgreSQL
//! backend's own code. Only an item whose savepoint succeeded changes the overlay and
//! queues its history write ([`RowWrite`]). The commit makes the offsets durable.
//!
//! **Phase 2, history.** The queued writes go to ScyllaDB, each stamped with its
//! offset: the writes of one message in batch order, different messages
//! concurrently. A write that fails fails its item with `Unavailable` and every later
//! item of the batch on the same message (they depend on it): those events are not
//! acknowledged, and their offsets stay as gaps that clients heal with `resync`. A
//! failed create is then undone in PostgreSQL where that is safe (its index row, its
//! attachments, the channel's last message), see [`undo_creates`].
//!
//! The outer `Err` (nothing written) can only come from phase 1.

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::{Object, Transaction};
use futures_util::future::join_all;
use protocol::{Attachment, ChannelId, Message, MessageId, User, UserId};

use super::history::History;
use super::PgScyllaStore;
use crate::backend::postgres::bulk::lock_channels;
use crate::backend::postgres::codec::{id, int};
use crate::backend::postgres::error::PgResultExt;
use crate::backend::postgres::events::{apply_in_savepoint, authors, in_savepoint};
use crate::backend::postgres::messages::{
    attach, claim_attachments, fix_last_message, reserve_offset,
};
use crate::backend::postgres::rows::{bump_offset, execute, load_user};
use crate::backend::postgres::view::no_channel;
use crate::backend::scylla::{ReactionState, StoredMessage};
use crate::error::{Result, StoreError};
use crate::ops::events::{EventStore, EventWrite, Outcome};
use crate::ops::messages::NewMessage;

#[async_trait]
impl EventStore for PgScyllaStore {
    async fn append_events(&self, batch: Vec<EventWrite>) -> Result<Vec<Result<Outcome>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut channels: Vec<i64> = batch.iter().map(|item| id(item.channel())).collect();
        channels.sort_unstable();
        channels.dedup();
        let mut locks = ChannelLocks::lock(self.pg.client().await?, channels).await?;
        let (mut outcomes, writes) = match self.reserve(locks.client()?, batch).await {
            Ok(reserved) => reserved,
            Err(err) => {
                // Rolled back; the connection is fine unless the unlock fails too.
                locks.release().await;
                return Err(err);
            }
        };
        let failed = write_rows(self.history.as_ref(), &writes).await;
        if failed.is_empty() {
            locks.release().await;
            return Ok(outcomes);
        }
        let mut undo = Vec::new();
        for (slot, err) in failed {
            let write = &writes[slot.1].1;
            tracing::warn!(
                channel = %write.channel(), offset = write.offset(), error = %err,
                "history write failed: the event is not acknowledged, its offset is a gap"
            );
            if let RowWrite::Create(message) = write {
                let newest = writes
                    .iter()
                    .filter(|(_, w)| w.message() == message.id)
                    .map(|(_, w)| w.offset())
                    .max()
                    .unwrap_or(message.offset);
                undo.push((message, newest));
            }
            if let Some(outcome) = outcomes.get_mut(slot.0) {
                *outcome = Err(StoreError::Unavailable(format!(
                    "history: {err} (event {} of channel {} not written)",
                    write.offset(),
                    write.channel()
                )));
            }
        }
        // Best effort: the outcomes stand whatever happens here (the written events
        // are acknowledged), so no error leaves this point.
        let undone = match locks.client() {
            Ok(client) => undo_creates(client, &undo).await,
            Err(err) => Err(err),
        };
        if let Err(err) = undone {
            tracing::warn!(error = %err, "could not undo the index rows of unwritten messages");
        }
        locks.release().await;
        Ok(outcomes)
    }
}

/// A history write decided in phase 1, with its event's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowWrite {
    /// A new message.
    Create(StoredMessage),
    /// An edit of `current` (the message just before it).
    Edit {
        current: StoredMessage,
        content: String,
        edited_at: u64,
        offset: u64,
    },
    /// A soft delete.
    Delete {
        channel: ChannelId,
        id: MessageId,
        deleted_at: u64,
        offset: u64,
    },
    /// A reaction added (`add`) or removed.
    React {
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: String,
        add: bool,
        offset: u64,
    },
}

impl RowWrite {
    /// The message written.
    pub(crate) fn message(&self) -> MessageId {
        match self {
            Self::Create(m) | Self::Edit { current: m, .. } => m.id,
            Self::Delete { id, .. } => *id,
            Self::React { message, .. } => *message,
        }
    }

    /// Its channel.
    pub(crate) fn channel(&self) -> ChannelId {
        match self {
            Self::Create(m) | Self::Edit { current: m, .. } => m.channel_id,
            Self::Delete { channel, .. } | Self::React { channel, .. } => *channel,
        }
    }

    /// Its event's offset.
    pub(crate) fn offset(&self) -> u64 {
        match self {
            Self::Create(m) => m.offset,
            Self::Edit { offset, .. }
            | Self::Delete { offset, .. }
            | Self::React { offset, .. } => *offset,
        }
    }

    /// Writes it to `history`.
    async fn apply(&self, history: &dyn History) -> Result<()> {
        match self {
            Self::Create(message) => history.write_message(message).await,
            Self::Edit {
                current,
                content,
                edited_at,
                offset,
            } => history
                .write_edit(current, content, *edited_at, *offset)
                .await
                .map(drop),
            Self::Delete {
                channel,
                id,
                deleted_at,
                offset,
            } => {
                history
                    .write_delete(*channel, *id, *deleted_at, *offset)
                    .await
            }
            Self::React {
                channel,
                message,
                user,
                emoji,
                add: true,
                offset,
            } => {
                history
                    .write_reaction(*channel, *message, *user, emoji, *offset)
                    .await
            }
            Self::React {
                channel,
                message,
                user,
                emoji,
                add: false,
                offset,
            } => {
                history
                    .remove_reaction(*channel, *message, *user, emoji, *offset)
                    .await
            }
        }
    }
}

/// The writes of one message together, in batch order, as indexes into `writes`.
pub(crate) fn by_message(writes: &[(usize, RowWrite)]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<MessageId, usize> = HashMap::new();
    for (i, (_, write)) in writes.iter().enumerate() {
        let group = *index.entry(write.message()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(i);
    }
    groups
}

/// Phase 2: writes every queued row; the failures as `((slot, index in writes),
/// error)`. A write after a failed one of the same message is not attempted and fails
/// with the same error.
async fn write_rows(
    history: &dyn History,
    writes: &[(usize, RowWrite)],
) -> Vec<((usize, usize), StoreError)> {
    let groups = by_message(writes);
    let runs = groups.iter().map(|group| async move {
        let mut failed = Vec::new();
        let mut first: Option<String> = None;
        for &i in group {
            let (slot, write) = &writes[i];
            let err = match &first {
                Some(text) => StoreError::Unavailable(format!(
                    "an earlier event of message {} failed: {text}",
                    write.message()
                )),
                None => match write.apply(history).await {
                    Ok(()) => continue,
                    Err(err) => {
                        first = Some(err.to_string());
                        err
                    }
                },
            };
            failed.push(((*slot, i), err));
        }
        failed
    });
    join_all(runs).await.into_iter().flatten().collect()
}

impl PgScyllaStore {
    /// Phase 1: every item decided and its PostgreSQL part committed; the outcomes and
    /// the history writes still to make.
    async fn reserve(
        &self,
        client: &mut Object,
        batch: Vec<EventWrite>,
    ) -> Result<(Vec<Result<Outcome>>, Vec<(usize, RowWrite)>)> {
        let tx = client.transaction().await.pg()?;
        let locked = lock_channels(&tx, &batch).await?;
        let mut authors = authors(&tx, &batch).await?;
        let mut overlay = Overlay::new(self.history.as_ref());
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut writes = Vec::new();
        for (slot, item) in batch.into_iter().enumerate() {
            if !locked.contains_key(&id(item.channel())) {
                outcomes.push(Err(no_channel()));
                continue;
            }
            let outcome = match item {
                item @ (EventWrite::AddMember { .. } | EventWrite::RemoveMember { .. }) => {
                    apply_in_savepoint(&tx, item, &mut authors).await?
                }
                item => {
                    let mut step = Step {
                        tx: &tx,
                        overlay: &mut overlay,
                        authors: &mut authors,
                    };
                    match step.apply(item).await? {
                        Ok((outcome, write)) => {
                            writes.extend(write.map(|w| (slot, w)));
                            Ok(outcome)
                        }
                        Err(err) => Err(err),
                    }
                }
            };
            outcomes.push(outcome);
        }
        tx.commit().await.pg()?;
        Ok((outcomes, writes))
    }
}

/// Undoes in PostgreSQL what unwritten new messages did there: the index row, the
/// attachments' claim, the channel's last message. `(message, newest offset)`: the
/// newest offset of the batch's events on it (they all failed with it); a row a later
/// event touched is left alone (then the message is in history after all: only a
/// write that reached it makes a later event possible).
async fn undo_creates(client: &mut Object, messages: &[(&StoredMessage, u64)]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await.pg()?;
    for &(message, newest) in messages {
        let (channel, row) = (id(message.channel_id), id(message.id));
        let ours = execute(
            &tx,
            "SELECT 1 FROM message_index WHERE id = $1 AND event_offset <= $2 FOR UPDATE",
            &[&row, &int(newest)],
        )
        .await?;
        if ours == 0 {
            continue;
        }
        // Before the row goes: deleting it deletes its attachments (migration 0002).
        execute(
            &tx,
            "UPDATE attachments SET message_id = NULL, position = 0 WHERE message_id = $1",
            &[&row],
        )
        .await?;
        execute(&tx, "DELETE FROM message_index WHERE id = $1", &[&row]).await?;
        fix_last_message(&tx, channel, row).await?;
    }
    tx.commit().await.pg()
}

/// A pooled connection holding session-level advisory locks on a batch's channels
/// (keyed by channel id) from before phase 1 until its history writes are done, so the
/// next batch of these channels, on any node, reads history only once this one's rows
/// are there. Locks are taken in id order (no deadlock between batches). A connection
/// whose locks may still be held (an unlock that failed, a call cancelled midway) is
/// never given back to the pool: dropping it ends its session, which frees them.
struct ChannelLocks {
    client: Option<Object>,
    channels: Vec<i64>,
}

impl ChannelLocks {
    /// Waits for the channels' locks (`channels` sorted, without duplicates).
    async fn lock(client: Object, channels: Vec<i64>) -> Result<Self> {
        let mut locks = Self {
            client: Some(client),
            channels,
        };
        let channels = locks.channels.clone();
        execute(
            &*locks.client()?,
            "SELECT pg_advisory_lock(c) FROM unnest($1::bigint[]) AS c",
            &[&channels],
        )
        .await?;
        Ok(locks)
    }

    /// The connection.
    fn client(&mut self) -> Result<&mut Object> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Internal("channel locks already released".into()))
    }

    /// Frees the locks and gives the connection back (or drops it, see the type).
    async fn release(mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let unlocked = execute(
            &client,
            "SELECT pg_advisory_unlock(c) FROM unnest($1::bigint[]) AS c",
            &[&self.channels],
        )
        .await;
        match unlocked {
            Ok(_) => drop(client),
            Err(err) => {
                tracing::warn!(error = %err, "channel unlock failed: closing the connection");
                drop(Object::take(client));
            }
        }
    }
}

impl Drop for ChannelLocks {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

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
    async fn message(&mut self, message: MessageId) -> Result<Option<StoredMessage>> {
        if let Some(known) = self.messages.get(&message) {
            return Ok(known.clone());
        }
        let found = self.history.message(message).await?;
        self.messages.insert(message, found.clone());
        Ok(found)
    }

    /// The undeleted `message` of `channel`, else `NotFound`; `Ok(Err(()))` when it is
    /// there but deleted.
    async fn live(
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
    async fn nonce(
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
    async fn reactions(
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
    fn created(&mut self, message: &StoredMessage) {
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
    fn changed(&mut self, message: StoredMessage) {
        self.messages.insert(message.id, Some(message));
    }
}

/// One item of phase 1, with what it needs.
struct Step<'a, 'h, 't> {
    tx: &'a Transaction<'t>,
    overlay: &'a mut Overlay<'h>,
    authors: &'a mut HashMap<i64, User>,
}

/// An item's outcome and the history write it queues.
type Applied = (Outcome, Option<RowWrite>);

impl Step<'_, '_, '_> {
    /// Decides one message or reaction item and does its PostgreSQL part. The outer
    /// `Err`: the transaction is lost (or history could not be read).
    async fn apply(&mut self, item: EventWrite) -> Result<Result<Applied>> {
        match item {
            EventWrite::CreateMessage(new) => self.create(new).await,
            EventWrite::EditMessage {
                channel,
                id: message,
                content,
                edited_at,
            } => {
                let current = match self.overlay.live(channel, message).await {
                    Ok(Ok(current)) => current,
                    Ok(Err(())) => return Ok(Err(no_message())),
                    Err(err) => return item_or_fatal(err),
                };
                let tx = self.tx;
                let reserved = in_savepoint(tx, async {
                    let offset = bump_offset(tx, id(channel)).await?;
                    execute(
                        tx,
                        "UPDATE message_index SET search = to_tsvector('simple', $2), \
                         event_offset = $3 WHERE id = $1",
                        &[&id(message), &content, &int(offset)],
                    )
                    .await?;
                    Ok(offset)
                })
                .await?;
                let offset = match reserved {
                    Ok(offset) => offset,
                    Err(err) => return Ok(Err(err)),
                };
                let edited = StoredMessage {
                    content: content.clone(),
                    edited_at: Some(edited_at),
                    ..current.clone()
                };
                self.overlay.changed(edited.clone());
                let author = self.author(edited.author_id).await?;
                let write = RowWrite::Edit {
                    current,
                    content,
                    edited_at,
                    offset,
                };
                Ok(Ok((
                    Outcome::Event {
                        offset,
                        message: Some(edited.into_message(author)),
                    },
                    Some(write),
                )))
            }
            EventWrite::DeleteMessage {
                channel,
                id: message,
                deleted_at,
            } => {
                let current = match self.overlay.live(channel, message).await {
                    Ok(Ok(current)) => current,
                    Ok(Err(())) => return Ok(Ok((Outcome::Unchanged, None))),
                    Err(err) => return item_or_fatal(err),
                };
                let tx = self.tx;
                let reserved = in_savepoint(tx, async {
                    let offset = bump_offset(tx, id(channel)).await?;
                    execute(
                        tx,
                        "UPDATE message_index SET deleted_at = $2, event_offset = $3 WHERE id = $1",
                        &[&id(message), &int(deleted_at), &int(offset)],
                    )
                    .await?;
                    fix_last_message(tx, id(channel), id(message)).await?;
                    Ok(offset)
                })
                .await?;
                let offset = match reserved {
                    Ok(offset) => offset,
                    Err(err) => return Ok(Err(err)),
                };
                self.overlay.changed(StoredMessage {
                    deleted_at: Some(deleted_at),
                    ..current
                });
                let write = RowWrite::Delete {
                    channel,
                    id: message,
                    deleted_at,
                    offset,
                };
                Ok(Ok((event(offset), Some(write))))
            }
            EventWrite::AddReaction {
                channel,
                message,
                user,
                emoji,
                max_distinct,
            } => {
                let current = match self.overlay.live(channel, message).await {
                    Ok(Ok(current)) => current,
                    Ok(Err(())) => return Ok(Err(no_message())),
                    Err(err) => return item_or_fatal(err),
                };
                let rows = self.overlay.reactions(channel, message).await?;
                let state = ReactionState::of(rows, user, &emoji);
                match reaction_add(state, max_distinct) {
                    Ok(true) => {}
                    Ok(false) => return Ok(Ok((Outcome::Unchanged, None))),
                    Err(err) => return Ok(Err(err)),
                }
                let offset = match in_savepoint(self.tx, bump_offset(self.tx, id(channel))).await? {
                    Ok(offset) => offset,
                    Err(err) => return Ok(Err(err)),
                };
                self.overlay
                    .reactions(channel, message)
                    .await?
                    .push((emoji.clone(), user));
                self.overlay.changed(with_count(current, &emoji, true));
                let write = RowWrite::React {
                    channel,
                    message,
                    user,
                    emoji,
                    add: true,
                    offset,
                };
                Ok(Ok((event(offset), Some(write))))
            }
            EventWrite::RemoveReaction {
                channel,
                message,
                user,
                emoji,
            } => {
                let current = match self.overlay.live(channel, message).await {
                    Ok(Ok(current)) => current,
                    Ok(Err(())) => return Ok(Err(no_message())),
                    Err(err) => return item_or_fatal(err),
                };
                let rows = self.overlay.reactions(channel, message).await?;
                if !ReactionState::of(rows, user, &emoji).mine {
                    return Ok(Ok((Outcome::Unchanged, None)));
                }
                let offset = match in_savepoint(self.tx, bump_offset(self.tx, id(channel))).await? {
                    Ok(offset) => offset,
                    Err(err) => return Ok(Err(err)),
                };
                self.overlay
                    .reactions(channel, message)
                    .await?
                    .retain(|(e, u)| !(*e == emoji && *u == user));
                self.overlay.changed(with_count(current, &emoji, false));
                let write = RowWrite::React {
                    channel,
                    message,
                    user,
                    emoji,
                    add: false,
                    offset,
                };
                Ok(Ok((event(offset), Some(write))))
            }
            EventWrite::AddMember { .. } | EventWrite::RemoveMember { .. } => Err(
                StoreError::Internal("membership events are PostgreSQL's alone".into()),
            ),
        }
    }

    /// A new message: its nonce (a duplicate answers the first message), then in a
    /// savepoint its attachments, author, offset and index row.
    async fn create(&mut self, new: NewMessage) -> Result<Result<Applied>> {
        if let Err(err) = crate::backend::scylla::rows::new_id(new.id, "id") {
            return Ok(Err(err));
        }
        if let Some(nonce) = &new.nonce {
            if let Some(first) = self
                .overlay
                .nonce(new.channel_id, new.author_id, nonce)
                .await?
            {
                if let Some(stored) = self.overlay.message(first).await? {
                    if let Err(err) = in_savepoint(self.tx, heal_index(self.tx, &stored)).await? {
                        tracing::warn!(message = %stored.id, error = %err, "could not check the index row");
                    }
                    let author = self.author(stored.author_id).await?;
                    return Ok(Ok((Outcome::Duplicate(stored.into_message(author)), None)));
                }
            }
        }
        let tx = self.tx;
        let authors = &mut *self.authors;
        let prepared = in_savepoint(tx, async {
            let attachments = claim_attachments(tx, &new).await?;
            let author = match authors.get(&id(new.author_id)) {
                Some(author) => author.clone(),
                None => load_user(tx, id(new.author_id))
                    .await?
                    .ok_or_else(|| StoreError::Invalid("author_id: no such user".into()))?,
            };
            let offset = reserve_offset(tx, id(new.channel_id), id(new.id)).await?;
            attach(tx, &attachments, id(new.id)).await?;
            IndexRow::new(&new, &attachments, offset)
                .insert(tx, false)
                .await?;
            Ok((attachments, author, offset))
        })
        .await?;
        let (attachments, author, offset) = match prepared {
            Ok(prepared) => prepared,
            Err(err) => return Ok(Err(err)),
        };
        self.authors.insert(id(author.id), author.clone());
        let stored = StoredMessage::new(new, attachments, offset);
        self.overlay.created(&stored);
        let message: Message = stored.clone().into_message(author);
        Ok(Ok((
            Outcome::Event {
                offset,
                message: Some(message),
            },
            Some(RowWrite::Create(stored)),
        )))
    }

    /// The user `author` names (cached for the batch).
    async fn author(&mut self, author: UserId) -> Result<User> {
        if let Some(user) = self.authors.get(&id(author)) {
            return Ok(user.clone());
        }
        let user = load_user(self.tx, id(author))
            .await?
            .ok_or_else(|| StoreError::Internal(format!("author {author} of a message is gone")))?;
        self.authors.insert(id(author), user.clone());
        Ok(user)
    }
}

/// A `message_index` row (search, unread counts, last message).
pub(crate) struct IndexRow<'a> {
    id: MessageId,
    channel: ChannelId,
    author: UserId,
    created_at: u64,
    deleted_at: Option<u64>,
    has_attachment: bool,
    offset: u64,
    content: &'a str,
}

impl<'a> IndexRow<'a> {
    /// The row of a new message with its claimed attachments and reserved offset.
    pub(crate) fn new(new: &'a NewMessage, attachments: &[Attachment], offset: u64) -> Self {
        Self {
            id: new.id,
            channel: new.channel_id,
            author: new.author_id,
            created_at: new.created_at,
            deleted_at: None,
            has_attachment: !attachments.is_empty(),
            offset,
            content: &new.content,
        }
    }

    /// The row of a message as history holds it.
    pub(crate) fn stored(message: &'a StoredMessage) -> Self {
        Self {
            id: message.id,
            channel: message.channel_id,
            author: message.author_id,
            created_at: message.created_at,
            deleted_at: message.deleted_at,
            has_attachment: !message.attachments.is_empty(),
            offset: message.offset,
            content: &message.content,
        }
    }

    /// Inserts it; a taken id is `Conflict`, or nothing at all when `heal` (the row
    /// of a message history already has).
    async fn insert(&self, tx: &Transaction<'_>, heal: bool) -> Result<u64> {
        let sql = if heal {
            "INSERT INTO message_index (id, channel_id, author_id, created_at, deleted_at, \
             has_attachment, event_offset, search) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, to_tsvector('simple', $8)) \
             ON CONFLICT (id) DO NOTHING"
        } else {
            "INSERT INTO message_index (id, channel_id, author_id, created_at, deleted_at, \
             has_attachment, event_offset, search) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, to_tsvector('simple', $8))"
        };
        execute(
            tx,
            sql,
            &[
                &id(self.id),
                &id(self.channel),
                &id(self.author),
                &int(self.created_at),
                &self.deleted_at.map(int),
                &self.has_attachment,
                &int(self.offset),
                &self.content,
            ],
        )
        .await
    }
}

/// Puts back what PostgreSQL lacks of a message history has: after a write reported
/// as failed that had in fact landed (a timeout), its create was undone here while the
/// row stayed there. A retry with its nonce finds it (a duplicate) and calls this:
/// the index row, the claim of its attachments and the channel's last message come
/// back. Changes nothing in the usual case (the row is there).
async fn heal_index(tx: &Transaction<'_>, stored: &StoredMessage) -> Result<()> {
    if IndexRow::stored(stored).insert(tx, true).await? == 0 {
        return Ok(());
    }
    let ids: Vec<i64> = stored.attachments.iter().map(|a| id(a.id)).collect();
    execute(
        tx,
        "UPDATE attachments a SET message_id = $2, position = p.position - 1 \
         FROM unnest($1::bigint[]) WITH ORDINALITY AS p (id, position) \
         WHERE a.id = p.id AND a.message_id IS NULL",
        &[&ids, &id(stored.id)],
    )
    .await?;
    if stored.deleted_at.is_none() {
        execute(
            tx,
            "UPDATE channels SET last_message_id = GREATEST(COALESCE(last_message_id, 0), $2) \
             WHERE id = $1",
            &[&id(stored.channel_id), &id(stored.id)],
        )
        .await?;
    }
    tracing::info!(message = %stored.id, "index row put back for a message found in history");
    Ok(())
}

/// Whether an add is an event (`false`: a repeat), or `Invalid` over the emoji cap.
pub(crate) fn reaction_add(state: ReactionState, max_distinct: usize) -> Result<bool> {
    if state.mine {
        return Ok(false);
    }
    if !state.emoji_present && state.distinct >= max_distinct {
        return Err(StoreError::Invalid(format!(
            "emoji: a message has at most {max_distinct} distinct emoji"
        )));
    }
    Ok(true)
}

/// `message` with one more (or one fewer) `emoji` in its counts, a new emoji last.
pub(crate) fn with_count(mut message: StoredMessage, emoji: &str, add: bool) -> StoredMessage {
    match message.reactions.iter().position(|r| r.emoji == emoji) {
        Some(i) if add => message.reactions[i].count += 1,
        Some(i) => {
            message.reactions[i].count = message.reactions[i].count.saturating_sub(1);
            if message.reactions[i].count == 0 {
                message.reactions.remove(i);
            }
        }
        None if add => message.reactions.push(protocol::ReactionCount {
            emoji: emoji.to_owned(),
            count: 1,
        }),
        None => {}
    }
    message
}

/// An event without a message.
fn event(offset: u64) -> Outcome {
    Outcome::Event {
        offset,
        message: None,
    }
}

/// A `NotFound` from the overlay is the item's; anything else (history unreadable)
/// fails the batch before anything is committed.
fn item_or_fatal<T>(err: StoreError) -> Result<Result<T>> {
    match err {
        StoreError::NotFound(_) => Ok(Err(err)),
        other => Err(other),
    }
}

/// `NotFound` for a message that is absent, elsewhere or deleted.
pub(crate) fn no_message() -> StoreError {
    StoreError::NotFound("message_id: no such message in this channel".into())
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
