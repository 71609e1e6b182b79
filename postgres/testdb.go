package postgres

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

var testDBs atomic.Int64

// TestDatabase creates an empty database next to the one adminURL names,
// for one test, and returns its URL and a function that drops it. Tests of
// every package use it with SHIKAKU_TEST_POSTGRES.
func TestDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	name := fmt.Sprintf("shikaku_t_%d_%d", os.Getpid(), testDBs.Add(1))
	u, drop, err := CreateDatabase(ctx, adminURL, name)
	if err != nil {
		return "", nil, err
	}
	return u, func() { drop(context.Background()) }, nil
}

// CreateDatabase creates the empty database name on the server adminURL
// connects to (dropping a leftover of that name first), and returns its
// URL and a function that drops it. The role of adminURL needs the
// CREATEDB privilege.
func CreateDatabase(ctx context.Context, adminURL, name string) (string, func(context.Context) error, error) {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, explain(err, adminURL)
	}
	defer admin.Close(ctx)
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
		return "", nil, fmt.Errorf("データベース %s を作り直せません: %w", name, err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+quoted); err != nil {
		return "", nil, fmt.Errorf("データベース %s を作れません（ロールに CREATEDB 権限が必要です）: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return explain(err, adminURL)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("データベース %s を削除できません: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// DatabaseName is the name of the database a URL connects to.
func DatabaseName(dbURL string) (string, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return "", err
	}
	return cfg.Database, nil
}
