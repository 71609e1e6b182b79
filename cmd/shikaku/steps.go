package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"shikaku"
	"shikaku/csvin"
	"shikaku/export"
	"shikaku/pdf"
	"shikaku/pipe"
	"shikaku/settings"
)

// The steps of a campaign, shared by the single commands and by run,
// demo and bench.

func openInput(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("入力ファイル %s を開けません: %w", path, err)
	}
	return f, nil
}

// counted reports progress while a reader's rows go by.
func counted[T any](rows iter.Seq2[T, error], p *progress) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		n := 0
		for v, err := range rows {
			if err == nil {
				n++
				if n%4096 == 0 {
					p.set(n)
				}
			}
			if !yield(v, err) {
				return
			}
		}
		p.done()
	}
}

func stepImportMembers(ctx context.Context, e *env, s shikaku.Store, path string, opt csvin.Options) (map[string]int, error) {
	return importMembers(ctx, e, s, path, opt, func(rows iter.Seq2[*shikaku.Member, error]) (map[string]int, error) {
		return s.ImportMembers(ctx, rows)
	})
}

// stepImportAndExtract imports the members and extracts c's branch on the
// way, when the store can (run on a fresh database). It returns nil counts
// when the store imported alone: extract is then still to run.
func stepImportAndExtract(ctx context.Context, e *env, s shikaku.Store, ie shikaku.ImportExtractor, path string, opt csvin.Options, c *shikaku.Campaign, settings string) (map[shikaku.ReasonCode]int, error) {
	start := time.Now()
	rules := c.Rules()
	var decided map[shikaku.ReasonCode]int
	members, err := importMembers(ctx, e, s, path, opt, func(rows iter.Seq2[*shikaku.Member, error]) (map[string]int, error) {
		members, d, err := ie.ImportAndExtract(ctx, rows, c, settings, rules.Decide)
		decided = d
		return members, err
	})
	if err != nil || decided == nil {
		return nil, err
	}
	reportExtract(e, c, members[c.BranchCode], decided, start)
	return decided, nil
}

// importMembers reads the member file into store, and reports what it
// imported.
func importMembers(ctx context.Context, e *env, s shikaku.Store, path string, opt csvin.Options, store func(iter.Seq2[*shikaku.Member, error]) (map[string]int, error)) (map[string]int, error) {
	start := time.Now()
	codes, err := s.EmployerCodes(ctx)
	if err != nil {
		return nil, err
	}
	opt.File = path
	// Files sorted by key (as core systems export them) are checked in
	// constant memory; an unsorted file is read again with an index.
	opt.AssumeSorted = true
	counts, err := importMembersOnce(e, path, opt, codes, store)
	if errors.Is(err, csvin.ErrNotSorted) {
		e.log.Info("members file is not sorted by key; reading it again with an index in memory", "file", path)
		opt.AssumeSorted = false
		counts, err = importMembersOnce(e, path, opt, codes, store)
	}
	if err != nil {
		return nil, err
	}
	branches := make([]string, 0, len(counts))
	for b := range counts {
		branches = append(branches, b)
	}
	sort.Strings(branches)
	for _, b := range branches {
		fmt.Fprintf(e.stdout, "加入者 %s 名を取り込みました（支部 %s）\n", num(counts[b]), b)
	}
	if len(counts) == 0 {
		fmt.Fprintln(e.stdout, "加入者ファイルにデータ行がありませんでした")
	}
	e.log.Info("import members", "file", path, "branches", counts, "elapsed", time.Since(start))
	return counts, nil
}

func importMembersOnce(e *env, path string, opt csvin.Options, codes map[string]bool, store func(iter.Seq2[*shikaku.Member, error]) (map[string]int, error)) (map[string]int, error) {
	f, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := e.progress(-1, "加入者を取り込み中")
	defer p.done()
	// Parsing and validating run a few batches ahead of the inserts.
	return store(pipe.AheadCopies(counted(csvin.Members(f, opt, func(c string) bool { return codes[c] }), p)))
}

