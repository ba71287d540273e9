package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// A sensitive route behind the guard asks for a password and a second
// factor (level 2) within the last 15 minutes: a password-only session is
// answered 401 insufficient_user_authentication.
func ExampleRequireAssurance() {
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	g, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})
	settings := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "settings") })
	h := g.Handler(middleware.RequireAssurance(2, 15*time.Minute)(settings))

	for _, level := range []uint8{1, 2} {
		// auth issues these: level 1 from Login, 2 from CompleteLogin.
		s, _ := tm.Issue(context.Background(), store.KindSession, tokens.Claims{Subject: "u-1", Assurance: level})
		r := httptest.NewRequest("GET", "/settings", nil)
		r.Header.Set("Authorization", "Bearer "+s.Token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(level, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 1 401 {"code":"insufficient_user_authentication","message":"authenticate again at assurance level 2 (at most 900 seconds ago)"}
	// 2 200 settings
}
