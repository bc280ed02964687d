//! Row loaders shared by several aggregates: users, fully formed messages (author,
//! attachments, reaction counts) and the channel offset bump every channel event makes.
//!
//! A page of messages costs three queries whatever its size: the messages joined with
//! their authors, then the page's attachments, then its reaction counts (ids bound as
//! one JSON array parameter).

use std::collections::HashMap;

use protocol::{Attachment, ChannelId, Message, ReactionCount, User};
use rusqlite::{Connection, OptionalExtension, Row};

use super::codec::{id, id_list, to_id, to_u32, to_u64};
use super::error::SqlResultExt;
use super::view::no_channel;
use crate::error::Result;

/// A user from `id, username, display_name` starting at column `at`.
pub(crate) fn user_from(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: to_id(row.get(at)?),
        username: row.get(at + 1)?,
        display_name: row.get(at + 2)?,
        status: None,
    })
}

/// One user by id.
pub(crate) fn load_user(conn: &Connection, user: i64) -> Result<Option<User>> {
    conn.prepare_cached("SELECT id, username, display_name FROM users WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([user], |row| user_from(row, 0)).optional())
        .store()
}

/// `SELECT` of a message row with its author; callers append `WHERE`/`ORDER BY`.
macro_rules! message_select {
    () => {
        "SELECT m.id, m.channel_id, m.content, m.created_at, m.edited_at, m.reply_to, \
         m.nonce, m.deleted_at, u.id, u.username, u.display_name \
         FROM messages m JOIN users u ON u.id = m.author_id "
    };
}
pub(crate) use message_select;

/// A message (without attachments and reactions yet) and its delete time, from a
/// [`message_select!`] row.
pub(crate) fn message_from(row: &Row<'_>) -> rusqlite::Result<(Message, Option<u64>)> {
    let message = Message {
        id: to_id(row.get(0)?),
        channel_id: to_id(row.get(1)?),
        content: row.get(2)?,
        created_at: to_u64(row.get(3)?),
        edited_at: row.get::<_, Option<i64>>(4)?.map(to_u64),
        reply_to: row.get::<_, Option<i64>>(5)?.map(to_id),
        nonce: row.get(6)?,
        author: user_from(row, 8)?,
        attachments: Vec::new(),
        reactions: Vec::new(),
    };
    let deleted_at = row.get::<_, Option<i64>>(7)?.map(to_u64);
    Ok((message, deleted_at))
}

/// One message by id, deleted or not, fully formed.
pub(crate) fn load_message(
    conn: &Connection,
    message: i64,
) -> Result<Option<(Message, Option<u64>)>> {
    let found = conn
        .prepare_cached(concat!(message_select!(), "WHERE m.id = ?1"))
        .and_then(|mut stmt| stmt.query_row([message], message_from).optional())
        .store()?;
    let Some((message, deleted_at)) = found else {
        return Ok(None);
    };
    let mut one = [message];
    hydrate(conn, &mut one)?;
    let [message] = one;
    Ok(Some((message, deleted_at)))
}

/// Runs a [`message_select!`] statement and hydrates the result (undeleted rows only
/// are expected, so the delete mark is dropped).
pub(crate) fn query_messages(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Message>> {
    let mut messages = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_map(params, |row| message_from(row).map(|(m, _)| m))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .store()?;
    hydrate(conn, &mut messages)?;
    Ok(messages)
}

/// Fills in attachments (in the order they were attached) and reaction counts (per
/// emoji, by first use) of `messages`, one query each.
pub(crate) fn hydrate(conn: &Connection, messages: &mut [Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let index: HashMap<i64, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (id(m.id), i))
        .collect();
    let ids = id_list(messages.iter().map(|m| m.id));

    let mut stmt = conn
        .prepare_cached(
            "SELECT message_id, id, filename, content_type, size, url, width, height, thumbnail_url \
             FROM attachments WHERE message_id IN (SELECT value FROM json_each(?1)) \
             ORDER BY message_id, position",
        )
        .store()?;
    let mut rows = stmt.query([&ids]).store()?;
    while let Some(row) = rows.next().store()? {
        let message: i64 = row.get(0).store()?;
        let attachment = attachment_from(row, 1).store()?;
        if let Some(&i) = index.get(&message) {
            messages[i].attachments.push(attachment);
        }
    }

    let mut stmt = conn
        .prepare_cached(
            "SELECT message_id, emoji, COUNT(*) FROM reactions \
             WHERE message_id IN (SELECT value FROM json_each(?1)) \
             GROUP BY message_id, emoji ORDER BY message_id, MIN(rowid)",
        )
        .store()?;
    let mut rows = stmt.query([&ids]).store()?;
    while let Some(row) = rows.next().store()? {
        let message: i64 = row.get(0).store()?;
        let reaction = ReactionCount {
            emoji: row.get(1).store()?,
            count: to_u32(row.get(2).store()?),
        };
        if let Some(&i) = index.get(&message) {
            messages[i].reactions.push(reaction);
        }
    }
    Ok(())
}

/// An attachment from `id, filename, content_type, size, url, width, height,
/// thumbnail_url` starting at column `at`.
pub(crate) fn attachment_from(row: &Row<'_>, at: usize) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: to_id(row.get(at)?),
        filename: row.get(at + 1)?,
        content_type: row.get(at + 2)?,
        size: to_u64(row.get(at + 3)?),
        url: row.get(at + 4)?,
        width: row.get::<_, Option<i64>>(at + 5)?.map(to_u32),
        height: row.get::<_, Option<i64>>(at + 6)?.map(to_u32),
        thumbnail_url: row.get(at + 7)?,
    })
}

/// Moves the channel's offset by one (a channel event) and returns the new offset.
pub(crate) fn bump_offset(conn: &Connection, channel: i64) -> Result<u64> {
    conn.prepare_cached(
        "UPDATE channels SET event_offset = event_offset + 1 WHERE id = ?1 RETURNING event_offset",
    )
    .and_then(|mut stmt| {
        stmt.query_row([channel], |row| row.get::<_, i64>(0))
            .optional()
    })
    .store()?
    .map(to_u64)
    .ok_or_else(no_channel)
}

/// The channel a message belongs to and its delete time, if the message exists.
pub(crate) fn message_channel(
    conn: &Connection,
    message: i64,
) -> Result<Option<(ChannelId, Option<i64>)>> {
    conn.prepare_cached("SELECT channel_id, deleted_at FROM messages WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([message], |row| Ok((to_id(row.get(0)?), row.get(1)?)))
                .optional()
        })
        .store()
}