func stepImportEmployers(ctx context.Context, e *env, s shikaku.Store, path string, opt csvin.Options) (int, error) {
	f, err := openInput(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	opt.File = path
	n, err := s.ImportEmployers(ctx, csvin.Employers(f, opt))
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(e.stdout, "事業所 %s 件を取り込みました\n", num(n))
	e.log.Info("import employers", "file", path, "rows", n)
	return n, nil
}

func stepExtract(ctx context.Context, e *env, s shikaku.Store, campaignPath string) (*shikaku.Campaign, map[shikaku.ReasonCode]int, error) {
	start := time.Now()
	c, text, err := settings.Load(campaignPath)
	if err != nil {
		return nil, nil, err
	}
	n, err := s.MemberCount(ctx, c.BranchCode)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, fmt.Errorf("支部 %s の加入者がいません。先に shikaku import members FILE で加入者を取り込んでください", c.BranchCode)
	}
	// A re-extract starts over: say so when it undoes a cross-match.
	before, err := s.Steps(ctx, c.BranchCode)
	if err != nil {
		return nil, nil, err
	}
	rules := c.Rules()
	p := e.progress(n, "対象者を判定中")
	done := 0
	counts, err := s.Extract(ctx, c, text, func(h *shikaku.Household, out []shikaku.ReasonCode) {
		rules.Decide(h, out)
		done += len(h.Members)
		if done%8192 < len(h.Members) {
			p.set(done)
		}
	})
	p.done()
	if err != nil {
		return nil, nil, err
	}
	reportExtract(e, c, n, counts, start)
	for _, st := range before {
		if st.Name == shikaku.StepCrossMatch {
			fmt.Fprintln(e.stdout, "注意: 判定をやり直したため、以前の資格喪失データとの突合は取り消されました。crossmatch をもう一度実行してください")
		}
	}
	return c, counts, nil
}

func reportExtract(e *env, c *shikaku.Campaign, members int, counts map[shikaku.ReasonCode]int, start time.Time) {
	fmt.Fprintf(e.stdout, "支部 %s の加入者 %s 名を判定しました（送付対象 %s 名）\n", c.BranchCode, num(members), num(counts[shikaku.Target]))
	e.log.Info("extract", "branch", c.BranchCode, "members", members, "targets", counts[shikaku.Target], "elapsed", time.Since(start))
}

func stepCrossMatch(ctx context.Context, e *env, s shikaku.Store, branch, path string, opt csvin.Options) (shikaku.CrossMatchResult, error) {
	start := time.Now()
	c, err := s.Campaign(ctx, branch)
	if err != nil {
		return shikaku.CrossMatchResult{}, err
	}
	f, err := openInput(path)
	if err != nil {
		return shikaku.CrossMatchResult{}, err
	}
	defer f.Close()
	opt.File = path
	losses, err := csvin.Losses(f, opt)
	if err != nil {
		return shikaku.CrossMatchResult{}, err
	}
	idx := shikaku.NewLossIndex(c.Dates.LossDataAsOf, losses)
	res, err := s.CrossMatch(ctx, branch, path, losses, idx.Removes)
	if err != nil {
		return res, err
	}
	for _, l := range losses {
		if idx.Effective(l) {
			res.Effective++
		} else {
			res.Later++
		}
	}
	if res.Recorded {
		fmt.Fprintf(e.stdout, "資格喪失データ %s 件を記録しました（封入後のため判定は変えません。再送時に無効化します）\n", num(res.Rows))
	} else {
		fmt.Fprintf(e.stdout, "資格喪失データ %s 件と突合し、送付対象から %s 名を除きました（%s 以降の喪失 %s 件は対象外）\n",
			num(res.Rows), num(res.Removed), c.Dates.LossDataAsOf.Format("2006-01-02"), num(res.Later))
	}
	if len(res.Unknown) > 0 {
		keys := make([]string, 0, min(len(res.Unknown), 10))
		for _, k := range res.Unknown[:min(len(res.Unknown), 10)] {
			keys = append(keys, k.String())
		}
		more := ""
		if len(res.Unknown) > 10 {
			more = fmt.Sprintf(" ほか %d 件", len(res.Unknown)-10)
		}
		fmt.Fprintf(e.stdout, "注意: 加入者データにないキーが %s 件ありました: %s%s（export の losses_unmatched.csv に全件を出力します）\n",
			num(len(res.Unknown)), strings.Join(keys, ", "), more)
	}
	e.log.Info("crossmatch", "branch", branch, "rows", res.Rows, "removed", res.Removed, "unknown", len(res.Unknown), "elapsed", time.Since(start))
	return res, nil
}

