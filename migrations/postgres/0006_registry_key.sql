-- One document, one record (PostgreSQL). See migrations/sqlite/0006_registry_key.sql for
-- the rule: the canonical registry key, unique among published records only; existing
-- records get their key from `Store::migrate` right after this migration.
ALTER TABLE documents DROP CONSTRAINT documents_registry_key;
ALTER TABLE documents ADD COLUMN registry_key TEXT;
CREATE UNIQUE INDEX documents_registry_key ON documents (registry_key) WHERE status = 'published';
CREATE INDEX documents_registry_key_all ON documents (registry_key);
