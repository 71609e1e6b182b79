-- Each envelope carries its flyer language (the addressee's), as it
-- carries the address it goes to: the summary counts languages in its one
-- pass over the envelopes, and the print run reads it with the envelope.
ALTER TABLE envelopes ADD COLUMN language TEXT NOT NULL DEFAULT 'ja';
UPDATE envelopes SET language = (SELECT a.language FROM members a
    WHERE a.branch_code = envelopes.branch_code AND a.symbol = envelopes.symbol
      AND a.number = envelopes.number AND a.branch_no = envelopes.addressee_no)
WHERE EXISTS (SELECT 1 FROM members a
    WHERE a.branch_code = envelopes.branch_code AND a.symbol = envelopes.symbol
      AND a.number = envelopes.number AND a.branch_no = envelopes.addressee_no AND a.language <> 'ja');
