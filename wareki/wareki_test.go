package wareki

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"  ", time.Time{}},
		{"2025-05-16", Day(2025, 5, 16)},
		{"2025/5/16", Day(2025, 5, 16)},
		{"20250516", Day(2025, 5, 16)},
		{"R7.5.16", Day(2025, 5, 16)},
		{"r7.5.16", Day(2025, 5, 16)},
		{"R07.08.08", Day(2025, 8, 8)},
		{"令和7年5月16日", Day(2025, 5, 16)},
		{"令和元年5月1日", Day(2019, 5, 1)},
		{"R元.5.1", Day(2019, 5, 1)},
		{"H31.4.30", Day(2019, 4, 30)},
		{"平成31年4月30日", Day(2019, 4, 30)},
		{"平成元年1月8日", Day(1989, 1, 8)},
		{"S64.1.7", Day(1989, 1, 7)},
		{"昭和64年1月7日", Day(1989, 1, 7)},
		{"T15.12.24", Day(1926, 12, 24)},
		{"M1.10.23", Day(1868, 10, 23)},
		{"２０２５－０５－１６", Day(2025, 5, 16)},
		{"Ｒ７．５．１６", Day(2025, 5, 16)},
		{"令和７年５月１６日", Day(2025, 5, 16)},
		{"2024-02-29", Day(2024, 2, 29)},
		{"2025年5月16日", Day(2025, 5, 16)},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		"2025-02-29", // not a leap year
		"2025-13-01",
		"2025-00-10",
		"2025-1-32",
		"R7.2.30",
		"H31.5.1", // 平成 ended on 2019-04-30
		"S64.1.8", // 昭和 ended on 1989-01-07
		"R1.4.30", // 令和 began on 2019-05-01
		"H0.1.1",
		"令和7年5月",
		"2025.5.16",
		"202505",
		"abc",
		"R7-5-16",
		"25-05-16",
		"令和7年5月16日まで",
		"R8000.1.1", // past 9999: no western form
		"令和9999年1月1日",
	} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
	if _, err := Parse("2025-5"); !errors.Is(err, ErrSyntax) {
		t.Errorf("want ErrSyntax, got %v", err)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		d           time.Time
		long, short string
	}{
		{Day(2025, 8, 8), "令和7年8月8日", "R07.08.08"},
		{Day(2019, 5, 1), "令和元年5月1日", "R01.05.01"},
		{Day(2019, 4, 30), "平成31年4月30日", "H31.04.30"},
		{Day(1989, 1, 8), "平成元年1月8日", "H01.01.08"},
		{Day(1989, 1, 7), "昭和64年1月7日", "S64.01.07"},
		{Day(1868, 10, 23), "明治元年10月23日", "M01.10.23"},
	}
	for _, tt := range tests {
		if got := Japanese(tt.d); got != tt.long {
			t.Errorf("Japanese(%v) = %q, want %q", tt.d, got, tt.long)
		}
		if got := Short(tt.d); got != tt.short {
			t.Errorf("Short(%v) = %q, want %q", tt.d, got, tt.short)
		}
		back, err := Parse(tt.long)
		if err != nil || !back.Equal(tt.d) {
			t.Errorf("Parse(Japanese(%v)) = %v, %v", tt.d, back, err)
		}
		back, err = Parse(tt.short)
		if err != nil || !back.Equal(tt.d) {
			t.Errorf("Parse(Short(%v)) = %v, %v", tt.d, back, err)
		}
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives a round trip through both written forms.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"2025-05-16", "R7.5.16", "令和元年5月1日", "S64.1.7", "20250516", "２０２５／５／１６", "H31.4.30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil || d.IsZero() {
			return
		}
		for _, form := range []string{Format(d), Japanese(d)} {
			back, err := Parse(form)
			if _, ok := EraOf(d); !ok && form != Format(d) {
				continue
			}
			if err != nil || !back.Equal(d) {
				t.Fatalf("Parse(%q) = %v; Parse(%q) = %v, %v", s, d, form, back, err)
			}
		}
	})
}
