package postgres

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"

	"github.com/jackc/pgx/v5"

	"shikaku"
)

// ImportAndExtract imports the members and, in the same transaction,
// decides c's branch household by household as its rows go in, when they
// come together and in key order: run's extract then does not read every
// member back (10 M members: import and extract 125–128 s together
// against 138–145 s one after the other).
func (s *Store) ImportAndExtract(ctx context.Context, rows iter.Seq2[*shikaku.Member, error], c *shikaku.Campaign, settings string, decide func(*shikaku.Household, []shikaku.ReasonCode)) (map[string]int, map[shikaku.ReasonCode]int, error) {
	along := &importExtraction{c: c, settings: settings, decide: decide, counts: map[shikaku.ReasonCode]int{}}
	defer along.stop()
	counts, err := s.importMembers(ctx, rows, along)
	if err != nil || !along.stored {
		return counts, nil, err
	}
	return counts, along.counts, nil
}

// importExtraction decides a campaign's households while the import
// copies them. COPY cannot write the decisions while it writes the members
// on the same connection, and the members' IDs are certain only once their
// copy is done (the sequence is shared with other sessions), so the
// decisions wait in a temporary file, one byte per member in the order of
// the rows, and are copied after the members. It is off, and Extract still
// to run, when the branch's rows are not together and in key order (a
// household's members may then be apart, and the rows' IDs no longer
// follow their keys), when another session drew IDs from the sequence
// during the copy, when the file has no row of the branch, or when the
// temporary file cannot be made or written.
type importExtraction struct {
	c        *shikaku.Campaign
	settings string
	decide   func(*shikaku.Household, []shikaku.ReasonCode)
	counts   map[shikaku.ReasonCode]int
	g        shikaku.HouseholdGrouper
	out      []shikaku.ReasonCode
	file     *os.File // the decisions so far, once the branch's first row came
	w        *bufio.Writer
	first    int64 // the branch's first row: its index among the copied rows
	n        int64 // the branch's rows so far
	last     shikaku.MemberKey
	passed   bool // a row of another branch came after the branch's rows
	off      bool
	stored   bool // the decisions are in the database
}

// A decision's byte is the index of its code in shikaku.ReasonCodes, with
// householdStart set on the first member of a household, the insured
// person whose ID every member's decision carries.
const householdStart = 0x80

// add takes a row as it is copied, the index-th of the import.
func (a *importExtraction) add(m *shikaku.Member, index int64) error {
	if a.off {
		return nil
	}
	if m.Key.Branch != a.c.BranchCode {
		a.passed = a.n > 0
		return nil
	}
	if a.passed || (a.n > 0 && !a.last.Less(m.Key)) {
		a.stop()
		return nil
	}
	if a.n == 0 {
		f, err := os.CreateTemp("", "shikaku-decisions-*")
		if err != nil {
			// Deciding along only saves time: without the file the
			// import goes on alone and Extract decides afterwards.
			a.stop()
			return nil
		}
		// Unlinked at once where the system allows it: a killed process
		// leaves nothing behind.
		os.Remove(f.Name())
		a.file, a.w, a.first = f, bufio.NewWriterSize(f, 1<<20), index
	}
	a.last = m.Key
	a.n++
	return a.g.Add(*m, a.household)
}

// household decides a household and writes its decisions to the file.
func (a *importExtraction) household(h *shikaku.Household) error {
	a.out = append(a.out[:0], make([]shikaku.ReasonCode, len(h.Members))...)
	a.decide(h, a.out)
	for i, code := range a.out {
		a.counts[code]++
		k := slices.Index(shikaku.ReasonCodes, code)
		if k < 0 {
			return fmt.Errorf("未知の判定 %q", code)
		}
		b := byte(k)
		if i == 0 {
			b |= householdStart
		}
		a.w.WriteByte(b) // a write error sticks: end sees it at Flush
	}
	return nil
}

// stop leaves the branch to Extract, or ends the extraction once stored:
// the temporary file goes (on systems that cannot unlink an open file,
// only now).
func (a *importExtraction) stop() {
	a.off = true
	if a.file != nil {
		a.file.Close()
		os.Remove(a.file.Name())
		a.file, a.w = nil, nil
	}
}

// end runs after the members' copy, with the sequence's values drawn just
// before it (before) and just after (after), and copied rows in all: the
// rows took the IDs in between in the order of the file only if no other
// session drew from the sequence meanwhile. If so, the decisions are
// stored with their IDs as Extract stores them.
func (a *importExtraction) end(ctx context.Context, tx pgx.Tx, before, after, copied int64) error {
	if a.off || a.n == 0 || after != before+copied+1 {
		a.stop()
		return nil
	}
	if err := a.g.Flush(a.household); err != nil {
		return err
	}
	if err := a.w.Flush(); err != nil {
		a.stop() // the file could not hold the decisions (disk full?): Extract decides
		return nil
	}
	if _, err := a.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("判定の一時ファイルを読み直せません: %w", err)
	}
	deferred, err := beginExtract(ctx, tx, a.c, a.settings)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(a.file, 1<<20)
	branch := a.c.BranchCode
	id, insured := before+1+a.first, int64(0)
	decisions := func(e *copyEncoder) (bool, error) {
		b, err := r.ReadByte()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if b&householdStart != 0 {
			insured = id
		}
		e.row(len(decisionColumns))
		e.int64(id)
		e.text(branch)
		e.text(string(shikaku.ReasonCodes[b&^householdStart]))
		e.int64(insured)
		id++
		return true, nil
	}
	n, err := copyRows(ctx, tx, "decisions", decisionColumns, decisions)
	if err != nil {
		return err
	}
	if n != a.n {
		return fmt.Errorf("支部 %s: 判定 %d 件を保存しましたが、加入者は %d 名です", branch, n, a.n)
	}
	if err := endExtract(ctx, tx, branch, a.counts, deferred); err != nil {
		return err
	}
	a.stored = true
	return nil
}
