package postgres_test

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"shikaku"
	"shikaku/postgres"
	"shikaku/storetest"
)

// openRecorded opens stores on fresh databases and remembers their URLs,
// for tests that look behind a store's back.
func openRecorded(urls map[shikaku.Store]string) storetest.Open {
	return func(t *testing.T) shikaku.Store {
		url := freshDB(t)
		s, err := postgres.Open(context.Background(), url, url)
		if err != nil {
			t.Fatal(err)
		}
		urls[s] = url
		return s
	}
}

func TestImportAndExtract(t *testing.T) {
	urls := map[shikaku.Store]string{}
	storetest.RunImportAndExtract(t, openRecorded(urls), func(t *testing.T, s shikaku.Store) string { return dump(t, urls[s]) })
}

// TestImportAndExtractIDsDrawnMeanwhile: when another session draws from
// the members' sequence during the copy, the rows' IDs no longer follow
// the file, so the import stores no decision and Extract, still to run,
// decides as it does after a plain import.
func TestImportAndExtractIDsDrawnMeanwhile(t *testing.T) {
	ctx := context.Background()
	urls := map[shikaku.Store]string{}
	open := openRecorded(urls)
	s := open(t)
	defer s.Close()
	c := storetest.Campaign("46", 5646600000)
	rules := c.Rules()
	ms := storetest.Members("46", 30)
	other, err := pgx.Connect(ctx, urls[s])
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var rows iter.Seq2[*shikaku.Member, error] = func(yield func(*shikaku.Member, error) bool) {
		for i := range ms {
			if i == len(ms)/2 {
				if _, err := other.Exec(ctx, `SELECT nextval(pg_get_serial_sequence('members', 'id'))`); err != nil {
					yield(nil, err)
					return
				}
			}
			if !yield(&ms[i], nil) {
				return
			}
		}
	}
	members, decided, err := s.(shikaku.ImportExtractor).ImportAndExtract(ctx, rows, c, "settings", rules.Decide)
	if err != nil {
		t.Fatal(err)
	}
	if decided != nil || members["46"] != len(ms) {
		t.Fatalf("imported %v and decided %v; want %d members and no decision", members, decided, len(ms))
	}
	if d := dump(t, urls[s]); strings.Contains(d, "TARGET") || strings.Contains(d, " extract ") {
		t.Fatalf("decisions stored although the IDs were not the file's:\n%s", d)
	}
	got, err := s.Extract(ctx, c, "settings", rules.Decide)
	if err != nil {
		t.Fatal(err)
	}
	ref := open(t)
	defer ref.Close()
	if _, err := ref.ImportMembers(ctx, storetest.Rows(ms)); err != nil {
		t.Fatal(err)
	}
	want, err := ref.Extract(ctx, c, "settings", rules.Decide)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Extract after the import decided %v, after a plain import %v", got, want)
	}
}

// dump is what the import and extract stored: the members' IDs and keys,
// the decisions with their IDs, the steps and the campaigns.
func dump(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, branch_code, symbol, number, branch_no FROM members ORDER BY id`,
		`SELECT member_id, branch_code, decision, insured_id FROM decisions ORDER BY member_id`,
		`SELECT branch_code, step, detail::text FROM steps ORDER BY branch_code, step`,
		`SELECT branch_code, name, settings, campaign::text FROM campaigns ORDER BY branch_code`,
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestImportAndExtractWithoutTemporaryFolder: deciding along needs a
// temporary file; without one the import still succeeds alone, and
// Extract decides afterwards.
func TestImportAndExtractWithoutTemporaryFolder(t *testing.T) {
	ctx := context.Background()
	urls := map[shikaku.Store]string{}
	s := openRecorded(urls)(t)
	defer s.Close()
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	c := storetest.Campaign("46", 5646600000)
	rules := c.Rules()
	ms := storetest.Members("46", 10)
	members, decided, err := s.(shikaku.ImportExtractor).ImportAndExtract(ctx, storetest.Rows(ms), c, "settings", rules.Decide)
	if err != nil {
		t.Fatal(err)
	}
	if decided != nil || members["46"] != len(ms) {
		t.Fatalf("imported %v and decided %v; want %d members and no decision", members, decided, len(ms))
	}
	if _, err := s.Extract(ctx, c, "settings", rules.Decide); err != nil {
		t.Fatal(err)
	}
}
