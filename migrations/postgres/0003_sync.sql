-- E-office sync (PostgreSQL). See migrations/sqlite/0003_sync.sql for what each table is.

ALTER TABLE documents ADD COLUMN external_id TEXT;
ALTER TABLE documents ADD COLUMN replaced_by BIGINT REFERENCES documents (id);
CREATE UNIQUE INDEX documents_external_id_unique ON documents (external_id);

CREATE TABLE document_versions (
    id            BIGSERIAL PRIMARY KEY,
    document_id   BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    status        TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    fields        JSONB NOT NULL,
    actor         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    superseded_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT document_versions_unique UNIQUE (document_id, version)
);

CREATE TABLE sync_packages (
    source          TEXT NOT NULL,
    package_id      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('stored', 'acked', 'failed', 'needs_attention')),
    business        TEXT,
    external_id     TEXT,
    -- A JSON array kept as text: matched with LIKE on both backends.
    targets         TEXT NOT NULL DEFAULT '[]',
    document_id     BIGINT REFERENCES documents (id) ON DELETE SET NULL,
    package_sha256  TEXT,
    outcome         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TIMESTAMPTZ,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    acked_at        TIMESTAMPTZ,
    PRIMARY KEY (source, package_id)
);
CREATE INDEX sync_packages_state ON sync_packages (state, source);
CREATE INDEX sync_packages_external ON sync_packages (external_id);
-- Tombstones: revocations and replacements are few; finding them must not scan the ledger.
CREATE INDEX sync_packages_business ON sync_packages (business);

CREATE TABLE sync_runs (
    id          BIGSERIAL PRIMARY KEY,
    job         TEXT NOT NULL,
    source      TEXT NOT NULL,
    node        TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted')),
    counts      JSONB NOT NULL DEFAULT '{}',
    errors      JSONB NOT NULL DEFAULT '[]'
);
CREATE INDEX sync_runs_source ON sync_runs (source, id);

CREATE TABLE job_leases (
    job        TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
