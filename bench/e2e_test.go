package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// The end-to-end measurements run the quickstart's wiring (examples/
// quickstart: memory store, one demo user, JSON login, GET /me behind the
// guard answering the principal as JSON) on a loopback HTTP server, with
// the load generated in the same process.

type demoUsers map[string]auth.User

func (d demoUsers) FindUser(_ context.Context, login string) (auth.User, error) {
	u, ok := d[login]
	if !ok {
		return auth.User{}, auth.ErrUnknownUser
	}
	return u, nil
}

// me is the quickstart's protected route.
func me(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"subject": p.Subject, "project": p.Project, "expires_at": p.ExpiresAt.UTC()})
}

const demoPassword = "gatehouse-demo"

// quickstart returns the app's handler and a live session token. guarded
// false serves /me without the guard, with the same principal put in the
// context by hand; maxHashes is auth's MaxConcurrentHashes (0: default).
func quickstart(tb testing.TB, guarded bool, maxHashes int) (http.Handler, string) {
	st := memory.New(memory.Options{})
	tb.Cleanup(func() { st.Close() })
	tm := must(tokens.New(tokens.Config{Store: st, TagKey: tagKey}))
	// The demo user, and one account per login of the flood: the lockout
	// counts an attempt once it holds a hashing slot, so one account
	// logging in 200 times at once would rightly lock itself.
	hash := must(password.Hash(demoPassword, 10))
	users := demoUsers{}
	for i := range floodLogins {
		name := "user-" + strconv.Itoa(i)
		users[name] = auth.User{Subject: name, PasswordHash: hash, Active: true, EmailConfirmed: true}
	}
	users["demo"] = users["user-1"]
	// auth's default lockout: a login refused busy (503, no free hashing
	// slot) is not counted, so the flood locks no account (a 403 would
	// fail the benchmark).
	authn := must(auth.New(auth.Config{Users: users, Tokens: tm, Counters: st, MaxConcurrentHashes: maxHashes}))
	guard := must(middleware.NewGuard(middleware.GuardConfig{Tokens: tm}))
	iss := must(tm.Issue(context.Background(), store.KindSession, tokens.Claims{Subject: "user-1"}))

	mux := http.NewServeMux()
	mux.Handle("POST /login", authn.LoginHandler(auth.HandlerOptions{}))
	if guarded {
		mux.Handle("GET /me", guard.Handler(http.HandlerFunc(me)))
	} else {
		p := middleware.Principal{Subject: "user-1", Kind: store.KindSession,
			IssuedAt: iss.Record.IssuedAt, ExpiresAt: iss.Record.ExpiresAt}
		mux.Handle("GET /me", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			me(w, r.WithContext(middleware.NewContext(r.Context(), p)))
		}))
	}
	return mux, iss.Token
}

func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		DisableCompression: true,
	}}
}

