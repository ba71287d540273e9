package proof

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestRow10MemoryFlood: 500,000 short-lived tokens flood the memory store.
// At its cap new issues fail with store.ErrFull, which HTTP answers 503
// store_full; once they expire the background sweeper takes the store back
// to zero, the heap returns to within 8 MiB of where it started, and
// Close leaves no goroutine behind.
func TestRow10MemoryFlood(t *testing.T) {
	n := 500_000
	if testing.Short() {
		n = 20_000
	}
	goroutines := runtime.NumGoroutine()
	start := heap()
	clock := fakeclock.New(time.Now())
	st := memory.New(memory.Options{MaxRecords: n, SweepInterval: 10 * time.Millisecond, Now: clock.Now})
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey, Now: clock.Now, LoginTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := tm.Issue(ctx, store.KindLogin, tokens.Claims{Subject: fmt.Sprint("u", i%1000), Project: "p"}); err != nil {
			t.Fatalf("issue %d of %d: %v", i+1, n, err)
		}
	}
	if st.Len() != n {
		t.Fatalf("%d records, want %d", st.Len(), n)
	}
	_, err = tm.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "one more"})
	if !errors.Is(err, store.ErrFull) {
		t.Fatalf("issue past the cap: %v, want ErrFull", err)
	}
	w := httptest.NewRecorder()
	problem.Write(w, err)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"store_full"`) {
		t.Fatalf("full store answered %d %s", w.Code, w.Body)
	}
	full := heap()

	clock.Advance(time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for st.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the sweeper left %d of %d expired records", st.Len(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := tm.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "after"}); err != nil {
		t.Fatalf("issue after the sweep: %v", err)
	}
	st.Close()
	tm, st = nil, nil
	end := heap()
	t.Logf("heap: %d KiB at start, %d KiB with %d tokens, %d KiB after the sweep", start>>10, full>>10, n, end>>10)
	if end > start+8<<20 {
		t.Errorf("heap after the sweep is %d KiB, %d KiB at start", end>>10, start>>10)
	}
	noLeak(t, goroutines)
}
