-- Layer4 PostgreSQL schema, version 1: the same data as the SQLite schema, by the same
-- names, so the two backends read alike.
--
-- Ids are Snowflakes stored as bigint (they stay below 2^63); times are ms since the
-- Unix epoch. The channel offset column is `event_offset` (OFFSET is an SQL keyword).
-- `search_name` columns hold a lowercased copy written by the application (Rust's
-- lowercasing, for any script), so name searches are one LIKE each.
--
-- Every table lives in the connection's current schema (the first of `search_path`),
-- so one database can hold several deployments, or one per test.

CREATE TABLE users (
    id            bigint PRIMARY KEY,
    username      text   NOT NULL,
    display_name  text   NOT NULL,
    -- ' ' followed by the lowercased words of display_name, one space apart, so that
    -- "prefix of any word" is LIKE '% <query>%'.
    search_name   text   NOT NULL,
    password_hash text   NOT NULL,
    created_at    bigint NOT NULL
);
-- Usernames are unique whatever their case; text_pattern_ops also serves the prefix
-- search (`lower(username) LIKE 'abc%'`) and the login lookup.
CREATE UNIQUE INDEX users_username ON users (lower(username) text_pattern_ops);

CREATE TABLE channels (
    id              bigint PRIMARY KEY,
    kind            text   NOT NULL CHECK (kind IN ('dm', 'group', 'thread')),
    name            text   NOT NULL,
    search_name     text   NOT NULL,
    visibility      text   NOT NULL CHECK (visibility IN ('public', 'private')),
    parent_id       bigint REFERENCES channels (id) ON DELETE CASCADE,
    root_message_id bigint,
    owner_id        bigint NOT NULL REFERENCES users (id),
    -- "min:max" of the two user ids, for DMs only: one DM per pair of users.
    dm_key          text   UNIQUE,
    member_count    bigint NOT NULL DEFAULT 0,
    last_message_id bigint,
    -- The offset of the newest channel event (0 for none). Raised by the transaction
    -- that writes the event, under the channel row's lock.
    event_offset    bigint NOT NULL DEFAULT 0,
    created_at      bigint NOT NULL
);
CREATE INDEX channels_parent ON channels (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX channels_owner ON channels (owner_id);
CREATE INDEX channels_public ON channels (search_name)
    WHERE kind = 'group' AND visibility = 'public';

CREATE TABLE members (
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text   NOT NULL CHECK (role IN ('member', 'admin', 'owner')),
    PRIMARY KEY (channel_id, user_id)
);
-- A user's channels (IDENTIFY, contacts, search membership).
CREATE INDEX members_user ON members (user_id, channel_id);

CREATE TABLE messages (
    id           bigint PRIMARY KEY,
    channel_id   bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    author_id    bigint NOT NULL REFERENCES users (id),
    content      text   NOT NULL,
    created_at   bigint NOT NULL,
    edited_at    bigint,
    deleted_at   bigint,
    reply_to     bigint,
    nonce        text,
    -- The offset of the MESSAGE_RECEIVED event.
    event_offset bigint NOT NULL,
    -- Full-text search: the 'simple' configuration lowercases and keeps every word
    -- (no stemming, no stop words), like SQLite's unicode61.
    search       tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);
-- Pages, unread counts, the last message and a channel's cascade: index-only scans
-- for the counts (author and delete mark included).
CREATE INDEX messages_channel ON messages (channel_id, id) INCLUDE (author_id, deleted_at);
-- One message per (channel, author, nonce), whatever races above storage.
CREATE UNIQUE INDEX messages_nonce ON messages (channel_id, author_id, nonce)
    WHERE nonce IS NOT NULL;
CREATE INDEX messages_author ON messages (author_id, id);
-- Search over undeleted messages only.
CREATE INDEX messages_search ON messages USING gin (search) WHERE deleted_at IS NULL;

-- The audit trail: previous versions, oldest first by id.
CREATE TABLE message_edits (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    content    text   NOT NULL,
    edited_at  bigint NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

CREATE TABLE reactions (
    message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      text   NOT NULL,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- MIN(seq) per emoji gives the order of first use.
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (message_id, emoji, user_id)
);
CREATE INDEX reactions_user ON reactions (user_id);

CREATE TABLE receipts (
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id bigint NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX receipts_user ON receipts (user_id);

CREATE TABLE blocks (
    blocker_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id);

CREATE TABLE mutes (
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL: until unmuted.
    until      bigint,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX mutes_user ON mutes (user_id);

CREATE TABLE attachments (
    id            bigint PRIMARY KEY,
    uploader_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id    bigint REFERENCES messages (id) ON DELETE CASCADE,
    -- Order within the message (the order the sender listed them).
    position      bigint NOT NULL DEFAULT 0,
    filename      text   NOT NULL,
    content_type  text   NOT NULL,
    size          bigint NOT NULL,
    url           text   NOT NULL,
    width         bigint,
    height        bigint,
    thumbnail_url text,
    created_at    bigint NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id, position)
    WHERE message_id IS NOT NULL;
CREATE INDEX attachments_uploader ON attachments (uploader_id);

-- ANDs tsqueries: the search query is one phrase per word of the user's text, all
-- required (`tsquery_and` is the function behind `&&`; strict, so the first query
-- seeds the state).
CREATE AGGREGATE l4_tsquery_and (tsquery) (SFUNC = tsquery_and, STYPE = tsquery);
