package limit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

var (
	start  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alice  = netip.MustParsePrefix("192.0.2.1/32")
	mallet = netip.MustParsePrefix("198.51.100.7/32")
	three  = limit.Policy{PerClient: store.Rate{Interval: 10 * time.Second, Burst: 3}}
)

// eachStore runs f on memory, Redis and Redis Cluster, with a fake clock
// shared by the store and the limiter.
func eachStore(t *testing.T, f func(t *testing.T, st store.Store, clock *fakeclock.Clock)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(start)
			f(t, sf.Open(t, clock.Now), clock)
		})
	}
}

func newLimiter(t *testing.T, st store.Limits, clock *fakeclock.Clock, policies map[limit.Class]limit.Policy) *limit.Limiter {
	t.Helper()
	l, err := limit.New(limit.Config{Store: st, Policies: policies, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestClientsApart: one client spending its limit leaves another's whole,
// the refusal says until when, and the limit refills on the clock.
func TestClientsApart(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, clock *fakeclock.Clock) {
		l := newLimiter(t, st, clock, map[limit.Class]limit.Policy{limit.Login: three})
		for range 3 {
			if err := l.Allow(t.Context(), limit.Login, mallet, ""); err != nil {
				t.Fatal(err)
			}
		}
		err := l.Allow(t.Context(), limit.Login, mallet, "")
		var le *limit.Error
		if !errors.As(err, &le) || !errors.Is(err, limit.ErrLimited) || le.Scope != limit.ScopeClient || !le.Until.Equal(start.Add(10*time.Second)) {
			t.Fatalf("fourth request: %v, want a client-scope *Error until +10s", err)
		}
		if p := problem.Of(err); p.Status != 429 || p.Code != "rate_limited" {
			t.Fatalf("problem %+v, want 429 rate_limited", p)
		}
		if err := l.Allow(t.Context(), limit.Login, alice, ""); err != nil {
			t.Fatalf("another client after one spent its limit: %v", err)
		}
		clock.Advance(10 * time.Second)
		if err := l.Allow(t.Context(), limit.Login, mallet, ""); err != nil {
			t.Fatalf("after one interval: %v", err)
		}
	})
}

func TestAccountAndGlobalScopes(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, clock *fakeclock.Clock) {
		one := store.Rate{Interval: time.Minute, Burst: 1}
		l := newLimiter(t, st, clock, map[limit.Class]limit.Policy{
			limit.Mail:  {PerAccount: one},
			limit.Reset: {Global: store.Rate{Interval: time.Minute, Burst: 2}},
		})
		if err := l.Allow(t.Context(), limit.Mail, alice, "s:1"); err != nil {
			t.Fatal(err)
		}
		var le *limit.Error
		if err := l.Allow(t.Context(), limit.Mail, mallet, "s:1"); !errors.As(err, &le) || le.Scope != limit.ScopeAccount {
			t.Fatalf("second mail to one account from another client: %v, want account scope", err)
		}
		if err := l.Allow(t.Context(), limit.Mail, mallet, "s:2"); err != nil {
			t.Fatalf("another account: %v", err)
		}
		for _, c := range []netip.Prefix{alice, mallet} {
			if err := l.Allow(t.Context(), limit.Reset, c, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Allow(t.Context(), limit.Reset, netip.MustParsePrefix("203.0.113.9/32"), ""); !errors.As(err, &le) || le.Scope != limit.ScopeGlobal {
			t.Fatalf("third reset in all: %v, want global scope", err)
		}
	})
}

// TestHandler: a spoofed X-Forwarded-For from an untrusted peer buys no
// new limit; behind a trusted proxy each forwarded client has its own;
// refusals are 429 with Retry-After; a store that is down is 503.
func TestHandler(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, clock *fakeclock.Clock) {
		fault := storefault.Wrap(st)
		l := newLimiter(t, fault, clock, map[limit.Class]limit.Policy{limit.Reset: three})
		res := clientaddr.MustNew(clientaddr.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		var reached atomic.Int64
		h := l.Handler(limit.Reset, res.Client)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
		do := func(remote, xff string) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/reset", nil)
			r.RemoteAddr = remote
			if xff != "" {
				r.Header.Set("X-Forwarded-For", xff)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		for i := range 10 {
			w := do("198.51.100.7:1000", "192.0.2."+string(rune('0'+i)))
			if i < 3 && w.Code != 200 || i >= 3 && w.Code != 429 {
				t.Fatalf("spoofed request %d: %d %s", i, w.Code, w.Body)
			}
			if i >= 3 && (w.Header().Get("Retry-After") != "10" || !strings.Contains(w.Body.String(), `"rate_limited"`)) {
				t.Fatalf("refusal: Retry-After %q, body %s", w.Header().Get("Retry-After"), w.Body)
			}
		}
		if n := reached.Load(); n != 3 {
			t.Fatalf("%d requests reached the handler from one spoofing client, want 3", n)
		}
		for i := range 3 {
			if w := do("10.0.0.2:1", "192.0.2."+string(rune('1'+i))); w.Code != 200 {
				t.Fatalf("forwarded client %d behind a trusted proxy: %d", i, w.Code)
			}
		}
		if w := do("10.0.0.2:1", "junk"); w.Code != 400 || !strings.Contains(w.Body.String(), "invalid_forwarded") {
			t.Fatalf("junk from a trusted proxy: %d %s", w.Code, w.Body)
		}
		fault.SetDown(true)
		if w := do("192.0.2.200:1", ""); w.Code != 503 {
			t.Fatalf("store down: %d, want 503 (fail closed)", w.Code)
		}
	})
}

// TestConcurrentClientExact: 100 concurrent requests from one client
// against a burst of 10: exactly 10 pass, on every store.
func TestConcurrentClientExact(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, clock *fakeclock.Clock) {
		l := newLimiter(t, st, clock, map[limit.Class]limit.Policy{limit.Login: {PerClient: store.Rate{Interval: time.Hour, Burst: 10}}})
		var ok, limited atomic.Int64
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				switch err := l.Allow(context.Background(), limit.Login, mallet, ""); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, limit.ErrLimited):
					limited.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 10 || limited.Load() != 90 {
			t.Fatalf("%d allowed, %d limited; want 10, 90", ok.Load(), limited.Load())
		}
	})
}

