// Package pipe runs the producer of a stream in its own goroutine, a few
// batches ahead of the consumer, so that reading (a file, a query) and the
// work done on what is read use two cores.
package pipe

import "iter"

const batchSize = 1024

// Ahead yields what seq yields, in order, with seq running in a goroutine.
// Values are passed on as they are: a producer that reuses the value it
// yields must be wrapped to copy it first (see Copied). When the consumer
// stops early, the producer is stopped at its next value.
func Ahead[T any](seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		type batch struct {
			vals []T
			err  error
		}
		ch := make(chan batch, 4)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			defer close(ch)
			b := batch{vals: make([]T, 0, batchSize)}
			send := func() bool {
				select {
				case ch <- b:
					b = batch{vals: make([]T, 0, batchSize)}
					return true
				case <-stop:
					return false
				}
			}
			for v, err := range seq {
				if err != nil {
					b.err = err
					send()
					return
				}
				b.vals = append(b.vals, v)
				if len(b.vals) == batchSize && !send() {
					return
				}
			}
			if len(b.vals) > 0 {
				send()
			}
		}()
		var zero T
		for b := range ch {
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
}

// Copied turns a stream of reused pointers into a stream of values.
func Copied[T any](seq iter.Seq2[*T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for p, err := range seq {
			if err != nil {
				yield(zero, err)
				return
			}
			if !yield(*p, nil) {
				return
			}
		}
	}
}

// Pointers turns a stream of values into a stream of pointers to them.
func Pointers[T any](seq iter.Seq2[T, error]) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(&v, nil) {
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
