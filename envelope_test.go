package shikaku

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"
)

func testCampaign() *Campaign {
	return &Campaign{
		Name: "test", BranchCode: "46",
		Insurer:    Insurer{Name: "全国健康保険協会 鹿児島支部", Number: "01460013"},
		ValidUntil: d(2030, 12, 1),
		Dates: Dates{DataAsOf: d(2025, 5, 16), ExtractedOn: d(2025, 5, 17), CardDecisionCutoff: d(2024, 11, 29),
			MynaReferenceDate: d(2025, 4, 30), ContinuationLossCutoff: d(2025, 12, 2), LossDataAsOf: d(2025, 7, 11),
			LossExtractedOn: d(2025, 7, 13), EmployerListOn: d(2025, 7, 31), CardLastValidOn: d(2025, 12, 1)},
		Mail:  Mail{PerEnvelope: 4, PostageYen: 110, SpecialFeeYen: 210, TrackingRanges: TrackingRanges{{First: 5646600000, Last: 5646699999}}},
		Waves: []Wave{{SendOn: d(2025, 8, 8)}, {SendOn: d(2025, 8, 15)}},
	}
}

func household(num string, n int) (*Member, []*Member) {
	var ms []*Member
	for i := range n {
		m := target(fmt.Sprintf("%02d", i))
		m.Key.Number = num
		m.ID = int64(i + 1)
		ms = append(ms, &m)
	}
	return ms[0], ms
}

func TestPackSplitsHouseholds(t *testing.T) {
	for n := 1; n <= 12; n++ {
		c := testCampaign()
		p := &Packer{Campaign: c, Tracking: &TrackingAllocator{Ranges: c.Mail.TrackingRanges}, NextEnvelope: 1, NextCert: 1}
		ins, targets := household("1", n)
		envs, err := p.Pack(ins, targets)
		if err != nil {
			t.Fatal(err)
		}
		if want := (n + 3) / 4; len(envs) != want {
			t.Fatalf("%d certificates: %d envelopes, want %d", n, len(envs), want)
		}
		next := 0
		for k, e := range envs {
			if e.K != k+1 || e.N != len(envs) {
				t.Errorf("%d certificates: envelope %d is %d/%d", n, k, e.K, e.N)
			}
			if len(e.Certificates) == 0 || len(e.Certificates) > 4 {
				t.Errorf("%d certificates: envelope with %d", n, len(e.Certificates))
			}
			for _, cert := range e.Certificates {
				if cert.Member != targets[next].Key {
					t.Errorf("order: got %s want %s", cert.Member, targets[next].Key)
				}
				next++
			}
		}
		if next != n {
			t.Errorf("%d certificates packed, want %d", next, n)
		}
	}
}

func TestPackWavesAndNumbers(t *testing.T) {
	c := testCampaign()
	c.Waves[0].Capacity = 2
	p := &Packer{Campaign: c, Tracking: &TrackingAllocator{Ranges: c.Mail.TrackingRanges, Used: 5}, NextEnvelope: 10, NextCert: 20}
	var all []Envelope
	for i := range 4 {
		ins, targets := household(fmt.Sprint(i), 1+i*2) // 1, 3, 5, 7 certificates: 1+1+2+2 envelopes
		envs, err := p.Pack(ins, targets)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, envs...)
	}
	if len(all) != 6 {
		t.Fatalf("%d envelopes", len(all))
	}
	for i, e := range all {
		wantWave := 2
		if i < 2 {
			wantWave = 1
		}
		if e.Wave != wantWave || !e.SendOn.Equal(c.Waves[wantWave-1].SendOn) {
			t.Errorf("envelope %d in wave %d (%s)", i, e.Wave, e.SendOn)
		}
		if e.TrackingNumber.Body() != 5646600005+uint64(i) || !e.TrackingNumber.Valid() {
			t.Errorf("envelope %d tracking %s", i, e.TrackingNumber)
		}
		if e.ID != fmt.Sprintf("E46%08d", 10+i) {
			t.Errorf("envelope id %s", e.ID)
		}
		for _, cert := range e.Certificates {
			if !cert.IssuedOn.Equal(e.SendOn) {
				t.Errorf("certificate %s issued %s, envelope sent %s", cert.ID, cert.IssuedOn, e.SendOn)
			}
		}
	}
	if all[0].Certificates[0].ID != "C4600000020" {
		t.Errorf("first certificate %s", all[0].Certificates[0].ID)
	}
	if p.Tracking.Used != 11 || p.NextEnvelope != 16 || p.NextCert != 36 {
		t.Errorf("counters %d %d %d", p.Tracking.Used, p.NextEnvelope, p.NextCert)
	}
}

func TestPlan(t *testing.T) {
	c := testCampaign()
	c.Mail.TrackingRanges = TrackingRanges{{First: 1000000000, Last: 1000000009}}
	alloc := &TrackingAllocator{Ranges: c.Mail.TrackingRanges, Used: 3}
	if err := Plan(c, alloc, 7); err != nil {
		t.Errorf("7 of 7 left: %v", err)
	}
	if err := Plan(c, alloc, 8); err == nil || !strings.Contains(err.Error(), "tracking_ranges") {
		t.Errorf("8 of 7 left: %v", err)
	}
	c.Waves[0].Capacity, c.Waves[1].Capacity = 3, 3
	if err := Plan(c, alloc, 7); err == nil || !strings.Contains(err.Error(), "waves") {
		t.Errorf("7 envelopes for waves of 3+3: %v", err)
	}
	if alloc.Used != 3 {
		t.Error("Plan used numbers")
	}
}

