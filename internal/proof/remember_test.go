package proof

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

const (
	sessionCookie  = "__Host-gatehouse"
	rememberCookie = auth.RememberCookie
)

// rememberApp is an app with browser remember-me on a fake clock: a JSON
// login that may ask to be remembered (the session goes into the
// cookie), a logout, and a guarded /me, over TLS as __Host- cookies need.
// Sessions last an hour; device chains keep their defaults (30 days a
// token, 90 a chain).
type rememberApp struct {
	clock *fakeclock.Clock
	st    *storefault.Store
	tm    *tokens.Manager
	a     *auth.Authenticator
	h     *authtest.Hasher
	srv   *httptest.Server
}

// newRememberApp opens the store on a fake clock. Redis keeps real-time
// TTLs and the fake clock only moves forward from now, so a record's
// Redis TTL (its remaining lifetime on the fake clock) never runs out
// before the store, reading the fake clock, finds it expired.
func newRememberApp(t *testing.T, sf teststores.Store) *rememberApp {
	t.Helper()
	clock := fakeclock.New(time.Now().Truncate(time.Millisecond))
	st := storefault.Wrap(sf.Open(t, clock.Now))
	ap := &rememberApp{clock: clock, st: st}
	ap.tm, ap.a, ap.h = newRememberAuth(t, st, clock)
	ap.srv = newRememberServer(t, ap.tm, ap.a)
	return ap
}

