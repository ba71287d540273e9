//go:build ignore

// gen.go writes common.txt, the list Blocklist embeds, from the frequency
// lists of the npm package zxcvbn 4.4.2 (lib/frequency_lists.js, MIT; see
// LICENSE-zxcvbn.txt):
//
//	npm pack zxcvbn@4.4.2 && tar xzf zxcvbn-4.4.2.tgz
//	go run gen.go package/lib/frequency_lists.js > common.txt
//	go run gen.go -short package/lib/frequency_lists.js > short.txt
//
// Every entry of every list (passwords, English Wikipedia, US TV and film,
// names, surnames) is folded as password.Fold folds a password; common.txt
// keeps those of at least 8 characters (the shortest password a Policy
// accepts, so they can match a whole password), short.txt those of 4 to
// 7 (which a Policy looks up only for what is left of a password without
// its ends, or the unit a password repeats: "monkey" of
// "monkey123456789"). Each list is written sorted, one a line, without
// duplicates.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

func main() {
	args := os.Args[1:]
	lo, hi := 8, 1<<30
	if len(args) == 2 && args[0] == "-short" {
		lo, hi = 4, 7
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: go run gen.go [-short] frequency_lists.js > common.txt")
		os.Exit(2)
	}
	src, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Each list is `name: "a,b,c".split(",")`.
	lists := regexp.MustCompile(`(?m)^\s*(\w+): "([^"]*)"\.split\(","\)`).FindAllStringSubmatch(string(src), -1)
	if len(lists) != 6 {
		fmt.Fprintf(os.Stderr, "found %d lists, want 6: has the file's format changed?\n", len(lists))
		os.Exit(1)
	}
	seen := map[string]bool{}
	for _, l := range lists {
		for _, w := range strings.Split(l[2], ",") {
			w = strings.TrimSpace(cases.Fold().String(norm.NFKC.String(w)))
			if n := utf8.RuneCountInString(w); n >= lo && n <= hi {
				seen[w] = true
			}
		}
	}
	words := make([]string, 0, len(seen))
	for w := range seen {
		words = append(words, w)
	}
	slices.Sort(words)
	out := bufio.NewWriter(os.Stdout)
	for _, w := range words {
		fmt.Fprintln(out, w)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
