package csvin

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzKatakana: the fast path of Katakana, for names already in full-width
// katakana, gives what widening and NFC give.
func FuzzKatakana(f *testing.F) {
	for _, s := range []string{"ヤマダ　タロウ", "ﾔﾏﾀﾞ", "カ\u3099", "ヷ", " ア ", "ー・", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Katakana(s), katakanaTransformed(s); got != want {
			t.Errorf("Katakana(%q) = %q, the transforms give %q", s, got, want)
		}
	})
}

// FuzzTrimSpace: the fast path of trimSpace trims what strings.TrimSpace
// trims, Japanese and other Unicode spaces and broken bytes included.
func FuzzTrimSpace(f *testing.F) {
	for _, s := range []string{"", " ", "山田", "\u3000山田\u3000", "山田 ", " a", "a\u00a0", "\xe3\x80", "\xff ", "\t1\n", "\u0085x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Errorf("trimSpace(%q) = %q, strings.TrimSpace gives %q", s, got, want)
		}
	})
}

// FuzzCleanGuard: read in pieces of any size, the guard turns suspect
// exactly when the whole text is not valid UTF-8 or holds U+FFFD, also
// when the bytes at fault straddle two reads.
func FuzzCleanGuard(f *testing.F) {
	for _, s := range []string{"", "a,b\n", "山田\n", "\xef\xbf\xbd", "a\xe3\x81", "\xff", "ab\xe5\xb1\xb1", "\xf0\x9f\x98\x80x", "\xed\xa0\x80"} {
		for _, size := range []uint8{1, 2, 3, 7} {
			f.Add([]byte(s), size)
		}
	}
	f.Fuzz(func(t *testing.T, text []byte, size uint8) {
		g := &cleanGuard{r: &pieces{text, max(int(size), 1)}}
		got, err := io.ReadAll(g)
		if err != nil || !bytes.Equal(got, text) {
			t.Fatalf("read %q, %v; want %q", got, err, text)
		}
		if want := !utf8.Valid(text) || bytes.Contains(text, []byte(replacementChar)); g.suspect != want {
			t.Errorf("%q in pieces of %d: suspect %v, want %v", text, size, g.suspect, want)
		}
	})
}

// pieces reads its text n bytes at a time.
type pieces struct {
	text []byte
	n    int
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.text) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.text[:min(p.n, len(p.text))])
	p.text = p.text[n:]
	return n, nil
}

// FuzzMembers feeds arbitrary bytes to the member reader: it must never
// panic, and it must either accept every row or end with an InputError.
func FuzzMembers(f *testing.F) {
	for _, name := range []string{"members_utf8.csv", "members_utf8_bom_ja.csv", "members_cp932.csv", "members_cp932_gaiji.csv"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(header + insured + spouse))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		for m, err := range Members(bytes.NewReader(data), Options{File: "fuzz.csv"}, employers) {
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Total == 0 {
					t.Fatalf("error is not an InputError: %v", err)
				}
				return
			}
			if m.Key.BranchNo == "" || m.Name == "" || m.BirthDate.IsZero() {
				t.Fatalf("an incomplete member was accepted: %+v", m)
			}
			n++
		}
	})
}

// FuzzLosses does the same for the loss reader.
func FuzzLosses(f *testing.F) {
	f.Add([]byte("branch_code,symbol,number,branch_no,lost_on,reason\n46,100,1,00,R7.6.1,退職\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ls, err := Losses(bytes.NewReader(data), Options{File: "fuzz.csv"})
		if err != nil {
			return
		}
		for _, l := range ls {
			if l.LostOn.IsZero() || len(l.Key.BranchNo) != 2 {
				t.Fatalf("incomplete loss accepted: %+v", l)
			}
		}
	})
}

// FuzzScans feeds arbitrary bytes to the scan-file reader (undelivered,
// return, destroy): no panic, and rows only with an ID.
func FuzzScans(f *testing.F) {
	f.Add([]byte("id,reason,on\nE4600000001,宛所不明,2025-08-20\n564-66-00000-6,,R7.8.21\n"))
	f.Add([]byte("番号,理由,日付\r\nC4600000001,,\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := Scans(bytes.NewReader(data), Options{File: "fuzz.csv"})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Total == 0 {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for _, r := range rows {
			if r.ID == "" {
				t.Fatalf("a row without an ID was accepted: %+v", r)
			}
		}
	})
}
