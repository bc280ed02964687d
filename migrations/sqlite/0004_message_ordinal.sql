-- Layer4 SQLite schema, version 4: unread counts in index seeks, not index scans.
--
-- `unread_count` (PROTOCOL.md section 3) counts other members' undeleted messages after
-- the viewer's last read message. Counting them row by row reads one index entry per
-- message, which for a busy channel nobody has read dominates IDENTIFY. Instead:
--
--   unread = (messages after the last read)
--          - (the viewer's own messages after it)
--          - (deleted messages after it)
--          + (the viewer's own deleted messages after it)
--
-- Every message, deleted or not, has `ordinal`, its 1-based position in its channel by
-- id, and `author_ordinal`, its position among its author's messages in the channel.
-- "Messages after the last read" is `channels.message_count` minus the ordinal of the
-- newest message whose id is <= the last read id (0 when there is none); "own messages
-- after it" is the author ordinal of the viewer's newest message minus that of their
-- newest message <= the last read id. Both are index seeks. The deleted terms count
-- the (small) range of deleted messages after the last read.
--
-- The application keeps the invariant on insert (messages.rs `insert_message`): a new
-- message takes its predecessors' ordinals + 1 and `message_count` grows by one; in the
-- rare case of an id older than the channel's newest, the messages after it move up by
-- one. Soft deletes keep their row and ordinals; rows are only removed with their
-- channel. Existing rows are numbered here.

ALTER TABLE messages ADD COLUMN ordinal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN author_ordinal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET ordinal = numbered.ordinal, author_ordinal = numbered.author_ordinal
FROM (
    SELECT id,
           ROW_NUMBER() OVER (PARTITION BY channel_id ORDER BY id) AS ordinal,
           ROW_NUMBER() OVER (PARTITION BY channel_id, author_id ORDER BY id) AS author_ordinal
    FROM messages
) AS numbered
WHERE messages.id = numbered.id;

UPDATE channels SET message_count =
    (SELECT COUNT(*) FROM messages WHERE messages.channel_id = channels.id);

-- Pages, the last message, and the ordinal of the newest message <= an id: covering.
DROP INDEX messages_channel;
CREATE INDEX messages_channel ON messages (channel_id, id, ordinal, author_id, deleted_at);
-- The author ordinal of one author's newest message (<= an id): covering.
CREATE INDEX messages_channel_author ON messages (channel_id, author_id, id, author_ordinal);
-- Deleted messages in a channel after an id, all or one author's: covering.
CREATE INDEX messages_deleted ON messages (channel_id, id, author_id, deleted_at)
    WHERE deleted_at IS NOT NULL;
