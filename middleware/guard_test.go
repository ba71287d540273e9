package middleware_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

var ctx = context.Background()

type fixture struct {
	clock   *fakeclock.Clock
	store   *storefault.Store
	tokens  *tokens.Manager
	cookies *middleware.Cookies
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	env := testfix.New(t, tokens.Config{})
	c, err := middleware.NewCookies(middleware.CookieConfig{HashKey: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{env.Clock, env.Store, env.Tokens, c}
}

func (f *fixture) session(t testing.TB, subject, project string) string {
	t.Helper()
	iss, err := f.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: subject, Project: project})
	if err != nil {
		t.Fatal(err)
	}
	return iss.Token
}

// cookieFor returns the Cookie header a browser would send after logging in
// to each project with its token.
func (f *fixture) cookieFor(t testing.TB, sessions map[string]string) string {
	t.Helper()
	var header string
	for project, tok := range sessions {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Cookie", header)
		}
		if err := f.cookies.SetSession(w, r, project, tok, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		header = strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0]
	}
	return header
}

var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := middleware.FromContext(r.Context())
	if !ok {
		w.WriteHeader(299) // let through without a principal
		return
	}
	json.NewEncoder(w).Encode(p)
})

func TestGuard(t *testing.T) {
	f := newFixture(t)
	tok := f.session(t, "u1", "")
	tokA := f.session(t, "u1", "A")
	login, _ := f.tokens.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "u1"})
	// A login waiting for its second factor grants nothing but the second
	// step (issue 18; better-auth GHSA-xg6x-h9c9-2m83).
	pending, _ := f.tokens.Issue(ctx, store.KindPending, tokens.Claims{Subject: "u1", Assurance: 1})
	challenge, _ := f.tokens.Issue(ctx, store.KindChallenge, tokens.Claims{Subject: "u1"})
	byProject := func(r *http.Request) string { return r.PathValue("project") }

	for _, tc := range []struct {
		name       string
		project    func(*http.Request) string
		path       string
		header     string
		cookie     map[string]string
		status     int
		code       string
		wantSubjet string
	}{
		{name: "bearer", header: "Bearer " + tok, status: 200, wantSubjet: "u1"},
		{name: "cookie", cookie: map[string]string{"": tok}, status: 200, wantSubjet: "u1"},
		{name: "no token", status: 401, code: "missing_token"},
		{name: "garbage bearer", header: "Bearer garbage", status: 401, code: "invalid_token"},
		{name: "basic auth", header: "Basic dTpw", status: 401, code: "missing_token"},
		{name: "login token as session", header: "Bearer " + login.Token, status: 401, code: "invalid_token"},
		{name: "pending token as bearer session", header: "Bearer " + pending.Token, status: 401, code: "invalid_token"},
		{name: "pending token as cookie session", cookie: map[string]string{"": pending.Token}, status: 401, code: "invalid_token"},
		{name: "passkey challenge as session", header: "Bearer " + challenge.Token, status: 401, code: "invalid_token"},
		{name: "unknown token", header: "Bearer " + tok[:len(tok)-2] + "AA", status: 401, code: "invalid_token"},
		{name: "project session opens its project", project: byProject, path: "/p/A", header: "Bearer " + tokA, status: 200, wantSubjet: "u1"},
		{name: "project session refused elsewhere", project: byProject, path: "/p/B", header: "Bearer " + tokA, status: 403, code: "wrong_project"},
		{name: "cookie for A read on A", project: byProject, path: "/p/A", cookie: map[string]string{"A": tokA, "": tok}, status: 200, wantSubjet: "u1"},
		{name: "cookie for A not on B", project: byProject, path: "/p/B", cookie: map[string]string{"A": tokA}, status: 401, code: "missing_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Cookies: f.cookies, Project: tc.project})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/p/{project}", g.Handler(echo))
			mux.Handle("/", g.Handler(echo))
			path := tc.path
			if path == "" {
				path = "/"
			}
			r := httptest.NewRequest("GET", path, nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if tc.cookie != nil {
				r.Header.Set("Cookie", f.cookieFor(t, tc.cookie))
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			var body struct{ Code, Subject string }
			json.Unmarshal(w.Body.Bytes(), &body)
			if body.Code != tc.code || body.Subject != tc.wantSubjet {
				t.Fatalf("body %s; want code %q subject %q", w.Body, tc.code, tc.wantSubjet)
			}
		})
	}
}

