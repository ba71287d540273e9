package oidc_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

var start = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

const callback = "https://app.example.com/auth/callback"

type env struct {
	rp    *oidc.RP
	tm    *tokens.Manager
	op    *fakeOP
	clock *fakeclock.Clock
	cfg   oidc.Config
}

func newEnv(t testing.TB, st store.Store, clock *fakeclock.Clock, edit func(*oidc.Config, *fakeOP)) *env {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{tm: tm, clock: clock, op: newFakeOP(t, clock.Now)}
	e.cfg = oidc.Config{Tokens: tm, Now: clock.Now,
		Providers: []oidc.Provider{{Name: "op", Issuer: e.op.issuer(), ClientID: clientID,
			ClientSecret: clientSecret, RedirectURL: callback}},
		RedirectAllowlist: []string{"/dashboard", "https://app.example.com/welcome"}}
	if edit != nil {
		edit(&e.cfg, e.op)
	}
	rp, err := oidc.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.rp = rp
	return e
}

// eachStore runs f on memory, Redis and Redis Cluster.
func eachStore(t *testing.T, edit func(*oidc.Config, *fakeOP), f func(t *testing.T, e *env)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(start)
			f(t, newEnv(t, sf.Open(t, clock.Now), clock, edit))
		})
	}
}

func memEnv(t *testing.T, edit func(*oidc.Config, *fakeOP)) *env {
	clock := fakeclock.New(start)
	return newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, edit)
}

// browser is one browser's cookie jar, as far as the flow goes.
type browser struct{ cookies []*http.Cookie }

// begin starts a flow in b and returns the provider's authorization URL.
func (e *env) begin(t testing.TB, b *browser, provider, next string) string {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "https://app.example.com/login/"+provider, nil)
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	if err := e.rp.Begin(w, r, provider, next); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if w.Code != http.StatusSeeOther {
		t.Fatalf("Begin: status %d", w.Code)
	}
	if cs := w.Result().Cookies(); len(cs) == 1 {
		c := cs[0]
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || !strings.HasPrefix(c.Name, "__Host-") {
			t.Fatalf("binding cookie %+v", c)
		}
		b.cookies = []*http.Cookie{{Name: c.Name, Value: c.Value}}
	} else {
		t.Fatalf("Begin set %d cookies", len(cs))
	}
	return w.Header().Get("Location")
}

// finish calls the callback URL from b.
func (e *env) finish(b *browser, cb string) (oidc.Identity, string, error) {
	r := httptest.NewRequest("GET", cb, nil)
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	return e.rp.Finish(httptest.NewRecorder(), r)
}

// login runs a whole flow in a new browser.
func (e *env) login(t testing.TB) (oidc.Identity, error) {
	t.Helper()
	b := new(browser)
	id, _, err := e.finish(b, e.op.authorize(e.begin(t, b, "op", "")))
	return id, err
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := problem.Of(err).Code; got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func TestLogin(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		b := new(browser)
		loc := e.begin(t, b, "op", "/dashboard?tab=1")
		id, next, err := e.finish(b, e.op.authorize(loc))
		if err != nil {
			t.Fatal(err)
		}
		want := oidc.Identity{Issuer: e.op.issuer(), Subject: subject, Email: "ada@example.com",
			EmailVerified: true, Name: "Ada", Provider: "op"}
		if id != want {
			t.Fatalf("identity %+v, want %+v", id, want)
		}
		if next != "/dashboard?tab=1" {
			t.Fatalf("next %q", next)
		}
		// The authorization URL carries what it must, and no secret.
		q := mustQuery(t, loc)
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if q.Get(k) == "" {
				t.Errorf("authorization URL has no %s", k)
			}
		}
		if strings.Contains(q.Get("scope"), "openid") == false {
			t.Errorf("scope %q", q.Get("scope"))
		}
		if tokens.KindOf(q.Get("state")) != store.KindChallenge {
			t.Errorf("state %q is not a challenge token", q.Get("state"))
		}
	})
}

func TestLoginES256(t *testing.T) {
	eachStore(t, func(_ *oidc.Config, op *fakeOP) {
		op.keys = []opKey{newECKey(t, "ec-1")}
		op.algs = []string{"ES256"}
	}, func(t *testing.T, e *env) {
		if _, err := e.login(t); err != nil {
			t.Fatal(err)
		}
	})
}

