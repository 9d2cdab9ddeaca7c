-- Durable jobs (SQLite). Keep in step with migrations/postgres/0009_jobs.sql.
--
-- One row per piece of background work (today: a file uploaded at the desk, to be read,
-- decided and stored by the one intake). Workers claim a row by taking its lease
-- (`lease_owner`, `lease_expires_at`); a lease not renewed (a killed server) expires and
-- the row is claimed again. A transient failure puts the row back in `queued` with a
-- later `run_after` (exponential back-off) until `max_attempts`; a permanent one, or the
-- last attempt, ends it in `failed` with `last_error`. `done` rows name the record.
--
-- The upload's blob (`blob_sha256`) is referenced by the row from the transaction that
-- inserts it (which consumes the blob's intent), so the blob is never an orphan while
-- the job lives; a failed job lets go of it.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL CHECK (kind IN ('upload')),
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    blob_sha256      TEXT,
    filename         TEXT NOT NULL,
    media_type       TEXT NOT NULL,
    size             INTEGER NOT NULL,
    unit_code        TEXT NOT NULL,
    actor            TEXT NOT NULL,
    publish          BOOLEAN NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_after        TEXT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at TEXT,
    last_error       TEXT,
    permanent        BOOLEAN NOT NULL DEFAULT FALSE,
    outcome          TEXT,
    -- What the intake said: the record's status reason (why it is held), or what it duplicates.
    detail           TEXT,
    document_id      INTEGER REFERENCES documents (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    finished_at      TEXT
);
-- The claim: the oldest runnable row.
CREATE INDEX jobs_runnable ON jobs (state, run_after, id);
CREATE INDEX jobs_blob ON jobs (blob_sha256);
CREATE INDEX jobs_unit ON jobs (unit_code, created_at);