func TestTamperedCookieIsNoSession(t *testing.T) {
	f := newFixture(t)
	c := f.cookieFor(t, map[string]string{"": f.session(t, "u1", "")})
	tampered := c[:len(c)-3] + "AAA"
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Cookies: f.cookies})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", tampered)
	if err := g.Check(r); err != middleware.ErrNoToken {
		t.Fatalf("tampered cookie: %v, want ErrNoToken", err)
	}
}

func TestExpiredSession(t *testing.T) {
	f := newFixture(t)
	tok := f.session(t, "u1", "")
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if err := g.Check(r); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24 * time.Hour)
	if err := g.Check(r); err != tokens.ErrInvalid {
		t.Fatalf("expired session: %v, want tokens.ErrInvalid", err)
	}
}

func TestStoreDownFailsClosed(t *testing.T) {
	f := newFixture(t)
	tok := f.session(t, "u1", "")
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens})
	reached := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })
	f.store.SetDown(true)
	for name, h := range map[string]http.Handler{"Handler": g.Handler(next), "Optional": g.Optional(next)} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 503 || !strings.Contains(w.Body.String(), `"store_unavailable"`) || reached {
			t.Fatalf("%s with the store down: %d %s, reached=%v; want 503 store_unavailable, not reached", name, w.Code, w.Body, reached)
		}
	}
	f.store.SetDown(false)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if err := g.Check(r); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestOptional(t *testing.T) {
	f := newFixture(t)
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens})
	for header, want := range map[string]int{"": 299, "Bearer junk": 299, "Bearer " + f.session(t, "u1", ""): 200} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		w := httptest.NewRecorder()
		g.Optional(echo).ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Optional with %q: %d, want %d", header, w.Code, want)
		}
	}
}

func TestDenyHook(t *testing.T) {
	f := newFixture(t)
	var got error
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Deny: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}})
	w := httptest.NewRecorder()
	g.Handler(echo).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusTeapot || got != middleware.ErrNoToken {
		t.Fatalf("deny hook: %d, %v", w.Code, got)
	}
}

func TestCookieFlags(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		c, _ := middleware.NewCookies(middleware.CookieConfig{HashKey: make([]byte, 32), InsecureAllowHTTP: insecure})
		w := httptest.NewRecorder()
		c.SetSession(w, httptest.NewRequest("GET", "/", nil), "", "tok", time.Now().Add(time.Hour))
		res := w.Result()
		ck := res.Cookies()[0]
		if !ck.HttpOnly || ck.Secure == insecure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge <= 0 {
			t.Errorf("insecure=%v: cookie %+v", insecure, ck)
		}
	}
}

func TestCookieHoldsSeveralProjects(t *testing.T) {
	f := newFixture(t)
	header := f.cookieFor(t, map[string]string{"A": "tokA"})
	// Logging in to B keeps A.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", header)
	f.cookies.SetSession(w, r, "B", "tokB", time.Now().Add(time.Hour))
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0])
	if f.cookies.SessionToken(r, "A") != "tokA" || f.cookies.SessionToken(r, "B") != "tokB" {
		t.Fatal("the cookie does not hold both projects")
	}
	// Logging out of A keeps B; logging out of B deletes the cookie.
	w = httptest.NewRecorder()
	f.cookies.ClearSession(w, r, "A")
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.Header.Set("Cookie", strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0])
	if f.cookies.SessionToken(r2, "A") != "" || f.cookies.SessionToken(r2, "B") != "tokB" {
		t.Fatal("clearing A did not keep only B")
	}
	w = httptest.NewRecorder()
	f.cookies.ClearSession(w, r2, "B")
	if ck := w.Result().Cookies()[0]; ck.MaxAge >= 0 {
		t.Fatalf("last project cleared but the cookie stays: %+v", ck)
	}
}

