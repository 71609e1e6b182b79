package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"shikaku"
)

var memberColumns = []string{
	"branch_code", "symbol", "number", "branch_no", "relationship", "insured_type",
	"name", "name_kana", "birth_date", "sex", "acquired_on", "decided_on", "lost_on",
	"scheduled_loss_on", "employer_code", "postal_code", "address", "address_line2",
	"mynumber_on_file", "myna_linked_on", "ecert_expires_on", "dv",
	"certificate_issued_on", "copay_rate", "language",
}

// ImportMembers copies the rows straight into members, in one
// transaction: any error changes nothing. A branch's old snapshot is
// deleted when its first row arrives, so the rows are copied in segments
// that end where a branch not seen before begins (one per branch for a
// file sorted by key, as core systems write them). A sorted file is thus
// stored in key order without a staging table and a second copy.
func (s *Store) ImportMembers(ctx context.Context, rows iter.Seq2[*shikaku.Member, error]) (map[string]int, error) {
	return s.importMembers(ctx, rows, nil)
}

// importMembers imports rows, and decides along's campaign on the way
// when along is not nil.
func (s *Store) importMembers(ctx context.Context, rows iter.Seq2[*shikaku.Member, error], along *importExtraction) (map[string]int, error) {
	counts := map[string]int{}
	err := s.tx(ctx, "", func(tx pgx.Tx) error {
		// Every ID the import's rows take lies between two numbers drawn
		// from the sequence before and after (sequences only go up, also
		// when other sessions draw in between).
		var before, after int64
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('members', 'id'))`).Scan(&before); err != nil {
			return err
		}
		// Into an empty table (the database's first import) the rows go
		// without indexes, built afterwards: at 10 M members 53.2 s plus
		// 28.1 s to build them, against 107.6 s with the indexes up
		// (WAL 3.0 GB -> 2.1 GB). No branch then has rows to delete, and
		// none is looked for: without its index each delete would scan
		// every row copied so far, once per branch of the file.
		deferred, err := deferIndexes(ctx, tx, "members")
		if err != nil {
			return err
		}
		next, stop := iter.Pull2(rows)
		defer stop()
		src := &memberSource{next: next, along: along, counts: counts, last: map[string]shikaku.MemberKey{}, unsorted: map[string]bool{}}
		for {
			first, ok := src.peek()
			if src.err != nil {
				return src.err
			}
			if !ok {
				break
			}
			if err := replaceBranch(ctx, tx, first.Key.Branch, deferred == nil); err != nil {
				return err
			}
			counts[first.Key.Branch] = 0
			if _, err := copyRows(ctx, tx, "members", memberColumns, src.next1); err != nil {
				if src.err != nil {
					return src.err
				}
				return fmt.Errorf("加入者を保存できません: %w", err)
			}
			if src.err != nil {
				return src.err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('members', 'id'))`).Scan(&after); err != nil {
			return err
		}
		if err := buildIndexes(ctx, tx, deferred); err != nil {
			return err
		}
		if along != nil {
			if err := along.end(ctx, tx, before, after, src.copied); err != nil {
				return err
			}
		}
		// Fresh statistics: the planner must know the table is big before
		// autovacuum comes round, or it picks nested loops for the steps.
		if _, err := tx.Exec(ctx, `ANALYZE members`); err != nil {
			return err
		}
		for b, n := range counts {
			d := importDetail{Members: n}
			if !src.unsorted[b] {
				d.IDs = &idRange{First: before + 1, Last: after - 1}
			}
			detail, _ := json.Marshal(d)
			if err := recordStep(ctx, tx, b, shikaku.StepImport, detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// replaceBranch takes the branch's lock and, when the table may hold its
// rows (stored), empties it before its new snapshot, unless its campaign
// has been extracted. Locks are taken in the order the file names its
// branches: two imports of multi-branch files in opposite orders at the
// same moment would deadlock, which the server detects by failing one of
// them whole (nothing changed; run it again).
func replaceBranch(ctx context.Context, tx pgx.Tx, branch string, stored bool) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('shikaku:' || $1))`, branch); err != nil {
		return err
	}
	if done, err := stepDone(ctx, tx, branch, shikaku.StepExtract); err != nil {
		return err
	} else if done {
		return shikaku.ReimportRefused(branch)
	}
	if !stored {
		return nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM members WHERE branch_code = $1`, branch)
	return err
}

// memberSource feeds CopyFrom with the members of the branches already
// replaced; it stops before the first row of a new branch, which the next
// segment starts with.
type memberSource struct {
	next     func() (*shikaku.Member, error, bool)
	along    *importExtraction // nil for the import alone
	copied   int64             // rows so far, of every branch
	counts   map[string]int    // rows per branch so far; a key means replaced
	last     map[string]shikaku.MemberKey
	unsorted map[string]bool // branches with a row after a larger key
	pending  *shikaku.Member
	err      error
}

// importDetail is what the import step records of a branch.
type importDetail struct {
	Members int `json:"members"`
	// IDs is set when the branch's rows came in key order: COPY takes the
	// IDs of its rows from the sequence in the order of the rows, so
	// ordering the branch's members by ID orders them by key. The range
	// holds every ID of the branch, and may hold IDs of other branches
	// imported with it or at the same time.
	IDs *idRange `json:"ids,omitempty"`
}

type idRange struct {
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// importRecord reads what the import step recorded of a branch; a branch
// imported by an older version does not have its IDs following its keys.
func importRecord(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, branch string) (importDetail, error) {
	var d importDetail
	var detail []byte
	err := q.QueryRow(ctx, `SELECT detail FROM steps WHERE branch_code = $1 AND step = $2`, branch, shikaku.StepImport).Scan(&detail)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		return d, fmt.Errorf("import record of branch %s: %w", branch, err)
	}
	return d, nil
}

