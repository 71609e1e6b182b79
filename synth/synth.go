// Package synth generates a synthetic campaign: members, employers, loss
// data and the campaign settings of the Kagoshima branch in 2025, with
// realistic Japanese names and Kagoshima addresses. About one third of
// the members cannot use マイナ保険証; every exclusion and every boundary
// of the rules is present. The output is deterministic for a seed and
// fast enough for millions of members.
package synth

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"shikaku"
	"shikaku/csvin"
	"shikaku/wareki"
)

// Options control the generator.
type Options struct {
	Members int    // about this many members (whole households)
	Seed    uint64 // same seed, same files
	Branch  string // 46 (Kagoshima) by default
	// Progress, if set, is called now and then with the members written.
	Progress func(members int)
}

// Stats describe what was generated.
type Stats struct {
	Members, Households, Employers, Losses int
	ExpectedEnvelopes                      int // after the rules and the cross-match
}

// Files are the paths written.
type Files struct {
	Campaign, Members, Employers, Losses string
}

// FilesIn names the files Generate writes into dir.
func FilesIn(dir string) Files {
	return Files{
		Campaign:  filepath.Join(dir, "campaign.toml"),
		Members:   filepath.Join(dir, "members.csv"),
		Employers: filepath.Join(dir, "employers.csv"),
		Losses:    filepath.Join(dir, "losses.csv"),
	}
}

// Kagoshima returns the settings of the seed document for a branch.
func Kagoshima(branch string) *shikaku.Campaign {
	d := wareki.Day
	return &shikaku.Campaign{
		Name:       "資格確認書 一括発行 2025",
		BranchCode: branch,
		Insurer: shikaku.Insurer{
			Name: "全国健康保険協会 鹿児島支部", Number: "01" + branch + "0013", Phone: "0570-015-369",
			PostalCode: "8928540", Address: "鹿児島県鹿児島市山下町6-1 住友生命鹿児島第2ビル",
		},
		Dates: shikaku.Dates{
			DataAsOf: d(2025, 5, 16), ExtractedOn: d(2025, 5, 17), CardDecisionCutoff: d(2024, 11, 29),
			MynaReferenceDate: d(2025, 4, 30), ContinuationLossCutoff: d(2025, 12, 2),
			LossDataAsOf: d(2025, 7, 11), LossExtractedOn: d(2025, 7, 13), EmployerListOn: d(2025, 7, 31),
			CardLastValidOn: d(2025, 12, 1),
		},
		ValidUntil: d(2030, 12, 1),
		Mail: shikaku.Mail{
			PerEnvelope: 4, Service: "特定記録郵便", PostageYen: 110, SpecialFeeYen: 210, ResendEvery: "1 month",
			TrackingRanges: shikaku.TrackingRanges{{First: 5646600000, Last: 5646699999}},
		},
		Waves: []shikaku.Wave{{SendOn: d(2025, 8, 8)}, {SendOn: d(2025, 8, 15)}},
	}
}

// gen holds the generator's state.
type gen struct {
	opt           Options
	src           *rand.PCG
	rnd           *rand.Rand
	c             *shikaku.Campaign
	rules         shikaku.Rules
	stats         Stats
	emps          []employer
	nextVoluntary int
	losses        []shikaku.Loss
	members       *bufio.Writer
	rec           []byte
}

// planned is a household drawn once: its key, and the random state to
// draw it again.
type planned struct {
	key      hhKey
	state    []byte
	limit    int
	boundary int // 1-based index into the boundary households, or 0
}

type hhKey = shikaku.HouseholdKey

type employer struct {
	shikaku.Employer
	next int // next 番号
}

