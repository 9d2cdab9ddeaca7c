-- Digital signatures as verified when the file was stored (see the SQLite migration).
ALTER TABLE documents ADD COLUMN signature JSONB;
