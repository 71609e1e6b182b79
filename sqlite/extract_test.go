package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"shikaku"
	"shikaku/storetest"
)

// packCampaign packs c's branch as the pack command does.
func packCampaign(ctx context.Context, s *Store, c *shikaku.Campaign) (shikaku.PackResult, error) {
	return s.Pack(ctx, c.BranchCode, func(tx shikaku.PackTx) (shikaku.PackResult, error) {
		return shikaku.PackCampaign(ctx, c, tx, nil)
	})
}

// extracted opens a store with branch 46 of storetest's households
// imported and extracted.
func extracted(t *testing.T, households int) (*Store, *shikaku.Campaign) {
	t.Helper()
	s := openTemp(t)
	return s, storetest.ExtractBranch(t, s, "46", households, 5646600000)
}

// extractOnce imports ms into a new database, extracts branch 46 and
// returns its decisions, one "key decision" line per member in key order,
// and the import's record; then it packs and adds the envelope lines.
func extractOnce(t *testing.T, ms []shikaku.Member, spoil string) ([]string, importDetail, error) {
	t.Helper()
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.ImportMembers(ctx, storetest.Rows(ms)); err != nil {
		t.Fatal(err)
	}
	var d importDetail
	var detail string
	if err := s.db.QueryRow(`SELECT detail FROM steps WHERE branch_code = '46' AND step = 'import'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		t.Fatal(err)
	}
	if spoil != "" {
		if _, err := s.db.Exec(spoil); err != nil {
			t.Fatal(err)
		}
	}
	c := storetest.Campaign("46", 5646600000)
	rules := c.Rules()
	if _, err := s.Extract(ctx, c, "settings", rules.Decide); err != nil {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM decisions`).Scan(&n)
		if n != 0 {
			t.Errorf("a failed extract left %d decisions", n)
		}
		return nil, d, err
	}
	var out []string
	for r, err := range s.Decisions(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Key.String()+" "+string(r.Decision))
	}
	if _, err := packCampaign(ctx, s, c); err != nil {
		t.Fatal(err)
	}
	for l, err := range s.EnvelopeLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(l))
	}
	return out, d, nil
}

// TestExtractInRangesOfIDs: members imported in key order are read in
// ranges of IDs by two readers, and pack counts their targets in a plain
// scan; the decisions and envelopes are those of the one reader walking
// the key index and the sorted count, which members imported out of order
// get.
func TestExtractInRangesOfIDs(t *testing.T) {
	defer func(n int64) { extractChunk = n }(extractChunk)
	extractChunk = 7 // households straddle chunks
	ms := storetest.Members("46", 40)
	ranged, d, err := extractOnce(t, ms, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.IDs == nil || d.IDs.Last-d.IDs.First+1 != int64(len(ms)) || d.Members != len(ms) {
		t.Fatalf("import of %d members in key order recorded %+v (ids %+v)", len(ms), d, d.IDs)
	}
	shuffled := slices.Clone(ms)
	slices.Reverse(shuffled)
	indexed, d, err := extractOnce(t, shuffled, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.IDs != nil {
		t.Errorf("import out of order recorded IDs %+v", d.IDs)
	}
	if len(ranged) <= len(ms) || !slices.Equal(ranged, indexed) {
		t.Errorf("decisions read in ranges differ from those read by key:\n%v\n%v", ranged, indexed)
	}
}

// TestExtractRefusesWhatTheRecordDoesNotMatch: IDs that do not follow the
// keys, or a record that misses members, fail the extract, which then
// writes nothing.
func TestExtractRefusesWhatTheRecordDoesNotMatch(t *testing.T) {
	defer func(n int64) { extractChunk = n }(extractChunk)
	extractChunk = 5
	ms := storetest.Members("46", 12)
	for _, tt := range []struct{ spoil, want string }{
		// Swaps two households' keys: the IDs no longer follow the keys.
		{`UPDATE members SET number = 'x' WHERE number = '1003'; UPDATE members SET number = '1003' WHERE number = '1009';
			UPDATE members SET number = '1009' WHERE number = 'x'`, "番号順"},
		{fmt.Sprintf(`UPDATE steps SET detail = '{"members": %d, "ids": {"first": 1, "last": 20}}' WHERE step = 'import'`, len(ms)), "取り込みの記録"},
	} {
		_, _, err := extractOnce(t, ms, tt.spoil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %s", tt.spoil, err, tt.want)
		}
	}
}

// TestPackRefusesHouseholdsOutOfOrder: see storetest.
func TestPackRefusesHouseholdsOutOfOrder(t *testing.T) {
	s := openTemp(t)
	storetest.PackRefusesHouseholdsOutOfOrder(t, s, s.db)
}

// TestImportRecordsIDRanges: each branch of a file in key order gets the
// range of IDs its rows took, also when an earlier import's rows are
// replaced; a file out of order records none.
func TestImportRecordsIDRanges(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	record := func(branch string) *idRange {
		t.Helper()
		d, err := importRecord(ctx, s.db, branch)
		if err != nil {
			t.Fatal(err)
		}
		return d.IDs
	}
	check := func(branch string, n int) {
		t.Helper()
		r := record(branch)
		if r == nil {
			t.Fatalf("branch %s: no IDs recorded", branch)
		}
		var count, first, last int64
		s.db.QueryRow(`SELECT COUNT(*), MIN(id), MAX(id) FROM members WHERE branch_code = ?`, branch).Scan(&count, &first, &last)
		if count != int64(n) || r.First != first || r.Last != last || last-first+1 != count {
			t.Errorf("branch %s: recorded %+v, holds %d members in IDs %d-%d", branch, r, count, first, last)
		}
	}
	m40, m46 := storetest.Members("40", 5), storetest.Members("46", 7)
	if _, err := s.ImportMembers(ctx, storetest.Rows(append(slices.Clone(m40), m46...))); err != nil {
		t.Fatal(err)
	}
	check("40", len(m40))
	check("46", len(m46))
	// 40 again, with fewer households: its rows now come after 46's.
	m40 = storetest.Members("40", 3)
	if _, err := s.ImportMembers(ctx, storetest.Rows(m40)); err != nil {
		t.Fatal(err)
	}
	check("40", len(m40))
	check("46", len(m46))
	slices.Reverse(m40)
	if _, err := s.ImportMembers(ctx, storetest.Rows(m40)); err != nil {
		t.Fatal(err)
	}
	if r := record("40"); r != nil {
		t.Errorf("a file out of order recorded IDs %+v", r)
	}
}
