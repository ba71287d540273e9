package middleware_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestGuardRefusesForeignTagKey is finding 1 of issue 15 at the guard: a
// session issued by an instance with another TagKey, on the same store,
// is refused (401 invalid_token, never let through) and reported as the
// warning event token.tag_mismatch, without the token.
func TestGuardRefusesForeignTagKey(t *testing.T) {
	f := newFixture(t)
	other, err := tokens.New(tokens.Config{Store: f.store, Now: f.clock.Now,
		TagKey: []byte("another instance's tag key, 32+ bytes")})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := other.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	reached := false
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+iss.Token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 || !strings.Contains(w.Body.String(), `"invalid_token"`) || reached {
		t.Fatalf("foreign session: %d %s, reached=%v; want 401 invalid_token", w.Code, w.Body, reached)
	}
	s := buf.String()
	if !strings.Contains(s, `"event":"token.tag_mismatch"`) || !strings.Contains(s, `"level":"WARN"`) || strings.Contains(s, iss.Token) {
		t.Fatalf("event = %q, want one token.tag_mismatch warning without the token", s)
	}
}
