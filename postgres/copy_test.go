package postgres

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

type copyTestRow struct {
	Text  string
	Small int
	Int   int
	Big   int64
	Flag  bool
	Day   time.Time // zero: NULL
}

// TestCopyRowsMatchesPgx writes the same rows with copyRows and with pgx's
// own CopyFrom and compares what the server stored, over the edges of each
// binary format: dates before 1970 and 2000 and leap days, negative and
// extreme integers, empty and multi-byte text, NULL.
func TestCopyRowsMatchesPgx(t *testing.T) {
	admin := testServer(t)
	ctx := context.Background()
	u, drop, err := TestDatabase(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"mine", "theirs"} {
		if _, err := conn.Exec(ctx, `CREATE TABLE `+table+` (n serial, t text, s smallint, i integer, b bigint, f boolean, d date)`); err != nil {
			t.Fatal(err)
		}
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	rows := []copyTestRow{
		{"山田 太郎", 1, 0, 0, true, day(1930, 3, 1)},
		{"", -32768, -2147483648, -9223372036854775808, false, day(1969, 12, 31)},
		{"ｶﾅ\tand\nnewline\\", 32767, 2147483647, 9223372036854775807, true, day(1970, 1, 1)},
		{"𠮷野家", 0, 7, 42, false, day(1999, 12, 31)},
		{"a", 2, 8, 43, true, day(2000, 1, 1)},
		{"b", 3, 9, 44, false, day(2000, 2, 29)},
		{"c", 4, 10, 45, true, day(2026, 12, 1)},
		{"d", 5, 11, 46, false, time.Date(2025, 12, 2, 23, 30, 0, 0, time.FixedZone("JST", 9*3600))},
		{"e", 6, 12, 47, true, time.Time{}},
	}
	cols := []string{"t", "s", "i", "b", "f", "d"}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	n, err := copyRows(ctx, tx, "mine", cols, func(e *copyEncoder) (bool, error) {
		if i == len(rows) {
			return false, nil
		}
		r := rows[i]
		i++
		e.row(len(cols))
		e.text(r.Text)
		e.int16(r.Small)
		e.int32(r.Int)
		e.int64(r.Big)
		e.bool(r.Flag)
		e.date(r.Day)
		return true, nil
	})
	if err != nil || n != int64(len(rows)) {
		t.Fatalf("copyRows: %d rows, %v", n, err)
	}
	var ref [][]any
	for _, r := range rows {
		var d any
		if !r.Day.IsZero() {
			y, m, dd := r.Day.Date()
			d = day(y, m, dd)
		}
		ref = append(ref, []any{r.Text, int16(r.Small), int32(r.Int), r.Big, r.Flag, d})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"theirs"}, cols, pgx.CopyFromRows(ref)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var diff int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM (
		(SELECT n, t, s, i, b, f, d FROM mine EXCEPT SELECT n, t, s, i, b, f, d FROM theirs)
		UNION ALL (SELECT n, t, s, i, b, f, d FROM theirs EXCEPT SELECT n, t, s, i, b, f, d FROM mine)) x`).Scan(&diff); err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Fatalf("%d rows differ between copyRows and pgx", diff)
	}
	var d time.Time
	if err := conn.QueryRow(ctx, `SELECT d FROM mine WHERE t = 'd'`).Scan(&d); err != nil || !d.Equal(day(2025, 12, 2)) {
		t.Fatalf("the calendar day of a time outside UTC: %v %v", d, err)
	}

	// An error of the rows aborts the COPY: it is returned as is and
	// nothing is stored.
	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("行 3: 生年月日が不正です")
	i = 0
	_, err = copyRows(ctx, tx, "mine", cols, func(e *copyEncoder) (bool, error) {
		if i == 2 {
			return false, bad
		}
		i++
		e.row(len(cols))
		e.text("x")
		e.int16(1)
		e.int32(1)
		e.int64(1)
		e.bool(true)
		e.date(day(2000, 1, 1))
		return true, nil
	})
	if !errors.Is(err, bad) {
		t.Fatalf("copyRows returned %v, want the rows' error", err)
	}
	tx.Rollback(ctx)
	var count int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM mine WHERE t = 'x'`).Scan(&count); err != nil || count != 0 {
		t.Fatalf("%d rows of an aborted COPY stored (%v)", count, err)
	}
}

// TestCopyReaderBounded reads a long stream the way the connection does,
// 64 KiB at a time: the encoder's buffer stays about one read long (a
// version that only ever appended held the whole import in memory).
func TestCopyReaderBounded(t *testing.T) {
	const rows = 200000
	text := strings.Repeat("加入者", 10)
	i := 0
	r := &copyReader{next: func(e *copyEncoder) (bool, error) {
		if i == rows {
			return false, nil
		}
		i++
		e.row(1)
		e.text(text)
		return true, nil
	}}
	p := make([]byte, 65536-5)
	total, maxCap := 0, 0
	for {
		n, err := r.Read(p)
		total += n
		maxCap = max(maxCap, cap(r.enc.buf))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := rows*(2+4+len(text)) + 2; total != want {
		t.Fatalf("read %d bytes, want %d", total, want)
	}
	if maxCap > 4*len(p) {
		t.Fatalf("buffer grew to %d bytes for reads of %d", maxCap, len(p))
	}
}
