package synth

import (
	"fmt"
	"iter"
	"math/rand/v2"

	"shikaku"
)

// Mailings yields n synthetic envelopes as the print run reads them: in
// print order, households of 1–4 certificates, Kagoshima names and
// addresses, the waves of c. They measure and test printing without a
// database.
func Mailings(c *shikaku.Campaign, n int, seed uint64) iter.Seq2[*shikaku.Mailing, error] {
	return func(yield func(*shikaku.Mailing, error) bool) {
		rnd := rand.New(rand.NewPCG(seed, 0x5eed))
		tracking := c.Mail.TrackingRanges
		cert := int64(1)
		for i := range n {
			wave := 1 + i*len(c.Waves)/max(n, 1)
			t := towns[rnd.IntN(len(towns))]
			sn := surnames[rnd.IntN(len(surnames))]
			hh := shikaku.HouseholdKey{Branch: c.BranchCode, Symbol: fmt.Sprint(10000000 + i/50), Number: fmt.Sprint(1 + i%50)}
			tn, _ := tracking.Nth(uint64(i))
			m := &shikaku.Mailing{
				Envelope: shikaku.Envelope{
					ID: shikaku.EnvelopeID(c.BranchCode, int64(i+1)), Household: hh,
					Addressee: shikaku.MemberKey{HouseholdKey: hh, BranchNo: "00"},
					To: shikaku.MailAddress{PostalCode: t.postal,
						Address: fmt.Sprintf("鹿児島県%s%s%d丁目%d番%d号", t.city, t.town, 1+rnd.IntN(5), 1+rnd.IntN(30), 1+rnd.IntN(20))},
					K: 1, N: 1, Seq: int64(i + 1), TrackingNumber: tn,
					Wave: wave, SendOn: c.Waves[wave-1].SendOn,
				},
				Language: "ja",
			}
			if rnd.IntN(3) == 0 {
				m.To.Line2 = fmt.Sprintf("%s%s %d号", buildingNames[rnd.IntN(len(buildingNames))], buildings[rnd.IntN(len(buildings))], 101+rnd.IntN(500))
			}
			if rnd.IntN(100) == 0 {
				m.Language = languages[rnd.IntN(len(languages))]
			}
			size := 1 + rnd.IntN(4)
			for j := range size {
				sex := 1 + rnd.IntN(2)
				given := maleNames
				if sex == 2 {
					given = femaleNames
				}
				gn := given[rnd.IntN(len(given))]
				rel := shikaku.Self
				if j > 0 {
					rel = []shikaku.Relationship{shikaku.Spouse, shikaku.Child, shikaku.Child, shikaku.Parent}[j%4]
				}
				birth := c.Dates.DataAsOf.AddDate(-5-rnd.IntN(65), 0, -rnd.IntN(365))
				k := shikaku.Card{
					Certificate: shikaku.Certificate{ID: shikaku.CertificateID(c.BranchCode, cert),
						Member: shikaku.MemberKey{HouseholdKey: hh, BranchNo: fmt.Sprintf("%02d", j)}, IssuedOn: m.SendOn, ValidUntil: c.ValidUntil},
					Name: sn.kanji + "　" + gn.kanji, NameKana: sn.kana + "　" + gn.kana, BirthDate: birth, Sex: sex,
					Relationship: rel, AcquiredOn: birth.AddDate(rnd.IntN(5), 0, 0),
				}
				cert++
				if j == 0 {
					m.AddresseeName = k.Name
				}
				m.Cards = append(m.Cards, k)
			}
			if !yield(m, nil) {
				return
			}
		}
	}
}
