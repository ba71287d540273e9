package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// TestTokenInURLIsNotASession: a session token in the query string or a
// form field is not looked at, so links, logs and Referer headers that
// carry one open nothing (ASVS 4.0.3 3.1.1).
func TestTokenInURLIsNotASession(t *testing.T) {
	f := newFixture(t)
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Cookies: f.cookies})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tok := f.session(t, "u1", "")
	for _, name := range []string{"token", "access_token", "session", "APIToken", "gatehouse"} {
		q := url.Values{name: {tok}}.Encode()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/?"+q, nil))
		if w.Code != http.StatusUnauthorized {
			t.Errorf("?%s=<token>: %d, want 401", name, w.Code)
		}
	}
}
