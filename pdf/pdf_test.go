package pdf

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"shikaku"
	"shikaku/settings"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func testFonts(t testing.TB) *Fonts {
	t.Helper()
	f, err := LoadFonts("", "")
	if err != nil {
		t.Fatalf("fonts (install fonts-ipaexfont fonts-ipamj-mincho): %v", err)
	}
	return f
}

func testCampaign(t testing.TB) *shikaku.Campaign {
	t.Helper()
	c, _, err := settings.Load("../settings/testdata/kagoshima.toml")
	if err != nil {
		t.Fatal(err)
	}
	c.Insurer.PostalCode = "8928540"
	c.Insurer.Address = "鹿児島県鹿児島市山之口町1-10 鹿児島中央ビル"
	return c
}

func key(sym, num, br string) shikaku.MemberKey {
	return shikaku.MemberKey{HouseholdKey: shikaku.HouseholdKey{Branch: "46", Symbol: sym, Number: num}, BranchNo: br}
}

// sampleMailing is a household of n cards; names[i] overrides names.
func sampleMailing(n int, names ...string) *shikaku.Mailing {
	m := &shikaku.Mailing{
		Envelope: shikaku.Envelope{
			ID: "E4600000001", Household: key("12345678", "1234", "00").HouseholdKey, Addressee: key("12345678", "1234", "00"),
			To: shikaku.MailAddress{PostalCode: "8900053", Address: "鹿児島県鹿児島市中央町19-40", Line2: "サンライズ中央 305号"},
			K:  1, N: 1, TrackingNumber: shikaku.NewTrackingNumber(5646600000), Wave: 1, SendOn: day(2025, 8, 8),
		},
		AddresseeName: "鹿児島 太郎",
		Language:      "ja",
	}
	defaults := []string{"鹿児島 太郎", "鹿児島 花子", "鹿児島 一郎", "鹿児島 桜"}
	kana := []string{"カゴシマ タロウ", "カゴシマ ハナコ", "カゴシマ イチロウ", "カゴシマ サクラ"}
	rel := []shikaku.Relationship{shikaku.Self, shikaku.Spouse, shikaku.Child, shikaku.Child}
	for i := range n {
		name := defaults[i%4]
		if i < len(names) {
			name = names[i]
		}
		br := []string{"00", "01", "02", "03"}[i%4]
		m.Cards = append(m.Cards, shikaku.Card{
			Certificate: shikaku.Certificate{ID: shikaku.CertificateID("46", int64(i+1)), Member: key("12345678", "1234", br),
				IssuedOn: day(2025, 8, 8), ValidUntil: day(2030, 12, 1)},
			Name: name, NameKana: kana[i%4], BirthDate: day(1975, 1, 2+i), Sex: 1 + i%2, Relationship: rel[i%4],
			AcquiredOn: day(2019, 5, 1), CopayRate: map[bool]int{true: 2}[i == 0],
		})
	}
	return m
}

// pdftotext extracts the text of a PDF (poppler-utils).
func pdftotext(t *testing.T, pdf []byte, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing: apt-get install poppler-utils")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", append(append([]string{}, args...), in, "-")...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
