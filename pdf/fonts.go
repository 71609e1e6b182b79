// Package pdf renders the printed documents of a campaign: the cover sheet
// with the mounted 資格確認書 cards (送付書兼資格確認書貼付台紙), the employer
// target lists (対象者一覧表) and the cover letter of envelopes re-sent to
// an employer (事業所様宛送付文書). It draws with gopdf and Japanese
// TrueType fonts parsed once and shared by every document.
package pdf

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"unicode"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/sfnt"
)

// Font families as the documents name them.
const (
	gothic = "gothic" // IPAex Gothic: every text
	mincho = "mj"     // IPAmj Mincho: names and addresses IPAex cannot draw
)

// Standard Debian paths of the fonts (fonts-ipaexfont, fonts-ipamj-mincho).
var (
	DefaultGothicPaths = []string{
		"/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
		"/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
		"/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
	}
	DefaultMinchoPaths = []string{
		"/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
		"/usr/share/fonts/opentype/ipamj/ipamjm.ttf",
	}
)

// Fonts are the parsed fonts of a run. They are safe for concurrent use:
// each document takes its own subset of the shared parse.
type Fonts struct {
	container *gopdf.FontContainer
	faces     [2]*face // gothic, mincho
}

type face struct {
	family string
	path   string
	font   *sfnt.Font
	pool   sync.Pool // *sfnt.Buffer

	mu    sync.RWMutex
	cache map[rune]bool
}

// has reports whether the face has a glyph for r.
func (f *face) has(r rune) bool {
	f.mu.RLock()
	v, ok := f.cache[r]
	f.mu.RUnlock()
	if ok {
		return v
	}
	buf, _ := f.pool.Get().(*sfnt.Buffer)
	if buf == nil {
		buf = new(sfnt.Buffer)
	}
	gi, err := f.font.GlyphIndex(buf, r)
	f.pool.Put(buf)
	v = err == nil && gi != 0
	f.mu.Lock()
	f.cache[r] = v
	f.mu.Unlock()
	return v
}

// covers reports whether the face draws every character of s.
func (f *face) covers(s string) bool {
	for _, r := range s {
		if !drawable(r) {
			continue
		}
		if !f.has(r) {
			return false
		}
	}
	return true
}

// drawable is false for characters that are not drawn (spaces, controls).
func drawable(r rune) bool {
	return !unicode.IsSpace(r) && !unicode.IsControl(r) && r != 0x200B && r != 0xFEFF
}

// ErrFontMissing is returned when a font file cannot be found.
var ErrFontMissing = errors.New("フォントが見つかりません")

// FindFont returns the configured path if set, or the first of the
// standard paths that exists.
func FindFont(configured string, standard []string, pkg string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", fmt.Errorf("%w: 設定ファイルの [print] に指定されたフォント %s を開けません（%v）", ErrFontMissing, configured, err)
		}
		return configured, nil
	}
	for _, p := range standard {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s が見当たりません。`apt-get install %s` でインストールするか、設定ファイルの [print] でフォントのパスを指定してください", ErrFontMissing, standard[0], pkg)
}

// LoadFonts parses the text font (IPAex Gothic) and the font for rare
// name characters (IPAmj Mincho) once. Empty paths take the standard ones.
func LoadFonts(gothicPath, minchoPath string) (*Fonts, error) {
	g, err := FindFont(gothicPath, DefaultGothicPaths, "fonts-ipaexfont")
	if err != nil {
		return nil, err
	}
	m, err := FindFont(minchoPath, DefaultMinchoPaths, "fonts-ipamj-mincho")
	if err != nil {
		return nil, err
	}
	f := &Fonts{container: new(gopdf.FontContainer)}
	for i, spec := range []struct{ family, path string }{{gothic, g}, {mincho, m}} {
		data, err := os.ReadFile(spec.path)
		if err != nil {
			return nil, fmt.Errorf("フォント %s を読めません: %w", spec.path, err)
		}
		sf, err := sfnt.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("フォント %s は TrueType として読めません（CFF 形式の OpenType は使えません）: %w", spec.path, err)
		}
		if err := f.container.AddTTFFontData(spec.family, data); err != nil {
			return nil, fmt.Errorf("フォント %s を PDF 用に読めません: %w", spec.path, err)
		}
		f.faces[i] = &face{family: spec.family, path: spec.path, font: sf, cache: map[rune]bool{}}
	}
	return f, nil
}

// Paths are the font files in use, text font first.
func (f *Fonts) Paths() []string { return []string{f.faces[0].path, f.faces[1].path} }

// familyFor picks the font that draws all of s: IPAex Gothic when it can,
// else IPAmj Mincho. ok is false when neither can.
func (f *Fonts) familyFor(s string) (family string, ok bool) {
	if f.faces[0].covers(s) {
		return gothic, true
	}
	if f.faces[1].covers(s) {
		return mincho, true
	}
	return gothic, false
}

// Missing lists the characters of s that no configured font can draw.
func (f *Fonts) Missing(s string) []rune {
	var out []rune
	for _, r := range s {
		if drawable(r) && !f.faces[0].has(r) && !f.faces[1].has(r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
