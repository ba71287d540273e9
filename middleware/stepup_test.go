package middleware_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestStepUp: a route that requires AAL2 refuses an AAL1 (or unrecorded)
// session with 401 insufficient_user_authentication and says what it
// needs; an AAL2 session passes; MaxAge refuses a stale authentication.
func TestStepUp(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	for _, tc := range []struct {
		name   string
		step   middleware.StepUp
		p      *middleware.Principal
		status int
		www    string
	}{
		{"AAL2 on AAL2 route", middleware.StepUp{Level: 2}, &middleware.Principal{Assurance: 2}, 204, ""},
		{"AAL1 on AAL2 route", middleware.StepUp{Level: 2}, &middleware.Principal{Assurance: 1}, 401, `acr_values="aal2"`},
		{"no level on AAL1 route", middleware.StepUp{Level: 1}, &middleware.Principal{}, 401, `acr_values="aal1"`},
		{"recent enough", middleware.StepUp{MaxAge: 5 * time.Minute, Now: f.clock.Now}, &middleware.Principal{Assurance: 1, AuthTime: now.Add(-4 * time.Minute)}, 204, ""},
		{"too old", middleware.StepUp{MaxAge: 5 * time.Minute, Now: f.clock.Now}, &middleware.Principal{Assurance: 2, AuthTime: now.Add(-6 * time.Minute)}, 401, "max_age=300"},
		{"no guard in front", middleware.StepUp{Level: 1}, nil, 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.p != nil {
				r = r.WithContext(middleware.NewContext(r.Context(), *tc.p))
			}
			w := httptest.NewRecorder()
			tc.step.Handler(ok).ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 401 && tc.p != nil {
				var body struct{ Code string }
				json.Unmarshal(w.Body.Bytes(), &body)
				if body.Code != "insufficient_user_authentication" || !strings.Contains(w.Header().Get("WWW-Authenticate"), tc.www) {
					t.Fatalf("body %s, WWW-Authenticate %q", w.Body, w.Header().Get("WWW-Authenticate"))
				}
			}
			if err := tc.step.Check(middleware.Principal{}); tc.step.Level > 0 && !errors.Is(err, middleware.ErrInsufficientAuthentication) {
				t.Fatalf("Check = %v", err)
			}
		})
	}
}

// TestGuardAssurance: the principal carries the level and the AuthTime
// the session's record holds, read on the hot path, and a RequireAssurance
// behind the guard acts on them.
func TestGuardAssurance(t *testing.T) {
	f := newFixture(t)
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(middleware.RequireAssurance(2, 0)(echo))
	for _, level := range []uint8{1, 2} {
		iss, err := f.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1", Assurance: level, AuthTime: f.clock.Now().Add(-time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+iss.Token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var p middleware.Principal
		switch {
		case level == 1 && w.Code != 401:
			t.Fatalf("AAL1: %d %s", w.Code, w.Body)
		case level == 2 && (w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Assurance != 2 || !p.AuthTime.Equal(iss.Record.AuthTime)):
			t.Fatalf("AAL2: %d %s", w.Code, w.Body)
		}
	}
}
