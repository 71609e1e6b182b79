package storetest

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"shikaku"
)

// decides is what ImportAndExtract is to do with a file: decide along,
// import alone, or either, as the store can.
type decides int

const (
	decidesAlong decides = iota
	importsAlone
	eitherWay
)

// Dump is what a store's import and extract stored, as text to compare:
// the members' IDs and keys, the decisions with their IDs, the steps and
// the campaigns.
type Dump func(t *testing.T, s shikaku.Store) string

// RunImportAndExtract checks a shikaku.ImportExtractor: deciding while
// importing leaves the database as the import followed by Extract does
// (decisions with their member and insured IDs, the steps, the campaign)
// when the campaign's branch comes together and in key order, also after
// other branches and over a replaced snapshot; otherwise it imports alone,
// with no trace of the decisions it began, and Extract is still to run. A
// file failing at its last row stores nothing.
func RunImportAndExtract(t *testing.T, open Open, dump Dump) {
	varied := func(branch string, households int) []shikaku.Member {
		ms := Members(branch, households)
		for i := range ms {
			switch i % 11 {
			case 3:
				ms[i].LostOn = Campaign(branch, 1).Dates.DataAsOf
			case 5:
				ms[i].DecidedOn = shikaku.Member{}.DecidedOn
			case 8:
				ms[i].CertificateIssuedOn = ms[i].DecidedOn
			}
		}
		return ms
	}
	// split is the first or second half of a file's households.
	split := func(ms []shikaku.Member, first bool) []shikaku.Member {
		i := len(ms) / 2
		for i < len(ms) && ms[i].Key.HouseholdKey == ms[i-1].Key.HouseholdKey {
			i++
		}
		if first {
			return ms[:i]
		}
		return ms[i:]
	}
	cat := func(files ...[]shikaku.Member) []shikaku.Member { return slices.Concat(files...) }
	reversed := func(ms []shikaku.Member) []shikaku.Member { ms = slices.Clone(ms); slices.Reverse(ms); return ms }
	for _, tt := range []struct {
		name    string
		before  [][]shikaku.Member // imported first, as a plain import
		file    []shikaku.Member
		decided decides
	}{
		{"one branch in key order", nil, varied("46", 40), decidesAlong},
		{"between other branches", nil, cat(varied("40", 5), varied("46", 30), varied("47", 6)), decidesAlong},
		{"over a replaced snapshot", [][]shikaku.Member{varied("46", 30), varied("47", 5)}, varied("46", 12), decidesAlong},
		{"out of order", nil, reversed(varied("46", 20)), importsAlone},
		// The branch's own rows are together and in order, but the file is
		// not: SQLite stops at the row out of order, PostgreSQL need not.
		{"out of order after the branch", nil, cat(varied("46", 20), varied("40", 3)), eitherWay},
		{"branch not in the file", nil, varied("40", 8), importsAlone},
		// In key order, but the branch's rows are apart.
		{"branch split by another", nil, cat(split(varied("46", 20), true), varied("47", 4), split(varied("46", 20), false)), importsAlone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Campaign("46", 5646600000)
			rules := c.Rules()
			fresh := func() shikaku.Store {
				s := open(t)
				t.Cleanup(func() { s.Close() })
				for _, ms := range tt.before {
					mustImport(t, s, ms)
				}
				return s
			}
			fused := fresh()
			members, decided, err := fused.(shikaku.ImportExtractor).ImportAndExtract(ctx, Rows(tt.file), c, "settings", rules.Decide)
			if err != nil {
				t.Fatal(err)
			}
			if tt.decided != eitherWay && (decided != nil) != (tt.decided == decidesAlong) {
				t.Fatalf("decided %v, want decisions: %v", decided, tt.decided == decidesAlong)
			}
			ref := fresh()
			want, err := ref.ImportMembers(ctx, Rows(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(members) != fmt.Sprint(want) {
				t.Errorf("imported %v, the import alone %v", members, want)
			}
			if decided == nil {
				if got := dump(t, fused); got != dump(t, ref) {
					t.Errorf("an import that could not decide left\n%s\nthe import alone\n%s", got, dump(t, ref))
				}
				// The extract still to run is the one of the steps.
				if _, err := fused.Extract(ctx, c, "settings", rules.Decide); err != nil && !strings.Contains(tt.name, "not in the file") {
					t.Fatal(err)
				}
			}
			counts, err := ref.Extract(ctx, c, "settings", rules.Decide)
			if err != nil && !strings.Contains(tt.name, "not in the file") {
				t.Fatal(err)
			}
			if decided != nil && fmt.Sprint(decided) != fmt.Sprint(counts) {
				t.Errorf("decided %v, Extract %v", decided, counts)
			}
			if got, want := dump(t, fused), dump(t, ref); got != want {
				t.Errorf("import and extract left\n%s\nthe steps one by one\n%s", got, want)
			}
		})
	}
	t.Run("error changes nothing", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		c := Campaign("46", 5646600000)
		rules := c.Rules()
		ms := Members("46", 20)
		var rows iter.Seq2[*shikaku.Member, error] = func(yield func(*shikaku.Member, error) bool) {
			for i := range ms[:len(ms)-1] {
				if !yield(&ms[i], nil) {
					return
				}
			}
			yield(nil, errors.New("bad row"))
		}
		if _, _, err := s.(shikaku.ImportExtractor).ImportAndExtract(ctx, rows, c, "settings", rules.Decide); err == nil {
			t.Fatal("an import ending in an error succeeded")
		}
		if got := dump(t, s); got != "" {
			t.Errorf("a failed import left\n%s", got)
		}
	})
}
