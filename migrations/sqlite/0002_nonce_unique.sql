-- Layer4 SQLite schema, version 2: one message per (channel, author, nonce).
--
-- The service dedupes nonces within its window and the sequencer keeps a nonce window
-- too; this unique index is the backstop that makes a repeated nonce impossible to
-- store twice, whatever races above it. Older databases may already hold duplicates
-- (version 1 only had a plain index): the oldest message of each (channel, author,
-- nonce) keeps its nonce, the others lose it (message ids are Snowflakes, so the
-- smallest id is the oldest). Only the nonce changes; the messages stay.

UPDATE messages SET nonce = NULL
WHERE nonce IS NOT NULL
  AND EXISTS (
      SELECT 1 FROM messages AS older
      WHERE older.channel_id = messages.channel_id
        AND older.author_id = messages.author_id
        AND older.nonce = messages.nonce
        AND older.id < messages.id
  );

DROP INDEX messages_nonce;
CREATE UNIQUE INDEX messages_nonce ON messages (channel_id, author_id, nonce)
    WHERE nonce IS NOT NULL;
