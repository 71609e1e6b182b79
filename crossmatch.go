package shikaku

import "time"

// LossIndex holds the losses that count for the cross-match (rules.md §2):
// those with lost_on on or before the loss data date.
type LossIndex struct {
	asOf time.Time
	keys map[MemberKey]time.Time
}

// NewLossIndex keeps the losses effective on asOf.
func NewLossIndex(asOf time.Time, losses []Loss) *LossIndex {
	idx := &LossIndex{asOf: asOf, keys: make(map[MemberKey]time.Time, len(losses))}
	for _, l := range losses {
		if l.LostOn.IsZero() || l.LostOn.After(asOf) {
			continue
		}
		if prev, ok := idx.keys[l.Key]; !ok || l.LostOn.Before(prev) {
			idx.keys[l.Key] = l.LostOn
		}
	}
	return idx
}

// Effective reports whether a loss row counts on the index's date.
func (idx *LossIndex) Effective(l Loss) bool {
	return !l.LostOn.IsZero() && !l.LostOn.After(idx.asOf)
}

// Removes reports whether a target is removed with R_LOST_AFTER_EXTRACTION:
// its own key, or its household's insured person's key, lost eligibility.
func (idx *LossIndex) Removes(k MemberKey) bool {
	if _, ok := idx.keys[k]; ok {
		return true
	}
	_, ok := idx.keys[MemberKey{k.HouseholdKey, InsuredBranchNo}]
	return ok
}

// Len is the number of effective loss keys.
func (idx *LossIndex) Len() int { return len(idx.keys) }
