// Package csvin reads and validates the input files of data.md: members,
// employers and losses, in UTF-8 (with or without BOM) or Shift_JIS/CP932,
// with Japanese or English headers in any order. A file with any problem is
// refused whole: the reader reports every problem with line, column and
// value, and the caller's transaction is rolled back.
package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"shikaku/wareki"
)

// Encoding names how a file is encoded.
type Encoding string

const (
	Auto  Encoding = "auto"
	UTF8  Encoding = "utf-8"
	SJIS  Encoding = "sjis"
	maxed          = 200 // problems kept in detail; the rest are counted
)

// ParseEncoding reads the --encoding flag.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "_", "-")) {
	case "", "auto":
		return Auto, nil
	case "utf-8", "utf8":
		return UTF8, nil
	case "sjis", "shift-jis", "shiftjis", "cp932", "windows-31j":
		return SJIS, nil
	}
	return "", fmt.Errorf("文字コード %q は指定できません（auto、utf-8、sjis のいずれか）", s)
}

// Options control how a file is read.
type Options struct {
	File                string   // name used in messages
	Encoding            Encoding // auto by default
	AllowUnknownColumns bool     // ignore columns that are not in the schema
	AssumeSorted        bool     // members: rows come sorted by key (see Members)
}

// Problem is one thing wrong with an input file.
type Problem struct {
	Line    int    // 1-based line of the record (0: the file as a whole)
	Column  string // the column's header as written in the file
	Value   string
	Message string
}

// InputError lists the problems of a refused file.
type InputError struct {
	File     string
	Problems []Problem // the first ones, up to a cap
	Total    int       // all problems found
}

func (e *InputError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s に %d 件の問題があるため、取り込みませんでした（データは変更していません）", e.File, e.Total)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, " %d行目", p.Line)
		}
		if p.Column != "" {
			fmt.Fprintf(&b, " 列「%s」", p.Column)
		}
		if p.Value != "" {
			fmt.Fprintf(&b, " 値「%s」", p.Value)
		}
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	if more := e.Total - len(e.Problems); more > 0 {
		fmt.Fprintf(&b, "\n  ……ほか %d 件", more)
	}
	return b.String()
}

// problems collects a file's problems, keeping the first ones in detail.
type problems struct {
	file string
	list []Problem
	n    int
}

func (p *problems) add(line int, column, value, format string, args ...any) {
	p.n++
	if len(p.list) < maxed {
		p.list = append(p.list, Problem{Line: line, Column: column, Value: value, Message: fmt.Sprintf(format, args...)})
	}
}

func (p *problems) err() error {
	if p.n == 0 {
		return nil
	}
	return &InputError{File: p.file, Problems: p.list, Total: p.n}
}

// column is one column of a schema.
type column struct {
	key      string
	label    string
	required bool // the column must be present
}

// table reads the records of one CSV file against a schema.
type table struct {
	r        *csv.Reader
	prob     *problems
	idx      []int    // schema position -> field index, -1 if absent
	headers  []string // field index -> header as written
	encoding Encoding
	guard    *cleanGuard
	line     int
}

// open decodes the file, reads the header and maps it to the schema.
func open(r io.Reader, opt Options, schema []column) (*table, error) {
	prob := &problems{file: opt.File}
	dec, enc, err := decode(r, opt.Encoding)
	if err != nil {
		return nil, err
	}
	guard := &cleanGuard{r: dec}
	cr := csv.NewReader(guard)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err == io.EOF {
		prob.add(1, "", "", "ファイルが空です（1行目に見出し行が必要です）")
		return nil, prob.err()
	}
	if err != nil {
		prob.add(1, "", "", "見出し行を読めません: %v", csvErrText(err))
		return nil, prob.err()
	}
	t := &table{r: cr, prob: prob, encoding: enc, guard: guard, idx: make([]int, len(schema))}
	for i := range t.idx {
		t.idx[i] = -1
	}
	t.headers = make([]string, len(header))
	for f, h := range header {
		h = strings.TrimSpace(wareki.Normalize(strings.TrimPrefix(h, "\ufeff")))
		t.headers[f] = h
		if strings.ContainsRune(h, utf8.RuneError) {
			prob.add(1, h, "", "見出しに変換できない文字があります。文字コードを --encoding で指定してください")
			continue
		}
		found := false
		for i, c := range schema {
			if strings.EqualFold(h, c.key) || h == c.label {
				if t.idx[i] >= 0 {
					prob.add(1, h, "", "列「%s」が2回あります", c.label)
				}
				t.idx[i] = f
				found = true
				break
			}
		}
		if !found && !opt.AllowUnknownColumns {
			prob.add(1, h, "", "知らない列です（使える列: %s）。不要な列は削除するか、--allow-unknown-columns を指定してください", columnList(schema))
		}
	}
	for i, c := range schema {
		if c.required && t.idx[i] < 0 {
			prob.add(1, "", "", "必須の列「%s」（%s）がありません", c.label, c.key)
		}
	}
	if prob.n > 0 {
		return nil, prob.err()
	}
	return t, nil
}

func columnList(schema []column) string {
	var s []string
	for _, c := range schema {
		s = append(s, c.label+"/"+c.key)
	}
	return strings.Join(s, "、")
}

