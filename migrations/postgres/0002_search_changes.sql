-- Change log the search index follows (see migrations/sqlite/0002_search_changes.sql).
-- Sequence values are handed out before commit, so a reader can see seq 11 before seq 10
-- commits: the indexer re-reads an overlap window below its watermark (idempotent).
CREATE TABLE search_changes (
    seq         BIGSERIAL PRIMARY KEY,
    document_id BIGINT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
INSERT INTO search_changes (document_id, at) SELECT id, updated_at FROM documents ORDER BY id;
