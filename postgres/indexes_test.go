package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"shikaku"
	"shikaku/storetest"
)

// tableIndexes lists the valid indexes of tables as q sees them: each
// one's definition and the constraint it backs, if any.
func tableIndexes(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, tables ...string) []string {
	t.Helper()
	rows, err := q.Query(context.Background(), `SELECT pg_get_indexdef(i.indexrelid) || coalesce(' / ' || c.conname || ' ' || pg_get_constraintdef(c.oid), '')
		FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
		WHERE i.indrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) t) AND i.indisvalid
		ORDER BY 1`, tables)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// migratedIndexes lists the indexes of tables as the migrations left
// them, before the step under test, and stops the test unless there are
// want of them.
func migratedIndexes(t *testing.T, s *Store, want int, tables ...string) []string {
	t.Helper()
	defined := tableIndexes(t, s.pool, tables...)
	if len(defined) != want {
		t.Fatalf("before the step the indexes of %s are:\n%s", strings.Join(tables, ", "), strings.Join(defined, "\n"))
	}
	return defined
}

// otherLocks lists the locks that other sessions hold on table, their
// modes in order.
func otherLocks(t *testing.T, s *Store, table string) string {
	t.Helper()
	var modes string
	if err := s.pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(mode, ' ' ORDER BY mode), '') FROM pg_locks
		WHERE locktype = 'relation' AND relation = to_regclass($1) AND granted AND pid <> pg_backend_pid()`, table).Scan(&modes); err != nil {
		t.Error(err)
	}
	return modes
}

// The first import of a database copies the members into the table
// without its indexes, holding the table alone, and builds them after, as
// the migrations define them; an import beside another branch's members,
// or while another session reads the table, keeps them up and waits for
// no one; a key given twice (csvin refuses it first) fails the build and
// stores nothing.
func TestMemberIndexesDeferredOnFirstImport(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		otherFirst bool // branch 47 imported before
		reader     bool // another session holds a lock on members
		twice      bool // one key given twice
		two        bool // the file starts with 5 households of branch 45
		deferred   bool // the import holds the table alone while it copies
	}{
		{"first import", false, false, false, false, true},
		{"two branches in the file", false, false, false, true, true},
		{"key twice", false, false, true, false, true},
		{"after another branch", true, false, false, false, false},
		{"table in use", false, true, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := freshStore(t)
			defined := migratedIndexes(t, s, 3, "members")
			if tc.otherFirst {
				if _, err := s.ImportMembers(ctx, storetest.Rows(storetest.Members("47", 3))); err != nil {
					t.Fatal(err)
				}
			}
			if tc.reader {
				rtx, err := s.pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer rtx.Rollback(ctx)
				if _, err := rtx.Exec(ctx, `SELECT 1 FROM members LIMIT 1`); err != nil {
					t.Fatal(err)
				}
			}
			ms := storetest.Members("46", 20)
			want := len(ms)
			if tc.twice {
				ms = slices.Insert(ms, 10, ms[9])
				want = 0
			}
			if tc.two {
				ms = append(storetest.Members("45", 5), ms...)
			}
			var locks string
			rows := func(yield func(*shikaku.Member, error) bool) {
				for i := range ms {
					if i == len(ms)/2 {
						locks = otherLocks(t, s, "members")
					}
					if !yield(&ms[i], nil) {
						return
					}
				}
			}
			_, err := s.ImportMembers(ctx, rows)
			if tc.twice != (err != nil) {
				t.Fatalf("import: %v", err)
			}
			if tc.twice && !strings.Contains(err.Error(), "members_key") {
				t.Errorf("a key given twice: %v", err)
			}
			if got := strings.Contains(locks, "AccessExclusiveLock"); got != tc.deferred {
				t.Errorf("while copying, the locks on members were %q, want the table held alone: %v", locks, tc.deferred)
			}
			if got := tableIndexes(t, s.pool, "members"); !slices.Equal(got, defined) {
				t.Errorf("after the import the indexes are %q, want %q", got, defined)
			}
			// Every member stored is found through the key index.
			var n int
			var plan strings.Builder
			err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
					return err
				}
				const byKey = `SELECT COUNT(*) FROM members WHERE branch_code = '46' AND symbol >= ''`
				rows, err := tx.Query(ctx, `EXPLAIN `+byKey)
				if err != nil {
					return err
				}
				lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return err
				}
				plan.WriteString(strings.Join(lines, "\n"))
				return tx.QueryRow(ctx, byKey).Scan(&n)
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan.String(), "members_key") {
				t.Errorf("the members are not read through members_key:\n%s", plan.String())
			}
			if n != want {
				t.Errorf("%d members of branch 46 stored, want %d", n, want)
			}
			var all int
			if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE branch_code <> '47'`).Scan(&all); err != nil {
				t.Fatal(err)
			}
			if tc.twice && all != 0 || !tc.twice && all != len(ms) {
				t.Errorf("%d members of the file stored, of %d", all, len(ms))
			}
		})
	}
}

// The database's first extract copies the decisions without their primary
// key and builds it after, as migration 001 defines it; so does a
// re-extract of the only branch (its old decisions deleted first); an
// extract beside another branch's decisions keeps the key up. Deciding
// while importing ends with the same key.
func TestDecisionKeyDeferredOnFirstExtract(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		before   string // "other": branch 47 extracted first; "again": branch 46 extracted once before
		along    bool   // decided while importing
		deferred bool
	}{
		{"first extract", "", false, true},
		{"extract again", "again", false, true},
		{"after another branch", "other", false, false},
		{"while importing", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := freshStore(t)
			defined := migratedIndexes(t, s, 1, "decisions")
			switch tc.before {
			case "other":
				storetest.ExtractBranch(t, s, "47", 3, 5647700000)
			case "again":
				storetest.ExtractBranch(t, s, "46", 20, 5646600000)
			}
			c := storetest.Campaign("46", 5646600000)
			var locks string
			var checked bool
			decide := func(h *shikaku.Household, out []shikaku.ReasonCode) {
				if !checked {
					locks, checked = otherLocks(t, s, "decisions"), true
				}
				c.Rules().Decide(h, out)
			}
			if tc.along {
				if _, _, err := s.ImportAndExtract(ctx, storetest.Rows(storetest.Members("46", 20)), c, "settings", c.Rules().Decide); err != nil {
					t.Fatal(err)
				}
			} else {
				if tc.before != "again" {
					if _, err := s.ImportMembers(ctx, storetest.Rows(storetest.Members("46", 20))); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := s.Extract(ctx, c, "settings", decide); err != nil {
					t.Fatal(err)
				}
				if got := strings.Contains(locks, "AccessExclusiveLock"); got != tc.deferred {
					t.Errorf("while deciding, the locks on decisions were %q, want the table held alone: %v", locks, tc.deferred)
				}
			}
			if got := tableIndexes(t, s.pool, "decisions"); !slices.Equal(got, defined) {
				t.Errorf("after the extract the indexes are %q, want %q", got, defined)
			}
			// Every member of the branch has its decision, found by the key.
			var members, decided int
			err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `SET LOCAL enable_hashjoin = off`); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `SET LOCAL enable_mergejoin = off`); err != nil {
					return err
				}
				return tx.QueryRow(ctx, `SELECT COUNT(*), COUNT(d.member_id) FROM members m
					LEFT JOIN decisions d ON d.member_id = m.id WHERE m.branch_code = '46'`).Scan(&members, &decided)
			})
			if err != nil {
				t.Fatal(err)
			}
			if members == 0 || decided != members {
				t.Errorf("%d members of branch 46, %d decisions found through the key", members, decided)
			}
		})
	}
}
