package pipe

import (
	"context"
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

// inOrder ranges over seq, which must yield 0, 1, 2, … until its error,
// and returns how many values came before it ended and its error.
func inOrder(t *testing.T, seq iter.Seq2[int, error]) (int, error) {
	t.Helper()
	next := 0
	for v, err := range seq {
		if err != nil {
			return next, err
		}
		if v != next {
			t.Fatalf("got %d, want %d", v, next)
		}
		next++
	}
	return next, nil
}

func TestAheadKeepsOrderAndErrors(t *testing.T) {
	next, last := inOrder(t, Ahead(count(5000, 4321)))
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

func TestAheadCopies(t *testing.T) {
	x := 0
	reused := func(yield func(*int, error) bool) {
		for i := range 3000 { // several batches
			if i == 2500 {
				yield(nil, errors.New("boom"))
				return
			}
			x = i
			if !yield(&x, nil) {
				return
			}
		}
	}
	n := 0
	var last error
	for p, err := range AheadCopies(iter.Seq2[*int, error](reused)) {
		if err != nil {
			last = err
			break
		}
		// A copy, made when it was yielded: the producer is batches ahead.
		if p == &x || *p != n {
			t.Fatalf("value %d is %d (the producer's own: %v)", n, *p, p == &x)
		}
		n++
	}
	if n != 2500 || last == nil {
		t.Fatalf("%d values, then %v", n, last)
	}
	for p := range AheadCopies(iter.Seq2[*int, error](reused)) {
		if *p == 10 {
			break // stops the producer
		}
	}
}

func TestBehindSavesInOrderBeforeClose(t *testing.T) {
	var got []int
	s := Behind(context.Background(), func(_ context.Context, v int) error {
		time.Sleep(time.Microsecond)
		got = append(got, v) // read after Close: Close orders it
		return nil
	})
	for i := range 100 {
		if err := s.Send(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Fatalf("saved %d of 100 before Close returned", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("saved %d at %d", v, i)
		}
	}
	s.Abort() // after Close: nothing to do, must not block
}

func TestBehindStaysAtMostTwoBehind(t *testing.T) {
	release := make(chan struct{})
	var saved atomic.Int32
	s := Behind(context.Background(), func(_ context.Context, v int) error {
		<-release
		saved.Add(1)
		return nil
	})
	sent := make(chan int, 10)
	go func() {
		for i := range 5 {
			s.Send(i)
			sent <- i
		}
		close(sent)
	}()
	time.Sleep(50 * time.Millisecond)
	if n := len(sent); n != 2 { // one being saved, one waiting
		t.Fatalf("sender got %d values ahead of a blocked saver, want 2", n)
	}
	close(release)
	for range sent {
	}
	if err := s.Close(); err != nil || saved.Load() != 5 {
		t.Fatalf("saved %d, err %v", saved.Load(), err)
	}
}

func TestBehindReportsTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	s := Behind(context.Background(), func(_ context.Context, v int) error {
		calls.Add(1)
		if v == 3 {
			return boom
		}
		return nil
	})
	var sendErr error
	for i := 0; i < 1000 && sendErr == nil; i++ {
		sendErr = s.Send(i)
	}
	if !errors.Is(sendErr, boom) {
		t.Fatalf("Send after the failure returned %v", sendErr)
	}
	if err := s.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close returned %v", err)
	}
	if calls.Load() != 4 {
		t.Fatalf("save called %d times, want 4 (nothing after the failure)", calls.Load())
	}
}

func TestBehindAbortCancelsAndWaits(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	s := Behind(context.Background(), func(ctx context.Context, v int) error {
		close(started)
		<-ctx.Done()
		finished.Store(true)
		return ctx.Err()
	})
	s.Send(1)
	<-started
	s.Abort()
	if !finished.Load() {
		t.Fatal("Abort returned before the save it cancelled")
	}
}

// chunkReader reads chunk i as the values i*10 .. i*10+9, after a pause
// that varies by chunk so that workers finish out of order.
type chunkReader struct {
	running, started, consumed, maxAhead atomic.Int64
	failAt                               int
}

func (c *chunkReader) read(ctx context.Context, worker, i int) ([]int, error) {
	c.running.Add(1)
	defer c.running.Add(-1)
	if ahead := c.started.Add(1) - c.consumed.Load(); ahead > c.maxAhead.Load() {
		c.maxAhead.Store(ahead)
	}
	select {
	case <-time.After(time.Duration((i*7)%5) * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if i == c.failAt {
		return nil, errors.New("boom")
	}
	out := make([]int, 10)
	for k := range out {
		out[k] = i*10 + k
	}
	return out, nil
}

func TestChunksKeepOrderAndStayBounded(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		c := &chunkReader{failAt: -1}
		next := 0
		for v, err := range Chunks(context.Background(), 40, workers, c.read) {
			if err != nil {
				t.Fatal(err)
			}
			if v != next {
				t.Fatalf("%d workers: got %d, want %d", workers, v, next)
			}
			next++
			if next%10 == 0 {
				c.consumed.Add(1)
				time.Sleep(time.Millisecond) // a slow consumer: the workers run ahead
			}
		}
		if next != 400 {
			t.Fatalf("%d workers: %d values", workers, next)
		}
		// The chunk being consumed counts: it is released when done.
		if m := c.maxAhead.Load(); m > int64(workers+1) {
			t.Errorf("%d workers: %d chunks read ahead, want at most %d", workers, m, workers+1)
		}
	}
}

func TestChunksStopAtTheFirstError(t *testing.T) {
	c := &chunkReader{failAt: 7}
	next, last := inOrder(t, Chunks(context.Background(), 40, 2, c.read))
	if next != 70 || last == nil {
		t.Fatalf("stopped at %d with %v", next, last)
	}
	if n := c.running.Load(); n != 0 {
		t.Errorf("%d reads still running after the stream returned", n)
	}
}

func TestChunksStopEarly(t *testing.T) {
	c := &chunkReader{failAt: -1}
	seen := 0
	for range Chunks(context.Background(), 1000, 3, c.read) {
		if seen++; seen == 25 {
			break
		}
	}
	if n := c.running.Load(); n != 0 {
		t.Errorf("%d reads still running after the stream returned", n)
	}
	if s := c.started.Load(); s > 3+4 {
		t.Errorf("%d chunks read for 3 consumed", s)
	}
	for range Chunks(context.Background(), 0, 2, c.read) {
		t.Fatal("a value from no chunks")
	}
}

// tagged is a value with the stream it came from.
type tagged struct{ v, stream int }

func sorted(stream int, vs ...int) iter.Seq2[tagged, error] {
	return func(yield func(tagged, error) bool) {
		for _, v := range vs {
			if !yield(tagged{v, stream}, nil) {
				return
			}
		}
	}
}

func byValue(a, b *tagged) int { return a.v - b.v }

func TestMergeKeepsOrderAndTies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		streams []iter.Seq2[tagged, error]
		want    []tagged
	}{
		{"none", nil, nil},
		{"one", []iter.Seq2[tagged, error]{sorted(0, 1, 2, 3)}, []tagged{{1, 0}, {2, 0}, {3, 0}}},
		{"interleaved", []iter.Seq2[tagged, error]{sorted(0, 1, 4, 5, 9), sorted(1, 2, 3, 6)},
			[]tagged{{1, 0}, {2, 1}, {3, 1}, {4, 0}, {5, 0}, {6, 1}, {9, 0}}},
		{"one empty", []iter.Seq2[tagged, error]{sorted(0), sorted(1, 7, 8)}, []tagged{{7, 1}, {8, 1}}},
		{"ties: the earlier stream first", []iter.Seq2[tagged, error]{sorted(0, 2, 2), sorted(1, 1, 2), sorted(2, 2)},
			[]tagged{{1, 1}, {2, 0}, {2, 0}, {2, 1}, {2, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []tagged
			for v, err := range Merge(byValue, tc.streams...) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestMergeEndsAtTheFirstError(t *testing.T) {
	failing := func(yield func(tagged, error) bool) {
		if yield(tagged{1, 1}, nil) {
			yield(tagged{}, errors.New("boom"))
		}
	}
	var got []tagged
	var err error
	for v, e := range Merge(byValue, sorted(0, 0, 5, 6), failing) {
		if e != nil {
			err = e
			break
		}
		got = append(got, v)
	}
	if err == nil || err.Error() != "boom" {
		t.Fatalf("error %v, want boom", err)
	}
	if len(got) != 2 || got[0] != (tagged{0, 0}) || got[1] != (tagged{1, 1}) {
		t.Fatalf("before the error got %v, want the values up to it", got)
	}
}

func TestMergeStopsEveryStream(t *testing.T) {
	var running atomic.Int32
	endless := func(stream int) iter.Seq2[tagged, error] {
		return func(yield func(tagged, error) bool) {
			running.Add(1)
			defer running.Add(-1)
			for i := 0; ; i++ {
				if !yield(tagged{i, stream}, nil) {
					return
				}
			}
		}
	}
	n := 0
	for _, err := range Merge(byValue, endless(0), endless(1), Ahead(endless(2))) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	if r := running.Load(); r != 0 {
		t.Fatalf("%d streams still running after the merge returned", r)
	}
}
