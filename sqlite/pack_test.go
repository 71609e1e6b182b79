package sqlite

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"shikaku"
	"shikaku/storetest"
)

func TestPackCacheKiB(t *testing.T) {
	for _, c := range []struct{ members, want int }{
		{0, cacheKiB},
		{1_000_000, 23437},
		{10_000_000, 234375},
		{100_000_000, 1 << 20},
	} {
		if got := packCacheKiB(c.members); got != c.want {
			t.Errorf("packCacheKiB(%d) = %d, want %d", c.members, got, c.want)
		}
	}
}

// Pack's writer works with its larger page cache, and its connection goes
// back to the pool with the cache every connection has.
func TestPackCacheIsRestored(t *testing.T) {
	defer func(n int) { packCachePerMember = n }(packCachePerMember)
	packCachePerMember = 1 << 20 // a MiB per member
	ctx := context.Background()
	s, c := extracted(t, 40)
	var during int
	_, err := s.Pack(ctx, "46", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
		if err := tx.(*packTx).tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&during); err != nil {
			return shikaku.PackResult{}, err
		}
		return shikaku.PackCampaign(ctx, c, tx, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	members, err := s.MemberCount(ctx, "46")
	if err != nil {
		t.Fatal(err)
	}
	if want := -packCacheKiB(members); during != want || want == -cacheKiB {
		t.Errorf("pack's writer had cache_size %d, want %d", during, want)
	}
	// Every idle connection, the writer's among them.
	var conns []interface{ Close() error }
	for range 8 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		var n int
		if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != -cacheKiB {
			t.Errorf("a connection in the pool has cache_size %d after pack, want %d", n, -cacheKiB)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestHouseholdsSortedInParts: the households read in parts, sorted at
// once and merged, pack into the same envelopes as one sorted read, with
// the branch's IDs split into ranges (members imported in key order) or
// by remainder (out of order), households straddling the parts.
func TestHouseholdsSortedInParts(t *testing.T) {
	defer func(n int) { householdParts = n }(householdParts)
	ms := storetest.Members("46", 40)
	reversed := slices.Clone(ms)
	slices.Reverse(reversed)
	householdParts = 1
	want, _, err := extractOnce(t, ms, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(want) <= len(ms) {
		t.Fatalf("only %d lines for %d members: nothing packed", len(want), len(ms))
	}
	for _, parts := range []int{1, 2, 3, 5} {
		for name, members := range map[string][]shikaku.Member{"in key order": ms, "out of order": reversed} {
			householdParts = parts
			got, _, err := extractOnce(t, members, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%d parts, members %s: the lines differ from one sorted read:\n%v\n%v", parts, name, got, want)
			}
		}
	}
}

func TestHouseholdSplit(t *testing.T) {
	for _, tc := range []struct {
		ids   *idRange
		n     int
		where string
		args  [][]any
	}{
		{nil, 2, `d.member_id % ? = ?`, [][]any{{2, 0}, {2, 1}}},
		{&idRange{First: 11, Last: 20}, 2, `d.member_id BETWEEN ? AND ?`, [][]any{{int64(11), int64(15)}, {int64(16), int64(20)}}},
		{&idRange{First: 11, Last: 20}, 3, `d.member_id BETWEEN ? AND ?`, [][]any{{int64(11), int64(14)}, {int64(15), int64(18)}, {int64(19), int64(20)}}},
		{&idRange{First: 5, Last: 5}, 2, `d.member_id % ? = ?`, [][]any{{2, 0}, {2, 1}}},
	} {
		where, args := householdSplit(tc.ids, tc.n)
		if where != tc.where {
			t.Errorf("%+v in %d: %s, want %s", tc.ids, tc.n, where, tc.where)
			continue
		}
		for i, want := range tc.args {
			if got := args(i); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%+v in %d, part %d: %v, want %v", tc.ids, tc.n, i, got, want)
			}
		}
	}
}