// Two tabs of one browser start two logins: both finish.
func TestTwoTabs(t *testing.T) {
	e := memEnv(t, nil)
	b := new(browser)
	l1 := e.begin(t, b, "op", "")
	l2 := e.begin(t, b, "op", "")
	for _, l := range []string{l2, l1} {
		if _, _, err := e.finish(b, e.op.authorize(l)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStateRefused(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		t.Run("Replayed", func(t *testing.T) {
			b := new(browser)
			cb := e.op.authorize(e.begin(t, b, "op", ""))
			if _, _, err := e.finish(b, cb); err != nil {
				t.Fatal(err)
			}
			_, _, err := e.finish(b, cb)
			wantCode(t, err, "invalid_state")
		})
		t.Run("Unknown", func(t *testing.T) {
			b := new(browser)
			cb := e.op.authorize(e.begin(t, b, "op", ""))
			other, err := e.tm.Issue(t.Context(), store.KindChallenge, tokens.Claims{Subject: "x"})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = e.finish(b, withParam(t, cb, "state", other.Token))
			wantCode(t, err, "invalid_state")
		})
		t.Run("PasskeyChallenge", func(t *testing.T) {
			// A challenge of another ceremony, whatever its subject.
			b := new(browser)
			cb := e.op.authorize(e.begin(t, b, "op", ""))
			other, err := e.tm.Issue(t.Context(), store.KindChallenge, tokens.Claims{Subject: "s", Project: "passkey.get"})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = e.finish(b, withParam(t, cb, "state", other.Token))
			wantCode(t, err, "invalid_state")
		})
		t.Run("Garbage", func(t *testing.T) {
			b := new(browser)
			cb := e.op.authorize(e.begin(t, b, "op", ""))
			_, _, err := e.finish(b, withParam(t, cb, "state", "ghc_not-a-token"))
			wantCode(t, err, "invalid_state")
		})
		t.Run("OtherBrowser", func(t *testing.T) {
			victim, attacker := new(browser), new(browser)
			e.begin(t, attacker, "op", "")
			cb := e.op.authorize(e.begin(t, victim, "op", ""))
			_, _, err := e.finish(attacker, cb)
			wantCode(t, err, "invalid_state")
			// ... and the state is spent: the victim starts again.
			_, _, err = e.finish(victim, cb)
			wantCode(t, err, "invalid_state")
		})
		t.Run("NoCookie", func(t *testing.T) {
			b := new(browser)
			cb := e.op.authorize(e.begin(t, b, "op", ""))
			_, _, err := e.finish(new(browser), cb)
			wantCode(t, err, "invalid_state")
		})
		t.Run("ForgedCookie", func(t *testing.T) {
			b := new(browser)
			cb := e.op.authorize(e.begin(t, b, "op", ""))
			b.cookies[0].Value = strings.Repeat("A", 52)
			_, _, err := e.finish(b, cb)
			wantCode(t, err, "invalid_state")
		})
		t.Run("Concurrent", func(t *testing.T) {
			b := new(browser)
			cb := e.op.authorize(e.begin(t, b, "op", ""))
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				passed int
			)
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, err := e.finish(b, cb)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						passed++
					} else if c := problem.Of(err).Code; c != "invalid_state" {
						t.Errorf("error %v", err)
					}
				}()
			}
			wg.Wait()
			if passed != 1 {
				t.Fatalf("%d of 20 callbacks with one state passed, want 1", passed)
			}
		})
	})
}

func TestStateExpired(t *testing.T) {
	e := memEnv(t, nil)
	b := new(browser)
	cb := e.op.authorize(e.begin(t, b, "op", ""))
	e.clock.Advance(e.tm.TTL(store.KindChallenge) + time.Second)
	_, _, err := e.finish(b, cb)
	wantCode(t, err, "invalid_state")
}

