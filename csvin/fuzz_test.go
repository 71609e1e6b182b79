package csvin

import (
	"bytes"
	"errors"
	"os"
	"testing"
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
