package csvin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"shikaku"
	"shikaku/wareki"
)

var employers = func(code string) bool { return code == "E001" || code == "E002" }

func readMembers(t *testing.T, data []byte, opt Options) ([]shikaku.Member, error) {
	t.Helper()
	var out []shikaku.Member
	for m, err := range Members(bytes.NewReader(data), opt, employers) {
		if err != nil {
			return out, err
		}
		out = append(out, *m)
	}
	return out, nil
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMembersUTF8(t *testing.T) {
	ms, err := readMembers(t, fixture(t, "members_utf8.csv"), Options{File: "members_utf8.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 4 {
		t.Fatalf("%d members", len(ms))
	}
	m := ms[0]
	if m.Key.String() != "46-10100000-1-00" || m.Relationship != shikaku.Self || m.InsuredType != shikaku.General ||
		m.PostalCode != "8920844" || m.AddressLine2 != "コーポ桜島 101" || !m.BirthDate.Equal(wareki.Day(1980, 4, 1)) {
		t.Errorf("first member: %+v", m)
	}
	if !ms[1].MynumberOnFile || !ms[1].EcertExpiresOn.Equal(wareki.Day(2029, 5, 2)) || ms[1].Language != "ja" {
		t.Errorf("second member: %+v", ms[1])
	}
	if ms[2].Language != "en" || ms[3].CopayRate != 3 || ms[3].InsuredType != shikaku.Voluntary {
		t.Errorf("members: %+v %+v", ms[2], ms[3])
	}
}

// The same members in Japanese headers, another column order, BOM, CRLF,
// era dates, full-width digits and half-width kana, in UTF-8 and CP932.
func TestMembersJapanese(t *testing.T) {
	for _, name := range []string{"members_utf8_bom_ja.csv", "members_cp932.csv"} {
		t.Run(name, func(t *testing.T) {
			ms, err := readMembers(t, fixture(t, name), Options{File: name})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 3 {
				t.Fatalf("%d members", len(ms))
			}
			m := ms[0]
			if m.Name != "髙城　智子" || m.NameKana != "タカジョウ　トモコ" || m.Key.String() != "46-10100001-23-00" ||
				m.Sex != 2 || !m.BirthDate.Equal(wareki.Day(1980, 4, 1)) || !m.AcquiredOn.Equal(wareki.Day(2010, 4, 1)) ||
				!m.DecidedOn.Equal(wareki.Day(2010, 4, 10)) || m.PostalCode != "8920844" {
				t.Errorf("first member: %+v", m)
			}
			if ms[1].NameKana != "タカジョウ　ハジメ" || !ms[1].BirthDate.Equal(wareki.Day(2019, 5, 1)) ||
				!ms[1].MynaLinkedOn.Equal(wareki.Day(2024, 1, 10)) || !ms[1].MynumberOnFile || ms[1].Relationship != shikaku.Child {
				t.Errorf("second member: %+v", ms[1])
			}
			if ms[2].Name != "德永　①" || ms[2].InsuredType != shikaku.DayLaborer || !ms[2].BirthDate.Equal(wareki.Day(1970, 2, 3)) {
				t.Errorf("third member: %+v", ms[2])
			}
		})
	}
}

func TestEncodingFlag(t *testing.T) {
	data := fixture(t, "members_cp932.csv")
	if _, err := readMembers(t, data, Options{File: "x", Encoding: SJIS}); err != nil {
		t.Errorf("sjis: %v", err)
	}
	if _, err := readMembers(t, data, Options{File: "x", Encoding: UTF8}); err == nil {
		t.Error("a CP932 file read as UTF-8 was accepted")
	}
	if _, err := ParseEncoding("latin1"); err == nil {
		t.Error("latin1 accepted")
	}
}

func TestGaiji(t *testing.T) {
	_, err := readMembers(t, fixture(t, "members_cp932_gaiji.csv"), Options{File: "gaiji.csv"})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Total != 1 || ie.Problems[0].Line != 3 || ie.Problems[0].Column != "氏名" ||
		!strings.Contains(ie.Problems[0].Message, "外字") {
		t.Fatalf("want one 外字 problem on line 3, got %v", err)
	}
}

// A replacement character written into a UTF-8 file (by a converter that
// met a 外字 before us) is refused like one decoded here, and so is a
// byte that is not UTF-8; a cell that merely ends in the same lead byte
// is not.
func TestReplacementCharacterInUTF8(t *testing.T) {
	good := fixture(t, "members_utf8.csv")
	lines := bytes.SplitAfter(good, []byte("\n"))
	for _, tc := range []struct {
		name, old, new string
		problems       int
	}{
		{"U+FFFD", ",", ",\uFFFD", 1},
		{"an invalid byte", ",", ",\xef\xbf", 1},
		{"a valid character", ",", ",\uFFFC", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Join([][]byte{lines[0], bytes.Replace(lines[1], []byte(tc.old), []byte(tc.new), 1)}, nil)
			data = append(data, bytes.Join(lines[2:], nil)...)
			_, err := readMembers(t, data, Options{File: "x.csv", Encoding: UTF8})
			var ie *InputError
			switch {
			case tc.problems == 0 && err != nil && strings.Contains(err.Error(), "UTF-8"):
				t.Fatalf("refused as not UTF-8: %v", err)
			case tc.problems > 0 && (!errors.As(err, &ie) || !strings.Contains(err.Error(), "UTF-8 として正しくない文字")):
				t.Fatalf("want the cell refused, got %v", err)
			}
		})
	}
}

// Far into a file, past what the encoding is detected on and across the
// reader's buffers, a bad cell is still refused, on its own line.
func TestBadTextFarIntoTheFile(t *testing.T) {
	for _, bad := range []string{"\uFFFD", "\xe3\x81", "\xff"} {
		var b strings.Builder
		b.WriteString(header)
		const households, at = 3000, 2500
		for i := 1; i <= households; i++ {
			row := strings.Replace(insured, ",1,00,", fmt.Sprintf(",%d,00,", i), 1)
			if i == at {
				row = strings.Replace(row, "山田　太郎", "山田"+bad+"太郎", 1)
			}
			b.WriteString(row)
		}
		_, err := readMembers(t, []byte(b.String()), Options{File: "x.csv"})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Total != 1 || ie.Problems[0].Line != at+1 || !strings.Contains(ie.Problems[0].Message, "UTF-8 として正しくない文字") {
			t.Errorf("%q on line %d: %v", bad, at+1, err)
		}
	}
}

const header = "branch_code,symbol,number,branch_no,relationship,insured_type,name,name_kana,birth_date,sex,acquired_on,decided_on,lost_on,scheduled_loss_on,employer_code,postal_code,address,address_line2,mynumber_on_file,myna_linked_on,ecert_expires_on,dv,certificate_issued_on,copay_rate,language\n"
const insured = "46,100,1,00,self,general,山田　太郎,ヤマダ　タロウ,1980-04-01,1,2010-04-01,2010-04-10,,,E001,8920844,鹿児島市1-1,,0,,,0,,,\n"
const spouse = "46,100,1,01,spouse,general,山田　花子,ヤマダ　ハナコ,1982-05-02,2,2012-06-01,2012-06-05,,,,,,,0,,,0,,,\n"

// One test per bad-input class of data.md: the file is refused with the
// line, column and value of the problem.
func TestMembersBadInput(t *testing.T) {
	tests := []struct {
		name   string
		csv    string
		line   int
		column string
		value  string
		msg    string
		allow  bool // --allow-unknown-columns
	}{
		{"wrong date", header + strings.Replace(insured, "1980-04-01", "1980-02-30", 1), 2, "birth_date", "1980-02-30", "日付", false},
		{"unparseable date", header + strings.Replace(insured, "2010-04-10", "R7.13.1", 1), 2, "decided_on", "R7.13.1", "日付", false},
		{"unknown code", header + strings.Replace(insured, "general", "regular", 1), 2, "insured_type", "regular", "一般", false},
		{"unknown relationship", header + insured + strings.Replace(spouse, "spouse", "cousin", 1), 3, "relationship", "cousin", "本人", false},
		{"branch code out of range", header + strings.Replace(insured, "46,", "48,", 1), 2, "branch_code", "48", "01〜47", false},
		{"symbol too long", header + strings.Replace(insured, ",100,", ",123456789,", 1), 2, "symbol", "123456789", "1〜8桁", false},
		{"duplicate key", header + insured + spouse + spouse, 4, "branch_no", "46-100-1-01", "重複", false},
		{"dependent without 00", header + spouse, 2, "branch_no", "46-100-1", "枝番 00", false},
		{"00 without self", header + strings.Replace(insured, "self", "spouse", 1), 2, "relationship", "spouse", "本人（self）", false},
		{"self on a dependent", header + insured + strings.Replace(spouse, "spouse", "self", 1), 3, "relationship", "self", "枝番 00 の行だけ", false},
		{"insured types disagree", header + insured + strings.Replace(spouse, "general", "voluntary", 1), 3, "insured_type", "voluntary", "一致しません", false},
		{"unknown employer", header + strings.Replace(insured, "E001", "E999", 1), 2, "employer_code", "E999", "事業所", false},
		{"general without employer", header + strings.Replace(insured, "E001", "", 1), 2, "employer_code", "", "事業所記号", false},
		{"00 without postal code", header + strings.Replace(insured, "8920844", "", 1), 2, "postal_code", "", "郵便番号", false},
		{"00 without address", header + strings.Replace(insured, "鹿児島市1-1", "", 1), 2, "address", "", "住所", false},
		{"bad postal code", header + strings.Replace(insured, "8920844", "892084", 1), 2, "postal_code", "892084", "7桁", false},
		{"lost before acquired", header + strings.Replace(insured, "2010-04-10,,", "2010-04-10,2009-01-01,", 1), 2, "lost_on", "2009-01-01", "資格取得日", false},
		{"bad flag", header + strings.Replace(insured, ",0,,,0,,,", ",2,,,0,,,", 1), 2, "mynumber_on_file", "2", "1/0", false},
		{"kana not katakana", header + strings.Replace(insured, "ヤマダ　タロウ", "やまだ", 1), 2, "name_kana", "やまだ", "カタカナ", false},
		{"bad copay", header + strings.Replace(insured, "0,,,0,,,", "0,,,0,,4,", 1), 2, "copay_rate", "4", "2 または 3", false},
		{"wrong column count", header + "46,100,1\n", 2, "", "", "列の数", false},
		{"bare quote", header + strings.Replace(insured, "山田　太郎", `山"田`, 1), 2, "", "", "引用符", false},
		{"12-digit individual number", strings.Replace(header, ",language", ",language,memo", 1) + strings.TrimSuffix(insured, "\n") + ",123456789012\n", 2, "memo", "（表示しません）", "個人番号", true},
		{"12 digits with hyphens in a known column", header + strings.Replace(insured, "鹿児島市1-1", "1234-5678-9012", 1), 2, "address", "（表示しません）", "個人番号", false},
		{"unknown column", strings.Replace(header, "language", "favourite_color", 1) + insured, 1, "favourite_color", "", "知らない列", false},
		{"missing required column", strings.Replace(header, "name_kana,", "", 1) + strings.Replace(insured, "ヤマダ　タロウ,", "", 1), 1, "", "", "氏名カナ", false},
		{"empty file", "", 1, "", "", "空", false},
	}
	for _, tt := range tests {
		for _, sorted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s sorted=%v", tt.name, sorted), func(t *testing.T) {
				ms, err := readMembers(t, []byte(tt.csv), Options{File: "m.csv", AllowUnknownColumns: tt.allow, AssumeSorted: sorted})
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("want an InputError, got %v (%d members)", err, len(ms))
				}
				p := ie.Problems[0]
				if p.Line != tt.line || p.Column != tt.column || p.Value != tt.value || !strings.Contains(p.Message, tt.msg) {
					t.Errorf("got line %d column %q value %q: %s\nwant line %d column %q value %q with %q",
						p.Line, p.Column, p.Value, p.Message, tt.line, tt.column, tt.value, tt.msg)
				}
				if strings.Contains(err.Error(), "123456789012") || strings.Contains(err.Error(), "1234-5678-9012") {
					t.Error("the message shows an individual number")
				}
				if !strings.Contains(err.Error(), "m.csv") {
					t.Error("the message does not name the file")
				}
			})
		}
	}
}

