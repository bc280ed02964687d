//! [`SearchStore`]: the PostgreSQL backend's statements over `message_index` (same
//! words, filters, ranking, totals and time budget), then the page's messages read
//! from ScyllaDB by `(channel, id)`, concurrently. A message the index still lists but
//! history holds deleted or not at all (a history write that failed) is left out of
//! the page; the total is the index's.

use async_trait::async_trait;
use protocol::{ChannelId, Message, MessageId};

use super::PgScyllaStore;
use crate::backend::postgres::codec::{get, to_id};
use crate::backend::postgres::search::{filters, search_rows, words_query, SearchSql};
use crate::error::Result;
use crate::ops::search::{SearchQuery, SearchStore};

/// Search over `message_index`; pages are `(id, channel_id)` rows.
const INDEX: SearchSql = SearchSql {
    text_page: concat!(
        "SELECT m.id, m.channel_id FROM message_index m, ",
        words_query!(),
        " q WHERE m.search @@ q.query AND ",
        filters!("m.has_attachment"),
        "ORDER BY ts_rank(m.search, q.query) DESC, m.id DESC LIMIT $8"
    ),
    text_total: concat!(
        "SELECT COUNT(*) FROM message_index m, ",
        words_query!(),
        " q WHERE m.search @@ q.query AND ",
        filters!("m.has_attachment")
    ),
    filter_page: concat!(
        "SELECT m.id, m.channel_id FROM message_index m \
         WHERE cardinality($1::text[]) = 0 AND ",
        filters!("m.has_attachment"),
        "ORDER BY m.id DESC LIMIT $8"
    ),
    filter_total: concat!(
        "SELECT COUNT(*) FROM message_index m WHERE cardinality($1::text[]) = 0 AND ",
        filters!("m.has_attachment")
    ),
};

#[async_trait]
impl SearchStore for PgScyllaStore {
    async fn search(&self, query: &SearchQuery) -> Result<(Vec<Message>, u64)> {
        let mut client = self.pg.client().await?;
        let (rows, total) = search_rows(&mut client, query, &INDEX).await?;
        drop(client);
        let ids = rows
            .iter()
            .map(|row| {
                let id: MessageId = to_id(get(row, 0)?);
                let channel: ChannelId = to_id(get(row, 1)?);
                Ok((channel, id))
            })
            .collect::<Result<Vec<_>>>()?;
        let stored = self
            .history
            .messages_by_id(&ids)
            .await?
            .into_iter()
            .flatten()
            .filter(|m| m.deleted_at.is_none())
            .collect();
        Ok((self.with_authors(stored).await?, total))
    }
}
