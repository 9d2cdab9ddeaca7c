-- Structured hold reasons, the clerk's statuses and the public withdrawal notice
-- (PostgreSQL). Keep in step with migrations/sqlite/0010_holds.sql.

-- New statuses: `withheld` (a clerk keeps the record back, with a reason) and `rejected`
-- (not a registry document). The CHECK of 0001 is the column's, named by PostgreSQL.
ALTER TABLE documents DROP CONSTRAINT documents_status_check;
ALTER TABLE documents ADD CONSTRAINT documents_status_check
    CHECK (status IN ('draft', 'needs_review', 'published', 'withheld', 'rejected', 'withdrawn'));

-- Whether the record was ever public (a withdrawn record shows its withdrawal notice only
-- then), and the notice itself.
ALTER TABLE documents ADD COLUMN ever_published BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE documents ADD COLUMN withdrawn_at TIMESTAMPTZ;
ALTER TABLE documents ADD COLUMN withdrawal_reason TEXT;
-- A duplicate merged into another record by a clerk (it is then `rejected`).
ALTER TABLE documents ADD COLUMN merged_into BIGINT REFERENCES documents (id);

UPDATE documents SET ever_published = TRUE
WHERE status = 'published'
   OR id IN (SELECT document_id FROM document_versions WHERE status = 'published')
   OR id IN (SELECT document_id FROM audit_log
             WHERE document_id IS NOT NULL
               AND (detail->>'to' = 'published' OR detail->>'status' = 'published'));

-- Every reason a record is held, each with its code (`domain::HoldCode`), the evidence
-- it was read from, and what a clerk decided about it.
CREATE TABLE document_holds (
    id              BIGSERIAL PRIMARY KEY,
    document_id     BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    code            TEXT NOT NULL,
    message         TEXT NOT NULL,
    evidence        TEXT,
    page            INTEGER,
    state           TEXT NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'confirmed', 'dismissed', 'superseded')),
    created_at      TIMESTAMPTZ NOT NULL,
    resolved_by     TEXT,
    resolved_at     TIMESTAMPTZ,
    resolution_note TEXT
);
CREATE INDEX document_holds_queue ON document_holds (code, state);
CREATE INDEX document_holds_document ON document_holds (document_id, state);

-- Records held before this migration get one hold from their last recorded reason, coded
-- by the reason's first words (the policy's wording), else `other`.
INSERT INTO document_holds (document_id, code, message, state, created_at)
SELECT d.id,
       CASE
           WHEN r.reason LIKE 'Văn bản mật%' OR r.reason LIKE 'Văn bản lưu hành nội bộ%' THEN 'marking'
           WHEN r.reason LIKE 'Nghi có dấu chỉ%' THEN 'marking_doubt'
           WHEN r.reason LIKE 'Có thông tin cá nhân%' THEN 'personal_data'
           WHEN r.reason LIKE 'Bản quét%' THEN 'scan'
           WHEN r.reason LIKE 'Loại văn bản%' THEN 'type_not_public'
           WHEN r.reason LIKE 'Thiếu thông tin bắt buộc%' THEN 'missing_fields'
           WHEN r.reason LIKE 'Chữ ký số không hợp lệ%' THEN 'signature_broken'
           WHEN r.reason LIKE 'Chữ ký số chưa%' OR r.reason LIKE 'Văn bản không có chữ ký số%' THEN 'signature_untrusted'
           WHEN r.reason LIKE 'Trùng số ký hiệu%' THEN 'registry_conflict'
           WHEN r.reason LIKE 'Trích xuất vượt%' THEN 'budget_exceeded'
           WHEN r.reason LIKE 'Gói edXML không có tệp%' THEN 'no_file'
           ELSE 'other'
       END,
       COALESCE(NULLIF(r.reason, ''), 'Chờ văn thư xem xét (lưu trước khi có lý do chi tiết)'),
       'open',
       d.updated_at
FROM documents d
LEFT JOIN (
    SELECT a.document_id, a.detail->>'reason' AS reason
    FROM audit_log a
    WHERE a.id = (SELECT MAX(b.id) FROM audit_log b WHERE b.document_id = a.document_id)
) r ON r.document_id = d.id
WHERE d.status = 'needs_review';
