package main

import (
	"runtime"
	"testing"
	"time"
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

func TestProcessCPUCountsWork(t *testing.T) {
	before := processCPU()
	if before <= 0 {
		t.Fatalf("CPU time so far %v", before)
	}
	// Spin until the wall clock has moved 100 ms: on a loaded machine the
	// process may get less than all of it, but it gets some.
	x := 0
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
		x++
	}
	runtime.KeepAlive(x)
	if used := processCPU() - before; used < 10*time.Millisecond {
		t.Errorf("a 100 ms busy loop used %v of CPU", used)
	}
}

func TestCPUName(t *testing.T) {
	for _, tc := range []struct{ name, cpuinfo, want string }{
		{"AMD under a hypervisor", "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\ncpu family\t: 25\nmodel name\t: AMD EPYC 7763\n", "AMD EPYC・ファミリー 26"},
		{"Intel, spaces folded", "processor\t: 0\ncpu family\t: 6\nmodel name\t: Intel(R) Xeon(R)  Platinum 8375C CPU @ 2.90GHz\n", "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz・ファミリー 6"},
		{"no family", "model name\t: Some CPU\n", "Some CPU"},
		{"ARM: no model name", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\nprocessor\t: 1\n", ""},
		{"empty", "", ""},
	} {
		if got := cpuName([]byte(tc.cpuinfo)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
