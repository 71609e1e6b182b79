package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/width"

	"shikaku"
	"shikaku/export"
	"shikaku/settings"
	"shikaku/wareki"
)

func init() {
	register(command{"run", "init から export までを新しいデータベースで一度に実行します", runRun})
	register(command{"demo", "合成データを作り、キャンペーン全体を実行します", runDemo})
}

// inputs are the files of a whole run.
type inputs struct {
	campaign, members, employers, losses string
}

// timing is the time of one step.
type timing struct {
	step    string
	elapsed time.Duration
	cpu     time.Duration // CPU time of the process (user and system) in the step
	rssMiB  float64       // peak RSS of the process after the step
	anonMiB float64       // peak anonymous memory after the step (bench only)
}

// runAll does init, import, extract, crossmatch, pack and export into a
// fresh database, and returns the time of each step.
func runAll(ctx context.Context, e *env, url string, in inputs, out string, po *printOptions, anon *anonPeak) (*export.Result, *shikaku.Campaign, []timing, error) {
	var times []timing
	// timed runs one step and records its time and memory. The step's
	// goroutines carry a pprof label, so that a profile of a whole run
	// (bench --cpuprofile) can be read step by step (go tool pprof
	// -tagfocus step=pack).
	timed := func(step string, fn func() error) error {
		start, cpu := time.Now(), processCPU()
		pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("step", step)))
		defer pprof.SetGoroutineLabels(ctx)
		if err := fn(); err != nil {
			return err
		}
		times = append(times, timing{step, time.Since(start), processCPU() - cpu, peakRSSMiB(), anon.MiB()})
		return nil
	}
	var s shikaku.Store
	err := timed("init", func() error {
		opened, err := openStore(ctx, url)
		if err != nil {
			return err
		}
		s = opened // only when open: a failed Open returns a typed nil
		if branches, err := s.Branches(ctx); err != nil {
			return err
		} else if len(branches) > 0 {
			return fmt.Errorf("データベース %s にはすでにキャンペーン（支部 %s）があります。run は新しいデータベースで実行してください", redact(url), strings.Join(branches, ", "))
		}
		return nil
	})
	if s != nil {
		defer s.Close()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	opt, _ := csvOptions("auto", false)
	if err := timed("import employers", func() error {
		_, err := stepImportEmployers(ctx, e, s, in.employers, opt)
		return err
	}); err != nil {
		return nil, nil, times, err
	}
	// A store that can decide while importing spares extract the read of
	// every member back; it still imports alone when the file is not in
	// key order, and extract follows as a step of its own.
	var c *shikaku.Campaign
	if ie, ok := s.(shikaku.ImportExtractor); ok {
		if err := timed("import members + extract", func() error {
			loaded, text, err := settings.Load(in.campaign)
			if err != nil {
				return err
			}
			decided, err := stepImportAndExtract(ctx, e, s, ie, in.members, opt, loaded, text)
			if decided != nil {
				c = loaded
			}
			return err
		}); err != nil {
			return nil, nil, times, err
		}
	} else if err := timed("import members", func() error {
		_, err := stepImportMembers(ctx, e, s, in.members, opt)
		return err
	}); err != nil {
		return nil, nil, times, err
	}
	if c == nil {
		if err := timed("extract", func() error {
			var err error
			c, _, err = stepExtract(ctx, e, s, in.campaign)
			return err
		}); err != nil {
			return nil, nil, times, err
		}
	}
	if in.losses != "" {
		if err := timed("crossmatch", func() error {
			_, err := stepCrossMatch(ctx, e, s, c.BranchCode, in.losses, opt)
			return err
		}); err != nil {
			return nil, nil, times, err
		}
	}
	if err := timed("pack", func() error {
		_, err := stepPack(ctx, e, s, c.BranchCode)
		return err
	}); err != nil {
		return nil, nil, times, err
	}
	var res *export.Result
	if err := timed("export", func() error {
		var err error
		res, err = stepExport(ctx, e, s, c.BranchCode, out, po)
		return err
	}); err != nil {
		return nil, nil, times, err
	}
	return res, c, times, nil
}

// freshDB is the database a run uses: the one given, or OUT/shikaku.db
// made anew.
func freshDB(flagValue, out string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if os.Getenv("SHIKAKU_DB") != "" {
		return os.Getenv("SHIKAKU_DB"), nil
	}
	path := filepath.Join(out, "shikaku.db")
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("古いデータベース %s を削除できません: %w", p, err)
		}
	}
	return "sqlite:" + path, nil
}

