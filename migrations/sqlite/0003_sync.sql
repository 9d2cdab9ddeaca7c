-- E-office sync (SQLite). Keep in step with migrations/postgres/0003_sync.sql.

-- The e-office identity of a document (edXML DocumentId) and its lifecycle: a replaced
-- document is withdrawn from the public registry and points at its replacement.
ALTER TABLE documents ADD COLUMN external_id TEXT;
ALTER TABLE documents ADD COLUMN replaced_by INTEGER REFERENCES documents (id);
CREATE UNIQUE INDEX documents_external_id_unique ON documents (external_id);

-- Earlier states of a record, kept when an update package (or a clerk) changes it.
CREATE TABLE document_versions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id   INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    status        TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    fields        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    superseded_at TEXT NOT NULL,
    CONSTRAINT document_versions_unique UNIQUE (document_id, version)
);

-- The sync ledger: one row per package a source delivered. `stored` rows are committed
-- but not yet acknowledged to the hub; `acked` rows are finished; `failed` rows are
-- retried from `next_attempt_at`; `needs_attention` rows gave up and wait for a person.
CREATE TABLE sync_packages (
    source          TEXT NOT NULL,
    package_id      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('stored', 'acked', 'failed', 'needs_attention')),
    business        TEXT,
    external_id     TEXT,
    targets         TEXT NOT NULL DEFAULT '[]',
    document_id     INTEGER REFERENCES documents (id) ON DELETE SET NULL,
    package_sha256  TEXT,
    outcome         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT,
    first_seen_at   TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    acked_at        TEXT,
    PRIMARY KEY (source, package_id)
);
CREATE INDEX sync_packages_state ON sync_packages (state, source);
CREATE INDEX sync_packages_external ON sync_packages (external_id);
-- Tombstones: revocations and replacements are few; finding them must not scan the ledger.
CREATE INDEX sync_packages_business ON sync_packages (business);

-- Every run of a sync job, with what it did.
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT NOT NULL,
    source      TEXT NOT NULL,
    node        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted')),
    counts      TEXT NOT NULL DEFAULT '{}',
    errors      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX sync_runs_source ON sync_runs (source, id);

-- Who runs a job right now, across processes and nodes sharing the database. A lease
-- expires unless renewed, so a crashed holder cannot block the job for ever.
CREATE TABLE job_leases (
    job        TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