func TestValidUntil(t *testing.T) {
	campaign := d(2030, 12, 1)
	ins := &Member{InsuredType: General}
	tests := []struct {
		name  string
		birth time.Time
		ins   *Member
		want  time.Time
	}{
		{"young", d(1990, 6, 1), ins, campaign},
		{"75 before the campaign date", d(1953, 3, 10), ins, d(2028, 3, 9)},
		{"75 on the day after the campaign date", d(1955, 12, 2), ins, campaign},
		{"75 on the campaign date", d(1955, 12, 1), ins, d(2030, 11, 30)},
		{"29 February birthday", d(1952, 2, 29), ins, d(2027, 2, 28)},
		{"voluntary scheduled loss", d(1990, 6, 1), &Member{InsuredType: Voluntary, ScheduledLossOn: d(2026, 4, 1)}, d(2026, 3, 31)},
		{"voluntary, 75 first", d(1951, 6, 1), &Member{InsuredType: Voluntary, ScheduledLossOn: d(2027, 4, 1)}, d(2026, 5, 31)},
		{"general ignores a scheduled loss", d(1990, 6, 1), &Member{InsuredType: General, ScheduledLossOn: d(2026, 4, 1)}, campaign},
	}
	for _, tt := range tests {
		m := &Member{BirthDate: tt.birth}
		if got := ValidUntil(campaign, m, tt.ins); !got.Equal(tt.want) {
			t.Errorf("%s: %s, want %s", tt.name, got.Format(time.DateOnly), tt.want.Format(time.DateOnly))
		}
	}
}

func TestAddresseeAndDVGuard(t *testing.T) {
	c := testCampaign()
	p := &Packer{Campaign: c, Tracking: &TrackingAllocator{Ranges: c.Mail.TrackingRanges}, NextEnvelope: 1, NextCert: 1}
	ins, targets := household("1", 3)
	ins.Language, targets[1].Language = "vi", "pt"
	envs, _ := p.Pack(ins, targets[1:]) // insured not a target: still the addressee
	if envs[0].Addressee != ins.Key || envs[0].Language != "vi" {
		t.Errorf("addressee %s (flyer %q), want the insured %s (vi)", envs[0].Addressee, envs[0].Language, ins.Key)
	}
	ins.DV = true
	envs, _ = p.Pack(ins, targets[1:])
	if envs[0].Addressee != targets[1].Key || envs[0].Language != "pt" {
		t.Errorf("DV insured: addressee %s (flyer %q), want the first target %s (pt)", envs[0].Addressee, envs[0].Language, targets[1].Key)
	}
	ins.DV, ins.Language = false, ""
	if envs, _ = p.Pack(ins, targets[1:]); envs[0].Language != DefaultLanguage {
		t.Errorf("no language given: flyer %q, want %q", envs[0].Language, DefaultLanguage)
	}
	targets[2].DV = true
	if _, err := p.Pack(ins, targets[1:]); err == nil {
		t.Error("a DV member was packed")
	}
}

// fakePackTx is an in-memory PackTx.
type fakePackTx struct {
	households []*PackHousehold
	saved      []Envelope
	counters   Counters
}

func (f *fakePackTx) Counters(context.Context) (Counters, error) { return f.counters, nil }
func (f *fakePackTx) TargetCounts(context.Context) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for _, h := range f.households {
			if !yield(len(h.Targets), nil) {
				return
			}
		}
	}
}
func (f *fakePackTx) Households(context.Context) iter.Seq2[*PackHousehold, error] {
	return func(yield func(*PackHousehold, error) bool) {
		for _, h := range f.households {
			if !yield(h, nil) {
				return
			}
		}
	}
}
func (f *fakePackTx) SaveEnvelopes(_ context.Context, envs []Envelope) error {
	f.saved = append(f.saved, envs...)
	return nil
}
func (f *fakePackTx) SaveCounters(_ context.Context, c Counters) error {
	f.counters = c
	return nil
}

func TestPackCampaign(t *testing.T) {
	c := testCampaign()
	tx := &fakePackTx{counters: Counters{TrackingUsed: 0, NextEnvelope: 1, NextCert: 1}}
	total := 0
	for i := range 3000 {
		ins, targets := household(fmt.Sprint(i), 1+i%10)
		tx.households = append(tx.households, &PackHousehold{Insured: *ins, Targets: targets})
		total += EnvelopeCount(len(targets), 4)
	}
	res, err := PackCampaign(context.Background(), c, tx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Envelopes != total || len(tx.saved) != total || res.Households != 3000 {
		t.Errorf("result %+v, saved %d, want %d envelopes", res, len(tx.saved), total)
	}
	if tx.counters.TrackingUsed != uint64(total) || tx.counters.NextEnvelope != int64(total+1) {
		t.Errorf("counters %+v", tx.counters)
	}
	// Not enough numbers: nothing is saved and no counter moves.
	c.Mail.TrackingRanges = TrackingRanges{{First: 1000000000, Last: 1000000000 + uint64(total) - 2}}
	tx2 := &fakePackTx{households: tx.households, counters: Counters{NextEnvelope: 1, NextCert: 1}}
	if _, err := PackCampaign(context.Background(), c, tx2, nil); err == nil {
		t.Fatal("packed without enough tracking numbers")
	}
	if len(tx2.saved) != 0 || tx2.counters.TrackingUsed != 0 {
		t.Errorf("saved %d envelopes, counters %+v", len(tx2.saved), tx2.counters)
	}
}
