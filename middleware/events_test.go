package middleware_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// TestGuardReportsStoreUnavailable: a failing store is a warning event;
// refused tokens are ordinary traffic and are not.
func TestGuardReportsStoreUnavailable(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tok := f.session(t, "u1", "")
	serve := func(token string) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if serve(tok) != 200 || serve("ghs_aaaa_"+strings.Repeat("A", 43)) != 401 || buf.Len() != 0 {
		t.Fatalf("events for ordinary traffic: %s", buf.String())
	}
	f.store.SetDown(true)
	if code := serve(tok); code != 503 {
		t.Fatalf("store down: %d", code)
	}
	if s := buf.String(); !strings.Contains(s, `"event":"store.unavailable"`) || !strings.Contains(s, `"op":"validate"`) || strings.Contains(s, tok) {
		t.Fatalf("event = %s", s)
	}
}

// TestDuplicateSessionCookiesAreNoSession: a browser sends two cookies of
// the session's name when a sibling subdomain planted one for the parent
// domain; whichever came first used to win, so the attacker's planted
// session logged the victim in as the attacker. Two are no session, with a
// warning event, whichever order they come in and whatever the name.
func TestDuplicateSessionCookiesAreNoSession(t *testing.T) {
	f := newFixture(t)
	for _, cfg := range []middleware.CookieConfig{{}, {InsecureAllowHTTP: true}, {Name: "sid", Domain: "example.com"}} {
		cfg.HashKey = []byte(strings.Repeat("k", 32))
		cookies, err := middleware.NewCookies(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f.cookies = cookies
		victim := f.cookieFor(t, map[string]string{"": f.session(t, "victim", "")})
		attacker := f.cookieFor(t, map[string]string{"": f.session(t, "attacker", "")})
		name, _, _ := strings.Cut(victim, "=")
		var buf bytes.Buffer
		g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Cookies: cookies, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			header []string
			status int
		}{
			{[]string{victim}, 200},
			{[]string{"theme=dark; " + victim + "; lang=en"}, 200},
			{[]string{attacker + "; " + victim}, 401},
			{[]string{victim + "; " + attacker}, 401},
			{[]string{victim + "; " + victim}, 401},
			{[]string{attacker, victim}, 401},
			{[]string{victim + "; " + name + "=junk"}, 401},
		} {
			buf.Reset()
			r := httptest.NewRequest("GET", "/", nil)
			r.Header["Cookie"] = tc.header
			w := httptest.NewRecorder()
			g.Handler(echo).ServeHTTP(w, r)
			if w.Code != tc.status || tc.status == 200 && !strings.Contains(w.Body.String(), `"Subject":"victim"`) {
				t.Errorf("%s: %q: %d %s; want %d", name, tc.header, w.Code, w.Body, tc.status)
			}
			event := strings.Contains(buf.String(), `"event":"cookie.duplicate"`) && strings.Contains(buf.String(), `"level":"WARN"`)
			if event != (tc.status == 401) {
				t.Errorf("%s: %q: events %s", name, tc.header, buf.String())
			}
			if tc.status == 401 && (!strings.Contains(w.Body.String(), `"missing_token"`) || cookies.SessionToken(r, "") != "") {
				t.Errorf("%s: %q: not answered as no session: %s", name, tc.header, w.Body)
			}
		}
	}
}
