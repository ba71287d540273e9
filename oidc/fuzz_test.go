package oidc_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// FuzzFinish: whatever the callback's query and whether the browser's
// cookie comes with it, Finish never panics, every error has a code of a
// client error or 502 (never a 500), and an identity comes back only for
// a state Begin issued, once.
func FuzzFinish(f *testing.F) {
	clock := fakeclock.New(start)
	st := memory.New(memory.Options{Now: clock.Now})
	f.Cleanup(func() { st.Close() })
	e := newEnv(f, st, clock, nil)
	b := new(browser)
	issued := map[string]bool{}
	for range 4 {
		cb := e.op.authorize(e.begin(f, b, "op", "/dashboard"))
		q := mustQuery(f, cb)
		issued[q.Get("state")] = true
		raw := cb[strings.IndexByte(cb, '?')+1:]
		f.Add(raw, true)
		f.Add(raw+"&state="+q.Get("state"), true)
		f.Add("error=access_denied&state="+q.Get("state"), true)
		f.Add(raw+"&iss=https://evil.example", false)
	}
	f.Add("state=ghc_AAAA&code=x", true)
	f.Add("state=%ff%fe&code=%00", true)
	f.Add(";;;&&&==", false)
	var (
		mu     sync.Mutex
		passed = map[string]bool{}
	)
	f.Fuzz(func(t *testing.T, query string, cookie bool) {
		r := httptest.NewRequest("GET", "https://app.example.com/auth/callback", nil)
		r.URL.RawQuery = query
		if cookie {
			r.AddCookie(b.cookies[0])
		}
		id, next, err := e.rp.Finish(httptest.NewRecorder(), r)
		if err != nil {
			if p := problem.Of(err); p.Status != 400 && p.Status != 401 && p.Status != 502 {
				t.Fatalf("status %d (%s) for %q: %v", p.Status, p.Code, query, err)
			}
			if id != (oidc.Identity{}) || next != "" {
				t.Fatalf("identity %+v with an error", id)
			}
			return
		}
		state := r.URL.Query().Get("state")
		mu.Lock()
		defer mu.Unlock()
		if !issued[state] || passed[state] || !cookie || id.Subject != subject || next != "/dashboard" {
			t.Fatalf("Finish passed %q (cookie %v): %+v; issued %v, passed before %v", query, cookie, id, issued[state], passed[state])
		}
		passed[state] = true
	})
}
