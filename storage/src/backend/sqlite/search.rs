//! [`SearchStore`] for SQLite: FTS5 over undeleted messages (kept in sync by triggers,
//! see the migration).
//!
//! User input never reaches FTS5 as syntax: each word becomes a quoted string (`"` is
//! doubled), and the words are ANDed. Words with no letter or digit are dropped, since
//! the tokenizer would make nothing of them. A query with no words at all searches by
//! the filters alone, newest first. With words, the page is ranked by FTS5's `bm25`
//! (most relevant first), then newest first. Filters are bound as nullable parameters
//! (`?n IS NULL OR ...`), so each statement is prepared once and cached.
//!
//! The time budget is a progress handler on the connection: SQLite calls it every
//! [`PROGRESS_STEPS`] virtual-machine steps, and once the deadline has passed the
//! statement is interrupted and the search answers `Unavailable`. The handler is
//! removed before the connection goes back to the pool.

use std::time::Instant;

use async_trait::async_trait;
use protocol::Message;
use rusqlite::{params, Connection};

use super::codec::id;
use super::error::SqlResultExt;
use super::rows::{message_select, query_messages};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::search::{SearchQuery, SearchStore};

/// Virtual-machine steps between two looks at the clock (a few microseconds).
const PROGRESS_STEPS: i32 = 1_000;

/// The filters shared by every statement; `?1` is the FTS query (unused without
/// words), `?2` the searcher (NULL: every channel), then the optional filters.
macro_rules! filters {
    () => {
        "m.deleted_at IS NULL \
         AND (?2 IS NULL OR m.channel_id IN (SELECT channel_id FROM members WHERE user_id = ?2)) \
         AND (?3 IS NULL OR m.channel_id = ?3) \
         AND (?4 IS NULL OR m.author_id = ?4) \
         AND (?5 IS NULL OR m.id < ?5) \
         AND (?6 IS NULL OR m.id > ?6) \
         AND (?7 = 0 OR EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)) "
    };
}

/// Ranked: the FTS table drives, `rank` is its bm25 score (lower is better).
const TEXT_PAGE: &str = concat!(
    "SELECT m.id, m.channel_id, m.content, m.created_at, m.edited_at, m.reply_to, \
     m.nonce, m.deleted_at, u.id, u.username, u.display_name \
     FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN users u ON u.id = m.author_id ",
    "WHERE messages_fts MATCH ?1 AND ",
    filters!(),
    "ORDER BY f.rank, m.id DESC LIMIT ?8"
);
const TEXT_TOTAL: &str = concat!(
    "SELECT COUNT(*) FROM messages_fts f JOIN messages m ON m.id = f.rowid ",
    "WHERE messages_fts MATCH ?1 AND ",
    filters!()
);
const FILTER_PAGE: &str = concat!(
    message_select!(),
    "WHERE ?1 IS NULL AND ",
    filters!(),
    "ORDER BY m.id DESC LIMIT ?8"
);
const FILTER_TOTAL: &str = concat!(
    "SELECT COUNT(*) FROM messages m WHERE ?1 IS NULL AND ",
    filters!()
);

/// The FTS5 query for user text: quoted words, ANDed; `None` when there is no word.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search(&self, query: &SearchQuery) -> Result<(Vec<Message>, u64)> {
        let query = query.clone();
        let deadline = query.time_budget.map(|budget| Instant::now() + budget);
        self.read(move |conn| {
            if let Some(deadline) = deadline {
                conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() >= deadline));
            }
            let out = run(conn, &query);
            conn.progress_handler(PROGRESS_STEPS, None::<fn() -> bool>);
            out.map_err(|err| match err {
                StoreError::Internal(_) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    StoreError::Unavailable("search: over its time budget".into())
                }
                other => other,
            })
        })
        .await
    }
}

/// The page and the total of `query`.
fn run(conn: &Connection, query: &SearchQuery) -> Result<(Vec<Message>, u64)> {
    let fts = fts_query(&query.text);
    let user = query.user.map(id);
    let channel = query.channel_id.map(id);
    let author = query.author_id.map(id);
    let before = query.before.map(id);
    let after = query.after.map(id);
    let has_attachment = query.has_attachment;
    let (page_sql, total_sql) = if fts.is_some() {
        (TEXT_PAGE, TEXT_TOTAL)
    } else {
        (FILTER_PAGE, FILTER_TOTAL)
    };
    let total: i64 = conn
        .prepare_cached(total_sql)
        .and_then(|mut stmt| {
            stmt.query_row(
                params![fts, user, channel, author, before, after, has_attachment],
                |row| row.get(0),
            )
        })
        .store()?;
    let messages = if query.limit == 0 || total == 0 {
        Vec::new()
    } else {
        query_messages(
            conn,
            page_sql,
            params![
                fts,
                user,
                channel,
                author,
                before,
                after,
                has_attachment,
                query.limit
            ],
        )?
    };
    Ok((messages, super::codec::to_u64(total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_and_syntax_is_inert() {
        assert_eq!(
            fts_query("Hello world").as_deref(),
            Some("\"Hello\" \"world\"")
        );
        assert_eq!(fts_query("a\"b OR").as_deref(), Some("\"a\"\"b\" \"OR\""));
        assert_eq!(fts_query("  !!! *  "), None);
        assert_eq!(fts_query(""), None);
    }

    /// Index rows matching `word`, after checking the index's own consistency.
    async fn indexed(store: &SqliteStore, word: &'static str) -> i64 {
        store
            .read(move |conn| {
                conn.execute(
                    "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
                    [],
                )
                .store()?;
                conn.query_row(
                    "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?1",
                    [word],
                    |row| row.get(0),
                )
                .store()
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_index_follows_inserts_edits_deletes_and_cascades() {
        use protocol::{ChannelId, MessageId, UserId};

        use crate::ops::channels::ChannelStore;
        use crate::ops::messages::{MessageStore, NewMessage};

        let store = SqliteStore::open_in_memory().unwrap();
        let (ann, channel) = (UserId::new(1), ChannelId::new(2));
        crate::backend::sqlite::testutil::user_and_group(&store, ann, channel).await;
        for n in 10..13 {
            store
                .create_message(NewMessage {
                    id: MessageId::new(n),
                    channel_id: channel,
                    author_id: ann,
                    content: "alpha beta".into(),
                    created_at: n,
                    reply_to: None,
                    nonce: None,
                    attachment_ids: Vec::new(),
                })
                .await
                .unwrap();
        }
        assert_eq!(indexed(&store, "alpha").await, 3);
        store
            .edit_message(MessageId::new(10), "gamma", 20)
            .await
            .unwrap();
        assert_eq!(indexed(&store, "alpha").await, 2);
        assert_eq!(indexed(&store, "gamma").await, 1);
        store.delete_message(MessageId::new(11), 21).await.unwrap();
        assert_eq!(indexed(&store, "alpha").await, 1);
        store.delete_channel(channel).await.unwrap();
        assert_eq!(indexed(&store, "alpha").await, 0);
        assert_eq!(indexed(&store, "gamma").await, 0);
    }

    #[tokio::test]
    async fn hostile_queries_do_not_error() {
        let store = SqliteStore::open_in_memory().unwrap();
        for text in [
            "\"",
            "NEAR(",
            "a AND",
            "col:x",
            "x*",
            "^start",
            "-not",
            "(",
            "' OR 1=1 --",
        ] {
            let query = SearchQuery {
                text: text.into(),
                limit: 10,
                ..Default::default()
            };
            store.search(&query).await.unwrap();
        }
    }
}
