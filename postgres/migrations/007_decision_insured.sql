-- Each decision names its household's insured person (branch number 00,
-- the first member of the household, whom extract sees with it): pack
-- counts targets per household without joining the members (1 M: 0.85 →
-- 0.41 s) and joins the insured person by ID instead of by the
-- four-column key (households read 3.35 → 2.90 s).
ALTER TABLE decisions ADD COLUMN insured_id bigint NOT NULL DEFAULT 0;
UPDATE decisions d SET insured_id = h.id
FROM members m
JOIN members h ON h.branch_code = m.branch_code AND h.symbol = m.symbol
  AND h.number = m.number AND h.branch_no = '00'
WHERE m.id = d.member_id;
ALTER TABLE decisions ALTER COLUMN insured_id DROP DEFAULT;