func TestNewCookiesRejectsWeakKeys(t *testing.T) {
	for name, cfg := range map[string]middleware.CookieConfig{
		"no hash key":    {},
		"short hash key": {HashKey: make([]byte, 31)},
		"odd block key":  {HashKey: make([]byte, 32), BlockKey: make([]byte, 20)},
	} {
		if _, err := middleware.NewCookies(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := middleware.NewGuard(middleware.GuardConfig{}); err == nil {
		t.Error("guard without tokens accepted")
	}
}

// BenchmarkGuard is the hot path: a valid bearer token on the memory store
// through the guard to a no-op handler.
func BenchmarkGuard(b *testing.B) {
	f := newFixture(b)
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Cookies: f.cookies})
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	bearer := httptest.NewRequest("GET", "/", nil)
	bearer.Header.Set("Authorization", "Bearer "+f.session(b, "u1", ""))
	cookie := httptest.NewRequest("GET", "/", nil)
	cookie.Header.Set("Cookie", f.cookieFor(b, map[string]string{"": f.session(b, "u1", "")}))
	w := httptest.NewRecorder()
	for name, r := range map[string]*http.Request{"Bearer": bearer, "Cookie": cookie} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
		b.Run(name+"/Parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := httptest.NewRecorder()
				for pb.Next() {
					h.ServeHTTP(w, r)
				}
			})
		})
	}
}

// FuzzCookie: any Cookie or Authorization header is answered 200, 401 or
// 403 with a stable code; nothing panics and nothing else gets in.
func FuzzCookie(f *testing.F) {
	fx := newFixture(f)
	valid := fx.cookieFor(f, map[string]string{"": fx.session(f, "u1", "")})
	for _, s := range []string{valid, "gatehouse=", "gatehouse=" + strings.Repeat("A", 500), "gatehouse=a|b|c", valid[:len(valid)/2]} {
		f.Add(s, "")
	}
	f.Add("", "Bearer ghs_aaaa_"+strings.Repeat("A", 43))
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: fx.tokens, Cookies: fx.cookies})
	h := g.Handler(echo)
	f.Fuzz(func(t *testing.T, cookie, authz string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", cookie)
		r.Header.Set("Authorization", authz)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			// Only the real cookie's value, or a bearer token, opens the door.
			if !strings.Contains(cookie, strings.TrimPrefix(valid, "gatehouse=")) && tokens.FromAuthorization(authz) == "" {
				t.Fatalf("let in with cookie %q", cookie)
			}
		case 401, 403:
			if !strings.Contains(w.Body.String(), `"code":"`) {
				t.Fatalf("%d without a code: %s", w.Code, w.Body)
			}
		default:
			t.Fatalf("cookie %q authorization %q: %d", cookie, authz, w.Code)
		}
	})
}

