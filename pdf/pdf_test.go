package pdf

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"shikaku"
	"shikaku/settings"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// testFonts loads the standard fonts. Without them (and poppler-utils)
// the PDF tests skip locally, with the command that installs them; in CI
// (CI set) they must run.
func testFonts(t testing.TB) *Fonts {
	t.Helper()
	f, err := LoadFonts("", "")
	if err == nil {
		_, err = exec.LookPath("pdftotext")
	}
	if err != nil {
		msg := fmt.Sprintf("PDF tests need fonts and poppler (apt-get install fonts-ipaexfont fonts-ipamj-mincho poppler-utils; bash .ci/run does): %v", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return f
}

func TestMissingFontIsExplained(t *testing.T) {
	_, err := LoadFonts("/nonexistent/ipaexg.ttf", "")
	if !errors.Is(err, ErrFontMissing) || !strings.Contains(err.Error(), "/nonexistent/ipaexg.ttf") {
		t.Errorf("configured missing font: %v", err)
	}
	_, err = FindFont("", []string{"/nonexistent/a.ttf"}, "fonts-ipaexfont")
	if !errors.Is(err, ErrFontMissing) || !strings.Contains(err.Error(), "apt-get install fonts-ipaexfont") {
		t.Errorf("standard font missing: %v", err)
	}
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

var update = flag.Bool("update", false, "rewrite the golden text files in testdata")

// validate checks a PDF with pdfcpu in its default (relaxed) mode. The
// strict mode demands /FontFamily in every font descriptor, which ISO
// 32000 makes optional (and only for Type 3 fonts); gopdf omits it.
func validate(t *testing.T, name string, pdf []byte) {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	if err := api.Validate(bytes.NewReader(pdf), conf); err != nil {
		t.Errorf("%s is not a valid PDF: %v", name, err)
	}
}

// golden compares text with testdata/NAME (rewritten with -update).
func golden(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./pdf -update to create)", err)
	}
	if string(want) != text {
		t.Errorf("text of %s differs from the golden file (go test ./pdf -update to accept):\n%s", name, text)
	}
}

// pageImage renders page 1 of pdf at dpi (pdftoppm, poppler-utils).
func pageImage(t *testing.T, pdf []byte, dpi int) image.Image {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdf, 0o644)
	if out, err := exec.Command("pdftoppm", "-png", "-r", fmt.Sprint(dpi), "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// decodeBarcode reads the Code128 inside the box (mm) of a page image,
// with a margin of quiet zone around it.
func decodeBarcode(t *testing.T, img image.Image, dpi int, x, y, w, h float64) string {
	t.Helper()
	px := func(mm float64) int { return int(mm / 25.4 * float64(dpi)) }
	r := image.Rect(px(x-4), px(y-1), px(x+w+4), px(y+h+1))
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r)
	bmp, err := gozxing.NewBinaryBitmapFromImage(sub)
	if err != nil {
		t.Fatal(err)
	}
	res, err := oned.NewCode128Reader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("no barcode at (%.0f, %.0f) mm: %v", x, y, err)
	}
	return res.GetText()
}

func TestCoverSheet(t *testing.T) {
	f, c := testFonts(t), testCampaign(t)
	m := sampleMailing(4)
	b, problems, err := f.CoverSheets(c, []*shikaku.Mailing{m})
	if err != nil || problems != nil {
		t.Fatal(err, problems)
	}
	validate(t, "cover sheet", b)
	golden(t, "cover_sheet.txt", pdftotext(t, b, "-layout"))

	// Every barcode decodes back to its ID: the envelope's on the sheet,
	// each certificate's on its card.
	const dpi = 300
	img := pageImage(t, b, dpi)
	e := EnvelopeBarcodeBox
	if got := decodeBarcode(t, img, dpi, e[0], e[1], e[2], e[3]); got != m.ID {
		t.Errorf("envelope barcode reads %q, want %q", got, m.ID)
	}
	for i, card := range m.Cards {
		x, y := CardOrigin(i)
		cb := CardBarcodeBox
		if got := decodeBarcode(t, img, dpi, x+cb[0], y+cb[1], cb[2], cb[3]); got != card.ID {
			t.Errorf("card %d barcode reads %q, want %q", i+1, got, card.ID)
		}
	}
}

func TestCoverSheetSizes(t *testing.T) {
	f, c := testFonts(t), testCampaign(t)
	var ms []*shikaku.Mailing
	for n := 1; n <= 4; n++ {
		ms = append(ms, sampleMailing(n))
	}
	b, problems, err := f.CoverSheets(c, ms)
	if err != nil || problems != nil {
		t.Fatal(err, problems)
	}
	validate(t, "cover sheets", b)
	pages := strings.Split(pdftotext(t, b), "\f")
	for i, p := range pages[:4] {
		if got := strings.Count(p, "資格確認書番号 C46"); got != i+1 {
			t.Errorf("page %d lists %d certificates, want %d", i+1, got, i+1)
		}
		if got := strings.Count(p, "保険者番号"); got != i+1 {
			t.Errorf("page %d mounts %d cards, want %d", i+1, got, i+1)
		}
	}
	if strings.Contains(pages[0], "一部負担金の割合") == false {
		t.Error("the copay rate set on card 1 is not printed")
	}
}

