package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"shikaku"
)

// inTransaction tells whether the pool's next connection has a
// transaction open.
func inTransaction(t *testing.T, s *Store) bool {
	t.Helper()
	var open bool
	if err := s.raw(context.Background(), func(c *sqlite3.Conn) error {
		open = !c.GetAutocommit()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return open
}

func TestRowsReadColumnsInOrder(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	s.db.SetMaxOpenConns(1) // a connection not given back would block the next read
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (n INTEGER, a TEXT, b TEXT, c TEXT, d INTEGER, f INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO t VALUES (1, 'S', 'N', '01', 20251202, 1), (2, '', '', '', NULL, 0), (3, 'x', 'y', 'z', NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	type got struct {
		n    int
		key  shikaku.MemberKey
		date time.Time
		flag bool
	}
	read := func(r *row, g *got) { g.n, g.key, g.date, g.flag = r.int(), r.key("46"), r.date(), r.flag() }
	var all []got
	for g, err := range stream(ctx, s, `SELECT * FROM t WHERE n >= ? ORDER BY n`, []any{1}, read) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, g)
	}
	want := []got{
		{1, shikaku.MemberKey{HouseholdKey: shikaku.HouseholdKey{Branch: "46", Symbol: "S", Number: "N"}, BranchNo: "01"}, time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC), true},
		{2, shikaku.MemberKey{HouseholdKey: shikaku.HouseholdKey{Branch: "46"}}, time.Time{}, false},
		{3, shikaku.MemberKey{HouseholdKey: shikaku.HouseholdKey{Branch: "46", Symbol: "x", Number: "y"}, BranchNo: "z"}, time.Time{}, false},
	}
	if len(all) != len(want) {
		t.Fatalf("read %d rows, want %d: %+v", len(all), len(want), all)
	}
	for i := range want {
		if all[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, all[i], want[i])
		}
	}

	// A reader that stops early gives the connection back.
	for range stream(ctx, s, `SELECT * FROM t`, nil, read) {
		break
	}
	done := make(chan bool)
	go func() { done <- inTransaction(t, s) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection of a stopped read was not given back")
	}

	// A bad query is an error of the stream, and the connection is back too.
	for _, err := range stream(ctx, s, `SELECT nothing FROM t`, nil, read) {
		if err == nil {
			t.Fatal("a bad query yielded a row")
		}
	}
	inTransaction(t, s)
}

func TestSnapshotEndsItsTransaction(t *testing.T) {
	s := openTemp(t)
	s.db.SetMaxOpenConns(1) // the snapshot's connection is the next one handed out
	for _, interrupted := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := s.snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if interrupted {
			cancel()
		}
		// The first read starts the read transaction (or fails, cancelled).
		for _, err := range stream(ctx, r, `SELECT COUNT(*) FROM members`, nil, func(r *row, n *int) { *n = r.int() }) {
			if (err != nil) != interrupted && !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted %v: %v", interrupted, err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatalf("interrupted %v: closing the snapshot: %v", interrupted, err)
		}
		cancel()
		if inTransaction(t, s) {
			t.Errorf("interrupted %v: a pooled connection kept the snapshot's transaction", interrupted)
		}
	}
}

func TestPreparedStatementRunsAgain(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (n INTEGER, a TEXT)`); err != nil {
		t.Fatal(err)
	}
	err := s.raw(ctx, func(c *sqlite3.Conn) error {
		ins, err := prepare(c, `INSERT INTO t VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for i := range 10 {
			if err := ins.exec(i, string(rune('a'+i))); err != nil {
				return err
			}
		}
		sel, err := prepare(c, `SELECT a FROM t WHERE n >= ? ORDER BY n`)
		if err != nil {
			return err
		}
		defer sel.Close()
		for _, from := range []int{7, 0, 9} {
			var got string
			// A run stopped after its first row leaves nothing behind for the next.
			if err := sel.each([]any{from}, func(r *row) bool { got += r.text(); return false }); err != nil {
				return err
			}
			if want := string(rune('a' + from)); got != want {
				t.Errorf("from %d: %q, want %q", from, got, want)
			}
		}
		all, err := appendRows(c, []string{"before"}, `SELECT a FROM t WHERE n < ? ORDER BY n`, []any{3}, func(r *row, a *string) { *a = r.text() })
		if err != nil {
			return err
		}
		if fmt.Sprint(all) != "[before a b c]" {
			t.Errorf("appended %v", all)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