func newRememberAuth(t *testing.T, st store.Store, clock *fakeclock.Clock) (*tokens.Manager, *auth.Authenticator, *authtest.Hasher) {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h := authtest.NewHasher()
	hash, _ := h.Hash([]byte(rightPassword))
	a, err := auth.New(auth.Config{Users: oneUser{hash}, Tokens: tm, Counters: st, Hasher: h, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tm, a, h
}

func newRememberServer(t *testing.T, tm *tokens.Manager, a *auth.Authenticator) *httptest.Server {
	t.Helper()
	cookies, err := middleware.NewCookies(middleware.CookieConfig{HashKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies, Remember: a.RememberMe(auth.RememberOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	opts := auth.HandlerOptions{Cookies: cookies, RememberMe: true}
	mux := http.NewServeMux()
	mux.Handle("POST /login", a.LoginHandler(opts))
	mux.Handle("POST /logout", a.LogoutHandler(opts))
	mux.Handle("/me", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprint(w, p.Subject)
	})))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// browser keeps cookies by hand, so that a test can copy, replay and drop
// them whatever the fake clock says.
type browser struct {
	srv     *httptest.Server
	cookies map[string]string
}

func (ap *rememberApp) browser() *browser {
	return &browser{srv: ap.srv, cookies: map[string]string{}}
}

// reply is one answer: status, body, and the cookies it set ("" for a
// cleared one).
type reply struct {
	status int
	body   string
	set    map[string]string
}

func (b *browser) do(t *testing.T, method, path, body string, header ...string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	res, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	rep := reply{status: res.StatusCode, body: string(out), set: map[string]string{}}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			rep.set[c.Name] = ""
			delete(b.cookies, c.Name)
			continue
		}
		if c.Name == rememberCookie && (!c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "") {
			t.Fatalf("the remember-me cookie is not a __Host- cookie: %v", c)
		}
		rep.set[c.Name] = c.Value
		b.cookies[c.Name] = c.Value
	}
	return rep
}

func (b *browser) login(t *testing.T, remember bool) {
	t.Helper()
	r := b.do(t, "POST", "/login", fmt.Sprintf(`{"username":"ada","password":%q,"session":"cookie","remember":%v}`, rightPassword, remember))
	if r.status != 200 || r.set[sessionCookie] == "" || strings.Contains(r.body, "token") {
		t.Fatalf("login: %d %s, cookies %v", r.status, r.body, r.set)
	}
	if remember && r.set[rememberCookie] == "" {
		t.Fatalf("login asking to be remembered set no remember-me cookie: %v", r.set)
	}
}

// me is GET /me; want is the status and, for 200, the body "1815", or
// for others the error code the body must carry.
func (b *browser) me(t *testing.T, why string, want int, code string) reply {
	t.Helper()
	r := b.do(t, "GET", "/me", "")
	if r.status != want || want == 200 && r.body != "1815" || code != "" && !strings.Contains(r.body, `"`+code+`"`) {
		t.Fatalf("%s: GET /me = %d %s, want %d %s", why, r.status, r.body, want, code)
	}
	return r
}

// TestRememberMeComesBackSilently is issue 16's browser remember-me end to
// end over HTTP on every store, on a fake clock: a browser that logged in
// with "remember" gets its session back without the password when the
// session has expired, or when its cookie is gone, each time with a new
// session cookie and a rotated remember-me cookie; the remember-me cookie
// is not touched while the session lives. A copy of a spent remember-me
// cookie, replayed, revokes the chain: the replayer gets 401 token_reused,
// and the browser that held the live cookie is logged out too, its
// session with the chain, and is then asked for its password.
func TestRememberMeComesBackSilently(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			ap := newRememberApp(t, sf)
			b := ap.browser()
			b.login(t, true)
			first := b.cookies[rememberCookie]
			if r := b.me(t, "with the session", 200, ""); len(r.set) != 0 {
				t.Fatalf("a request with a live session set cookies: %v", r.set)
			}

			ap.clock.Advance(2 * time.Hour)
			session := b.cookies[sessionCookie]
			r := b.me(t, "the session expired", 200, "")
			if r.set[sessionCookie] == "" || r.set[sessionCookie] == session || r.set[rememberCookie] == "" || r.set[rememberCookie] == first {
				t.Fatalf("the restored session did not set a new session cookie and a rotated remember-me cookie: %v", r.set)
			}
			second := b.cookies[rememberCookie]
			if r := b.me(t, "the restored session", 200, ""); len(r.set) != 0 {
				t.Fatalf("the restored session's next request set cookies: %v", r.set)
			}

			// The session cookie lost (the browser closed, say).
			ap.clock.Advance(time.Minute)
			delete(b.cookies, sessionCookie)
			r = b.me(t, "no session cookie", 200, "")
			if r.set[sessionCookie] == "" || r.set[rememberCookie] == "" || r.set[rememberCookie] == second {
				t.Fatalf("no new session or no rotation: %v", r.set)
			}

			// A thief's copy of the first cookie, spent since.
			thief := ap.browser()
			thief.cookies[rememberCookie] = first
			r = thief.me(t, "the spent remember-me cookie replayed", 401, "token_reused")
			if v, ok := r.set[rememberCookie]; !ok || v != "" {
				t.Fatalf("the replayed cookie was not cleared: %v", r.set)
			}
			// The browser's session came from the chain: it is revoked,
			// and its live remember-me cookie with it.
			r = b.me(t, "the browser after the replay", 401, "invalid_token")
			if v, ok := r.set[rememberCookie]; !ok || v != "" {
				t.Fatalf("the revoked chain's cookie was not cleared: %v", r.set)
			}
			b.me(t, "the browser without cookies", 401, "missing_token")
			b.login(t, true)
			b.me(t, "logged in again with the password", 200, "")
		})
	}
}

