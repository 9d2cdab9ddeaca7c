-- One document, one record (SQLite). Keep in step with migrations/postgres/0006_registry_key.sql.
--
-- The registry key is the canonical issuer (abbreviations expanded, tone placement, case
-- and punctuation unified), the year of issue and the canonical number-symbol, computed
-- in Rust (`domain::registry_key`) when a record is written; records stored before this
-- migration get theirs from `Store::migrate` right after it. The displayed issuer stays
-- as written.
--
-- The key is unique among published records only: at most one public record per
-- document, while a copy held for review, a draft or a withdrawn record may share it, so
-- that a wrong copy stored first never makes the genuine document impossible to store.
-- The old constraint over the issuer as written (0001, inside CREATE TABLE) is removed by
-- `Store::migrate` (SQLite needs a table rebuild for that).
ALTER TABLE documents ADD COLUMN registry_key TEXT;
CREATE UNIQUE INDEX documents_registry_key ON documents (registry_key) WHERE status = 'published';
CREATE INDEX documents_registry_key_all ON documents (registry_key);
