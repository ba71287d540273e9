//go:build !race

package password_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/password"
)

// TestPolicyCheckCostIsBounded: Check's time on hostile input, which a
// reset confirmation reaches without a session: megabytes, characters NFKC
// multiplies by 18 (U+FDFA) or 4, characters NFC grows, a near-repeat,
// stacked marks. Each stays under 50 ms (a few ms on a 2-core machine).
// Not under the race detector, which makes normalisation 100 times
// slower.
func TestPolicyCheckCostIsBounded(t *testing.T) {
	p := mustPolicy(t, password.PolicyConfig{MaxLength: password.MaxLengthLimit})
	for name, in := range map[string]string{
		"1MB ascii":                 strings.Repeat("a", 1<<20),
		"1MB U+FDFA":                strings.Repeat("\uFDFA", 1<<18),
		"1024 x U+FDFA (NFKC x18)":  strings.Repeat("\uFDFA", 1024),
		"1024 x U+3300 (NFKC x4)":   strings.Repeat("\u3300", 1024),
		"4096 x U+0958 (NFC grows)": strings.Repeat("\u0958", 4096),
		"1024 near-repeat":          strings.Repeat("ab", 511) + "ac",
		"marks":                     strings.Repeat("a\u0301\u0302\u0303\u0304", 1024),
		"1024 spaced":               strings.Repeat("a ", 512),
	} {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		start := time.Now()
		for range 10 {
			_ = p.Check(context.Background(), in)
		}
		d := time.Since(start) / 10
		runtime.ReadMemStats(&m1)
		t.Logf("%-26s %8d bytes in: %v per Check, %d bytes allocated per Check", name, len(in), d, (m1.TotalAlloc-m0.TotalAlloc)/10)
		if d > 50*time.Millisecond {
			t.Errorf("%s: %v per Check", name, d)
		}
	}
}
