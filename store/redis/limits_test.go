package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

// TestTakeRoundsIntervalsUp: Redis keeps limits in whole milliseconds, so
// an Interval of 1.5 ms is enforced as 2 ms, never as 1 (which would let
// through more than asked; found by a review), and one under 1 ms works
// instead of failing as a 500.
func TestTakeRoundsIntervalsUp(t *testing.T) {
	srv := redistest.Standalone(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	t.Cleanup(func() { c.Close() })
	now := time.UnixMilli(1_700_000_000_000)
	st, err := redis.New(c, redis.Options{Prefix: "round", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		key   string
		iv    time.Duration
		retry time.Duration
	}{{"a", 1500 * time.Microsecond, 2 * time.Millisecond}, {"b", 300 * time.Microsecond, time.Millisecond}} {
		// The whole burst at once, so that the key lives for seconds of
		// Redis's own clock (its TTL runs on real time, not on the
		// store's fixed one) and the next take surely sees it.
		r := store.Rate{Interval: tc.iv, Burst: 10000}
		if d, err := st.Take(ctx, tc.key, r, 10000); err != nil || !d.Allowed {
			t.Fatalf("%v: first take %+v, %v", tc.iv, d, err)
		}
		if d, err := st.Take(ctx, tc.key, r, 1); err != nil || d.Allowed || d.RetryAfter != tc.retry {
			t.Fatalf("%v: second take %+v, %v; want refused, retry after %v", tc.iv, d, err, tc.retry)
		}
	}
}