// An unsorted file: with AssumeSorted the reader gives up with
// ErrNotSorted; without it the same file is read whole.
func TestMembersUnsorted(t *testing.T) {
	csv := header + spouse + insured + strings.Replace(insured, ",1,00,", ",0,00,", 1)
	_, err := readMembers(t, []byte(csv), Options{File: "m.csv", AssumeSorted: true})
	if !errors.Is(err, ErrNotSorted) {
		t.Fatalf("got %v, want ErrNotSorted", err)
	}
	ms, err := readMembers(t, []byte(csv), Options{File: "m.csv"})
	if err != nil || len(ms) != 3 {
		t.Fatalf("%v %d", err, len(ms))
	}
	// Sorted, the same rows pass in constant memory.
	sorted := header + strings.Replace(insured, ",1,00,", ",0,00,", 1) + insured + spouse
	if ms, err := readMembers(t, []byte(sorted), Options{File: "m.csv", AssumeSorted: true}); err != nil || len(ms) != 3 {
		t.Fatalf("%v %d", err, len(ms))
	}
}

// A file with a problem yields no member after the problem and always ends
// with the error, so a store that streams rows rolls back.
func TestMembersErrorComesLast(t *testing.T) {
	csv := header + insured + strings.Replace(spouse, "1982-05-02", "x", 1) + strings.Replace(insured, ",1,00,", ",2,00,", 1)
	var rows int
	var last error
	for m, err := range Members(strings.NewReader(csv), Options{File: "m.csv"}, employers) {
		if m != nil {
			rows++
		}
		last = err
	}
	if last == nil || rows != 1 {
		t.Errorf("rows %d, last error %v", rows, last)
	}
}

func TestProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	for range 500 {
		b.WriteString(strings.Replace(insured, "general", "bad", 1))
	}
	_, err := readMembers(t, []byte(b.String()), Options{File: "m.csv"})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Total < 500 || len(ie.Problems) != maxed || !strings.Contains(err.Error(), "ほか") {
		t.Fatalf("got %v", err)
	}
}

func TestAllowUnknownColumns(t *testing.T) {
	csv := strings.Replace(header, ",language", ",language,memo", 1) + strings.TrimSuffix(insured, "\n") + ",hello\n"
	ms, err := readMembers(t, []byte(csv), Options{File: "m.csv", AllowUnknownColumns: true})
	if err != nil || len(ms) != 1 {
		t.Fatalf("%v %d", err, len(ms))
	}
}

func TestEmployers(t *testing.T) {
	var got []shikaku.Employer
	for e, err := range Employers(bytes.NewReader(fixture(t, "employers.csv")), Options{File: "employers.csv"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *e)
	}
	if len(got) != 2 || got[0].Contact != "総務課" || !got[1].ClosedOn.Equal(wareki.Day(2025, 6, 30)) {
		t.Errorf("%+v", got)
	}
	bad := "employer_code,name,postal_code,address\nE1,A,8900053,X\nE1,B,8900053,Y\nE2,,123,\n"
	var err error
	for _, e := range Employers(strings.NewReader(bad), Options{File: "e.csv"}) {
		err = e
	}
	var ie *InputError
	if !errors.As(err, &ie) || ie.Total != 4 {
		t.Errorf("want 4 problems (duplicate, name, postal code, address), got %v", err)
	}
}

