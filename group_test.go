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

// TestGroupHouseholds: members in key order come out as households, each
// checked for its insured person; a read error or a household without one
// ends the sequence with that error; a consumer may stop early.
func TestGroupHouseholds(t *testing.T) {
	member := func(symbol, number, branchNo string) Member {
		return Member{Key: MemberKey{HouseholdKey: HouseholdKey{Branch: "46", Symbol: symbol, Number: number}, BranchNo: branchNo}}
	}
	for _, tt := range []struct {
		name    string
		members []Member
		readErr bool // the read fails after the members
		stopAt  int  // households taken before stopping; 0: all
		want    string
		wantErr string
	}{
		{"households", []Member{member("1", "1", "00"), member("1", "1", "01"), member("1", "2", "00"), member("2", "1", "00"), member("2", "1", "02")}, false, 0, "1-1:00,01 1-2:00 2-1:00,02", ""},
		{"empty", nil, false, 0, "", ""},
		{"no insured person", []Member{member("1", "1", "00"), member("1", "2", "01")}, false, 0, "1-1:00", "被保険者"},
		{"read error", []Member{member("1", "1", "00")}, true, 0, "", "read failed"},
		{"stopped early", []Member{member("1", "1", "00"), member("1", "2", "00"), member("1", "3", "01")}, false, 1, "1-1:00", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			members := func(yield func(Member, error) bool) {
				for _, m := range tt.members {
					if !yield(m, nil) {
						return
					}
				}
				if tt.readErr {
					yield(Member{}, errors.New("read failed"))
				}
			}
			var got []string
			var gotErr error
			for h, err := range GroupHouseholds(members) {
				if err != nil {
					gotErr = err
					break
				}
				var nos []string
				for _, m := range h.Members {
					nos = append(nos, m.Key.BranchNo)
				}
				got = append(got, h.Key().Symbol+"-"+h.Key().Number+":"+strings.Join(nos, ","))
				if len(got) == tt.stopAt {
					break
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("households %q, want %q", strings.Join(got, " "), tt.want)
			}
			if (gotErr == nil) != (tt.wantErr == "") || gotErr != nil && !strings.Contains(gotErr.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", gotErr, tt.wantErr)
			}
		})
	}
}
