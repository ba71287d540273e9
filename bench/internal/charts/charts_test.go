package charts

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/bench/internal/ratios"
)

// TestWriteFromCommittedRun draws the charts from the committed run and
// checks each is a PNG of a sensible size; CHARTS_DIR keeps them (to look
// at) instead of a temporary directory.
func TestWriteFromCommittedRun(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "results", "raw.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ratios.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("CHARTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	paths, err := Write(res, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(Files) {
		t.Fatalf("wrote %v, want all of %v", paths, Files)
	}
	for _, p := range paths {
		g, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(g)
		g.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
			t.Errorf("%s is %v: too small to read", p, b)
		}
	}
}

// TestWriteSkipsMissing: a run without the flood (runbench -only-validate)
// draws the validation chart alone, and an empty run draws nothing.
func TestWriteSkipsMissing(t *testing.T) {
	res, err := ratios.Parse(strings.NewReader("BenchmarkValidate/serial/floor-2 100 500 ns/op\nBenchmarkValidate/serial/gatehouse-memory-bearer-2 100 550 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Write(res, t.TempDir())
	if err != nil || len(paths) != 1 || filepath.Base(paths[0]) != "validation.png" {
		t.Fatalf("Write = %v, %v; want validation.png alone", paths, err)
	}
	empty, _ := ratios.Parse(strings.NewReader(""))
	if paths, err := Write(empty, t.TempDir()); err != nil || len(paths) != 0 {
		t.Fatalf("Write(empty) = %v, %v; want nothing", paths, err)
	}
}
