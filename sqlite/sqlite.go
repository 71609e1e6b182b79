// Package sqlite is the embedded default store, on SQLite built from C by
// github.com/mattn/go-sqlite3 (cgo). The schema comes from migrations
// embedded in the binary. Every writing method is one transaction.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	sqlitedriver "github.com/mattn/go-sqlite3"

	"shikaku"
	"shikaku/lifesql"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a campaign database in one SQLite file.
type Store struct {
	db   *sql.DB
	path string
}

var _ shikaku.Store = (*Store)(nil)

// Open opens (creating if needed) the database file and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("データベースのフォルダ %s がありません: %w", dir, err)
		}
	}
	if err := create(ctx, path); err != nil {
		return nil, fmt.Errorf("データベース %s を作れません: %w", path, err)
	}
	// cache_size is also how much memory a sort takes before it
	// writes a sorted run to a file, and the sort grows its buffer by
	// doubling and copying it. Reads go through mmap, so the cache
	// serves the writer mostly. A million members, each step alone,
	// three runs each, 64 MiB against 16 MiB: pack 6.1-7.4 -> 5.1-5.4 s,
	// import 8.1-9.4 -> 7.3-8.4 s (8 MiB: pack 6.0-7.0 s). At 10 M, with
	// the 32 KiB pages of the same day, one run each: pack 75.3 -> 81.0 s
	// (more sorted runs to merge, not measured apart), the whole run
	// 380.7 -> 369.8 s, peak RSS 3,813 -> 1,854 MiB.
	pragmas := []string{
		"journal_mode = WAL",   // readers do not block the writer; a crash rolls back cleanly
		"synchronous = NORMAL", // with WAL: consistent after a crash, fsync at checkpoints
		"busy_timeout = 30000",
		"foreign_keys = OFF",                      // integrity is kept by the transactions; checks would slow bulk loads
		fmt.Sprintf("cache_size = -%d", cacheKiB), // see above
		fmt.Sprintf("mmap_size = %d", mmapSize),   // see mmapSize
		"temp_store = FILE",                       // sorts spill to files, not memory (MEMORY: 3.1 GiB held at 10 M)
	}
	d := &sqlitedriver.SQLiteDriver{ConnectHook: func(c *sqlitedriver.SQLiteConn) error {
		for _, p := range pragmas {
			if _, err := c.Exec("PRAGMA "+p, nil); err != nil {
				return fmt.Errorf("PRAGMA %s: %w", p, err)
			}
		}
		return nil
	}}
	// Write transactions take the write lock at BEGIN. Then a read
	// transaction opened right after sees exactly what the writer sees, so
	// a step can read on one connection while it writes on another.
	// database/sql never shares a connection between goroutines, so
	// SQLite's own mutex per connection is left out.
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_mutex", "no")
	db := sql.OpenDB(connector{driver: d, dsn: "file:" + path + "?" + q.Encode()})
	// Closing a connection frees its page cache page by page (seconds for
	// a full cache), so the connections of parallel readers are kept for
	// reuse instead of being closed when they fall idle.
	db.SetMaxIdleConns(8)
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// connector opens connections of one data source name on the driver.
type connector struct {
	driver *sqlitedriver.SQLiteDriver
	dsn    string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                            { return c.driver }

// cacheKiB is each connection's page cache; pack gives its writer more.
const cacheKiB = 16384

// mmapSize is how much of the database file each connection reads
// through a memory map instead of read calls: with the WebAssembly
// driver, twice as fast exports. Every connection maps the file anew and
// the kernel counts each mapping's pages in the process's RSS, so a step
// reading on four connections can show four times the map; at 40 M
// members pack peaked at 2,076 MiB and export at 2,018 MiB with 1 GiB
// maps. A million members' database (about 280 MiB) is still read mostly
// through the map; a large one is read mostly by read calls either way.
const mmapSize = 256 << 20

// pageSize is the page size of a new database. Bulk steps write and read
// whole tables in order, and larger pages mean fewer pages, cells moved
// and system calls. A million members, each step alone: import 9.6-9.9 s
// with 4 KiB pages (three runs), 8.1-8.9 s with 16 KiB (five), 7.9 s with
// 32 KiB (two), 8.4-9.0 s with 64 KiB (two); pack 8.6-8.8, 6.9-8.4, 6.7-7.2
// and 6.3-7.5 s.
const pageSize = 32768

// create makes a new database file with its page size, which is fixed
// once the file is in WAL mode (the pragmas of Open set WAL first).
// An existing file keeps the page size it has.
func create(ctx context.Context, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // both pragmas on one connection
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// migrate applies the embedded migrations not yet applied, each in its
// own transaction, and refuses a database made by a newer binary.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("データベース %s を初期化できません: %w", s.path, err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("スキーマの版を読めません: %w", err)
	}
	latest := 0
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: bad version: %w", name, err)
		}
		latest = max(latest, v)
		if v <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(tx *writeTx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, now())
			return err
		})
		if err != nil {
			return err
		}
	}
	if current > latest {
		return fmt.Errorf("データベース %s のスキーマ（版 %d）はこのプログラム（版 %d まで対応）より新しいため使えません。新しい shikaku を使ってください", s.path, current, latest)
	}
	return nil
}

