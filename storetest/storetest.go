// Package storetest is the behaviour every shikaku.Store must have, as one
// suite that each backend runs against itself.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"shikaku"
)

// Open gives a fresh, empty store for one test.
type Open func(t *testing.T) shikaku.Store

// Run runs the whole suite.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s shikaku.Store)
	}{
		{"ImportReplacesBeforeExtract", testImportReplaces},
		{"ImportFileOfSeveralBranches", testImportSeveralBranches},
		{"ImportErrorChangesNothing", testImportErrorChangesNothing},
		{"ImportRefusedAfterExtract", testImportRefusedAfterExtract},
		{"ExtractDecidesEveryMember", testExtract},
		{"DecisionsInKeyOrderFromAnyFile", testDecisionsInKeyOrder},
		{"CrossMatch", testCrossMatch},
		{"TargetCountsAgreeWithHouseholds", func(t *testing.T, s shikaku.Store) {
			TargetCountsAgreeWithHouseholds(t, s, Members("46", 40))
		}},
		{"TargetCountsAgreeWithHouseholdsOutOfOrder", func(t *testing.T, s shikaku.Store) {
			ms := Members("46", 40)
			slices.Reverse(ms)
			TargetCountsAgreeWithHouseholds(t, s, ms)
		}},
		{"PackIsAtomic", testPackAtomic},
		{"PackOnceAndNumbersUnique", testPackOnce},
		{"MailingsAsPrinted", testMailings},
		{"EmployerLinesByEmployer", testEmployerLines},
		{"LifecycleAfterSending", testLifecycle},
		{"BranchesAreSeparate", testBranches},
		{"BranchesConcurrently", testBranchesConcurrently},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tt.fn(t, s)
		})
	}
}

var ctx = context.Background()

// MarkDV registers a member for DV behind the store's back, as a bad
// change to the database would: nothing the store offers can do that
// after packing.
type MarkDV func(t *testing.T, s shikaku.Store, k shikaku.MemberKey)

