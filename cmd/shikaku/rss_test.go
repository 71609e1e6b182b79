package main

import (
	"runtime"
	"testing"
)

func TestAnonPeakSeesHeap(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("RssAnon is read from /proc")
	}
	p := startAnonPeak()
	defer p.stop()
	before := p.MiB()
	buf := make([]byte, 64<<20)
	for i := range buf { // touch every page
		buf[i] = 1
	}
	after := p.MiB()
	runtime.KeepAlive(buf)
	if after < before+60 {
		t.Errorf("peak anonymous memory %.0f MiB after allocating 64 MiB, %.0f before", after, before)
	}
	buf = nil
	runtime.GC()
	if p.MiB() < after {
		t.Error("the peak went down")
	}
}