func runRun(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "run", "run --campaign F --members F --employers F --losses F --out DIR [--no-pdf]")
	po := f.printFlags()
	var in inputs
	f.StringVar(&in.campaign, "campaign", "", "キャンペーン設定ファイル（TOML）")
	f.StringVar(&in.members, "members", "", "加入者ファイル")
	f.StringVar(&in.employers, "employers", "", "事業所ファイル")
	f.StringVar(&in.losses, "losses", "", "資格喪失者データ（省略可）")
	out := f.String("out", "", "出力先フォルダ")
	if _, err := f.parse(args); err != nil {
		return err
	}
	var missing []string
	for _, m := range []struct{ v, name string }{{in.campaign, "--campaign"}, {in.members, "--members"}, {in.employers, "--employers"}, {*out, "--out"}} {
		if m.v == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return usagef("%s を指定してください", strings.Join(missing, "、"))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("出力先フォルダ %s を作れません: %w", *out, err)
	}
	url, err := freshDB(*f.db, *out)
	if err != nil {
		return err
	}
	res, c, _, err := runAll(ctx, e, url, in, *out, po, nil)
	if err != nil {
		return err
	}
	printSummary(e.stdout, c, res)
	return nil
}

func runDemo(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "demo", "demo [--members N] [--out DIR] [--seed S] [--no-pdf]")
	po := f.printFlags()
	po.fontsOptional = true
	members := f.Int("members", 10000, "合成する加入者の数（おおよそ）")
	out := f.String("out", "demo-out", "出力先フォルダ")
	seed := f.Uint64("seed", 1, "乱数の種（同じ種なら同じデータ）")
	if _, err := f.parse(args); err != nil {
		return err
	}
	if *members < 1 {
		return usagef("--members は1以上にしてください")
	}
	inDir := filepath.Join(*out, "input")
	if err := os.MkdirAll(inDir, 0o755); err != nil {
		return fmt.Errorf("出力先フォルダ %s を作れません: %w", inDir, err)
	}
	files, err := generate(e, inDir, *members, *seed)
	if err != nil {
		return err
	}
	url, err := freshDB(*f.db, *out)
	if err != nil {
		return err
	}
	res, c, _, err := runAll(ctx, e, url, inputs{files.Campaign, files.Members, files.Employers, files.Losses}, *out, po, nil)
	if err != nil {
		return err
	}
	printSummary(e.stdout, c, res)
	return nil
}

// printSummary prints the campaign's counts as a table in Japanese.
func printSummary(w io.Writer, c *shikaku.Campaign, res *export.Result) {
	s := res.Summary
	fmt.Fprintf(w, "\n■ %s（支部 %s）集計\n", c.Name, c.BranchCode)
	row := func(label, value string) { fmt.Fprintf(w, "  %s %12s\n", padRight(label, 46), value) }
	row("加入者", num(s.Members)+" 名")
	for _, code := range shikaku.ReasonCodes {
		row("  "+code.Label()+"（"+string(code)+"）", num(s.Decisions[code])+" 名")
	}
	row("資格確認書", num(s.Certificates)+" 枚")
	row("封筒", num(s.Envelopes)+" 通")
	for size := 1; size <= c.Mail.PerEnvelope; size++ {
		row(fmt.Sprintf("  %d 枚入り", size), num(s.EnvelopesBySize[size])+" 通")
	}
	for _, wv := range s.Waves {
		row(fmt.Sprintf("  第%d回 %s 送付", wv.Wave, wareki.Japanese(wv.SendOn)), num(wv.Envelopes)+" 通")
	}
	cost := c.EnvelopeCostYen()
	row(fmt.Sprintf("郵送料（%s %d円＋特定記録 %d円）", "定形", c.Mail.PostageYen, c.Mail.SpecialFeeYen), num(cost*s.Envelopes)+" 円")
	row("対象者一覧表（事業所）", num(s.Employers)+" 件")
	langs := make([]string, 0, len(s.EnvelopesByLanguage))
	for l := range s.EnvelopesByLanguage {
		langs = append(langs, l)
	}
	sort.Slice(langs, func(i, j int) bool { // Japanese first, then by code
		if ja := langs[i] == shikaku.DefaultLanguage; ja != (langs[j] == shikaku.DefaultLanguage) {
			return ja
		}
		return langs[i] < langs[j]
	})
	for _, l := range langs {
		label := "説明用チラシ（日本語）"
		if l != shikaku.DefaultLanguage {
			label = "外国語版チラシ（" + l + "）"
		}
		row(label, num(s.EnvelopesByLanguage[l])+" 通")
	}
	if p := res.Print; p != nil {
		row("印刷データ（送付書 PDF）", fmt.Sprintf("%s ファイル %s ページ", num(len(p.Files)), num(p.Pages)))
	}
}

// padRight pads to a display width, counting full-width characters as 2.
func padRight(s string, w int) string {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}
