package pipe

import (
	"errors"
	"iter"
	"testing"
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
