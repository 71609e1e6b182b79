package shikaku

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
)

// CheckInsured: a household's first member, by key, must be its insured
// person (branch number 00), whom every rule and envelope refers to.
func (h *Household) CheckInsured() error {
	if !h.Members[0].Key.Insured() {
		return fmt.Errorf("世帯 %s に被保険者（枝番 00）がいません", h.Key())
	}
	return nil
}

// GroupHouseholds groups members, given sorted by key, into households.
// The yielded Household is reused: it is valid until the next one.
func GroupHouseholds(members iter.Seq2[Member, error]) iter.Seq2[*Household, error] {
	return func(yield func(*Household, error) bool) {
		var g HouseholdGrouper
		stopped := errors.New("stopped")
		pass := func(h *Household) error {
			if !yield(h, nil) {
				return stopped
			}
			return nil
		}
		for m, err := range members {
			if err == nil {
				err = g.Add(m, pass)
			}
			if err != nil {
				if err != stopped {
					yield(nil, err)
				}
				return
			}
		}
		if err := g.Flush(pass); err != nil && err != stopped {
			yield(nil, err)
		}
	}
}

// HouseholdGrouper gathers members, given in key order, into households,
// for a store that is handed the rows one at a time (as its import copies
// them) rather than as a sequence to range over.
type HouseholdGrouper struct {
	h Household
}

// Add adds a member. When m begins a new household, the one gathered so
// far is passed to done first (see Flush).
func (g *HouseholdGrouper) Add(m Member, done func(*Household) error) error {
	if len(g.h.Members) > 0 && g.h.Key() != m.Key.HouseholdKey {
		if err := g.Flush(done); err != nil {
			return err
		}
	}
	g.h.Members = append(g.h.Members, m)
	return nil
}

// Flush checks the household gathered so far (CheckInsured) and passes it
// to done, if there is one. The Household is reused: it is valid during
// the call only.
func (g *HouseholdGrouper) Flush(done func(*Household) error) error {
	if len(g.h.Members) == 0 {
		return nil
	}
	if err := g.h.CheckInsured(); err != nil {
		return err
	}
	err := done(&g.h)
	g.h.Members = g.h.Members[:0]
	return err
}

// TargetRow is one target with its household's insured person, as a store
// reads them in print order.
type TargetRow struct {
	Target, Insured Member
}

// ComparePrintOrder orders target rows for printing (rules §3): by their
// household's postal code and address (the insured person's), then by the
// target's key, which keeps a household's targets together in
// branch-number order. Strings compare bytewise, as SQLite's BINARY and
// PostgreSQL's "C" collation sort them, so a store can sort parts of the
// targets in SQL and merge them with this.
func ComparePrintOrder(a, b *TargetRow) int {
	if c := cmp.Compare(a.Insured.PostalCode, b.Insured.PostalCode); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Insured.Address, b.Insured.Address); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Target.Key.Symbol, b.Target.Key.Symbol); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Target.Key.Number, b.Target.Key.Number); c != 0 {
		return c
	}
	return cmp.Compare(a.Target.Key.BranchNo, b.Target.Key.BranchNo)
}

// GroupTargets groups target rows, given in print order, into the
// households that packing works on.
func GroupTargets(rows iter.Seq2[TargetRow, error]) iter.Seq2[*PackHousehold, error] {
	return func(yield func(*PackHousehold, error) bool) {
		var cur *PackHousehold
		for r, err := range rows {
			if err != nil {
				yield(nil, err)
				return
			}
			if cur != nil && cur.Insured.Key.HouseholdKey != r.Target.Key.HouseholdKey {
				if !yield(cur, nil) {
					return
				}
				cur = nil
			}
			if cur == nil {
				cur = &PackHousehold{Insured: r.Insured}
			}
			t := r.Target
			cur.Targets = append(cur.Targets, &t)
		}
		if cur != nil {
			yield(cur, nil)
		}
	}
}

// CountTargetRuns counts a branch's targets per household from the IDs of
// their households' insured persons, read in member ID order, for a branch
// whose member IDs follow its keys: a household's targets are then
// consecutive, and its insured person (its first member) has a larger ID
// than the household's before. A smaller one means the IDs do not follow
// the keys after all, and ends the counts with an error. Stores count this
// way to spare a GROUP BY, which sorts or hashes every target.
func CountTargetRuns(branch string, insured iter.Seq2[int64, error]) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		var cur int64
		n := 0
		for id, err := range insured {
			if err != nil {
				yield(0, err)
				return
			}
			if n > 0 && id == cur {
				n++
				continue
			}
			if n > 0 && !yield(n, nil) {
				return
			}
			if n > 0 && id < cur {
				yield(0, fmt.Errorf("支部 %s の対象者の世帯が加入者番号順に並んでいません（取り込みの記録と合いません）", branch))
				return
			}
			cur, n = id, 1
		}
		if n > 0 {
			yield(n, nil)
		}
	}
}
