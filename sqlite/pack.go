package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"runtime"

	"shikaku"
	"shikaku/lifesql"
	"shikaku/pipe"
)

// Pack runs fn in one transaction. Envelopes, certificates and the
// counters of tracking numbers and IDs are committed together or not at
// all: a process killed in the middle leaves no number handed out, and a
// rerun starts from the same counters.
func (s *Store) Pack(ctx context.Context, branch string, fn func(shikaku.PackTx) (shikaku.PackResult, error)) (shikaku.PackResult, error) {
	var res shikaku.PackResult
	err := s.tx(ctx, func(tx *writeTx) error {
		if done, err := stepDone(ctx, tx, branch, shikaku.StepExtract); err != nil {
			return err
		} else if !done {
			return shikaku.NotExtractedYet(branch)
		}
		if done, err := stepDone(ctx, tx, branch, shikaku.StepPack); err != nil {
			return err
		} else if done {
			return shikaku.RepackRefused(branch)
		}
		d, err := importRecord(ctx, tx, branch)
		if err != nil {
			return err
		}
		// The writer inserts into two indexes in random order
		// (envelopes_household, certificates_member). Once they outgrow
		// the page cache, every insert reads a page back and dirty pages
		// spill to the log mid-transaction: at 10 M members pack took
		// 112 s, 59 s of it system time. When no envelope is stored yet
		// (the first branch packed in the database), the two are dropped
		// and built after the load, one sort each; otherwise the writer
		// gets a page cache that holds them (packCacheKiB).
		deferred, err := deferRandomIndexes(ctx, tx)
		if err != nil {
			return err
		}
		if !deferred {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, packCacheKiB(d.Members))); err != nil {
				return err
			}
			defer tx.conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = -%d`, cacheKiB))
		}
		ins, err := newPackTx(ctx, tx, branch)
		if err != nil {
			return err
		}
		// Targets are read on other connections while envelopes are
		// written on this one; the households (in parts) and their count
		// at once.
		ins.reads = make([]*reader, householdParts)
		for i := range ins.reads {
			if ins.reads[i], err = s.snapshot(ctx); err != nil {
				return err
			}
			defer ins.reads[i].Close()
		}
		if ins.count, err = s.snapshot(ctx); err != nil {
			return err
		}
		defer ins.count.Close()
		ins.ids = d.IDs
		res, err = fn(ins)
		if err != nil {
			return err
		}
		if err := ins.flush(); err != nil {
			return err
		}
		if deferred {
			if err := buildRandomIndexes(ctx, tx); err != nil {
				return err
			}
		}
		detail, _ := json.Marshal(map[string]int{"households": res.Households, "envelopes": res.Envelopes, "certificates": res.Certificates})
		return recordStep(ctx, tx.Tx, branch, shikaku.StepPack, string(detail))
	})
	return res, err
}

// randomIndexes are the indexes pack fills in random order, as the
// migrations define them.
var randomIndexes = []struct{ name, definition string }{
	{"envelopes_household", `CREATE INDEX envelopes_household ON envelopes (branch_code, symbol, number)`},
	{"certificates_member", `CREATE INDEX certificates_member ON certificates (member_id)`},
}

// deferRandomIndexes drops the random-order indexes when no envelope or
// certificate is stored, and reports whether it did. Building them
// afterwards reads only the new rows then; with other branches' rows
// stored, it would sort theirs again too.
func deferRandomIndexes(ctx context.Context, tx *writeTx) (bool, error) {
	var empty bool
	if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM envelopes) AND NOT EXISTS (SELECT 1 FROM certificates)`).Scan(&empty); err != nil {
		return false, err
	}
	if !empty {
		return false, nil
	}
	for _, ix := range randomIndexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+ix.name); err != nil {
			return false, fmt.Errorf("索引 %s を外せません: %w", ix.name, err)
		}
	}
	return true, nil
}

// buildRandomIndexes builds the indexes deferRandomIndexes dropped, in
// the pack's transaction: a crash before the commit leaves them as they
// were. Nothing else runs then, so SQLite's sorter may use every core
// the process has: at 40 M members (Debian's SQLite 3.40 from Python on
// the packed database, two runs each) the two builds took 13.4-15.3 and
// 20.0-20.9 s on one thread, 9.2-11.6 and 15.6-19.6 s with two.
func buildRandomIndexes(ctx context.Context, tx *writeTx) error {
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA threads = %d`, runtime.GOMAXPROCS(0))); err != nil {
		return err
	}
	defer tx.conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA threads = 0`)
	for _, ix := range randomIndexes {
		if _, err := tx.ExecContext(ctx, ix.definition); err != nil {
			return fmt.Errorf("索引 %s を作れません: %w", ix.name, err)
		}
	}
	return nil
}

