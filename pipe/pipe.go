// Package pipe runs the producer of a stream in its own goroutine, a few
// batches ahead of the consumer, so that reading (a file, a query) and the
// work done on what is read use two cores.
package pipe

import (
	"context"
	"iter"
	"sync"
)

const batchSize = 1024

// Ahead yields what seq yields, in order, with seq running in a goroutine.
// Values are passed on as they are: a producer that reuses the value it
// yields must be wrapped to copy it first (see Copied). When the consumer
// stops early, the producer is stopped at its next value, and the stream
// returns only once the producer has (so that what it reads from can be
// closed right after).
func Ahead[T any](seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		r := start(seq)
		defer r.stop()
		r.drain(yield)
	}
}

// Start is Ahead with the producer started now rather than when the
// stream is ranged over: a query that sorts before its first row can run
// while the caller does other work. The stream can be ranged over once.
// stop ends the producer and waits until it has returned, so that what it
// reads from can be closed; call it when done, ranged over or not.
func Start[T any](seq iter.Seq2[T, error]) (stream iter.Seq2[T, error], stop func()) {
	r := start(seq)
	var once sync.Once
	return func(yield func(T, error) bool) { r.drain(yield) }, func() { once.Do(r.stop) }
}

type batch[T any] struct {
	vals []T
	err  error
}

type running[T any] struct {
	ch   chan batch[T]
	quit chan struct{}
}

func start[T any](seq iter.Seq2[T, error]) *running[T] {
	return startAdding(seq, func(vals []T, v T) []T { return append(vals, v) })
}

// startAdding runs seq in a goroutine, adding what it yields to batches
// with add.
func startAdding[P, T any](seq iter.Seq2[P, error], add func([]T, P) []T) *running[T] {
	r := &running[T]{ch: make(chan batch[T], 4), quit: make(chan struct{})}
	go func() {
		defer close(r.ch)
		b := batch[T]{vals: make([]T, 0, batchSize)}
		send := func() bool {
			select {
			case r.ch <- b:
				b = batch[T]{vals: make([]T, 0, batchSize)}
				return true
			case <-r.quit:
				return false
			}
		}
		for v, err := range seq {
			if err != nil {
				b.err = err
				send()
				return
			}
			b.vals = add(b.vals, v)
			if len(b.vals) == batchSize && !send() {
				return
			}
		}
		if len(b.vals) > 0 {
			send()
		}
	}()
	return r
}

// stop tells the producer to end and waits until it has.
func (r *running[T]) stop() {
	close(r.quit)
	for range r.ch { // what it sent meanwhile is dropped
	}
}

func (r *running[T]) drain(yield func(T, error) bool) {
	var zero T
	for b := range r.ch {
		for _, v := range b.vals {
			if !yield(v, nil) {
				return
			}
		}
		if b.err != nil {
			yield(zero, b.err)
			return
		}
	}
}

// AheadCopies is Ahead for a producer that reuses the value it points
// to: each value is copied once, into a batch, and the consumer gets a
// pointer into the batch, valid until it asks for the next one. A large
// value (a member) is then neither copied again on its way nor moved to
// the heap one by one, as Pointers(Ahead(Copied(seq))) did: at 1 M
// members, a million allocations of 470 bytes for the collector.
func AheadCopies[T any](seq iter.Seq2[*T, error]) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		r := startAdding(seq, func(vals []T, p *T) []T { return append(vals, *p) })
		defer r.stop()
		for b := range r.ch {
			for i := range b.vals {
				if !yield(&b.vals[i], nil) {
					return
				}
			}
			if b.err != nil {
				yield(nil, b.err)
				return
			}
		}
	}
}

// Cursor is what database/sql and pgx both give for a query.
type Cursor interface {
	Next() bool
	Err() error
}

// Scan streams the rows of a query: open runs it, scan reads each row,
// close releases it when the consumer is done or the rows end.
func Scan[C Cursor, T any](open func() (C, error), close func(C), scan func(C, *T) error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := open()
		if err != nil {
			yield(zero, err)
			return
		}
		defer close(rows)
		for rows.Next() {
			var v T
			if err := scan(rows, &v); err != nil {
				yield(zero, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, err)
		}
	}
}

// Behind runs save in a goroutine of its own on each value sent to it, in
// order and one at a time, at most two values behind the sender: the
// sender goes on with its work while the last value is written (a COPY
// the server works through, a bulk insert). save gets a context that
// Abort cancels.
func Behind[T any](ctx context.Context, save func(context.Context, T) error) *Saver[T] {
	ctx, cancel := context.WithCancel(ctx)
	s := &Saver[T]{ch: make(chan T, 1), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		for v := range s.ch {
			if err := save(ctx, v); err != nil {
				s.err = err // read only after done is closed
				return
			}
		}
	}()
	return s
}

