package sqlite

import (
	"context"
	"iter"
	"os"

	"shikaku"
	"shikaku/lifesql"
)

// Decisions yields one row per member of the branch, sorted by key.
func (s *Store) Decisions(ctx context.Context, branch string) iter.Seq2[shikaku.DecisionRow, error] {
	return stream(ctx, s, `SELECT m.symbol, m.number, m.branch_no, d.decision FROM members m
		JOIN decisions d ON d.member_id = m.id WHERE m.branch_code = ? ORDER BY m.symbol, m.number, m.branch_no`,
		[]any{branch}, func(r *row, d *shikaku.DecisionRow) {
			d.Key = r.key(branch)
			d.Decision = shikaku.ReasonCode(r.text())
		})
}

// Every read of all a branch's envelopes filters on +branch_code. Without
// the unary plus, SQLite 3.54 (with or without ANALYZE's statistics, and
// in spite of NOT INDEXED) walks the envelopes_household index, looks
// every envelope up by its ID and sorts them back into ID order; with it,
// it scans the table in ID order. The employer lines also fix the join
// order (CROSS JOIN): without statistics the planner started from
// certificates_member instead (2.9-3.4 s against 2.1-2.2 s). At 1 M
// members, read alone: envelope lines 2.3-2.5 -> 0.8-0.9 s, the summary's
// two envelope counts 0.84 -> 0.28 s. TestWholeBranchPlans holds these
// queries to their plans.
const (
	envelopeLinesQuery = `SELECT e.envelope_id, e.tracking_no, e.send_on, e.k, e.n, e.postal_code,
			e.symbol, e.number, c.branch_no, c.certificate_id, c.valid_until,
			e.wave, e.certificates, e.language, e.employer_code
		FROM envelopes e JOIN certificates c ON c.envelope_id = e.envelope_id
		WHERE +e.branch_code = ? AND e.kind = 'bulk' ORDER BY e.envelope_id, c.position`
	employerLinesQuery = `SELECT e.employer_code, m.symbol, m.number, m.branch_no, m.name, m.name_kana, m.relationship, e.send_on
			FROM envelopes e
			CROSS JOIN certificates c ON c.envelope_id = e.envelope_id
			JOIN members m ON m.id = c.member_id
			WHERE +e.branch_code = ? AND e.kind = 'bulk' AND e.employer_code <> '' AND m.dv = 0
			ORDER BY e.employer_code, m.symbol, m.number, m.branch_no`
	listEmployersQuery = `SELECT employer_code, name, postal_code, address, address_line2, contact, closed_on
			FROM employers WHERE employer_code IN (SELECT employer_code FROM envelopes
				WHERE +branch_code = ? AND kind = 'bulk' AND employer_code <> '')
			ORDER BY employer_code`
	mailingsQuery = `SELECT e.envelope_id, e.seq, e.symbol, e.number, e.addressee_no, e.employer_code,
			e.k, e.n, e.tracking_no, e.wave, e.send_on, e.postal_code, e.address, e.address_line2, a.name, e.language,
			c.certificate_id, m.branch_no, c.issued_on, c.valid_until,
			m.name, m.name_kana, m.birth_date, m.sex, m.relationship, m.acquired_on, COALESCE(m.copay_rate, 0)
		FROM envelopes e
		JOIN certificates c ON c.envelope_id = e.envelope_id
		JOIN members m ON m.id = c.member_id
		JOIN members a ON a.branch_code = e.branch_code AND a.symbol = e.symbol AND a.number = e.number AND a.branch_no = e.addressee_no
		WHERE +e.branch_code = ? AND e.kind = 'bulk' ORDER BY e.envelope_id, c.position`
	employersCountQuery = `SELECT COUNT(DISTINCT employer_code) FROM envelopes
		WHERE +branch_code = ? AND kind = 'bulk' AND employer_code <> ''`
	envelopeCountsQuery = `SELECT wave, certificates, language, COUNT(*) FROM envelopes
		WHERE +branch_code = ? AND kind = 'bulk' GROUP BY wave, certificates, language`
)

