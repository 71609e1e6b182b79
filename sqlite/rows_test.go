package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"shikaku"
)

// inTransaction tells whether the pool's next connection has a
// transaction open.
func inTransaction(t *testing.T, s *Store) bool {
	t.Helper()
	var open bool
	if err := s.raw(context.Background(), func(c *conn) error {
		open = c.InTransaction()
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
	err := s.raw(ctx, func(c *conn) error {
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

// TestFetchGrowsForALargeRow: a row larger than the fetch buffer is read
// whole, and the rows around it too.
func TestFetchGrowsForALargeRow(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	big := strings.Repeat("鹿児島", fetchBytes/3)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (n INTEGER, a TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		a := fmt.Sprint("row", i)
		if i == 300 {
			a = big
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO t VALUES (?, ?)`, i, a); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for a, err := range stream(ctx, s, `SELECT n, a FROM t ORDER BY n`, nil, func(r *row, a *string) {
		if got := r.int(); got != n {
			t.Fatalf("row %d read as %d", n, got)
		}
		*a = r.text()
	}) {
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint("row", n)
		if n == 300 {
			want = big
		}
		if a != want {
			t.Fatalf("row %d: %d bytes, want %d", n, len(a), len(want))
		}
		n++
	}
	if n != 600 {
		t.Fatalf("read %d rows, want 600", n)
	}
}

// TestRowConverts: a column read as another type converts as SQLite's
// column functions do.
func TestRowConverts(t *testing.T) {
	s := openTemp(t)
	type got struct {
		text    string
		number  int64
		date    time.Time
		null    string
		nullInt int64
		real    string
	}
	for g, err := range stream(context.Background(), s, `SELECT 42, '17', '20251202', NULL, NULL, 1.5`, nil, func(r *row, g *got) {
		g.text, g.number, g.date, g.null, g.nullInt, g.real = r.text(), r.int64(), r.date(), r.text(), r.int64(), r.text()
	}) {
		if err != nil {
			t.Fatal(err)
		}
		want := got{"42", 17, time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC), "", 0, "1.5"}
		if g != want {
			t.Errorf("got %+v, want %+v", g, want)
		}
	}
}

// TestBulkConstraintFailureRollsBack: a row that breaks a constraint
// fails the insert with SQLite's message, and nothing of the transaction
// stays.
func TestBulkConstraintFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	err := s.tx(ctx, func(tx *writeTx) error {
		b, err := newBulk(ctx, tx, "t", []string{"k"})
		if err != nil {
			return err
		}
		for _, k := range []string{"a", "b", "a"} {
			if err := b.add(k); err != nil {
				return err
			}
		}
		return b.flush()
	})
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("err = %v, want a UNIQUE constraint failure", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows stayed after the failure", n)
	}
	if inTransaction(t, s) {
		t.Error("a pooled connection kept the failed transaction")
	}
}

// TestCancelInterruptsAQuery: a query still running when its context is
// cancelled stops with an error, and the connection serves the next
// query.
func TestCancelInterruptsAQuery(t *testing.T) {
	s := openTemp(t)
	s.db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	var err error
	for _, e := range stream(ctx, s, `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT COUNT(*) FROM c`, nil, func(r *row, n *int) { *n = r.int() }) {
		err = e
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("an endless query ended with %v, want it cancelled", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("the query stopped after %v", d)
	}
	var n int
	if err := s.db.QueryRowContext(context.Background(), `SELECT 1`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the next query: %d, %v", n, err)
	}
}
