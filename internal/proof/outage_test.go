package proof

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

// fastFailing is a go-redis client that gives up in 200 ms, as an app that
// prefers a quick 503 to a hung request configures it.
func init() {
	// go-redis logs every failed dial; the outages here make thousands.
	goredis.SetLogger(quiet{})
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// underLoad is the app of the outage rows on srv, through a fast-failing
// client with a pool of pool connections, and a session token of ada's.
func underLoad(t *testing.T, srv *redistest.Server, pool int) (*goredis.Client, *app, string) {
	t.Helper()
	c := fastFailing(t, srv.Addr, pool)
	st, err := redis.New(c, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t, st, 4)
	return c, a, a.login(t)
}

func fastFailing(t testing.TB, addr string, pool int) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{
		Addr:          addr,
		DialTimeout:   200 * time.Millisecond,
		ReadTimeout:   200 * time.Millisecond,
		WriteTimeout:  200 * time.Millisecond,
		PoolTimeout:   200 * time.Millisecond,
		PoolSize:      pool,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRow07RedisKilledUnderLoad: Redis is SIGKILLed under 300 requests a
// second and restarted 5 s later. While it is down no request is let
// through, every answer is 503 store_unavailable, and no password is
// compared (the lockout counters cannot be read, so the login stops before
// bcrypt); from a second after the restart (go-redis's dial back-off) to
// five, at least 99 % of requests succeed; no goroutine is left behind.
func TestRow07RedisKilledUnderLoad(t *testing.T) {
	before := runtime.NumGoroutine()
	// Persistence on, so that sessions survive the restart and "success"
	// means what it says: the same token works again.
	srv := redistest.Standalone(t, "--appendonly", "yes", "--appendfsync", "always")
	c, a, tok := underLoad(t, srv, 32)
	stop := make(chan struct{})
	results := make(chan []result)
	go func() { results <- a.load(300, 64, tok, stop) }()

	time.Sleep(2 * time.Second)
	killed := time.Now()
	srv.Kill()
	// Requests that were past the lockout check when Redis died may still
	// compare; after half a second none can be, and from then on the
	// count must not move.
	time.Sleep(500 * time.Millisecond)
	comparesDown := a.hasher.Compares.Load()
	time.Sleep(4500 * time.Millisecond)
	comparesUp := a.hasher.Compares.Load()
	restarting := time.Now()
	srv.Restart()
	restarted := time.Now() // answering PING again
	time.Sleep(5 * time.Second)
	close(stop)
	rs := <-results

	var down, downOK, firstSecond, firstSecondOK, after, afterOK int
	for _, r := range rs {
		switch {
		case r.start.After(killed) && r.end.Before(restarting):
			down++
			if r.status == 200 {
				t.Errorf("let through while Redis was down: %+v", r)
			}
			if r.status != 503 || !strings.Contains(r.body, `"code":"store_unavailable"`) {
				t.Errorf("while down: %d %q, want 503 store_unavailable", r.status, r.body)
			} else {
				downOK++
			}
		case r.start.After(restarted.Add(time.Second)):
			// go-redis answers its last dial error for a moment after
			// a refused dial, so the first second is reported, not judged.
			after++
			if (r.login && r.status == 401) || (!r.login && r.status == 200 && r.body == "1815") {
				afterOK++
			}
		case r.start.After(restarted):
			firstSecond++
			if r.status != 503 {
				firstSecondOK++
			}
		}
	}
	if comparesUp != comparesDown {
		t.Errorf("%d password comparisons while Redis was down, want 0", comparesUp-comparesDown)
	}
	if down < 500 || after < 500 {
		t.Fatalf("too little load to judge: %d requests while down, %d after", down, after)
	}
	if float64(afterOK) < 0.99*float64(after) {
		t.Errorf("from 1 s to 5 s after the restart %d of %d requests succeeded, want at least 99%%", afterOK, after)
	}
	t.Logf("%d requests: %d while down (all 503); in the first second after the restart %d of %d ok, then %d of %d; %d comparisons in all",
		len(rs), down, firstSecondOK, firstSecond, afterOK, after, a.hasher.Compares.Load())
	a.srv.Close()
	c.Close()
	noLeak(t, before)
}

// TestRow08RedisStalled: Redis is SIGSTOPped for 3 s under load with a
// 200 ms client timeout. Requests are answered 503 within about the
// timeout rather than hanging, the connections to Redis never exceed the
// pool, and the app recovers once Redis continues.
func TestRow08RedisStalled(t *testing.T) {
	srv := redistest.Standalone(t)
	const pool = 8
	c, a, tok := underLoad(t, srv, pool)
	stop := make(chan struct{})
	results := make(chan []result)
	go func() { results <- a.load(100, 64, tok, stop) }()
	maxConns := make(chan uint32)
	go func() {
		var m uint32
		for {
			select {
			case <-stop:
				maxConns <- m
				return
			case <-time.After(5 * time.Millisecond):
				m = max(m, c.PoolStats().TotalConns)
			}
		}
	}()

	time.Sleep(time.Second)
	paused := time.Now()
	srv.Pause()
	time.Sleep(3 * time.Second)
	srv.Resume()
	resumed := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	rs := <-results

	var stalled, slow, recovered, after int
	var worst time.Duration
	for _, r := range rs {
		switch {
		case r.start.After(paused) && r.end.Before(resumed):
			stalled++
			if r.status == 200 {
				t.Errorf("let through while Redis was stalled: %+v", r)
			} else if r.status != 503 {
				t.Errorf("while stalled: %d %q, want 503", r.status, r.body)
			}
			d := r.end.Sub(r.start)
			worst = max(worst, d)
			if d > 600*time.Millisecond {
				slow++
			}
		case r.start.After(resumed.Add(time.Second)):
			after++
			if r.status == 200 || (r.login && r.status == 401) {
				recovered++
			}
		}
	}
	if stalled < 100 {
		t.Fatalf("only %d requests while stalled", stalled)
	}
	// A request may wait for a pooled connection (200 ms) and then for
	// Redis (200 ms); a busy -race machine adds some. Allow 1 % slower.
	if slow*100 > stalled {
		t.Errorf("%d of %d answers during the stall took over 600 ms (worst %v)", slow, stalled, worst)
	}
	if m := <-maxConns; m > pool {
		t.Errorf("%d connections to Redis, pool is %d", m, pool)
	}
	if after == 0 || float64(recovered) < 0.99*float64(after) {
		t.Errorf("after the stall %d of %d requests succeeded", recovered, after)
	}
	t.Logf("%d answers during the stall, worst %v; %d of %d ok a second after", stalled, worst, recovered, after)
}
