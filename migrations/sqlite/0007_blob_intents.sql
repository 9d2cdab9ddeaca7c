-- A blob written for a record that has not committed yet is announced here first, with
-- the process writing it. The record's transaction deletes the row; a failed record's
-- guard removes the blob and the row; a row whose holder died (same host, process gone)
-- or expired is swept at the start of the next ingest or sync run, and by
-- `vanban fsck --repair`. A blob neither referenced nor announced is an orphan.
CREATE TABLE blob_intents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256        TEXT NOT NULL,
    -- The holder: host name, process id and the process's start time (clock ticks since
    -- boot, /proc/PID/stat), so a reused pid is not taken for the dead holder.
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    process_start INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX blob_intents_sha256 ON blob_intents (sha256);
