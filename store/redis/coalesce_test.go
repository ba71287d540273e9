package redis_test

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// The suite passes unchanged with lookups coalesced, on one server and on
// a Cluster.
func TestCoalesceConformance(t *testing.T) {
	srv := redistest.Standalone(t)
	cl := redistest.StartCluster(t)
	t.Run("Standalone", func(t *testing.T) {
		conformance(t, newClient(t, "redis://"+srv.Addr), redis.Options{Coalesce: true})
	})
	t.Run("Cluster", func(t *testing.T) {
		conformance(t, newClient(t, strings.Join(cl.Addrs, ",")), redis.Options{Coalesce: true, CoalesceFlights: 2})
	})
}

// pipelines counts round trips: single commands and pipelines alike.
type pipelines struct {
	mu          sync.Mutex
	trips, cmds int
}

func (p *pipelines) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (p *pipelines) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		p.mu.Lock()
		p.trips++
		p.cmds++
		p.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (p *pipelines) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		p.mu.Lock()
		p.trips++
		p.cmds += len(cmds)
		p.mu.Unlock()
		return next(ctx, cmds)
	}
}

// TestCoalesceBatches: 200 concurrent validations, each answered right
// (live, unknown), in fewer round trips than lookups; a lone validation is
// still one GET; a cancelled request returns at once without failing the
// others.
func TestCoalesceBatches(t *testing.T) {
	srv := redistest.Standalone(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer c.Close()
	st, err := redis.New(c, redis.Options{Prefix: "co", Coalesce: true, CoalesceFlights: 1})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var live []string
	for i := range 100 {
		iss, err := tm.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u", Project: string(rune('a' + i%26))})
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, iss.Token)
	}
	unknown := "ghs_" + tm.Tag("u") + "_" + strings.Repeat("A", 43)
	count := &pipelines{}
	c.AddHook(count)

	if _, err := tm.Validate(ctx, store.KindSession, live[0]); err != nil {
		t.Fatal(err)
	}
	if count.trips != 1 || count.cmds != 1 {
		t.Fatalf("a lone validation took %d round trips of %d commands, want 1 of 1", count.trips, count.cmds)
	}
	count.trips, count.cmds = 0, 0

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan string, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				rec, err := tm.Validate(ctx, store.KindSession, live[i/2])
				if err != nil || rec.Subject != "u" {
					errs <- "live token: " + err.Error()
				}
			} else if _, err := tm.Validate(ctx, store.KindSession, unknown); err == nil {
				errs <- "unknown token validated"
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	t.Logf("200 concurrent validations: %d round trips", count.trips)
	// A new pooled connection may add its own set-up commands.
	if count.cmds < 200 || count.trips >= 100 {
		t.Errorf("%d commands in %d round trips; want 200 lookups in far fewer trips", count.cmds, count.trips)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tm.Validate(cancelled, store.KindSession, live[1]); err == nil {
		t.Error("a cancelled validation succeeded")
	}
	if _, err := tm.Validate(ctx, store.KindSession, live[1]); err != nil {
		t.Errorf("after a cancelled one: %v", err)
	}
}

// BenchmarkCoalesce: 64 concurrent validations through the Guard's path
// (tokens.Validate), with one GET per lookup and with lookups coalesced.
// Compare ns/op (the inverse of validations per second) and p50-us, the
// median latency of one validation:
//
//	GATEHOUSE_REQUIRE_REDIS=1 go test -run x -bench Coalesce -benchmem ./store/redis
func BenchmarkCoalesce(b *testing.B) {
	srv := redistest.Standalone(b)
	for _, co := range []bool{false, true} {
		name := "OneGETPerLookup"
		if co {
			name = "Coalesced"
		}
		b.Run(name, func(b *testing.B) {
			c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, PoolSize: 64})
			defer c.Close()
			st, err := redis.New(c, redis.Options{Coalesce: co})
			if err != nil {
				b.Fatal(err)
			}
			tm, _ := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey})
			iss, err := tm.Issue(context.Background(), store.KindSession, tokens.Claims{Subject: "341"})
			if err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.ReportAllocs()
			b.SetParallelism(64 / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				mine := make([]time.Duration, 0, 1024)
				for pb.Next() {
					t0 := time.Now()
					if _, err := tm.Validate(ctx, store.KindSession, iss.Token); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			if len(lat) > 0 {
				sortDurations(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
			}
		})
	}
}

func sortDurations(d []time.Duration) { slices.Sort(d) }

// TestCloseLeavesTheClientOpen: Close, with lookups still in flight, waits
// for them, and does not close the client the store was given (the caller
// owns it and may share it); the store still answers afterwards.
func TestCloseLeavesTheClientOpen(t *testing.T) {
	srv := redistest.Standalone(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer c.Close()
	st, err := redis.New(c, redis.Options{Prefix: "cl", Coalesce: true, CoalesceFlights: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, _, err := st.Get(ctx, store.ID{Tag: "abcd"}); err != nil {
				t.Errorf("Get before Close: %v", err)
			}
		})
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("the client after Close: %v; Close must leave it to its owner", err)
	}
	if _, ok, err := st.Get(ctx, store.ID{Tag: "abcd"}); ok || err != nil {
		t.Fatalf("Get after Close = (_, %v, %v), want a miss", ok, err)
	}
}
