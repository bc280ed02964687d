//! The schema migrator: numbered SQL files from the workspace's `migrations/sqlite/`,
//! embedded in the binary and applied in order, each in its own transaction, recorded in
//! `schema_migrations(version)`.
//!
//! It is deliberately tiny: forward only, no checksums. A database that already has a
//! version this binary does not know (written by a newer release) is left alone and
//! logged, since older code can usually still read it.

use rusqlite::{Connection, TransactionBehavior};

use super::codec::{int, now_ms};
use super::error::SqlResultExt;
use crate::error::Result;

/// Every migration, by version, in order.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../../migrations/sqlite/0002_nonce_unique.sql"),
    ),
    (
        3,
        include_str!("../../../../migrations/sqlite/0003_media_public_urls.sql"),
    ),
    (
        4,
        include_str!("../../../../migrations/sqlite/0004_message_ordinal.sql"),
    ),
    (
        5,
        include_str!("../../../../migrations/sqlite/0005_fts_by_batch.sql"),
    ),
    (
        6,
        include_str!("../../../../migrations/sqlite/0006_drop_messages_author.sql"),
    ),
];

/// Applies every migration `conn` lacks; returns how many were applied.
pub fn migrate(conn: &mut Connection) -> Result<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at INTEGER NOT NULL
         )",
    )
    .store()?;
    let mut applied = 0;
    for &(version, sql) in MIGRATIONS {
        // IMMEDIATE: two processes opening the same file cannot both apply a version.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .store()?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |row| row.get(0),
            )
            .store()?;
        if !done {
            tx.execute_batch(sql).store()?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                [version, int(now_ms())],
            )
            .store()?;
            applied += 1;
            tracing::info!(version, "applied sqlite migration");
        }
        tx.commit().store()?;
    }
    let newest: Option<i64> = conn
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |row| {
            row.get(0)
        })
        .store()?;
    let known = MIGRATIONS.last().map_or(0, |&(version, _)| version);
    if newest.is_some_and(|newest| newest > known) {
        tracing::warn!(
            ?newest,
            known,
            "database schema is newer than this binary knows"
        );
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn applies_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len());
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(count, i64::try_from(MIGRATIONS.len()).unwrap());
    }

    #[test]
    fn nonce_duplicates_keep_the_oldest_then_become_impossible() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A database at version 1, with duplicates its plain index allowed.
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
             INSERT INTO schema_migrations VALUES (1, 0);",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[0].1).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, search_name, password_hash, created_at)
                 VALUES (1, 'ann', 'Ann', ' ann', 'x', 0), (2, 'bob', 'Bob', ' bob', 'x', 0);
             INSERT INTO channels (id, kind, name, search_name, visibility, owner_id, created_at)
                 VALUES (10, 'group', 'g', 'g', 'private', 1, 0);
             INSERT INTO messages (id, channel_id, author_id, content, created_at, nonce, event_offset)
                 VALUES (103, 10, 1, 'third', 3, 'n', 3),
                        (101, 10, 1, 'first', 1, 'n', 1),
                        (102, 10, 1, 'second', 2, 'n', 2),
                        (104, 10, 2, 'bob', 4, 'n', 4),
                        (105, 10, 1, 'other nonce', 5, 'm', 5),
                        (106, 10, 1, 'no nonce', 6, NULL, 6);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len() - 1);
        let nonces: Vec<(i64, Option<String>)> = conn
            .prepare("SELECT id, nonce FROM messages ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let some = |n: &str| Some(n.to_owned());
        assert_eq!(
            nonces,
            vec![
                (101, some("n")),
                (102, None),
                (103, None),
                (104, some("n")),
                (105, some("m")),
                (106, None),
            ]
        );
        let again = conn.execute(
            "INSERT INTO messages (id, channel_id, author_id, content, created_at, nonce, event_offset)
             VALUES (107, 10, 1, 'again', 7, 'n', 7)",
            [],
        );
        assert!(again.is_err(), "the unique index refuses a repeated nonce");
        conn.execute(
            "INSERT INTO messages (id, channel_id, author_id, content, created_at, nonce, event_offset)
             VALUES (108, 10, 1, 'no nonce again', 8, NULL, 8)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn signed_media_urls_lose_their_signature() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A database at version 2, with urls as version 2 of the API stored them.
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
             INSERT INTO schema_migrations VALUES (1, 0), (2, 0);",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[0].1).unwrap();
        conn.execute_batch(MIGRATIONS[1].1).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, search_name, password_hash, created_at)
                 VALUES (1, 'ann', 'Ann', ' ann', 'x', 0);
             INSERT INTO attachments (id, uploader_id, filename, content_type, size, url, thumbnail_url, created_at)
                 VALUES (7, 1, 'a.png', 'image/png', 1, '/media/7/a.png?sig=00ff', '/media/7/thumbnail?sig=00ff', 0),
                        (8, 1, 'b.txt', 'text/plain', 1, '/media/8/b.txt?sig=abcd', NULL, 0),
                        (9, 1, 'c.txt', 'text/plain', 1, '/media/9/c.txt', NULL, 0);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len() - 2);
        let urls: Vec<(String, Option<String>)> = conn
            .prepare("SELECT url, thumbnail_url FROM attachments ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let url = |u: &str| u.to_owned();
        assert_eq!(
            urls,
            vec![
                (url("/media/7/a.png"), Some(url("/media/7/thumbnail"))),
                (url("/media/8/b.txt"), None),
                (url("/media/9/c.txt"), None),
            ]
        );
    }

    #[test]
    fn message_ordinals_are_backfilled_per_channel_in_id_order() {
        use super::super::messages::insert_message;
        use super::super::view::load_view;
        use crate::ops::messages::NewMessage;
        use protocol::{ChannelId, MessageId, UserId};

        let mut conn = Connection::open_in_memory().unwrap();
        // A database at version 3, with messages stored out of id order in two channels,
        // some deleted, and read receipts (one between two messages, one on a deleted
        // message, one before the first).
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
             INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0);",
        )
        .unwrap();
        for &(_, sql) in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, search_name, password_hash, created_at)
                 VALUES (1, 'ann', 'Ann', ' ann', 'x', 0), (2, 'bob', 'Bob', ' bob', 'x', 0),
                        (3, 'cat', 'Cat', ' cat', 'x', 0);
             INSERT INTO channels (id, kind, name, search_name, visibility, owner_id, member_count, created_at)
                 VALUES (10, 'group', 'g', 'g', 'private', 1, 3, 0),
                        (20, 'group', 'h', 'h', 'private', 1, 3, 0),
                        (30, 'group', 'empty', 'empty', 'private', 1, 3, 0);
             INSERT INTO members (channel_id, user_id, role)
                 VALUES (10, 1, 'owner'), (10, 2, 'member'), (10, 3, 'member'),
                        (20, 1, 'owner'), (20, 2, 'member'), (20, 3, 'member'),
                        (30, 1, 'owner'), (30, 2, 'member'), (30, 3, 'member');
             INSERT INTO messages (id, channel_id, author_id, content, created_at, deleted_at, event_offset)
                 VALUES (105, 10, 2, 'e', 5, NULL, 5),
                        (101, 10, 1, 'a', 1, NULL, 1),
                        (201, 20, 3, 'x', 1, NULL, 1),
                        (103, 10, 1, 'c', 3, 9, 3),
                        (102, 10, 2, 'b', 2, NULL, 2),
                        (203, 20, 1, 'y', 2, NULL, 2),
                        (104, 10, 3, 'd', 4, NULL, 4),
                        (107, 10, 1, 'g', 7, 9, 7);
             INSERT INTO receipts (channel_id, user_id, message_id)
                 VALUES (10, 2, 103), (10, 3, 106), (20, 2, 100);",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len() - 3);

        // (id, author, ordinal, author ordinal)
        let ordinals = |conn: &Connection| -> Vec<(i64, i64, i64, i64)> {
            conn.prepare("SELECT id, author_id, ordinal, author_ordinal FROM messages ORDER BY id")
                .unwrap()
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let counts = |conn: &Connection| -> Vec<i64> {
            conn.prepare("SELECT message_count FROM channels ORDER BY id")
                .unwrap()
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(
            ordinals(&conn),
            vec![
                (101, 1, 1, 1),
                (102, 2, 2, 1),
                (103, 1, 3, 2),
                (104, 3, 4, 1),
                (105, 2, 5, 2),
                (107, 1, 6, 3),
                (201, 3, 1, 1),
                (203, 1, 2, 1),
            ]
        );
        assert_eq!(counts(&conn), vec![6, 2, 0]);
        let unread = |conn: &Connection, channel: i64, viewer: i64| {
            load_view(conn, channel, viewer)
                .unwrap()
                .unwrap()
                .unread_count
        };
        // Undeleted and not one's own, after the receipt: 101, 102, 104, 105 and 201, 203
        // are the undeleted ones.
        assert_eq!(unread(&conn, 10, 1), 3, "ann, no receipt: 102, 104, 105");
        assert_eq!(unread(&conn, 10, 2), 1, "bob, read to 103 (deleted): 104");
        assert_eq!(
            unread(&conn, 10, 3),
            0,
            "cat, read to 106 (no message): 107 is deleted"
        );
        assert_eq!(unread(&conn, 20, 2), 2, "bob, read to 100 (before all)");
        assert_eq!(unread(&conn, 20, 3), 1, "cat, no receipt: 203");
        assert_eq!(unread(&conn, 30, 1), 0);

        // New messages continue the numbering, an older id than the newest included.
        let message = |id: u64, channel: u64| NewMessage {
            id: MessageId::new(id),
            channel_id: ChannelId::new(channel),
            author_id: UserId::new(2),
            content: "new".into(),
            created_at: 10,
            reply_to: None,
            nonce: None,
            attachment_ids: Vec::new(),
        };
        insert_message(&conn, message(108, 10)).unwrap();
        insert_message(&conn, message(106, 10)).unwrap();
        insert_message(&conn, message(301, 30)).unwrap();
        assert_eq!(
            ordinals(&conn),
            vec![
                (101, 1, 1, 1),
                (102, 2, 2, 1),
                (103, 1, 3, 2),
                (104, 3, 4, 1),
                (105, 2, 5, 2),
                (106, 2, 6, 3),
                (107, 1, 7, 3),
                (108, 2, 8, 4),
                (201, 3, 1, 1),
                (203, 1, 2, 1),
                (301, 2, 1, 1),
            ]
        );
        assert_eq!(counts(&conn), vec![8, 2, 1]);
        assert_eq!(unread(&conn, 10, 3), 1, "cat, read to 106 (now bob's): 108");
        assert_eq!(unread(&conn, 10, 1), 5, "ann: 102, 104, 105, 106, 108");
        assert_eq!(unread(&conn, 10, 2), 1, "bob, read to 103: 104");
    }
}