// EnvelopeLines yields one row per certificate of the bulk mailing, in
// print order.
func (s *Store) EnvelopeLines(ctx context.Context, branch string) iter.Seq2[shikaku.EnvelopeLine, error] {
	// A certificate's member is its envelope's household and its own
	// branch number: no member is looked up. On +e.branch_code see above.
	return stream(ctx, s, envelopeLinesQuery,
		[]any{branch}, func(r *row, l *shikaku.EnvelopeLine) {
			l.EnvelopeID, l.TrackingNumber, l.SendOn = r.text(), shikaku.TrackingNumber(r.int64()), r.date()
			l.K, l.N, l.PostalCode = r.int(), r.int(), r.text()
			l.Member = r.key(branch)
			l.CertificateID, l.ValidUntil = r.text(), r.date()
			l.Wave, l.Size, l.Language, l.EmployerCode = r.int(), r.int(), r.text(), r.text()
		})
}

// EmployerLines yields the rows of every employer's 対象者一覧表, by
// employer then key. Households of voluntary insured persons have no
// employer (employer_code ”) and are on no list.
//
// The employer's own columns are read once per employer, not once per
// line: the lines and the employers of the branch's lists are two reads
// sorted by employer code, merged here (a code missing from employers
// gets an empty Employer, as a LEFT JOIN would). At 1 M members, read
// alone, 302,290 lines with their employers joined in SQL took 2.5-2.9 s,
// merged 2.1 s. Both reads run in one read transaction, so they see the
// same data.
func (s *Store) EmployerLines(ctx context.Context, branch string) iter.Seq2[shikaku.EmployerLine, error] {
	return func(yield func(shikaku.EmployerLine, error) bool) {
		stopped := false
		rtx, err := s.snapshot(ctx)
		if err != nil {
			yield(shikaku.EmployerLine{}, err)
			return
		}
		defer rtx.Close()
		err = rtx.raw(ctx, func(c *conn) error {
			employers, stop := iter.Pull2(rows(c, listEmployersQuery, []any{branch}, func(r *row, em *shikaku.Employer) {
				em.Code, em.Name, em.PostalCode, em.Address = r.text(), r.text(), r.text(), r.text()
				em.AddressLine2, em.Contact, em.ClosedOn = r.text(), r.text(), r.date()
			}))
			defer stop()
			var next shikaku.Employer // the first employer not yet passed
			more := true
			lines := rows(c, employerLinesQuery, []any{branch}, func(r *row, l *shikaku.EmployerLine) {
				l.EmployerCode = r.text()
				l.Member = r.key(branch)
				l.Name, l.NameKana, l.Relationship = r.text(), r.text(), shikaku.Relationship(r.text())
				l.SendOn = r.date()
			})
			for l, err := range lines {
				if err != nil {
					return err
				}
				// Go compares strings bytewise, as SQLite's BINARY collation
				// sorts them.
				for more && next.Code < l.EmployerCode {
					var err error
					if next, err, more = employers(); err != nil {
						return err
					}
				}
				if more && next.Code == l.EmployerCode {
					l.Employer = next
				} else {
					l.Employer = shikaku.Employer{Code: l.EmployerCode}
				}
				if !yield(l, nil) {
					stopped = true
					return nil
				}
			}
			return nil
		})
		if err != nil && !stopped {
			yield(shikaku.EmployerLine{}, err)
		}
	}
}

