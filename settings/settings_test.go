package settings

import (
	"os"
	"strings"
	"testing"
	"time"

	"shikaku/synth"
)

func TestLoadCampaignMD(t *testing.T) {
	// The example of campaign.md, as written there.
	c, text, err := Load("testdata/kagoshima.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.BranchCode != "46" || c.Mail.PerEnvelope != 4 || c.Mail.TrackingRanges[0].First != 5646600000 ||
		len(c.Waves) != 2 || !c.Dates.CardDecisionCutoff.Equal(time.Date(2024, 11, 29, 0, 0, 0, 0, time.UTC)) ||
		c.EnvelopeCostYen() != 320 || text == "" {
		t.Errorf("%+v", c)
	}
}

func TestGeneratedRoundTrip(t *testing.T) {
	want := synth.Kagoshima("46")
	got, err := Parse(synth.CampaignTOML(want))
	if err != nil {
		t.Fatal(err)
	}
	if got.Dates != want.Dates || got.Insurer != want.Insurer || got.Mail.TrackingRanges[0] != want.Mail.TrackingRanges[0] {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseRefuses(t *testing.T) {
	base, _ := os.ReadFile("testdata/kagoshima.toml")
	tests := []struct {
		name, old, new, want string
	}{
		{"missing date", "myna_reference_date      = 2025-04-30", "", "myna_reference_date が設定されていません"},
		{"range bound of 9 digits", `["5646600000", "5646699999"]`, `["564660000", "5646699999"]`, "10桁"},
		{"range bound of 11 digits", `["5646600000", "5646699999"]`, `["5646600000", "56466999990"]`, "10桁"},
		{"reversed range", `["5646600000", "5646699999"]`, `["5646699999", "5646600000"]`, "逆"},
		{"range of one bound", `["5646600000", "5646699999"]`, `["5646600000"]`, "2つの番号"},
		{"per_envelope 0", "per_envelope     = 4", "per_envelope     = 0", "per_envelope"},
		{"waves out of order", "send_on  = 2025-08-15", "send_on  = 2025-08-01", "送付日の順"},
		{"unknown key", "service          =", "servce          =", "知らない設定項目"},
		{"date as text", "data_as_of               = 2025-05-16", `data_as_of = "16/05/2025"`, "YYYY-MM-DD"},
		{"broken TOML", "[mail]", "[mail", "TOML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(string(base), tt.old, tt.new, 1)
			if text == string(base) {
				t.Fatal("the test did not change the file")
			}
			_, err := Parse(text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a message with %q", err, tt.want)
			}
		})
	}
}
