package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"shikaku"
	"shikaku/pdf"
	"shikaku/postgres"
	"slices"
	"strconv"
	"strings"
	"time"

	"shikaku/synth"
)

func init() {
	register(command{"bench", "合成データで run の各工程の時間とメモリを計測します", runBench})
	register(command{"generate", "合成データ（加入者・事業所・資格喪失者・キャンペーン設定）を作ります", runGenerate})
}

func runGenerate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "generate", "generate [--members N] [--seed S] --out DIR")
	members := f.Int("members", 10000, "合成する加入者の数（おおよそ）")
	seed := f.Uint64("seed", 1, "乱数の種（同じ種なら同じデータ）")
	out := f.String("out", "", "出力先フォルダ")
	if _, err := f.parse(args); err != nil {
		return err
	}
	if *out == "" || *members < 1 {
		return usagef("--out と 1 以上の --members を指定してください")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("出力先フォルダ %s を作れません: %w", *out, err)
	}
	_, err := generate(e, *out, *members, *seed)
	return err
}

// generate writes synthetic input files into dir and says so.
func generate(e *env, dir string, members int, seed uint64) (synth.Files, error) {
	p := e.progress(members, "合成データを作成中")
	files, stats, err := synth.Generate(dir, synth.Options{Members: members, Seed: seed, Progress: p.set})
	p.done()
	if err != nil {
		return files, fmt.Errorf("合成データを作れません: %w", err)
	}
	fmt.Fprintf(e.stdout, "合成データ: 加入者 %s 名（%s 世帯）、事業所 %s 件、資格喪失データ %s 件を %s に作成しました\n",
		num(stats.Members), num(stats.Households), num(stats.Employers), num(stats.Losses), dir)
	return files, nil
}

// runBench measures run end to end on generated members: the time of
// each step and the peak memory of the process. Generation is not timed.
// With --rounds N the run is repeated N times on the same input, each
// time into a fresh database and folder, and the table shows each step's
// median, fastest and slowest: on a machine shared with others one run
// says little.
func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "bench", "bench [--members N] [--rounds N] [--dir DIR] [--cpuprofile FILE] [--no-pdf] | bench --print ENVELOPES")
	po := f.printFlags()
	printN := f.Int("print", 0, "run の代わりに、合成した封筒 N 通の送付書 PDF 出力だけを計測する")
	members := f.Int("members", 1000000, "加入者の数")
	rounds := f.Int("rounds", 1, "run を繰り返す回数（2 回以上なら各工程の中央値・最速・最遅を表示。PostgreSQL では --db の隣に回ごとのデータベースを作り、計測後に削除する）")
	dir := f.String("dir", "", "作業フォルダ（既定は一時フォルダ。終了後に削除）")
	seed := f.Uint64("seed", 1, "乱数の種")
	cpuprofile := f.String("cpuprofile", "", "run の CPU プロファイルを書き出すファイル（go tool pprof 用。全回の合計）")
	if _, err := f.parse(args); err != nil {
		return err
	}
	if *rounds < 1 {
		return usagef("--rounds には 1 以上を指定してください")
	}
	base := *f.db
	if base == "" {
		base = os.Getenv("SHIKAKU_DB")
	}
	if *rounds > 1 && base != "" && !isPostgres(base) {
		return usagef("--rounds が 2 以上のとき、SQLite のデータベースは回ごとに作業フォルダへ作ります。--db（SHIKAKU_DB）は PostgreSQL の URL だけを指定してください")
	}
	work := *dir
	if work == "" {
		tmp, err := os.MkdirTemp("", "shikaku-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	if *printN > 0 {
		return benchPrint(ctx, e, *printN, work, *cpuprofile)
	}
	in := filepath.Join(work, "input")
	if err := os.MkdirAll(in, 0o755); err != nil {
		return err
	}
	// Generated in a child process, so that the peak memory measured
	// below is the run's alone.
	start := time.Now()
	gen := exec.CommandContext(ctx, os.Args[0], "generate", "--members", strconv.Itoa(*members), "--seed", strconv.FormatUint(*seed, 10), "--out", in)
	gen.Stderr = e.stderr
	if out, err := gen.Output(); err != nil {
		return fmt.Errorf("合成データを作れません: %w", err)
	} else {
		fmt.Fprintf(e.stdout, "%s（%s）\n", strings.TrimSpace(string(out)), time.Since(start).Round(time.Millisecond))
	}
	files := synth.FilesIn(in)
	stop, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	anon := startAnonPeak()
	defer anon.stop()
	var results []benchRound
	for i := 1; i <= *rounds; i++ {
		out := filepath.Join(work, "out")
		if *rounds > 1 {
			// A folder per round, none deleted in between: deleting a
			// large output slows the next one's file creation (README,
			// Performance).
			out = filepath.Join(work, fmt.Sprintf("out-%d", i))
		}
		r, err := benchOnce(ctx, e, base, *rounds > 1, i, files, out, po, anon)
		if err != nil {
			return err
		}
		if *rounds > 1 {
			fmt.Fprintf(e.stdout, "  第 %d 回: %.2f 秒（CPU %.2f 秒）\n", i, r.total.Seconds(), r.cpu.Seconds())
		}
		results = append(results, r)
	}
	where := redact(base)
	if base == "" {
		where = "sqlite（作業フォルダ）"
		if *rounds == 1 {
			where = redact(results[0].url)
		}
	}
	if *rounds == 1 {
		r := results[0]
		fmt.Fprintf(e.stdout, "\nrun（%s 名, %s, %s）\n", num(*members), where, cores(runtime.NumCPU()))
		// Peak RSS counts the database file SQLite maps, once per connection;
		// the anonymous peak is the memory the run itself holds.
		fmt.Fprintf(e.stdout, "  %-24s %10s %12s %14s %15s\n", "step", "seconds", "CPU seconds", "peak RSS MiB", "peak anon MiB")
		for _, t := range r.times {
			fmt.Fprintf(e.stdout, "  %-24s %10.2f %12.2f %14.0f %15.0f\n", t.step, t.elapsed.Seconds(), t.cpu.Seconds(), t.rssMiB, t.anonMiB)
		}
		fmt.Fprintf(e.stdout, "  %-24s %10.2f %12.2f %14.0f %15.0f\n", "total", r.total.Seconds(), r.cpu.Seconds(), peakRSSMiB(), anon.MiB())
	} else {
		printRounds(e, results, fmt.Sprintf("%s 名, %s, %s, %d 回", num(*members), where, cores(runtime.NumCPU()), *rounds), anon)
	}
	if isPostgres(results[0].url) {
		fmt.Fprintln(e.stdout, "  CPU seconds はこのプロセスの分だけです（PostgreSQL サーバーの CPU は含みません）")
	}
	if sizes := roundSizes(results); len(sizes) > 0 {
		if len(sizes) == 1 {
			fmt.Fprintf(e.stdout, "  database size: %.0f MiB\n", sizes[0])
		} else {
			fmt.Fprintf(e.stdout, "  database size: %.0f MiB（中央値）\n", median(sizes))
		}
	}
	return nil
}

