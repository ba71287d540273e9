package middleware_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// fakeRemember is a remember-me hook: a request with the cookie "rm" is
// remembered, and Restore answers token or err.
type fakeRemember struct {
	token    string
	err      error
	restores int
}

func (f *fakeRemember) Remembered(r *http.Request) bool {
	_, err := r.Cookie("rm")
	return err == nil
}

func (f *fakeRemember) Restore(w http.ResponseWriter, r *http.Request, project string) (string, time.Time, error) {
	f.restores++
	if f.err != nil {
		return "", time.Time{}, f.err
	}
	http.SetCookie(w, &http.Cookie{Name: "rm", Value: "rotated"})
	return f.token, time.Now().Add(time.Hour), nil
}

func TestNewGuardRememberNeedsCookies(t *testing.T) {
	f := newFixture(t)
	if _, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Remember: &fakeRemember{}}); err == nil {
		t.Fatal("NewGuard took Remember without Cookies")
	}
}

// TestGuardRemember: the guard asks the hook only for a cookie request
// with no live session and a remembered credential, from Handler and
// Optional, never from Authenticate or for bearer requests or a live
// session; a restored session is set as the cookie and served; a hook's
// errors are answered as documented.
func TestGuardRemember(t *testing.T) {
	f := newFixture(t)
	live := f.session(t, "u1", "")
	rm := &fakeRemember{token: f.session(t, "u2", "")}
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Cookies: f.cookies, Remember: rm})
	if err != nil {
		t.Fatal(err)
	}
	dead := f.cookieFor(t, map[string]string{"": "ghs_aaaa_" + strings.Repeat("A", 43)})
	serve := func(h http.Handler, method, cookie, bearer string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		name, cookie, bearer string
		status, restores     int
	}{
		{"no cookie", "", "", 401, 0},
		{"live session", f.cookieFor(t, map[string]string{"": live}) + "; rm=x", "", 200, 0},
		{"bearer", "rm=x", "ghs_aaaa_" + strings.Repeat("A", 43), 401, 0},
		{"no session", "rm=x", "", 200, 1},
		{"dead session", dead + "; rm=x", "", 200, 1},
	} {
		rm.restores = 0
		w := serve(g.Handler(echo), "GET", tc.cookie, tc.bearer)
		if w.Code != tc.status || rm.restores != tc.restores {
			t.Fatalf("%s: %d %s, %d restores; want %d, %d", tc.name, w.Code, w.Body, rm.restores, tc.status, tc.restores)
		}
		if tc.restores == 1 && (!strings.Contains(w.Body.String(), `"u2"`) || !strings.Contains(strings.Join(w.Header().Values("Set-Cookie"), "\n"), "__Host-gatehouse=") ||
			!strings.Contains(strings.Join(w.Header().Values("Set-Cookie"), "\n"), "rm=rotated")) {
			t.Fatalf("%s: restored answer %s, cookies %q", tc.name, w.Body, w.Header().Values("Set-Cookie"))
		}
	}
	rm.restores = 0
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "rm=x")
	if _, err := g.Authenticate(r); !errors.Is(err, middleware.ErrNoToken) || rm.restores != 0 {
		t.Fatalf("Authenticate: %v, %d restores; want ErrNoToken and none", err, rm.restores)
	}
	if w := serve(g.Optional(echo), "GET", "rm=x", ""); w.Code != 200 || rm.restores != 1 {
		t.Fatalf("Optional: %d, %d restores", w.Code, rm.restores)
	}
	// A cross-site POST is refused before the hook.
	rm.restores = 0
	r = httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Cookie", "rm=x")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	g.Handler(echo).ServeHTTP(w, r)
	if w.Code != 403 || rm.restores != 0 {
		t.Fatalf("cross-site POST: %d, %d restores; want 403 and none", w.Code, rm.restores)
	}
	for _, tc := range []struct {
		err    error
		status int
		code   string
		clears bool
	}{
		{tokens.ErrMissing, 401, "invalid_token", false}, // the dead session's answer
		{tokens.ErrInvalid, 401, "invalid_token", true},
		{tokens.ErrReused, 401, "token_reused", true},
		{store.ErrUnavailable, 503, "", false},
		{&limit.Error{Class: limit.Login, Scope: limit.ScopeClient, RetryAfter: time.Second}, 429, "rate_limited", false},
	} {
		rm.err = tc.err
		w := serve(g.Handler(echo), "GET", dead+"; rm=x", "")
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.code) {
			t.Errorf("Restore %v: %d %s, want %d %s", tc.err, w.Code, w.Body, tc.status, tc.code)
		}
		cleared := strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0")
		if cleared != tc.clears {
			t.Errorf("Restore %v: session cookie cleared %v, want %v (%q)", tc.err, cleared, tc.clears, w.Header().Get("Set-Cookie"))
		}
	}
}
