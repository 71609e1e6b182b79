package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ncruces/go-sqlite3/driver"

	"shikaku"
	"shikaku/sqlite"
	"shikaku/storetest"
)

func open(t *testing.T) shikaku.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) { storetest.Run(t, open) }

func TestSchemaNewerThanBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, _ := sql.Open("sqlite3", path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "新しい") {
		t.Errorf("got %v", err)
	}
}

func TestMissingFolder(t *testing.T) {
	_, err := sqlite.Open(context.Background(), "/nonexistent/dir/t.db")
	if err == nil || !strings.Contains(err.Error(), "フォルダ") {
		t.Errorf("got %v", err)
	}
}

func TestDVLeaks(t *testing.T) {
	var path string
	openAt := func(t *testing.T) shikaku.Store {
		path = filepath.Join(t.TempDir(), "t.db")
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.RunDVLeaks(t, openAt, func(t *testing.T, _ shikaku.Store, k shikaku.MemberKey) {
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE members SET dv = 1 WHERE branch_code = ? AND symbol = ? AND number = ? AND branch_no = ?`,
			k.Branch, k.Symbol, k.Number, k.BranchNo); err != nil {
			t.Fatal(err)
		}
	})
}

// upgraded prepares a fresh database with setup and reopens it after
// undoing migrations (storetest.Upgraded).
func upgraded(t *testing.T, setup func(*testing.T, shikaku.Store), undo ...string) shikaku.Store {
	path := filepath.Join(t.TempDir(), "t.db")
	open := func() (shikaku.Store, error) { return sqlite.Open(context.Background(), path) }
	exec := func(statements []string) error {
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			return err
		}
		defer db.Close()
		for _, q := range statements {
			if _, err := db.Exec(q); err != nil {
				return err
			}
		}
		return nil
	}
	return storetest.Upgraded(t, open, exec, setup, undo...)
}

// TestUpgradeFillsPackedColumns reopens a database packed before
// migrations 003 and 004 and finds each certificate's branch number and
// each envelope's flyer language filled in.
func TestUpgradeFillsPackedColumns(t *testing.T) {
	s := upgraded(t, storetest.PackSmall, `ALTER TABLE certificates DROP COLUMN branch_no`,
		`ALTER TABLE envelopes DROP COLUMN language`, `ALTER TABLE decisions DROP COLUMN insured_id`,
		`DELETE FROM schema_migrations WHERE version >= 3`)
	storetest.CheckPackSmall(t, s)
}

// TestUpgradeFillsDecisionInsured reopens a database extracted before
// migration 005 and packs it: every decision has its insured person.
func TestUpgradeFillsDecisionInsured(t *testing.T) {
	s := upgraded(t, storetest.ExtractSmall, `ALTER TABLE decisions DROP COLUMN insured_id`,
		`DELETE FROM schema_migrations WHERE version >= 5`)
	storetest.PackExtracted(t, s)
	storetest.CheckPackSmall(t, s)
}

func pragma(t *testing.T, path, name string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A new database gets the large pages of bulk work and WAL; a database
// made before keeps its pages and opens as it was.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := pragma(t, path, "page_size"); got != "32768" {
		t.Errorf("new database: page_size %s, want 32768", got)
	}
	if got := pragma(t, path, "journal_mode"); got != "wal" {
		t.Errorf("new database: journal_mode %s, want wal", got)
	}

	old := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA page_size = 4096; CREATE TABLE made_before (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = sqlite.Open(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Branches(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := pragma(t, old, "page_size"); got != "4096" {
		t.Errorf("existing database: page_size %s, want 4096 kept", got)
	}
}
