package account_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// withRememberMe turns on "keep me signed in", with a Guard that brings
// remembered browsers back.
func withRememberMe(t *testing.T) harnessConfig {
	return func(c *account.Config) {
		g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: c.Tokens, Cookies: c.Cookies,
			Remember: c.Auth.RememberMe(auth.RememberOptions{})})
		if err != nil {
			t.Fatal(err)
		}
		c.Guard, c.RememberMe = g, true
	}
}

// TestPagesRememberMe: the login page offers "keep me signed in"; a
// browser that ticked it comes back silently on the pages once its
// session has ended, with a rotated remember-me cookie; the cookie it
// held before, replayed, ends the chain; one that did not tick it logs in
// again.
func TestPagesRememberMe(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open, withRememberMe(t))
	h.signup(t, "ada@example.com", "ada")
	srv := pagesServer(t, h, true)
	c := newPageClient(t, srv)
	if p := c.get("/login"); !strings.Contains(p.body, `name="remember"`) || !strings.Contains(p.body, `<label for="remember">`) {
		t.Fatalf("the login page offers no labelled checkbox: %.400s", p.body)
	}
	p := c.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}, "remember": {"on"}})
	if p.status != 303 {
		t.Fatalf("login: %d", p.status)
	}
	first := rememberCookie(t, c, srv.URL)
	if first == "" {
		t.Fatal("no remember-me cookie after a login that asked for one")
	}
	plain := newPageClient(t, srv)
	plain.login("ada", strongPassword)

	h.clock.Advance(25 * time.Hour) // past the 24-hour session
	if p := c.get("/sessions"); p.status != 200 {
		t.Fatalf("a remembered browser after its session ended: %d to %q", p.status, p.location)
	}
	second := rememberCookie(t, c, srv.URL)
	if second == "" || second == first {
		t.Fatal("the remember-me cookie was not rotated")
	}
	if p := plain.get("/sessions"); p.status != 303 || !strings.HasPrefix(p.location, pagesPath+"/login") {
		t.Fatalf("a browser that was not remembered: %d to %q, want the login page", p.status, p.location)
	}

	// The cookie held before the rotation, replayed (a copy an attacker
	// took), ends the chain: the owner's browser is logged out too once
	// its session is gone.
	h.clock.Advance(auth.RememberGrace + time.Second) // a redemption shared within the grace is no replay
	thief := newPageClient(t, srv)
	u, _ := url.Parse(srv.URL)
	thief.http.Jar.SetCookies(u, []*http.Cookie{{Name: auth.RememberCookie, Value: first, Path: "/", Secure: true}})
	if p := thief.get("/sessions"); p.status != 303 || !strings.Contains(p.location, "error=token_reused") {
		t.Fatalf("a replayed remember-me cookie: %d to %q", p.status, p.location)
	}
	h.clock.Advance(25 * time.Hour)
	if p := c.get("/sessions"); p.status != 303 || !strings.HasPrefix(p.location, pagesPath+"/login") {
		t.Fatalf("the owner after the replay: %d to %q, want the login page", p.status, p.location)
	}
}

// TestAPIRememberMe: a JSON login that takes the cookie may ask to be
// remembered; one that takes a token may not (it keeps a device token).
func TestAPIRememberMe(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open, withRememberMe(t))
	h.signup(t, "ada@example.com", "ada")
	c := h.client(t)
	wantCode(t, "token login asking to be remembered",
		c.post("/login", map[string]any{"login": "ada", "password": strongPassword, "remember": true}), 400, "invalid_field")
	r := c.post("/login", map[string]any{"login": "ada", "password": strongPassword, "remember": true, "session": "cookie"})
	if r.status != 200 || !hasCookie(r.header, auth.RememberCookie) {
		t.Fatalf("cookie login asking to be remembered: %s", r)
	}
}

func hasCookie(h http.Header, name string) bool {
	for _, v := range h.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return true
		}
	}
	return false
}

func rememberCookie(t *testing.T, c *pageClient, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == auth.RememberCookie {
			return ck.Value
		}
	}
	return ""
}