// The refusals of the ID token and the provider's answers, each on every
// store (the state is consumed on each).
func TestIDTokenRefused(t *testing.T) {
	ec := newECKey(t, "ec-1")
	rogue := newRSAKey(t, "rsa-1") // the kid of the provider's key, another key
	cases := []struct {
		name string
		edit func(op *fakeOP)
		code string
	}{
		{"WrongNonce", func(op *fakeOP) { op.claims = func(c map[string]any) { c["nonce"] = "n-" + c["nonce"].(string) } }, "invalid_id_token"},
		{"NoNonce", func(op *fakeOP) { op.claims = func(c map[string]any) { delete(c, "nonce") } }, "invalid_id_token"},
		{"Expired", func(op *fakeOP) {
			op.claims = func(c map[string]any) { c["exp"] = start.Add(-time.Minute).Unix() }
		}, "invalid_id_token"},
		{"WrongAudience", func(op *fakeOP) { op.claims = func(c map[string]any) { c["aud"] = "another-app" } }, "invalid_id_token"},
		{"TwoAudiencesNoAZP", func(op *fakeOP) {
			op.claims = func(c map[string]any) { c["aud"] = []string{clientID, "another-app"} }
		}, "invalid_id_token"},
		{"AZPOther", func(op *fakeOP) { op.claims = func(c map[string]any) { c["azp"] = "another-app" } }, "invalid_id_token"},
		{"WrongIssuer", func(op *fakeOP) { op.claims = func(c map[string]any) { c["iss"] = "https://evil.example" } }, "invalid_id_token"},
		{"AlgNotAdvertised", func(op *fakeOP) {
			// The key is in the JWKS, the algorithm is not in discovery.
			op.algs = []string{"RS256"}
			op.keys = append(op.keys, ec)
			op.sign = &ec
		}, "invalid_id_token"},
		{"BadSignature", func(op *fakeOP) { op.sign = &rogue }, "invalid_id_token"},
		{"NoIDToken", func(op *fakeOP) {
			op.token = func(w http.ResponseWriter) bool {
				writeJSON(w, map[string]any{"access_token": "x", "token_type": "Bearer"})
				return true
			}
		}, "invalid_id_token"},
		{"TokenNotJSON", func(op *fakeOP) {
			op.token = func(w http.ResponseWriter) bool {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html>oops</html>"))
				return true
			}
		}, "provider_unavailable"},
		{"TokenJSONGarbage", func(op *fakeOP) {
			op.token = func(w http.ResponseWriter) bool {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte("{not json"))
				return true
			}
		}, "provider_unavailable"},
		{"Token500", func(op *fakeOP) {
			op.token = func(w http.ResponseWriter) bool { http.Error(w, "boom", 500); return true }
		}, "provider_unavailable"},
		{"InvalidGrant", func(op *fakeOP) {
			op.token = func(w http.ResponseWriter) bool {
				writeJSONStatus(w, 400, map[string]string{"error": "invalid_grant"})
				return true
			}
		}, "code_rejected"},
		{"JWKSGarbage", func(op *fakeOP) {
			op.jwks = func(w http.ResponseWriter) bool { w.Write([]byte("garbage{")); return true }
		}, "provider_unavailable"},
		{"JWKS500", func(op *fakeOP) {
			op.jwks = func(w http.ResponseWriter) bool { http.Error(w, "boom", 500); return true }
		}, "provider_unavailable"},
	}
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					clock := fakeclock.New(start)
					e := newEnv(t, sf.Open(t, clock.Now), clock, func(_ *oidc.Config, op *fakeOP) { c.edit(op) })
					id, err := e.login(t)
					wantCode(t, err, c.code)
					if id != (oidc.Identity{}) {
						t.Fatalf("identity %+v with an error", id)
					}
				})
			}
		})
	}
}

func TestEmailVerified(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
		want bool
	}{{"Missing", nil, false}, {"False", false, false}, {"True", true, true}, {"StringTrue", "true", true},
		{"StringFalse", "false", false}, {"Number", 1, false}} {
		t.Run(c.name, func(t *testing.T) {
			e := memEnv(t, func(_ *oidc.Config, op *fakeOP) {
				op.claims = func(cl map[string]any) {
					if c.v == nil {
						delete(cl, "email_verified")
					} else {
						cl["email_verified"] = c.v
					}
				}
			})
			id, err := e.login(t)
			if err != nil {
				t.Fatal(err)
			}
			if id.EmailVerified != c.want || id.Email != "ada@example.com" {
				t.Fatalf("%+v, want EmailVerified %v", id, c.want)
			}
		})
	}
}