// Generate writes the four files into dir.
func Generate(dir string, opt Options) (Files, Stats, error) {
	if opt.Branch == "" {
		opt.Branch = "46"
	}
	if opt.Members < 1 {
		return Files{}, Stats{}, fmt.Errorf("加入者数は1以上にしてください")
	}
	files := FilesIn(dir)
	src := rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)
	g := &gen{opt: opt, src: src, rnd: rand.New(src), c: Kagoshima(opt.Branch)}
	g.rules = g.c.Rules()
	g.makeEmployers()
	g.stats.Employers = len(g.emps)

	f, err := os.Create(files.Members)
	if err != nil {
		return files, g.stats, err
	}
	defer f.Close()
	g.members = bufio.NewWriterSize(f, 1<<20)
	g.writeRow(csvin.MemberHeader())
	// Losses are decided while households are made, so the expected
	// envelope count (for the waves) follows the real rules.
	// Core systems export members sorted by key. The households are drawn
	// in one pass that keeps only each one's key and random state, then
	// drawn again from that state in key order and written.
	boundary := g.boundaryHouseholds()
	var plan []planned
	n := 0
	for _, h := range boundary {
		n += len(h)
	}
	for n < opt.Members {
		st, _ := g.src.MarshalBinary()
		limit := min(opt.Members-n, 10)
		h := g.randomHousehold(limit)
		plan = append(plan, planned{key: h[0].Key.HouseholdKey, state: st, limit: limit})
		n += len(h)
	}
	for i, h := range boundary {
		plan = append(plan, planned{key: h[0].Key.HouseholdKey, boundary: i + 1})
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].key.Less(plan[j].key) })
	for _, p := range plan {
		var h []shikaku.Member
		if p.boundary > 0 {
			h = boundary[p.boundary-1]
		} else {
			if err := g.src.UnmarshalBinary(p.state); err != nil {
				return files, g.stats, err
			}
			h = g.randomHousehold(p.limit)
			for i := range h {
				h[i].Key.HouseholdKey = p.key
			}
		}
		g.emit(h)
		if opt.Progress != nil && g.stats.Households%8192 == 0 {
			opt.Progress(g.stats.Members)
		}
	}
	if err := g.members.Flush(); err != nil {
		return files, g.stats, err
	}
	if err := f.Close(); err != nil {
		return files, g.stats, err
	}
	if err := g.writeEmployers(files.Employers); err != nil {
		return files, g.stats, err
	}
	if err := g.writeLosses(files.Losses); err != nil {
		return files, g.stats, err
	}
	// Two sends, as in Kagoshima: the first takes half the envelopes.
	g.c.Waves[0].Capacity = max(1, (g.stats.ExpectedEnvelopes+1)/2)
	// Enough tracking numbers for the envelopes and later resends, in
	// blocks of 100,000 as the post office hands them out.
	for need := uint64(g.stats.ExpectedEnvelopes)*5/4 + 1000; g.c.Mail.TrackingRanges.Capacity() < need; {
		last := g.c.Mail.TrackingRanges[len(g.c.Mail.TrackingRanges)-1]
		g.c.Mail.TrackingRanges = append(g.c.Mail.TrackingRanges, shikaku.TrackingRange{First: last.Last + 1, Last: last.Last + 100000})
	}
	if err := os.WriteFile(files.Campaign, []byte(CampaignTOML(g.c)), 0o644); err != nil {
		return files, g.stats, err
	}
	return files, g.stats, nil
}

// employerCode is the 8-digit 事業所記号 of the i-th employer: blocks of
// 900,000 codes 10100000–10999999, 11100000–11999999, … (enough for 81
// million employers). The codes of the first 900,000 are those of earlier
// versions, so the generated files of a given seed do not change; larger
// runs (over 22.5 million members) used to repeat codes.
func employerCode(i int) string {
	return fmt.Sprintf("%02d%06d", 10+i/900000, 100000+i%900000)
}

