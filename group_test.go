package shikaku

import (
	"errors"
	"iter"
	"slices"
	"strings"
	"testing"
)

func ids(vals ...int64) iter.Seq2[int64, error] {
	return func(yield func(int64, error) bool) {
		for _, v := range vals {
			if v < 0 {
				yield(0, errors.New("read failed"))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

func TestCountTargetRuns(t *testing.T) {
	for _, c := range []struct {
		name   string
		in     iter.Seq2[int64, error]
		counts []int
		err    string
	}{
		{"none", ids(), nil, ""},
		{"one household", ids(7, 7, 7), []int{3}, ""},
		{"households in order", ids(1, 4, 4, 9, 9, 9, 12), []int{1, 2, 3, 1}, ""},
		{"a household out of order", ids(4, 4, 1, 9), []int{2}, "並んでいません"},
		{"a household split", ids(4, 9, 4), []int{1, 1}, "並んでいません"},
		{"a read error", ids(1, 1, -1), nil, "read failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var counts []int
			var err error
			for n, e := range CountTargetRuns("46", c.in) {
				if e != nil {
					err = e
					break
				}
				counts = append(counts, n)
			}
			wrongErr := c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err))
			if wrongErr || !slices.Equal(counts, c.counts) {
				t.Errorf("counts %v, error %v; want %v, error containing %q", counts, err, c.counts, c.err)
			}
		})
	}
}
