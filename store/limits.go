package store

import (
	"context"
	"fmt"
	"time"
)

// Rate is a rate limit as GCRA (the generic cell rate algorithm) keeps it:
// one unit comes free every Interval, and at most Burst units may be taken
// at once. Its state is one time per key, the theoretical arrival time,
// which a store keeps until it has passed: an idle key costs nothing.
type Rate struct {
	Interval time.Duration // time for one unit to come free; > 0
	Burst    int           // units that may be taken at once; ≥ 1
}

// PerPeriod returns the Rate of n units per period, all of which may be
// taken at once.
func PerPeriod(n int, period time.Duration) Rate {
	if n < 1 {
		return Rate{}
	}
	return Rate{Interval: period / time.Duration(n), Burst: n}
}

// Valid reports whether r can be enforced: a positive Interval and Burst,
// whose product (the time a spent limit takes to refill) is at most
// MaxRateSpan.
func (r Rate) Valid() bool {
	return r.Interval > 0 && r.Burst >= 1 && r.Interval <= MaxRateSpan/time.Duration(r.Burst)
}

// MaxRateSpan bounds Interval × Burst, so that GCRA's sums stay far from
// int64's end on every store's clock.
const MaxRateSpan = 10 * 365 * 24 * time.Hour

// Decision is the outcome of [Limits.Take].
type Decision struct {
	// Allowed: the units were taken.
	Allowed bool
	// RetryAfter is, when refused, how long until the same take would be
	// allowed; 0 when allowed.
	RetryAfter time.Duration
	// Remaining is how many units could be taken right after this call.
	Remaining int
}

// Limits keeps rate limits.
//
// Every method is atomic and safe for concurrent use; errors are for
// failures only, as for [Tokens]. Keys are opaque, as for [Counters]. A
// limit's state expires when its units have all come free again.
type Limits interface {
	// Take spends n units of the limit under key at rate r, if they are
	// there: of concurrent takes, no more are allowed than r permits. A
	// refused take changes nothing. n must be between 1 and r.Burst.
	Take(ctx context.Context, key string, r Rate, n int) (Decision, error)
}

// CheckTake returns the caller mistake in a Take call, if any. Stores call
// it first and change nothing when it fails.
func CheckTake(r Rate, n int) error {
	if !r.Valid() {
		return fmt.Errorf("store: rate limit %+v: want a positive Interval and Burst", r)
	}
	if r.Interval > MaxRateSpan/time.Duration(r.Burst) {
		return fmt.Errorf("store: rate limit %+v: Interval × Burst over %v", r, MaxRateSpan)
	}
	if n < 1 || n > r.Burst {
		return fmt.Errorf("store: take %d units of a limit with a burst of %d", n, r.Burst)
	}
	return nil
}

// GCRA is the algorithm every store's Take runs, in whole units of time
// (nanoseconds in memory, milliseconds in Redis's Lua, which mirrors it
// line for line). tat is the stored theoretical arrival time (0 for none),
// now the store's clock. It returns the new tat to store when allowed
// (keep it until it passes: ttl = newTAT - now), and otherwise how long to
// wait.
func GCRA(tat, now, interval int64, burst, n int) (newTAT int64, allowed bool, retryAfter int64, remaining int) {
	tat = max(tat, now)
	newTAT = tat + int64(n)*interval
	horizon := now + int64(burst)*interval // the furthest tat the burst allows
	if newTAT > horizon {
		return tat, false, newTAT - horizon, int((horizon - tat) / interval)
	}
	return newTAT, true, 0, int((horizon - newTAT) / interval)
}
