-- Change log the search index follows. Every write that can change what the public index
-- shows (insert, status change, edit) appends the document id here in the same
-- transaction; each node's indexer applies entries after its own watermark, which it
-- stores inside the index commit. The database stays the only source of truth.
CREATE TABLE search_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL,
    at          TEXT NOT NULL
);
-- Existing documents are all "changed" once, so an index built before this migration
-- catches up.
INSERT INTO search_changes (document_id, at) SELECT id, updated_at FROM documents ORDER BY id;
