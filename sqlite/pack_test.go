package sqlite

import (
	"context"
	"database/sql"
	"errors"
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
// back to the pool with the cache and the single sorter thread every
// connection has.
func TestPackCacheIsRestored(t *testing.T) {
	defer func(n int) { packCachePerMember = n }(packCachePerMember)
	packCachePerMember = 1 << 20 // a MiB per member
	ctx := context.Background()
	s, c := extracted(t, 40)
	// Another branch packed first: the writer then fills the indexes as it
	// goes (see deferRandomIndexes).
	storetest.PackOther(t, s)
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
		// packOther's first pack built its indexes with more threads.
		if err := conn.QueryRowContext(ctx, `PRAGMA threads`).Scan(&n); err != nil || n != 0 {
			t.Errorf("a connection in the pool has threads %d after pack, want 0 (%v)", n, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// indexSQL is the definition of each random-order index in the database,
// "" when it is missing.
func indexSQL(t *testing.T, q rowQuerier) []string {
	t.Helper()
	var out []string
	for _, ix := range randomIndexes {
		var def string
		err := q.QueryRowContext(context.Background(), `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, ix.name).Scan(&def)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		out = append(out, def)
	}
	return out
}

// The first pack of a database builds the random-order indexes after its
// load, as the migrations define them; a pack that fails leaves them as
// they were; a pack after another branch's keeps them up as it goes.
func TestRandomIndexesDeferredOnFirstPack(t *testing.T) {
	ctx := context.Background()
	var defined []string
	for _, ix := range randomIndexes {
		defined = append(defined, ix.definition)
	}
	for _, tc := range []struct {
		name       string
		otherFirst bool
		fail       bool
		during     []string // the indexes inside the pack's transaction
	}{
		{"first pack", false, false, []string{"", ""}},
		{"first pack fails", false, true, []string{"", ""}},
		{"after another branch", true, false, defined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := extracted(t, 40)
			if got := indexSQL(t, s.db); !slices.Equal(got, defined) {
				t.Fatalf("the migrations define %q, randomIndexes %q", got, defined)
			}
			if tc.otherFirst {
				storetest.PackOther(t, s)
			}
			var during []string
			_, err := s.Pack(ctx, "46", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
				during = indexSQL(t, tx.(*packTx).tx)
				res, err := shikaku.PackCampaign(ctx, c, tx, nil)
				if tc.fail && err == nil {
					err = errors.New("stopped on purpose")
				}
				return res, err
			})
			if (err != nil) != tc.fail {
				t.Fatalf("pack: %v", err)
			}
			if !slices.Equal(during, tc.during) {
				t.Errorf("during pack the indexes were %q, want %q", during, tc.during)
			}
			if got := indexSQL(t, s.db); !slices.Equal(got, defined) {
				t.Errorf("after pack the indexes are %q, want %q", got, defined)
			}
			var bad string
			if err := s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&bad); err != nil || bad != "ok" {
				t.Errorf("integrity_check: %s %v", bad, err)
			}
			var envelopes, byHousehold int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), (SELECT COUNT(*) FROM envelopes INDEXED BY envelopes_household WHERE branch_code = '46') FROM envelopes WHERE branch_code = '46'`).Scan(&envelopes, &byHousehold); err != nil {
				t.Fatal(err)
			}
			if tc.fail != (envelopes == 0) || envelopes != byHousehold {
				t.Errorf("%d envelopes of branch 46, %d through envelopes_household", envelopes, byHousehold)
			}
		})
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