func TestAuditEvent(t *testing.T) {
	var buf bytes.Buffer
	clock := fakeclock.New(start)
	st := teststores.All()[0].Open(t, clock.Now)
	l, err := limit.New(limit.Config{Store: st, Now: clock.Now, Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		Policies: map[limit.Class]limit.Policy{limit.Verify: {PerClient: store.Rate{Interval: time.Minute, Burst: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Allow(t.Context(), limit.Verify, alice, "")
	_ = l.Allow(t.Context(), limit.Verify, alice, "")
	if s := buf.String(); !strings.Contains(s, `"event":"request.rate_limited"`) || !strings.Contains(s, `"class":"verify"`) || !strings.Contains(s, `"scope":"client"`) {
		t.Fatalf("audit log %s", s)
	}
}

func TestNewChecksConfig(t *testing.T) {
	st := teststores.All()[0].Open(t, time.Now)
	for _, cfg := range []limit.Config{
		{},
		{Store: st, Policies: map[limit.Class]limit.Policy{"": {}}},
		{Store: st, Policies: map[limit.Class]limit.Policy{limit.Login: {PerClient: store.Rate{Interval: time.Second}}}},
	} {
		if _, err := limit.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	l, err := limit.New(limit.Config{Store: st, Policies: map[limit.Class]limit.Policy{limit.Login: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Policy(limit.Login) != (limit.Policy{}) || l.Policy(limit.Reset) != limit.DefaultPolicies()[limit.Reset] {
		t.Error("Policies did not replace only the classes they name")
	}
	if err := l.Allow(t.Context(), "nonsense", alice, ""); err == nil || errors.Is(err, limit.ErrLimited) {
		t.Errorf("unknown class: %v", err)
	}
}
