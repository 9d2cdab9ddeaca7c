-- The clerk desk's people (PostgreSQL). Keep in step with migrations/sqlite/0008_accounts.sql.
--
-- Units are organs by their organ code (mã định danh), in a tree. Accounts sign in with a
-- name and an argon2id password hash and belong to units; a session row holds only the
-- SHA-256 of its cookie token, so the table leaks no usable credential. Login throttling
-- per client address lives in `login_throttle` (one row per address, pruned when stale).
-- Changes to accounts and units are audited in `account_audit`.

CREATE TABLE units (
    code        TEXT PRIMARY KEY NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name        TEXT NOT NULL CHECK (length(name) >= 1),
    parent_code TEXT REFERENCES units (code),
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT units_not_own_parent CHECK (parent_code IS NULL OR parent_code <> code)
);
CREATE INDEX units_parent ON units (parent_code);

CREATE TABLE accounts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'viewer')),
    password_hash       TEXT NOT NULL,
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMPTZ,
    password_changed_at TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT accounts_name_unique UNIQUE (name)
);

CREATE TABLE account_units (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    unit_code  TEXT NOT NULL REFERENCES units (code),
    PRIMARY KEY (account_id, unit_code)
);
CREATE INDEX account_units_unit ON account_units (unit_code);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(token_sha256) = 64),
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    -- The absolute end of the session, whatever its activity.
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE login_throttle (
    client       TEXT PRIMARY KEY NOT NULL,
    failures     INTEGER NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);

CREATE TABLE account_audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    unit_code  TEXT,
    detail     JSONB NOT NULL DEFAULT '{}',
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_audit_at ON account_audit (at);
