-- Further files of a record and status packages sent back (see the SQLite migration).
CREATE TABLE document_attachments (
    document_id BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 1),
    sha256      TEXT NOT NULL CHECK (char_length(sha256) = 64),
    filename    TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL CHECK (size_bytes >= 0),
    role        TEXT NOT NULL CHECK (role IN ('appendix', 'draft', 'other')),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (document_id, version, position)
);
CREATE INDEX document_attachments_sha256 ON document_attachments (sha256);

ALTER TABLE sync_packages ADD COLUMN status_send TEXT CHECK (status_send IN ('pending', 'sent'));
ALTER TABLE sync_packages ADD COLUMN status_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_packages ADD COLUMN status_next_at TIMESTAMPTZ;
ALTER TABLE sync_packages ADD COLUMN status_error TEXT;
CREATE INDEX sync_packages_status_send ON sync_packages (status_send, source);
