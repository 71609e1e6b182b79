package postgres

import (
	"os"
	"testing"
)

// testServer is the server the tests use: SHIKAKU_TEST_POSTGRES, set by
// .ci/run. Without it the tests skip locally; in CI they must run.
func testServer(t *testing.T) string {
	url := os.Getenv("SHIKAKU_TEST_POSTGRES")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SHIKAKU_TEST_POSTGRES is not set in CI: .ci/run must start PostgreSQL")
		}
		t.Skip("PostgreSQL tests skipped: set SHIKAKU_TEST_POSTGRES=postgres://… (bash .ci/run does)")
	}
	return url
}

// TestServer is testServer for the package's external tests.
var TestServer = testServer
