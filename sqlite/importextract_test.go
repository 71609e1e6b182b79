package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"shikaku"
	"shikaku/storetest"
)

// TestImportAndExtract runs the shared test of deciding while importing.
func TestImportAndExtract(t *testing.T) {
	open := func(t *testing.T) shikaku.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.RunImportAndExtract(t, open, func(t *testing.T, s shikaku.Store) string { return dump(t, s.(*Store)) })
}

// dump is what the import and extract store: the members' IDs and keys,
// the decisions with their IDs, the steps and the campaigns.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, branch_code, symbol, number, branch_no FROM members ORDER BY id`,
		`SELECT member_id, branch_code, decision, insured_id FROM decisions ORDER BY member_id`,
		`SELECT branch_code, step, detail FROM steps ORDER BY branch_code, step`,
		`SELECT branch_code, name, settings, campaign FROM campaigns ORDER BY branch_code`,
	} {
		rows, err := s.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}