// benchRound is one measured run.
type benchRound struct {
	url        string
	times      []timing
	total, cpu time.Duration
	sizeMiB    float64 // -1 when the store cannot tell
}

// benchOnce runs the campaign once into a fresh database: the one the
// flags name (or a file in out) for a single round; for several, a file
// in out on SQLite, or on PostgreSQL a database of its own next to base,
// dropped once measured.
func benchOnce(ctx context.Context, e *env, base string, several bool, round int, files synth.Files, out string, po *printOptions, anon *anonPeak) (benchRound, error) {
	r := benchRound{sizeMiB: -1}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return r, err
	}
	switch {
	case several && isPostgres(base):
		name, err := postgres.DatabaseName(base)
		if err != nil {
			return r, usagef("--db の URL を読めません: %v", err)
		}
		suffix := fmt.Sprintf("_bench_%d", round)
		if len(name)+len(suffix) > 63 { // PostgreSQL's limit on names
			name = name[:63-len(suffix)]
		}
		u, drop, err := postgres.CreateDatabase(ctx, base, name+suffix)
		if err != nil {
			return r, err
		}
		defer func() {
			if err := drop(context.WithoutCancel(ctx)); err != nil {
				e.log.Warn("bench のデータベースを削除できません", "err", err)
			}
		}()
		r.url = u
	case several:
		r.url = "sqlite:" + filepath.Join(out, "shikaku.db")
	default:
		u, err := freshDB(base, out)
		if err != nil {
			return r, err
		}
		r.url = u
	}
	quiet := *e
	quiet.stdout = discard{}
	quiet.tty = false
	runtime.GC()
	start, cpuStart := time.Now(), processCPU()
	_, _, times, err := runAll(ctx, &quiet, r.url, inputs{files.Campaign, files.Members, files.Employers, files.Losses}, out, po, anon)
	if err != nil {
		return r, err
	}
	r.times, r.total, r.cpu = times, time.Since(start), processCPU()-cpuStart
	if s, err := openStore(ctx, r.url); err == nil {
		if sized, ok := s.(interface {
			Size(context.Context) (int64, error)
		}); ok {
			if n, err := sized.Size(ctx); err == nil {
				r.sizeMiB = float64(n) / (1 << 20)
			}
		}
		s.Close()
	}
	return r, nil
}

