-- `messages_author (author_id)` served no query: a search by author filters the rows
-- that the full-text index or the scan finds, unread counts use
-- `messages_channel_author`, and users are never deleted, so the foreign key's check
-- was its only use. It cost the write path most: every new message wrote one more
-- index page per distinct author in its commit (a batch of 256 messages from 256
-- senders into one channel: 422 WAL pages with it, 273 without).
DROP INDEX messages_author;
