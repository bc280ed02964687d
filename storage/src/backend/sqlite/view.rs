//! Channel rows: the record (the same for everyone) and the channel as one viewer sees
//! it (PROTOCOL.md section 3): a DM is named after the other member, `unread_count`
//! counts other members' undeleted messages after the viewer's last read message, and a
//! mute whose end has passed reads as no mute. Non-members see no unread messages, no
//! read position and no mute.

use protocol::{Channel, ChannelKind, UserId};
use rusqlite::{Connection, OptionalExtension, Row};

use super::codec::{now_ms, parse_kind, parse_visibility, to_id, to_u32, to_u64};
use super::error::SqlResultExt;
use crate::error::{Result, StoreError};
use crate::ops::channels::ChannelRecord;

/// `SELECT` of a channel record; callers append `WHERE`.
macro_rules! record_select {
    () => {
        "SELECT id, kind, name, visibility, parent_id, root_message_id, owner_id, \
         member_count, last_message_id, event_offset, created_at FROM channels "
    };
}

/// The unread count of channel `c` for viewer `$viewer` with receipt `r` (migration
/// 0004): messages after the last read (the channel's count minus the ordinal of the
/// newest message at or before the read id), minus the viewer's own among them (author
/// ordinals likewise), minus the deleted ones, plus the viewer's own deleted ones (taken
/// away twice). Four index seeks plus two counts over the deleted messages after the
/// last read, where counting the unread messages themselves read one index entry per
/// message. No receipt: everything counts (ids are >= 0). `INDEXED BY` pins each lookup
/// to the index that makes it a seek (a planner change fails loudly instead of scanning).
macro_rules! unread_count {
    ($viewer:literal) => {
        concat!(
            "(c.message_count \
             - COALESCE((SELECT o.ordinal FROM messages o INDEXED BY messages_channel \
                 WHERE o.channel_id = c.id AND o.id <= r.message_id \
                 ORDER BY o.id DESC LIMIT 1), 0) \
             - COALESCE((SELECT s.author_ordinal FROM messages s \
                 INDEXED BY messages_channel_author \
                 WHERE s.channel_id = c.id AND s.author_id = ",
            $viewer,
            " ORDER BY s.id DESC LIMIT 1), 0) \
             + COALESCE((SELECT s.author_ordinal FROM messages s \
                 INDEXED BY messages_channel_author \
                 WHERE s.channel_id = c.id AND s.author_id = ",
            $viewer,
            " AND s.id <= r.message_id ORDER BY s.id DESC LIMIT 1), 0) \
             - (SELECT COUNT(*) FROM messages d INDEXED BY messages_deleted \
                 WHERE d.channel_id = c.id AND d.id > COALESCE(r.message_id, -1) \
                 AND d.deleted_at IS NOT NULL) \
             + (SELECT COUNT(*) FROM messages d INDEXED BY messages_deleted \
                 WHERE d.channel_id = c.id AND d.id > COALESCE(r.message_id, -1) \
                 AND d.deleted_at IS NOT NULL AND d.author_id = ",
            $viewer,
            "))"
        )
    };
}

