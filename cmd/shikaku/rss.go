package main

import (
	"bytes"
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