// TestRememberMeChainEndForcesThePassword: a browser used every 20 days
// comes back from its remember-me cookie until the chain's absolute end,
// 90 days after the password login, however recently it was rotated;
// then it is asked for the password.
func TestRememberMeChainEndForcesThePassword(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			ap := newRememberApp(t, sf)
			b := ap.browser()
			b.login(t, true)
			for _, d := range []int{20, 20, 20, 20, 9} {
				ap.clock.Advance(time.Duration(d) * day)
				if r := b.me(t, fmt.Sprintf("%d days later", d), 200, ""); r.set[rememberCookie] == "" {
					t.Fatalf("no rotation: %v", r.set)
				}
			}
			// Day 89: the token just rotated lasts to day 90, not 119.
			ap.clock.Advance(2 * day)
			r := b.me(t, "past the chain's end", 401, "invalid_token")
			if v, ok := r.set[rememberCookie]; !ok || v != "" {
				t.Fatalf("the dead cookie was not cleared: %v", r.set)
			}
			b.login(t, true)
			b.me(t, "after the password", 200, "")
		})
	}
}

// TestRememberMeEndsWithLogout: logging out ends the chain and clears the
// cookie (a copy of it no longer signs in), also for a browser whose
// session cookie is gone; LogoutEverywhere, RevokeDevice and Deactivate
// (and a password reset, which ends the subject's tokens as
// LogoutEverywhere does) log a remembered browser out for good.
func TestRememberMeEndsWithLogout(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			ap := newRememberApp(t, sf)
			ctx := t.Context()
			loggedOut := func(b *browser, why string) {
				t.Helper()
				ap.clock.Advance(2 * time.Hour) // past the session and the grace
				r := b.me(t, why, 401, "")
				if _, ok := b.cookies[rememberCookie]; ok || r.set[sessionCookie] != "" {
					t.Fatalf("%s: the remember-me cookie is still there or a session was set: %v", why, r.set)
				}
			}
			for _, end := range []struct {
				name string
				do   func(b *browser)
			}{
				{"logout", func(b *browser) {
					r := b.do(t, "POST", "/logout", "")
					if v, ok := r.set[rememberCookie]; r.status != 204 || !ok || v != "" {
						t.Fatalf("logout: %d %s, cookies %v", r.status, r.body, r.set)
					}
				}},
				{"logout without a session cookie", func(b *browser) {
					delete(b.cookies, sessionCookie)
					r := b.do(t, "POST", "/logout", "")
					if v, ok := r.set[rememberCookie]; r.status != 204 || !ok || v != "" {
						t.Fatalf("logout: %d %s, cookies %v", r.status, r.body, r.set)
					}
				}},
				{"LogoutEverywhere", func(*browser) {
					if _, err := ap.a.LogoutEverywhere(ctx, "1815"); err != nil {
						t.Fatal(err)
					}
				}},
				{"RevokeDevice", func(*browser) {
					devices, err := ap.a.Devices(ctx, "1815")
					if err != nil || len(devices) != 1 || !strings.HasPrefix(devices[0].Name, "browser-") {
						t.Fatalf("Devices = %+v, %v; want the one browser", devices, err)
					}
					if _, err := ap.a.RevokeDevice(ctx, "1815", devices[0].Name); err != nil {
						t.Fatal(err)
					}
				}},
				{"Deactivate", func(*browser) {
					if _, err := ap.a.Deactivate(ctx, "1815"); err != nil {
						t.Fatal(err)
					}
				}},
			} {
				b := ap.browser()
				b.login(t, true)
				copied := maps.Clone(b.cookies)
				end.do(b)
				if _, ok := b.cookies[rememberCookie]; !ok {
					b.cookies[rememberCookie] = copied[rememberCookie]
				}
				loggedOut(b, end.name)
				// A copy of the cookie taken before does not sign in.
				c := ap.browser()
				c.cookies[rememberCookie] = copied[rememberCookie]
				c.me(t, end.name+": a copy of the remember-me cookie", 401, "invalid_token")
			}
		})
	}
}

