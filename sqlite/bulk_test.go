package sqlite

import (
	"context"
	"errors"
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
