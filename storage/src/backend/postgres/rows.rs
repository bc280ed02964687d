//! Statement helpers and the row loaders shared by several aggregates: users, fully
//! formed messages (author, attachments, reaction counts) and the channel offset bump
//! every channel event makes.
//!
//! Every statement goes through `prepare_cached`, so a connection parses each one once.
//! A page of messages costs three queries whatever its size: the messages joined with
//! their authors, then the page's attachments, then its reaction counts (ids bound as
//! one `bigint[]` parameter).

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use protocol::{Attachment, ChannelId, Message, ReactionCount, User};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::codec::{get, to_id, to_u32, to_u64};
use super::error::PgResultExt;
use super::view::no_channel;
use crate::error::Result;

/// Statement parameters.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The rows of a cached statement.
pub(crate) async fn query<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.pg()?;
    c.query(&stmt, params).await.pg()
}

/// The one row of a cached statement, if any.
pub(crate) async fn query_opt<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await.pg()?;
    c.query_opt(&stmt, params).await.pg()
}

/// The one row of a cached statement that always returns one.
pub(crate) async fn query_one<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Row> {
    let stmt = c.prepare_cached(sql).await.pg()?;
    c.query_one(&stmt, params).await.pg()
}

/// Runs a cached statement; the number of rows it changed.
pub(crate) async fn execute<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await.pg()?;
    c.execute(&stmt, params).await.pg()
}

/// The first column of every row (ids).
pub(crate) async fn column<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<i64>> {
    query(c, sql, params)
        .await?
        .iter()
        .map(|row| get(row, 0))
        .collect()
}

/// A user from `id, username, display_name` starting at column `at`.
pub(crate) fn user_from(row: &Row, at: usize) -> Result<User> {
    Ok(User {
        id: to_id(get(row, at)?),
        username: get(row, at + 1)?,
        display_name: get(row, at + 2)?,
        status: None,
    })
}

/// One user by id.
pub(crate) async fn load_user<C: GenericClient + Sync>(c: &C, user: i64) -> Result<Option<User>> {
    query_opt(
        c,
        "SELECT id, username, display_name FROM users WHERE id = $1",
        &[&user],
    )
    .await?
    .map(|row| user_from(&row, 0))
    .transpose()
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
pub(crate) fn message_from(row: &Row) -> Result<(Message, Option<u64>)> {
    let message = Message {
        id: to_id(get(row, 0)?),
        channel_id: to_id(get(row, 1)?),
        content: get(row, 2)?,
        created_at: to_u64(get(row, 3)?),
        edited_at: get::<Option<i64>>(row, 4)?.map(to_u64),
        reply_to: get::<Option<i64>>(row, 5)?.map(to_id),
        nonce: get(row, 6)?,
        author: user_from(row, 8)?,
        attachments: Vec::new(),
        reactions: Vec::new(),
    };
    let deleted_at = get::<Option<i64>>(row, 7)?.map(to_u64);
    Ok((message, deleted_at))
}

/// One message by id, deleted or not, fully formed.
pub(crate) async fn load_message<C: GenericClient + Sync>(
    c: &C,
    message: i64,
) -> Result<Option<(Message, Option<u64>)>> {
    let Some(row) = query_opt(
        c,
        concat!(message_select!(), "WHERE m.id = $1"),
        &[&message],
    )
    .await?
    else {
        return Ok(None);
    };
    let (message, deleted_at) = message_from(&row)?;
    let mut one = [message];
    hydrate(c, &mut one).await?;
    let [message] = one;
    Ok(Some((message, deleted_at)))
}

/// Runs a [`message_select!`] statement and hydrates the result (undeleted rows only
/// are expected, so the delete mark is dropped).
pub(crate) async fn query_messages<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Message>> {
    let mut messages = query(c, sql, params)
        .await?
        .iter()
        .map(|row| message_from(row).map(|(m, _)| m))
        .collect::<Result<Vec<_>>>()?;
    hydrate(c, &mut messages).await?;
    Ok(messages)
}

/// Fills in attachments (in the order they were attached) and reaction counts (per
/// emoji, by first use) of `messages`, one query each.
pub(crate) async fn hydrate<C: GenericClient + Sync>(
    c: &C,
    messages: &mut [Message],
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let index: HashMap<i64, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (super::codec::id(m.id), i))
        .collect();
    let ids: Vec<i64> = index.keys().copied().collect();

    let rows = query(
        c,
        "SELECT message_id, id, filename, content_type, size, url, width, height, thumbnail_url \
         FROM attachments WHERE message_id = ANY($1) ORDER BY message_id, position",
        &[&ids],
    )
    .await?;
    for row in &rows {
        let message: i64 = get(row, 0)?;
        if let Some(&i) = index.get(&message) {
            messages[i].attachments.push(attachment_from(row, 1)?);
        }
    }

    let rows = query(
        c,
        "SELECT message_id, emoji, COUNT(*) FROM reactions WHERE message_id = ANY($1) \
         GROUP BY message_id, emoji ORDER BY message_id, MIN(seq)",
        &[&ids],
    )
    .await?;
    for row in &rows {
        let message: i64 = get(row, 0)?;
        let reaction = ReactionCount {
            emoji: get(row, 1)?,
            count: to_u32(get(row, 2)?),
        };
        if let Some(&i) = index.get(&message) {
            messages[i].reactions.push(reaction);
        }
    }
    Ok(())
}

/// An attachment from `id, filename, content_type, size, url, width, height,
/// thumbnail_url` starting at column `at`.
pub(crate) fn attachment_from(row: &Row, at: usize) -> Result<Attachment> {
    Ok(Attachment {
        id: to_id(get(row, at)?),
        filename: get(row, at + 1)?,
        content_type: get(row, at + 2)?,
        size: to_u64(get(row, at + 3)?),
        url: get(row, at + 4)?,
        width: get::<Option<i64>>(row, at + 5)?.map(to_u32),
        height: get::<Option<i64>>(row, at + 6)?.map(to_u32),
        thumbnail_url: get(row, at + 7)?,
    })
}

/// Moves the channel's offset by one (a channel event) and returns the new offset.
pub(crate) async fn bump_offset<C: GenericClient + Sync>(c: &C, channel: i64) -> Result<u64> {
    let row = query_opt(
        c,
        "UPDATE channels SET event_offset = event_offset + 1 WHERE id = $1 RETURNING event_offset",
        &[&channel],
    )
    .await?
    .ok_or_else(no_channel)?;
    Ok(to_u64(get(&row, 0)?))
}

/// The channel a message belongs to and its delete time, if the message exists.
pub(crate) async fn message_channel<C: GenericClient + Sync>(
    c: &C,
    message: i64,
) -> Result<Option<(ChannelId, Option<i64>)>> {
    query_opt(
        c,
        "SELECT channel_id, deleted_at FROM messages WHERE id = $1",
        &[&message],
    )
    .await?
    .map(|row| Ok((to_id(get(&row, 0)?), get(&row, 1)?)))
    .transpose()
}