// TestRememberMeConcurrentUses: requests that present one remember-me
// cookie at once, as a page's parallel requests do when its session has
// expired. On one instance they share one rotation: every one is 200 with
// the same new session and remember-me cookie, and that cookie works
// after the grace. Two instances on one store: the store's rotation is
// atomic, so exactly one instance's redemption wins and the other's is a
// replay, which revokes the chain: its requests get 401 token_reused,
// and no two requests got different rotated cookies.
func TestRememberMeConcurrentUses(t *testing.T) {
	const n = 8
	parallel := func(t *testing.T, bs []*browser) []reply {
		var wg sync.WaitGroup
		out := make([]reply, len(bs))
		for i, b := range bs {
			wg.Go(func() { out[i] = b.do(t, "GET", "/me", "") })
		}
		wg.Wait()
		return out
	}
	for _, sf := range teststores.All() {
		t.Run(sf.Name+"/OneInstance", func(t *testing.T) {
			ap := newRememberApp(t, sf)
			b := ap.browser()
			b.login(t, true)
			ap.clock.Advance(2 * time.Hour)
			bs := make([]*browser, n)
			for i := range bs {
				bs[i] = &browser{srv: ap.srv, cookies: maps.Clone(b.cookies)}
			}
			rotated := map[string]bool{}
			for i, r := range parallel(t, bs) {
				if r.status != 200 || r.set[rememberCookie] == "" {
					t.Fatalf("request %d: %d %s, cookies %v", i, r.status, r.body, r.set)
				}
				rotated[r.set[rememberCookie]] = true
			}
			if len(rotated) != 1 {
				t.Fatalf("%d different rotated cookies, want 1", len(rotated))
			}
			ap.clock.Advance(2 * time.Hour)
			bs[0].me(t, "the shared rotation's cookie", 200, "")
		})
		t.Run(sf.Name+"/TwoInstances", func(t *testing.T) {
			ap := newRememberApp(t, sf)
			tm2, a2, _ := newRememberAuth(t, ap.st, ap.clock)
			srv2 := newRememberServer(t, tm2, a2)
			b := ap.browser()
			b.login(t, true)
			ap.clock.Advance(2 * time.Hour)
			bs := make([]*browser, n)
			for i := range bs {
				bs[i] = &browser{srv: ap.srv, cookies: maps.Clone(b.cookies)}
				if i%2 == 1 {
					bs[i].srv = srv2
				}
			}
			rotated := map[string]bool{}
			reused := 0
			for i, r := range parallel(t, bs) {
				switch {
				case r.status == 200:
					rotated[r.set[rememberCookie]] = true
				case r.status == 401 && strings.Contains(r.body, `"token_reused"`):
					reused++
				case r.status == 401 && strings.Contains(r.body, `"invalid_token"`):
					// The winner's session, revoked by the loser's replay
					// between its issue and its lookup.
				default:
					t.Fatalf("request %d: %d %s", i, r.status, r.body)
				}
			}
			if reused == 0 || len(rotated) > 1 {
				t.Fatalf("%d replays and %d different rotated cookies; want the losers' replays and one winner", reused, len(rotated))
			}
			// The chain is revoked: the winner's cookie is dead too.
			for v := range rotated {
				c := ap.browser()
				c.cookies[rememberCookie] = v
				ap.clock.Advance(time.Minute)
				c.me(t, "the winner's rotated cookie after the replay", 401, "invalid_token")
			}
		})
	}
}

