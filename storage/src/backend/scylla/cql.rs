//! CQL text: the embedded migrations, a statement splitter, and every statement this
//! backend prepares.
//!
//! The statements live here, as constants, so one unit test can check each of them
//! against the tables the migrations create (every column it names exists in the table
//! it names) without a server.

/// The migrations, in order: `(version, name, text)`.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "0001_init",
    include_str!("../../../../migrations/scylla/0001_init.cql"),
)];

/// Splits a CQL script into statements at the `;` that end them, leaving out comments
/// (`--` and `//` to the end of the line, `/* ... */`) and empty statements. A `;` or a
/// comment marker inside a string (`'...'` with `''` escapes, `$$...$$`) or a quoted
/// identifier (`"..."`) is text. An unterminated string or comment is an error.
pub fn split_statements(script: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => skip_line(&mut chars),
            '/' if chars.peek() == Some(&'/') => skip_line(&mut chars),
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                loop {
                    match chars.next() {
                        Some('/') if prev == '*' => break,
                        Some(c) => prev = c,
                        None => return Err("CQL: unterminated /* comment".into()),
                    }
                }
                current.push(' ');
            }
            '\'' | '"' => {
                current.push(c);
                loop {
                    match chars.next() {
                        Some(q) if q == c => {
                            current.push(q);
                            // A doubled quote is an escaped quote, not the end.
                            if chars.peek() == Some(&c) {
                                current.push(c);
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        Some(other) => current.push(other),
                        None => return Err(format!("CQL: unterminated {c} string")),
                    }
                }
            }
            '$' if chars.peek() == Some(&'$') => {
                chars.next();
                current.push_str("$$");
                let mut prev = ' ';
                loop {
                    match chars.next() {
                        Some('$') if prev == '$' => {
                            current.push('$');
                            break;
                        }
                        Some(other) => {
                            current.push(other);
                            prev = other;
                        }
                        None => return Err("CQL: unterminated $$ string".into()),
                    }
                }
            }
            ';' => push_statement(&mut out, &mut current),
            // Runs of whitespace outside strings become one space, so statements log
            // on one line.
            space if space.is_whitespace() => {
                if !current.is_empty() && !current.ends_with(' ') {
                    current.push(' ');
                }
            }
            other => current.push(other),
        }
    }
    push_statement(&mut out, &mut current);
    Ok(out)
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

fn push_statement(out: &mut Vec<String>, current: &mut String) {
    let statement = current.trim();
    if !statement.is_empty() {
        out.push(statement.to_owned());
    }
    current.clear();
}

/// The replicated keyspace, created only when missing (an operator may create it
/// beforehand with any replication they like).
pub fn create_keyspace(keyspace: &str, replication_factor: u32) -> String {
    format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = \
         {{'class': 'NetworkTopologyStrategy', 'replication_factor': {replication_factor}}}"
    )
}

/// The bookkeeping of the migrations, created before any of them runs.
pub const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version int PRIMARY KEY, name text, applied_at bigint)";
/// The versions already applied.
pub const APPLIED_VERSIONS: &str = "SELECT version FROM schema_migrations";
/// Records an applied version.
pub const RECORD_VERSION: &str =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";

/// The columns of a message row, in [`super::rows::MessageRow`]'s field order.
macro_rules! message_columns {
    () => {
        "channel_id, message_id, author_id, content, created_at, edited_at, deleted_at, \
         reply_to, nonce, attachments, event_offset"
    };
}

/// A new message (its fields, bucket and offset). `edited_at` and `deleted_at` are
/// written only by edits and deletes; absent optional values are bound unset, so an
/// insert writes no null cells (tombstones).
pub const INSERT_MESSAGE: &str = "INSERT INTO messages (channel_id, bucket, message_id, \
     author_id, content, created_at, reply_to, nonce, attachments, event_offset) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?";
/// A message's channel, by id.
pub const INSERT_BY_ID: &str =
    "INSERT INTO messages_by_id (message_id, channel_id) VALUES (?, ?) USING TIMESTAMP ?";
/// A bucket of a channel that holds messages.
pub const INSERT_BUCKET: &str =
    "INSERT INTO channel_buckets (channel_id, bucket) VALUES (?, ?) USING TIMESTAMP ?";
/// A nonce taken by a message.
pub const INSERT_NONCE: &str = "INSERT INTO message_nonces (channel_id, author_id, nonce, \
     message_id) VALUES (?, ?, ?, ?) USING TIMESTAMP ?";
/// An edit: the new content (the old one goes to [`INSERT_EDIT`] in the same batch).
pub const UPDATE_CONTENT: &str = "UPDATE messages USING TIMESTAMP ? SET content = ?, \
     edited_at = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?";
