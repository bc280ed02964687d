-- Layer4 SQLite schema, version 1.
--
-- Ids are Snowflakes stored as INTEGER (they stay below 2^63); times are ms since the
-- Unix epoch. The channel offset column is `event_offset` (OFFSET is an SQL keyword).
-- `search_name` columns hold a lowercased copy written by the application (SQLite's own
-- lower() folds ASCII only), so name searches are case-insensitive for any script.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    -- ' ' followed by the lowercased words of display_name, one space apart, so that
    -- "prefix of any word" is LIKE '% <query>%'.
    search_name   TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE channels (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('dm', 'group', 'thread')),
    name            TEXT    NOT NULL,
    search_name     TEXT    NOT NULL,
    visibility      TEXT    NOT NULL CHECK (visibility IN ('public', 'private')),
    parent_id       INTEGER REFERENCES channels (id) ON DELETE CASCADE,
    root_message_id INTEGER,
    owner_id        INTEGER NOT NULL REFERENCES users (id),
    -- "min:max" of the two user ids, for DMs only: one DM per pair of users.
    dm_key          TEXT    UNIQUE,
    member_count    INTEGER NOT NULL DEFAULT 0,
    last_message_id INTEGER,
    -- The offset of the newest channel event (0 for none).
    event_offset    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX channels_parent ON channels (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX channels_public ON channels (search_name)
    WHERE kind = 'group' AND visibility = 'public';

CREATE TABLE members (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('member', 'admin', 'owner')),
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id, channel_id);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    author_id    INTEGER NOT NULL REFERENCES users (id),
    content      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    edited_at    INTEGER,
    deleted_at   INTEGER,
    reply_to     INTEGER,
    nonce        TEXT,
    -- The offset of the MESSAGE_RECEIVED event.
    event_offset INTEGER NOT NULL
);
-- Pages, unread counts and the last message: covering, so counting unread messages
-- never reads the table.
CREATE INDEX messages_channel ON messages (channel_id, id, author_id, deleted_at);
CREATE INDEX messages_nonce ON messages (channel_id, author_id, nonce)
    WHERE nonce IS NOT NULL;
CREATE INDEX messages_author ON messages (author_id);

-- The audit trail: previous versions, oldest first by rowid.
CREATE TABLE message_edits (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    content    TEXT    NOT NULL,
    edited_at  INTEGER NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

-- A rowid table on purpose: MIN(rowid) per emoji gives the order of first use.
CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, emoji, user_id)
);
CREATE INDEX reactions_user ON reactions (user_id);

CREATE TABLE receipts (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id);

CREATE TABLE mutes (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL: until unmuted.
    until      INTEGER,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    uploader_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id    INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    -- Order within the message (the order the sender listed them).
    position      INTEGER NOT NULL DEFAULT 0,
    filename      TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    url           TEXT    NOT NULL,
    width         INTEGER,
    height        INTEGER,
    thumbnail_url TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id, position)
    WHERE message_id IS NOT NULL;
CREATE INDEX attachments_uploader ON attachments (uploader_id);

-- Full-text index over undeleted messages' content. Contentless (the text is stored
-- once, in messages) with contentless_delete, so a row is removed by rowid alone and
-- the index never has to be told the exact text it once held. unicode61 folds case and
-- diacritics.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Only undeleted messages are indexed; an edit re-indexes, a soft delete unindexes.
-- These also fire for rows removed by ON DELETE CASCADE (deleting a channel).
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.deleted_at IS NULL
BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, deleted_at ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
    INSERT INTO messages_fts (rowid, content)
        SELECT new.id, new.content WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
END;