// RunDVLeaks checks that DVLeaks finds a DV-registered member holding a
// certificate and one addressed an envelope, each once.
func RunDVLeaks(t *testing.T, open Open, mark MarkDV) {
	s := open(t)
	defer s.Close()
	PackSmall(t, s)
	holders := map[shikaku.MemberKey]bool{}
	addressees := map[shikaku.MemberKey]bool{}
	for m, err := range s.Mailings(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		addressees[m.Addressee] = true
		for _, k := range m.Cards {
			holders[k.Member] = true
		}
	}
	var holder, addressee, both shikaku.MemberKey
	for k := range holders {
		if addressees[k] {
			both = k
		} else {
			holder = k
		}
	}
	for k := range addressees {
		if !holders[k] {
			addressee = k
		}
	}
	if holder.Number == "" || addressee.Number == "" || both.Number == "" {
		t.Fatalf("test data lacks a card holder (%v), an addressee without a card (%v) or both (%v)", holder, addressee, both)
	}
	leaks := func() int {
		n, err := s.DVLeaks(ctx, "46")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := leaks(); n != 0 {
		t.Fatalf("%d DV leaks before any member is marked", n)
	}
	for i, k := range []shikaku.MemberKey{holder, addressee, both} {
		mark(t, s, k)
		if n := leaks(); n != i+1 {
			t.Errorf("after marking %s (%d marked): %d DV leaks", k, i+1, n)
		}
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Campaign is a small campaign for a branch.
func Campaign(branch string, firstBody uint64) *shikaku.Campaign {
	return &shikaku.Campaign{
		Name: "テスト", BranchCode: branch,
		Insurer:    shikaku.Insurer{Name: "全国健康保険協会", Number: "01" + branch + "0013"},
		ValidUntil: day(2030, 12, 1),
		Dates: shikaku.Dates{DataAsOf: day(2025, 5, 16), ExtractedOn: day(2025, 5, 17), CardDecisionCutoff: day(2024, 11, 29),
			MynaReferenceDate: day(2025, 4, 30), ContinuationLossCutoff: day(2025, 12, 2), LossDataAsOf: day(2025, 7, 11),
			LossExtractedOn: day(2025, 7, 13), EmployerListOn: day(2025, 7, 31), CardLastValidOn: day(2025, 12, 1)},
		Mail: shikaku.Mail{PerEnvelope: 4, PostageYen: 110, SpecialFeeYen: 210,
			TrackingRanges: shikaku.TrackingRanges{{First: firstBody, Last: firstBody + 99999}}},
		Waves: []shikaku.Wave{{SendOn: day(2025, 8, 8), Capacity: 3}, {SendOn: day(2025, 8, 15)}},
	}
}

// Members makes households households of 1..6 members for a branch:
// every third one's insured person uses マイナ保険証, household 7 has a DV
// dependent; all others are targets.
func Members(branch string, households int) []shikaku.Member {
	var out []shikaku.Member
	for h := range households {
		size := 1 + h%6
		for i := range size {
			m := shikaku.Member{
				Key:          shikaku.MemberKey{HouseholdKey: shikaku.HouseholdKey{Branch: branch, Symbol: "100", Number: fmt.Sprint(1000 + h)}, BranchNo: fmt.Sprintf("%02d", i)},
				Relationship: shikaku.Child, InsuredType: shikaku.General,
				Name: "鹿児島　花子", NameKana: "カゴシマ　ハナコ", BirthDate: day(1980+i, 1, 1), Sex: 2,
				AcquiredOn: day(2010, 4, 1), DecidedOn: day(2010, 4, 10), Language: "ja",
			}
			if i == 0 {
				m.Relationship = shikaku.Self
				m.EmployerCode = "E1"
				m.PostalCode = fmt.Sprintf("89%05d", (h*7919)%100000)
				m.Address = fmt.Sprintf("鹿児島県鹿児島市%d丁目", h%5)
				if h%3 == 2 {
					m.MynumberOnFile, m.MynaLinkedOn = true, day(2024, 1, 1)
				}
			}
			if h == 7 && i == 1 {
				m.DV = true
			}
			out = append(out, m)
		}
	}
	return out
}

// Rows yields members as a reader of members.csv does.
func Rows(ms []shikaku.Member) iter.Seq2[*shikaku.Member, error] { return seq(ms, -1) }

func seq(ms []shikaku.Member, failAt int) iter.Seq2[*shikaku.Member, error] {
	return func(yield func(*shikaku.Member, error) bool) {
		for i := range ms {
			if i == failAt {
				yield(nil, errors.New("bad row"))
				return
			}
			if !yield(&ms[i], nil) {
				return
			}
		}
	}
}

func employers() iter.Seq2[*shikaku.Employer, error] {
	return func(yield func(*shikaku.Employer, error) bool) {
		yield(&shikaku.Employer{Code: "E1", Name: "株式会社テスト", PostalCode: "8900053", Address: "鹿児島市"}, nil)
	}
}

func mustImport(t *testing.T, s shikaku.Store, ms []shikaku.Member) {
	t.Helper()
	if _, err := s.ImportEmployers(ctx, employers()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportMembers(ctx, seq(ms, -1)); err != nil {
		t.Fatal(err)
	}
}

func mustExtract(t *testing.T, s shikaku.Store, c *shikaku.Campaign) map[shikaku.ReasonCode]int {
	t.Helper()
	rules := c.Rules()
	counts, err := s.Extract(ctx, c, "settings", rules.Decide)
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

func pack(s shikaku.Store, c *shikaku.Campaign) (shikaku.PackResult, error) {
	return s.Pack(ctx, c.BranchCode, func(tx shikaku.PackTx) (shikaku.PackResult, error) {
		return shikaku.PackCampaign(ctx, c, tx, nil)
	})
}

// ExtractBranch imports Members(branch, households) into s and extracts
// the branch's campaign, whose tracking numbers start at firstTracking.
func ExtractBranch(t *testing.T, s shikaku.Store, branch string, households int, firstTracking uint64) *shikaku.Campaign {
	t.Helper()
	if _, err := s.ImportMembers(ctx, Rows(Members(branch, households))); err != nil {
		t.Fatal(err)
	}
	c := Campaign(branch, firstTracking)
	mustExtract(t, s, c)
	return c
}

// PackRefusesHouseholdsOutOfOrder: when the decisions of a household
// are not consecutive, as member IDs in key order promise, pack stops
// before it stores anything. db is s's database, where the test moves the
// last target into the first household.
func PackRefusesHouseholdsOutOfOrder(t *testing.T, s shikaku.Store, db *sql.DB) {
	t.Helper()
	c := ExtractBranch(t, s, "46", 12, 5646600000)
	if _, err := db.Exec(`UPDATE decisions SET insured_id = (SELECT MIN(insured_id) FROM decisions)
		WHERE member_id = (SELECT MAX(member_id) FROM decisions WHERE decision = 'TARGET')`); err != nil {
		t.Fatal(err)
	}
	_, err := pack(s, c)
	if err == nil || !strings.Contains(err.Error(), "並んでいません") {
		t.Fatalf("pack: %v, want a refusal of households out of order", err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM envelopes`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d envelopes after the refused pack (%v)", n, err)
	}
}

// TargetCountsAgreeWithHouseholds imports ms (branch 46) into s, extracts
// them and checks, inside a pack that is then abandoned, that the targets
// counted per household (from which pack plans its envelopes and
// tracking numbers) are those of the households it reads. Both reads
// take shortcuts of their own on each backend (runs along the decisions'
// key, households read in parts), and members imported out of key order
// take other paths than those imported in order.
func TargetCountsAgreeWithHouseholds(t *testing.T, s shikaku.Store, ms []shikaku.Member) {
	t.Helper()
	if _, err := s.ImportMembers(ctx, Rows(ms)); err != nil {
		t.Fatal(err)
	}
	c := Campaign("46", 5646600000)
	counts := mustExtract(t, s, c)
	var counted, read []int
	abandon := errors.New("abandon")
	_, err := s.Pack(ctx, "46", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
		for n, err := range tx.TargetCounts(ctx) {
			if err != nil {
				return shikaku.PackResult{}, err
			}
			counted = append(counted, n)
		}
		for h, err := range tx.Households(ctx) {
			if err != nil {
				return shikaku.PackResult{}, err
			}
			read = append(read, len(h.Targets))
		}
		return shikaku.PackResult{}, abandon
	})
	if !errors.Is(err, abandon) {
		t.Fatalf("pack: %v", err)
	}
	// Counted in key order, read in print order.
	slices.Sort(counted)
	slices.Sort(read)
	if len(read) < 20 || !slices.Equal(counted, read) {
		t.Errorf("targets per household counted %v, read %v", counted, read)
	}
	sum := 0
	for _, n := range read {
		sum += n
	}
	if sum != counts[shikaku.Target] {
		t.Errorf("%d targets in the households read, extract decided %d", sum, counts[shikaku.Target])
	}
}

// PackOther imports, extracts and packs a small branch 47 in s.
func PackOther(t *testing.T, s shikaku.Store) {
	t.Helper()
	c := ExtractBranch(t, s, "47", 5, 5647700000)
	if res, err := pack(s, c); err != nil || res.Envelopes == 0 {
		t.Fatalf("packing branch 47: %d envelopes, %v", res.Envelopes, err)
	}
}

func testImportReplaces(t *testing.T, s shikaku.Store) {
	mustImport(t, s, Members("46", 10))
	mustImport(t, s, Members("46", 4))
	if n, _ := s.MemberCount(ctx, "46"); n != len(Members("46", 4)) {
		t.Errorf("after re-import: %d members, want %d", n, len(Members("46", 4)))
	}
}

// testImportSeveralBranches imports one file holding two branches, out of
// order: each branch named in it is replaced once, the rows of both are
// all kept, and a branch not in the file is left alone.
func testImportSeveralBranches(t *testing.T, s shikaku.Store) {
	mustImport(t, s, Members("01", 2))
	mustImport(t, s, append(Members("40", 9), Members("46", 10)...))
	a, b := Members("46", 4), Members("40", 3)
	mixed := append(append(append([]shikaku.Member{}, a[:5]...), b...), a[5:]...)
	counts, err := s.ImportMembers(ctx, seq(mixed, -1))
	if err != nil {
		t.Fatal(err)
	}
	if counts["46"] != len(a) || counts["40"] != len(b) || len(counts) != 2 {
		t.Errorf("counts %v, want 46:%d 40:%d", counts, len(a), len(b))
	}
	for branch, want := range map[string]int{"01": len(Members("01", 2)), "40": len(b), "46": len(a)} {
		if n, _ := s.MemberCount(ctx, branch); n != want {
			t.Errorf("branch %s: %d members, want %d", branch, n, want)
		}
	}
	// A key twice in one file is refused even when other rows lie between.
	dup := append(append([]shikaku.Member{}, mixed...), a[0])
	if _, err := s.ImportMembers(ctx, seq(dup, -1)); err == nil {
		t.Error("a file with a key twice was stored")
	}
	if n, _ := s.MemberCount(ctx, "46"); n != len(a) {
		t.Errorf("a refused import changed branch 46: %d members", n)
	}
}

func testImportErrorChangesNothing(t *testing.T, s shikaku.Store) {
	mustImport(t, s, Members("46", 10))
	ms := Members("46", 20)
	if _, err := s.ImportMembers(ctx, seq(ms, len(ms)-1)); err == nil {
		t.Fatal("an import ending in an error succeeded")
	}
	if n, _ := s.MemberCount(ctx, "46"); n != len(Members("46", 10)) {
		t.Errorf("a failed import changed the members: %d", n)
	}
}

func testImportRefusedAfterExtract(t *testing.T, s shikaku.Store) {
	mustImport(t, s, Members("46", 10))
	mustExtract(t, s, Campaign("46", 5646600000))
	_, err := s.ImportMembers(ctx, seq(Members("46", 3), -1))
	if !errors.Is(err, shikaku.ErrCampaignExtracted) {
		t.Errorf("re-import after extract: %v", err)
	}
	if n, _ := s.MemberCount(ctx, "46"); n != len(Members("46", 10)) {
		t.Errorf("members changed: %d", n)
	}
}

func testExtract(t *testing.T, s shikaku.Store) {
	ms := Members("46", 30)
	mustImport(t, s, ms)
	c := Campaign("46", 5646600000)
	counts := mustExtract(t, s, c)
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != len(ms) || counts[shikaku.X4DV] != 1 || counts[shikaku.NMynaUsable] != 10 {
		t.Errorf("counts %v for %d members", counts, len(ms))
	}
	var rows []shikaku.DecisionRow
	for r, err := range s.Decisions(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if len(rows) != len(ms) {
		t.Fatalf("%d decision rows", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		a, b := rows[i-1].Key, rows[i].Key
		if !(a.HouseholdKey.Less(b.HouseholdKey) || a.HouseholdKey == b.HouseholdKey && a.BranchNo < b.BranchNo) {
			t.Fatalf("decisions not sorted by key: %s before %s", a, b)
		}
	}
	// Extract again (before packing) starts over and gives the same counts.
	again := mustExtract(t, s, c)
	if fmt.Sprint(again) != fmt.Sprint(counts) {
		t.Errorf("re-extract: %v, first %v", again, counts)
	}
}

// testDecisionsInKeyOrder imports one file holding branch 46 and 48 in
// key order but interleaved, and 47 in reverse order: each branch's
// decisions come sorted by key, one per member.
func testDecisionsInKeyOrder(t *testing.T, s shikaku.Store) {
	a, b, c := Members("46", 12), Members("48", 12), Members("47", 12)
	var file []shikaku.Member
	for i := range max(len(a), len(b)) {
		if i < len(a) {
			file = append(file, a[i])
		}
		if i < len(b) {
			file = append(file, b[i])
		}
	}
	file = append(file, c...)
	slices.Reverse(file[len(a)+len(b):])
	mustImport(t, s, file)
	for _, ms := range [][]shikaku.Member{a, b, c} {
		branch := ms[0].Key.Branch
		mustExtract(t, s, Campaign(branch, 5646600000))
		var got []string
		for r, err := range s.Decisions(ctx, branch) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Key.String())
		}
		var want []string
		for _, m := range ms {
			want = append(want, m.Key.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("branch %s: decisions for\n%v\nwant\n%v", branch, got, want)
		}
	}
}

func testCrossMatch(t *testing.T, s shikaku.Store) {
	c := Campaign("46", 5646600000)
	if _, err := s.CrossMatch(ctx, "46", "l.csv", nil, func(shikaku.MemberKey) bool { return false }); !errors.Is(err, shikaku.ErrNotExtracted) {
		t.Errorf("crossmatch before extract: %v", err)
	}
	ms := Members("46", 12)
	mustImport(t, s, ms)
	before := mustExtract(t, s, c)
	hk := func(n int) shikaku.HouseholdKey {
		return shikaku.HouseholdKey{Branch: "46", Symbol: "100", Number: fmt.Sprint(1000 + n)}
	}
	losses := []shikaku.Loss{
		{Key: shikaku.MemberKey{HouseholdKey: hk(5), BranchNo: "00"}, LostOn: c.Dates.LossDataAsOf},                  // household of 6, insured uses myna: 5 targets
		{Key: shikaku.MemberKey{HouseholdKey: hk(3), BranchNo: "02"}, LostOn: day(2025, 6, 1)},                       // one dependent
		{Key: shikaku.MemberKey{HouseholdKey: hk(4), BranchNo: "01"}, LostOn: c.Dates.LossDataAsOf.AddDate(0, 0, 1)}, // too late
		{Key: shikaku.MemberKey{HouseholdKey: hk(99), BranchNo: "00"}, LostOn: day(2025, 6, 1)},                      // unknown
	}
	idx := shikaku.NewLossIndex(c.Dates.LossDataAsOf, losses)
	res, err := s.CrossMatch(ctx, "46", "l.csv", losses, idx.Removes)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 6 || len(res.Unknown) != 1 || res.Unknown[0].HouseholdKey != hk(99) || res.Recorded {
		t.Errorf("result %+v", res)
	}
	sum, err := s.Summary(ctx, "46")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Decisions[shikaku.Target] != before[shikaku.Target]-6 || sum.Decisions[shikaku.RLostAfterExtraction] != 6 {
		t.Errorf("decisions %v", sum.Decisions)
	}
	if un, _ := s.UnmatchedLosses(ctx, "46"); len(un) != 1 {
		t.Errorf("unmatched %v", un)
	}
	if _, err := pack(s, c); err != nil {
		t.Fatal(err)
	}
	// After packing, a cross-match records the losses and changes no decision.
	res, err = s.CrossMatch(ctx, "46", "l2.csv", losses[:2], func(shikaku.MemberKey) bool { return true })
	if err != nil || !res.Recorded || res.Removed != 0 {
		t.Errorf("after pack: %+v %v", res, err)
	}
	sum2, _ := s.Summary(ctx, "46")
	if fmt.Sprint(sum2.Decisions) != fmt.Sprint(sum.Decisions) {
		t.Errorf("decisions changed after pack: %v", sum2.Decisions)
	}
}

func testPackAtomic(t *testing.T, s shikaku.Store) {
	mustImport(t, s, Members("46", 40))
	c := Campaign("46", 5646600000)
	mustExtract(t, s, c)
	boom := errors.New("crash")
	_, err := s.Pack(ctx, "46", func(tx shikaku.PackTx) (shikaku.PackResult, error) {
		res, err := shikaku.PackCampaign(ctx, c, tx, nil)
		if err != nil {
			return res, err
		}
		return res, boom // everything was saved, then the step fails
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	sum, _ := s.Summary(ctx, "46")
	if sum.Envelopes != 0 || sum.Certificates != 0 {
		t.Fatalf("a failed pack left %d envelopes", sum.Envelopes)
	}
	// The rerun starts from the same counters.
	res, err := pack(s, c)
	if err != nil {
		t.Fatal(err)
	}
	first := true
	for l, err := range s.EnvelopeLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		if first && (l.TrackingNumber.Body() != 5646600000 || l.EnvelopeID != "E4600000001") {
			t.Errorf("rerun did not start from the first number: %s %s", l.TrackingNumber, l.EnvelopeID)
		}
		first = false
	}
	if res.Envelopes == 0 {
		t.Error("nothing packed")
	}
	// Not enough numbers: refused before any is used.
	s2c := Campaign("46", 5646600000)
	s2c.Mail.TrackingRanges = shikaku.TrackingRanges{{First: 1000000000, Last: 1000000001}}
	if _, err := pack(s, s2c); err == nil {
		t.Error("second pack accepted")
	}
}

func testPackOnce(t *testing.T, s shikaku.Store) {
	ms := Members("46", 60)
	mustImport(t, s, ms)
	c := Campaign("46", 5646600000)
	counts := mustExtract(t, s, c)
	res, err := pack(s, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Certificates != counts[shikaku.Target] {
		t.Errorf("%d certificates for %d targets", res.Certificates, counts[shikaku.Target])
	}
	if _, err := pack(s, c); !errors.Is(err, shikaku.ErrAlreadyPacked) {
		t.Errorf("second pack: %v", err)
	}
	seen := map[shikaku.TrackingNumber]string{}
	certs := map[string]bool{}
	perEnvelope := map[string]int{}
	var waves [3]int
	for l, err := range s.EnvelopeLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := seen[l.TrackingNumber]; ok && id != l.EnvelopeID {
			t.Errorf("tracking number %s on %s and %s", l.TrackingNumber, id, l.EnvelopeID)
		}
		if !l.TrackingNumber.Valid() {
			t.Errorf("bad check digit %s", l.TrackingNumber)
		}
		if perEnvelope[l.EnvelopeID] == 0 {
			if l.SendOn.Equal(c.Waves[0].SendOn) {
				waves[1]++
			} else {
				waves[2]++
			}
		}
		seen[l.TrackingNumber] = l.EnvelopeID
		perEnvelope[l.EnvelopeID]++
		if certs[l.CertificateID] {
			t.Errorf("certificate %s twice", l.CertificateID)
		}
		certs[l.CertificateID] = true
	}
	for id, n := range perEnvelope {
		if n > 4 {
			t.Errorf("envelope %s holds %d", id, n)
		}
	}
	if waves[1] != 3 || waves[2] != res.Envelopes-3 {
		t.Errorf("waves %v for %d envelopes (first wave capacity 3)", waves, res.Envelopes)
	}
	if n, err := s.DVLeaks(ctx, "46"); err != nil || n != 0 {
		t.Errorf("DV leaks %d %v", n, err)
	}
	sum, _ := s.Summary(ctx, "46")
	if sum.Certificates != res.Certificates || sum.Envelopes != res.Envelopes || sum.Employers != 1 {
		t.Errorf("summary %+v", sum)
	}
	lines := 0
	for l, err := range s.EmployerLines(ctx, "46") {
		if err != nil || l.EmployerCode != "E1" {
			t.Fatalf("%+v %v", l, err)
		}
		if l.Employer.Code != "E1" || l.Employer.Name != "株式会社テスト" || l.Employer.PostalCode != "8900053" {
			t.Fatalf("employer of the list: %+v", l.Employer)
		}
		lines++
	}
	if lines != res.Certificates {
		t.Errorf("%d employer lines for %d certificates", lines, res.Certificates)
	}
}

// testEmployerLines: lines of several employers, one of them missing from
// the employer file, and households without an employer (on no list).
func testEmployerLines(t *testing.T, s shikaku.Store) {
	ms := Members("46", 40)
	codes := []string{"E2", "E1", "E9", "", "E0"} // E0 and E9 are in no employer file
	employerOf := map[shikaku.HouseholdKey]string{}
	for i := range ms {
		m := &ms[i]
		if m.Key.BranchNo != "00" {
			continue
		}
		h := len(employerOf)
		m.EmployerCode = codes[h%len(codes)]
		employerOf[m.Key.HouseholdKey] = m.EmployerCode
	}
	mustImport(t, s, ms)
	if _, err := s.ImportEmployers(ctx, func(yield func(*shikaku.Employer, error) bool) {
		// E1 again: a later file updates what an earlier one said.
		if yield(&shikaku.Employer{Code: "E2", Name: "第二商事", PostalCode: "8900054", Address: "鹿児島市", Contact: "総務課", ClosedOn: day(2025, 6, 30)}, nil) {
			yield(&shikaku.Employer{Code: "E1", Name: "株式会社テスト九州", PostalCode: "8920816", Address: "鹿児島市山下町"}, nil)
		}
	}); err != nil {
		t.Fatal(err)
	}
	c := Campaign("46", 5646600000)
	mustExtract(t, s, c)
	if _, err := pack(s, c); err != nil {
		t.Fatal(err)
	}
	var want []string
	for l, err := range s.EnvelopeLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		if code := employerOf[l.Member.HouseholdKey]; code != "" {
			want = append(want, code+" "+l.Member.String())
		}
	}
	slices.Sort(want)
	var got []string
	for l, err := range s.EmployerLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l.EmployerCode+" "+l.Member.String())
		em := l.Employer
		switch l.EmployerCode {
		case "E1":
			if em.Code != "E1" || em.Name != "株式会社テスト九州" || em.PostalCode != "8920816" || em.Address != "鹿児島市山下町" {
				t.Errorf("E1's line carries %+v", em)
			}
		case "E2":
			if em.Code != "E2" || em.Name != "第二商事" || em.Contact != "総務課" || !em.ClosedOn.Equal(day(2025, 6, 30)) {
				t.Errorf("E2's line carries %+v", em)
			}
		case "E0", "E9":
			if em != (shikaku.Employer{Code: l.EmployerCode}) {
				t.Errorf("%s, in no employer file, carries %+v", l.EmployerCode, em)
			}
		default:
			t.Errorf("line of employer %q", l.EmployerCode)
		}
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("employer lines\n got %v\nwant %v", got, want)
	}
}

func testBranches(t *testing.T, s shikaku.Store) {
	mustImport(t, s, Members("46", 20))
	mustImport(t, s, Members("40", 15))
	c46, c40 := Campaign("46", 5646600000), Campaign("40", 4046600000)
	mustExtract(t, s, c46)
	// Branch 40 can still re-import: only 46 was extracted.
	mustImport(t, s, Members("40", 10))
	mustExtract(t, s, c40)
	if _, err := pack(s, c46); err != nil {
		t.Fatal(err)
	}
	if _, err := pack(s, c40); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Branches(ctx)
	if fmt.Sprint(b) != "[40 46]" {
		t.Errorf("branches %v", b)
	}
	for _, br := range []string{"40", "46"} {
		for l, err := range s.EnvelopeLines(ctx, br) {
			if err != nil || l.Member.Branch != br || l.EnvelopeID[1:3] != br {
				t.Fatalf("branch %s: %+v %v", br, l, err)
			}
		}
	}
	n40, _ := s.MemberCount(ctx, "40")
	n46, _ := s.MemberCount(ctx, "46")
	if n40 != len(Members("40", 10)) || n46 != len(Members("46", 20)) {
		t.Errorf("members %d %d", n40, n46)
	}
}

// testBranchesConcurrently runs the whole campaign of two branches at the
// same time through one store.
func testBranchesConcurrently(t *testing.T, s shikaku.Store) {
	if _, err := s.ImportEmployers(ctx, employers()); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, b := range []struct {
		branch string
		first  uint64
	}{{"46", 5646600000}, {"40", 4046600000}} {
		go func() { errs <- campaign(s, b.branch, b.first, 200) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	tracking := map[shikaku.TrackingNumber]string{}
	for _, br := range []string{"46", "40"} {
		sum, err := s.Summary(ctx, br)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Members != len(Members(br, 200)) || sum.Envelopes == 0 {
			t.Errorf("branch %s: %+v", br, sum)
		}
		for l, err := range s.EnvelopeLines(ctx, br) {
			if err != nil {
				t.Fatal(err)
			}
			if l.Member.Branch != br {
				t.Errorf("branch %s lists a member of %s", br, l.Member.Branch)
			}
			if other, ok := tracking[l.TrackingNumber]; ok && other != l.EnvelopeID {
				t.Errorf("tracking number %s on %s and %s", l.TrackingNumber, other, l.EnvelopeID)
			}
			tracking[l.TrackingNumber] = l.EnvelopeID
		}
	}
}

// campaign runs import, extract and pack of one branch.
func campaign(s shikaku.Store, branch string, first uint64, households int) error {
	if _, err := s.ImportMembers(ctx, seq(Members(branch, households), -1)); err != nil {
		return fmt.Errorf("branch %s import: %w", branch, err)
	}
	c := Campaign(branch, first)
	rules := c.Rules()
	if _, err := s.Extract(ctx, c, "settings", rules.Decide); err != nil {
		return fmt.Errorf("branch %s extract: %w", branch, err)
	}
	if _, err := pack(s, c); err != nil {
		return fmt.Errorf("branch %s pack: %w", branch, err)
	}
	return nil
}

// testMailings reads the envelopes back as the print run does: in print
// order, each with its cards in position order and everything printed.
func testMailings(t *testing.T, s shikaku.Store) {
	ms := Members("46", 30)
	ms[0].Language, ms[0].CopayRate, ms[0].Name = "vi", 3, "𠮷田　太郎"
	mustImport(t, s, ms)
	c := Campaign("46", 5646600000)
	mustExtract(t, s, c)
	res, err := pack(s, c)
	if err != nil {
		t.Fatal(err)
	}
	var lines []shikaku.EnvelopeLine
	for l, err := range s.EnvelopeLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	byKey := map[shikaku.MemberKey]*shikaku.Member{}
	for i := range ms {
		byKey[ms[i].Key] = &ms[i]
	}
	i, envelopes := 0, 0
	langs := map[string]int{}
	for m, err := range s.Mailings(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		envelopes++
		langs[m.Language]++
		if len(m.Cards) == 0 || len(m.Cards) > 4 {
			t.Fatalf("envelope %s has %d cards", m.ID, len(m.Cards))
		}
		insured := byKey[shikaku.MemberKey{HouseholdKey: m.Household, BranchNo: "00"}]
		if m.AddresseeName != byKey[m.Addressee].Name || m.To.PostalCode != insured.PostalCode || m.To.Address != insured.Address {
			t.Errorf("envelope %s addressed to %q %+v", m.ID, m.AddresseeName, m.To)
		}
		for _, k := range m.Cards {
			l := lines[i]
			i++
			if k.ID != l.CertificateID || k.Member != l.Member || m.ID != l.EnvelopeID || m.TrackingNumber != l.TrackingNumber || !m.SendOn.Equal(l.SendOn) {
				t.Fatalf("card %s in %s, envelopes.csv order has %s in %s", k.ID, m.ID, l.CertificateID, l.EnvelopeID)
			}
			if l.Wave != m.Wave || l.Size != len(m.Cards) || l.Language != m.Language || l.EmployerCode != m.EmployerCode {
				t.Errorf("line of %s: wave %d, %d certificates, %s, employer %q; its mailing: %d, %d, %s, %q",
					k.ID, l.Wave, l.Size, l.Language, l.EmployerCode, m.Wave, len(m.Cards), m.Language, m.EmployerCode)
			}
			mem := byKey[k.Member]
			if k.Name != mem.Name || k.NameKana != mem.NameKana || !k.BirthDate.Equal(mem.BirthDate) || k.Sex != mem.Sex ||
				k.Relationship != mem.Relationship || !k.AcquiredOn.Equal(mem.AcquiredOn) || k.CopayRate != mem.CopayRate ||
				!k.IssuedOn.Equal(m.SendOn) || !k.ValidUntil.Equal(l.ValidUntil) {
				t.Errorf("card %s of %s: %+v", k.ID, k.Member, k)
			}
		}
	}
	if envelopes != res.Envelopes || i != len(lines) {
		t.Errorf("%d mailings with %d cards; pack made %d envelopes, %d certificates", envelopes, i, res.Envelopes, len(lines))
	}
	sum, err := s.Summary(ctx, "46")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sum.EnvelopesByLanguage) != fmt.Sprint(langs) || langs["vi"] != 1 {
		t.Errorf("envelopes by language %v, mailings %v", sum.EnvelopesByLanguage, langs)
	}
	// Counting the envelope lines, as the export does, gives the
	// summary's envelopes, certificates and employers.
	c, err = s.Campaign(ctx, "46")
	if err != nil {
		t.Fatal(err)
	}
	counted := shikaku.NewSummary(c)
	mail := shikaku.NewMailCount(counted)
	for i := range lines {
		mail.Add(&lines[i])
	}
	mail.Done()
	if counted.Envelopes == 0 || counted.Employers == 0 || len(counted.EnvelopesByLanguage) < 2 {
		t.Errorf("the lines counted %+v: nothing to compare", counted)
	}
	counted.Members, counted.Decisions = sum.Members, sum.Decisions
	if fmt.Sprintf("%+v", counted) != fmt.Sprintf("%+v", sum) {
		t.Errorf("counted from the lines %+v, summary %+v", counted, sum)
	}
}

// testLifecycle records events after packing and builds a resend: the
// events read back, the resend package's tracking number continues
// after the bulk mailing's, a failing step records nothing, and every
// certificate has one state.
func testLifecycle(t *testing.T, s shikaku.Store) {
	mustImport(t, s, Members("46", 30))
	c := Campaign("46", 5646600000)
	mustExtract(t, s, c)
	res, err := pack(s, c)
	if err != nil {
		t.Fatal(err)
	}
	var first shikaku.EnvelopeLine
	var maxTracking shikaku.TrackingNumber
	for l, err := range s.EnvelopeLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		if first.EnvelopeID == "" {
			first = l
		}
		maxTracking = max(maxTracking, l.TrackingNumber)
	}
	now := time.Now()
	on := c.Waves[1].SendOn.AddDate(0, 0, 5)
	err = s.Lifecycle(ctx, "46", func(tx shikaku.LifeTx) error {
		_, err := shikaku.RecordUndelivered(ctx, tx, []shikaku.Scan{{Raw: first.TrackingNumber.Printed(), Reason: "宛所不明", On: on}}, "t", now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A step that fails records nothing.
	boom := errors.New("boom")
	err = s.Lifecycle(ctx, "46", func(tx shikaku.LifeTx) error {
		if _, err := shikaku.RecordCertificates(ctx, tx, shikaku.EventReturned, []shikaku.Scan{{Raw: "C4600000002", On: on}}, "t", now); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing step: %v", err)
	}
	var batch *shikaku.ResendBatch
	err = s.Lifecycle(ctx, "46", func(tx shikaku.LifeTx) error {
		cr, err := tx.Certificate(ctx, first.CertificateID)
		if err != nil {
			return err
		}
		if st := cr.State(on); st != shikaku.Undelivered || len(cr.Events) != 1 || cr.Events[0].Reason != "宛所不明" {
			t.Errorf("certificate %s: %s %+v", cr.ID, st, cr.Events)
		}
		if c2, err := tx.Certificate(ctx, "C4600000002"); err != nil || len(c2.Events) != 0 {
			t.Errorf("the failed step left events: %+v %v", c2, err)
		}
		batch, err = shikaku.Resend(ctx, tx, on.AddDate(0, 1, 0), "t", now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Packages) != 1 || batch.Packages[0].Envelope.TrackingNumber.Body() != maxTracking.Body()+1 {
		t.Fatalf("resend packages %+v after the last bulk number %s", batch.Packages, maxTracking)
	}
	err = s.Lifecycle(ctx, "46", func(tx shikaku.LifeTx) error {
		pkg, err := tx.EnvelopeByTracking(ctx, batch.Packages[0].Envelope.TrackingNumber)
		if err != nil {
			return err
		}
		if pkg.Kind != shikaku.KindResend || len(pkg.Certificates) != len(batch.Packages[0].Items) {
			t.Errorf("package read back: %+v", pkg)
		}
		states, total, err := tx.CertificateStates(ctx, on.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		sum := 0
		for _, n := range states {
			sum += n
		}
		if total != res.Certificates || sum != total || states[shikaku.Resent] != len(batch.Packages[0].Items) {
			t.Errorf("states %v of %d certificates (packed %d)", states, total, res.Certificates)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// PackSmall imports, decides and packs a small campaign of branch 46, the
// first household's insured person reading Vietnamese.
func PackSmall(t *testing.T, s shikaku.Store) {
	ExtractSmall(t, s)
	PackExtracted(t, s)
}

// ExtractSmall is PackSmall up to the decisions.
func ExtractSmall(t *testing.T, s shikaku.Store) {
	ms := Members("46", 30)
	ms[0].Language = "vi"
	mustImport(t, s, ms)
	mustExtract(t, s, Campaign("46", 5646600000))
}

// PackExtracted packs what ExtractSmall decided and checks that the
// store's count of targets per household, which the plan is made from,
// agrees with the households it then reads: every target packed once.
func PackExtracted(t *testing.T, s shikaku.Store) {
	t.Helper()
	c := Campaign("46", 5646600000)
	var households, counted int
	res, err := s.Pack(ctx, c.BranchCode, func(tx shikaku.PackTx) (shikaku.PackResult, error) {
		for n, err := range tx.TargetCounts(ctx) {
			if err != nil {
				return shikaku.PackResult{}, err
			}
			households++
			counted += n
		}
		return shikaku.PackCampaign(ctx, c, tx, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Summary(ctx, "46")
	if err != nil {
		t.Fatal(err)
	}
	targets := sum.Decisions[shikaku.Target]
	if targets == 0 || res.Certificates != targets || counted != targets || res.Households != households {
		t.Errorf("%d targets: %d counted in %d households, %d packed in %d households",
			targets, counted, households, res.Certificates, res.Households)
	}
}

// CheckPackSmall checks what PackSmall packed as the exports read it:
// every line of envelopes.csv names the member whose card the print run
// puts in that envelope, and the summary counts the flyers the print run
// puts in (one Vietnamese).
func CheckPackSmall(t *testing.T, s shikaku.Store) {
	var cards []shikaku.Card
	langs := map[string]int{}
	for m, err := range s.Mailings(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		cards = append(cards, m.Cards...)
		langs[m.Language]++
	}
	sum, err := s.Summary(ctx, "46")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sum.EnvelopesByLanguage) != fmt.Sprint(langs) || langs["vi"] != 1 || langs["ja"] == 0 {
		t.Errorf("envelopes by language %v, mailings %v", sum.EnvelopesByLanguage, langs)
	}
	i := 0
	for l, err := range s.EnvelopeLines(ctx, "46") {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(cards) || cards[i].ID != l.CertificateID || cards[i].Member != l.Member {
			t.Fatalf("envelope line %d: %s of %s", i, l.CertificateID, l.Member)
		}
		i++
	}
	if i == 0 || i != len(cards) {
		t.Errorf("%d envelope lines for %d cards", i, len(cards))
	}
}

// Upgraded prepares a store with setup, undoes migrations behind its back
// with exec (the statements drop what they added, then their versions)
// and reopens it: the migrations run again on the data setup left. open
// opens the same database each time it is called.
func Upgraded(t *testing.T, open func() (shikaku.Store, error), exec func(statements []string) error,
	setup func(*testing.T, shikaku.Store), undo ...string) shikaku.Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	setup(t, s)
	s.Close()
	if err := exec(undo); err != nil {
		t.Fatal(err)
	}
	s, err = open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
