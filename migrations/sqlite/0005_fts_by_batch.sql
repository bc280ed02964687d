-- New messages are added to the full-text index by the code that inserts them, once
-- per batch after the batch's per-item savepoints: FTS5 flushes its pending terms to
-- disk at every savepoint release, so a trigger inside each item's savepoint cost a
-- flush per message and undid what the group commit saves. Edits, soft deletes and
-- removals keep their triggers (they are rare and one per event).
DROP TRIGGER messages_fts_insert;
