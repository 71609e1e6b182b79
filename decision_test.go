package shikaku

import (
	"fmt"
	"testing"
	"time"
)

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }

// kagoshima are the rule dates of the seed document.
var kagoshima = Rules{
	DataAsOf:               d(2025, 5, 16),
	ExtractedOn:            d(2025, 5, 17),
	CardDecisionCutoff:     d(2024, 11, 29),
	MynaReferenceDate:      d(2025, 4, 30),
	ContinuationLossCutoff: d(2025, 12, 2),
}

// target is a member who passes every check.
func target(bn string) Member {
	return Member{
		Key:          MemberKey{HouseholdKey{"46", "1234", "56"}, bn},
		Relationship: Self, InsuredType: General,
		BirthDate: d(1980, 1, 1), AcquiredOn: d(2010, 4, 1), DecidedOn: d(2010, 4, 10),
	}
}

func TestDecideMember(t *testing.T) {
	r := kagoshima
	tests := []struct {
		name string
		bend func(m *Member)
		want ReasonCode
	}{
		{"target", func(m *Member) {}, Target},
		{"lost on the data date", func(m *Member) { m.LostOn = r.DataAsOf }, NInactive},
		{"lost the day after the data date", func(m *Member) { m.LostOn = r.DataAsOf.AddDate(0, 0, 1) }, Target},
		{"lost long ago", func(m *Member) { m.LostOn = d(2020, 1, 1) }, NInactive},
		{"decided on the cutoff", func(m *Member) { m.DecidedOn = r.CardDecisionCutoff }, Target},
		{"decided the day after the cutoff", func(m *Member) { m.DecidedOn = r.CardDecisionCutoff.AddDate(0, 0, 1) }, NNoCard},
		{"no decision date", func(m *Member) { m.DecidedOn = time.Time{} }, NNoCard},
		{"myna linked on the reference date", func(m *Member) { m.MynumberOnFile, m.MynaLinkedOn = true, r.MynaReferenceDate }, NMynaUsable},
		{"myna linked the day after", func(m *Member) { m.MynumberOnFile, m.MynaLinkedOn = true, r.MynaReferenceDate.AddDate(0, 0, 1) }, Target},
		{"myna linked, no number on file", func(m *Member) { m.MynaLinkedOn = d(2024, 1, 1) }, Target},
		{"number on file, never linked", func(m *Member) { m.MynumberOnFile = true }, Target},
		{"e-certificate expiring on the reference date", func(m *Member) {
			m.MynumberOnFile, m.MynaLinkedOn, m.EcertExpiresOn = true, d(2024, 1, 1), r.MynaReferenceDate
		}, NMynaUsable},
		{"e-certificate expired the day before", func(m *Member) {
			m.MynumberOnFile, m.MynaLinkedOn, m.EcertExpiresOn = true, d(2024, 1, 1), r.MynaReferenceDate.AddDate(0, 0, -1)
		}, Target},
		{"day laborer", func(m *Member) { m.InsuredType = DayLaborer }, X1DayLaborer},
		{"issued on the extraction date", func(m *Member) { m.CertificateIssuedOn = r.ExtractedOn }, X2AlreadyIssued},
		{"issued the day after extraction", func(m *Member) { m.CertificateIssuedOn = r.ExtractedOn.AddDate(0, 0, 1) }, Target},
		{"voluntary ending on the cutoff", func(m *Member) { m.InsuredType, m.ScheduledLossOn = Voluntary, r.ContinuationLossCutoff }, X3ContinuationEnding},
		{"voluntary ending the day after", func(m *Member) {
			m.InsuredType, m.ScheduledLossOn = Voluntary, r.ContinuationLossCutoff.AddDate(0, 0, 1)
		}, Target},
		{"voluntary without scheduled loss", func(m *Member) { m.InsuredType = Voluntary }, Target},
		{"general with a scheduled loss date", func(m *Member) { m.ScheduledLossOn = d(2025, 6, 1) }, Target},
		{"DV", func(m *Member) { m.DV = true }, X4DV},
		// Order: the first failing check gives the code.
		{"inactive beats no card", func(m *Member) { m.LostOn, m.DecidedOn = d(2020, 1, 1), time.Time{} }, NInactive},
		{"no card beats myna", func(m *Member) { m.DecidedOn, m.MynumberOnFile, m.MynaLinkedOn = time.Time{}, true, d(2024, 1, 1) }, NNoCard},
		{"myna beats day laborer", func(m *Member) { m.InsuredType, m.MynumberOnFile, m.MynaLinkedOn = DayLaborer, true, d(2024, 1, 1) }, NMynaUsable},
		{"day laborer beats already issued", func(m *Member) { m.InsuredType, m.CertificateIssuedOn = DayLaborer, d(2025, 1, 1) }, X1DayLaborer},
		{"already issued beats continuation", func(m *Member) {
			m.InsuredType, m.ScheduledLossOn, m.CertificateIssuedOn = Voluntary, d(2025, 9, 1), d(2025, 1, 1)
		}, X2AlreadyIssued},
		{"continuation beats DV", func(m *Member) { m.InsuredType, m.ScheduledLossOn, m.DV = Voluntary, d(2025, 9, 1), true }, X3ContinuationEnding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := target("00")
			tt.bend(&m)
			h := Household{Members: []Member{m}}
			out := make([]ReasonCode, 1)
			r.Decide(&h, out)
			if out[0] != tt.want {
				t.Errorf("got %s, want %s", out[0], tt.want)
			}
		})
	}
}

