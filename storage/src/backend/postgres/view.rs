//! Channel rows: the record (the same for everyone) and the channel as one viewer sees
//! it (PROTOCOL.md section 3), with the same rules as the SQLite backend: a DM is named
//! after the other member, `unread_count` counts other members' undeleted messages
//! after the viewer's last read message, and a mute whose end has passed reads as no
//! mute. Non-members see no unread messages, no read position and no mute.
//!
//! The unread count is a count over `messages_channel (channel_id, id) INCLUDE
//! (author_id, deleted_at)`: an index-only range scan from the last read message (and
//! the same over `message_index` for messages whose rows live in ScyllaDB).

use deadpool_postgres::GenericClient;
use protocol::{Channel, ChannelKind, UserId};
use tokio_postgres::Row;

use super::codec::{get, now_ms, parse_kind, parse_visibility, to_id, to_u32, to_u64};
use super::rows::{query, query_opt, Params};
use crate::error::{Result, StoreError};
use crate::ops::channels::ChannelRecord;

/// `SELECT` of a channel record; callers append `WHERE`.
macro_rules! record_select {
    () => {
        "SELECT id, kind, name, visibility, parent_id, root_message_id, owner_id, \
         member_count, last_message_id, event_offset, created_at FROM channels "
    };
}

/// The unread count of channel `c` for viewer `$viewer` with receipt `r`: other
/// members' undeleted messages after the last read one (no receipt: all of them).
/// `message_heads` is every message, whichever backend wrote it (migration 0002).
macro_rules! unread_count {
    ($viewer:literal) => {
        concat!(
            "(SELECT COUNT(*) FROM message_heads n WHERE n.channel_id = c.id \
             AND n.id > COALESCE(r.message_id, -1) AND n.author_id <> ",
            $viewer,
            " AND n.deleted_at IS NULL)"
        )
    };
}

/// `SELECT` of a channel as viewer `$1` sees it; callers append `WHERE`/`ORDER BY`.
macro_rules! view_select {
    () => {
        concat!(
            "SELECT c.id, c.kind, \
           CASE WHEN c.kind = 'dm' THEN COALESCE( \
             (SELECT u.display_name FROM members o JOIN users u ON u.id = o.user_id \
              WHERE o.channel_id = c.id AND o.user_id <> $1 ORDER BY o.user_id LIMIT 1), \
             (SELECT u.display_name FROM users u WHERE u.id = $1), '') \
           ELSE c.name END, \
           c.visibility, c.parent_id, c.root_message_id, c.member_count, c.last_message_id, \
           c.event_offset, me.user_id IS NOT NULL, r.message_id, \
           CASE WHEN me.user_id IS NULL THEN 0 ELSE ",
            $crate::backend::postgres::view::unread_count!("$1"),
            " END, \
           mu.channel_id IS NOT NULL, mu.until \
         FROM channels c \
         LEFT JOIN members me ON me.channel_id = c.id AND me.user_id = $1 \
         LEFT JOIN receipts r ON r.channel_id = c.id AND r.user_id = $1 \
         LEFT JOIN mutes mu ON mu.channel_id = c.id AND mu.user_id = $1 "
        )
    };
}

pub(crate) use {unread_count, view_select};

/// A channel as each member sees it: the [`view_select!`] columns with the member as
/// the viewer, then the member's id (column 14).
const MEMBER_VIEWS: &str = concat!(
    "SELECT c.id, c.kind, \
       CASE WHEN c.kind = 'dm' THEN COALESCE( \
         (SELECT u.display_name FROM members o JOIN users u ON u.id = o.user_id \
          WHERE o.channel_id = c.id AND o.user_id <> me.user_id ORDER BY o.user_id LIMIT 1), \
         (SELECT u.display_name FROM users u WHERE u.id = me.user_id), '') \
       ELSE c.name END, \
       c.visibility, c.parent_id, c.root_message_id, c.member_count, c.last_message_id, \
       c.event_offset, true, r.message_id, ",
    unread_count!("me.user_id"),
    ", mu.channel_id IS NOT NULL, mu.until, me.user_id \
     FROM members me JOIN channels c ON c.id = me.channel_id \
     LEFT JOIN receipts r ON r.channel_id = c.id AND r.user_id = me.user_id \
     LEFT JOIN mutes mu ON mu.channel_id = c.id AND mu.user_id = me.user_id \
     WHERE me.channel_id = $1 ORDER BY me.user_id"
);

