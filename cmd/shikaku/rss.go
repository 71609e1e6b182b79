package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// peakRSSMiB is the peak resident set size of this process so far. It
// counts the file pages the process maps, too: SQLite maps the database
// file once per connection (mmap_size), and each mapping counts.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// processCPU is the CPU time (user and system) this process has used so
// far, on all its threads. Beside wall time it tells a change that does
// less work from one that only keeps the cores busier; it does not count
// a database server's work.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// anonPeak samples the process's anonymous memory (RssAnon: its heap and
// SQLite's page caches, not mapped files) and keeps the highest value
// seen. The kernel keeps no peak of it, so it is polled.
type anonPeak struct {
	kib  atomic.Int64
	done chan struct{}
}

func startAnonPeak() *anonPeak {
	p := &anonPeak{done: make(chan struct{})}
	p.sample()
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.sample()
			}
		}
	}()
	return p
}

func (p *anonPeak) sample() {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	_, rest, ok := bytes.Cut(status, []byte("RssAnon:"))
	if !ok {
		return
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kib, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))), 10, 64)
	if err != nil {
		return
	}
	for {
		old := p.kib.Load()
		if kib <= old || p.kib.CompareAndSwap(old, kib) {
			return
		}
	}
}

// MiB is the highest anonymous memory seen so far; 0 where /proc is missing.
func (p *anonPeak) MiB() float64 {
	if p == nil {
		return 0
	}
	p.sample()
	return float64(p.kib.Load()) / 1024
}

func (p *anonPeak) stop() { close(p.done) }

// cores describes the processors bench runs on: "2 コア（AMD EPYC・ファミリー
// 26）". Figures of different machines differ by more than most changes
// measured with them (the same build's 1 M run took 15–18 s in one
// session and 9–10 s in the next, on another machine), so each table
// says where it was measured. Virtual machines often name only the line
// ("AMD EPYC"); the family then tells its generations apart.
func cores(n int) string {
	s := fmt.Sprintf("%d コア", n)
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return s
	}
	if name := cpuName(b); name != "" {
		s += "（" + name + "）"
	}
	return s
}

// cpuName is the first processor's model name in /proc/cpuinfo, with its
// family where the file gives one; "" when it names no model (as on many
// ARM machines).
func cpuName(cpuinfo []byte) string {
	var model, family string
	for line := range bytes.Lines(cpuinfo) {
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			if model != "" || family != "" {
				break // a blank line ends the first processor
			}
			continue
		}
		switch string(bytes.TrimSpace(key)) {
		case "model name":
			model = string(bytes.Join(bytes.Fields(value), []byte(" ")))
		case "cpu family":
			family = string(bytes.TrimSpace(value))
		}
	}
	if model == "" {
		return ""
	}
	if family != "" {
		return model + "・ファミリー " + family
	}
	return model
}
