package storetest

import (
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var limitCases = []testCase{
	{"Burst", testLimitBurst},
	{"RefillAndIdle", testLimitRefill},
	{"KeysApart", testLimitKeysApart},
	{"CallerMistakes", testLimitMistakes},
	{"ExactUnderRace", testLimitRace},
}

func (e *env) take(key string, r store.Rate, n int) store.Decision {
	e.Helper()
	d, err := e.s.Take(e.ctx, key, r, n)
	if err != nil {
		e.Fatalf("Take(%q): %v", key, err)
	}
	return d
}

// five a minute: one unit every 12 s, all five at once.
var fivePerMinute = store.PerPeriod(5, time.Minute)

// testLimitBurst: the burst is taken, the next take is refused with the
// time until a unit comes free, and a refused take changes nothing.
func testLimitBurst(e *env) {
	for i := 4; i >= 0; i-- {
		if d := e.take("k", fivePerMinute, 1); !d.Allowed || d.Remaining != i || d.RetryAfter != 0 {
			e.Fatalf("take %d of 5: %+v, want allowed with %d remaining", 5-i, d, i)
		}
	}
	for range 3 {
		if d := e.take("k", fivePerMinute, 1); d.Allowed || d.RetryAfter != 12*time.Second || d.Remaining != 0 {
			e.Fatalf("take past the burst: %+v, want refused, retry after 12s", d)
		}
	}
	e.clk.Advance(12*time.Second - time.Millisecond)
	if d := e.take("k", fivePerMinute, 1); d.Allowed || d.RetryAfter != time.Millisecond {
		e.Fatalf("1 ms before a unit is free: %+v, want refused, retry after 1ms", d)
	}
}

// testLimitRefill: units come back one per interval, and an idle limit is
// whole again (its state is gone once it has passed).
func testLimitRefill(e *env) {
	if d := e.take("k", fivePerMinute, 5); !d.Allowed || d.Remaining != 0 {
		e.Fatalf("take 5 of 5 at once: %+v", d)
	}
	e.clk.Advance(24 * time.Second)
	if d := e.take("k", fivePerMinute, 2); !d.Allowed || d.Remaining != 0 {
		e.Fatalf("two units after two intervals: %+v", d)
	}
	if d := e.take("k", fivePerMinute, 1); d.Allowed {
		e.Fatalf("a third unit after two intervals: %+v", d)
	}
	e.clk.Advance(time.Hour)
	if d := e.take("k", fivePerMinute, 5); !d.Allowed {
		e.Fatalf("the whole burst after an idle hour: %+v", d)
	}
}

func testLimitKeysApart(e *env) {
	e.take("a", fivePerMinute, 5)
	if d := e.take("b", fivePerMinute, 1); !d.Allowed || d.Remaining != 4 {
		e.Fatalf("another key after one was spent: %+v", d)
	}
	// a counter and a limit under one key are apart too
	if c := e.hit("a", time.Minute); c.N != 1 {
		e.Fatalf("counter under a limit's key starts at %d", c.N)
	}
}

func testLimitMistakes(e *env) {
	for _, tc := range []struct {
		r store.Rate
		n int
	}{{store.Rate{}, 1}, {fivePerMinute, 0}, {fivePerMinute, 6}, {store.Rate{Interval: time.Second, Burst: 0}, 1}} {
		if _, err := e.s.Take(e.ctx, "k", tc.r, tc.n); err == nil {
			e.Fatalf("Take(%+v, %d) accepted", tc.r, tc.n)
		}
	}
	if d := e.take("k", fivePerMinute, 5); !d.Allowed {
		e.Fatalf("a mistaken take spent units: %+v", d)
	}
}

// testLimitRace: of 200 concurrent takes of a burst of 50, exactly 50 are
// allowed.
func testLimitRace(e *env) {
	r := store.Rate{Interval: time.Hour, Burst: 50}
	var allowed, errs atomic.Int64
	race(200, func(int) {
		d, err := e.s.Take(e.ctx, "k", r, 1)
		switch {
		case err != nil:
			errs.Add(1)
		case d.Allowed:
			allowed.Add(1)
		}
	})
	if errs.Load() != 0 || allowed.Load() != 50 {
		e.Fatalf("200 concurrent takes of a burst of 50: %d allowed, %d failed; want 50, 0", allowed.Load(), errs.Load())
	}
}