// The provider rotates its key: the next token's kid is unknown, the
// JWKS is fetched again, and the login passes.
func TestKeyRotation(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		if _, err := e.login(t); err != nil {
			t.Fatal(err)
		}
		if _, err := e.login(t); err != nil {
			t.Fatal(err)
		}
		if n := e.op.jwksFetches.Load(); n != 1 {
			t.Fatalf("JWKS fetched %d times for two logins, want 1 (cached)", n)
		}
		e.op.set(func(op *fakeOP) { op.keys = []opKey{newECKey(t, "ec-2")} })
		if _, err := e.login(t); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
		if n := e.op.jwksFetches.Load(); n != 2 {
			t.Fatalf("JWKS fetched %d times, want 2", n)
		}
	})
}

func TestProviderError(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		b := new(browser)
		loc := e.begin(t, b, "op", "")
		state := mustQuery(t, loc).Get("state")
		cb := callback + "?error=access_denied&error_description=" + url.QueryEscape("<script>alert(1)</script>") + "&state=" + state
		_, _, err := e.finish(b, cb)
		wantCode(t, err, "provider_error")
		if strings.Contains(problem.Of(err).Message, "script") || strings.Contains(problem.Of(err).Message, "access_denied") {
			t.Fatalf("message echoes the provider: %q", problem.Of(err).Message)
		}
		// The state is spent.
		_, _, err = e.finish(b, callback+"?code=x&state="+state)
		wantCode(t, err, "invalid_state")
	})
}

func TestIssuerParam(t *testing.T) {
	e := memEnv(t, nil)
	b := new(browser)
	cb := e.op.authorize(e.begin(t, b, "op", ""))
	_, _, err := e.finish(b, withParam(t, cb, "iss", "https://evil.example"))
	wantCode(t, err, "issuer_mismatch")

	cb = e.op.authorize(e.begin(t, b, "op", ""))
	if _, _, err := e.finish(b, withParam(t, cb, "iss", e.op.issuer())); err != nil {
		t.Fatal(err)
	}
}

func TestCallbackAbuse(t *testing.T) {
	e := memEnv(t, nil)
	b := new(browser)
	loc := e.begin(t, b, "op", "")
	state := mustQuery(t, loc).Get("state")
	long := strings.Repeat("a", 5000)
	for _, c := range []struct{ name, query, code string }{
		{"Empty", "", "invalid_callback"},
		{"NoState", "code=abc", "invalid_callback"},
		{"EmptyState", "state=&code=abc", "invalid_callback"},
		{"TwoStates", "state=" + state + "&state=" + state + "&code=abc", "invalid_callback"},
		{"TwoCodes", "state=" + state + "&code=a&code=b", "invalid_callback"},
		{"TwoErrors", "state=" + state + "&error=a&error=b", "invalid_callback"},
		{"LongState", "state=ghc_" + long[:200] + "&code=a", "invalid_callback"},
		{"LongCode", "state=" + state + "&code=" + long, "invalid_callback"},
		{"LongQuery", "state=" + state + "&code=a&x=" + long + long, "invalid_callback"},
		{"BadEscape", "state=%zz&code=a", "invalid_callback"},
		{"Semicolon", "state=" + state + ";code=a", "invalid_callback"},
		{"NotAChallenge", "state=ghs_abc&code=a", "invalid_state"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := e.finish(b, callback+"?"+c.query)
			wantCode(t, err, c.code)
		})
	}
	// None of these spent the state (they were refused before the store),
	// except the duplicates, refused before it too: the flow still passes.
	if _, _, err := e.finish(b, e.op.authorize(loc)); err != nil {
		t.Fatal(err)
	}
	// A valid state without a code is spent.
	loc = e.begin(t, b, "op", "")
	_, _, err := e.finish(b, callback+"?state="+mustQuery(t, loc).Get("state"))
	wantCode(t, err, "invalid_callback")
}