// packCachePerMember is the pack writer's page cache per member of the
// branch, in bytes: the two indexes it fills in random order take about
// 16 bytes per member. Pack alone at 10 M members: 112 s with the 16 MiB
// of every connection (59 s system time), 80 s with 128 MiB (13 s),
// 74 s with 256 MiB.
var packCachePerMember = 24

// packCacheKiB is the pack writer's page cache for a branch of members,
// at least every connection's and at most 1 GiB.
func packCacheKiB(members int) int {
	return min(max(members*packCachePerMember>>10, cacheKiB), 1<<20)
}

type packTx struct {
	tx     *sql.Tx
	reads  []*reader // snapshots for the streaming read of the households, one per part
	count  *reader   // another one, for their count read at the same time
	ids    *idRange  // the branch's member IDs, when they follow its keys
	branch string
	envs   *bulk
	certs  *bulk
}

func newPackTx(ctx context.Context, tx *writeTx, branch string) (*packTx, error) {
	envs, err := newBulk(ctx, tx, "envelopes", []string{"envelope_id", "branch_code", "kind", "seq", "symbol", "number",
		"addressee_no", "employer_code", "k", "n", "tracking_no", "wave", "send_on", "postal_code", "address", "address_line2", "certificates", "language"})
	if err != nil {
		return nil, err
	}
	certs, err := newBulk(ctx, tx, "certificates", []string{"certificate_id", "envelope_id", "position", "member_id", "branch_no", "issued_on", "valid_until"})
	if err != nil {
		return nil, err
	}
	return &packTx{tx: tx.Tx, branch: branch, envs: envs, certs: certs}, nil
}

func (p *packTx) flush() error {
	if err := p.envs.flush(); err != nil {
		return err
	}
	return p.certs.flush()
}

func (p *packTx) Counters(ctx context.Context) (shikaku.Counters, error) {
	return lifesql.ReadCounters(ctx, p.tx, lifesql.Dialect{}, p.branch)
}

func (p *packTx) SaveCounters(ctx context.Context, c shikaku.Counters) error {
	return lifesql.WriteCounters(ctx, p.tx, lifesql.Dialect{}, p.branch, c)
}

// TargetCounts counts each household's targets. When the import recorded
// that the branch's member IDs follow its keys, a household's decisions
// are consecutive rows of decisions (kept in member ID order), so the
// counts are runs of one insured_id in a plain scan, counted here; the
// GROUP BY otherwise sorts every target first, beside the households'
// own sort at the start of pack.
func (p *packTx) TargetCounts(ctx context.Context) iter.Seq2[int, error] {
	if p.ids == nil {
		return background(ctx, p.count, `SELECT COUNT(*) FROM decisions
			WHERE branch_code = ? AND decision = ? GROUP BY insured_id`, []any{p.branch, string(shikaku.Target)},
			func(r *row, n *int) { *n = r.int() })
	}
	return shikaku.CountTargetRuns(p.branch, stream(ctx, p.count, `SELECT insured_id FROM decisions
		WHERE member_id BETWEEN ? AND ? AND branch_code = ? AND decision = ? ORDER BY member_id`,
		[]any{p.ids.First, p.ids.Last, p.branch, string(shikaku.Target)},
		func(r *row, id *int64) { *id = r.int64() }))
}

// householdParts is how many parts pack's households are sorted in, each
// by a query of its own on a connection of its own, before they are
// merged in print order. SQLite sorts on one core, and pack's writer
// waits for the first row: 1 M members, the query alone, first row
// after 2.0-2.2 s whole and 0.7-1.2 s for half the targets.
var householdParts = 2

// householdsQuery reads the targets of one part (the condition on
// d.member_id that where adds) with their insured persons, in print order.
func householdsQuery(where string) string {
	return `SELECT m.id, m.symbol, m.number, m.branch_no, m.birth_date, m.dv, m.language,
			h.id, h.branch_no, h.insured_type, h.scheduled_loss_on, h.dv, h.postal_code, h.address, h.address_line2, h.employer_code, h.language
		FROM decisions d
		JOIN members m ON m.id = d.member_id
		JOIN members h ON h.id = d.insured_id
		WHERE d.branch_code = ? AND d.decision = ? AND ` + where + `
		ORDER BY h.postal_code, h.address, m.symbol, m.number, m.branch_no`
}

