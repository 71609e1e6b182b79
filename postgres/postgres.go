// Package postgres is the production store, on PostgreSQL through pgx.
// Imports and packing use COPY; the steps stream their reads on a second
// connection while they write on the first; every writing method is one
// transaction, and the campaigns of different branches lock only their
// own branch.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"shikaku"
	"shikaku/pipe"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a campaign database on a PostgreSQL server.
type Store struct {
	pool    *pgxpool.Pool
	sqlOnce sync.Once
	sqlDB   *sql.DB // database/sql over the pool, for the lifecycle (lifesql)
	url     string  // for messages, without the password
}

var _ shikaku.Store = (*Store)(nil)

// Open connects, checks the server and brings the schema up to date.
func Open(ctx context.Context, url, redacted string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL の接続先 %s を読めません: %w", redacted, err)
	}
	// A pack holds three connections (its transaction and two snapshots)
	// and an export up to five; steps of several branches may run in one
	// process (the store tests run two at once). Connections are opened
	// only when needed.
	cfg.MaxConns = 16
	// Room for the sorts of the streaming steps and exports (per sort).
	if _, ok := cfg.ConnConfig.RuntimeParams["work_mem"]; !ok {
		cfg.ConnConfig.RuntimeParams["work_mem"] = "64MB"
	}
	// The planner's row estimates for the household joins are far too high,
	// which makes it JIT-compile them with full optimization: measured 0.7 s
	// of 2.5 s on the pack's read at 1 M members, for no faster execution.
	if _, ok := cfg.ConnConfig.RuntimeParams["jit"]; !ok {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, explain(err, redacted)
	}
	s := &Store{pool: pool, url: redacted}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, explain(err, redacted)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// explain turns connection errors into what the operator should check.
func explain(err error, url string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000":
			return fmt.Errorf("PostgreSQL（%s）の認証に失敗しました。ユーザー名とパスワード（接続URLまたは PGPASSWORD）を確認してください: %s", url, pe.Message)
		case "3D000":
			return fmt.Errorf("PostgreSQL（%s）にデータベースがありません。createdb で作成するか、URL のデータベース名を確認してください: %s", url, pe.Message)
		}
	}
	var ne *net.OpError
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connect: connection refused") || strings.Contains(err.Error(), "no such host") {
		return fmt.Errorf("PostgreSQL（%s）に接続できません。サーバーが起動しているか、ホスト名とポートを確認してください: %v", url, err)
	}
	if strings.Contains(err.Error(), "password authentication failed") {
		return fmt.Errorf("PostgreSQL（%s）の認証に失敗しました。ユーザー名とパスワードを確認してください", url)
	}
	if strings.Contains(err.Error(), "does not exist") {
		return fmt.Errorf("PostgreSQL（%s）にデータベースがありません。createdb で作成するか、URL のデータベース名を確認してください", url)
	}
	return fmt.Errorf("PostgreSQL（%s）に接続できません: %w", url, err)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migrationLock serializes schema upgrades of processes started together.
const migrationLock = 4_660_001

func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return explain(err, s.url)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("PostgreSQL（%s）にスキーマを作れません（権限を確認してください）: %w", s.url, err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
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
		body, _ := migrations.ReadFile(name)
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, v)
			return err
		})
		if err != nil {
			return err
		}
	}
	if current > latest {
		return fmt.Errorf("データベース %s のスキーマ（版 %d）はこのプログラム（版 %d まで対応）より新しいため使えません。新しい shikaku を使ってください", s.url, current, latest)
	}
	return nil
}

// tx runs fn in a transaction holding the branch's lock: steps of one
// branch run one at a time, steps of different branches side by side.
func (s *Store) tx(ctx context.Context, branch string, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if branch != "" {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('shikaku:' || $1))`, branch); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// snapshot opens a read-only transaction on another connection, for the
// streaming reads of a step that writes on its own transaction.
func (s *Store) snapshot(ctx context.Context) (pgx.Tx, error) {
	return s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// background streams a query in a goroutine, a few batches ahead, so
// reading overlaps with the caller's work.
func background[T any](ctx context.Context, q querier, sql string, args []any, scan func(pgx.Rows, *T) error) iter.Seq2[T, error] {
	return pipe.Ahead(query(ctx, q, sql, args, scan))
}

// query streams the rows of a query through scan.
func query[T any](ctx context.Context, q querier, sql string, args []any, scan func(pgx.Rows, *T) error) iter.Seq2[T, error] {
	return pipe.Scan(func() (pgx.Rows, error) { return q.Query(ctx, sql, args...) },
		func(r pgx.Rows) { r.Close() }, scan)
}

// dateArg is a date for a date column, or NULL when not set.
func dateArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// date reads a date column; NULL is the zero time.
func date(d pgtype.Date) time.Time {
	if !d.Valid {
		return time.Time{}
	}
	return time.Date(d.Time.Year(), d.Time.Month(), d.Time.Day(), 0, 0, 0, 0, time.UTC)
}

func stepDone(ctx context.Context, tx pgx.Tx, branch, step string) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM steps WHERE branch_code = $1 AND step = $2`, branch, step).Scan(&n)
	return n > 0, err
}

func recordStep(ctx context.Context, tx pgx.Tx, branch, step string, detail []byte) error {
	_, err := tx.Exec(ctx, `INSERT INTO steps (branch_code, step, done_at, detail) VALUES ($1, $2, now(), $3)
		ON CONFLICT (branch_code, step) DO UPDATE SET done_at = excluded.done_at, detail = excluded.detail`,
		branch, step, string(detail))
	return err
}

// copyFrom streams an iterator of rows into a table with COPY.
func copyFrom(ctx context.Context, tx pgx.Tx, table string, columns []string, rows iter.Seq2[[]any, error]) (int64, error) {
	next, stop := iter.Pull2(rows)
	defer stop()
	src := &pullSource{next: next}
	n, err := tx.CopyFrom(ctx, pgx.Identifier(strings.Split(table, ".")), columns, src)
	if src.err != nil {
		return n, src.err
	}
	return n, err
}

type pullSource struct {
	next func() ([]any, error, bool)
	row  []any
	err  error
}

func (p *pullSource) Next() bool {
	row, err, ok := p.next()
	if !ok {
		return false
	}
	if err != nil {
		p.err = err
		return false
	}
	p.row = row
	return true
}

func (p *pullSource) Values() ([]any, error) { return p.row, nil }
func (p *pullSource) Err() error             { return p.err }
