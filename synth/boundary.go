package synth

import (
	"time"

	"shikaku"
)

// target makes a household whose members are all targets, to be bent
// into one boundary case.
func (g *gen) target(typ shikaku.InsuredType, size int) []shikaku.Member {
	var h []shikaku.Member
	for len(h) != size {
		h = g.randomHousehold(size)
		if len(h) != size {
			// randomHousehold draws its own size; grow or trim it.
			for len(h) < size {
				m := h[len(h)-1]
				m.Key.BranchNo = twoDigits(len(h))
				m.Relationship = shikaku.Child
				h = append(h, m)
			}
			h = h[:size]
		}
	}
	if h[0].InsuredType != typ {
		g.rekey(h, typ)
	}
	d := g.c.Dates
	for i := range h {
		m := &h[i]
		m.InsuredType = typ
		m.LostOn = time.Time{}
		m.AcquiredOn = d.CardDecisionCutoff.AddDate(-1, 0, 0)
		if m.AcquiredOn.Before(m.BirthDate) {
			m.BirthDate = m.AcquiredOn.AddDate(0, 0, -1)
		}
		m.DecidedOn = m.AcquiredOn.AddDate(0, 0, 10)
		m.MynumberOnFile = false
		m.MynaLinkedOn, m.EcertExpiresOn, m.CertificateIssuedOn = time.Time{}, time.Time{}, time.Time{}
		m.DV = false
	}
	h[0].ScheduledLossOn = time.Time{}
	if typ == shikaku.Voluntary {
		h[0].ScheduledLossOn = d.ContinuationLossCutoff.AddDate(1, 0, 0)
	}
	return h
}

// rekey moves a household to the key space of another insured type.
func (g *gen) rekey(h []shikaku.Member, typ shikaku.InsuredType) {
	var ins shikaku.Member
	g.key(&ins, typ)
	for i := range h {
		h[i].Key.HouseholdKey = ins.Key.HouseholdKey
		h[i].EmployerCode = ""
	}
	h[0].EmployerCode = ins.EmployerCode
}

func twoDigits(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

// boundaryHouseholds are the edge cases of rules.md, each on the date
// itself and the day after, so that every run exercises them.
func (g *gen) boundaryHouseholds() [][]shikaku.Member {
	d := g.c.Dates
	day := func(t time.Time, n int) time.Time { return t.AddDate(0, 0, n) }
	one := func(typ shikaku.InsuredType, bend func(*shikaku.Member)) []shikaku.Member {
		h := g.target(typ, 1)
		bend(&h[0])
		return h
	}
	var out [][]shikaku.Member
	add := func(h []shikaku.Member) { out = append(out, h) }

	// §1 check 1: lost on the data date is inactive; the day after is not.
	add(one(shikaku.General, func(m *shikaku.Member) { m.LostOn = d.DataAsOf }))
	add(one(shikaku.General, func(m *shikaku.Member) { m.LostOn = day(d.DataAsOf, 1) }))
	// Insured person inactive: the dependents are too.
	h := g.target(shikaku.General, 3)
	h[0].LostOn = day(d.DataAsOf, -10)
	add(h)
	// Check 2: decided on the cutoff has a card; the day after has none; empty has none.
	add(one(shikaku.General, func(m *shikaku.Member) { m.DecidedOn = d.CardDecisionCutoff }))
	add(one(shikaku.General, func(m *shikaku.Member) {
		m.AcquiredOn = d.CardDecisionCutoff
		m.DecidedOn = day(d.CardDecisionCutoff, 1)
	}))
	add(one(shikaku.General, func(m *shikaku.Member) { m.DecidedOn = time.Time{} }))
	// Check 3: linked on the reference date is usable; the day after is not.
	myna := func(linked, ecert time.Time, onFile bool) func(*shikaku.Member) {
		return func(m *shikaku.Member) { m.MynumberOnFile, m.MynaLinkedOn, m.EcertExpiresOn = onFile, linked, ecert }
	}
	add(one(shikaku.General, myna(d.MynaReferenceDate, time.Time{}, true)))
	add(one(shikaku.General, myna(day(d.MynaReferenceDate, 1), time.Time{}, true)))
	// An e-certificate expiring on the reference day is still valid; the day before is not.
	add(one(shikaku.General, myna(day(d.MynaReferenceDate, -100), d.MynaReferenceDate, true)))
	add(one(shikaku.General, myna(day(d.MynaReferenceDate, -100), day(d.MynaReferenceDate, -1), true)))
	// Linked but no number on file: cannot use it.
	add(one(shikaku.General, myna(day(d.MynaReferenceDate, -100), time.Time{}, false)))
	// Exclusion ①: day laborer and dependent.
	add(g.target(shikaku.DayLaborer, 2))
	// Exclusion ②: issued on the extraction date; the day after does not count.
	add(one(shikaku.General, func(m *shikaku.Member) { m.CertificateIssuedOn = d.ExtractedOn }))
	add(one(shikaku.General, func(m *shikaku.Member) { m.CertificateIssuedOn = day(d.ExtractedOn, 1) }))
	// Exclusion ③: voluntary ending on the cutoff (with a dependent); the day after is a target
	// whose card is valid until the day before the scheduled loss.
	h = g.target(shikaku.Voluntary, 2)
	h[0].ScheduledLossOn = d.ContinuationLossCutoff
	add(h)
	h = g.target(shikaku.Voluntary, 2)
	h[0].ScheduledLossOn = day(d.ContinuationLossCutoff, 1)
	add(h)
	// Exclusion ④: a DV-registered dependent, and a DV-registered insured
	// person whose dependents are targets (their envelope must not name them).
	h = g.target(shikaku.General, 3)
	h[1].DV = true
	add(h)
	h = g.target(shikaku.General, 2)
	h[0].DV = true
	add(h)
	// 有効期限: the 75th birthday within the campaign's validity, and a 29 February birthday.
	add(one(shikaku.General, func(m *shikaku.Member) {
		m.BirthDate = time.Date(1953, 3, 10, 0, 0, 0, 0, time.UTC)
		m.CopayRate = 3
	}))
	add(one(shikaku.General, func(m *shikaku.Member) { m.BirthDate = time.Date(1952, 2, 29, 0, 0, 0, 0, time.UTC) }))
	// The insured person is not a target but the dependents are: mail
	// still goes to and is addressed to the insured person.
	h = g.target(shikaku.General, 3)
	h[0].MynumberOnFile, h[0].MynaLinkedOn = true, day(d.MynaReferenceDate, -50)
	add(h)
	// Ten members: envelopes 1/3, 2/3, 3/3 with 4, 4 and 2 certificates;
	// nine and five for the other splits.
	add(g.target(shikaku.General, 10))
	add(g.target(shikaku.General, 9))
	add(g.target(shikaku.General, 5))
	add(g.target(shikaku.General, 4))
	return out
}