/// The channel as each of its members sees it, by member id.
pub(crate) async fn load_member_views<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
) -> Result<Vec<(UserId, Channel)>> {
    let now = now_ms();
    query(c, MEMBER_VIEWS, &[&channel])
        .await?
        .iter()
        .map(|row| Ok((to_id(get(row, 14)?), view_from(row, now)?)))
        .collect()
}

/// A channel record by id.
pub(crate) async fn load_record<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
) -> Result<Option<ChannelRecord>> {
    query_opt(c, concat!(record_select!(), "WHERE id = $1"), &[&channel])
        .await?
        .map(|row| record_from(&row))
        .transpose()
}

/// A channel as `viewer` sees it, by id.
pub(crate) async fn load_view<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
    viewer: i64,
) -> Result<Option<Channel>> {
    let now = now_ms();
    query_opt(
        c,
        concat!(view_select!(), "WHERE c.id = $2"),
        &[&viewer, &channel],
    )
    .await?
    .map(|row| view_from(&row, now))
    .transpose()
}

/// Runs a [`view_select!`] statement (viewer bound as `$1`).
pub(crate) async fn query_views<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Channel>> {
    let now = now_ms();
    query(c, sql, params)
        .await?
        .iter()
        .map(|row| view_from(row, now))
        .collect()
}

/// A record from a [`record_select!`] row.
fn record_from(row: &Row) -> Result<ChannelRecord> {
    let kind = parse_kind(&get::<String>(row, 1)?)?;
    Ok(ChannelRecord {
        id: to_id(get(row, 0)?),
        kind,
        // A DM has no name of its own (the viewer's view names it).
        name: if kind == ChannelKind::Dm {
            String::new()
        } else {
            get(row, 2)?
        },
        visibility: parse_visibility(&get::<String>(row, 3)?)?,
        parent_id: get::<Option<i64>>(row, 4)?.map(to_id),
        root_message_id: get::<Option<i64>>(row, 5)?.map(to_id),
        owner_id: to_id(get(row, 6)?),
        member_count: to_u32(get(row, 7)?),
        last_message_id: get::<Option<i64>>(row, 8)?.map(to_id),
        offset: to_u64(get(row, 9)?),
        created_at: to_u64(get(row, 10)?),
    })
}

/// A channel from a [`view_select!`] row, the mute judged at `now`.
fn view_from(row: &Row, now: u64) -> Result<Channel> {
    let is_member: bool = get(row, 9)?;
    let has_mute: bool = get(row, 12)?;
    let until = get::<Option<i64>>(row, 13)?.map(to_u64);
    let muted = is_member && has_mute && until.is_none_or(|until| until > now);
    Ok(Channel {
        id: to_id(get(row, 0)?),
        kind: parse_kind(&get::<String>(row, 1)?)?,
        name: get(row, 2)?,
        visibility: parse_visibility(&get::<String>(row, 3)?)?,
        parent_id: get::<Option<i64>>(row, 4)?.map(to_id),
        root_message_id: get::<Option<i64>>(row, 5)?.map(to_id),
        member_count: to_u32(get(row, 6)?),
        last_message_id: get::<Option<i64>>(row, 7)?.map(to_id),
        offset: to_u64(get(row, 8)?),
        last_read_message_id: get::<Option<i64>>(row, 10)?
            .filter(|_| is_member)
            .map(to_id),
        unread_count: if is_member { to_u32(get(row, 11)?) } else { 0 },
        muted,
        muted_until: if muted { until } else { None },
    })
}

/// `NotFound` for a channel id that names nothing.
pub(crate) fn no_channel() -> StoreError {
    StoreError::NotFound("channel_id: no such channel".into())
}
