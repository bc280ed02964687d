//! ScyllaDB message history: messages, their edit audit trail and reactions, for
//! deployments whose history outgrows one PostgreSQL server (DESIGN.md idea 8).
//!
//! # Why Scylla, and for what
//!
//! History is the one aggregate that grows without bound and is read almost only as
//! "a slice of one channel near an id". A wide-column store spreads it over any number
//! of nodes by partition and serves such a slice from one partition; PostgreSQL keeps
//! everything relational (users, channels, members, receipts, search) and, crucially,
//! the channel offsets. [`ScyllaHistory`] is therefore not a whole [`crate::Store`]: it
//! is the history half that a composite backend pairs with PostgreSQL.
//!
//! # Layout (`migrations/scylla/`)
//!
//! - `messages`, partitioned by `(channel_id, bucket)` and clustered by `message_id
//!   DESC`. The bucket is a 10-day window of Snowflake time computed from the message id
//!   alone ([`bucket`]), so any id, a page cursor included, names its partition without
//!   a read. Soft deletes keep the row (`deleted_at`).
//! - `messages_by_id`: id to channel (the bucket follows from the id), for reads by id.
//! - `channel_buckets`: the buckets a channel has messages in, so a page skips empty
//!   windows and stops at the channel's first bucket.
//! - `message_nonces`: `(channel, author, nonce)` to the message that used it.
//! - `message_edits`: previous versions per message, oldest first.
//! - `reactions`: one row per user, message and emoji, in the message's own partition
//!   key, so a page's reaction counts are one slice per bucket.
//!
//! # Writes: offsets first, then idempotent rows, no lightweight transactions
//!
//! Offsets stay in PostgreSQL. For each channel event the composite first reserves the
//! offset there (the `UPDATE ... RETURNING` of the group commit), then writes the rows
//! here with `USING TIMESTAMP <offset>`. Within a channel offsets only grow, and every
//! cell of this schema belongs to one channel, so "the newest timestamp wins" is "the
//! latest event wins": writing the same event twice is the same write, and a retry of
//! an old event after a newer one (an edit, a delete, a reaction removed) changes
//! nothing. The driver is told that every statement is idempotent, so it retries them
//! itself on timeouts. A node that dies after reserving and before writing leaves a
//! gap in the channel's offsets: the event was never acknowledged, and a client that
//! sees the gap heals it with `resync` (PROTOCOL.md). A create is one logged batch
//! (row, lookup, bucket, nonce), so a message is never half visible.
//!
//! No write reads first, and none uses lightweight transactions (Paxos round trips per
//! message would cost more than the rest of the pipeline). The decisions that depend on
//! current state (the nonce is free, the message exists and is undeleted, a reaction is
//! new, the distinct-emoji cap) are reads ([`ScyllaHistory::nonce_owner`],
//! [`ScyllaHistory::message`], [`ScyllaHistory::reaction_state`]) made by the caller
//! while it is the channel's only writer: the sequencer serializes a channel's events
//! (DESIGN.md idea 3), and across nodes the composite (`super::pg_scylla`) holds the
//! channel's PostgreSQL row lock from those reads until the offsets are reserved, and
//! an advisory lock on the channel until the rows are written here.
//!
//! # Reads
//!
//! A page ([`ScyllaHistory::messages`]) reads the channel's bucket list, then walks
//! buckets from the cursor's outwards with the driver's paging (100 rows a page),
//! skipping soft-deleted rows, until it has `limit` rows or reaches the channel's first
//! (or newest) bucket; `around` is an `after` walk and an inclusive `before` walk split
//! as the SQLite backend splits it. Authors are ids here: the caller resolves them
//! with one `users(&ids)` read in PostgreSQL ([`StoredMessage::into_record`]).

pub mod bucket;
mod connect;
pub mod cql;
mod error;
mod reads;
pub mod rows;
pub mod uri;
mod walk;
mod writes;

pub use reads::ReactionState;
pub use rows::StoredMessage;

use scylla::client::session::Session;

/// The message history in one ScyllaDB keyspace. Cheap to share (`Arc`); every method
/// takes `&self`.
pub struct ScyllaHistory {
    session: Session,
    keyspace: String,
    replication_factor: u32,
    st: connect::Statements,
}

impl std::fmt::Debug for ScyllaHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScyllaHistory")
            .field("keyspace", &self.keyspace)
            .finish_non_exhaustive()
    }
}

/// Compiles only while every method's future is `Send`, as the store traits
/// (`async_trait`) that a composite implements with them require.
#[cfg(test)]
#[allow(dead_code, clippy::let_underscore_future)]
fn futures_are_send(h: &ScyllaHistory, m: &StoredMessage) {
    use protocol::{ChannelId, MessageId, UserId};

    use crate::ops::messages::Page;

    fn send<T: Send>(_: T) {}
    let (c, id, u) = (ChannelId::new(1), MessageId::new(2), UserId::new(3));
    send(ScyllaHistory::connect("db", "layer4"));
    send(h.migrate());
    send(h.ping());
    send(h.channel_of(id));
    send(h.message(id));
    send(h.message_in(c, id));
    send(h.nonce_owner(c, u, "n"));
    send(h.message_by_nonce(c, u, "n", 0));
    send(h.messages(c, Page::Latest, 1));
    send(h.latest(c));
    send(h.count_unread(c, None, u, 1));
    send(h.edits(id));
    send(h.reaction_state(c, id, u, "e"));
    send(h.write_message(m));
    send(h.write_edit(m, "x", 0, 1));
    send(h.write_delete(c, id, 0, 1));
    send(h.write_reaction(c, id, u, "e", 1));
    send(h.remove_reaction(c, id, u, "e", 1));
    send(h.delete_channel(c, 1));
}
