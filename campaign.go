package shikaku

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Campaign is one bulk issuance (一括発行) for one branch, with every date
// and figure the rules use. See campaign.md.
type Campaign struct {
	Name       string
	BranchCode string
	Insurer    Insurer
	Dates      Dates
	ValidUntil time.Time // 有効期限 of this campaign's certificates
	Mail       Mail
	Waves      []Wave
	Print      Print
}

// Print holds how the documents are printed.
type Print struct {
	GothicFont       string // IPAex Gothic TTF; "" = the standard Debian path
	MinchoFont       string // IPAmj Mincho TTF, for rare name characters; "" = standard path
	EnvelopesPerFile int    // cover sheets per spooled PDF file
	VendorEncoding   string // print-vendor CSV: "utf-8" or "sjis"
}

// DefaultEnvelopesPerFile is the spool file size when the settings name none.
const DefaultEnvelopesPerFile = 1000

// PerFile is how many cover sheets go into one spooled PDF file.
func (p Print) PerFile() int {
	if p.EnvelopesPerFile < 1 {
		return DefaultEnvelopesPerFile
	}
	return p.EnvelopesPerFile
}

// Insurer is the sender printed on every document.
type Insurer struct {
	Name       string // 保険者名称
	Number     string // 保険者番号, 8 digits
	Phone      string
	PostalCode string
	Address    string
}

// Dates are the campaign's schedule and rule dates.
type Dates struct {
	DataAsOf               time.Time
	ExtractedOn            time.Time
	CardDecisionCutoff     time.Time
	MynaReferenceDate      time.Time
	ContinuationLossCutoff time.Time
	LossDataAsOf           time.Time
	LossExtractedOn        time.Time
	EmployerListOn         time.Time
	CardLastValidOn        time.Time
}

// Mail holds how envelopes are sent.
type Mail struct {
	PerEnvelope    int
	Service        string
	PostageYen     int
	SpecialFeeYen  int
	ResendEvery    string
	TrackingRanges TrackingRanges
}

// Wave is one send (送付): a date and how many envelopes it takes (0: no limit).
type Wave struct {
	SendOn   time.Time
	Capacity int
}

// Rules are the dates the decision rules of rules.md §1 use.
func (c *Campaign) Rules() Rules {
	return Rules{
		DataAsOf:               c.Dates.DataAsOf,
		ExtractedOn:            c.Dates.ExtractedOn,
		CardDecisionCutoff:     c.Dates.CardDecisionCutoff,
		MynaReferenceDate:      c.Dates.MynaReferenceDate,
		ContinuationLossCutoff: c.Dates.ContinuationLossCutoff,
	}
}

// EnvelopeCostYen is what one envelope costs to send.
func (c *Campaign) EnvelopeCostYen() int { return c.Mail.PostageYen + c.Mail.SpecialFeeYen }

