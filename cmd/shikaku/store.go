package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"shikaku"
	"shikaku/postgres"
	"shikaku/sqlite"
)

// dbURL is the database named by --db, SHIKAKU_DB or the default.
func dbURL(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv("SHIKAKU_DB"); v != "" {
		return v
	}
	return "sqlite:shikaku.db"
}

// isPostgres tells whether a database URL names a PostgreSQL server.
func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// openStore opens the database of a URL: sqlite:PATH (or a plain path).
func openStore(ctx context.Context, url string) (shikaku.Store, error) {
	switch {
	case isPostgres(url):
		return postgres.Open(ctx, url, redact(url))
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, usagef("--db sqlite: のあとにファイル名を書いてください（例: sqlite:shikaku.db）")
		}
		return sqlite.Open(ctx, path)
	case strings.Contains(url, "://"):
		return nil, usagef("--db %q: sqlite:PATH または postgres://… を指定してください", redact(url))
	}
	return sqlite.Open(ctx, url)
}

// redact hides a password in a URL for messages.
func redact(url string) string {
	if at := strings.Index(url, "@"); at > 0 {
		if scheme := strings.Index(url, "://"); scheme > 0 && scheme < at {
			if colon := strings.Index(url[scheme+3:at], ":"); colon >= 0 {
				return url[:scheme+3+colon+1] + "***" + url[at:]
			}
		}
	}
	return url
}

// campaignBranch picks the campaign a command works on: --branch, or the
// only campaign in the database.
func campaignBranch(ctx context.Context, s shikaku.Store, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	branches, err := s.Branches(ctx)
	if err != nil {
		return "", err
	}
	switch len(branches) {
	case 0:
		return "", fmt.Errorf("キャンペーンがありません。先に shikaku extract --campaign FILE を実行してください")
	case 1:
		return branches[0], nil
	}
	return "", usagef("データベースに複数の支部（%s）のキャンペーンがあります。--branch で支部コードを指定してください", strings.Join(branches, ", "))
}
