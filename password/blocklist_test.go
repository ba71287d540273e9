package password_test

import (
	"bufio"
	"os"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/password"
)

// TestCommonPasswordsFile: the embedded list is folded, sorted, without
// duplicates or entries shorter than the shortest password a policy takes,
// so a binary search over it is exact.
func TestCommonPasswordsFile(t *testing.T) {
	f, err := os.Open("data/common.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var words []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := sc.Text()
		if w == "" || password.Fold(w) != w || utf8.RuneCountInString(w) < 8 {
			t.Errorf("entry %q is empty, not folded or too short", w)
		}
		words = append(words, w)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(words) || len(slices.Compact(slices.Clone(words))) != len(words) {
		t.Fatal("data/common.txt is not sorted or has duplicates")
	}
	if len(words) != 41621 {
		t.Errorf("%d entries; the docs say 41,621", len(words))
	}
	list := password.CommonPasswords()
	for _, w := range words {
		if !list.Contains(w) {
			t.Fatalf("Contains(%q) = false for an entry of the list", w)
		}
		if list.Contains(w+"\x00") || list.Contains(w[:len(w)-1]+"\x7f") {
			t.Fatalf("Contains says true for a neighbour of %q", w)
		}
	}
	for _, w := range []string{"", "a", "zzzzzzzzzzzzzzzz", "correct horse battery staple", "Password"} {
		if list.Contains(w) {
			t.Errorf("Contains(%q) = true", w)
		}
	}
}
