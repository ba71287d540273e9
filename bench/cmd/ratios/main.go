// Command ratios prints the ratio table, the targets, the coalescing
// comparison and the capacity model, as Markdown, from
// `go test -bench` output of the bench module:
//
//	go run ./cmd/ratios results/raw.txt
package main

import (
	"fmt"
	"os"

	"github.com/gatehouse-go/gatehouse/bench/internal/ratios"
)

func main() {
	in := os.Stdin
	if len(os.Args) > 1 {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	res, err := ratios.Parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	res.Report(os.Stdout)
}
