package shikaku

import (
	"cmp"
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
		var h Household
		flush := func() bool {
			if len(h.Members) == 0 {
				return true
			}
			if err := h.CheckInsured(); err != nil {
				return yield(nil, err)
			}
			ok := yield(&h, nil)
			h.Members = h.Members[:0]
			return ok
		}
		for m, err := range members {
			if err != nil {
				yield(nil, err)
				return
			}
			if len(h.Members) > 0 && h.Members[0].Key.HouseholdKey != m.Key.HouseholdKey {
				if !flush() {
					return
				}
			}
			h.Members = append(h.Members, m)
		}
		flush()
	}
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