func TestLosses(t *testing.T) {
	ok := "支部コード,記号,番号,枝番,資格喪失日,喪失事由\n46,100,1,00,R7.6.1,退職\n46,100,2,01,2025-07-11,\n"
	ls, err := Losses(strings.NewReader(ok), Options{File: "l.csv"})
	if err != nil || len(ls) != 2 || ls[0].Reason != "退職" || !ls[0].LostOn.Equal(wareki.Day(2025, 6, 1)) {
		t.Fatalf("%v %+v", err, ls)
	}
	bad := "branch_code,symbol,number,branch_no,lost_on\n46,100,1,0,2025-01-01\n46,100,1,00,\n"
	if _, err := Losses(strings.NewReader(bad), Options{File: "l.csv"}); err == nil || err.(*InputError).Total != 2 {
		t.Errorf("got %v", err)
	}
}

func TestKatakana(t *testing.T) {
	for in, want := range map[string]string{
		"ﾀｶｼﾞｮｳ ﾄﾓｺ": "タカジョウ　トモコ",
		"ﾊﾟﾝ":        "パン",
		"ｳﾞｨｰ":       "ヴィー",
		"ヤマダ":        "ヤマダ",
		// Already full width: kept as it is, trimmed.
		"　ヤマダ・タロー　": "ヤマダ・タロー",
		"ガッコウ　ヴァイ":  "ガッコウ　ヴァイ",
		// Not left to the fast path: the ASCII space is widened, a
		// voicing mark composed, ヷ kept as NFC keeps it.
		"ヤマダ タロウ":    "ヤマダ　タロウ",
		"カ\u3099ッコウ": "ガッコウ",
		"ヷイン":        "ヷイン",
		"ﾔﾏﾀﾞ　タロウ":   "ヤマダ　タロウ",
	} {
		if got := Katakana(in); got != want {
			t.Errorf("Katakana(%q) = %q, want %q", in, got, want)
		}
		if slow := katakanaTransformed(in); slow != Katakana(in) {
			t.Errorf("Katakana(%q) = %q, the transforms give %q", in, Katakana(in), slow)
		}
	}
}

// katakanaTransformed is Katakana without its fast path.
func katakanaTransformed(s string) string {
	return norm.NFC.String(width.Widen.String(strings.TrimSpace(s)))
}