// Saver is the goroutine started by Behind.
type Saver[T any] struct {
	ch     chan T
	done   chan struct{}
	cancel context.CancelFunc
	closed bool
	err    error
}

// Send hands v to the saver, waiting while it is two values behind. It
// returns the saver's error once it has failed; v is then not saved.
func (s *Saver[T]) Send(v T) error {
	select {
	case s.ch <- v:
		return nil
	case <-s.done:
		return s.err
	}
}

// Close waits until everything sent is saved and returns the first error.
func (s *Saver[T]) Close() error {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	<-s.done
	s.cancel()
	return s.err
}

// Abort cancels what is being saved and waits until the saver has
// stopped, so that what it writes to can be rolled back. After Close it
// does nothing.
func (s *Saver[T]) Abort() {
	s.cancel()
	s.Close()
}

// Chunks yields the values of chunks 0 to n-1, in order, read by workers
// goroutines at once: read(ctx, worker, i) returns chunk i, each worker
// reading on its own (a connection of its own). A stream that one reader
// cannot keep up with is read on as many cores as there are workers. At
// most workers+1 chunks are read ahead of the one the consumer is on, so
// memory stays bounded by the chunk size. When the consumer stops early
// or a read fails, the workers stop after the chunk they are reading
// (their ctx is cancelled) and the stream returns only once they have.
func Chunks[T any](ctx context.Context, n, workers int, read func(ctx context.Context, worker, chunk int) ([]T, error)) iter.Seq2[T, error] {
	type result struct {
		values []T
		err    error
	}
	return func(yield func(T, error) bool) {
		var zero T
		ctx, cancel := context.WithCancel(ctx)
		results := make([]chan result, n)
		for i := range results {
			results[i] = make(chan result, 1) // a worker never waits to hand over
		}
		next := make(chan int)
		ahead := make(chan struct{}, workers+1) // chunks handed out, not yet consumed
		var wg sync.WaitGroup
		wg.Add(1 + workers)
		go func() {
			defer wg.Done()
			defer close(next)
			for i := range n {
				select {
				case ahead <- struct{}{}:
				case <-ctx.Done():
					return
				}
				select {
				case next <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		for w := range workers {
			go func() {
				defer wg.Done()
				// Chunks are taken in order, and a worker hands over every
				// chunk it took: a chunk the consumer waits for is being read.
				for i := range next {
					values, err := read(ctx, w, i)
					results[i] <- result{values, err}
					if err != nil {
						return
					}
				}
			}()
		}
		defer wg.Wait()
		defer cancel()
		for i := range n {
			var r result
			select {
			case r = <-results[i]:
			case <-ctx.Done():
				yield(zero, ctx.Err())
				return
			}
			if r.err != nil {
				yield(zero, r.err)
				return
			}
			for _, v := range r.values {
				if !yield(v, nil) {
					return
				}
			}
			<-ahead
		}
	}
}

// Merge yields the values of streams each sorted by cmp as one stream
// sorted by cmp: a sort split into parts that run at once (a query per
// core, each sorting its share) is put back together here. Values equal
// by cmp come from the earlier stream first. The first error of any
// stream ends the merged one; when the consumer stops, every stream is
// stopped before Merge returns. Merge asks the streams for their first
// values one after another: for their work before a first value (a
// sort) to run at once, start them first (Start).
func Merge[T any](cmp func(a, b *T) int, streams ...iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		type head struct {
			next func() (T, error, bool)
			v    T
			ok   bool
		}
		heads := make([]head, len(streams))
		for i, s := range streams {
			next, stop := iter.Pull2(s)
			defer stop()
			heads[i].next = next
		}
		advance := func(h *head) error {
			var err error
			h.v, err, h.ok = h.next()
			return err
		}
		for i := range heads {
			if err := advance(&heads[i]); err != nil {
				yield(zero, err)
				return
			}
		}
		for {
			// A linear scan for the least head: there are as many
			// streams as cores.
			least := -1
			for i := range heads {
				if heads[i].ok && (least < 0 || cmp(&heads[i].v, &heads[least].v) < 0) {
					least = i
				}
			}
			if least < 0 {
				return
			}
			if !yield(heads[least].v, nil) {
				return
			}
			if err := advance(&heads[least]); err != nil {
				yield(zero, err)
				return
			}
		}
	}
}
