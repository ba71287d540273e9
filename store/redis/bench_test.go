package redis_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// BenchmarkGuard measures a request through the Guard with its session in
// Redis beside the floor it cannot beat: one plain go-redis GET of a value
// of the same size, on the same server and client, in the same run.
// Compare Guard with RawGET (the target is within 1.2x):
//
//	GATEHOUSE_REQUIRE_REDIS=1 go test -run x -bench Guard -benchmem ./store/redis
//
// Parallel runs 16 goroutines (8 per core on this 2-core kind; the
// benchmark sets 8 per GOMAXPROCS).
func BenchmarkGuard(b *testing.B) {
	srv := redistest.Standalone(b)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, PoolSize: 32})
	b.Cleanup(func() { c.Close() })
	m := managerOn(b, c)
	ctx := context.Background()
	iss, err := m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "341", Project: "100909072"})
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 60) // about what a session record takes
	if err := c.Set(ctx, "bench:raw", value, 0).Err(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Del(ctx, "bench:raw") })
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: m})
	if err != nil {
		b.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Token)

	raw := func() {
		if err := c.Get(ctx, "bench:raw").Err(); err != nil {
			b.Fatal(err)
		}
	}
	guard := func(w *httptest.ResponseRecorder) {
		w.Code = 0
		h.ServeHTTP(w, req)
		if w.Code != 0 && w.Code != http.StatusOK {
			b.Fatalf("guard answered %d: %s", w.Code, w.Body)
		}
	}
	b.Run("RawGET", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw()
		}
	})
	b.Run("Guard", func(b *testing.B) {
		b.ReportAllocs()
		w := httptest.NewRecorder()
		for b.Loop() {
			guard(w)
		}
	})
	b.Run("RawGET/Parallel16", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16 / max(1, runtimeProcs()))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				raw()
			}
		})
	})
	b.Run("Guard/Parallel16", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16 / max(1, runtimeProcs()))
		b.RunParallel(func(pb *testing.PB) {
			w := httptest.NewRecorder()
			for pb.Next() {
				guard(w)
			}
		})
	})
}

// BenchmarkGuardIdle is BenchmarkGuard's Guard with a 30-minute idle
// timeout and the default 1-minute touch interval, on a clock that moves
// 10 ms a request, counting what goes to Redis with the go-redis hook:
// cmds/op is 1 (the GET) plus writes/op, the touch scripts per request
// (1/6000 here; 1/60 for a session making a request a second).
//
//	GATEHOUSE_REQUIRE_REDIS=1 go test -run x -bench GuardIdle -benchmem ./store/redis
func BenchmarkGuardIdle(b *testing.B) {
	srv := redistest.Standalone(b)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	b.Cleanup(func() { c.Close() })
	clock := fakeclock.New(time.Now().Truncate(time.Millisecond))
	st, err := redis.New(c, redis.Options{Prefix: "gh" + rand.Text()[:8], Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	m, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey, SessionTTL: 365 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	iss, err := m.Issue(b.Context(), store.KindSession, tokens.Claims{Subject: "341"})
	if err != nil {
		b.Fatal(err)
	}
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: m, IdleTimeout: 30 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Token)
	w := httptest.NewRecorder()
	cmds := &redistest.Commands{}
	c.AddHook(cmds)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
		clock.Advance(10 * time.Millisecond)
	}
	if w.Code != http.StatusOK {
		b.Fatalf("guard answered %d: %s", w.Code, w.Body)
	}
	n := float64(cmds.N.Load())
	b.ReportMetric(n/float64(b.N), "cmds/op")
	b.ReportMetric((n-float64(b.N))/float64(b.N), "writes/op")
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
