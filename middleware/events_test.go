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