func (g *gen) makeEmployers() {
	n := max(3, g.opt.Members/25)
	g.emps = make([]employer, n)
	for i := range g.emps {
		t := towns[g.rnd.IntN(len(towns))]
		kind := businessKinds[g.rnd.IntN(len(businessKinds))]
		form := businessForms[g.rnd.IntN(len(businessForms))]
		sn := surnames[g.rnd.IntN(len(surnames))].kanji
		e := shikaku.Employer{
			Code:       employerCode(i),
			Name:       fmt.Sprintf(form, sn, kind),
			PostalCode: t.postal,
			Address:    fmt.Sprintf("鹿児島県%s%s%d丁目%d番%d号", t.city, t.town, 1+g.rnd.IntN(5), 1+g.rnd.IntN(30), 1+g.rnd.IntN(20)),
			Contact:    contacts[g.rnd.IntN(len(contacts))],
		}
		if g.rnd.IntN(4) == 0 {
			e.AddressLine2 = fmt.Sprintf("%sビル%dF", buildingNames[g.rnd.IntN(len(buildingNames))], 1+g.rnd.IntN(8))
		}
		if g.rnd.IntN(200) == 0 { // 全喪: the employer left the scheme
			e.ClosedOn = wareki.Day(2025, time.Month(6+g.rnd.IntN(5)), 1+g.rnd.IntN(28))
		}
		g.emps[i] = employer{Employer: e, next: 1}
	}
}

// emit decides the household as the campaign will, records its losses,
// counts envelopes and writes its rows.
func (g *gen) emit(h []shikaku.Member) {
	hh := shikaku.Household{Members: h}
	codes := make([]shikaku.ReasonCode, len(h))
	g.rules.Decide(&hh, codes)
	targets := 0
	householdLost := false
	for i := range h {
		m := &h[i]
		// About 1.5% of members lose eligibility between the extraction
		// and the loss data; some after the loss data date, which does
		// not count yet.
		if m.LostOn.IsZero() && g.rnd.IntN(1000) < 15 {
			l := shikaku.Loss{Key: m.Key, LostOn: g.c.Dates.DataAsOf.AddDate(0, 0, 1+g.rnd.IntN(70)), Reason: lossReason(m, g.rnd)}
			g.losses = append(g.losses, l)
			if !l.LostOn.After(g.c.Dates.LossDataAsOf) {
				codes[i] = shikaku.RLostAfterExtraction
				if m.Key.Insured() {
					householdLost = true
				}
			}
		}
	}
	for i := range h {
		if codes[i] == shikaku.Target && !householdLost {
			targets++
		}
		g.writeMember(&h[i])
	}
	g.stats.ExpectedEnvelopes += shikaku.EnvelopeCount(targets, g.c.Mail.PerEnvelope)
	g.stats.Households++
	g.stats.Members += len(h)
}

func lossReason(m *shikaku.Member, rnd *rand.Rand) string {
	if !m.Key.Insured() {
		return "扶養削除"
	}
	return []string{"退職", "退職", "退職", "死亡", "後期高齢者医療へ移行"}[rnd.IntN(5)]
}

