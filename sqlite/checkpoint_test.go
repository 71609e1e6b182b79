package sqlite

import (
	"context"
	"os"
	"strings"
	"testing"
)

// The database file grows only when the write-ahead log is copied into
// it: with SQLite's automatic checkpoint off, only the store's own
// checkpoint after a commit does that.
func TestCheckpointAfterCommit(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE t (a TEXT)`); err != nil {
		t.Fatal(err)
	}
	s.checkpointing.Lock() // whatever the migrations started is done
	s.checkpointing.Unlock()
	before, err := os.Stat(s.path)
	if err != nil {
		t.Fatal(err)
	}
	const rows, size = 200, 32 << 10
	err = s.tx(ctx, func(tx *writeTx) error {
		b, err := newBulk(ctx, tx, "t", []string{"a"})
		if err != nil {
			return err
		}
		for range rows {
			b.text(strings.Repeat("x", size))
			if err := b.row(); err != nil {
				return err
			}
		}
		return b.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	s.checkpointing.Lock() // the checkpoint the commit started is done
	s.checkpointing.Unlock()
	after, err := os.Stat(s.path)
	if err != nil {
		t.Fatal(err)
	}
	if grown := after.Size() - before.Size(); grown < rows*size {
		t.Errorf("the database file grew by %d bytes after a commit of %d", grown, rows*size)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("the log is left after Close: %v", err)
	}
}
