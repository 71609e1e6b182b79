package sqlite

import (
	"context"
	"testing"

	"shikaku"
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
