package shikaku

import (
	"fmt"
	"iter"
)

// GroupHouseholds groups members, given sorted by key, into households.
// The yielded Household is reused: it is valid until the next one.
func GroupHouseholds(members iter.Seq2[Member, error]) iter.Seq2[*Household, error] {
	return func(yield func(*Household, error) bool) {
		var h Household
		flush := func() bool {
			if len(h.Members) == 0 {
				return true
			}
			if !h.Members[0].Key.Insured() {
				return yield(nil, fmt.Errorf("世帯 %s に被保険者（枝番 00）がいません", h.Key()))
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
