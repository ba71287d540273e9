package password

import (
	"encoding/base64"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// b64 is n bytes counting up from c, in unpadded standard base64.
func b64(n int, c byte) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c + byte(i)
	}
	return base64.RawStdEncoding.EncodeToString(b)
}

// peakAlloc runs f and samples the heap in use meanwhile.
func peakAlloc(f func()) (peak uint64, d time.Duration) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for !stop.Load() {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak {
				peak = m.HeapAlloc
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	start := time.Now()
	f()
	d = time.Since(start)
	stop.Store(true)
	wg.Wait()
	if peak > base.HeapAlloc {
		peak -= base.HeapAlloc
	} else {
		peak = 0
	}
	return peak, d
}

// TestScryptWithinLimitsStaysWithinTheMemoryLimit: the scrypt hashes the
// default Limits admit at their edges (OWASP's N=2^17, r=8; the largest r
// with the most p) take no more heap than MaxMemoryKiB, counting scrypt's
// p·128·r buffer, which once let ln=1,r=524288,p=10 take 895 MiB.
func TestScryptWithinLimitsStaysWithinTheMemoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates up to 128 MiB")
	}
	h := Importing{}
	for _, params := range []string{"ln=17,r=8,p=1", "ln=11,r=32,p=10", "ln=1,r=32,p=10"} {
		hash := []byte(fmt.Sprintf("$scrypt$%s$%s$%s", params, b64(16, 1), b64(32, 2)))
		if !h.CanRead(hash) {
			t.Fatalf("%s: not read: %v", params, h.Compare(hash, []byte("x")))
		}
		peak, d := peakAlloc(func() { _ = h.Compare(hash, []byte("wrong password")) })
		t.Logf("scrypt %s: peak heap %d MiB, %v", params, peak>>20, d)
		if lim := uint64(DefaultMaxMemoryKiB) << 10; peak > lim+lim/4 {
			t.Errorf("%s: one Compare took %d MiB of heap; Limits.MaxMemoryKiB is %d MiB", params, peak>>20, lim>>20)
		}
	}
}