func TestRedirectAllowlist(t *testing.T) {
	e := memEnv(t, nil)
	for _, next := range []string{
		"//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "/%2f/evil.com", "/%2F%2Fevil.com",
		"%2f%2fevil.com", "/%5cevil.com", "https:evil.com", "https://app.example.com@evil.com/welcome",
		"http://app.example.com/welcome", "javascript:alert(1)", "/dashboard/../evil", "/%2e%2e/x", " /dashboard",
		"/dash\nboard", "/dashboard\t", "https://evil.com/dashboard", "//app.example.com/welcome", "dashboard",
		"/Dashboard", "/dashboard/", "https://app.example.com/welcome/x", "/\t/evil.com", "///evil.com",
	} {
		t.Run(url.PathEscape(next), func(t *testing.T) {
			w := httptest.NewRecorder()
			err := e.rp.Begin(w, httptest.NewRequest("GET", "https://app.example.com/login", nil), "op", next)
			wantCode(t, err, "redirect_not_allowed")
			if w.Code != 200 || len(w.Result().Cookies()) != 0 || w.Header().Get("Location") != "" {
				t.Fatalf("Begin wrote a response: %d", w.Code)
			}
		})
	}
	for _, next := range []string{"", "/dashboard", "/dashboard?tab=2", "https://app.example.com/welcome"} {
		b := new(browser)
		_, got, err := e.finish(b, e.op.authorize(e.begin(t, b, "op", next)))
		if err != nil || got != next {
			t.Fatalf("next %q: got %q, %v", next, got, err)
		}
	}
}

func TestUnknownProvider(t *testing.T) {
	e := memEnv(t, nil)
	err := e.rp.Begin(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), "nope", "")
	wantCode(t, err, "unknown_provider")
}

// A provider down at start-up: New does not ask it, its logins fail with
// provider_unavailable, discovery is not retried before DiscoveryRetry,
// and the provider works once it is back.
func TestProviderDownAtStart(t *testing.T) {
	e := memEnv(t, func(_ *oidc.Config, op *fakeOP) { op.down = true })
	for range 2 {
		err := e.rp.Begin(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), "op", "")
		wantCode(t, err, "provider_unavailable")
	}
	e.op.set(func(op *fakeOP) { op.down = false })
	err := e.rp.Begin(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), "op", "")
	wantCode(t, err, "provider_unavailable") // remembered
	e.clock.Advance(11 * time.Second)
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
}

func TestExplicitEndpoints(t *testing.T) {
	e := memEnv(t, func(cfg *oidc.Config, op *fakeOP) {
		u := op.issuer()
		cfg.Providers[0].Endpoints = oidc.Endpoints{Auth: u + "/authorize", Token: u + "/token", JWKS: u + "/jwks"}
	})
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
}

func TestUserInfo(t *testing.T) {
	e := memEnv(t, func(cfg *oidc.Config, op *fakeOP) {
		cfg.Providers[0].UserInfo = true
		op.claims = func(c map[string]any) { delete(c, "email"); delete(c, "email_verified"); delete(c, "name") }
		op.userinfo = map[string]any{"sub": subject, "email": "ada@example.org", "email_verified": true, "name": "Ada L."}
	})
	id, err := e.login(t)
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "ada@example.org" || !id.EmailVerified || id.Name != "Ada L." {
		t.Fatalf("%+v", id)
	}
	e.op.set(func(op *fakeOP) { op.userinfo = map[string]any{"sub": "someone-else", "email": "eve@example.org"} })
	_, err = e.login(t)
	wantCode(t, err, "invalid_id_token")
}

