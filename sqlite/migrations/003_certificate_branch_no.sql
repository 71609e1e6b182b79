-- Each certificate carries its member's branch number (the rest of the
-- key is its envelope's household): the envelope lines are read from
-- envelopes and certificates alone, without a member lookup per line.
ALTER TABLE certificates ADD COLUMN branch_no TEXT NOT NULL DEFAULT '';
UPDATE certificates SET branch_no = (SELECT m.branch_no FROM members m WHERE m.id = certificates.member_id);
