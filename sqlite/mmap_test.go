package sqlite

import (
	"context"
	"os"
	"strings"
	"testing"
)

// Reads go through the memory map of mmap_size (twice as fast exports as
// reads by system calls). SQLite falls back to reads silently when the map
// cannot be made (as on the earlier WebAssembly driver, whose address
// space was too small), so the test looks for the database file among the
// process's mappings.
func TestReadsAreMemoryMapped(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc/self/maps on this system:", err)
	}
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO employers (employer_code, name, postal_code, address) VALUES ('E1', 'x', '', '')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM employers`).Scan(&n); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	mapped := false
	for line := range strings.Lines(string(maps)) {
		// The write-ahead log's index (t.db-shm) is mapped either way.
		mapped = mapped || strings.HasSuffix(strings.TrimRight(line, "\n"), " "+s.path)
	}
	if !mapped {
		t.Errorf("%s is not memory-mapped; reads go through system calls", s.path)
	}
}
