package storetest

import (
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var counterCases = []testCase{
	{"Window", testCounterWindow},
	{"NewWindowAfterReset", testCounterExpiry},
	{"Reset", testCounterReset},
	{"ExactUnderRace", testCounterRace},
}

func (e *env) hit(key string, window time.Duration) store.Count {
	e.Helper()
	c, err := e.s.Hit(e.ctx, key, window)
	if err != nil {
		e.Fatalf("Hit(%q): %v", key, err)
	}
	return c
}

// wantPeek fails unless the counter stands at n and, for n > 0, ends at end.
func (e *env) wantPeek(key string, n int64, end time.Time) {
	e.Helper()
	c, err := e.s.Peek(e.ctx, key)
	if err != nil {
		e.Fatalf("Peek(%q): %v", key, err)
	}
	if c.N != n || (n > 0 && !sameTime(c.ResetAt, end)) {
		e.Fatalf("Peek(%q) = %d until %v, want %d until %v", key, c.N, c.ResetAt, n, end)
	}
}

// testCounterWindow: the window starts at the first hit and hits never
// move its end; Peek does not count.
func testCounterWindow(e *env) {
	e.wantPeek("k", 0, time.Time{})
	end := e.clk.Now().Add(time.Minute)
	if c := e.hit("k", time.Minute); c.N != 1 || !sameTime(c.ResetAt, end) {
		e.Fatalf("first Hit = %d until %v, want 1 until %v", c.N, c.ResetAt, end)
	}
	e.clk.Advance(30 * time.Second)
	if c := e.hit("k", time.Minute); c.N != 2 || !sameTime(c.ResetAt, end) {
		e.Fatalf("second Hit = %d until %v, want 2 until %v (the window must not move)", c.N, c.ResetAt, end)
	}
	if c := e.hit("k", time.Hour); c.N != 3 || !sameTime(c.ResetAt, end) {
		e.Fatalf("Hit with a longer window = %d until %v, want 3 until %v (the window must not move)", c.N, c.ResetAt, end)
	}
	e.wantPeek("k", 3, end)
	e.wantPeek("k", 3, end)
	e.wantPeek("other", 0, time.Time{})
}

// testCounterExpiry: a counter is gone at its ResetAt, and the next hit
// starts a new window.
func testCounterExpiry(e *env) {
	end := e.hit("k", time.Minute).ResetAt
	e.hit("k", time.Minute)
	e.clk.Advance(time.Minute - time.Millisecond)
	e.wantPeek("k", 2, end)
	e.clk.Advance(time.Millisecond)
	e.wantPeek("k", 0, time.Time{})
	next := e.clk.Now().Add(time.Minute)
	if c := e.hit("k", time.Minute); c.N != 1 || !sameTime(c.ResetAt, next) {
		e.Fatalf("Hit after the window = %d until %v, want 1 until %v", c.N, c.ResetAt, next)
	}
}

func testCounterReset(e *env) {
	for range 3 {
		e.hit("k", time.Minute)
	}
	kept := e.hit("kept", time.Minute).ResetAt
	e.clk.Advance(time.Second)
	if err := e.s.Reset(e.ctx, "k"); err != nil {
		e.Fatalf("Reset: %v", err)
	}
	e.wantPeek("k", 0, time.Time{})
	e.wantPeek("kept", 1, kept)
	if c := e.hit("k", time.Minute); c.N != 1 || !sameTime(c.ResetAt, e.clk.Now().Add(time.Minute)) {
		e.Fatalf("Hit after Reset = %d until %v, want a new window", c.N, c.ResetAt)
	}
	if err := e.s.Reset(e.ctx, "never-hit"); err != nil {
		e.Fatalf("Reset of an unknown counter: %v", err)
	}
}

// testCounterRace: 1000 concurrent hits each see a different count.
func testCounterRace(e *env) {
	const n = 1000
	var seen [n + 1]atomic.Int32
	var errs atomic.Int64
	ends := make([]time.Time, n)
	race(n, func(i int) {
		c, err := e.s.Hit(e.ctx, "k", time.Minute)
		if err != nil || c.N < 1 || c.N > n {
			errs.Add(1)
			return
		}
		seen[c.N].Add(1)
		ends[i] = c.ResetAt
	})
	if errs.Load() != 0 {
		e.Fatalf("%d of %d concurrent Hits failed or counted out of range", errs.Load(), n)
	}
	for i := 1; i <= n; i++ {
		if got := seen[i].Load(); got != 1 {
			e.Fatalf("%d concurrent Hits returned N=%d %d times, want once", n, i, got)
		}
	}
	for _, end := range ends {
		if !end.Equal(ends[0]) {
			e.Fatalf("concurrent Hits ended their window at %v and at %v", ends[0], end)
		}
	}
	e.wantPeek("k", n, ends[0])
}