func TestDecideHousehold(t *testing.T) {
	r := kagoshima
	tests := []struct {
		name    string
		insured func(m *Member)
		dep     func(m *Member)
		want    [2]ReasonCode
	}{
		{"both targets", func(*Member) {}, func(*Member) {}, [2]ReasonCode{Target, Target}},
		{"insured inactive makes the dependent inactive", func(m *Member) { m.LostOn = r.DataAsOf }, func(*Member) {}, [2]ReasonCode{NInactive, NInactive}},
		{"insured lost after the data date", func(m *Member) { m.LostOn = r.DataAsOf.AddDate(0, 0, 1) }, func(*Member) {}, [2]ReasonCode{Target, Target}},
		{"dependent inactive alone", func(*Member) {}, func(m *Member) { m.LostOn = r.DataAsOf }, [2]ReasonCode{Target, NInactive}},
		{"day laborer household", func(m *Member) { m.InsuredType = DayLaborer }, func(m *Member) { m.InsuredType = DayLaborer }, [2]ReasonCode{X1DayLaborer, X1DayLaborer}},
		{"voluntary ending: the dependent by the insured's date", func(m *Member) {
			m.InsuredType, m.ScheduledLossOn = Voluntary, r.ContinuationLossCutoff
		}, func(m *Member) { m.InsuredType = Voluntary }, [2]ReasonCode{X3ContinuationEnding, X3ContinuationEnding}},
		{"insured uses myna, dependent does not", func(m *Member) { m.MynumberOnFile, m.MynaLinkedOn = true, d(2024, 1, 1) }, func(*Member) {}, [2]ReasonCode{NMynaUsable, Target}},
		{"DV dependent", func(*Member) {}, func(m *Member) { m.DV = true }, [2]ReasonCode{Target, X4DV}},
		{"DV insured: the dependent is still a target", func(m *Member) { m.DV = true }, func(*Member) {}, [2]ReasonCode{X4DV, Target}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, dep := target("00"), target("01")
			dep.Relationship = Child
			tt.insured(&ins)
			tt.dep(&dep)
			h := Household{Members: []Member{ins, dep}}
			out := make([]ReasonCode, 2)
			r.Decide(&h, out)
			if [2]ReasonCode(out) != tt.want {
				t.Errorf("got %v, want %v", out, tt.want)
			}
		})
	}
}

func TestLossIndex(t *testing.T) {
	asOf := d(2025, 7, 11)
	k := func(num, bn string) MemberKey { return MemberKey{HouseholdKey{"46", "100", num}, bn} }
	idx := NewLossIndex(asOf, []Loss{
		{Key: k("1", "01"), LostOn: asOf},                  // a dependent, on the date
		{Key: k("2", "00"), LostOn: d(2025, 6, 1)},         // a whole household
		{Key: k("3", "00"), LostOn: asOf.AddDate(0, 0, 1)}, // after the loss data date: not yet
	})
	tests := []struct {
		key  MemberKey
		want bool
	}{
		{k("1", "01"), true},
		{k("1", "00"), false},
		{k("1", "02"), false},
		{k("2", "00"), true},
		{k("2", "03"), true},
		{k("3", "00"), false},
		{k("3", "01"), false},
		{k("4", "00"), false},
	}
	for _, tt := range tests {
		if got := idx.Removes(tt.key); got != tt.want {
			t.Errorf("Removes(%s) = %v, want %v", tt.key, got, tt.want)
		}
	}
	if idx.Len() != 2 {
		t.Errorf("Len = %d, want 2", idx.Len())
	}
}

func TestLossKeysInKeyOrder(t *testing.T) {
	k := func(br, num, bn string) MemberKey { return MemberKey{HouseholdKey{br, "100", num}, bn} }
	losses := []Loss{
		{Key: k("46", "20", "01")}, {Key: k("46", "3", "00")}, {Key: k("40", "1", "00")},
		{Key: k("46", "20", "00")}, {Key: k("46", "3", "00")}, // the same key twice
	}
	// Keys compare as text, as the stores sort them: "20" before "3".
	if got, want := fmt.Sprint(LossKeys(losses, "46")), "[46-100-20-00 46-100-20-01 46-100-3-00]"; got != want {
		t.Errorf("LossKeys = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(LossHouseholds(losses, "46")), "[46-100-20 46-100-3]"; got != want {
		t.Errorf("LossHouseholds = %s, want %s", got, want)
	}
	if len(LossKeys(losses, "01")) != 0 {
		t.Error("keys of a branch not in the file")
	}
}
