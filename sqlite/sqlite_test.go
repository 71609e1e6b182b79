package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

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
	return upgradedAt(t, filepath.Join(t.TempDir(), "t.db"), setup, undo...)
}

// upgradedAt is upgraded with the database at path.
func upgradedAt(t *testing.T, path string, setup func(*testing.T, shikaku.Store), undo ...string) shikaku.Store {
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

// TestUpgradeClustersCertificatesByEnvelope reopens a database packed
// before migration 006, with its certificates clustered by ID, and finds
// them clustered by envelope and position, every one of them kept, with
// the lookups by ID and by member indexed.
func TestUpgradeClustersCertificatesByEnvelope(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := upgradedAt(t, path, storetest.PackSmall,
		`CREATE TABLE certificates_by_id (
			certificate_id TEXT PRIMARY KEY, envelope_id TEXT NOT NULL, position INTEGER NOT NULL,
			member_id INTEGER NOT NULL, issued_on INTEGER NOT NULL, valid_until INTEGER NOT NULL,
			branch_no TEXT NOT NULL DEFAULT '') WITHOUT ROWID`,
		`INSERT INTO certificates_by_id SELECT certificate_id, envelope_id, position, member_id, issued_on, valid_until, branch_no FROM certificates`,
		`DROP TABLE certificates`,
		`ALTER TABLE certificates_by_id RENAME TO certificates`,
		`CREATE INDEX certificates_envelope ON certificates (envelope_id, position)`,
		`CREATE INDEX certificates_member ON certificates (member_id)`,
		`DELETE FROM schema_migrations WHERE version >= 6`)
	storetest.CheckPackSmall(t, s)
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var schema []string
	rows, err := db.Query(`SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE tbl_name = 'certificates' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			t.Fatal(err)
		}
		schema = append(schema, name+": "+strings.Join(strings.Fields(text), " "))
	}
	rows.Close()
	all := strings.Join(schema, "\n")
	for _, want := range []string{"PRIMARY KEY (envelope_id, position) ) WITHOUT ROWID",
		"certificates_id: CREATE UNIQUE INDEX certificates_id ON certificates (certificate_id)",
		"certificates_member: CREATE INDEX certificates_member ON certificates (member_id)"} {
		if !strings.Contains(all, want) {
			t.Errorf("certificates after the upgrade:\n%s\nwant %q", all, want)
		}
	}
	if strings.Contains(all, "certificates_envelope") {
		t.Errorf("the index by envelope is still there:\n%s", all)
	}
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
