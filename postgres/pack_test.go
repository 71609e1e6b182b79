package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"shikaku"
	"shikaku/storetest"
)

// packStore opens a fresh database with branch 46 extracted.
func packStore(t *testing.T) (*Store, string, *shikaku.Campaign) {
	t.Helper()
	ctx := context.Background()
	u, drop, err := TestDatabase(ctx, testServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	s, err := Open(ctx, u, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, u, extractBranch(t, s, "46", 40, 5646600000)
}

func extractBranch(t *testing.T, s *Store, branch string, households int, firstTracking uint64) *shikaku.Campaign {
	t.Helper()
	ctx := context.Background()
	if _, err := s.ImportMembers(ctx, storetest.Rows(storetest.Members(branch, households))); err != nil {
		t.Fatal(err)
	}
	c := storetest.Campaign(branch, firstTracking)
	if _, err := s.Extract(ctx, c, "settings", c.Rules().Decide); err != nil {
		t.Fatal(err)
	}
	return c
}

// memberIndex is certificates_member's definition as q sees it, "" when
// the index is missing.
func memberIndex(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) string {
	t.Helper()
	var def string
	err := q.QueryRow(context.Background(), `SELECT indexdef FROM pg_indexes WHERE indexname = 'certificates_member'`).Scan(&def)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return def
}

// The first pack of a database builds certificates_member after its load,
// as migration 001 defines it; a pack that fails leaves it as it was; a
// pack after another branch's, or while another session reads
// certificates, keeps it up as it goes, without waiting.
func TestMemberIndexDeferredOnFirstPack(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		otherFirst bool // branch 47 packed before
		reader     bool // another session holds a lock on certificates
		fail       bool
		dropped    bool // the index is missing inside the pack
	}{
		{"first pack", false, false, false, true},
		{"first pack fails", false, false, true, true},
		{"after another branch", true, false, false, false},
		{"table in use", false, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, u, c := packStore(t)
			defined := memberIndex(t, s.pool)
			if defined == "" {
				t.Fatal("no certificates_member before pack")
			}
			if tc.otherFirst {
				c47 := extractBranch(t, s, "47", 5, 5647700000)
				if res, err := s.Pack(ctx, "47", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
					return shikaku.PackCampaign(ctx, c47, tx, nil)
				}); err != nil || res.Envelopes == 0 {
					t.Fatalf("packing branch 47: %d envelopes, %v", res.Envelopes, err)
				}
			}
			if tc.reader {
				conn, err := pgx.Connect(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				rtx, err := conn.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer rtx.Rollback(ctx)
				if _, err := rtx.Exec(ctx, `SELECT 1 FROM certificates LIMIT 1`); err != nil {
					t.Fatal(err)
				}
			}
			var during string
			_, err := s.Pack(ctx, "46", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
				during = memberIndex(t, tx.(*packTx).tx)
				res, err := shikaku.PackCampaign(ctx, c, tx, nil)
				if tc.fail && err == nil {
					err = errors.New("stopped on purpose")
				}
				return res, err
			})
			if (err != nil) != tc.fail {
				t.Fatalf("pack: %v", err)
			}
			if (during == "") != tc.dropped || (during != "" && during != defined) {
				t.Errorf("during pack certificates_member was %q (dropped: %v), want dropped: %v", during, during == "", tc.dropped)
			}
			if got := memberIndex(t, s.pool); got != defined {
				t.Errorf("after pack certificates_member is %q, want %q", got, defined)
			}
			// Every certificate of the branch is found through the index.
			const throughIndex = `SELECT COUNT(*) FROM members m WHERE m.branch_code = '46'
				AND EXISTS (SELECT 1 FROM certificates c WHERE c.member_id = m.id)`
			var all, indexed int
			var plan strings.Builder
			err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM certificates WHERE certificate_id LIKE 'C46%'`).Scan(&all); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
					return err
				}
				rows, err := tx.Query(ctx, `EXPLAIN `+throughIndex)
				if err != nil {
					return err
				}
				for rows.Next() {
					var line string
					if err := rows.Scan(&line); err != nil {
						return err
					}
					plan.WriteString(line + "\n")
				}
				if err := rows.Err(); err != nil {
					return err
				}
				return tx.QueryRow(ctx, throughIndex).Scan(&indexed)
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan.String(), "certificates_member") {
				t.Errorf("the certificates are not read through certificates_member:\n%s", plan.String())
			}
			if tc.fail != (all == 0) || all != indexed {
				t.Errorf("%d certificates of branch 46, %d members found through certificates_member", all, indexed)
			}
		})
	}
}
