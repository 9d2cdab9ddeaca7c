-- Foundation schema (PostgreSQL). Keep in step with migrations/sqlite/0001_foundation.sql:
-- the same tables, columns, constraint names and semantics.

CREATE TABLE files (
    sha256        TEXT PRIMARY KEY NOT NULL CHECK (char_length(sha256) = 64),
    size          BIGINT NOT NULL CHECK (size >= 0),
    media_type    TEXT NOT NULL,
    blob_key      TEXT NOT NULL,
    original_name TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE documents (
    id                   BIGSERIAL PRIMARY KEY,
    unit_code            TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('draft', 'needs_review', 'published', 'withdrawn')),
    source               TEXT NOT NULL,
    source_ref           TEXT,
    file_sha256          TEXT NOT NULL REFERENCES files (sha256),
    doc_type             TEXT,
    number               TEXT,
    symbol               TEXT,
    number_symbol        TEXT,
    issuer               TEXT,
    issuer_parent        TEXT,
    place                TEXT,
    issued_date          DATE,
    issued_year          INTEGER,
    effective_date       DATE,
    abstract             TEXT,
    signer_name          TEXT,
    signer_title         TEXT,
    signing_authority    TEXT,
    recipients           JSONB NOT NULL DEFAULT '[]',
    secrecy              TEXT,
    urgency              TEXT,
    internal_circulation BOOLEAN NOT NULL DEFAULT FALSE,
    needs_ocr            BOOLEAN NOT NULL DEFAULT FALSE,
    text_source          TEXT NOT NULL,
    pages                INTEGER NOT NULL,
    field_evidence       JSONB NOT NULL DEFAULT '{}',
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    CONSTRAINT documents_file_unique UNIQUE (file_sha256),
    CONSTRAINT documents_registry_key UNIQUE (issuer, issued_year, number_symbol)
);
CREATE INDEX documents_unit_status ON documents (unit_code, status);
CREATE INDEX documents_issued_date ON documents (issued_date);

CREATE TABLE document_texts (
    document_id BIGINT PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    body        TEXT NOT NULL
);

CREATE TABLE extraction_warnings (
    id          BIGSERIAL PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL
);
CREATE INDEX extraction_warnings_document ON extraction_warnings (document_id);

CREATE TABLE citations (
    id            BIGSERIAL PRIMARY KEY,
    document_id   BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    number_symbol TEXT NOT NULL,
    cited_type    TEXT,
    cited_date    DATE,
    CONSTRAINT citations_unique UNIQUE (document_id, number_symbol)
);
CREATE INDEX citations_number_symbol ON citations (number_symbol);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    document_id BIGINT REFERENCES documents (id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      JSONB NOT NULL DEFAULT '{}',
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_document ON audit_log (document_id);
