-- Each decision names its household's insured person (branch number 00,
-- the first member of the household, whom extract sees with it): pack
-- counts targets per household and joins the insured person by ID,
-- instead of joining every target's member row and then the insured
-- person by the four-column key.
ALTER TABLE decisions ADD COLUMN insured_id INTEGER NOT NULL DEFAULT 0;
UPDATE decisions SET insured_id = (SELECT h.id FROM members m
    JOIN members h ON h.branch_code = m.branch_code AND h.symbol = m.symbol
      AND h.number = m.number AND h.branch_no = '00'
    WHERE m.id = decisions.member_id)
WHERE EXISTS (SELECT 1 FROM members m
    JOIN members h ON h.branch_code = m.branch_code AND h.symbol = m.symbol
      AND h.number = m.number AND h.branch_no = '00'
    WHERE m.id = decisions.member_id);