// next reads a record; it returns nil at the end of the file. Records
// that cannot be read are reported and skipped.
func (t *table) next() []string {
	for {
		rec, err := t.r.Read()
		if err == io.EOF {
			return nil
		}
		if err == nil {
			t.line, _ = t.r.FieldPos(0)
		} else {
			t.line++
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				t.line = pe.StartLine
				if pe.Err == csv.ErrFieldCount {
					t.prob.add(pe.StartLine, "", "", "列の数が見出し行（%d 列）と合いません", len(t.headers))
					continue
				}
			}
			t.prob.add(t.line, "", "", "CSVとして読めません: %v", csvErrText(err))
			if pe == nil {
				return nil
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		t.checkCells(rec)
		return rec
	}
}

// checkCells refuses what must never be read: characters that did not
// decode (外字) and values that look like individual numbers.
func (t *table) checkCells(rec []string) {
	// Cells are checked one by one only once the stream has shown a byte
	// that is not clean: cell by cell, the checks cost 0.6 s of CPU per
	// million members.
	suspect := t.guard.suspect
	for f, v := range rec {
		// In valid UTF-8 a replacement character can only be its own three
		// bytes, which a byte search finds far faster than a rune scan
		// (1 M members: 0.8 s of CPU).
		if suspect && (!utf8.ValidString(v) || strings.Contains(v, replacementChar)) {
			what := "UTF-8 として正しくない文字があります"
			if t.encoding == SJIS {
				what = "Shift_JIS/CP932 で変換できない文字（外字など）があります。文字を置き換えてから取り込んでください"
			}
			t.prob.add(t.line, t.headers[f], strings.ToValidUTF8(v, "?"), "%s", what)
		}
		if looksLikeIndividualNumber(v) {
			// The value is never echoed: it may be a real マイナンバー.
			t.prob.add(t.line, t.headers[f], "（表示しません）",
				"12桁の数字は個人番号（マイナンバー）の可能性があるため受け付けません。この列を削除したファイルを作成してください")
		}
	}
}

// cleanGuard passes the decoded text to the CSV reader and watches it in
// whole reads: it is suspect from the first read holding invalid UTF-8 or
// a replacement character on. The CSV reader reads ahead of the records it
// returns, so every record holding such a byte comes after the guard has
// seen it. A rune cut at the end of a read is checked with the next one.
type cleanGuard struct {
	r       io.Reader
	suspect bool
	cut     []byte // the start of a rune the last read cut off
	joined  []byte
}

func (g *cleanGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if g.suspect {
		return n, err
	}
	b := p[:n]
	if len(g.cut) > 0 {
		g.joined = append(append(g.joined[:0], g.cut...), b...)
		b = g.joined
	}
	whole := len(b)
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				whole = i
			}
			break
		}
	}
	if !utf8.Valid(b[:whole]) || bytes.Contains(b[:whole], []byte(replacementChar)) {
		g.suspect = true
	}
	g.cut = append(g.cut[:0], b[whole:]...)
	if err != nil && len(g.cut) > 0 {
		g.suspect = true // the text ends inside a rune
	}
	return n, err
}

// replacementChar is U+FFFD, what a decoder puts for a byte sequence it
// cannot map (a user-defined 外字 in CP932), encoded in UTF-8.
const replacementChar = string(utf8.RuneError)

// looksLikeIndividualNumber: exactly 12 digits, allowing the usual
// separators and full-width digits.
func looksLikeIndividualNumber(v string) bool {
	if len(v) < 12 || len(v) > 60 {
		return false
	}
	n := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9', r >= '０' && r <= '９':
			n++
		case r == '-' || r == ' ' || r == '－' || r == '\u3000':
		default:
			return false
		}
	}
	return n == 12
}

// get is the cell of schema column i, trimmed; "" when the column is absent.
func (t *table) get(rec []string, i int) string {
	f := t.idx[i]
	if f < 0 || f >= len(rec) {
		return ""
	}
	return trimSpace(rec[f])
}

// trimSpace is strings.TrimSpace, quicker for the usual cell, which has
// nothing to trim: TrimSpace walks a cell starting with Japanese text
// through its function-based path (1 M members: 0.5 s of CPU).
func trimSpace(s string) string {
	if s == "" {
		return s
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if !unicode.IsSpace(first) && !unicode.IsSpace(last) {
		return s
	}
	return strings.TrimSpace(s)
}

// header is the name of schema column i as the file writes it.
func (t *table) header(i int, schema []column) string {
	if f := t.idx[i]; f >= 0 {
		return t.headers[f]
	}
	return schema[i].label
}

func csvErrText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch pe.Err {
		case csv.ErrQuote:
			return "引用符（\"）の使い方が正しくありません"
		case csv.ErrBareQuote:
			return "引用符で囲まれていない値の中に引用符（\"）があります"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// decode picks the encoding: a BOM or valid UTF-8 in the first 64 KiB
// means UTF-8, anything else Shift_JIS/CP932 (Windows-31J, with the NEC
// and IBM extensions).
func decode(r io.Reader, enc Encoding) (io.Reader, Encoding, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", fmt.Errorf("ファイルを読めません: %w", err)
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		if enc == SJIS {
			return nil, "", errors.New("ファイルは UTF-8（BOM付き）ですが --encoding sjis が指定されています")
		}
		return br, UTF8, nil
	}
	if enc == Auto || enc == "" {
		enc = SJIS
		if validUTF8Prefix(head, err == io.EOF) {
			enc = UTF8
		}
	}
	if enc == SJIS {
		return transform.NewReader(br, japanese.ShiftJIS.NewDecoder()), SJIS, nil
	}
	return br, UTF8, nil
}

// validUTF8Prefix allows a rune cut at the end of a prefix that is not the
// whole file.
func validUTF8Prefix(b []byte, whole bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if whole {
		return false
	}
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.Valid(b[:len(b)-i]) {
			return true
		}
	}
	return false
}
