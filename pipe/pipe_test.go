package pipe

import (
	"errors"
	"iter"
	"sync/atomic"
	"testing"
	"time"
)

func count(n int, failAt int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if i == failAt {
				yield(0, errors.New("boom"))
				return
			}
			if !yield(i, nil) {
				return
			}
		}
	}
}

func TestAheadKeepsOrderAndErrors(t *testing.T) {
	next := 0
	var last error
	for v, err := range Ahead(count(5000, 4321)) {
		if err != nil {
			last = err
			break
		}
		if v != next {
			t.Fatalf("got %d, want %d", v, next)
		}
		next++
	}
	if next != 4321 || last == nil {
		t.Fatalf("stopped at %d with %v", next, last)
	}
}

func TestAheadStopsEarly(t *testing.T) {
	stopped := make(chan bool, 1)
	seq := func(yield func(int, error) bool) {
		for i := 0; ; i++ {
			if !yield(i, nil) {
				stopped <- true
				return
			}
		}
	}
	for v := range Ahead(iter.Seq2[int, error](seq)) {
		if v == 10 {
			break
		}
	}
	if !<-stopped {
		t.Fatal("producer not stopped")
	}
}

// endless counts until it is stopped, takes closing to finish (as closing
// rows does), and then sets done.
func endless(done *atomic.Bool, closing time.Duration) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		defer done.Store(true)
		for i := 0; ; i++ {
			if !yield(i, nil) {
				time.Sleep(closing)
				return
			}
		}
	}
}

func TestAheadReturnsAfterProducer(t *testing.T) {
	var done atomic.Bool
	for v := range Ahead(endless(&done, 10*time.Millisecond)) {
		if v == 3 {
			break
		}
	}
	if !done.Load() {
		t.Fatal("Ahead returned while its producer still ran")
	}
}

func TestStartRunsBeforeRanging(t *testing.T) {
	began := make(chan struct{})
	seq := func(yield func(int, error) bool) {
		close(began)
		for i := range 3000 {
			if !yield(i, nil) {
				return
			}
		}
	}
	stream, stop := Start(iter.Seq2[int, error](seq))
	defer stop()
	select {
	case <-began:
	case <-time.After(5 * time.Second):
		t.Fatal("the producer did not start before the stream was ranged over")
	}
	n := 0
	for v, err := range stream {
		if err != nil || v != n {
			t.Fatalf("got %d %v, want %d", v, err, n)
		}
		n++
	}
	if n != 3000 {
		t.Fatalf("%d values", n)
	}
}

func TestStartStoppedUnread(t *testing.T) {
	var done atomic.Bool
	_, stop := Start(endless(&done, 10*time.Millisecond))
	stop()
	stop() // twice is harmless
	if !done.Load() {
		t.Fatal("stop returned while the producer still ran")
	}
}

func TestCopied(t *testing.T) {
	x := 0
	reused := func(yield func(*int, error) bool) {
		for i := range 3 {
			x = i
			if !yield(&x, nil) {
				return
			}
		}
	}
	var got []int
	for v := range Ahead(Copied(iter.Seq2[*int, error](reused))) {
		got = append(got, v)
	}
	if len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Fatalf("%v", got)
	}
}
