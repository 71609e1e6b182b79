package csvin

import (
	"io"
	"iter"
	"strings"
	"time"

	"shikaku"
	"shikaku/wareki"
)

var employerSchema = []column{
	{"employer_code", "事業所記号", true},
	{"name", "事業所名称", true},
	{"postal_code", "郵便番号", true},
	{"address", "所在地", true},
	{"address_line2", "方書", false},
	{"contact", "担当者", false},
	{"closed_on", "全喪年月日", false},
}

// EmployerHeader is the employers.csv header with English keys.
func EmployerHeader() []string { return keys(employerSchema) }

func keys(schema []column) []string {
	h := make([]string, len(schema))
	for i, c := range schema {
		h[i] = c.key
	}
	return h
}

// Employers reads employers.csv, yielding valid rows (reused) and at the
// end an *InputError if anything was wrong.
func Employers(r io.Reader, opt Options) iter.Seq2[*shikaku.Employer, error] {
	return func(yield func(*shikaku.Employer, error) bool) {
		t, err := open(r, opt, employerSchema)
		if err != nil {
			yield(nil, err)
			return
		}
		seen := make(map[string]int)
		var e shikaku.Employer
		for {
			rec := t.next()
			if rec == nil {
				break
			}
			before := t.prob.n
			col := func(i int) string { return t.header(i, employerSchema) }
			bad := func(i int, v, format string, args ...any) { t.prob.add(t.line, col(i), v, format, args...) }
			e = shikaku.Employer{
				Code:         wareki.Normalize(t.get(rec, 0)),
				Name:         t.get(rec, 1),
				PostalCode:   strings.ReplaceAll(wareki.Normalize(t.get(rec, 2)), "-", ""),
				Address:      t.get(rec, 3),
				AddressLine2: t.get(rec, 4),
				Contact:      t.get(rec, 5),
			}
			if e.Code == "" {
				bad(0, "", "必須です")
			} else if first, dup := seen[e.Code]; dup {
				bad(0, e.Code, "事業所記号が重複しています（%d行目と同じ）", first)
			} else {
				seen[e.Code] = t.line
			}
			if e.Name == "" {
				bad(1, "", "必須です")
			}
			if !isDigits(e.PostalCode, 7, 7) {
				bad(2, t.get(rec, 2), "郵便番号は7桁の数字にしてください（ハイフンは省略可）")
			}
			if e.Address == "" {
				bad(3, "", "必須です")
			}
			if v := t.get(rec, 6); v != "" {
				d, err := wareki.Parse(v)
				if err != nil {
					bad(6, v, "日付として読めません（例: 2025-05-16、R7.5.16）")
				}
				e.ClosedOn = d
			}
			if t.prob.n == before && t.prob.n == 0 && !yield(&e, nil) {
				return
			}
		}
		if err := t.prob.err(); err != nil {
			yield(nil, err)
		}
	}
}

var lossSchema = []column{
	{"branch_code", "支部コード", true},
	{"symbol", "記号", true},
	{"number", "番号", true},
	{"branch_no", "枝番", true},
	{"lost_on", "資格喪失日", true},
	{"reason", "喪失事由", false},
}

// LossHeader is the losses.csv header with English keys.
func LossHeader() []string { return keys(lossSchema) }

// Losses reads a whole loss file. Loss files are small (the losses of a
// few weeks), so they are returned as a slice; any problem refuses the file.
func Losses(r io.Reader, opt Options) ([]shikaku.Loss, error) {
	t, err := open(r, opt, lossSchema)
	if err != nil {
		return nil, err
	}
	var out []shikaku.Loss
	for {
		rec := t.next()
		if rec == nil {
			break
		}
		bad := func(i int, v, format string, args ...any) {
			t.prob.add(t.line, t.header(i, lossSchema), v, format, args...)
		}
		code := func(i, min, max int) string {
			v := wareki.Normalize(t.get(rec, i))
			if !isDigits(v, min, max) {
				bad(i, v, "%d〜%d桁の数字にしてください", min, max)
			}
			return v
		}
		var l shikaku.Loss
		l.Key.Branch = code(0, 2, 2)
		l.Key.Symbol = code(1, 1, 8)
		l.Key.Number = code(2, 1, 8)
		l.Key.BranchNo = code(3, 2, 2)
		v := t.get(rec, 4)
		var d time.Time
		if v == "" {
			bad(4, v, "必須です")
		} else if d, err = wareki.Parse(v); err != nil {
			bad(4, v, "日付として読めません（例: 2025-07-11、R7.7.11）")
		}
		l.LostOn = d
		l.Reason = t.get(rec, 5)
		out = append(out, l)
	}
	if err := t.prob.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// scanSchema is a file of scanned IDs (undelivered envelopes, returned or
// destroyed certificates): the ID, and optionally the reason and date.
var scanSchema = []column{
	{"id", "番号", true},
	{"reason", "理由", false},
	{"on", "日付", false},
}

// ScanRow is one row of a scan file.
type ScanRow struct {
	Line   int
	ID     string
	Reason string
	On     time.Time // zero: not given
}

// ScanHeader is the scan file header with English keys.
func ScanHeader() []string { return keys(scanSchema) }

// Scans reads a whole file of scanned IDs; any problem refuses the file.
// The IDs themselves are checked by the step that records them.
func Scans(r io.Reader, opt Options) ([]ScanRow, error) {
	t, err := open(r, opt, scanSchema)
	if err != nil {
		return nil, err
	}
	var out []ScanRow
	for {
		rec := t.next()
		if rec == nil {
			break
		}
		s := ScanRow{Line: t.line, ID: wareki.Normalize(t.get(rec, 0)), Reason: t.get(rec, 1)}
		if s.ID == "" {
			t.prob.add(t.line, t.header(0, scanSchema), "", "必須です")
		}
		if v := t.get(rec, 2); v != "" {
			if s.On, err = wareki.Parse(v); err != nil {
				t.prob.add(t.line, t.header(2, scanSchema), v, "日付として読めません（例: 2025-09-01、R7.9.1）")
			}
		}
		out = append(out, s)
	}
	if err := t.prob.err(); err != nil {
		return nil, err
	}
	return out, nil
}