// TestCookieNamePrefixes: the default name is a __Host- cookie when it can
// be one, and names with a prefix the settings would break are refused.
func TestCookieNamePrefixes(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	for _, tc := range []struct {
		cfg  middleware.CookieConfig
		name string // "" for an error
	}{
		{middleware.CookieConfig{}, "__Host-gatehouse"},
		{middleware.CookieConfig{InsecureAllowHTTP: true}, "gatehouse"},
		{middleware.CookieConfig{Domain: "example.com"}, "gatehouse"},
		{middleware.CookieConfig{Path: "/app"}, "gatehouse"},
		{middleware.CookieConfig{Name: "__Host-s", Domain: "example.com"}, ""},
		{middleware.CookieConfig{Name: "__Host-s", InsecureAllowHTTP: true}, ""},
		{middleware.CookieConfig{Name: "__Secure-s", InsecureAllowHTTP: true}, ""},
		{middleware.CookieConfig{Name: "__Secure-s", Domain: "example.com"}, "__Secure-s"},
		{middleware.CookieConfig{Name: "__host-s", Path: "/app"}, ""},
		{middleware.CookieConfig{Name: "__SECURE-s", InsecureAllowHTTP: true}, ""},
	} {
		tc.cfg.HashKey = key
		c, err := middleware.NewCookies(tc.cfg)
		if tc.name == "" {
			if err == nil {
				t.Errorf("%+v: accepted", tc.cfg)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc.cfg, err)
		}
		w := httptest.NewRecorder()
		if err := c.SetSession(w, httptest.NewRequest("GET", "/", nil), "", "tok", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := w.Result().Cookies()[0].Name; got != tc.name {
			t.Errorf("%+v: cookie %q, want %q", tc.cfg, got, tc.name)
		}
	}
}

// TestGuardIdle: with an idle timeout, a session is refused 401
// invalid_token once idle for it, and a request writes a touch only when
// the last one is a touch interval old.
func TestGuardIdle(t *testing.T) {
	f := newFixture(t)
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, IdleTimeout: 10 * time.Minute, TouchInterval: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(echo)
	tok := f.session(t, "u1", "")
	serve := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	// 20 requests a minute apart (minutes 0 to 19): a touch at minutes 2, 4, ..., 18.
	before := f.store.Touches()
	for i := range 20 {
		if w := serve(); w.Code != 200 {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
		f.clock.Advance(time.Minute)
	}
	if n := f.store.Touches() - before; n != 9 {
		t.Errorf("%d touches for 20 requests a minute apart with a 2-minute interval, want 9", n)
	}
	f.clock.Advance(10 * time.Minute)
	if w := serve(); w.Code != 401 || !strings.Contains(w.Body.String(), `"invalid_token"`) {
		t.Fatalf("idle for the timeout: %d %s", w.Code, w.Body)
	}
	f.clock.Advance(-10 * time.Minute) // back in time: it was revoked, not only judged idle
	if w := serve(); w.Code != 401 {
		t.Fatalf("the idle session was not revoked: %d", w.Code)
	}
}

func TestGuardIdleConfig(t *testing.T) {
	f := newFixture(t)
	for name, cfg := range map[string]middleware.GuardConfig{
		"negative timeout":           {IdleTimeout: -time.Minute},
		"negative interval":          {IdleTimeout: time.Minute, TouchInterval: -time.Second},
		"interval without timeout":   {TouchInterval: time.Minute},
		"interval not below it":      {IdleTimeout: time.Minute, TouchInterval: time.Minute},
		"interval above the timeout": {IdleTimeout: time.Minute, TouchInterval: time.Hour},
	} {
		cfg.Tokens = f.tokens
		if _, err := middleware.NewGuard(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, idle := range []time.Duration{time.Second, 5 * time.Minute, 30 * time.Minute, 24 * time.Hour} {
		if _, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, IdleTimeout: idle}); err != nil {
			t.Errorf("IdleTimeout %v with the default interval: %v", idle, err)
		}
	}
}

// TestGuardIdleAllocs: a request that is not due a touch allocates no more
// than one without an idle timeout.
func TestGuardIdleAllocs(t *testing.T) {
	f := newFixture(t)
	tok := f.session(t, "u1", "")
	allocs := func(cfg middleware.GuardConfig) float64 {
		cfg.Tokens = f.tokens
		g, err := middleware.NewGuard(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) })
	}
	plain := allocs(middleware.GuardConfig{})
	idle := allocs(middleware.GuardConfig{IdleTimeout: 30 * time.Minute})
	if idle > plain {
		t.Errorf("a request with an idle timeout and no touch due allocates %v times, %v without", idle, plain)
	}
}

// BenchmarkGuardIdle is BenchmarkGuard's bearer request with a 30-minute
// idle timeout and the default 1-minute touch interval, on a clock that
// moves 10 ms a request: touches/op is the store writes per request
// (1/6000 here; a session making a request a second writes on 1 in 60).
func BenchmarkGuardIdle(b *testing.B) {
	env := testfix.New(b, tokens.Config{SessionTTL: 365 * 24 * time.Hour})
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: env.Tokens, IdleTimeout: 30 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	f := &fixture{clock: env.Clock, tokens: env.Tokens}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+f.session(b, "u1", ""))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	before := env.Store.Touches()
	for b.Loop() {
		h.ServeHTTP(w, r)
		env.Clock.Advance(10 * time.Millisecond)
	}
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
	b.ReportMetric(float64(env.Store.Touches()-before)/float64(b.N), "touches/op")
}
