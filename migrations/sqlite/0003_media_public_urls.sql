-- Layer4 SQLite schema, version 3: media urls without a signature.
--
-- Downloads are public by attachment id and filename (API.md), so an attachment's
-- `url` is `/media/{id}/{filename}` and its `thumbnail_url` `/media/{id}/thumbnail`.
-- Earlier versions stored them with a `?sig=` query; drop it. Stored filenames are
-- sanitized to `[A-Za-z0-9._-]`, so the `?` of `?sig=` is the url's only one. Only the
-- urls change.

UPDATE attachments SET url = substr(url, 1, instr(url, '?sig=') - 1)
WHERE instr(url, '?sig=') > 0;

UPDATE attachments SET thumbnail_url = substr(thumbnail_url, 1, instr(thumbnail_url, '?sig=') - 1)
WHERE instr(thumbnail_url, '?sig=') > 0;