func stepPack(ctx context.Context, e *env, s shikaku.Store, branch string) (shikaku.PackResult, error) {
	start := time.Now()
	c, err := s.Campaign(ctx, branch)
	if err != nil {
		return shikaku.PackResult{}, err
	}
	e.log.Info("pack started", "branch", branch)
	var p *progress
	res, err := s.Pack(ctx, branch, func(tx shikaku.PackTx) (shikaku.PackResult, error) {
		return shikaku.PackCampaign(ctx, c, tx, func(envelopes int) {
			if p == nil {
				p = e.progress(-1, "封筒を作成中")
			}
			p.set(envelopes)
			e.log.Debug("pack envelopes saved", "envelopes", envelopes)
		})
	})
	if p != nil {
		p.done()
	}
	if err != nil {
		return res, err
	}
	fmt.Fprintf(e.stdout, "%s 世帯の資格確認書 %s 枚を封筒 %s 通に封入しました\n", num(res.Households), num(res.Certificates), num(res.Envelopes))
	e.log.Info("pack", "branch", branch, "envelopes", res.Envelopes, "certificates", res.Certificates, "elapsed", time.Since(start))
	return res, nil
}

// printOptions are the export's choices about PDFs.
type printOptions struct {
	noPDF          bool
	vendorEncoding string
	// fontsOptional (demo) writes the data files without PDFs, with a
	// notice, when the fonts are not installed; elsewhere that is an error.
	fontsOptional bool
}

// printFlags adds the options of commands that export.
func (f *flags) printFlags() *printOptions {
	po := &printOptions{}
	f.BoolVar(&po.noPDF, "no-pdf", false, "PDF（print/ と employers/*.pdf）を作らず、CSV と集計だけを出力する")
	f.StringVar(&po.vendorEncoding, "vendor-encoding", "", "印刷業者向けデータ print/vendor.csv の文字コード: utf-8 または sjis（既定は設定ファイルの [print] vendor_encoding、なければ utf-8）")
	return po
}

func stepExport(ctx context.Context, e *env, s shikaku.Store, branch, dir string, po *printOptions) (*export.Result, error) {
	start := time.Now()
	c, err := s.Campaign(ctx, branch)
	if err != nil {
		return nil, err
	}
	var opt export.Options
	if po == nil {
		po = &printOptions{}
	}
	switch po.vendorEncoding {
	case "", "utf-8", "sjis":
		opt.VendorEncoding = po.vendorEncoding
	default:
		return nil, usagef("--vendor-encoding %q は utf-8 か sjis にしてください", po.vendorEncoding)
	}
	var p *progress
	if !po.noPDF {
		var mu sync.Mutex
		n := 0
		opt.PrintProgress = func(envelopes int) {
			mu.Lock()
			defer mu.Unlock()
			if p == nil {
				p = e.progress(-1, "送付書を印刷データに出力中")
			}
			n += envelopes
			p.set(n)
		}
		fonts, err := pdf.LoadFonts(c.Print.GothicFont, c.Print.MinchoFont)
		switch {
		case err != nil && po.fontsOptional && errors.Is(err, pdf.ErrFontMissing):
			fmt.Fprintf(e.stderr, "お知らせ: %v\nPDF（print/ と employers/*.pdf）を省いて出力します。\n", err)
		case err != nil:
			return nil, err
		default:
			e.log.Debug("fonts loaded", "paths", fonts.Paths(), "elapsed", time.Since(start))
			opt.Fonts = fonts
		}
	}
	opt.Log = e.log
	res, err := export.Write(ctx, s, branch, dir, opt)
	if p != nil {
		p.done()
	}
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf(`{"employer_lists": %d, "files": %d}`, res.Employers, res.Files)
	if err := s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error { return tx.SaveStep(ctx, shikaku.StepExport, detail) }); err != nil {
		return nil, err
	}
	if res.Print != nil {
		fmt.Fprintf(e.stdout, "%s に出力しました（対象者一覧表 %s 事業所、印刷データ %s ファイル・%s ページ）\n",
			dir, num(res.Employers), num(len(res.Print.Files)), num(res.Print.Pages))
	} else {
		fmt.Fprintf(e.stdout, "%s に出力しました（対象者一覧表 %s 事業所、PDF なし）\n", dir, num(res.Employers))
	}
	e.log.Info("export", "branch", branch, "dir", dir, "files", res.Files, "elapsed", time.Since(start))
	return res, nil
}

// num writes n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
