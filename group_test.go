package shikaku

import (
	"errors"
	"iter"
	"slices"
	"strings"
	"testing"
)

func ids(vals ...int64) iter.Seq2[int64, error] {
	return func(yield func(int64, error) bool) {
		for _, v := range vals {
			if v < 0 {
				yield(0, errors.New("read failed"))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

func TestCountTargetRuns(t *testing.T) {
	for _, c := range []struct {
		name   string
		in     iter.Seq2[int64, error]
		counts []int
		err    string
	}{
		{"none", ids(), nil, ""},
		{"one household", ids(7, 7, 7), []int{3}, ""},
		{"households in order", ids(1, 4, 4, 9, 9, 9, 12), []int{1, 2, 3, 1}, ""},
		{"a household out of order", ids(4, 4, 1, 9), []int{2}, "並んでいません"},
		{"a household split", ids(4, 9, 4), []int{1, 1}, "並んでいません"},
		{"a read error", ids(1, 1, -1), nil, "read failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var counts []int
			var err error
			for n, e := range CountTargetRuns("46", c.in) {
				if e != nil {
					err = e
					break
				}
				counts = append(counts, n)
			}
			wrongErr := c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err))
			if wrongErr || !slices.Equal(counts, c.counts) {
				t.Errorf("counts %v, error %v; want %v, error containing %q", counts, err, c.counts, c.err)
			}
		})
	}
}

func TestComparePrintOrder(t *testing.T) {
	row := func(postal, address, symbol, number, branchNo string) *TargetRow {
		r := &TargetRow{}
		r.Insured.PostalCode, r.Insured.Address = postal, address
		r.Target.Key = MemberKey{HouseholdKey: HouseholdKey{Branch: "46", Symbol: symbol, Number: number}, BranchNo: branchNo}
		return r
	}
	base := row("8900001", "鹿児島市1-1", "100", "5", "01")
	for _, tc := range []struct {
		name  string
		other *TargetRow
		want  int // the sign of Compare(base, other)
	}{
		{"the same row", row("8900001", "鹿児島市1-1", "100", "5", "01"), 0},
		{"postal code first", row("8900002", "鹿児島市0", "000", "0", "00"), -1},
		{"a smaller postal code", row("8900000", "鹿児島市9", "999", "9", "99"), 1},
		{"then the address", row("8900001", "鹿児島市1-2", "000", "0", "00"), -1},
		{"an address that extends another after it", row("8900001", "鹿児島市1-10", "100", "5", "01"), -1},
		{"then the symbol", row("8900001", "鹿児島市1-1", "099", "9", "99"), 1},
		{"then the number", row("8900001", "鹿児島市1-1", "100", "6", "00"), -1},
		{"numbers bytewise, not by value", row("8900001", "鹿児島市1-1", "100", "10", "00"), 1},
		{"then the branch number", row("8900001", "鹿児島市1-1", "100", "5", "00"), 1},
		{"a later member of the household", row("8900001", "鹿児島市1-1", "100", "5", "02"), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComparePrintOrder(base, tc.other)
			if sign(got) != tc.want {
				t.Errorf("ComparePrintOrder = %d, want sign %d", got, tc.want)
			}
			if back := ComparePrintOrder(tc.other, base); sign(back) != -tc.want {
				t.Errorf("reversed: %d, want sign %d", back, -tc.want)
			}
		})
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