// writeTx is a write transaction together with the connection it runs
// on, which bulk inserts use directly.
type writeTx struct {
	*sql.Tx
	conn  *sql.Conn
	stmts []*cstmt // prepared on conn by bulk inserts, closed with the transaction
}

func (w *writeTx) raw(ctx context.Context, fn func(*conn) error) error {
	return onConn(ctx, w.conn, fn)
}

// closeStatements finalizes the bulk statements, whether the transaction
// committed or not: the connection goes back to the pool without them.
func (w *writeTx) closeStatements() {
	w.conn.Raw(func(any) error {
		for _, st := range w.stmts {
			st.Close()
		}
		return nil
	})
	w.stmts = nil
}

// tx runs fn in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*writeTx) error) error {
	dbc, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer dbc.Close()
	tx, err := dbc.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	w := &writeTx{Tx: tx, conn: dbc}
	defer w.closeStatements()
	if err := fn(w); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

// dateArg stores a date as the integer YYYYMMDD, or NULL when not set.
func dateArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dateInt(t)
}

// dateInt is a date as the integer YYYYMMDD.
func dateInt(t time.Time) int64 {
	y, m, d := t.Date()
	return int64(y*10000 + int(m)*100 + d)
}

// dateOf reads a date stored as the integer YYYYMMDD.
func dateOf(v int64) time.Time {
	n := int(v)
	return time.Date(n/10000, time.Month(n/100%100), n%100, 0, 0, 0, 0, time.UTC)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bulkRows is how many rows bulk queues before it hands them to C.
const bulkRows = 256

// bulk inserts rows in batches: it queues the values of many rows and
// hands them to SQLite's C API at once, which binds and inserts them one
// row at a time on a statement prepared once (see native.go), inside the
// transaction of its connection. With the native engine a one-row INSERT
// is the fastest (a million 26-column rows in C: 3.2-5.6 s one row per
// statement, 5.0-7.1 s 256 rows per statement); what cost was the trip
// through the driver for each value.
type bulk struct {
	ctx   context.Context
	tx    *writeTx
	table string
	cols  int
	st    *cstmt
	vals  []value
	start int // where the row being queued starts in vals
}

// value is a queued value.
type value struct {
	kind valueKind
	i    int64
	f    float64
	s    string // text, or the bytes of a blob
}

type valueKind byte

const (
	valueNull valueKind = iota
	valueInt
	valueReal
	valueText
	valueBlob
)

func newBulk(ctx context.Context, tx *writeTx, table string, columns []string) (*bulk, error) {
	return newBulkUpsert(ctx, tx, table, columns, "")
}

// newBulkUpsert is newBulk whose rows update the row they conflict with
// as upsert says (an ON CONFLICT clause), instead of failing.
func newBulkUpsert(ctx context.Context, tx *writeTx, table string, columns []string, upsert string) (*bulk, error) {
	b := &bulk{ctx: ctx, tx: tx, table: table + " (" + strings.Join(columns, ", ") + ")", cols: len(columns)}
	// OR ROLLBACK: a constraint failure ends the whole transaction, which
	// is what every bulk step wants anyway, and it spares SQLite the
	// statement journal. An upsert clause takes over the constraint it
	// names; OR ROLLBACK still holds for the others.
	query := "INSERT OR ROLLBACK INTO " + b.table + " VALUES (" + strings.Repeat("?,", b.cols-1) + "?)"
	if upsert != "" {
		query += " " + upsert
	}
	err := tx.raw(ctx, func(c *conn) error {
		var err error
		b.st, err = c.prepare(query)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bulk insert into %s: %w", b.table, err)
	}
	tx.stmts = append(tx.stmts, b.st)
	b.vals = make([]value, 0, bulkRows*b.cols)
	return b, nil
}

// add queues one row. Values other than the common string, int64, int
// and nil are converted as database/sql would.
func (b *bulk) add(vals ...any) error {
	for _, v := range vals {
		q, err := queued(v)
		if err != nil {
			b.vals = b.vals[:b.start]
			return fmt.Errorf("bulk insert into %s: %w", b.table, err)
		}
		b.vals = append(b.vals, q)
	}
	return b.row()
}

// text, int, date and null queue one value of a row each, unboxed; row
// ends the row. Through add, every string and date of the import's 25
// columns per member was boxed on the heap first: at 1 M members, the
// import's writer spent 0.5 s of CPU on the boxing and its garbage.
func (b *bulk) text(s string) { b.vals = append(b.vals, value{kind: valueText, s: s}) }
func (b *bulk) int(i int64)   { b.vals = append(b.vals, value{kind: valueInt, i: i}) }
func (b *bulk) null()         { b.vals = append(b.vals, value{kind: valueNull}) }

// date queues a date as the integer YYYYMMDD, or NULL when not set.
func (b *bulk) date(t time.Time) {
	if t.IsZero() {
		b.null()
		return
	}
	b.int(dateInt(t))
}

// row ends the row queued since the last one, and inserts the batch when
// it is full.
func (b *bulk) row() error {
	if n := len(b.vals) - b.start; n != b.cols {
		b.vals = b.vals[:b.start]
		return fmt.Errorf("bulk insert into %s: a row of %d values for %d columns", b.table, n, b.cols)
	}
	if len(b.vals) == bulkRows*b.cols {
		if err := b.exec(); err != nil {
			return err
		}
	}
	b.start = len(b.vals)
	return nil
}

// queued turns a value into what exec binds; a value of another type is
// converted as database/sql would, once.
func queued(v any) (value, error) {
	switch x := v.(type) {
	case nil:
		return value{kind: valueNull}, nil
	case string:
		return value{kind: valueText, s: x}, nil
	case int64:
		return value{kind: valueInt, i: x}, nil
	case int:
		return value{kind: valueInt, i: int64(x)}, nil
	case bool:
		return value{kind: valueInt, i: int64(boolInt(x))}, nil
	case float64:
		return value{kind: valueReal, f: x}, nil
	case []byte:
		if x == nil {
			return value{kind: valueNull}, nil
		}
		return value{kind: valueBlob, s: string(x)}, nil
	}
	c, err := driver.DefaultParameterConverter.ConvertValue(v)
	if err != nil {
		return value{}, err
	}
	switch c.(type) {
	case nil, string, int64, bool, float64, []byte:
		return queued(c)
	}
	// time.Time, which the store keeps as dateArg's integers
	return value{}, fmt.Errorf("unsupported value %T", v)
}

// exec inserts the queued rows.
func (b *bulk) exec() error {
	err := b.tx.raw(b.ctx, func(*conn) error { return b.st.insert(b.vals, b.cols) })
	b.vals, b.start = b.vals[:0], 0
	if err != nil {
		return fmt.Errorf("bulk insert into %s: %w", b.table, err)
	}
	return nil
}

// flush inserts the rows still queued. The statement is closed with the
// transaction.
func (b *bulk) flush() error {
	if len(b.vals) == 0 {
		return nil
	}
	return b.exec()
}

// rowQuerier is a database, connection or transaction, for queries of
// one row.
type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// stepDone reports whether a step has been recorded for a branch.
func stepDone(ctx context.Context, q rowQuerier, branch, step string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM steps WHERE branch_code = ? AND step = ?`, branch, step).Scan(&n)
	return n > 0, err
}

func recordStep(ctx context.Context, tx *sql.Tx, branch, step, detail string) error {
	return lifesql.SaveStep(ctx, tx, lifesql.Dialect{}, branch, step, detail)
}
