// Package export writes the files of interface.md for a campaign:
// decisions.csv, envelopes.csv, employers/CODE.csv, summary.json, and the
// loss rows that matched no member. Each file is written to a temporary
// name and renamed, so a crash never leaves a half-written file behind a
// complete name.
package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"shikaku"
	"shikaku/pdf"
	"shikaku/wareki"
)

// Result tells what was written.
type Result struct {
	Summary   *shikaku.Summary
	Files     int
	Employers int
	Print     *PrintResult // nil when no PDFs were asked for
}

// Options say what to print.
type Options struct {
	// Fonts render the PDFs (print/ and employers/CODE.pdf); nil writes
	// the data files only.
	Fonts *pdf.Fonts
	// VendorEncoding of print/vendor.csv: "utf-8" or "sjis"; "" takes
	// the campaign's setting.
	VendorEncoding string
	// PrintProgress is told how many cover sheets are done.
	PrintProgress func(envelopes int)
	// Log takes each file's time at debug level; nil logs nothing.
	Log *slog.Logger
}

// Write exports the campaign of branch into dir.
func Write(ctx context.Context, s shikaku.Store, branch, dir string, opt Options) (*Result, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	c, err := s.Campaign(ctx, branch)
	if err != nil {
		return nil, err
	}
	// Nothing leaves the insurer while a DV-registered member is in it.
	if n, err := s.DVLeaks(ctx, branch); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, fmt.Errorf("DV登録のある加入者 %d 名が送付物に含まれているため、出力を中止しました。システム管理者に連絡してください", n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("出力先フォルダ %s を作れません: %w", dir, err)
	}
	// The files are independent reads: each runs on its own connection,
	// so the export uses both cores.
	res := &Result{Files: 5}
	var unmatched []shikaku.Loss
	// The summary is counted from the rows of the files it sums up: the
	// members and decisions from decisions.csv, one per member, the
	// envelopes, certificates and employers from envelopes.csv. A file
	// and summary.json cannot disagree, and nothing is read twice (SQLite,
	// 1 M members: 0.7 s of CPU for a GROUP BY of the decisions, 1.1 s for
	// the envelopes' counts).
	// Each job counts into fields of its own: decisions.csv the members
	// and decisions, envelopes.csv (through mail) the rest.
	sum := shikaku.NewSummary(c)
	mail := shikaku.NewMailCount(sum)
	// In the order they start: see below.
	jobs := []exportJob{
		{"employers", func() error {
			n, err := writeEmployerLists(ctx, s, c, opt.Fonts, dir)
			res.Employers = n
			return err
		}},
		{"decisions.csv", func() error {
			return WriteCSV(filepath.Join(dir, "decisions.csv"), []string{"branch_code", "symbol", "number", "branch_no", "decision"},
				func(w *csv.Writer) error {
					rec := make([]string, 5)
					for d, err := range s.Decisions(ctx, branch) {
						if err != nil {
							return err
						}
						sum.Members++
						sum.Decisions[d.Decision]++
						rec[0], rec[1], rec[2], rec[3], rec[4] = d.Key.Branch, d.Key.Symbol, d.Key.Number, d.Key.BranchNo, string(d.Decision)
						if err := w.Write(rec); err != nil {
							return err
						}
					}
					return nil
				})
		}},
		{"envelopes.csv", func() error {
			return WriteCSV(filepath.Join(dir, "envelopes.csv"), []string{"envelope_id", "tracking_no", "send_on", "k", "n", "postal_code",
				"branch_code", "symbol", "number", "branch_no", "certificate_id", "valid_until"},
				func(w *csv.Writer) error {
					rec := make([]string, 12)
					for l, err := range s.EnvelopeLines(ctx, branch) {
						if err != nil {
							return err
						}
						mail.Add(&l)
						rec[0], rec[1], rec[2] = l.EnvelopeID, l.TrackingNumber.String(), wareki.Format(l.SendOn)
						rec[3], rec[4], rec[5] = strconv.Itoa(l.K), strconv.Itoa(l.N), l.PostalCode
						rec[6], rec[7], rec[8], rec[9] = l.Member.Branch, l.Member.Symbol, l.Member.Number, l.Member.BranchNo
						rec[10], rec[11] = l.CertificateID, wareki.Format(l.ValidUntil)
						if err := w.Write(rec); err != nil {
							return err
						}
					}
					return nil
				})
		}},
		{"losses_unmatched.csv", func() error {
			var err error
			if unmatched, err = s.UnmatchedLosses(ctx, branch); err != nil {
				return err
			}
			return WriteCSV(filepath.Join(dir, "losses_unmatched.csv"), []string{"branch_code", "symbol", "number", "branch_no", "lost_on", "reason"},
				func(w *csv.Writer) error {
					for _, l := range unmatched {
						if err := w.Write([]string{l.Key.Branch, l.Key.Symbol, l.Key.Number, l.Key.BranchNo, wareki.Format(l.LostOn), l.Reason}); err != nil {
							return err
						}
					}
					return nil
				})
		}},
	}
	if opt.Fonts != nil {
		jobs = append([]exportJob{{"print", func() error {
			enc := opt.VendorEncoding
			if enc == "" {
				enc = c.Print.VendorEncoding
			}
			var err error
			res.Print, err = writePrint(ctx, s, c, opt.Fonts, dir, enc, opt.PrintProgress)
			return err
		}}}, jobs...)
	}
	// As many files are written at once as there are cores, the longest
	// first: the printing, then the employer lists, whose sorted read
	// comes before their first file. With every job started at once, each
	// had an equal share of the cores and the employer lists finished
	// alone on one core, the other idle (1 M members, export alone:
	// 4.6-4.9 s -> 3.7-4.7 s, three alternating runs).
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, job := range jobs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			start := time.Now()
			errs[i] = job.run()
			opt.Log.Debug("export file written", "file", job.name, "seconds", time.Since(start).Seconds())
		}()
	}
	wg.Wait()
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	res.Files += res.Employers
	if res.Print != nil {
		res.Files += res.Employers + len(res.Print.Files) + 1
	}
	mail.Done()
	res.Summary = sum
	if err := writeFile(filepath.Join(dir, "summary.json"), func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(SummaryJSON(c, sum, unmatched))
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// exportJob writes one file, or one folder of files, of the export.
type exportJob struct {
	name string
	run  func() error
}

// Summary is the layout of summary.json.
type Summary struct {
	Campaign         string                     `json:"campaign"`
	BranchCode       string                     `json:"branch_code"`
	Members          int                        `json:"members"`
	Decisions        map[shikaku.ReasonCode]int `json:"decisions"`
	Certificates     int                        `json:"certificates"`
	Envelopes        int                        `json:"envelopes"`
	EnvelopesBySize  map[string]int             `json:"envelopes_by_size"`
	EnvelopesPerWave []Wave                     `json:"envelopes_per_wave"`
	Employers        int                        `json:"employers"`
	// EnvelopesByLanguage counts envelopes per flyer language (外国語版
	// チラシ): which flyer the print vendor puts in.
	EnvelopesByLanguage map[string]int `json:"envelopes_by_language"`
	Postage             Postage        `json:"postage"`
	UnmatchedLosses     Unmatched      `json:"unmatched_losses"`
}

// Wave is one send in summary.json.
type Wave struct {
	Wave         int    `json:"wave"`
	SendOn       string `json:"send_on"`
	Envelopes    int    `json:"envelopes"`
	Certificates int    `json:"certificates"`
}

// Postage is what the envelopes cost to send.
type Postage struct {
	PerEnvelopeYen int `json:"per_envelope_yen"`
	TotalYen       int `json:"total_yen"`
}

// Unmatched lists loss rows whose key is no member of the branch.
type Unmatched struct {
	Count int      `json:"count"`
	Keys  []string `json:"keys"`
}

// SummaryJSON builds the content of summary.json.
func SummaryJSON(c *shikaku.Campaign, sum *shikaku.Summary, unmatched []shikaku.Loss) Summary {
	out := Summary{
		Campaign: c.Name, BranchCode: c.BranchCode, Members: sum.Members, Decisions: sum.Decisions,
		Certificates: sum.Certificates, Envelopes: sum.Envelopes, EnvelopesBySize: map[string]int{},
		Employers:           sum.Employers,
		EnvelopesByLanguage: sum.EnvelopesByLanguage,
		Postage:             Postage{PerEnvelopeYen: c.EnvelopeCostYen(), TotalYen: c.EnvelopeCostYen() * sum.Envelopes},
		UnmatchedLosses:     Unmatched{Count: len(unmatched), Keys: []string{}},
	}
	for size, n := range sum.EnvelopesBySize {
		out.EnvelopesBySize[strconv.Itoa(size)] = n
	}
	for _, w := range sum.Waves {
		out.EnvelopesPerWave = append(out.EnvelopesPerWave, Wave{w.Wave, wareki.Format(w.SendOn), w.Envelopes, w.Certificates})
	}
	for _, l := range unmatched {
		out.UnmatchedLosses.Keys = append(out.UnmatchedLosses.Keys, l.Key.String())
	}
	return out
}

// joinErrors joins the errors of the export jobs. The glyph problems of
// the print run and of the employer lists become one list, so that staff
// see every member concerned once.
func joinErrors(errs []error) error {
	var glyphs []pdf.GlyphProblem
	var others []error
	for _, err := range errs {
		var ge *pdf.GlyphError
		if errors.As(err, &ge) {
			glyphs = append(glyphs, ge.Problems...)
		} else if err != nil {
			others = append(others, err)
		}
	}
	if len(glyphs) > 0 {
		others = append([]error{pdf.NewGlyphError(glyphs)}, others...)
	}
	return errors.Join(others...)
}

// writeEmployerLists writes one CSV per employer into dir/employers, and
// its PDF when fonts are given. The rows come sorted by employer; each
// list is built in memory; a few goroutines render the PDFs (bound by the
// CPU), and the files are created one at a time: creators in one folder
// queue on its lock, and Linux spins while they wait (measured: 40,000
// lists took 4 times the CPU with 4 creators, 17 s beside a busy
// PostgreSQL, for no gain in time). The lists go to a fresh folder that
// replaces the old one, so no list of an earlier export survives next to
// the new ones.
func writeEmployerLists(ctx context.Context, s shikaku.Store, c *shikaku.Campaign, fonts *pdf.Fonts, dir string) (int, error) {
	branch := c.BranchCode
	final := filepath.Join(dir, "employers")
	tmp := filepath.Join(dir, ".employers.tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return 0, err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return 0, fmt.Errorf("出力先フォルダ %s を作れません: %w", tmp, err)
	}
	type list struct {
		code  string
		data  []byte
		lines []shikaku.EmployerLine
	}
	lists := make(chan list, 64)
	errs := make(chan error, 4)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		problems []pdf.GlyphProblem
		creating sync.Mutex
	)
	write := func(path string, data []byte) error {
		creating.Lock()
		defer creating.Unlock()
		return writeSmallFile(path, data)
	}
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range lists {
				if err := write(filepath.Join(tmp, safeName(l.code)+".csv"), l.data); err != nil {
					report(err)
				}
				if fonts == nil || len(l.lines) == 0 {
					continue
				}
				b, ps, err := fonts.EmployerListPDF(c, &pdf.EmployerList{Employer: l.lines[0].Employer, Lines: l.lines})
				switch {
				case err != nil:
					report(fmt.Errorf("事業所 %s の対象者一覧表: %w", l.code, err))
				case len(ps) > 0:
					mu.Lock()
					problems = append(problems, ps...)
					mu.Unlock()
				default:
					if err := write(filepath.Join(tmp, safeName(l.code)+".pdf"), b); err != nil {
						report(err)
					}
				}
			}
		}()
	}
	header := []string{"employer_code", "symbol", "number", "branch_no", "name", "name_kana", "relationship", "send_on"}
	var (
		cur   string
		buf   bytes.Buffer
		w     *csv.Writer
		count int
		lines []shikaku.EmployerLine
	)
	send := func() {
		if w == nil {
			return
		}
		w.Flush()
		lists <- list{cur, bytes.Clone(buf.Bytes()), lines}
		buf.Reset()
		lines = nil
		count++
	}
	var readErr error
	for l, err := range s.EmployerLines(ctx, branch) {
		if err != nil {
			readErr = err
			break
		}
		if w == nil || l.EmployerCode != cur {
			send()
			cur = l.EmployerCode
			w = csv.NewWriter(&buf)
			w.Write(header)
		}
		w.Write([]string{l.EmployerCode, l.Member.Symbol, l.Member.Number, l.Member.BranchNo,
			l.Name, l.NameKana, l.Relationship.Label(), wareki.Format(l.SendOn)})
		if fonts != nil {
			lines = append(lines, l)
		}
	}
	if readErr == nil {
		send()
	}
	close(lists)
	wg.Wait()
	close(errs)
	if readErr != nil {
		return 0, readErr
	}
	if err := <-errs; err != nil {
		os.RemoveAll(tmp)
		return 0, fmt.Errorf("対象者一覧表を書けません: %w", err)
	}
	if len(problems) > 0 {
		os.RemoveAll(tmp)
		return 0, pdf.NewGlyphError(problems)
	}
	if err := os.RemoveAll(final); err != nil {
		return 0, fmt.Errorf("古い対象者一覧表 %s を削除できません: %w", final, err)
	}
	return count, os.Rename(tmp, final)
}

// safeName keeps an employer code usable as a file name.
func safeName(code string) string {
	b := []byte(code)
	for i, c := range b {
		if c == '/' || c == '\\' || c == 0 {
			b[i] = '_'
		}
	}
	return string(b)
}

// WriteCSV writes a CSV file with its header through a temporary file
// renamed into place, so that no half-written file ever has the name.
func WriteCSV(path string, header []string, rows func(*csv.Writer) error) error {
	return writeFile(path, func(bw *bufio.Writer) error {
		w := csv.NewWriter(bw)
		if err := w.Write(header); err != nil {
			return err
		}
		if err := rows(w); err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	})
}

// writeFile writes through a temporary file renamed into place.
func writeFile(path string, fill func(*bufio.Writer) error) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("%s を書けません: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := fill(bw); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s を書けません: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeSmallFile writes a whole file with plain system calls. os.WriteFile
// also registers every file with the runtime's poller (several fcntl and
// epoll calls each), which for tens of thousands of small lists costs more
// than writing them.
func writeSmallFile(path string, data []byte) error {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &os.PathError{Op: "write", Path: path, Err: err}
		}
		data = data[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}
