-- Digital signatures as verified when the file was stored (JSON: every signature, its
-- status, signer, time, chain). NULL for an unsigned file. Keep in step with PostgreSQL.
ALTER TABLE documents ADD COLUMN signature TEXT;
