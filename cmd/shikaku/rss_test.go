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
	buf := make([]byte, 64<<20)
	for i := range buf { // touch every page
		buf[i] = 1
	}
	after := p.MiB()
	runtime.KeepAlive(buf)
	// Other tests of this process may have set a higher peak already; the
	// live buffer sets a floor.
	if after < 64 {
		t.Errorf("peak anonymous memory %.0f MiB while 64 MiB are held", after)
	}
	buf = nil
	runtime.GC()
	if p.MiB() < after {
		t.Error("the peak went down")
	}
}