// A name with a character beyond the BMP that only IPAmj has: it is
// drawn from IPAmj and must come out right in the text layer.
func TestRareKanjiInTextLayer(t *testing.T) {
	f, c := testFonts(t), testCampaign(t)
	m := sampleMailing(2, "𠮷田 太郎", "髙橋 德子")
	m.AddresseeName = "𠮷田 太郎"
	b, problems, err := f.CoverSheets(c, []*shikaku.Mailing{m})
	if err != nil {
		t.Fatal(err)
	}
	if problems != nil {
		t.Fatalf("𠮷 should be drawable from IPAmj: %v", problems)
	}
	validate(t, "cover sheet with 𠮷", b)
	text := pdftotext(t, b)
	for _, want := range []string{"𠮷田 太郎 様", "髙橋 德子"} {
		if !strings.Contains(text, want) {
			t.Errorf("text layer lacks %q:\n%s", want, text)
		}
	}
}

// A character no font has stops the document and names the member.
func TestUndrawableNameStops(t *testing.T) {
	f, c := testFonts(t), testCampaign(t)
	m := sampleMailing(2, "鹿児島 太郎", "\U0010FFFD子")
	b, problems, err := f.CoverSheets(c, []*shikaku.Mailing{m})
	if err != nil {
		t.Fatal(err)
	}
	if b != nil || len(problems) != 1 {
		t.Fatalf("got %d bytes and problems %v, want no PDF and one problem", len(b), problems)
	}
	p := problems[0]
	if p.Who != "46-12345678-1234-01" || p.Field != "氏名" || len(p.Chars) != 1 || p.Chars[0] != 0x10FFFD {
		t.Errorf("problem = %+v", p)
	}
	if msg := NewGlyphError(problems).Error(); !strings.Contains(msg, "46-12345678-1234-01") || !strings.Contains(msg, "U+10FFFD") {
		t.Errorf("message does not name the member and the character: %s", msg)
	}
}

func employerLines(n int) []shikaku.EmployerLine {
	var ls []shikaku.EmployerLine
	for i := range n {
		k := key("12345678", fmt.Sprint(1+i/3), fmt.Sprintf("%02d", i%3))
		ls = append(ls, shikaku.EmployerLine{EmployerCode: "10100001", Member: k, Name: "鹿児島 太郎", NameKana: "カゴシマ タロウ",
			Relationship: []shikaku.Relationship{shikaku.Self, shikaku.Spouse, shikaku.Child}[i%3], SendOn: day(2025, 8, 8+7*(i%2))})
	}
	return ls
}

var testEmployer = shikaku.Employer{Code: "10100001", Name: "株式会社桜島建設", PostalCode: "8920844", Address: "鹿児島県鹿児島市山之口町1-10", Contact: "総務課 山田"}

func TestEmployerList(t *testing.T) {
	f, c := testFonts(t), testCampaign(t)
	first, next := rowsPerPage()
	n := first + next + 3 // three pages
	b, problems, err := f.EmployerListPDF(c, &EmployerList{Employer: testEmployer, Lines: employerLines(n)})
	if err != nil || problems != nil {
		t.Fatal(err, problems)
	}
	validate(t, "employer list", b)
	text := pdftotext(t, b, "-layout")
	golden(t, "employer_list.txt", text)
	for _, want := range []string{"株式会社桜島建設", "総務課 山田 様", "資格確認書 送付対象者一覧表", "令和7年7月31日",
		"1 / 3 ページ", "3 / 3 ページ", fmt.Sprintf("合計 %d 名（%d 世帯）", n, (n+2)/3)} {
		if !strings.Contains(text, want) {
			t.Errorf("employer list lacks %q", want)
		}
	}
	if pages := strings.Count(text, "\f"); pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	// Without a contact the list is addressed to the office.
	e := testEmployer
	e.Contact = ""
	b, _, _ = f.EmployerListPDF(c, &EmployerList{Employer: e, Lines: employerLines(2)})
	if text := pdftotext(t, b); !strings.Contains(text, "株式会社桜島建設 御中") {
		t.Errorf("no 御中:\n%s", text)
	}
}

func TestResendLetter(t *testing.T) {
	f, c := testFonts(t), testCampaign(t)
	l := &ResendLetter{Employer: testEmployer, On: day(2025, 9, 16), EnvelopeID: "E4600001001",
		TrackingNumber: shikaku.NewTrackingNumber(5646601000)}
	for i, ln := range employerLines(5) {
		l.Persons = append(l.Persons, ResendPerson{OriginalEnvelopeID: fmt.Sprintf("E46000000%02d", 1+i/3), Member: ln.Member, Name: ln.Name, Relationship: ln.Relationship})
	}
	b, problems, err := f.ResendLetterPDF(c, l)
	if err != nil || problems != nil {
		t.Fatal(err, problems)
	}
	validate(t, "resend letter", b)
	text := pdftotext(t, b, "-layout")
	golden(t, "resend_letter.txt", text)
	for _, want := range []string{"資格確認書の送付について（お願い）", "令和7年9月16日", "同封の封筒 2 通・資格確認書 5 枚", "564-66-01000-", "E4600000002"} {
		if !strings.Contains(text, want) {
			t.Errorf("letter lacks %q", want)
		}
	}
}

