-- Further files of a record (appendices, drafts) delivered with it in an e-office package,
-- and the status packages sent back to senders (SQLite). Keep in step with
-- migrations/postgres/0005_attachments.sql.

-- Each version of a record keeps its own list: an update package brings a new list, the
-- earlier one stays (its blobs stay referenced). `position` counts from 1 within a
-- version: the public URL is /api/v1/documents/{id}/attachments/{position}. The bytes are
-- the blob named by `sha256` in the blob store.
CREATE TABLE document_attachments (
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 1),
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    filename    TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    role        TEXT NOT NULL CHECK (role IN ('appendix', 'draft', 'other')),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (document_id, version, position)
);
CREATE INDEX document_attachments_sha256 ON document_attachments (sha256);

-- Status packages answering a stored package (`send_status = true` on its source):
-- `pending` until the hub took it (`sent`); a failed send is retried by later runs from
-- `status_next_at`. NULL: none wanted.
ALTER TABLE sync_packages ADD COLUMN status_send TEXT CHECK (status_send IN ('pending', 'sent'));
ALTER TABLE sync_packages ADD COLUMN status_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_packages ADD COLUMN status_next_at TEXT;
ALTER TABLE sync_packages ADD COLUMN status_error TEXT;
CREATE INDEX sync_packages_status_send ON sync_packages (status_send, source);
