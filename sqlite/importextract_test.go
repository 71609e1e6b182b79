package sqlite

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"shikaku"
	"shikaku/storetest"
)

// TestImportAndExtract: deciding while importing leaves the database as
// the import followed by Extract does (decisions with their member and
// insured IDs, the steps, the campaign) when the campaign's branch comes
// in key order, also after other branches and over a replaced snapshot;
// otherwise it imports alone, with no trace of the decisions it began.
func TestImportAndExtract(t *testing.T) {
	ctx := context.Background()
	varied := func(branch string, households int) []shikaku.Member {
		ms := storetest.Members(branch, households)
		for i := range ms {
			switch i % 11 {
			case 3:
				ms[i].LostOn = storetest.Campaign(branch, 1).Dates.DataAsOf
			case 5:
				ms[i].DecidedOn = shikaku.Member{}.DecidedOn
			case 8:
				ms[i].CertificateIssuedOn = ms[i].DecidedOn
			}
		}
		return ms
	}
	cat := func(files ...[]shikaku.Member) []shikaku.Member { return slices.Concat(files...) }
	reversed := func(ms []shikaku.Member) []shikaku.Member { ms = slices.Clone(ms); slices.Reverse(ms); return ms }
	for _, tt := range []struct {
		name    string
		before  [][]shikaku.Member // imported first, as a plain import
		file    []shikaku.Member
		decided bool
	}{
		{"one branch in key order", nil, varied("46", 40), true},
		{"between other branches", nil, cat(varied("40", 5), varied("46", 30), varied("47", 6)), true},
		{"over a replaced snapshot", [][]shikaku.Member{varied("46", 30), varied("47", 5)}, varied("46", 12), true},
		{"out of order", nil, reversed(varied("46", 20)), false},
		{"out of order after the branch", nil, cat(varied("46", 20), varied("40", 3)), false},
		{"branch not in the file", nil, varied("40", 8), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := storetest.Campaign("46", 5646600000)
			rules := c.Rules()
			open := func() *Store {
				s := openTemp(t)
				for _, ms := range tt.before {
					if _, err := s.ImportMembers(ctx, storetest.Rows(ms)); err != nil {
						t.Fatal(err)
					}
				}
				return s
			}
			fused := open()
			members, decided, err := fused.ImportAndExtract(ctx, storetest.Rows(tt.file), c, "settings", rules.Decide)
			if err != nil {
				t.Fatal(err)
			}
			if (decided != nil) != tt.decided {
				t.Fatalf("decided %v, want decisions: %v", decided, tt.decided)
			}
			ref := open()
			want, err := ref.ImportMembers(ctx, storetest.Rows(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(members) != fmt.Sprint(want) {
				t.Errorf("imported %v, the import alone %v", members, want)
			}
			if !tt.decided {
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
			if tt.decided && fmt.Sprint(decided) != fmt.Sprint(counts) {
				t.Errorf("decided %v, Extract %v", decided, counts)
			}
			if got, want := dump(t, fused), dump(t, ref); got != want {
				t.Errorf("import and extract left\n%s\nthe steps one by one\n%s", got, want)
			}
		})
	}
}

// TestImportAndExtractErrorChangesNothing: a file failing at its last row
// stores neither members nor decisions nor the campaign.
func TestImportAndExtractErrorChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	c := storetest.Campaign("46", 5646600000)
	rules := c.Rules()
	ms := storetest.Members("46", 20)
	var rows iter.Seq2[*shikaku.Member, error] = func(yield func(*shikaku.Member, error) bool) {
		for i := range ms[:len(ms)-1] {
			if !yield(&ms[i], nil) {
				return
			}
		}
		yield(nil, errors.New("bad row"))
	}
	if _, _, err := s.ImportAndExtract(ctx, rows, c, "settings", rules.Decide); err == nil {
		t.Fatal("an import ending in an error succeeded")
	}
	if got := dump(t, s); got != "" {
		t.Errorf("a failed import left\n%s", got)
	}
}

// dump is what the import and extract store: the members' IDs and keys,
// the decisions with their IDs, the steps and the campaigns.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, branch_code, symbol, number, branch_no FROM members ORDER BY id`,
		`SELECT member_id, branch_code, decision, insured_id FROM decisions ORDER BY member_id`,
		`SELECT branch_code, step, detail FROM steps ORDER BY branch_code, step`,
		`SELECT branch_code, name, settings, campaign FROM campaigns ORDER BY branch_code`,
	} {
		rows, err := s.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}