func TestConfig(t *testing.T) {
	clock := fakeclock.New(start)
	tm, _ := tokens.New(tokens.Config{Store: teststores.All()[0].Open(t, clock.Now), TagKey: bytes.Repeat([]byte{7}, 32)})
	ok := oidc.Provider{Name: "op", Issuer: "https://op.example", ClientID: "c", RedirectURL: callback}
	for _, c := range []struct {
		name string
		cfg  oidc.Config
	}{
		{"NoTokens", oidc.Config{Providers: []oidc.Provider{ok}}},
		{"NoProviders", oidc.Config{Tokens: tm}},
		{"Dup", oidc.Config{Tokens: tm, Providers: []oidc.Provider{ok, ok}}},
		{"BadName", oidc.Config{Tokens: tm, Providers: []oidc.Provider{{Name: "a b", Issuer: "x", ClientID: "c", RedirectURL: callback}}}},
		{"RelativeRedirect", oidc.Config{Tokens: tm, Providers: []oidc.Provider{{Name: "a", Issuer: "x", ClientID: "c", RedirectURL: "/cb"}}}},
		{"NoClientID", oidc.Config{Tokens: tm, Providers: []oidc.Provider{{Name: "a", Issuer: "x", RedirectURL: callback}}}},
		{"HalfEndpoints", oidc.Config{Tokens: tm, Providers: []oidc.Provider{{Name: "a", Issuer: "x", ClientID: "c", RedirectURL: callback,
			Endpoints: oidc.Endpoints{Auth: "https://x/a"}}}}},
		{"CookieName", oidc.Config{Tokens: tm, Providers: []oidc.Provider{ok}, CookieName: "oidc"}},
		{"AllowlistOffsite", oidc.Config{Tokens: tm, Providers: []oidc.Provider{ok}, RedirectAllowlist: []string{"//evil.com"}}},
		{"AllowlistQuery", oidc.Config{Tokens: tm, Providers: []oidc.Provider{ok}, RedirectAllowlist: []string{"/a?b"}}},
		{"AuthParamState", oidc.Config{Tokens: tm, Providers: []oidc.Provider{{Name: "a", Issuer: "x", ClientID: "c", RedirectURL: callback,
			AuthParams: map[string]string{"state": "x"}}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := oidc.New(c.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

func mustQuery(t testing.TB, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}

func withParam(t testing.TB, u, k, v string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

// Several audiences with azp naming us pass (OpenID Connect Core 3.1.3.7).
func TestAZP(t *testing.T) {
	e := memEnv(t, func(_ *oidc.Config, op *fakeOP) {
		op.claims = func(c map[string]any) { c["aud"] = []string{clientID, "another-app"}; c["azp"] = clientID }
	})
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
}

// TestTokenAuthStyle: the client authenticates at the token endpoint the
// one way discovery allows, and a failed exchange is not retried the
// other way (x/oauth2's auto-detection would send the code twice).
func TestTokenAuthStyle(t *testing.T) {
	for _, tc := range []struct {
		name    string
		methods []string
		want    string
	}{
		{"NoneAdvertised", nil, "basic"},
		{"Both", []string{"client_secret_post", "client_secret_basic"}, "basic"},
		{"PostOnly", []string{"client_secret_post"}, "post"},
		{"PrivateKeyJWTOnly", []string{"private_key_jwt"}, "basic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The first exchange fails: with auto-detection, the one
			// x/oauth2 retries (it caches a style only once one works).
			e := memEnv(t, func(_ *oidc.Config, op *fakeOP) {
				op.authMethods = tc.methods
				op.token = func(w http.ResponseWriter) bool { http.Error(w, "boom", 500); return true }
			})
			_, err := e.login(t)
			wantCode(t, err, "provider_unavailable")
			e.op.set(func(op *fakeOP) { op.token = nil })
			if _, err := e.login(t); err != nil {
				t.Fatal(err)
			}
			e.op.set(func(op *fakeOP) {
				if want := []string{tc.want, tc.want}; !slices.Equal(op.tokenAuth, want) {
					t.Fatalf("token requests authenticated %q, want %q", op.tokenAuth, want)
				}
			})
		})
	}
	t.Run("PlainOAuth2", func(t *testing.T) {
		api := fakeGitHub(t, `{"id": 1, "login": "octocat"}`, `[]`, 200)
		e := gitHubEnv(t, api)
		b := new(browser)
		if _, _, err := e.finish(b, e.op.authorize(e.begin(t, b, "github", ""))); err != nil {
			t.Fatal(err)
		}
		e.op.set(func(op *fakeOP) {
			if !slices.Equal(op.tokenAuth, []string{"post"}) {
				t.Fatalf("token requests authenticated %q, want post", op.tokenAuth)
			}
		})
	})
}
