package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/bench/internal/redisproc"
)

// parallelism is the number of goroutines RunParallel benchmarks use,
// whatever GOMAXPROCS is (16 on the 2-core machines the targets are for).
const parallelism = 16

// contender is one way to authenticate a request.
type contender struct {
	name  string
	redis bool // needs Redis; its round trips are counted
	// setup returns the middleware, a request carrying a valid credential,
	// and a function that reports the subject the middleware put in the
	// context (to check, before timing, that the credential is accepted).
	setup func(tb testing.TB, rt *roundTrips) (mw func(http.Handler) http.Handler, req *http.Request, who func(*http.Request) string)
}

// discard is a ResponseWriter that keeps nothing but the status, reused
// across iterations (its header map is cleared each time, so a middleware
// that adds a header does not grow it).
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// BenchmarkValidate runs every contender serially, then every contender
// under 16 goroutines. Each contender is set up once per mode, outside the
// timed function (which the testing package calls again for each b.N).
func BenchmarkValidate(b *testing.B) {
	for _, mode := range []string{"serial", "parallel16"} {
		b.Run(mode, func(b *testing.B) {
			for _, c := range contenders {
				rt := &roundTrips{}
				mw, req, who := c.setup(b, rt)
				verify(b, mw, req, who)
				h := mw(noop)
				b.Run(c.name, func(b *testing.B) {
					b.ReportAllocs()
					rt.n.Store(0)
					rt.cmds.Store(0)
					cpu := redisCPU(b, rt.addrs)
					if mode == "serial" {
						serial(b, h, req)
					} else {
						parallel(b, h, req)
					}
					if c.redis {
						b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
						b.ReportMetric(float64(rt.cmds.Load())/float64(b.N), "cmds/op")
						b.ReportMetric((redisCPU(b, rt.addrs)-cpu)*1e9/float64(b.N), "redis-cpu-ns/op")
					}
				})
			}
		})
	}
}

// serial sends req through h b.N times.
func serial(b *testing.B, h http.Handler, req *http.Request) {
	w := &discard{h: http.Header{}}
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.code != 0 {
			b.Fatalf("answered %d", w.code)
		}
	}
}

// parallel sends req through h b.N times from 16 goroutines.
func parallel(b *testing.B, h http.Handler, req *http.Request) {
	b.SetParallelism(max(1, parallelism/runtime.GOMAXPROCS(0)))
	var failed atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		w := &discard{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
			if w.code != 0 {
				failed.Store(int64(w.code))
			}
		}
	})
	if code := failed.Load(); code != 0 {
		b.Fatalf("answered %d", code)
	}
}

// verify sends the request once to a handler that checks the middleware
// let it through with the expected subject.
func verify(tb testing.TB, mw func(http.Handler) http.Handler, req *http.Request, who func(*http.Request) string) {
	tb.Helper()
	var got string
	reached := false
	h := mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		reached = true
		got = who(r)
	}))
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req)
	if !reached || w.code != 0 {
		tb.Fatalf("the credential was refused (status %d)", w.code)
	}
	if got != subject {
		tb.Fatalf("the handler saw subject %q, want %q", got, subject)
	}
}

// subject is the user every credential is for.
const subject = "341"

// tagKey is the tokens.Config.TagKey of every gatehouse contender.
var tagKey = []byte("gatehouse bench routing-tag key, 32+ bytes")

// roundTrips counts the commands and pipelines a go-redis client sends:
// each is one network round trip (n), a pipeline of k commands counting
// once in n and k times in cmds. The handshake of a new pooled connection
// (HELLO, CLIENT SETINFO, READONLY), which go-redis also sends through the
// client's hooks, is not a round trip of a request and is left out.
type roundTrips struct {
	n     atomic.Int64
	cmds  atomic.Int64
	addrs []string // the servers the client talks to, for redisCPU
}

// redisCPU returns the CPU time (user and system, in seconds) the servers
// have used so far, from INFO cpu.
func redisCPU(tb testing.TB, addrs []string) float64 {
	var sum float64
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
		info, err := c.Info(context.Background(), "cpu").Result()
		c.Close()
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(info, "\r\n") {
			k, v, _ := strings.Cut(line, ":")
			if k == "used_cpu_sys" || k == "used_cpu_user" {
				f, _ := strconv.ParseFloat(v, 64)
				sum += f
			}
		}
	}
	return sum
}

func handshake(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		switch c.Name() {
		case "hello", "client", "auth", "select", "readonly":
		default:
			return false
		}
	}
	return true
}

var _ redis.Hook = (*roundTrips)(nil)

func (rt *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (rt *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !handshake([]redis.Cmder{cmd}) {
			rt.n.Add(1)
			rt.cmds.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (rt *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !handshake(cmds) {
			rt.n.Add(1)
			rt.cmds.Add(int64(len(cmds)))
		}
		return next(ctx, cmds)
	}
}

// The Redis servers are started on first use and stopped by TestMain.
var (
	redisOnce  sync.Once
	standalone *redisproc.Server
	cluster    *redisproc.Cluster
	redisErr   error
)

func servers(tb testing.TB) (*redisproc.Server, *redisproc.Cluster) {
	tb.Helper()
	redisOnce.Do(func() {
		standalone, redisErr = redisproc.Start()
		if redisErr == nil {
			cluster, redisErr = redisproc.StartCluster()
		}
	})
	if redisErr != nil {
		tb.Fatalf("starting Redis: %v", redisErr)
	}
	return standalone, cluster
}

// newClient returns a client of the standalone server whose round trips
// rt counts.
func newClient(tb testing.TB, rt *roundTrips) *redis.Client {
	srv, _ := servers(tb)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 32})
	tb.Cleanup(func() { c.Close() })
	if rt != nil {
		c.AddHook(rt)
		rt.addrs = []string{srv.Addr}
	}
	return c
}

// newClusterClient returns a client of the cluster whose round trips, to
// every node, rt counts (slot-map loads and redirections included).
func newClusterClient(tb testing.TB, rt *roundTrips) *redis.ClusterClient {
	_, cl := servers(tb)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, PoolSize: 32})
	tb.Cleanup(func() { c.Close() })
	if rt != nil {
		c.OnNewNode(func(n *redis.Client) { n.AddHook(rt) })
		rt.addrs = cl.Addrs
	}
	if err := c.ForEachShard(context.Background(), func(ctx context.Context, n *redis.Client) error {
		return n.Ping(ctx).Err()
	}); err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestMain(m *testing.M) {
	code := m.Run()
	standalone.Stop()
	cluster.Stop()
	os.Exit(code)
}

// must panics on a setup error: setup runs before any timing, and a
// benchmark that cannot be set up must not report a figure.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Errorf("bench setup: %w", err))
	}
	return v
}