// randomHousehold makes a household of up to max members.
func (g *gen) randomHousehold(maxSize int) []shikaku.Member {
	size := householdSize(g.rnd)
	size = min(size, maxSize)
	typ := shikaku.General
	switch r := g.rnd.IntN(1000); {
	case r < 50:
		typ = shikaku.Voluntary
	case r < 65:
		typ = shikaku.DayLaborer
	}
	d := g.c.Dates
	sn := surnames[g.rnd.IntN(len(surnames))]
	h := make([]shikaku.Member, size)
	ins := &h[0]
	g.key(ins, typ)
	ins.Relationship = shikaku.Self
	ins.InsuredType = typ
	ins.Sex = 1 + g.rnd.IntN(2)
	age := 20 + g.rnd.IntN(55)
	if typ == shikaku.Voluntary {
		age = 25 + g.rnd.IntN(49)
	}
	ins.BirthDate = g.birth(age)
	g.person(ins, sn)
	t := towns[g.rnd.IntN(len(towns))]
	ins.PostalCode = t.postal
	ins.Address = fmt.Sprintf("鹿児島県%s%s%d丁目%d番%d号", t.city, t.town, 1+g.rnd.IntN(5), 1+g.rnd.IntN(30), 1+g.rnd.IntN(20))
	if g.rnd.IntN(3) == 0 {
		ins.AddressLine2 = fmt.Sprintf("%s%s %d号室", buildingNames[g.rnd.IntN(len(buildingNames))], buildings[g.rnd.IntN(len(buildings))], 101+g.rnd.IntN(8)*100+g.rnd.IntN(10))
	}
	if typ == shikaku.Voluntary {
		// The two-year term ends between now and two years on.
		ins.ScheduledLossOn = d.DataAsOf.AddDate(0, 0, 1+g.rnd.IntN(730))
	}
	spouseDone := false
	for i := 1; i < size; i++ {
		m := &h[i]
		m.Key = shikaku.MemberKey{HouseholdKey: ins.Key.HouseholdKey, BranchNo: fmt.Sprintf("%02d", i)}
		m.InsuredType = typ
		switch {
		case !spouseDone && age >= 24 && g.rnd.IntN(10) < 8:
			spouseDone = true
			m.Relationship = shikaku.Spouse
			m.Sex = 3 - ins.Sex
			m.BirthDate = g.birth(max(18, age-5+g.rnd.IntN(10)))
		case age >= 45 && g.rnd.IntN(8) == 0:
			m.Relationship = shikaku.Parent
			m.Sex = 1 + g.rnd.IntN(2)
			m.BirthDate = g.birth(min(95, age+22+g.rnd.IntN(12)))
		case g.rnd.IntN(30) == 0:
			m.Relationship = shikaku.Other
			m.Sex = 1 + g.rnd.IntN(2)
			m.BirthDate = g.birth(g.rnd.IntN(80))
		default:
			m.Relationship = shikaku.Child
			m.Sex = 1 + g.rnd.IntN(2)
			m.BirthDate = g.birth(max(0, min(age-18, 0+g.rnd.IntN(max(1, age-18)))))
		}
		g.person(m, sn)
	}
	if h[0].LostOn.IsZero() {
		return h
	}
	// A lost insured person's dependents have lost eligibility too.
	for i := 1; i < size; i++ {
		if h[i].LostOn.IsZero() || h[i].LostOn.After(h[0].LostOn) {
			h[i].LostOn = h[0].LostOn
			if !h[i].LostOn.After(h[i].AcquiredOn) {
				h[i].LostOn = h[i].AcquiredOn.AddDate(0, 0, 1)
			}
		}
	}
	return h
}

func householdSize(rnd *rand.Rand) int {
	switch r := rnd.IntN(1000); {
	case r < 380:
		return 1
	case r < 600:
		return 2
	case r < 760:
		return 3
	case r < 890:
		return 4
	case r < 950:
		return 5
	case r < 975:
		return 6
	case r < 988:
		return 7
	case r < 995:
		return 8
	case r < 998:
		return 9
	}
	return 10
}

// key gives an insured person the next key: general households under
// their employer's symbol, voluntary and day-laborer ones under the
// branch's own symbols.
func (g *gen) key(m *shikaku.Member, typ shikaku.InsuredType) {
	m.Key.Branch = g.opt.Branch
	m.Key.BranchNo = shikaku.InsuredBranchNo
	if typ == shikaku.General {
		e := &g.emps[g.rnd.IntN(len(g.emps))]
		m.Key.Symbol = e.Code
		m.Key.Number = strconv.Itoa(e.next)
		e.next++
		m.EmployerCode = e.Code
		return
	}
	g.nextVoluntary++
	prefix := "90"
	if typ == shikaku.DayLaborer {
		prefix = "95"
	}
	m.Key.Symbol = prefix + g.opt.Branch + "0001"
	m.Key.Number = strconv.Itoa(g.nextVoluntary)
}