// Mailings yields the envelopes of the bulk mailing in print order with
// what their cover sheets and cards print.
func (s *Store) Mailings(ctx context.Context, branch string) iter.Seq2[*shikaku.Mailing, error] {
	return shikaku.GroupMailings(stream(ctx, s, mailingsQuery,
		[]any{branch}, func(r *row, m *shikaku.MailingRow) {
			e, k := &m.Envelope, &m.Card
			e.ID, e.Seq = r.text(), r.int64()
			e.Household = shikaku.HouseholdKey{Branch: branch, Symbol: r.text(), Number: r.text()}
			e.Addressee = shikaku.MemberKey{HouseholdKey: e.Household, BranchNo: r.text()}
			e.EmployerCode, e.K, e.N, e.TrackingNumber = r.text(), r.int(), r.int(), shikaku.TrackingNumber(r.int64())
			e.Wave, e.SendOn = r.int(), r.date()
			e.To.PostalCode, e.To.Address, e.To.Line2, m.AddresseeName, m.Language = r.text(), r.text(), r.text(), r.text(), r.text()
			k.ID, k.Member = r.text(), shikaku.MemberKey{HouseholdKey: e.Household, BranchNo: r.text()}
			k.IssuedOn, k.ValidUntil = r.date(), r.date()
			k.Name, k.NameKana, k.BirthDate, k.Sex = r.text(), r.text(), r.date(), r.int()
			k.Relationship, k.AcquiredOn, k.CopayRate = shikaku.Relationship(r.text()), r.date(), r.int()
		}))
}

// UnmatchedLosses lists the loss rows whose key is not a member of the branch.
func (s *Store) UnmatchedLosses(ctx context.Context, branch string) ([]shikaku.Loss, error) {
	var out []shikaku.Loss
	for l, err := range stream(ctx, s, `SELECT key_branch, symbol, number, branch_no, lost_on, reason FROM losses
		WHERE branch_code = ? AND known = 0 ORDER BY key_branch, symbol, number, branch_no, id`,
		[]any{branch}, func(r *row, l *shikaku.Loss) {
			l.Key = r.key(r.text())
			l.LostOn, l.Reason = r.date(), r.text()
		}) {
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// Summary counts the campaign.
func (s *Store) Summary(ctx context.Context, branch string) (*shikaku.Summary, error) {
	c, err := s.Campaign(ctx, branch)
	if err != nil {
		return nil, err
	}
	sum := shikaku.NewSummary(c)
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE branch_code = ?`, branch).Scan(&sum.Members); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT decision, COUNT(*) FROM decisions WHERE branch_code = ? GROUP BY decision`, branch)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			rows.Close()
			return nil, err
		}
		sum.Decisions[shikaku.ReasonCode(code)] = n
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	err = s.db.QueryRowContext(ctx, employersCountQuery, branch).Scan(&sum.Employers)
	if err != nil {
		return nil, err
	}
	// Sizes, waves and flyer languages in one pass over the envelopes.
	rows, err = s.db.QueryContext(ctx, envelopeCountsQuery, branch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var wave, size, n int
		var lang string
		if err := rows.Scan(&wave, &size, &lang, &n); err != nil {
			return nil, err
		}
		sum.AddEnvelopes(wave, size, lang, n)
	}
	return sum, rows.Err()
}

// DVLeaks counts DV-registered members that anything leaving the insurer
// would carry: a certificate, or the addressee of an envelope. It walks
// the (few) DV-registered members through their partial index.
func (s *Store) DVLeaks(ctx context.Context, branch string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM members m INDEXED BY members_dv
		WHERE m.branch_code = ? AND m.dv = 1 AND (
			EXISTS (SELECT 1 FROM certificates c JOIN envelopes ce ON ce.envelope_id = c.envelope_id
				WHERE c.member_id = m.id AND ce.kind = 'bulk') OR
			EXISTS (SELECT 1 FROM envelopes e WHERE e.branch_code = m.branch_code AND e.symbol = m.symbol
				AND e.number = m.number AND e.addressee_no = m.branch_no AND e.kind = 'bulk'))`, branch).Scan(&n)
	return n, err
}

// Size is the size of the database file (and its write-ahead log), in bytes.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n, nil
}

// Lifecycle runs fn in one write transaction (which holds the database's
// write lock from BEGIN).
func (s *Store) Lifecycle(ctx context.Context, branch string, fn func(shikaku.LifeTx) error) error {
	c, err := s.Campaign(ctx, branch)
	if err != nil {
		return err
	}
	return lifesql.Run(ctx, s.db, lifesql.Dialect{}, branch, c, nil, fn)
}
