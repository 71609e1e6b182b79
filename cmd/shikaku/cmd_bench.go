package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"shikaku/synth"
)

func init() {
	register(command{"bench", "合成データで run の各工程の時間とメモリを計測します", runBench})
}

// runBench measures run end to end on generated members: the time of
// each step and the peak memory of the process. Generation is not timed.
func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "bench", "bench [--members N] [--dir DIR] [--cpuprofile FILE]")
	members := f.Int("members", 1000000, "加入者の数")
	dir := f.String("dir", "", "作業フォルダ（既定は一時フォルダ。終了後に削除）")
	seed := f.Uint64("seed", 1, "乱数の種")
	cpuprofile := f.String("cpuprofile", "", "run の CPU プロファイルを書き出すファイル（go tool pprof 用）")
	if _, err := f.parse(args); err != nil {
		return err
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
	in := filepath.Join(work, "input")
	if err := os.MkdirAll(in, 0o755); err != nil {
		return err
	}
	start := time.Now()
	files, stats, err := synth.Generate(in, synth.Options{Members: *members, Seed: *seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "合成データ: 加入者 %s 名（%s）\n", num(stats.Members), time.Since(start).Round(time.Millisecond))
	out := filepath.Join(work, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	url, err := freshDB(*f.db, out)
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	quiet := *e
	quiet.stdout = discard{}
	quiet.tty = false
	runtime.GC()
	start = time.Now()
	_, _, times, err := runAll(ctx, &quiet, url, inputs{files.Campaign, files.Members, files.Employers, files.Losses}, out)
	if err != nil {
		return err
	}
	total := time.Since(start)
	fmt.Fprintf(e.stdout, "\nrun（%s 名, %s, %d コア）\n", num(stats.Members), redact(url), runtime.NumCPU())
	fmt.Fprintf(e.stdout, "  %-18s %10s %14s\n", "step", "seconds", "peak RSS MiB")
	for _, t := range times {
		fmt.Fprintf(e.stdout, "  %-18s %10.2f %14.0f\n", t.step, t.elapsed.Seconds(), t.rssMiB)
	}
	fmt.Fprintf(e.stdout, "  %-18s %10.2f %14.0f\n", "total", total.Seconds(), peakRSSMiB())
	if s, err := openStore(ctx, url); err == nil {
		if sized, ok := s.(interface {
			Size(context.Context) (int64, error)
		}); ok {
			if n, err := sized.Size(ctx); err == nil {
				fmt.Fprintf(e.stdout, "  database size: %.0f MiB\n", float64(n)/(1<<20))
			}
		}
		s.Close()
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
