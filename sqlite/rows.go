package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"iter"

	"shikaku"
	"shikaku/pipe"
)

// The bulk reads (extract's members, pack's targets, the export's files)
// step statements of their own on the connection's C handle (reached
// inside sql.Conn.Raw, see native.go), fetched in batches, and read each
// column into its field. Through database/sql, every column of every row
// was boxed into an interface, converted and copied again by Scan: at 1 M
// members, reading all columns of members took 3.3-3.6 s that way and
// 1.9-2.0 s stepped directly (2026-11-28, on the earlier driver); the
// decisions of the export 0.82 against 0.45-0.54 s.

// rawer runs fn on a SQLite connection of the store.
type rawer interface {
	raw(ctx context.Context, fn func(*conn) error) error
}

// onConn runs fn on the C handle of the connection behind dbc,
// interruptible by ctx.
func onConn(ctx context.Context, dbc *sql.Conn, fn func(*conn) error) error {
	return dbc.Raw(func(dc any) error {
		c, err := handleOf(ctx, dc)
		if err != nil {
			return err
		}
		defer c.interruptOn(ctx)()
		return fn(c)
	})
}

// raw runs fn on a connection of the pool, taken for as long as fn runs.
func (s *Store) raw(ctx context.Context, fn func(*conn) error) error {
	dbc, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer dbc.Close()
	return onConn(ctx, dbc, fn)
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
	dbc, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := onConn(ctx, dbc, func(c *conn) error { return c.Exec(`BEGIN`) }); err != nil {
		dbc.Close()
		return nil, err
	}
	return &reader{conn: dbc}, nil
}

func (r *reader) raw(ctx context.Context, fn func(*conn) error) error {
	return onConn(ctx, r.conn, fn)
}

// Close ends the read transaction and gives the connection back to the
// pool, or closes it when the transaction could not be ended, so that no
// pooled connection keeps one open.
func (r *reader) Close() error {
	err := r.conn.Raw(func(dc any) error {
		c, err := handleOf(context.Background(), dc)
		if err != nil {
			return errors.Join(err, driver.ErrBadConn)
		}
		if !c.InTransaction() {
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
		err := src.raw(ctx, func(c *conn) error {
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
func each(c *conn, query string, args []any, fn func(*row) bool) error {
	st, err := prepare(c, query)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.each(args, fn)
}

// stmt is a query prepared once and run many times: the cross-match
// looks up thousands of keys.
type stmt struct{ st *cstmt }

func prepare(c *conn, query string) (*stmt, error) {
	st, err := c.prepare(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, query)
	}
	return &stmt{st}, nil
}

func (s *stmt) Close() error { return s.st.Close() }

// each runs the statement with args, and calls fn with each row of its
// result until fn returns false.
func (s *stmt) each(args []any, fn func(*row) bool) error {
	vals := make([]value, len(args))
	for i, a := range args {
		v, err := queued(a)
		if err != nil {
			return fmt.Errorf("query argument %d: %w", i+1, err)
		}
		vals[i] = v
	}
	if err := s.st.start(vals); err != nil {
		return err
	}
	defer s.st.finish()
	f := fetcher{s: s.st}
	var r row
	for {
		ok, err := f.next(&r)
		if err != nil || !ok {
			return err
		}
		if !fn(&r) {
			return nil
		}
	}
}

// exec runs a statement that returns no rows.
func (s *stmt) exec(args ...any) error {
	return s.each(args, func(*row) bool { return true })
}

// rows yields the rows of a query on c, each read by scan.
func rows[T any](c *conn, query string, args []any, scan func(*row, *T)) iter.Seq2[T, error] {
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
func appendRows[T any](c *conn, out []T, query string, args []any, scan func(*row, *T)) ([]T, error) {
	err := each(c, query, args, func(r *row) bool {
		out = append(out, *new(T))
		scan(r, &out[len(out)-1])
		return true
	})
	return out, err
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
