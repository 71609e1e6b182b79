package synth

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"shikaku"
	"shikaku/csvin"
	"shikaku/wareki"
)

// writeRow writes one CSV record (values never need quoting except where
// quoted explicitly by field()).
func (g *gen) writeRow(fields []string) {
	for i, f := range fields {
		if i > 0 {
			g.members.WriteByte(',')
		}
		g.members.WriteString(f)
	}
	g.members.WriteString("\r\n")
}

// writeMember writes a member row. A few dates are written in the 和暦
// forms core systems export, so that every run exercises the parser.
func (g *gen) writeMember(m *shikaku.Member) {
	b := g.rec[:0]
	str := func(s string) { b = append(b, s...); b = append(b, ',') }
	date := func(t time.Time) {
		if !t.IsZero() {
			switch g.rnd.IntN(50) {
			case 0:
				b = append(b, wareki.Japanese(t)...)
			case 1:
				b = append(b, wareki.Short(t)...)
			default:
				b = t.AppendFormat(b, time.DateOnly)
			}
		}
		b = append(b, ',')
	}
	flag := func(v bool) {
		if v {
			str("1")
		} else {
			str("0")
		}
	}
	str(m.Key.Branch)
	str(m.Key.Symbol)
	str(m.Key.Number)
	str(m.Key.BranchNo)
	str(string(m.Relationship))
	str(string(m.InsuredType))
	str(m.Name)
	str(m.NameKana)
	date(m.BirthDate)
	str(strconv.Itoa(m.Sex))
	date(m.AcquiredOn)
	date(m.DecidedOn)
	date(m.LostOn)
	date(m.ScheduledLossOn)
	str(m.EmployerCode)
	str(m.PostalCode)
	str(m.Address)
	str(m.AddressLine2)
	flag(m.MynumberOnFile)
	date(m.MynaLinkedOn)
	date(m.EcertExpiresOn)
	flag(m.DV)
	date(m.CertificateIssuedOn)
	if m.CopayRate != 0 {
		str(strconv.Itoa(m.CopayRate))
	} else {
		str("")
	}
	b = append(b, m.Language...)
	b = append(b, '\r', '\n')
	g.members.Write(b)
	g.rec = b
}

func (g *gen) writeEmployers(path string) error {
	return writeCSV(path, csvin.EmployerHeader(), func(w *csv.Writer) error {
		for _, e := range g.emps {
			if err := w.Write([]string{e.Code, e.Name, e.PostalCode, e.Address, e.AddressLine2, e.Contact, wareki.Format(e.ClosedOn)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeLosses writes the loss data: the losses drawn while generating,
// the boundary on the loss data date, and keys that are no member.
func (g *gen) writeLosses(path string) error {
	d := g.c.Dates
	// Keys no member has: reported by the cross-match, never dropped.
	for i := range 3 + len(g.losses)/200 {
		g.losses = append(g.losses, shikaku.Loss{
			Key:    shikaku.MemberKey{HouseholdKey: shikaku.HouseholdKey{Branch: g.opt.Branch, Symbol: "99999999", Number: strconv.Itoa(i + 1)}, BranchNo: "00"},
			LostOn: d.LossDataAsOf, Reason: "退職",
		})
	}
	g.rnd.Shuffle(len(g.losses), func(i, j int) { g.losses[i], g.losses[j] = g.losses[j], g.losses[i] })
	g.stats.Losses = len(g.losses)
	return writeCSV(path, csvin.LossHeader(), func(w *csv.Writer) error {
		for _, l := range g.losses {
			if err := w.Write([]string{l.Key.Branch, l.Key.Symbol, l.Key.Number, l.Key.BranchNo, wareki.Format(l.LostOn), l.Reason}); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeCSV(path string, header []string, rows func(*csv.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	w := csv.NewWriter(bw)
	w.UseCRLF = true
	if err := w.Write(header); err != nil {
		return err
	}
	if err := rows(w); err != nil {
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// CampaignTOML writes campaign settings in the layout of campaign.md.
func CampaignTOML(c *shikaku.Campaign) string {
	d := func(t time.Time) string { return t.Format(time.DateOnly) }
	var b strings.Builder
	fmt.Fprintf(&b, "name        = %q\nbranch_code = %q\n\n", c.Name, c.BranchCode)
	fmt.Fprintf(&b, "[insurer]\nname        = %q\nnumber      = %q\nphone       = %q\npostal_code = %q\naddress     = %q\n\n",
		c.Insurer.Name, c.Insurer.Number, c.Insurer.Phone, c.Insurer.PostalCode, c.Insurer.Address)
	x := c.Dates
	fmt.Fprintf(&b, "[dates]\ndata_as_of               = %s\nextracted_on             = %s\ncard_decision_cutoff     = %s\n"+
		"myna_reference_date      = %s\ncontinuation_loss_cutoff = %s\nloss_data_as_of          = %s\nloss_extracted_on        = %s\n"+
		"employer_list_on         = %s\ncard_last_valid_on       = %s\n\n",
		d(x.DataAsOf), d(x.ExtractedOn), d(x.CardDecisionCutoff), d(x.MynaReferenceDate), d(x.ContinuationLossCutoff),
		d(x.LossDataAsOf), d(x.LossExtractedOn), d(x.EmployerListOn), d(x.CardLastValidOn))
	fmt.Fprintf(&b, "[certificate]\nvalid_until = %s\n\n", d(c.ValidUntil))
	m := c.Mail
	fmt.Fprintf(&b, "[mail]\nper_envelope    = %d\nservice         = %q\npostage_yen     = %d\nspecial_fee_yen = %d\nresend_every    = %q\ntracking_ranges = [",
		m.PerEnvelope, m.Service, m.PostageYen, m.SpecialFeeYen, m.ResendEvery)
	for i, r := range m.TrackingRanges {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[\"%010d\", \"%010d\"]", r.First, r.Last)
	}
	b.WriteString("]\n")
	for _, w := range c.Waves {
		fmt.Fprintf(&b, "\n[[waves]]\nsend_on  = %s\ncapacity = %d\n", d(w.SendOn), w.Capacity)
	}
	return b.String()
}
