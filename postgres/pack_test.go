package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"shikaku"
	"shikaku/storetest"
)

// freshStore opens a new database of its own on the test server and
// returns it with its URL.
func freshStore(t *testing.T) (*Store, string) {
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
	return s, u
}

// packStore opens a fresh database with branch 46 extracted.
func packStore(t *testing.T) (*Store, string, *shikaku.Campaign) {
	t.Helper()
	s, u := freshStore(t)
	return s, u, storetest.ExtractBranch(t, s, "46", 40, 5646600000)
}

// The first pack of a database builds the indexes of envelopes and
// certificates after its load, as the migrations define them; a pack that
// fails leaves them as they were; a pack after another branch's, or while
// another session reads certificates, keeps them up as it goes, without
// waiting.
func TestIndexesDeferredOnFirstPack(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		otherFirst bool // branch 47 packed before
		reader     bool // another session holds a lock on certificates
		fail       bool
		dropped    bool // the indexes are missing inside the pack
	}{
		{"first pack", false, false, false, true},
		{"first pack fails", false, false, true, true},
		{"after another branch", true, false, false, false},
		{"table in use", false, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, u, c := packStore(t)
			defined := migratedIndexes(t, s, 6, "envelopes", "certificates")
			if !strings.Contains(strings.Join(defined, "\n"), "tracking_no_key UNIQUE (tracking_no)") {
				t.Fatalf("before pack the indexes are:\n%s", strings.Join(defined, "\n"))
			}
			if tc.otherFirst {
				storetest.PackOther(t, s)
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
			var during []string
			_, err := s.Pack(ctx, "46", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
				during = tableIndexes(t, tx.(*packTx).tx, "envelopes", "certificates")
				res, err := shikaku.PackCampaign(ctx, c, tx, nil)
				if tc.fail && err == nil {
					err = errors.New("stopped on purpose")
				}
				return res, err
			})
			if (err != nil) != tc.fail {
				t.Fatalf("pack: %v", err)
			}
			if want := defined; tc.dropped && len(during) != 0 || !tc.dropped && !slices.Equal(during, want) {
				t.Errorf("during pack the indexes were %q (want dropped: %v)", during, tc.dropped)
			}
			if got := tableIndexes(t, s.pool, "envelopes", "certificates"); !slices.Equal(got, defined) {
				t.Errorf("after pack the indexes are %q, want %q", got, defined)
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

// A tracking number handed out twice is refused whether the pack keeps the
// unique index up as it goes or builds it after its load: the pack fails
// and stores nothing.
func TestTrackingNumberTwiceRefused(t *testing.T) {
	ctx := context.Background()
	for _, otherFirst := range []bool{false, true} {
		t.Run(map[bool]string{false: "first pack", true: "after another branch"}[otherFirst], func(t *testing.T) {
			s, _, _ := packStore(t)
			if otherFirst {
				storetest.PackOther(t, s)
			}
			envelope := func(seq int64) shikaku.Envelope {
				return shikaku.Envelope{ID: shikaku.EnvelopeID("46", seq), Seq: seq, K: 1, N: 1, Wave: 1,
					TrackingNumber: 56466000001, SendOn: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Language: "ja"}
			}
			_, err := s.Pack(ctx, "46", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
				return shikaku.PackResult{}, tx.SaveEnvelopes(ctx, []shikaku.Envelope{envelope(1), envelope(2)})
			})
			if err == nil || !strings.Contains(err.Error(), "tracking_no") {
				t.Fatalf("pack with a tracking number twice: %v", err)
			}
			var n int
			if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM envelopes WHERE branch_code = '46'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d envelopes of branch 46 stored (%v)", n, err)
			}
		})
	}
}

// TestTargetCountsPathFollowsImportOrder: pack counts a household's
// targets as runs along the member IDs when the import recorded them
// (rows in key order) and by a GROUP BY when it did not (rows out of
// order). The store suite checks that both counts agree with the
// households read (TargetCountsAgreeWithHouseholds, in both orders);
// this checks that those two cases do take the two paths.
func TestTargetCountsPathFollowsImportOrder(t *testing.T) {
	ctx := context.Background()
	for _, reversed := range []bool{false, true} {
		s, _ := freshStore(t)
		ms := storetest.Members("46", 40)
		if reversed {
			slices.Reverse(ms)
		}
		if _, err := s.ImportMembers(ctx, storetest.Rows(ms)); err != nil {
			t.Fatal(err)
		}
		c := storetest.Campaign("46", 5646600000)
		if _, err := s.Extract(ctx, c, "settings", c.Rules().Decide); err != nil {
			t.Fatal(err)
		}
		if d, err := importRecord(ctx, s.pool, "46"); err != nil || (d.IDs == nil) != reversed {
			t.Fatalf("reversed %v: IDs recorded %+v, %v", reversed, d.IDs, err)
		}
	}
}

// TestPackRefusesHouseholdsOutOfOrder: see storetest.
func TestPackRefusesHouseholdsOutOfOrder(t *testing.T) {
	s, _ := freshStore(t)
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	storetest.PackRefusesHouseholdsOutOfOrder(t, s, db)
}
