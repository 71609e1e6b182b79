package pdf

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"shikaku"
)

// GlyphError stops a print run: texts that no configured font can draw.
// Nothing is printed wrong; staff decide what to do with each member.
type GlyphError struct {
	Problems []GlyphProblem
}

func (e *GlyphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "フォントにない文字を含むため印刷できない項目が %d 件あります。外字の扱いを決めてから再実行してください（設定ファイルの [print] で別のフォントも指定できます）:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p.String())
	}
	return b.String()
}

// NewGlyphError lists problems once each, by member.
func NewGlyphError(ps []GlyphProblem) *GlyphError { return &GlyphError{Problems: dedupe(ps)} }

// dedupe sorts problems and keeps one per member and field (a name is
// printed on the sheet, the card and the lists): the shortest text,
// which is the value itself.
func dedupe(ps []GlyphProblem) []GlyphProblem {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Who != ps[j].Who {
			return ps[i].Who < ps[j].Who
		}
		if ps[i].Field != ps[j].Field {
			return ps[i].Field < ps[j].Field
		}
		return len(ps[i].Text) < len(ps[j].Text)
	})
	out := ps[:0]
	for i, p := range ps {
		if i > 0 && p.Who == ps[i-1].Who && p.Field == ps[i-1].Field {
			continue
		}
		out = append(out, p)
	}
	return out
}

// SpoolFile is one PDF of a print run.
type SpoolFile struct {
	Name      string // wave1-0001.pdf
	Wave      int
	Envelopes int
	Bytes     int64
}

// SpoolResult is what a print run wrote.
type SpoolResult struct {
	Files []SpoolFile
	Pages int
}

// Placed is where a mailing's cover sheet went: which file and page.
type Placed func(m *shikaku.Mailing, file string, page int) error

// Spool renders the cover sheets of mailings (given in print order) into
// dir, in files of at most perFile envelopes that never mix two waves:
// wave1-0001.pdf, wave1-0002.pdf, … Batches are rendered in parallel on
// every core; placed is called for each mailing in print order, from
// one goroutine. If any text cannot be drawn the run goes on to find
// every such text and then fails with a *GlyphError.
func (f *Fonts) Spool(ctx context.Context, c *shikaku.Campaign, mailings iter.Seq2[*shikaku.Mailing, error], dir string, perFile int, placed Placed, progress func(envelopes int)) (*SpoolResult, error) {
	if perFile < 1 {
		perFile = shikaku.DefaultEnvelopesPerFile
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type batch struct {
		file     SpoolFile
		mailings []*shikaku.Mailing
	}
	workers := runtime.GOMAXPROCS(0)
	batches := make(chan *batch, workers)
	var (
		mu       sync.Mutex
		problems []GlyphProblem
		firstErr error
		files    []SpoolFile
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if ctx.Err() != nil {
					continue
				}
				data, ps, err := f.CoverSheets(c, b.mailings)
				if err != nil {
					fail(fmt.Errorf("%s: %w", b.file.Name, err))
					continue
				}
				if len(ps) > 0 {
					mu.Lock()
					problems = append(problems, ps...)
					mu.Unlock()
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, b.file.Name), data, 0o644); err != nil {
					fail(fmt.Errorf("印刷データ %s を書けません: %w", b.file.Name, err))
					continue
				}
				b.file.Bytes = int64(len(data))
				mu.Lock()
				files = append(files, b.file)
				mu.Unlock()
				if progress != nil {
					progress(b.file.Envelopes)
				}
			}
		}()
	}

	res := &SpoolResult{}
	var cur *batch
	seqInWave := 0
	send := func() {
		if cur != nil {
			select {
			case batches <- cur:
			case <-ctx.Done():
			}
			cur = nil
		}
	}
	var readErr error
	for m, err := range mailings {
		if err != nil {
			readErr = err
			break
		}
		if ctx.Err() != nil {
			break
		}
		if cur != nil && (cur.file.Wave != m.Wave || len(cur.mailings) == perFile) {
			send()
		}
		if cur == nil {
			if len(res.Files) == 0 || res.Files[len(res.Files)-1].Wave != m.Wave {
				seqInWave = 0
			}
			seqInWave++
			cur = &batch{file: SpoolFile{Name: fmt.Sprintf("wave%d-%04d.pdf", m.Wave, seqInWave), Wave: m.Wave}}
			res.Files = append(res.Files, cur.file)
			cur.mailings = make([]*shikaku.Mailing, 0, min(perFile, 1024))
		}
		cur.mailings = append(cur.mailings, m)
		cur.file.Envelopes++
		res.Files[len(res.Files)-1].Envelopes++
		res.Pages++
		if placed != nil {
			if err := placed(m, cur.file.Name, len(cur.mailings)); err != nil {
				readErr = err
				break
			}
		}
	}
	if readErr == nil {
		send()
	}
	close(batches)
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := parent.Err(); err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, NewGlyphError(problems)
	}
	sizes := map[string]int64{}
	for _, f := range files {
		sizes[f.Name] = f.Bytes
	}
	for i := range res.Files {
		res.Files[i].Bytes = sizes[res.Files[i].Name]
	}
	return res, nil
}