// TestRememberMeGuards: a garbage remember-me cookie is no cookie (401
// missing_token) and reaches no store; a cross-site POST carrying a
// remember-me cookie is refused (403) before the store is asked, and the
// cookie is not spent; a bearer request is never restored from it; a
// store that is down is 503 with the cookie kept, and the browser comes
// back once it is up; well-formed guesses are 401 until the client's
// login rate limit is spent, then 429.
func TestRememberMeGuards(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			ap := newRememberApp(t, sf)
			b := ap.browser()
			b.login(t, true)
			live := b.cookies[rememberCookie]
			device, token, _ := strings.Cut(live, ".")
			ap.clock.Advance(2 * time.Hour)
			delete(b.cookies, sessionCookie)

			calls, hashes := ap.st.Calls(), ap.h.Compares.Load()
			for name, value := range map[string]string{
				"empty":           "",
				"no dot":          device + token,
				"token only":      token,
				"other name":      "phone." + token,
				"short name":      device[:len(device)-1] + "." + token,
				"session token":   device + ".ghs_" + token[4:],
				"bad character":   device + "." + token[:len(token)-1] + "!",
				"long":            device + "." + token + strings.Repeat("A", 200),
				"two dots":        device + "." + device + "." + token,
				"one more char":   live + "x",
				"unpadded device": strings.Replace(device, "browser-", "browser_", 1) + "." + token,
			} {
				g := ap.browser()
				g.cookies[rememberCookie] = value
				g.me(t, "garbage remember-me cookie: "+name, 401, "missing_token")
			}
			// Two cookies of the name: one may have been planted.
			req, _ := http.NewRequest("GET", ap.srv.URL+"/me", nil)
			req.Header.Set("Cookie", rememberCookie+"="+live+"; "+rememberCookie+"="+live)
			res, err := ap.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 401 {
				t.Fatalf("two remember-me cookies: %d, want 401", res.StatusCode)
			}
			if n := ap.st.Calls() - calls; n != 0 {
				t.Fatalf("%d store calls for garbage remember-me cookies, want 0", n)
			}

			r := b.do(t, "POST", "/me", "", "Sec-Fetch-Site", "cross-site")
			if r.status != 403 || !strings.Contains(r.body, `"cross_origin"`) || len(r.set) != 0 {
				t.Fatalf("cross-site POST with the remember-me cookie: %d %s %v, want 403 and no cookies", r.status, r.body, r.set)
			}
			if n := ap.st.Calls() - calls; n != 0 {
				t.Fatalf("%d store calls for a cross-site POST, want 0", n)
			}
			r = b.do(t, "GET", "/me", "", "Authorization", "Bearer ghs_garbage")
			if r.status != 401 || len(r.set) != 0 {
				t.Fatalf("a bearer request with the remember-me cookie: %d %s %v, want 401 and no restore", r.status, r.body, r.set)
			}

			ap.st.SetDown(true)
			r = b.do(t, "GET", "/me", "")
			ap.st.SetDown(false)
			if r.status != 503 || len(r.set) != 0 || b.cookies[rememberCookie] != live {
				t.Fatalf("store down: %d %s %v, want 503 and the cookie kept", r.status, r.body, r.set)
			}
			b.me(t, "the store back up", 200, "")
			// The same-origin POST comes back too.
			if r := b.do(t, "POST", "/me", "", "Sec-Fetch-Site", "same-origin"); r.status != 200 {
				t.Fatalf("same-origin POST: %d %s", r.status, r.body)
			}

			// Well-formed guesses cost no hash, and take the client's
			// login rate limit: 429, the cookie kept, once it is spent.
			guess, err := ap.tm.Unissued(store.KindDevice, "1815")
			if err != nil {
				t.Fatal(err)
			}
			limited := false
			for i := 0; i < 120 && !limited; i++ {
				g := ap.browser()
				g.cookies[rememberCookie] = device + "." + guess
				switch r := g.do(t, "GET", "/me", ""); {
				case r.status == 429 && strings.Contains(r.body, `"rate_limited"`) && len(r.set) == 0:
					limited = true
				case r.status != 401 || !strings.Contains(r.body, `"invalid_token"`) || r.set[rememberCookie] != "":
					t.Fatalf("guess %d: %d %s %v, want 401 invalid_token and the cookie cleared", i, r.status, r.body, r.set)
				}
			}
			if !limited {
				t.Fatal("120 remember-me guesses from one client, none rate limited")
			}
			if n := ap.h.Compares.Load() - hashes; n != 0 {
				t.Fatalf("%d password comparisons on the remember-me path, want 0", n)
			}

		})
	}
}