// Validate checks the settings and lists every problem it finds, in
// Japanese, so that an operator can fix the file in one go.
func (c *Campaign) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if strings.TrimSpace(c.Name) == "" {
		add("name（キャンペーン名）が設定されていません")
	}
	if !ValidBranchCode(c.BranchCode) {
		add("branch_code %q は 01〜47 の2桁の支部コードではありません", c.BranchCode)
	}
	if strings.TrimSpace(c.Insurer.Name) == "" {
		add("[insurer] name（保険者名称）が設定されていません")
	}
	if !digits(c.Insurer.Number, 8, 8) {
		add("[insurer] number（保険者番号）%q は8桁の数字ではありません", c.Insurer.Number)
	}
	dates := []struct {
		key string
		d   time.Time
	}{
		{"data_as_of", c.Dates.DataAsOf},
		{"extracted_on", c.Dates.ExtractedOn},
		{"card_decision_cutoff", c.Dates.CardDecisionCutoff},
		{"myna_reference_date", c.Dates.MynaReferenceDate},
		{"continuation_loss_cutoff", c.Dates.ContinuationLossCutoff},
		{"loss_data_as_of", c.Dates.LossDataAsOf},
		{"loss_extracted_on", c.Dates.LossExtractedOn},
		{"employer_list_on", c.Dates.EmployerListOn},
		{"card_last_valid_on", c.Dates.CardLastValidOn},
	}
	for _, d := range dates {
		if d.d.IsZero() {
			add("[dates] %s が設定されていません（例: %s = 2025-05-16）", d.key, d.key)
		}
	}
	if !c.Dates.DataAsOf.IsZero() && !c.Dates.ExtractedOn.IsZero() && c.Dates.ExtractedOn.Before(c.Dates.DataAsOf) {
		add("[dates] extracted_on（%s）が data_as_of（%s）より前です", day(c.Dates.ExtractedOn), day(c.Dates.DataAsOf))
	}
	if !c.Dates.LossDataAsOf.IsZero() && !c.Dates.DataAsOf.IsZero() && c.Dates.LossDataAsOf.Before(c.Dates.DataAsOf) {
		add("[dates] loss_data_as_of（%s）が data_as_of（%s）より前です", day(c.Dates.LossDataAsOf), day(c.Dates.DataAsOf))
	}
	if c.ValidUntil.IsZero() {
		add("[certificate] valid_until（有効期限）が設定されていません")
	}
	if c.Mail.PerEnvelope < 1 {
		add("[mail] per_envelope は1以上にしてください（現在 %d）", c.Mail.PerEnvelope)
	}
	if c.Mail.PostageYen < 0 || c.Mail.SpecialFeeYen < 0 {
		add("[mail] postage_yen と special_fee_yen は0以上にしてください")
	}
	if len(c.Mail.TrackingRanges) == 0 {
		add("[mail] tracking_ranges（特定記録のお問い合わせ番号の範囲）が設定されていません")
	}
	for i, r := range c.Mail.TrackingRanges {
		if err := r.validate(); err != nil {
			add("[mail] tracking_ranges の %d 番目: %v", i+1, err)
		}
		for j := range i {
			if o := c.Mail.TrackingRanges[j]; r.First <= o.Last && o.First <= r.Last && r.valid() && o.valid() {
				add("[mail] tracking_ranges の %d 番目と %d 番目が重なっています", j+1, i+1)
			}
		}
	}
	switch c.Print.VendorEncoding {
	case "", "utf-8", "sjis":
	default:
		add("[print] vendor_encoding %q は \"utf-8\" か \"sjis\" にしてください", c.Print.VendorEncoding)
	}
	if len(c.Waves) == 0 {
		add("[[waves]]（送付日）が1つもありません")
	}
	for i, w := range c.Waves {
		if w.SendOn.IsZero() {
			add("%d 番目の [[waves]] に send_on がありません", i+1)
		}
		if w.Capacity < 0 {
			add("%d 番目の [[waves]] の capacity が負の数です（0 は上限なし）", i+1)
		}
		if i > 0 && !w.SendOn.IsZero() && !c.Waves[i-1].SendOn.IsZero() && !w.SendOn.After(c.Waves[i-1].SendOn) {
			add("[[waves]] は送付日の順に並べてください: %d 番目（%s）が %d 番目（%s）より後ではありません",
				i+1, day(w.SendOn), i, day(c.Waves[i-1].SendOn))
		}
	}
	if len(problems) > 0 {
		return &SettingsError{Problems: problems}
	}
	return nil
}

// SettingsError lists everything wrong with a campaign file.
type SettingsError struct {
	Problems []string
}

func (e *SettingsError) Error() string {
	return "キャンペーン設定に誤りがあります:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// ValidBranchCode reports whether s is a prefecture code 01–47.
func ValidBranchCode(s string) bool {
	if !digits(s, 2, 2) {
		return false
	}
	n := int(s[0]-'0')*10 + int(s[1]-'0')
	return n >= 1 && n <= 47
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// ErrNotFound is returned by stores when a looked-up thing does not exist.
var ErrNotFound = errors.New("見つかりません")
