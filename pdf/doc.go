package pdf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/boombuler/barcode/code128"
	"github.com/signintech/gopdf"
)

// GlyphProblem is a printed text that no configured font can draw. It is
// never printed: the run stops and lists every one, so that staff decide.
type GlyphProblem struct {
	Who   string // member key or employer code
	Field string // 氏名, 住所, …
	Text  string
	Chars []rune
}

func (p GlyphProblem) String() string {
	var cs []string
	for _, r := range p.Chars {
		cs = append(cs, fmt.Sprintf("%c (U+%04X)", r, r))
	}
	return fmt.Sprintf("%s %s「%s」: %s", p.Who, p.Field, p.Text, strings.Join(cs, ", "))
}

// doc is one PDF being drawn, in millimetres on A4 portrait.
type doc struct {
	fonts     *Fonts
	gp        gopdf.GoPdf
	family    string
	size      float64
	problems  []GlyphProblem
	hasMincho bool // IPAmj added to this document

	texts    []string // the campaign's paragraphs, built once per document
	textsFor any
}

func (f *Fonts) newDoc(title string) (*doc, error) {
	d := &doc{fonts: f}
	d.gp.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitMM})
	d.gp.SetInfo(gopdf.PdfInfo{Title: title, Creator: "shikaku"})
	// IPAmj is embedded only into documents that use it: every embedded
	// font carries tables sized by its whole glyph count (60,000 for
	// IPAmj), which dominated the size and time of a one-page list.
	if err := d.gp.AddTTFFontFromFontContainer(gothic, f.container); err != nil {
		return nil, fmt.Errorf("フォント %s を PDF に登録できません: %w", gothic, err)
	}
	// The finisher compresses the streams (see finisher).
	d.gp.SetNoCompression()
	d.gp.SetLineWidth(0.2)
	return d, nil
}

func (d *doc) setFont(family string, size float64) {
	if d.family == family && d.size == size {
		return
	}
	d.gp.SetFont(family, "", size)
	d.family, d.size = family, size
}

// text draws s with its top-left corner at (x, y). Texts that are data
// (who != "") take IPAmj Mincho when IPAex Gothic lacks a character; a
// text that no font can draw is recorded as a problem and not drawn.
func (d *doc) text(x, y, size float64, s, who, field string) {
	if s == "" {
		return
	}
	fam, ok := d.fonts.familyFor(s)
	if !ok {
		d.problems = append(d.problems, GlyphProblem{Who: who, Field: field, Text: s, Chars: d.fonts.Missing(s)})
		return
	}
	if fam == mincho && !d.hasMincho {
		if err := d.gp.AddTTFFontFromFontContainer(mincho, d.fonts.container); err != nil {
			d.problems = append(d.problems, GlyphProblem{Who: who, Field: field, Text: s, Chars: []rune(s)})
			return
		}
		d.hasMincho = true
	}
	d.setFont(fam, size)
	d.gp.SetXY(x, y)
	d.gp.Cell(nil, s)
}

// fixed draws text of the document itself (not data), known to be in
// the text font.
func (d *doc) fixed(x, y, size float64, s string) {
	d.setFont(gothic, size)
	d.gp.SetXY(x, y)
	d.gp.Cell(nil, s)
}

// width measures s in the text font at size.
func (d *doc) width(size float64, s string) float64 {
	d.setFont(gothic, size)
	w, _ := d.gp.MeasureTextWidth(s)
	return w
}

// right draws fixed text ending at x.
func (d *doc) right(x, y, size float64, s string) {
	d.fixed(x-d.width(size, s), y, size, s)
}

// centre draws fixed text centred on x.
func (d *doc) centre(x, y, size float64, s string) {
	d.fixed(x-d.width(size, s)/2, y, size, s)
}

// paragraph draws fixed text wrapped to width, returning the y below it.
// The wrapping of a text depends only on the font, so it is computed once
// per process.
func (d *doc) paragraph(x, y, width, size, leading float64, s string) float64 {
	for _, line := range d.lines(width, size, s) {
		d.fixed(x, y, size, line)
		y += leading
	}
	return y
}

var wrapCache sync.Map // wrapKey → []string

type wrapKey struct {
	width, size float64
	text        string
}

func (d *doc) lines(width, size float64, s string) []string {
	k := wrapKey{width, size, s}
	if v, ok := wrapCache.Load(k); ok {
		return v.([]string)
	}
	d.setFont(gothic, size)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		ls, err := d.gp.SplitText(para, width)
		if err != nil || len(ls) == 0 {
			ls = []string{para}
		}
		out = append(out, kinsoku(ls)...)
	}
	wrapCache.Store(k, out)
	return out
}

// kinsoku moves closing punctuation that a wrap put at the start of a
// line to the end of the line before (行頭禁則), as Japanese print does.
func kinsoku(lines []string) []string {
	const noStart = "、。，．）」』】〕・ー！？"
	for i := 1; i < len(lines); i++ {
		for lines[i] != "" {
			r := []rune(lines[i])
			if !strings.ContainsRune(noStart, r[0]) {
				break
			}
			lines[i-1] += string(r[0])
			lines[i] = string(r[1:])
		}
	}
	return lines
}

func (d *doc) rect(x, y, w, h float64) { d.gp.RectFromUpperLeftWithStyle(x, y, w, h, "D") }

func (d *doc) fill(x, y, w, h float64) { d.gp.RectFromUpperLeftWithStyle(x, y, w, h, "F") }

func (d *doc) line(x1, y1, x2, y2 float64) { d.gp.Line(x1, y1, x2, y2) }

func (d *doc) dashed(x, y, w, h float64) {
	d.gp.SetLineType("dashed")
	d.rect(x, y, w, h)
	d.gp.SetLineType("")
}

// barcode draws data as Code128 in the box (x, y, w, h), bars only. The
// module width follows from w, so a wider box gives a more robust code.
func (d *doc) barcode(x, y, w, h float64, data string) error {
	bc, err := code128.Encode(data)
	if err != nil {
		return fmt.Errorf("バーコード %q を作れません: %w", data, err)
	}
	b := bc.Bounds()
	n := b.Dx()
	mod := w / float64(n)
	d.gp.SetGrayFill(0)
	start := -1
	for i := 0; i <= n; i++ {
		black := false
		if i < n {
			r, _, _, _ := bc.At(b.Min.X+i, b.Min.Y).RGBA()
			black = r == 0
		}
		switch {
		case black && start < 0:
			start = i
		case !black && start >= 0:
			d.fill(x+float64(start)*mod, y, float64(i-start)*mod, h)
			start = -1
		}
	}
	return nil
}

// finishers are reused between documents: each holds buffers and a zlib
// writer (about 1 MB) that every document would otherwise allocate.
var finishers = sync.Pool{New: func() any { return newFinisher() }}

// bytes compiles the document and returns the finished PDF.
func (d *doc) bytes() ([]byte, error) {
	f := finishers.Get().(*finisher)
	defer finishers.Put(f)
	f.in.Reset()
	if _, err := d.gp.WriteTo(&f.in); err != nil {
		return nil, err
	}
	out, err := f.finish(f.in.Bytes())
	return bytes.Clone(out), err
}
