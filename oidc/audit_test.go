package oidc_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/store"
)

type counts struct {
	mu sync.Mutex
	n  map[audit.Event]int
}

func (c *counts) Count(e audit.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[audit.Event]int{}
	}
	c.n[e]++
}
func (c *counts) ObserveHash(time.Duration)                {}
func (c *counts) ObserveStore(string, time.Duration, bool) {}

// Each flow's start, success and failure is recorded, with the reason's
// code, and the log never holds a state, code, nonce or token.
func TestAudit(t *testing.T) {
	var logs bytes.Buffer
	m := new(counts)
	e := memEnv(t, func(cfg *oidc.Config, _ *fakeOP) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		cfg.Metrics = m
	})
	b := new(browser)
	loc := e.begin(t, b, "op", "")
	cb := e.op.authorize(loc)
	if _, _, err := e.finish(b, cb); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.finish(b, cb) // replayed
	wantCode(t, err, "invalid_state")
	if m.n[audit.OIDCStarted] != 1 || m.n[audit.OIDCSucceeded] != 1 || m.n[audit.OIDCFailed] != 1 {
		t.Fatalf("events %v", m.n)
	}
	out := logs.String()
	if !strings.Contains(out, `"reason":"invalid_state"`) || !strings.Contains(out, `"subject":"`+subject+`"`) ||
		!strings.Contains(out, `"provider":"op"`) {
		t.Fatalf("log:\n%s", out)
	}
	q, cq := mustQuery(t, loc), mustQuery(t, cb)
	for _, secret := range []string{q.Get("state"), q.Get("nonce"), q.Get("code_challenge"), cq.Get("code"), b.cookies[0].Value} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, out)
		}
	}
}

// Begin keeps a state in the store: with a Limiter, a client gets so
// many (class limit.Login) and then 429.
func TestBeginLimited(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(start)
			st := sf.Open(t, clock.Now)
			lim, err := limit.New(limit.Config{Store: st, Now: clock.Now,
				Policies: map[limit.Class]limit.Policy{limit.Login: {PerClient: store.PerPeriod(3, time.Minute)}}})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, st, clock, func(cfg *oidc.Config, _ *fakeOP) { cfg.Limiter = lim })
			for range 3 {
				e.begin(t, new(browser), "op", "")
			}
			w := httptest.NewRecorder()
			err = e.rp.Begin(w, httptest.NewRequest("GET", "/", nil), "op", "")
			wantCode(t, err, "rate_limited")
			if w.Header().Get("Location") != "" {
				t.Fatal("redirected")
			}
		})
	}
}
