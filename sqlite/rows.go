package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/ncruces/go-sqlite3"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"

	"shikaku"
	"shikaku/pipe"
)

// The bulk reads (extract's members, pack's targets, the export's files)
// step the driver's own statements (sql.Conn.Raw) and read each column
// into its field. Through database/sql, every column of every row was
// boxed into an interface, converted and copied again by Scan: at 1 M
// members, reading all columns of members took 3.3-3.6 s that way and
// 1.9-2.0 s stepped directly; the decisions of the export 0.82 against
// 0.45-0.54 s.

// rawer runs fn on a SQLite connection of the store.
type rawer interface {
	raw(ctx context.Context, fn func(*sqlite3.Conn) error) error
}

// onConn runs fn on the driver's connection behind conn, interruptible
// by ctx.
func onConn(ctx context.Context, conn *sql.Conn, fn func(*sqlite3.Conn) error) error {
	return conn.Raw(func(dc any) error {
		c := dc.(sqlitedriver.Conn).Raw()
		if old := c.SetInterrupt(ctx); old != ctx {
			defer c.SetInterrupt(old)
		}
		return fn(c)
	})
}

// raw runs fn on a connection of the pool, taken for as long as fn runs.
func (s *Store) raw(ctx context.Context, fn func(*sqlite3.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return onConn(ctx, conn, fn)
}

// reader is a connection of the pool holding a read transaction: all
// its reads see one state of the database.
type reader struct {
	conn *sql.Conn
}

// snapshot opens a read transaction on another connection. Opened while
// a write transaction holds the write lock, it sees the same committed
// state as the writer: the read starts with the reader's first query,
// and no other writer can commit before the holder of the lock does.
func (s *Store) snapshot(ctx context.Context) (*reader, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := onConn(ctx, conn, func(c *sqlite3.Conn) error { return c.Exec(`BEGIN`) }); err != nil {
		conn.Close()
		return nil, err
	}
	return &reader{conn: conn}, nil
}

func (r *reader) raw(ctx context.Context, fn func(*sqlite3.Conn) error) error {
	return onConn(ctx, r.conn, fn)
}

// Close ends the read transaction and gives the connection back to the
// pool, or closes it when the transaction could not be ended, so that no
// pooled connection keeps one open.
func (r *reader) Close() error {
	err := r.conn.Raw(func(dc any) error {
		c := dc.(sqlitedriver.Conn).Raw()
		c.SetInterrupt(context.Background())
		if c.GetAutocommit() {
			return nil
		}
		if err := c.Exec(`ROLLBACK`); err != nil {
			return errors.Join(err, driver.ErrBadConn)
		}
		return nil
	})
	return errors.Join(err, r.conn.Close())
}

// stream yields the rows of a query, each read by scan, on a connection
// that src holds for as long as the rows are read.
func stream[T any](ctx context.Context, src rawer, query string, args []any, scan func(*row, *T)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		// The rows' own errors come through rows; src.raw fails only
		// before it runs fn, when it has no connection to give.
		err := src.raw(ctx, func(c *sqlite3.Conn) error {
			for v, err := range rows(c, query, args, scan) {
				if !yield(v, err) || err != nil {
					break
				}
			}
			return nil
		})
		if err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

// background streams a query in a goroutine, a few batches ahead: the
// step reads on one core while it decides and writes on the other.
func background[T any](ctx context.Context, src rawer, query string, args []any, scan func(*row, *T)) iter.Seq2[T, error] {
	return pipe.Ahead(stream(ctx, src, query, args, scan))
}

// each runs a query on c and calls fn with each row of its result until
// fn returns false.
func each(c *sqlite3.Conn, query string, args []any, fn func(*row) bool) error {
	st, err := prepare(c, query)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.each(args, fn)
}

// stmt is a query prepared once and run many times: the cross-match
// looks up thousands of keys.
type stmt struct{ st *sqlite3.Stmt }

func prepare(c *sqlite3.Conn, query string) (*stmt, error) {
	st, _, err := c.Prepare(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, query)
	}
	return &stmt{st}, nil
}

func (s *stmt) Close() error { return s.st.Close() }

// each runs the statement with args, and calls fn with each row of its
// result until fn returns false.
func (s *stmt) each(args []any, fn func(*row) bool) error {
	st := s.st
	if err := st.Reset(); err != nil {
		return err
	}
	for i, a := range args {
		v, err := queued(a)
		if err == nil {
			err = bind(st, i+1, v)
		}
		if err != nil {
			return fmt.Errorf("query argument %d: %w", i+1, err)
		}
	}
	r := &row{st: st}
	for st.Step() {
		r.col = 0
		if !fn(r) {
			return nil
		}
	}
	return st.Err()
}

// exec runs a statement that returns no rows.
func (s *stmt) exec(args ...any) error {
	return s.each(args, func(*row) bool { return true })
}

// rows yields the rows of a query on c, each read by scan.
func rows[T any](c *sqlite3.Conn, query string, args []any, scan func(*row, *T)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		stopped := false
		err := each(c, query, args, func(r *row) bool {
			var v T
			scan(r, &v)
			stopped = !yield(v, nil)
			return !stopped
		})
		if err != nil && !stopped {
			var zero T
			yield(zero, err)
		}
	}
}

// appendRows appends the rows of a query on c to out, each read by scan
// in place: a member is a large value, and copying each one from a
// yielded value into the slice took 0.4 s of extract's CPU at 1 M.
func appendRows[T any](c *sqlite3.Conn, out []T, query string, args []any, scan func(*row, *T)) ([]T, error) {
	err := each(c, query, args, func(r *row) bool {
		out = append(out, *new(T))
		scan(r, &out[len(out)-1])
		return true
	})
	return out, err
}

// row reads the columns of a result row in the order of its query.
type row struct {
	st  *sqlite3.Stmt
	col int
}

// text is the next column as text; NULL is "".
func (r *row) text() string {
	r.col++
	return r.st.ColumnText(r.col - 1)
}

// int64 is the next column as an integer; NULL is 0.
func (r *row) int64() int64 {
	r.col++
	return r.st.ColumnInt64(r.col - 1)
}

func (r *row) int() int { return int(r.int64()) }

// flag is the next column, 0 or 1, as a bool.
func (r *row) flag() bool { return r.int64() == 1 }

// key is a member of branch from the next three columns: symbol, number
// and branch number.
func (r *row) key(branch string) shikaku.MemberKey {
	h := shikaku.HouseholdKey{Branch: branch, Symbol: r.text(), Number: r.text()}
	return shikaku.MemberKey{HouseholdKey: h, BranchNo: r.text()}
}

// date is the next column, a date stored as YYYYMMDD; NULL is the zero
// time.
func (r *row) date() time.Time {
	r.col++
	if r.st.ColumnType(r.col-1) == sqlite3.NULL {
		return time.Time{}
	}
	return dateOf(r.st.ColumnInt64(r.col - 1))
}
