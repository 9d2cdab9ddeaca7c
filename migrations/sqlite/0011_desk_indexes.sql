-- The clerk desk's reads (src/store/desk.rs). Keep in step with the other backend.
--
-- The review queue is paged by key (the record id, which grows with arrival), never by
-- OFFSET: a page is "the next N ids after the last one shown" among the records of a
-- status, in the account's units. These indexes make that a range read, so page 400 of
-- 10,000 costs what page 1 costs: one unit's queue (unit_code, status, id), or every
-- unit's for an administrator (status, id).
CREATE INDEX documents_status_id ON documents (status, id);
CREATE INDEX documents_unit_status_id ON documents (unit_code, status, id);
-- Duplicates shown beside a record: the same number-symbol as written.
CREATE INDEX documents_number_symbol ON documents (number_symbol);
-- An earlier version with the same file (duplicates by SHA-256).
CREATE INDEX document_versions_file ON document_versions (file_sha256);
