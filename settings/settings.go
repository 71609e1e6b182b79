// Package settings reads a campaign file (campaign.md) from TOML into a
// shikaku.Campaign and validates it.
package settings

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"shikaku"
)

// file mirrors the TOML layout of campaign.md.
type file struct {
	Name       string `toml:"name"`
	BranchCode string `toml:"branch_code"`
	Insurer    struct {
		Name       string `toml:"name"`
		Number     string `toml:"number"`
		Phone      string `toml:"phone"`
		PostalCode string `toml:"postal_code"`
		Address    string `toml:"address"`
	} `toml:"insurer"`
	Dates struct {
		DataAsOf               date `toml:"data_as_of"`
		ExtractedOn            date `toml:"extracted_on"`
		CardDecisionCutoff     date `toml:"card_decision_cutoff"`
		MynaReferenceDate      date `toml:"myna_reference_date"`
		ContinuationLossCutoff date `toml:"continuation_loss_cutoff"`
		LossDataAsOf           date `toml:"loss_data_as_of"`
		LossExtractedOn        date `toml:"loss_extracted_on"`
		EmployerListOn         date `toml:"employer_list_on"`
		CardLastValidOn        date `toml:"card_last_valid_on"`
	} `toml:"dates"`
	Certificate struct {
		ValidUntil date `toml:"valid_until"`
	} `toml:"certificate"`
	Mail struct {
		PerEnvelope    int        `toml:"per_envelope"`
		Service        string     `toml:"service"`
		PostageYen     int        `toml:"postage_yen"`
		SpecialFeeYen  int        `toml:"special_fee_yen"`
		ResendEvery    string     `toml:"resend_every"`
		TrackingRanges [][]string `toml:"tracking_ranges"`
	} `toml:"mail"`
	Print struct {
		GothicFont       string `toml:"gothic_font"`
		MinchoFont       string `toml:"mincho_font"`
		EnvelopesPerFile int    `toml:"envelopes_per_file"`
		VendorEncoding   string `toml:"vendor_encoding"`
	} `toml:"print"`
	Waves []struct {
		SendOn   date `toml:"send_on"`
		Capacity int  `toml:"capacity"`
	} `toml:"waves"`
}

// date accepts a TOML local date (2025-05-16) or the same as a string.
// Settings take only this one unambiguous form.
type date struct{ time.Time }

func (d *date) UnmarshalTOML(v any) error {
	switch t := v.(type) {
	case time.Time:
		d.Time = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return nil
	case string:
		p, err := time.Parse(time.DateOnly, t)
		if err != nil {
			return fmt.Errorf("日付 %q は YYYY-MM-DD で書いてください", t)
		}
		d.Time = p
		return nil
	}
	return fmt.Errorf("日付は YYYY-MM-DD で書いてください（値: %v）", v)
}

// Load reads and validates a campaign file. It also returns the text, to
// be stored with the campaign.
func Load(path string) (*shikaku.Campaign, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("キャンペーン設定ファイル %s を読めません: %w", path, err)
	}
	c, err := Parse(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return c, string(b), nil
}

// Parse reads and validates campaign settings from TOML text.
func Parse(text string) (*shikaku.Campaign, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("TOML として読めません（%d行目）: %s", pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("設定を読めません: %w", err)
	}
	var problems []string
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			keys = append(keys, k.String())
		}
		problems = append(problems, "知らない設定項目です: "+strings.Join(keys, ", "))
	}
	c := &shikaku.Campaign{
		Name:       f.Name,
		BranchCode: f.BranchCode,
		Insurer: shikaku.Insurer{
			Name: f.Insurer.Name, Number: f.Insurer.Number, Phone: f.Insurer.Phone,
			PostalCode: strings.ReplaceAll(f.Insurer.PostalCode, "-", ""), Address: f.Insurer.Address,
		},
		Dates: shikaku.Dates{
			DataAsOf:               f.Dates.DataAsOf.Time,
			ExtractedOn:            f.Dates.ExtractedOn.Time,
			CardDecisionCutoff:     f.Dates.CardDecisionCutoff.Time,
			MynaReferenceDate:      f.Dates.MynaReferenceDate.Time,
			ContinuationLossCutoff: f.Dates.ContinuationLossCutoff.Time,
			LossDataAsOf:           f.Dates.LossDataAsOf.Time,
			LossExtractedOn:        f.Dates.LossExtractedOn.Time,
			EmployerListOn:         f.Dates.EmployerListOn.Time,
			CardLastValidOn:        f.Dates.CardLastValidOn.Time,
		},
		ValidUntil: f.Certificate.ValidUntil.Time,
		Mail: shikaku.Mail{
			PerEnvelope: f.Mail.PerEnvelope, Service: f.Mail.Service,
			PostageYen: f.Mail.PostageYen, SpecialFeeYen: f.Mail.SpecialFeeYen, ResendEvery: f.Mail.ResendEvery,
		},
	}
	c.Print = shikaku.Print{GothicFont: f.Print.GothicFont, MinchoFont: f.Print.MinchoFont,
		EnvelopesPerFile: f.Print.EnvelopesPerFile, VendorEncoding: f.Print.VendorEncoding}
	if md.IsDefined("print", "envelopes_per_file") && c.Print.EnvelopesPerFile < 1 {
		problems = append(problems, fmt.Sprintf("[print] envelopes_per_file は1以上にしてください（省略時 %d）", shikaku.DefaultEnvelopesPerFile))
	}
	if !md.IsDefined("mail", "per_envelope") {
		c.Mail.PerEnvelope = 4
	}
	for i, r := range f.Mail.TrackingRanges {
		if len(r) != 2 {
			problems = append(problems, fmt.Sprintf("[mail] tracking_ranges の %d 番目は [\"始め\", \"終わり\"] の2つの番号にしてください", i+1))
			continue
		}
		first, err1 := shikaku.ParseTrackingBody(r[0])
		last, err2 := shikaku.ParseTrackingBody(r[1])
		if err := errors.Join(err1, err2); err != nil {
			problems = append(problems, fmt.Sprintf("[mail] tracking_ranges の %d 番目: 番号は10桁（チェックデジットを除く）で書いてください: %v", i+1, strings.ReplaceAll(err.Error(), "\n", "; ")))
			continue
		}
		c.Mail.TrackingRanges = append(c.Mail.TrackingRanges, shikaku.TrackingRange{First: first, Last: last})
	}
	for _, w := range f.Waves {
		c.Waves = append(c.Waves, shikaku.Wave{SendOn: w.SendOn.Time, Capacity: w.Capacity})
	}
	err = c.Validate()
	var se *shikaku.SettingsError
	if errors.As(err, &se) {
		problems = append(problems, se.Problems...)
	} else if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &shikaku.SettingsError{Problems: problems}
	}
	return c, nil
}
