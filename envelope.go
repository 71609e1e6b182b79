package shikaku

import (
	"context"
	"fmt"
	"time"

	"shikaku/pipe"
)

// Certificate is one 資格確認書.
type Certificate struct {
	ID         string
	Member     MemberKey
	MemberID   int64
	IssuedOn   time.Time // 交付年月日: the send date of its wave
	ValidUntil time.Time // 有効期限
}

// Envelope is one 特定記録 envelope to a household, holding 1–per_envelope
// certificates in branch-number order.
type Envelope struct {
	ID             string
	Household      HouseholdKey
	Addressee      MemberKey // who the envelope is addressed to
	EmployerCode   string    // the household's employer; "" when it has none (voluntary)
	To             MailAddress
	K, N           int   // envelope k of n for the household
	Seq            int64 // print order within the campaign
	TrackingNumber TrackingNumber
	Wave           int // 1-based
	SendOn         time.Time
	// Language of the flyer (説明用チラシ) that goes in: the addressee's.
	// Kept on the envelope, so that the print vendor's counts need no
	// member read.
	Language     string
	Certificates []Certificate
}

// MailAddress is where an envelope goes.
type MailAddress struct {
	PostalCode string
	Address    string
	Line2      string // 方書
}

// EnvelopeCount is how many envelopes a household with n certificates needs.
func EnvelopeCount(n, perEnvelope int) int {
	return (n + perEnvelope - 1) / perEnvelope
}

// ValidUntil is a member's 有効期限: the campaign's date, or earlier where
// eligibility surely ends first — the day before the 75th birthday (後期高齢者
// 医療へ移行), or a voluntary member's scheduled loss date minus one day.
func ValidUntil(campaignDate time.Time, m, insured *Member) time.Time {
	v := campaignDate
	if !m.BirthDate.IsZero() {
		// AddDate moves a 29 February birthday to 1 March in common years,
		// which is when the 75th birthday falls for the law.
		if d := m.BirthDate.AddDate(75, 0, 0).AddDate(0, 0, -1); d.Before(v) {
			v = d
		}
	}
	if insured.InsuredType == Voluntary && !insured.ScheduledLossOn.IsZero() {
		if d := insured.ScheduledLossOn.AddDate(0, 0, -1); d.Before(v) {
			v = d
		}
	}
	return v
}

// Plan checks, before any envelope is made or number used, that the
// campaign can carry envelopes more envelopes: enough tracking numbers
// and room in the waves.
func Plan(c *Campaign, tracking *TrackingAllocator, envelopes int) error {
	if err := tracking.Reserve(uint64(envelopes)); err != nil {
		return err
	}
	room := 0
	for _, w := range c.Waves {
		if w.Capacity == 0 {
			return nil
		}
		room += w.Capacity
	}
	if envelopes > room {
		return fmt.Errorf("送付回（[[waves]]）の容量が足りません: 封筒 %d 通に対し容量は合計 %d 通です。capacity を増やすか、capacity = 0（上限なし）の送付回を設けてください", envelopes, room)
	}
	return nil
}

// Packer turns the targets of households, given in print order (postal
// code, address, household key), into envelopes: IDs, k/n, tracking
// numbers, waves and certificates. Its counters start where the store's
// left off and are saved with the envelopes, in one transaction.
type Packer struct {
	Campaign     *Campaign
	Tracking     *TrackingAllocator
	NextEnvelope int64 // sequence of the next envelope ID
	NextCert     int64 // sequence of the next certificate ID

	wave     int // index into Campaign.Waves
	waveFill int
}

// EnvelopeID is the scannable ID of an envelope: E, the branch code and
// an 8-digit sequence (E4600000001).
func EnvelopeID(branch string, seq int64) string { return fmt.Sprintf("E%s%08d", branch, seq) }

// CertificateID is the ID printed as a barcode on a certificate.
func CertificateID(branch string, seq int64) string { return fmt.Sprintf("C%s%08d", branch, seq) }

// Pack makes the envelopes of one household. targets are the members that
// get a certificate, in branch-number order; insured is the household's
// insured person (whose address the mail goes to, target or not).
func (p *Packer) Pack(insured *Member, targets []*Member) ([]Envelope, error) {
	per := p.Campaign.Mail.PerEnvelope
	n := EnvelopeCount(len(targets), per)
	to := Addressee(insured, targets)
	addressee, language := to.Key, FlyerLanguage(to)
	envs := make([]Envelope, 0, n)
	for k := 1; k <= n; k++ {
		wave, err := p.nextWave()
		if err != nil {
			return nil, err
		}
		tn, err := p.Tracking.Next()
		if err != nil {
			return nil, err
		}
		sendOn := p.Campaign.Waves[wave].SendOn
		e := Envelope{
			ID:             EnvelopeID(p.Campaign.BranchCode, p.NextEnvelope),
			Household:      insured.Key.HouseholdKey,
			Addressee:      addressee,
			EmployerCode:   EmployerOf(insured),
			To:             MailAddress{insured.PostalCode, insured.Address, insured.AddressLine2},
			K:              k,
			N:              n,
			Seq:            p.NextEnvelope,
			TrackingNumber: tn,
			Wave:           wave + 1,
			SendOn:         sendOn,
			Language:       language,
		}
		p.NextEnvelope++
		lo, hi := (k-1)*per, min(k*per, len(targets))
		e.Certificates = make([]Certificate, 0, hi-lo)
		for _, m := range targets[lo:hi] {
			if m.DV {
				return nil, fmt.Errorf("DV登録のある加入者 %s が封入対象になっています。送付物に含めることはできません", m.Key)
			}
			e.Certificates = append(e.Certificates, Certificate{
				ID:         CertificateID(p.Campaign.BranchCode, p.NextCert),
				Member:     m.Key,
				MemberID:   m.ID,
				IssuedOn:   sendOn,
				ValidUntil: ValidUntil(p.Campaign.ValidUntil, m, insured),
			})
			p.NextCert++
		}
		envs = append(envs, e)
	}
	return envs, nil
}

