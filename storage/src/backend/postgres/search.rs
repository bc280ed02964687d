//! [`SearchStore`] for PostgreSQL: a `tsvector` column (the `simple` configuration:
//! lowercased, every word kept) with a GIN index over undeleted messages.
//!
//! User input never reaches the server as query syntax: the text is split on
//! whitespace, words with no letter or digit are dropped (as the SQLite backend does),
//! and each word becomes `phraseto_tsquery('simple', word)` (its tokens adjacent, as an
//! FTS5 quoted string), all ANDed by the `l4_tsquery_and` aggregate of the migration.
//! A query with no words searches by the filters alone, newest first. With words, the
//! page is ranked by `ts_rank` (most relevant first), then newest first. Filters are
//! nullable parameters (`$n IS NULL OR ...`), so each statement is prepared once.
//!
//! The PostgreSQL+ScyllaDB backend runs the same statements over its `message_index`
//! ([`search_rows`] with its own [`SearchSql`]) and reads the page's messages from
//! ScyllaDB.
//!
//! The time budget is `statement_timeout`, set for the read's own transaction: a
//! statement still running when it expires is cancelled by the server and the search
//! answers `Unavailable`; a budget already spent answers so without a query.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_postgres::{Object, Transaction};
use protocol::Message;
use tokio_postgres::Row;

use super::codec::{get, id, to_u64};
use super::error::PgResultExt;
use super::rows::{self, hydrate, message_from, message_select, query_one};
use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::ops::search::{SearchQuery, SearchStore};

/// The words' query: `$1` is the array of words (empty: none).
macro_rules! words_query {
    () => {
        "(SELECT l4_tsquery_and(phraseto_tsquery('simple', w)) AS query FROM unnest($1::text[]) w)"
    };
}

/// The filters shared by every statement over the table aliased `m` (`messages`, or
/// `message_index` in the PostgreSQL+ScyllaDB backend); `$2` is the searcher (NULL:
/// every channel), then the optional filters; `$has` is the has-attachment test.
macro_rules! filters {
    ($has:literal) => {
        concat!(
            "m.deleted_at IS NULL \
         AND ($2::bigint IS NULL OR m.channel_id IN (SELECT channel_id FROM members WHERE user_id = $2)) \
         AND ($3::bigint IS NULL OR m.channel_id = $3) \
         AND ($4::bigint IS NULL OR m.author_id = $4) \
         AND ($5::bigint IS NULL OR m.id < $5) \
         AND ($6::bigint IS NULL OR m.id > $6) \
         AND (NOT $7::boolean OR ",
            $has,
            ") "
        )
    };
}

/// The four statements of a search (`$1` the words, `$2`..`$7` the filters, `$8` the
/// limit): a page and a total, with words and without.
pub(crate) struct SearchSql {
    /// A page ranked by relevance, then newest first.
    pub text_page: &'static str,
    /// The number of matches of the words.
    pub text_total: &'static str,
    /// A page by the filters alone, newest first.
    pub filter_page: &'static str,
    /// The number of matches of the filters.
    pub filter_total: &'static str,
}

/// Search over `messages`; pages are [`message_select!`] rows.
const MESSAGES: SearchSql = SearchSql {
    text_page: concat!(
        message_select!(),
        ", ",
        words_query!(),
        " q WHERE m.search @@ q.query AND ",
        filters!("EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)"),
        "ORDER BY ts_rank(m.search, q.query) DESC, m.id DESC LIMIT $8"
    ),
    text_total: concat!(
        "SELECT COUNT(*) FROM messages m, ",
        words_query!(),
        " q WHERE m.search @@ q.query AND ",
        filters!("EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)")
    ),
    filter_page: concat!(
        message_select!(),
        "WHERE cardinality($1::text[]) = 0 AND ",
        filters!("EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)"),
        "ORDER BY m.id DESC LIMIT $8"
    ),
    filter_total: concat!(
        "SELECT COUNT(*) FROM messages m WHERE cardinality($1::text[]) = 0 AND ",
        filters!("EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)")
    ),
};

pub(crate) use {filters, words_query};

/// The words of user text that can match anything (at least one letter or digit).
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

#[async_trait]
impl SearchStore for PostgresStore {
    async fn search(&self, query: &SearchQuery) -> Result<(Vec<Message>, u64)> {
        let mut client = self.client().await?;
        let (rows, total) = search_rows(&mut client, query, &MESSAGES).await?;
        let mut messages = rows
            .iter()
            .map(|row| message_from(row).map(|(m, _)| m))
            .collect::<Result<Vec<_>>>()?;
        hydrate(&client, &mut messages).await?;
        Ok((messages, total))
    }
}

/// Runs a search's total and page statements (`sql`) in one read-only transaction
/// within the query's time budget; the page's rows and the total.
pub(crate) async fn search_rows(
    client: &mut Object,
    query: &SearchQuery,
    sql: &SearchSql,
) -> Result<(Vec<Row>, u64)> {
    let deadline = query.time_budget.map(|budget| Instant::now() + budget);
    let over = || StoreError::Unavailable("search: over its time budget".into());
    let remaining = |deadline: Option<Instant>| -> Result<Option<Duration>> {
        match deadline {
            None => Ok(None),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(over())
                } else {
                    Ok(Some(left))
                }
            }
        }
    };
    remaining(deadline)?;
    let words = words(&query.text);
    let (page_sql, total_sql) = if words.is_empty() {
        (sql.filter_page, sql.filter_total)
    } else {
        (sql.text_page, sql.text_total)
    };
    let user = query.user.map(id);
    let channel = query.channel_id.map(id);
    let author = query.author_id.map(id);
    let before = query.before.map(id);
    let after = query.after.map(id);
    let limit = i64::from(query.limit);

    let tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .pg()?;
    let timed_out = |err: StoreError| match err {
        StoreError::Unavailable(_) if deadline.is_some_and(|d| Instant::now() >= d) => over(),
        other => other,
    };
    set_budget(&tx, remaining(deadline)?).await?;
    let row = query_one(
        &tx,
        total_sql,
        &[
            &words,
            &user,
            &channel,
            &author,
            &before,
            &after,
            &query.has_attachment,
        ],
    )
    .await
    .map_err(timed_out)?;
    let total = to_u64(get(&row, 0)?);
    let rows = if limit == 0 || total == 0 {
        Vec::new()
    } else {
        set_budget(&tx, remaining(deadline)?).await?;
        rows::query(
            &tx,
            page_sql,
            &[
                &words,
                &user,
                &channel,
                &author,
                &before,
                &after,
                &query.has_attachment,
                &limit,
            ],
        )
        .await
        .map_err(timed_out)?
    };
    tx.commit().await.pg()?;
    Ok((rows, total))
}

/// Limits the statements that follow in `tx` to `left` (none: no limit).
async fn set_budget(tx: &Transaction<'_>, left: Option<Duration>) -> Result<()> {
    let Some(left) = left else {
        return Ok(());
    };
    // At least 1 ms (0 means no limit), at most what the setting holds.
    let ms = u64::try_from(left.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, i32::MAX as u64);
    tx.batch_execute(&format!("SET LOCAL statement_timeout = {ms}"))
        .await
        .pg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_without_letters_or_digits_are_dropped() {
        assert_eq!(words("Hello  world!"), vec!["Hello", "world!"]);
        assert_eq!(words("a\"b OR"), vec!["a\"b", "OR"]);
        assert!(words("  !!! *  ").is_empty());
        assert!(words("").is_empty());
    }
}
