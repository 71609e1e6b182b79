package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"shikaku"
	"shikaku/storetest"
)

// openTemp opens a store in a fresh file for the package's own tests.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The key index is kept up during a load in key order and rebuilt after
// one out of order; either way it is there afterwards and refuses a key
// given twice, and a refused load leaves the members as they were.
func TestImportMembersKeyIndex(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	sorted := storetest.Members("46", 40)
	reversed := slices.Clone(sorted)
	slices.Reverse(reversed)
	dupSorted := slices.Insert(slices.Clone(sorted), 10, sorted[9])
	dupReversed := append(slices.Clone(reversed), reversed[0])
	for _, tt := range []struct {
		name string
		rows []shikaku.Member
		ok   bool
	}{
		{"in key order", sorted, true},
		{"out of order", reversed, true},
		{"in order with a key twice", dupSorted, false},
		{"out of order with a key twice", dupReversed, false},
		{"in key order again", sorted[:20], true},
	} {
		before, _ := s.MemberCount(ctx, "46")
		_, err := s.ImportMembers(ctx, storetest.Rows(tt.rows))
		if (err == nil) != tt.ok {
			t.Fatalf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
		}
		want := len(tt.rows)
		if !tt.ok {
			want = before
		}
		if n, _ := s.MemberCount(ctx, "46"); n != want {
			t.Errorf("%s: %d members, want %d", tt.name, n, want)
		}
		var idx int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'members_key'`).Scan(&idx); err != nil || idx != 1 {
			t.Errorf("%s: key index present %d times (%v)", tt.name, idx, err)
		}
	}
}
