package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"shikaku"
	"shikaku/postgres"
	"shikaku/storetest"
)

// testURL is the server the tests use (postgres.TestServer).
func testURL(t *testing.T) string { return postgres.TestServer(t) }

// freshDB creates an empty database for one test and returns its URL.
func freshDB(t *testing.T) string {
	u, drop, err := postgres.TestDatabase(context.Background(), testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return u
}

func open(t *testing.T) shikaku.Store {
	url := freshDB(t)
	s, err := postgres.Open(context.Background(), url, url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) { storetest.Run(t, open) }

// upgraded prepares a fresh database with setup and reopens it after
// undoing migrations (storetest.Upgraded).
func upgraded(t *testing.T, setup func(*testing.T, shikaku.Store), undo ...string) shikaku.Store {
	ctx := context.Background()
	url := freshDB(t)
	open := func() (shikaku.Store, error) { return postgres.Open(ctx, url, url) }
	exec := func(statements []string) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		for _, q := range statements {
			if _, err := conn.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	return storetest.Upgraded(t, open, exec, setup, undo...)
}

// TestUpgradeFillsPackedColumns reopens a database packed before
// migrations 004 and 006 and finds each certificate's branch number and
// each envelope's flyer language filled in (005 runs again: a migration
// after 004 must stay rerunnable, or this test must undo it too).
func TestUpgradeFillsPackedColumns(t *testing.T) {
	s := upgraded(t, storetest.PackSmall, `ALTER TABLE certificates DROP COLUMN branch_no`,
		`ALTER TABLE envelopes DROP COLUMN language`, `ALTER TABLE decisions DROP COLUMN insured_id`,
		`DELETE FROM schema_migrations WHERE version >= 4`)
	storetest.CheckPackSmall(t, s)
}

// TestUpgradeFillsDecisionInsured reopens a database extracted before
// migration 007 and packs it: every decision has its insured person.
func TestUpgradeFillsDecisionInsured(t *testing.T) {
	s := upgraded(t, storetest.ExtractSmall, `ALTER TABLE decisions DROP COLUMN insured_id`,
		`DELETE FROM schema_migrations WHERE version >= 7`)
	storetest.PackExtracted(t, s)
	storetest.CheckPackSmall(t, s)
}

func TestDVLeaks(t *testing.T) {
	var url string
	openAt := func(t *testing.T) shikaku.Store {
		url = freshDB(t)
		s, err := postgres.Open(context.Background(), url, url)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.RunDVLeaks(t, openAt, func(t *testing.T, _ shikaku.Store, k shikaku.MemberKey) {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `UPDATE members SET dv = true WHERE branch_code = $1 AND symbol = $2 AND number = $3 AND branch_no = $4`,
			k.Branch, k.Symbol, k.Number, k.BranchNo); err != nil {
			t.Fatal(err)
		}
	})
}

func TestErrors(t *testing.T) {
	url := testURL(t)
	ctx := context.Background()
	cfg, _ := pgx.ParseConfig(url)
	tests := []struct {
		url, want string
	}{
		{fmt.Sprintf("postgres://%s@%s:%d/shikaku_no_such_db?sslmode=disable", cfg.User, cfg.Host, cfg.Port), "データベースがありません"},
		{fmt.Sprintf("postgres://%s@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", cfg.User), "接続できません"},
	}
	for _, tt := range tests {
		_, err := postgres.Open(ctx, tt.url, tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.url, err, tt.want)
		}
	}
	// A schema newer than the binary.
	u := freshDB(t)
	s, err := postgres.Open(ctx, u, u)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	c, _ := pgx.Connect(ctx, u)
	c.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (999, now())`)
	c.Close(ctx)
	if _, err := postgres.Open(ctx, u, u); err == nil || !strings.Contains(err.Error(), "新しい") {
		t.Errorf("newer schema: %v", err)
	}
}