/// A previous version in the audit trail.
pub const INSERT_EDIT: &str = "INSERT INTO message_edits (message_id, event_offset, content, \
     edited_at) VALUES (?, ?, ?, ?) USING TIMESTAMP ?";
/// A soft delete.
pub const UPDATE_DELETED: &str = "UPDATE messages USING TIMESTAMP ? SET deleted_at = ? \
     WHERE channel_id = ? AND bucket = ? AND message_id = ?";
/// A reaction.
pub const INSERT_REACTION: &str = "INSERT INTO reactions (channel_id, bucket, message_id, \
     emoji, user_id, event_offset) VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?";
/// A reaction removed.
pub const DELETE_REACTION: &str = "DELETE FROM reactions USING TIMESTAMP ? WHERE channel_id = ? \
     AND bucket = ? AND message_id = ? AND emoji = ? AND user_id = ?";

/// A message's channel.
pub const SELECT_BY_ID: &str = "SELECT channel_id FROM messages_by_id WHERE message_id = ?";
/// The message that took a nonce.
pub const SELECT_NONCE: &str = "SELECT message_id FROM message_nonces \
     WHERE channel_id = ? AND author_id = ? AND nonce = ?";
/// The buckets of a channel, newest first.
pub const SELECT_BUCKETS: &str = "SELECT bucket FROM channel_buckets WHERE channel_id = ?";
/// One message row.
pub const SELECT_MESSAGE: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages WHERE channel_id = ? AND bucket = ? AND message_id = ?"
);
/// Rows of a bucket at or before an id, newest first (paged by the driver).
pub const SELECT_AT_OR_BEFORE: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages WHERE channel_id = ? AND bucket = ? AND message_id <= ?"
);
/// Rows of a bucket after an id, oldest first (paged by the driver).
pub const SELECT_AFTER: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages WHERE channel_id = ? AND bucket = ? AND message_id > ? \
     ORDER BY message_id ASC"
);
/// The audit trail of a message, oldest first.
pub const SELECT_EDITS: &str = "SELECT content, edited_at FROM message_edits WHERE message_id = ?";
/// The reactions of the messages of a bucket between two ids (inclusive).
pub const SELECT_REACTIONS: &str = "SELECT message_id, emoji, user_id, event_offset \
     FROM reactions WHERE channel_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ?";
/// Every id of a bucket (for deleting a channel).
pub const SELECT_IDS: &str = "SELECT message_id, author_id, nonce FROM messages \
     WHERE channel_id = ? AND bucket = ?";

/// Deleting a channel: its partitions and lookups, with a timestamp above every offset
/// the channel used.
pub const DELETE_PARTITION: &str =
    "DELETE FROM messages USING TIMESTAMP ? WHERE channel_id = ? AND bucket = ?";
/// The reactions partition of a bucket.
pub const DELETE_REACTIONS: &str =
    "DELETE FROM reactions USING TIMESTAMP ? WHERE channel_id = ? AND bucket = ?";
/// A by-id lookup row.
pub const DELETE_BY_ID: &str = "DELETE FROM messages_by_id USING TIMESTAMP ? WHERE message_id = ?";
/// A message's audit trail.
pub const DELETE_EDITS: &str = "DELETE FROM message_edits USING TIMESTAMP ? WHERE message_id = ?";
/// A nonce row.
pub const DELETE_NONCE: &str = "DELETE FROM message_nonces USING TIMESTAMP ? \
     WHERE channel_id = ? AND author_id = ? AND nonce = ?";
/// The channel's bucket list.
pub const DELETE_BUCKETS: &str =
    "DELETE FROM channel_buckets USING TIMESTAMP ? WHERE channel_id = ?";

/// Every statement prepared at connect, for the schema test.
pub const PREPARED: &[&str] = &[
    APPLIED_VERSIONS,
    RECORD_VERSION,
    INSERT_MESSAGE,
    INSERT_BY_ID,
    INSERT_BUCKET,
    INSERT_NONCE,
    UPDATE_CONTENT,
    INSERT_EDIT,
    UPDATE_DELETED,
    INSERT_REACTION,
    DELETE_REACTION,
    SELECT_BY_ID,
    SELECT_NONCE,
    SELECT_BUCKETS,
    SELECT_MESSAGE,
    SELECT_AT_OR_BEFORE,
    SELECT_AFTER,
    SELECT_EDITS,
    SELECT_REACTIONS,
    SELECT_IDS,
    DELETE_PARTITION,
    DELETE_REACTIONS,
    DELETE_BY_ID,
    DELETE_EDITS,
    DELETE_NONCE,
    DELETE_BUCKETS,
];

#[cfg(test)]
#[path = "cql_tests.rs"]
mod tests;
