package password

import (
	"runtime"
	"strings"
	"testing"
)

var sink bool

// BenchmarkCommonPasswords: the cost of one lookup (a hit and a miss), and
// as index-B the heap that indexing the embedded list takes on first use
// (the list's text itself is in the binary, not on the heap).
func BenchmarkCommonPasswords(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	list := &sortedList{text: commonText}
	list.Contains("") // builds the index
	runtime.ReadMemStats(&after)
	index := after.TotalAlloc - before.TotalAlloc
	for _, tc := range []struct{ name, pw string }{
		{"hit", "baseball"},
		{"miss", strings.Repeat("correct horse ", 4)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = list.Contains(tc.pw)
			}
			b.ReportMetric(float64(index), "index-B")
		})
	}
}

func TestSortedListEdges(t *testing.T) {
	for _, tc := range []struct {
		text string
		in   []string
		out  []string
	}{
		{"", nil, []string{"", "a"}},
		{"b\n", []string{"b"}, []string{"", "a", "c", "b\n"}},
		{"b\nd", []string{"b", "d"}, []string{"a", "c", "e", "d\n"}},
		{"b\nd\nf\n", []string{"b", "d", "f"}, []string{"a", "c", "e", "g"}},
	} {
		l := &sortedList{text: tc.text}
		for _, w := range tc.in {
			if !l.Contains(w) {
				t.Errorf("%q: Contains(%q) = false", tc.text, w)
			}
		}
		for _, w := range tc.out {
			if l.Contains(w) {
				t.Errorf("%q: Contains(%q) = true", tc.text, w)
			}
		}
	}
}