func TestKinsoku(t *testing.T) {
	got := kinsoku([]string{"お願いいたします", "。次の文", "」。と"})
	want := []string{"お願いいたします。", "次の文」。", "と"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("kinsoku = %q, want %q", got, want)
	}
}

func TestSpool(t *testing.T) {
	f, c := testFonts(t), testCampaign(t)
	var ms []*shikaku.Mailing
	for i := range 25 {
		m := sampleMailing(1 + i%4)
		m.ID = shikaku.EnvelopeID("46", int64(i+1))
		m.Wave = 1
		if i >= 12 {
			m.Wave, m.SendOn = 2, day(2025, 8, 15)
		}
		ms = append(ms, m)
	}
	seq := func(yield func(*shikaku.Mailing, error) bool) {
		for _, m := range ms {
			if !yield(m, nil) {
				return
			}
		}
	}
	dir := t.TempDir()
	var order []string
	res, err := f.Spool(context.Background(), c, seq, dir, 5, func(m *shikaku.Mailing, file string, page int) error {
		order = append(order, fmt.Sprintf("%s:%s:%d", m.ID, file, page))
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sf := range res.Files {
		names = append(names, fmt.Sprintf("%s=%d", sf.Name, sf.Envelopes))
		b, err := os.ReadFile(filepath.Join(dir, sf.Name))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(pdftotext(t, b), "\f"); got != sf.Envelopes {
			t.Errorf("%s has %d pages, want %d", sf.Name, got, sf.Envelopes)
		}
		if sf.Bytes != int64(len(b)) {
			t.Errorf("%s: size %d reported, %d on disk", sf.Name, sf.Bytes, len(b))
		}
	}
	// Files never mix waves and hold at most 5 envelopes.
	want := "wave1-0001.pdf=5 wave1-0002.pdf=5 wave1-0003.pdf=2 wave2-0001.pdf=5 wave2-0002.pdf=5 wave2-0003.pdf=3"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("files %s, want %s", got, want)
	}
	if res.Pages != 25 || len(order) != 25 || order[0] != "E4600000001:wave1-0001.pdf:1" || order[12] != "E4600000013:wave2-0001.pdf:1" {
		t.Errorf("pages %d, placed %v", res.Pages, order)
	}

	// An undrawable name anywhere stops the run, after finding them all.
	ms[3].Cards[0].Name = "\U0010FFFD"
	ms[20].Cards[0].Name = "\U0010FFFE"
	ms[20].Cards[0].Member.Number = "9999"
	_, err = f.Spool(context.Background(), c, seq, t.TempDir(), 5, nil, nil)
	var ge *GlyphError
	if !errors.As(err, &ge) || len(ge.Problems) != 2 {
		t.Fatalf("err = %v, want a GlyphError with 2 problems", err)
	}
}

func BenchmarkCoverSheets(b *testing.B) {
	f, c := testFonts(b), testCampaign(b)
	ms := make([]*shikaku.Mailing, 100)
	for i := range ms {
		ms[i] = sampleMailing(1 + i%4)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := f.CoverSheets(c, ms); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ms))/b.Elapsed().Seconds(), "pages/s")
}

// tinyPDF is a PDF laid out as gopdf writes one: objects in order, a
// classic xref, here with an uncompressed content stream and a ToUnicode
// CMap holding one entry beyond the BMP.
func tinyPDF() []byte {
	objs := []string{
		"<<\n/Length 12\n>>\nstream\nBT (x) Tj ETendstream\n",
		"<<\n/Length 64\n>>\nstream\n1 beginbfrange\n<0001><0001><20BB7>\n<0002><0002><7530>\nendbfrange\nendstream\n",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%sendobj\n\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<<\n/Size %d\n>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

func TestFinishTinyPDF(t *testing.T) {
	out, err := newFinisher().finish(tinyPDF())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("/Filter /FlateDecode")) {
		t.Error("streams not compressed")
	}
	if _, _, _, err := readXref(out); err != nil {
		t.Errorf("the finished PDF's xref does not read back: %v", err)
	}
}

// FuzzFinish: the finisher never panics, and what it accepts it writes
// with a cross-reference table that reads back.
func FuzzFinish(f *testing.F) {
	f.Add(tinyPDF())
	small := "%PDF-1.7\n1 0 obj\n<<\n/Length 3\n>>\nstream\nabcendstream\nendobj\n"
	f.Add([]byte(small + fmt.Sprintf("xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<<>>\nstartxref\n%d\n%%%%EOF\n", len(small))))
	fin := newFinisher()
	f.Fuzz(func(t *testing.T, pdf []byte) {
		out, err := fin.finish(pdf)
		if err != nil {
			return
		}
		if _, _, _, err := readXref(out); err != nil {
			t.Fatalf("finished PDF has an unreadable xref: %v", err)
		}
	})
}
