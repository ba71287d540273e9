package oidc_test

import (
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// A store that is down fails the flow closed with 503, at Begin (no
// redirect, no cookie) and at Finish (no identity).
func TestStoreDown(t *testing.T) {
	clock := fakeclock.New(start)
	mem := memory.New(memory.Options{Now: clock.Now})
	t.Cleanup(func() { mem.Close() })
	st := storefault.Wrap(mem)
	e := newEnv(t, st, clock, nil)
	b := new(browser)
	cb := e.op.authorize(e.begin(t, b, "op", ""))

	st.SetDown(true)
	w := httptest.NewRecorder()
	err := e.rp.Begin(w, httptest.NewRequest("GET", "/", nil), "op", "")
	wantCode(t, err, "store_unavailable")
	if w.Header().Get("Location") != "" || len(w.Result().Cookies()) != 0 {
		t.Fatal("Begin answered with a store down")
	}
	id, _, err := e.finish(b, cb)
	wantCode(t, err, "store_unavailable")
	if id.Subject != "" {
		t.Fatalf("%+v", id)
	}
	// The flow was not spent: back up, it finishes.
	st.SetDown(false)
	if _, _, err := e.finish(b, cb); err != nil {
		t.Fatal(err)
	}
}

// Many first logins at once discover the provider once.
func TestConcurrentFirstLogins(t *testing.T) {
	e := memEnv(t, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.login(t); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := e.op.jwksFetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times", n)
	}
}
