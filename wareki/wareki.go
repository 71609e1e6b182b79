// Package wareki parses and formats dates as Japanese core systems write them:
// ISO and slash forms, compact YYYYMMDD, and the Japanese era (和暦) forms
// such as 令和7年5月16日, R7.5.16 or R07.08.08 (JIS X 0301), with 元年.
//
// Dates are time.Time values at midnight UTC; the zero Time means "not set".
package wareki

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Era is one Japanese era with the first day of its first year.
type Era struct {
	Name   string // 令和
	Letter string // R
	Start  time.Time
}

// Eras from newest to oldest, so the first era starting on or before a date
// is that date's era.
var Eras = []Era{
	{"令和", "R", Day(2019, 5, 1)},
	{"平成", "H", Day(1989, 1, 8)},
	{"昭和", "S", Day(1926, 12, 25)},
	{"大正", "T", Day(1912, 7, 30)},
	{"明治", "M", Day(1868, 10, 23)},
}

// Day returns the date y-m-d at midnight UTC.
func Day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ErrSyntax is returned (wrapped) for text that is not a date in any
// accepted form.
var ErrSyntax = errors.New("日付の形式ではありません")

// Parse reads a date in any accepted form. Full-width digits and
// punctuation are accepted. Empty text (after trimming) gives the zero Time
// and no error: an empty cell means "not set".
func Parse(s string) (time.Time, error) {
	if t, ok := fastISO(s); ok {
		return t, nil
	}
	s = strings.TrimSpace(Normalize(s))
	if s == "" {
		return time.Time{}, nil
	}
	for _, e := range Eras {
		for _, prefix := range []string{e.Name, e.Letter, strings.ToLower(e.Letter)} {
			if rest, ok := strings.CutPrefix(s, prefix); ok {
				return parseEra(e, rest, s)
			}
		}
	}
	var y, m, d int
	var err error
	switch {
	case strings.ContainsAny(s, "-/"):
		sep := "-"
		if strings.Contains(s, "/") {
			sep = "/"
		}
		parts := strings.Split(s, sep)
		if len(parts) != 3 || len(parts[0]) != 4 {
			return time.Time{}, fmt.Errorf("%q: %w", s, ErrSyntax)
		}
		y, m, d, err = atoi3(parts[0], parts[1], parts[2])
	case strings.Contains(s, "年"):
		y, m, d, err = splitKanji(s)
		if err == nil && y < 1000 {
			err = ErrSyntax
		}
	case len(s) == 8:
		y, m, d, err = atoi3(s[0:4], s[4:6], s[6:8])
	default:
		err = ErrSyntax
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	return valid(y, m, d, s)
}

// fastISO reads the common YYYY-MM-DD without allocating.
func fastISO(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	n := 0
	for i := 0; i < 10; i++ {
		if i == 4 || i == 7 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		n = n*10 + int(c-'0')
	}
	y, m, d := n/10000, n/100%100, n%100
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := Day(y, time.Month(m), d)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

func parseEra(e Era, rest, whole string) (time.Time, error) {
	var n, m, d int
	var err error
	if strings.Contains(rest, "年") {
		n, m, d, err = splitKanji(rest)
	} else {
		parts := strings.Split(rest, ".")
		if len(parts) != 3 {
			return time.Time{}, fmt.Errorf("%q: %w", whole, ErrSyntax)
		}
		if parts[0] == "元" {
			parts[0] = "1"
		}
		n, m, d, err = atoi3(parts[0], parts[1], parts[2])
	}
	if err != nil || n < 1 {
		return time.Time{}, fmt.Errorf("%q: %w", whole, ErrSyntax)
	}
	t, err := valid(e.Start.Year()+n-1, m, d, whole)
	if err != nil {
		return t, err
	}
	if t.Before(e.Start) {
		return time.Time{}, fmt.Errorf("%q: %sは%sからです", whole, e.Name, Format(e.Start))
	}
	// An era year past the next era's start (平成32年) is refused: core
	// systems never write it, and it usually is a typo.
	for i, later := range Eras {
		if later.Name == e.Name && i > 0 && !t.Before(Eras[i-1].Start) {
			return time.Time{}, fmt.Errorf("%q: %sは%sの前日までです", whole, e.Name, Format(Eras[i-1].Start))
		}
	}
	return t, nil
}

// splitKanji reads "N年M月D日" where N may be 元.
func splitKanji(s string) (int, int, int, error) {
	ys, rest, ok1 := strings.Cut(s, "年")
	ms, rest, ok2 := strings.Cut(rest, "月")
	ds, rest, ok3 := strings.Cut(rest, "日")
	if !ok1 || !ok2 || !ok3 || rest != "" {
		return 0, 0, 0, ErrSyntax
	}
	if ys == "元" {
		ys = "1"
	}
	return atoi3(ys, ms, ds)
}

func atoi3(a, b, c string) (int, int, int, error) {
	x, err1 := atoi(a)
	y, err2 := atoi(b)
	z, err3 := atoi(c)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, ErrSyntax
	}
	return x, y, z, nil
}

func atoi(s string) (int, error) {
	if s == "" || len(s) > 4 {
		return 0, ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrSyntax
		}
	}
	return strconv.Atoi(s)
}

func valid(y, m, d int, s string) (time.Time, error) {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	// A western year has four digits; an era year that takes the date past
	// 9999 (令和8000年, found by fuzzing) could not be written back as one.
	if y > 9999 {
		return time.Time{}, fmt.Errorf("%q: 西暦 9999 年より後の日付です", s)
	}
	t := Day(y, time.Month(m), d)
	if t.Day() != d { // 2月30日 normalizes to March: refuse it
		return time.Time{}, fmt.Errorf("%q: 存在しない日付です", s)
	}
	return t, nil
}

// Normalize turns full-width ASCII (digits, letters, hyphen, slash, dot,
// space) into their ASCII forms and the usual dash look-alikes into '-'.
func Normalize(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '！' && r <= '～':
			r = r - '！' + '!'
		case r == '\u3000':
			r = ' '
		case r == '−' || r == '‐' || r == '‑' || r == '–' || r == '—':
			r = '-'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// EraOf returns the era of t, and false before 明治.
func EraOf(t time.Time) (Era, bool) {
	for _, e := range Eras {
		if !t.Before(e.Start) {
			return e, true
		}
	}
	return Era{}, false
}

// Format writes t as YYYY-MM-DD; the zero Time gives "".
func Format(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// Japanese writes t in the long era form, 令和7年8月8日 (元年 for year 1).
func Japanese(t time.Time) string {
	e, ok := EraOf(t)
	if !ok {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	}
	n := t.Year() - e.Start.Year() + 1
	year := strconv.Itoa(n)
	if n == 1 {
		year = "元"
	}
	return fmt.Sprintf("%s%s年%d月%d日", e.Name, year, t.Month(), t.Day())
}

// Short writes t in the JIS X 0301 form, R07.08.08.
func Short(t time.Time) string {
	e, ok := EraOf(t)
	if !ok {
		return t.Format("2006.01.02")
	}
	return fmt.Sprintf("%s%02d.%02d.%02d", e.Letter, t.Year()-e.Start.Year()+1, t.Month(), t.Day())
}
