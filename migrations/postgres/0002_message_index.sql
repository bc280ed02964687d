-- Layer4 PostgreSQL schema, version 2: the message index of the PostgreSQL+ScyllaDB
-- backend (storage/src/backend/pg_scylla).
--
-- With ScyllaDB for history, message rows live there, but search, unread counts and a
-- channel's last message are relational questions answered here. `message_index` is
-- one row per message written through that backend: no content, only what those
-- questions need, written in the transaction that reserves the event's offset. The
-- plain PostgreSQL backend never writes it (it stays empty), and reads both tables
-- where a question is about "every message" (`message_heads`).

CREATE TABLE message_index (
    id             bigint  PRIMARY KEY,
    channel_id     bigint  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    author_id      bigint  NOT NULL,
    created_at     bigint  NOT NULL,
    deleted_at     bigint,
    has_attachment boolean NOT NULL,
    -- The offset of the newest event that wrote this row (create, edit or delete): a
    -- failed history write is undone only when no later event touched the row.
    event_offset   bigint  NOT NULL,
    -- The words of the current content ('simple' configuration, as messages.search).
    search         tsvector NOT NULL
);
CREATE INDEX message_index_channel ON message_index (channel_id, id)
    INCLUDE (author_id, deleted_at);
CREATE INDEX message_index_author ON message_index (author_id, id);
CREATE INDEX message_index_search ON message_index USING gin (search)
    WHERE deleted_at IS NULL;

-- Every message, whichever backend wrote it: unread counts and the last message read
-- this. A UNION ALL view is flattened by the planner, so each side keeps its
-- (channel_id, id) index-only scan; the unused side costs one probe of an empty index.
CREATE VIEW message_heads AS
    SELECT id, channel_id, author_id, deleted_at FROM messages
    UNION ALL
    SELECT id, channel_id, author_id, deleted_at FROM message_index;

-- An attachment may now belong to a row of either table, so its foreign key to
-- `messages` becomes a trigger with the same effect: deleting a message (a channel's
-- cascade) deletes its attachments' rows.
ALTER TABLE attachments DROP CONSTRAINT attachments_message_id_fkey;
CREATE FUNCTION l4_delete_attachments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM attachments WHERE message_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;
CREATE TRIGGER messages_attachments AFTER DELETE ON messages
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION l4_delete_attachments();
CREATE TRIGGER message_index_attachments AFTER DELETE ON message_index
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION l4_delete_attachments();
