package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"
)

type code string // a named type, as the domain's codes are

func TestBulkBindsThroughTheDriver(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (a TEXT, b INTEGER, c INTEGER, d BLOB, e TEXT, f INTEGER)`); err != nil {
		t.Fatal(err)
	}
	const rows = 1000 // several full statements and a short last one
	err := s.tx(ctx, func(tx *writeTx) error {
		b, err := newBulk(ctx, tx, "t", []string{"a", "b", "c", "d", "e", "f"})
		if err != nil {
			return err
		}
		for i := range rows {
			var c any
			if i%2 == 0 {
				c = i
			}
			if err := b.add("x", int64(i), c, []byte{byte(i)}, code("k"), true); err != nil {
				return err
			}
		}
		return b.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, sumB, nullC, blobs, named, trues int
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(b), SUM(c IS NULL), SUM(length(d) = 1), SUM(e = 'k'), SUM(f = 1) FROM t WHERE a = 'x'`).
		Scan(&n, &sumB, &nullC, &blobs, &named, &trues)
	if err != nil {
		t.Fatal(err)
	}
	if n != rows || sumB != rows*(rows-1)/2 || nullC != rows/2 || blobs != rows || named != rows || trues != rows {
		t.Errorf("rows %d, sum %d, nulls %d, blobs %d, named %d, true %d", n, sumB, nullC, blobs, named, trues)
	}

	// A value the driver cannot bind fails the row, and the transaction
	// leaves nothing behind, its statements closed.
	var failed *writeTx
	err = s.tx(ctx, func(tx *writeTx) error {
		failed = tx
		b, err := newBulk(ctx, tx, "t", []string{"a", "b", "c", "d", "e", "f"})
		if err != nil {
			return err
		}
		if err := b.add("y", 1, nil, nil, "", 0); err != nil {
			return err
		}
		if err := b.add("y", struct{}{}, nil, nil, "", 0); err == nil {
			return errors.New("a struct was accepted")
		} else if err := b.flush(); err != nil {
			return err
		}
		return errors.New("abort")
	})
	if err == nil || err.Error() != "abort" {
		t.Fatalf("want the abort, got %v", err)
	}
	if len(failed.stmts) != 0 {
		t.Errorf("%d statements left open after the rollback", len(failed.stmts))
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t WHERE a = 'y'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rolled-back rows left: %d (%v)", n, err)
	}
}

func TestBulkTypedRows(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (a TEXT, b INTEGER, c INTEGER)`); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC)
	err := s.tx(ctx, func(tx *writeTx) error {
		b, err := newBulk(ctx, tx, "t", []string{"a", "b", "c"})
		if err != nil {
			return err
		}
		for i := range 700 { // full statements and a short last one
			b.text("x")
			b.int(int64(i))
			if i%2 == 0 {
				b.date(day)
			} else {
				b.date(time.Time{})
			}
			if err := b.row(); err != nil {
				return err
			}
			// A row of the wrong width is refused and dropped whole;
			// the rows before it stay queued.
			b.text("short")
			if err := b.row(); err == nil {
				return errors.New("a row of one value was accepted")
			}
			b.text("long")
			b.int(1)
			b.null()
			b.null()
			if err := b.row(); err == nil {
				return errors.New("a row of four values was accepted")
			}
		}
		return b.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, sum, dated, nulls, others int
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(b), SUM(c = 20251202), SUM(c IS NULL), SUM(a <> 'x') FROM t`).Scan(&n, &sum, &dated, &nulls, &others)
	if err != nil {
		t.Fatal(err)
	}
	if n != 700 || sum != 700*699/2 || dated != 350 || nulls != 350 || others != 0 {
		t.Errorf("rows %d, sum %d, dated %d, null %d, others %d", n, sum, dated, nulls, others)
	}
}

// TestBulkRowsAcrossBatches: every row of several batches and a short
// last one reads back as queued: values that stay, that alternate between
// batches, and that turn from NULL to text and back.
func TestBulkRowsAcrossBatches(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (a TEXT, b TEXT, c TEXT, d INTEGER)`); err != nil {
		t.Fatal(err)
	}
	type row struct {
		a, b string
		c    *string
		d    int64
	}
	var want []row
	per := bulkRows
	err := s.tx(ctx, func(tx *writeTx) error {
		b, err := newBulk(ctx, tx, "t", []string{"a", "b", "c", "d"})
		if err != nil {
			return err
		}
		for i := range per*4 + 17 { // four full runs and a short last one
			run, slot := i/per, i%per
			r := row{a: "same", b: "fixed", d: 7}
			if slot%3 == 0 {
				r.b = fmt.Sprint("v", run%2)
			}
			if (run+slot)%2 == 1 {
				c := fmt.Sprint(slot)
				r.c = &c
			}
			if slot%5 == 0 {
				r.d = int64(run)
			}
			want = append(want, r)
			b.text(r.a)
			b.text(r.b)
			if r.c == nil {
				b.null()
			} else {
				b.text(*r.c)
			}
			b.int(r.d)
			if err := b.row(); err != nil {
				return err
			}
		}
		return b.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT a, b, c, d FROM t ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var got row
		var c sql.NullString
		if err := rows.Scan(&got.a, &got.b, &c, &got.d); err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if got.a != w.a || got.b != w.b || got.d != w.d || c.Valid != (w.c != nil) || (w.c != nil && c.String != *w.c) {
			t.Fatalf("row %d (run %d, slot %d): %v %v %v %v, want %+v", i, i/per, i%per, got.a, got.b, c, got.d, w)
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d rows, want %d", i, len(want))
	}
}