// printRounds prints each step's median, fastest and slowest wall time
// over the rounds and its median CPU time, with the memory of the first
// round's steps and the peak of all rounds.
func printRounds(e *env, results []benchRound, title string, anon *anonPeak) {
	fmt.Fprintf(e.stdout, "\nrun（%s）\n", title)
	fmt.Fprintf(e.stdout, "  %-24s %10s %8s %8s %12s %14s %15s\n", "step", "median s", "min s", "max s", "median CPU s", "peak RSS MiB", "peak anon MiB")
	row := func(step string, wall, cpu []float64, rss, anon float64) {
		fmt.Fprintf(e.stdout, "  %-24s %10.2f %8.2f %8.2f %12.2f %14.0f %15.0f\n", step, median(wall), slices.Min(wall), slices.Max(wall), median(cpu), rss, anon)
	}
	for i, t := range results[0].times {
		var wall, cpu []float64
		for _, r := range results {
			wall, cpu = append(wall, r.times[i].elapsed.Seconds()), append(cpu, r.times[i].cpu.Seconds())
		}
		row(t.step, wall, cpu, t.rssMiB, t.anonMiB)
	}
	var wall, cpu []float64
	for _, r := range results {
		wall, cpu = append(wall, r.total.Seconds()), append(cpu, r.cpu.Seconds())
	}
	row("total", wall, cpu, peakRSSMiB(), anon.MiB())
	// The process's peaks only grow: after the first round they are the
	// earlier rounds' as much as the step's.
	fmt.Fprintln(e.stdout, "  メモリの列は第 1 回の各工程後の値、total の行は全回を通じた最大です")
}

func roundSizes(results []benchRound) []float64 {
	var sizes []float64
	for _, r := range results {
		if r.sizeMiB >= 0 {
			sizes = append(sizes, r.sizeMiB)
		}
	}
	return sizes
}

// median is the middle value of xs (the mean of the two middle ones for
// an even count); xs is not changed.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// benchPrint measures the print run alone: n synthetic envelopes (1–4
// cards each) spooled into PDF files on every core.
func benchPrint(ctx context.Context, e *env, n int, work, cpuprofile string) error {
	c := synth.Kagoshima("46")
	c.Mail.TrackingRanges = shikaku.TrackingRanges{{First: 5600000000, Last: 5699999999}}
	start := time.Now()
	fonts, err := pdf.LoadFonts(c.Print.GothicFont, c.Print.MinchoFont)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "フォント読み込み %s（%s）\n", time.Since(start).Round(time.Millisecond), strings.Join(fonts.Paths(), ", "))
	dir := filepath.Join(work, "print")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stop, err := startCPUProfile(cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	runtime.GC()
	cpuBefore := processCPU()
	start = time.Now()
	res, err := fonts.Spool(ctx, c, synth.Mailings(c, n, 1), dir, c.Print.PerFile(), nil, nil)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	cpu := processCPU() - cpuBefore
	var bytes int64
	for _, f := range res.Files {
		bytes += f.Bytes
	}
	procs := runtime.GOMAXPROCS(0)
	rate := float64(res.Pages) / elapsed.Seconds()
	fmt.Fprintf(e.stdout, "\n送付書 PDF（封筒 %s 通, %s）\n", num(n), cores(procs))
	fmt.Fprintf(e.stdout, "  pages            %12s\n", num(res.Pages))
	fmt.Fprintf(e.stdout, "  files            %12s\n", num(len(res.Files)))
	fmt.Fprintf(e.stdout, "  seconds          %12.2f\n", elapsed.Seconds())
	fmt.Fprintf(e.stdout, "  pages/s          %12.0f\n", rate)
	fmt.Fprintf(e.stdout, "  pages/s per core %12.0f\n", rate/float64(procs))
	fmt.Fprintf(e.stdout, "  CPU busy         %11.0f%%\n", 100*cpu.Seconds()/elapsed.Seconds()/float64(procs))
	fmt.Fprintf(e.stdout, "  output MiB       %12.0f（1 ページ %.1f KiB）\n", float64(bytes)/(1<<20), float64(bytes)/1024/float64(max(res.Pages, 1)))
	fmt.Fprintf(e.stdout, "  peak RSS MiB     %12.0f\n", peakRSSMiB())
	return nil
}

// startCPUProfile profiles the process into path until stop is called;
// an empty path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