func (g *gen) birth(age int) time.Time {
	return g.c.Dates.DataAsOf.AddDate(-age, 0, -g.rnd.IntN(365))
}

// person fills name, dates and the マイナ保険証 status of a member. The
// shares are tuned so that about one third of members are targets.
func (g *gen) person(m *shikaku.Member, sn reading) {
	d := g.c.Dates
	given := maleNames
	if m.Sex == 2 {
		given = femaleNames
	}
	gn := given[g.rnd.IntN(len(given))]
	m.Name = sn.kanji + "　" + gn.kanji
	m.NameKana = sn.kana + "　" + gn.kana
	// Acquired between the 18th birthday (or birth) and now.
	from := m.BirthDate
	if adult := m.BirthDate.AddDate(18, 0, 0); m.Relationship == shikaku.Self && adult.Before(d.DataAsOf) {
		from = adult
	}
	span := int(d.DataAsOf.Sub(from).Hours()/24) + 1
	m.AcquiredOn = from.AddDate(0, 0, g.rnd.IntN(max(1, span)))
	m.DecidedOn = m.AcquiredOn.AddDate(0, 0, 3+g.rnd.IntN(20))
	switch r := g.rnd.IntN(1000); {
	case r < 5:
		m.DecidedOn = time.Time{}
	case r < 40 && d.DataAsOf.After(d.CardDecisionCutoff):
		// Joined after cards stopped: no 健康保険証.
		m.AcquiredOn = d.CardDecisionCutoff.AddDate(0, 0, 1+g.rnd.IntN(150))
		m.DecidedOn = m.AcquiredOn.AddDate(0, 0, 2+g.rnd.IntN(10))
	}
	if m.DecidedOn.After(d.DataAsOf) {
		m.DecidedOn = d.DataAsOf
	}
	if m.AcquiredOn.Before(m.BirthDate) {
		m.AcquiredOn = m.BirthDate
	}
	if g.rnd.IntN(1000) < 30 {
		m.LostOn = d.DataAsOf.AddDate(0, 0, -g.rnd.IntN(400))
		if m.LostOn.Before(m.AcquiredOn) {
			m.LostOn = m.AcquiredOn.AddDate(0, 0, 1)
		}
	}
	// マイナ保険証: 88% have the number on file, 72% of those linked the
	// card before the reference date, and a few certificates expired.
	m.MynumberOnFile = g.rnd.IntN(100) < 88
	if m.MynumberOnFile && g.rnd.IntN(100) < 72 {
		m.MynaLinkedOn = d.MynaReferenceDate.AddDate(0, 0, -g.rnd.IntN(1200))
		if g.rnd.IntN(100) < 3 {
			m.MynaLinkedOn = d.MynaReferenceDate.AddDate(0, 0, 1+g.rnd.IntN(60))
		}
		m.EcertExpiresOn = d.MynaReferenceDate.AddDate(0, 0, -30+g.rnd.IntN(1800))
		if g.rnd.IntN(100) < 30 {
			m.EcertExpiresOn = time.Time{}
		}
	}
	if g.rnd.IntN(1000) < 12 {
		m.CertificateIssuedOn = d.ExtractedOn.AddDate(0, 0, -g.rnd.IntN(200))
	}
	m.DV = g.rnd.IntN(1000) < 2
	if age := ageOn(m.BirthDate, d.DataAsOf); age >= 70 && age < 75 {
		m.CopayRate = 2 + g.rnd.IntN(2)
	}
	if g.rnd.IntN(100) == 0 {
		m.Language = languages[g.rnd.IntN(len(languages))]
	}
}

func ageOn(birth, on time.Time) int {
	a := on.Year() - birth.Year()
	if on.YearDay() < birth.YearDay() {
		a--
	}
	return a
}
