package tokens

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/store"
)

func TestGenerateParseRoundTrip(t *testing.T) {
	for k := store.KindSession; k.Valid(); k++ {
		tok, err := generate(k, "abcd")
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != Len || !strings.HasPrefix(tok, "gh"+string(kindLetters[k])+"_abcd_") {
			t.Fatalf("%s token %q: wrong shape", k, tok)
		}
		if KindOf(tok) != k {
			t.Errorf("KindOf(%q) = %v, want %v", tok, KindOf(tok), k)
		}
		id, err := parse(k, tok)
		if err != nil {
			t.Fatalf("parse(%s, %q): %v", k, tok, err)
		}
		if id.Tag != "abcd" || id.Hash != hashToken(tok) {
			t.Errorf("parse(%q) = %+v", tok, id)
		}
		other := k%store.KindTrust + 1
		if _, err := parse(other, tok); err != ErrWrongKind {
			t.Errorf("parse as %s of a %s token: %v, want ErrWrongKind", other, k, err)
		}
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	good, _ := generate(store.KindSession, "abcd")
	swap := func(i int, c byte) string { b := []byte(good); b[i] = c; return string(b) }
	for name, tok := range map[string]string{
		"empty":             "",
		"short":             good[:Len-1],
		"long":              good + "A",
		"bad magic":         swap(0, 'x'),
		"bad separator":     swap(3, '-'),
		"bad tag separator": swap(prefixLen+tagLen, '.'),
		"tag upper case":    swap(prefixLen, 'A'),
		"tag digit 1":       swap(prefixLen, '1'),
		"secret not base64": swap(prefixLen+tagLen+3, '+'),
		"secret space":      swap(Len-2, ' '),
		"non-canonical end": swap(Len-1, 'B'), // 'B' has low bits set
		"unknown kind":      swap(2, 'z'),
		"unicode":           strings.Repeat("é", Len/2),
	} {
		if _, err := parse(store.KindSession, tok); err == nil {
			t.Errorf("%s: parse(%q) accepted garbage", name, tok)
		}
	}
	if _, err := parse(store.KindSession, ""); err != ErrMissing {
		t.Errorf("empty token: %v, want ErrMissing", err)
	}
}

func TestTagIsKeyedAndStable(t *testing.T) {
	a := tagFor([]byte("k1"), "subject-1")
	if a != tagFor([]byte("k1"), "subject-1") {
		t.Fatal("tag is not stable")
	}
	if len(a) != tagLen {
		t.Fatalf("tag %q: want %d characters", a, tagLen)
	}
	if !ValidDerivedTag(a) {
		t.Fatalf("tag %q has a character outside [a-z2-7]", a)
	}
	if !store.ValidRoutingTag(a) {
		t.Fatalf("tag %q is not a routing tag stores accept", a)
	}
	// Over many subjects a key change must move most tags.
	moved := 0
	for i := range 100 {
		s := "subject-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		if tagFor([]byte("k1"), s) != tagFor([]byte("k2"), s) {
			moved++
		}
	}
	if moved < 90 {
		t.Fatalf("only %d of 100 tags depend on the key", moved)
	}
}

// TestGenerateIsUnique is row 12 of the matrix (docs/security.md): a
// million tokens, no duplicate.
func TestGenerateIsUnique(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 10_000
	}
	seen := make(map[string]bool, n)
	for range n {
		tok, err := generate(store.KindSession, "abcd")
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}

func TestFromAuthorization(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer abc ":  "abc",
		"BEARER  abc":  "abc",
		"Basic abc":    "",
		"Bearer":       "",
		"Bearer ":      "",
		"":             "",
		"Bearerabc":    "",
		"Token abc":    "",
		"Bearer a b c": "a b c",
	} {
		if got := FromAuthorization(in); got != want {
			t.Errorf("FromAuthorization(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	good, _ := generate(store.KindSession, "abcd")
	for _, s := range []string{"", good, good[:10], "ghs_" + strings.Repeat("a", Len-4), strings.Repeat("\xff", Len)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parse(store.KindSession, s)
		if err != nil {
			return
		}
		// Whatever parses must have exactly the shape we issue.
		if len(s) != Len || KindOf(s) != store.KindSession || id.Hash != hashToken(s) || len(id.Tag) != tagLen {
			t.Fatalf("parse accepted %q as %+v", s, id)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	tok, _ := generate(store.KindSession, "abcd")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(store.KindSession, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTagCacheAgreesWithTheHMAC: the cache of recent subjects' tags
// answers exactly what the HMAC does, over more subjects than it has
// slots (so entries collide and are replaced), on first and second asks.
func TestTagCacheAgreesWithTheHMAC(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	tg := newTagger(key)
	for round := range 2 {
		for i := range 3 * tagCacheSlots {
			s := fmt.Sprintf("subject-%d", i)
			if got, want := tg.tag(s), tg.derive(s); got != want {
				t.Fatalf("round %d: tag(%q) = %s from the cache, %s from the HMAC", round, s, got[:], want[:])
			}
		}
	}
}