// EmployerOf is the employer of a household: its insured person's, for
// general insured persons only. Voluntary households have none (rules.md §4).
func EmployerOf(insured *Member) string {
	if insured.InsuredType != General {
		return ""
	}
	return insured.EmployerCode
}

// Addressee is who a household's mail is addressed to: the insured person,
// target or not (rules.md §3). When the insured person is DV-registered,
// their name must not appear on anything that leaves the insurer (§6), so
// the envelope is addressed to the first target instead.
func Addressee(insured *Member, targets []*Member) *Member {
	if insured.DV && len(targets) > 0 {
		return targets[0]
	}
	return insured
}

// FlyerLanguage is the language of the flyer (説明用チラシ) in an envelope
// addressed to m.
func FlyerLanguage(m *Member) string {
	if m.Language == "" {
		return DefaultLanguage
	}
	return m.Language
}

// nextWave fills the waves in order, each up to its capacity.
func (p *Packer) nextWave() (int, error) {
	for p.wave < len(p.Campaign.Waves) {
		w := p.Campaign.Waves[p.wave]
		if w.Capacity == 0 || p.waveFill < w.Capacity {
			p.waveFill++
			return p.wave, nil
		}
		p.wave++
		p.waveFill = 0
	}
	return 0, fmt.Errorf("送付回（[[waves]]）の容量を超えました")
}

// PackCampaign packs every target of the campaign into envelopes through
// tx: it counts the envelopes first and checks that the tracking ranges
// and waves can carry them before any number is used, then numbers them in
// print order and saves them with the counters.
func PackCampaign(ctx context.Context, c *Campaign, tx PackTx, progress func(envelopes int)) (PackResult, error) {
	var res PackResult
	counters, err := tx.Counters(ctx)
	if err != nil {
		return res, err
	}
	// The households come in print order, which the store sorts before the
	// first row: that read starts now, beside the count the plan needs.
	hctx, cancel := context.WithCancel(ctx)
	households, stopHouseholds := pipe.Start(tx.Households(hctx))
	defer func() {
		cancel()
		stopHouseholds()
	}()
	total := 0
	for n, err := range tx.TargetCounts(ctx) {
		if err != nil {
			return res, err
		}
		total += EnvelopeCount(n, c.Mail.PerEnvelope)
	}
	alloc := &TrackingAllocator{Ranges: c.Mail.TrackingRanges, Used: counters.TrackingUsed}
	if err := Plan(c, alloc, total); err != nil {
		return res, err
	}
	p := &Packer{Campaign: c, Tracking: alloc, NextEnvelope: counters.NextEnvelope, NextCert: counters.NextCert}
	// Envelopes are saved in a goroutine of their own, a batch or two
	// behind: the database takes in one batch while the next is packed.
	saver := pipe.Behind(ctx, tx.SaveEnvelopes)
	defer saver.Abort()
	const batch = 2048
	buf := make([]Envelope, 0, batch+16)
	for h, err := range households {
		if err != nil {
			return res, err
		}
		envs, err := p.Pack(&h.Insured, h.Targets)
		if err != nil {
			return res, err
		}
		res.Households++
		for _, e := range envs {
			res.Certificates += len(e.Certificates)
		}
		buf = append(buf, envs...)
		if len(buf) >= batch {
			if err := saver.Send(buf); err != nil {
				return res, err
			}
			res.Envelopes += len(buf)
			buf = make([]Envelope, 0, batch+16) // the saver has the last one
			if progress != nil {
				progress(res.Envelopes)
			}
		}
	}
	if len(buf) > 0 {
		if err := saver.Send(buf); err != nil {
			return res, err
		}
		res.Envelopes += len(buf)
	}
	if err := saver.Close(); err != nil {
		return res, err
	}
	if res.Envelopes != total {
		return res, fmt.Errorf("封筒の数が合いません（見積り %d 通、作成 %d 通）", total, res.Envelopes)
	}
	counters.TrackingUsed = alloc.Used
	counters.NextEnvelope = p.NextEnvelope
	counters.NextCert = p.NextCert
	return res, tx.SaveCounters(ctx, counters)
}
