package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestExportGolden runs a small demo and compares every exported file
// with testdata/golden: data files byte for byte, PDFs by their text
// (pdftotext -layout, kept as FILE.pdf.txt). Run with -update to rewrite
// the golden files after a deliberate change, and review the diff.
func TestExportGolden(t *testing.T) {
	needPrint(t)
	dir := t.TempDir()
	mustRun(t, dir, "demo", "--members", "80", "--seed", "5", "--out", "out")
	out := filepath.Join(dir, "out")
	var got []string
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		if strings.HasPrefix(rel, "input") || strings.HasPrefix(rel, "shikaku.db") {
			return nil
		}
		if strings.HasSuffix(rel, ".pdf") {
			text, err := exec.Command("pdftotext", "-layout", path, path+".txt").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext %s: %v %s (apt-get install poppler-utils)", rel, err, text)
			}
			rel += ".txt"
		}
		got = append(got, rel)
		return nil
	})
	sort.Strings(got)
	golden := filepath.Join("testdata", "golden")
	if *update {
		os.RemoveAll(golden)
		for _, rel := range got {
			b, _ := os.ReadFile(filepath.Join(out, rel))
			os.MkdirAll(filepath.Dir(filepath.Join(golden, rel)), 0o755)
			if err := os.WriteFile(filepath.Join(golden, rel), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	var want []string
	filepath.WalkDir(golden, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(golden, path)
		want = append(want, rel)
		return nil
	})
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("exported files differ from the golden set:\ngot  %v\nwant %v", got, want)
	}
	for _, rel := range want {
		a, _ := os.ReadFile(filepath.Join(out, rel))
		b, _ := os.ReadFile(filepath.Join(golden, rel))
		if string(a) != string(b) {
			t.Errorf("%s differs from the golden file (go test ./cmd/shikaku -run Golden -update to accept)\ngot:\n%s", rel, a)
		}
	}
}