// getMe sends GET /me and drains the answer; it reports the status.
func getMe(c *http.Client, req *http.Request) (int, error) {
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// e2eConns is the bounded load: this many keep-alive connections, each
// sending its next request when the last is answered.
const e2eConns = 16

// BenchmarkE2E compares the req/s of GET /me through the guard with the
// same server without the guard, over loopback, in alternating rounds of
// e2eRound each (the median round of each counts). It ignores b.N: run it
// with -benchtime 1x.
func BenchmarkE2E(b *testing.B) {
	const rounds, e2eRound = 5, 2 * time.Second
	var guarded, unguarded []float64
	servers := map[bool]*httptest.Server{}
	tokensOf := map[bool]string{}
	for _, g := range []bool{true, false} {
		h, token := quickstart(b, g, 0)
		servers[g] = httptest.NewServer(h)
		tokensOf[g] = token
		b.Cleanup(servers[g].Close)
	}
	for range rounds {
		for _, g := range []bool{true, false} {
			rps := load(b, servers[g].URL+"/me", tokensOf[g], e2eConns, e2eRound)
			if g {
				guarded = append(guarded, rps)
			} else {
				unguarded = append(unguarded, rps)
			}
		}
	}
	gm, um := median(guarded), median(unguarded)
	b.ReportMetric(gm, "guarded-req/s")
	b.ReportMetric(um, "unguarded-req/s")
	b.ReportMetric(gm/um, "guarded/unguarded")
	b.ReportMetric(0, "ns/op")
}

// load sends GET url with the token from conns goroutines for d and
// returns the answered requests per second. Any answer but 200 fails b.
func load(b *testing.B, url, token string, conns int, d time.Duration) float64 {
	c := newHTTPClient(conns)
	defer c.CloseIdleConnections()
	var n atomic.Int64
	var bad atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			for time.Now().Before(stop) {
				code, err := getMe(c, req)
				if err != nil || code != http.StatusOK {
					bad.Store(int64(code))
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if code := bad.Load(); code != 0 {
		b.Fatalf("GET %s answered %d", url, code)
	}
	return float64(n.Load()) / time.Since(start).Seconds()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// floodLogins is how many logins are kept in flight during the flood.
const floodLogins = 200

// BenchmarkLoginFlood measures the p99 latency of GET /me (one client,
// requests back to back for 3 s) idle and while 200 logins are in flight (each
// answered login is sent again at once), with auth's default bound on
// concurrent bcrypt hashes (GOMAXPROCS-1, at least 1; reported as
// hash-slots) and with one hash at a time. It ignores b.N: run it with
// -benchtime 1x.
func BenchmarkLoginFlood(b *testing.B) {
	for _, hashes := range []int{0, 1} {
		name := "hashes=" + strconv.Itoa(hashes)
		if hashes == 0 {
			name = "hashes=default"
		}
		b.Run(name, func(b *testing.B) {
			const measure = 3 * time.Second
			h, token := quickstart(b, true, hashes)
			srv := httptest.NewServer(h)
			defer srv.Close()
			idle := latencies(b, srv.URL+"/me", token, measure)

			ctx, cancel := context.WithCancel(context.Background())
			var logins, busy, other atomic.Int64
			var wg sync.WaitGroup
			fc := newHTTPClient(floodLogins)
			for i := range floodLogins {
				body := []byte(`{"username":"user-` + strconv.Itoa(i) + `","password":"` + demoPassword + `"}`)
				wg.Go(func() {
					for ctx.Err() == nil {
						req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/login", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						res, err := fc.Do(req)
						if err != nil {
							continue
						}
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						switch res.StatusCode {
						case http.StatusOK:
							logins.Add(1)
						case http.StatusServiceUnavailable:
							busy.Add(1)
						default:
							other.Store(int64(res.StatusCode))
						}
					}
				})
			}
			time.Sleep(500 * time.Millisecond) // the flood at full height
			logins.Store(0)
			busy.Store(0)
			start := time.Now()
			flood := latencies(b, srv.URL+"/me", token, measure)
			elapsed := time.Since(start).Seconds()
			done, refused := logins.Load(), busy.Load()
			cancel()
			wg.Wait()
			fc.CloseIdleConnections()
			if code := other.Load(); code != 0 {
				b.Fatalf("a login answered %d", code)
			}

			pi, pf := percentile(idle, 0.99), percentile(flood, 0.99)
			b.ReportMetric(float64(pi.Microseconds()), "idle-p99-µs")
			b.ReportMetric(float64(pf.Microseconds()), "flood-p99-µs")
			b.ReportMetric(float64(percentile(idle, 0.5).Microseconds()), "idle-p50-µs")
			b.ReportMetric(float64(percentile(flood, 0.5).Microseconds()), "flood-p50-µs")
			b.ReportMetric(float64(pf)/float64(pi), "p99-flood/idle")
			b.ReportMetric(float64(done)/elapsed, "logins/s")
			b.ReportMetric(float64(refused)/elapsed, "busy-503/s")
			slots := hashes
			if slots == 0 {
				slots = max(1, runtime.GOMAXPROCS(0)-1) // auth's default
			}
			b.ReportMetric(float64(slots), "hash-slots")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// latencies sends GET requests back to back for d and returns their
// latencies.
func latencies(b *testing.B, url, token string, d time.Duration) []time.Duration {
	c := newHTTPClient(1)
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for range 100 { // warm the connection and the paths
		if code, err := getMe(c, req); err != nil || code != http.StatusOK {
			b.Fatalf("GET /me: %d %v", code, err)
		}
	}
	var out []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		t := time.Now()
		code, err := getMe(c, req)
		out = append(out, time.Since(t))
		if err != nil || code != http.StatusOK {
			b.Fatalf("GET /me: %d %v", code, err)
		}
	}
	return out
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}