/// `SELECT` of a channel as viewer `?1` sees it; callers append `WHERE`/`ORDER BY`.
macro_rules! view_select {
    () => {
        concat!(
            "SELECT c.id, c.kind, \
           CASE WHEN c.kind = 'dm' THEN COALESCE( \
             (SELECT u.display_name FROM members o JOIN users u ON u.id = o.user_id \
              WHERE o.channel_id = c.id AND o.user_id <> ?1 ORDER BY o.user_id LIMIT 1), \
             (SELECT u.display_name FROM users u WHERE u.id = ?1), '') \
           ELSE c.name END, \
           c.visibility, c.parent_id, c.root_message_id, c.member_count, c.last_message_id, \
           c.event_offset, me.user_id IS NOT NULL, r.message_id, \
           CASE WHEN me.user_id IS NULL THEN 0 ELSE ",
            $crate::backend::sqlite::view::unread_count!("?1"),
            " END, \
           mu.channel_id IS NOT NULL, mu.until \
         FROM channels c \
         LEFT JOIN members me ON me.channel_id = c.id AND me.user_id = ?1 \
         LEFT JOIN receipts r ON r.channel_id = c.id AND r.user_id = ?1 \
         LEFT JOIN mutes mu ON mu.channel_id = c.id AND mu.user_id = ?1 "
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
       c.event_offset, 1, r.message_id, ",
    unread_count!("me.user_id"),
    ", mu.channel_id IS NOT NULL, mu.until, me.user_id \
     FROM members me JOIN channels c ON c.id = me.channel_id \
     LEFT JOIN receipts r ON r.channel_id = c.id AND r.user_id = me.user_id \
     LEFT JOIN mutes mu ON mu.channel_id = c.id AND mu.user_id = me.user_id \
     WHERE me.channel_id = ?1 ORDER BY me.user_id"
);

/// The channel as each of its members sees it, by member id.
pub(crate) fn load_member_views(conn: &Connection, channel: i64) -> Result<Vec<(UserId, Channel)>> {
    let now = now_ms();
    let raws = conn
        .prepare_cached(MEMBER_VIEWS)
        .and_then(|mut stmt| {
            stmt.query_map([channel], |row| {
                Ok((row.get::<_, i64>(14)?, raw_view(row)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .store()?;
    raws.into_iter()
        .map(|(member, raw)| Ok((to_id(member), raw.finish(now)?)))
        .collect()
}

/// A channel record by id.
pub(crate) fn load_record(conn: &Connection, channel: i64) -> Result<Option<ChannelRecord>> {
    let row = conn
        .prepare_cached(concat!(record_select!(), "WHERE id = ?1"))
        .and_then(|mut stmt| stmt.query_row([channel], raw_record).optional())
        .store()?;
    row.map(RawRecord::finish).transpose()
}

/// A channel as `viewer` sees it, by id.
pub(crate) fn load_view(conn: &Connection, channel: i64, viewer: i64) -> Result<Option<Channel>> {
    let now = now_ms();
    let row = conn
        .prepare_cached(concat!(view_select!(), "WHERE c.id = ?2"))
        .and_then(|mut stmt| stmt.query_row([viewer, channel], raw_view).optional())
        .store()?;
    row.map(|raw| raw.finish(now)).transpose()
}

/// Runs a [`view_select!`] statement (viewer bound as `?1`).
pub(crate) fn query_views(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Channel>> {
    let now = now_ms();
    let raws = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_map(params, raw_view)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .store()?;
    raws.into_iter().map(|raw| raw.finish(now)).collect()
}

/// A record row before its text columns are parsed.
struct RawRecord {
    id: i64,
    kind: String,
    name: String,
    visibility: String,
    parent_id: Option<i64>,
    root_message_id: Option<i64>,
    owner_id: i64,
    member_count: i64,
    last_message_id: Option<i64>,
    offset: i64,
    created_at: i64,
}

fn raw_record(row: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        id: row.get(0)?,
        kind: row.get(1)?,
        name: row.get(2)?,
        visibility: row.get(3)?,
        parent_id: row.get(4)?,
        root_message_id: row.get(5)?,
        owner_id: row.get(6)?,
        member_count: row.get(7)?,
        last_message_id: row.get(8)?,
        offset: row.get(9)?,
        created_at: row.get(10)?,
    })
}

impl RawRecord {
    fn finish(self) -> Result<ChannelRecord> {
        let kind = parse_kind(&self.kind)?;
        Ok(ChannelRecord {
            id: to_id(self.id),
            kind,
            // A DM has no name of its own (the viewer's view names it).
            name: if kind == ChannelKind::Dm {
                String::new()
            } else {
                self.name
            },
            visibility: parse_visibility(&self.visibility)?,
            parent_id: self.parent_id.map(to_id),
            root_message_id: self.root_message_id.map(to_id),
            owner_id: to_id(self.owner_id),
            member_count: to_u32(self.member_count),
            last_message_id: self.last_message_id.map(to_id),
            offset: to_u64(self.offset),
            created_at: to_u64(self.created_at),
        })
    }
}

/// A view row before its text columns are parsed and the mute is judged.
struct RawView {
    id: i64,
    kind: String,
    name: String,
    visibility: String,
    parent_id: Option<i64>,
    root_message_id: Option<i64>,
    member_count: i64,
    last_message_id: Option<i64>,
    offset: i64,
    is_member: bool,
    last_read: Option<i64>,
    unread: i64,
    has_mute: bool,
    mute_until: Option<i64>,
}

fn raw_view(row: &Row<'_>) -> rusqlite::Result<RawView> {
    Ok(RawView {
        id: row.get(0)?,
        kind: row.get(1)?,
        name: row.get(2)?,
        visibility: row.get(3)?,
        parent_id: row.get(4)?,
        root_message_id: row.get(5)?,
        member_count: row.get(6)?,
        last_message_id: row.get(7)?,
        offset: row.get(8)?,
        is_member: row.get(9)?,
        last_read: row.get(10)?,
        unread: row.get(11)?,
        has_mute: row.get(12)?,
        mute_until: row.get(13)?,
    })
}

impl RawView {
    fn finish(self, now: u64) -> Result<Channel> {
        let until = self.mute_until.map(to_u64);
        let muted = self.is_member && self.has_mute && until.is_none_or(|until| until > now);
        Ok(Channel {
            id: to_id(self.id),
            kind: parse_kind(&self.kind)?,
            name: self.name,
            visibility: parse_visibility(&self.visibility)?,
            parent_id: self.parent_id.map(to_id),
            root_message_id: self.root_message_id.map(to_id),
            member_count: to_u32(self.member_count),
            last_message_id: self.last_message_id.map(to_id),
            offset: to_u64(self.offset),
            last_read_message_id: self.last_read.filter(|_| self.is_member).map(to_id),
            unread_count: if self.is_member {
                to_u32(self.unread)
            } else {
                0
            },
            muted,
            muted_until: if muted { until } else { None },
        })
    }
}

/// `NotFound` for a channel id that names nothing.
pub(crate) fn no_channel() -> StoreError {
    StoreError::NotFound("channel_id: no such channel".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sqlite::migrate;

    /// Every line of `sql`'s query plan.
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([1], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// The unread count reads no range of messages but the deleted ones: its message
    /// lookups are searches of covering indexes (no table row read), nothing is
    /// scanned or sorted.
    #[test]
    fn unread_count_is_index_searches() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        for sql in [
            concat!(view_select!(), "WHERE c.id = ?1"),
            concat!(
                view_select!(),
                "WHERE c.id IN (SELECT channel_id FROM members WHERE user_id = ?1)"
            ),
            MEMBER_VIEWS,
        ] {
            let plan = plan(&conn, sql);
            for index in [
                "messages_channel ",
                "messages_deleted ",
                "messages_channel_author ",
            ] {
                assert!(
                    plan.iter().any(|line| line.starts_with("SEARCH")
                        && line.contains(&format!("COVERING INDEX {index}"))),
                    "{index}: {plan:#?}"
                );
            }
            assert!(
                !plan
                    .iter()
                    .any(|line| line.starts_with("SCAN") || line.contains("TEMP B-TREE")),
                "{plan:#?}"
            );
        }
    }
}
