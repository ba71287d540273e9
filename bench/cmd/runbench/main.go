// Command runbench is `make bench`: it runs the bench module's benchmarks
// (which start their own Redis servers), writes the raw output to
// results/raw.txt, a benchstat summary to results/benchstat.txt, and prints
// the table of ratios against the floor and the peers (also written to
// results/ratios.md), and draws the charts of docs/performance.md into
// docs/images. Run it from the bench directory:
//
//	go run ./cmd/runbench [-count 5] [-benchtime 1s] [-only-validate]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gatehouse-go/gatehouse/bench/internal/charts"
	"github.com/gatehouse-go/gatehouse/bench/internal/ratios"
)

func main() {
	count := flag.Int("count", 5, "runs of each validation benchmark")
	benchtime := flag.String("benchtime", "1s", "-benchtime of each validation benchmark")
	onlyValidate := flag.Bool("only-validate", false, "skip the memory, login-flood and end-to-end measurements")
	flag.Parse()
	if err := run(*count, *benchtime, *onlyValidate); err != nil {
		fmt.Fprintln(os.Stderr, "runbench:", err)
		os.Exit(1)
	}
}

func run(count int, benchtime string, onlyValidate bool) error {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found; `make deps` at the repository root installs it", bin)
		}
	}
	if err := os.MkdirAll("results", 0o755); err != nil {
		return err
	}
	rawPath := filepath.Join("results", "raw.txt")
	raw, err := os.Create(rawPath)
	if err != nil {
		return err
	}
	defer raw.Close()
	fmt.Fprintf(raw, "gover: %s\ncores: %d\n", runtime.Version(), runtime.NumCPU())

	out := io.MultiWriter(os.Stdout, raw)
	// The validation table: every contender, serial and 16 goroutines.
	if err := goTest(out, "-run", "^$", "-bench", "^BenchmarkValidate$", "-benchmem",
		"-count", fmt.Sprint(count), "-benchtime", benchtime, "-timeout", "60m", "."); err != nil {
		return err
	}
	if !onlyValidate {
		// Second factors: checking a TOTP code and a passkey assertion,
		// each against the library underneath (pquerna/otp,
		// go-webauthn) measured in the same run.
		if err := goTest(out, "-run", "^$", "-bench", "^Benchmark(TOTPVerify|Passkey[A-Za-z]*)$", "-benchmem",
			"-count", fmt.Sprint(count), "-benchtime", benchtime, "-timeout", "30m", "."); err != nil {
			return err
		}
		// One-shot measurements, each a single long run.
		if err := goTest(out, "-run", "^$", "-bench", "^Benchmark(MemoryPerToken|RedisMemory|Bcrypt|LoginFlood|E2E)$",
			"-benchmem", "-count", "1", "-benchtime", "1x", "-timeout", "30m", "."); err != nil {
			return err
		}
	}
	if err := raw.Close(); err != nil {
		return err
	}

	var stat bytes.Buffer
	cmd := exec.Command("go", "tool", "benchstat", rawPath)
	cmd.Stdout, cmd.Stderr = &stat, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("benchstat: %w", err)
	}
	if err := os.WriteFile(filepath.Join("results", "benchstat.txt"), stat.Bytes(), 0o644); err != nil {
		return err
	}

	f, err := os.Open(rawPath)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := ratios.Parse(f)
	if err != nil {
		return err
	}
	var table bytes.Buffer
	res.Report(&table)
	if err := os.WriteFile(filepath.Join("results", "ratios.md"), table.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("\n== benchstat (results/benchstat.txt)\n%s\n== ratios (results/ratios.md)\n%s", stat.String(), table.String())
	// The pictures of docs/performance.md, drawn from the same run.
	drawn, err := charts.Write(res, filepath.Join("..", "docs", "images"))
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	fmt.Printf("\nraw output: %s\ncharts: %s\n", rawPath, strings.Join(drawn, ", "))
	return nil
}

// goTest runs `go test` with args in the current directory, its output
// going to out.
func goTest(out io.Writer, args ...string) error {
	cmd := exec.Command("go", append([]string{"test"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go test %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
