// Command shikaku bulk-issues 資格確認書: import members, decide who is a
// target, cross-match losses, pack envelopes with tracking numbers and
// export the files for printing, mailing and employers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"shikaku"
	"shikaku/csvin"
)

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// gcPercent is the garbage collector's GOGC for the binary. The batch
// steps turn over a lot of short-lived garbage (rows parsed, queued and
// written) against a live heap of 30-90 MiB, and at the default of 100 the
// collector ran on both cores often: at 1 M members, alternating runs took
// 14.7-16.0 s with 400 against 15.7-17.0 s with 100 (the import 4.3-4.7
// against 5.2-6.0 s); peak anonymous memory went from about 50 to 60-75 MiB.
// 800 was no faster; no collection until a memory limit was slower (a
// larger heap to fault in and clear).
const gcPercent = 400

// gcMemoryLimit bounds the heap whatever the GOGC: the collector works
// harder before the heap passes it.
const gcMemoryLimit = 1 << 30

// tuneGC sets gcPercent and gcMemoryLimit unless the environment sets
// GOGC or GOMEMLIMIT.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}

// Exit codes (interface.md: 0 on success, non-zero with a one-line cause).
const (
	exitOK       = 0
	exitError    = 1 // the step failed; the cause is on standard error
	exitUsage    = 2 // wrong command line
	exitBadInput = 3 // an input or settings file was refused; every problem listed
)

// env is what every command gets.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	tty            bool // standard error is a terminal: show progress
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

// usageError is a wrong command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs the command line and returns the exit status; the end-to-end
// tests call it directly as well as through the built binary.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, tty: isTerminal(stderr)}
	e.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return exitOK
	}
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		return report(e, err)
	}
	fmt.Fprintf(stderr, "shikaku: %q というコマンドはありません（shikaku help で一覧を表示します）\n", args[0])
	return exitUsage
}

// report prints the cause of a failure and maps it to an exit status.
func report(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	var ie *csvin.InputError
	var se *shikaku.SettingsError
	var scanErr *shikaku.ScanError
	switch {
	case errors.As(err, &scanErr):
		fmt.Fprintf(e.stderr, "shikaku: %s\n", err)
		return exitBadInput
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "shikaku: %s\n", ue.msg)
		return exitUsage
	case errors.As(err, &ie), errors.As(err, &se):
		fmt.Fprintf(e.stderr, "shikaku: %s\n", err)
		return exitBadInput
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "shikaku: 中断しました（データベースは変更前の状態のままです。もう一度実行してください）")
		return exitError
	}
	fmt.Fprintf(e.stderr, "shikaku: %s\n", oneLine(err.Error()))
	return exitError
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " / ") }

func usage(w io.Writer) {
	fmt.Fprintln(w, "shikaku — 資格確認書の一括発行")
	fmt.Fprintln(w, "\n使い方: shikaku コマンド [オプション]")
	fmt.Fprintln(w, "\nコマンド:")
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n共通オプション: --db URL（または環境変数 SHIKAKU_DB。既定は sqlite:shikaku.db）")
	fmt.Fprintln(w, "ログ: 環境変数 SHIKAKU_LOG_LEVEL=debug|info|warn|error（既定 warn）")
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("SHIKAKU_LOG_LEVEL"))); err != nil {
		return slog.LevelWarn
	}
	return l
}

// flags is a FlagSet with the options every command shares.
type flags struct {
	*flag.FlagSet
	db     *string
	branch *string
}

func newFlags(e *env, name, synopsis string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := &flags{FlagSet: fs}
	f.db = fs.String("db", "", "データベース（sqlite:PATH または postgres://…）。既定は環境変数 SHIKAKU_DB、なければ sqlite:shikaku.db")
	f.branch = fs.String("branch", "", "支部コード（データベースに複数の支部のキャンペーンがあるとき）")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "使い方: shikaku %s\n", synopsis)
		fs.PrintDefaults()
	}
	return f
}

// parse reads flags anywhere on the line (interface.md puts some after
// the positional arguments) and returns the positional ones.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
