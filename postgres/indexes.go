package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// deferIndexes drops the indexes and unique constraints of tables when
// they hold no row at all (the first import or pack of the database), to
// be built after the bulk load with one sort each, and returns the
// statements that build them again (nil when it dropped nothing). Rows
// copied into a table with its indexes up cost an index insert each, with
// its log record, and a page read back for each insert in random order
// once an index outgrows the server's buffers.
//
// Dropping an index locks its table against every other session until
// the commit: another branch's step or lookup that reads the table then
// waits for this one. So it is done only when the tables are empty (the
// others' reads would find nothing there) and their locks are free at
// once; otherwise the indexes stay up and nothing waits. A crash rolls
// the drop back with the rest of the transaction.
func deferIndexes(ctx context.Context, tx pgx.Tx, tables ...string) ([]string, error) {
	var empty []string
	for _, t := range tables {
		empty = append(empty, `NOT EXISTS (SELECT 1 FROM `+t+`)`)
	}
	isEmpty := `SELECT ` + strings.Join(empty, ` AND `)
	var none bool
	if err := tx.QueryRow(ctx, isEmpty).Scan(&none); err != nil || !none {
		return nil, err
	}
	// A lock taken in a savepoint is released when the savepoint is
	// rolled back, and a lock not granted aborts only the savepoint.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	keep := func(err error) ([]string, error) {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return nil, rerr
		}
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
			return nil, nil
		}
		return nil, err
	}
	if _, err := sp.Exec(ctx, `LOCK TABLE `+strings.Join(tables, `, `)+` IN ACCESS EXCLUSIVE MODE NOWAIT`); err != nil {
		return keep(err)
	}
	// Another session may have committed rows between the check and the
	// lock.
	if err := sp.QueryRow(ctx, isEmpty).Scan(&none); err != nil || !none {
		return keep(err)
	}
	type index struct{ drop, build string }
	var indexes []index
	for ix, err := range query(ctx, sp, `SELECT
			CASE WHEN c.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass)
				ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::regclass, c.conname) END,
			CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
				ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) END
		FROM pg_index i
		LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
		WHERE i.indrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) t)
		ORDER BY i.indexrelid`, []any{tables},
		func(r pgx.Rows, ix *index) error { return r.Scan(&ix.drop, &ix.build) }) {
		if err != nil {
			return keep(err)
		}
		indexes = append(indexes, ix)
	}
	var builds []string
	for _, ix := range indexes {
		if _, err := sp.Exec(ctx, ix.drop); err != nil {
			return nil, fmt.Errorf("索引を外せません（%s）: %w", ix.drop, err)
		}
		builds = append(builds, ix.build)
	}
	return builds, sp.Commit(ctx)
}

// buildIndexes runs what deferIndexes returned, in its transaction. A
// unique index fails on a key stored twice.
func buildIndexes(ctx context.Context, tx pgx.Tx, builds []string) error {
	for _, b := range builds {
		if _, err := tx.Exec(ctx, b); err != nil {
			// A duplicate's key is in the detail, not in the message.
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Detail != "" {
				return fmt.Errorf("索引を作れません（%s）: %w: %s", b, err, pe.Detail)
			}
			return fmt.Errorf("索引を作れません（%s）: %w", b, err)
		}
	}
	return nil
}