// peek returns the row the next segment starts with, if any.
func (p *memberSource) peek() (*shikaku.Member, bool) {
	if p.pending == nil {
		m, err, ok := p.next()
		if !ok {
			return nil, false
		}
		if err != nil {
			p.err = err
			return nil, false
		}
		p.pending = m
	}
	return p.pending, true
}

// next1 encodes the next row of this segment, if any.
func (p *memberSource) next1(e *copyEncoder) (bool, error) {
	m, ok := p.peek()
	if !ok {
		return false, p.err
	}
	if _, replaced := p.counts[m.Key.Branch]; !replaced {
		return false, nil // a new branch: end this segment
	}
	p.pending = nil
	if last, ok := p.last[m.Key.Branch]; ok && !last.Less(m.Key) {
		p.unsorted[m.Key.Branch] = true
	}
	p.last[m.Key.Branch] = m.Key
	p.counts[m.Key.Branch]++
	if p.along != nil {
		if err := p.along.add(m, p.copied); err != nil {
			p.err = err
			return false, err
		}
	}
	p.copied++
	e.row(len(memberColumns))
	e.text(m.Key.Branch)
	e.text(m.Key.Symbol)
	e.text(m.Key.Number)
	e.text(m.Key.BranchNo)
	e.text(string(m.Relationship))
	e.text(string(m.InsuredType))
	e.text(m.Name)
	e.text(m.NameKana)
	e.date(m.BirthDate)
	e.int16(m.Sex)
	e.date(m.AcquiredOn)
	e.date(m.DecidedOn)
	e.date(m.LostOn)
	e.date(m.ScheduledLossOn)
	e.text(m.EmployerCode)
	e.text(m.PostalCode)
	e.text(m.Address)
	e.text(m.AddressLine2)
	e.bool(m.MynumberOnFile)
	e.date(m.MynaLinkedOn)
	e.date(m.EcertExpiresOn)
	e.bool(m.DV)
	e.date(m.CertificateIssuedOn)
	if m.CopayRate != 0 {
		e.int16(m.CopayRate)
	} else {
		e.null()
	}
	e.text(m.Language)
	return true, nil
}

// ImportEmployers adds or updates employers in one transaction.
func (s *Store) ImportEmployers(ctx context.Context, rows iter.Seq2[*shikaku.Employer, error]) (int, error) {
	n := 0
	err := s.tx(ctx, "", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE employers_import ON COMMIT DROP AS SELECT * FROM employers WITH NO DATA`); err != nil {
			return err
		}
		values := func(yield func([]any, error) bool) {
			for e, err := range rows {
				if err != nil {
					yield(nil, err)
					return
				}
				n++
				if !yield([]any{e.Code, e.Name, e.PostalCode, e.Address, e.AddressLine2, e.Contact, dateArg(e.ClosedOn)}, nil) {
					return
				}
			}
		}
		if _, err := copyFrom(ctx, tx, "employers_import", []string{"employer_code", "name", "postal_code", "address", "address_line2", "contact", "closed_on"}, values); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO employers SELECT * FROM employers_import
			ON CONFLICT (employer_code) DO UPDATE SET name = excluded.name, postal_code = excluded.postal_code,
			address = excluded.address, address_line2 = excluded.address_line2, contact = excluded.contact, closed_on = excluded.closed_on`)
		return err
	})
	return n, err
}

// EmployerCodes lists the known employer codes.
func (s *Store) EmployerCodes(ctx context.Context) (map[string]bool, error) {
	codes := map[string]bool{}
	for c, err := range query(ctx, s.pool, `SELECT employer_code FROM employers`, nil, func(r pgx.Rows, c *string) error { return r.Scan(c) }) {
		if err != nil {
			return nil, err
		}
		codes[c] = true
	}
	return codes, nil
}

// MemberCount is the number of members of a branch.
func (s *Store) MemberCount(ctx context.Context, branch string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE branch_code = $1`, branch).Scan(&n)
	return n, err
}

// Branches lists the branches with a campaign.
func (s *Store) Branches(ctx context.Context) ([]string, error) {
	var out []string
	for b, err := range query(ctx, s.pool, `SELECT branch_code FROM campaigns ORDER BY branch_code`, nil, func(r pgx.Rows, b *string) error { return r.Scan(b) }) {
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Campaign loads the campaign of a branch.
func (s *Store) Campaign(ctx context.Context, branch string) (*shikaku.Campaign, error) {
	var js []byte
	err := s.pool.QueryRow(ctx, `SELECT campaign FROM campaigns WHERE branch_code = $1`, branch).Scan(&js)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, shikaku.CampaignMissing(branch)
	}
	if err != nil {
		return nil, err
	}
	var c shikaku.Campaign
	if err := json.Unmarshal(js, &c); err != nil {
		return nil, fmt.Errorf("支部 %s のキャンペーン設定を読めません: %w", branch, err)
	}
	return &c, nil
}

// Steps lists the steps done for a branch.
func (s *Store) Steps(ctx context.Context, branch string) ([]shikaku.Step, error) {
	var out []shikaku.Step
	for st, err := range query(ctx, s.pool, `SELECT step, done_at, detail::text FROM steps WHERE branch_code = $1 ORDER BY done_at, step`,
		[]any{branch}, func(r pgx.Rows, st *shikaku.Step) error { return r.Scan(&st.Name, &st.DoneAt, &st.Detail) }) {
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}
