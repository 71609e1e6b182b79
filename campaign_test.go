package shikaku

import (
	"strings"
	"testing"
	"time"
)

func TestCampaignValidate(t *testing.T) {
	if err := testCampaign().Validate(); err != nil {
		t.Fatalf("valid campaign refused: %v", err)
	}
	tests := []struct {
		name string
		bend func(c *Campaign)
		want string
	}{
		{"missing date", func(c *Campaign) { c.Dates.MynaReferenceDate = time.Time{} }, "myna_reference_date"},
		{"bad branch", func(c *Campaign) { c.BranchCode = "48" }, "branch_code"},
		{"reversed range", func(c *Campaign) { c.Mail.TrackingRanges = TrackingRanges{{First: 5646699999, Last: 5646600000}} }, "逆"},
		{"range over 10 digits", func(c *Campaign) { c.Mail.TrackingRanges = TrackingRanges{{First: 1, Last: 10000000000}} }, "10桁"},
		{"overlapping ranges", func(c *Campaign) {
			c.Mail.TrackingRanges = TrackingRanges{{First: 100, Last: 200}, {First: 150, Last: 300}}
		}, "重なって"},
		{"no ranges", func(c *Campaign) { c.Mail.TrackingRanges = nil }, "tracking_ranges"},
		{"per_envelope 0", func(c *Campaign) { c.Mail.PerEnvelope = 0 }, "per_envelope"},
		{"waves out of order", func(c *Campaign) { c.Waves[1].SendOn = c.Waves[0].SendOn.AddDate(0, 0, -1) }, "送付日の順"},
		{"same wave date twice", func(c *Campaign) { c.Waves[1].SendOn = c.Waves[0].SendOn }, "送付日の順"},
		{"no waves", func(c *Campaign) { c.Waves = nil }, "waves"},
		{"negative capacity", func(c *Campaign) { c.Waves[0].Capacity = -1 }, "capacity"},
		{"no valid_until", func(c *Campaign) { c.ValidUntil = time.Time{} }, "valid_until"},
	}
	for _, tt := range tests {
		c := testCampaign()
		tt.bend(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want a message with %q", tt.name, err, tt.want)
		}
	}
	// Every problem is listed at once.
	c := testCampaign()
	c.Mail.PerEnvelope = 0
	c.Dates.DataAsOf = time.Time{}
	if err := c.Validate(); err == nil || len(err.(*SettingsError).Problems) != 2 {
		t.Errorf("want two problems, got %v", err)
	}
}

func TestParseMemberKey(t *testing.T) {
	k, err := ParseMemberKey("46-12345678-1234-01")
	if err != nil || k.String() != "46-12345678-1234-01" || k.Insured() {
		t.Errorf("%v %v", k, err)
	}
	for _, bad := range []string{"46-1-2", "4-1-2-00", "46-123456789-1-00", "46-a-1-00", "46-1-1-0"} {
		if _, err := ParseMemberKey(bad); err == nil {
			t.Errorf("ParseMemberKey(%q) accepted", bad)
		}
	}
}
