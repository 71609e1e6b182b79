package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

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
	db, _ := sql.Open("sqlite", path)
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