// householdSplit divides a branch's targets into n parts by member ID:
// ranges of the branch's IDs when the import recorded them (each query
// then reads only its range of decisions), otherwise the IDs' remainders
// by n. A household's targets may fall into different parts; the merge
// puts them back together.
func householdSplit(ids *idRange, n int) (where string, args func(part int) []any) {
	if ids == nil || ids.Last-ids.First+1 < int64(n) {
		return `d.member_id % ? = ?`, func(part int) []any { return []any{n, part} }
	}
	size := (ids.Last - ids.First + 1 + int64(n) - 1) / int64(n)
	return `d.member_id BETWEEN ? AND ?`, func(part int) []any {
		first := ids.First + int64(part)*size
		return []any{first, min(first+size-1, ids.Last)}
	}
}

// Households streams the targets in print order with their household's
// insured person (whose address the mail goes to). The parts are sorted
// at once, each on its snapshot, and merged.
func (p *packTx) Households(ctx context.Context) iter.Seq2[*shikaku.PackHousehold, error] {
	scan := func(r *row, tr *shikaku.TargetRow) {
		t, ins := &tr.Target, &tr.Insured
		t.ID, t.Key = r.int64(), r.key(p.branch)
		t.BirthDate, t.DV, t.Language = r.date(), r.flag(), r.text()
		ins.ID, ins.Key = r.int64(), shikaku.MemberKey{HouseholdKey: t.Key.HouseholdKey, BranchNo: r.text()}
		ins.InsuredType, ins.ScheduledLossOn, ins.DV = shikaku.InsuredType(r.text()), r.date(), r.flag()
		ins.PostalCode, ins.Address, ins.AddressLine2 = r.text(), r.text(), r.text()
		ins.EmployerCode, ins.Language = r.text(), r.text()
		if t.Key.Insured() {
			t.InsuredType, t.ScheduledLossOn, t.EmployerCode = ins.InsuredType, ins.ScheduledLossOn, ins.EmployerCode
		}
	}
	rows := func(yield func(shikaku.TargetRow, error) bool) {
		where, args := householdSplit(p.ids, len(p.reads))
		query := householdsQuery(where)
		parts := make([]iter.Seq2[shikaku.TargetRow, error], len(p.reads))
		for i, rd := range p.reads {
			// Started now, not when the merge first asks: the sorts run
			// at the same time.
			part, stop := pipe.Start(stream(ctx, rd, query, append([]any{p.branch, string(shikaku.Target)}, args(i)...), scan))
			defer stop()
			parts[i] = part
		}
		for r, err := range pipe.Merge(shikaku.ComparePrintOrder, parts...) {
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
	return shikaku.GroupTargets(rows)
}

func (p *packTx) SaveEnvelopes(ctx context.Context, envs []shikaku.Envelope) error {
	for i := range envs {
		e := &envs[i]
		v := p.envs
		v.text(e.ID)
		v.text(p.branch)
		v.text("bulk")
		v.int(e.Seq)
		v.text(e.Household.Symbol)
		v.text(e.Household.Number)
		v.text(e.Addressee.BranchNo)
		v.text(e.EmployerCode)
		v.int(int64(e.K))
		v.int(int64(e.N))
		v.int(int64(e.TrackingNumber))
		v.int(int64(e.Wave))
		v.date(e.SendOn)
		v.text(e.To.PostalCode)
		v.text(e.To.Address)
		v.text(e.To.Line2)
		v.int(int64(len(e.Certificates)))
		v.text(e.Language)
		if err := v.row(); err != nil {
			return fmt.Errorf("封筒 %s を保存できません: %w", e.ID, err)
		}
		for pos, c := range e.Certificates {
			v := p.certs
			v.text(c.ID)
			v.text(e.ID)
			v.int(int64(pos + 1))
			v.int(c.MemberID)
			v.text(c.Member.BranchNo)
			v.date(c.IssuedOn)
			v.date(c.ValidUntil)
			if err := v.row(); err != nil {
				return fmt.Errorf("資格確認書 %s を保存できません: %w", c.ID, err)
			}
		}
	}
	return nil
}
