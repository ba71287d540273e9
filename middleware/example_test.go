package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// tagKey stands for the app's tokens.Config.TagKey: a secret of at least
// 32 bytes from its configuration, the same on every instance.
var tagKey = []byte("example routing-tag key; load yours from secrets")

// A guard in front of a handler: a request with a valid session reaches it
// with the principal in its context; one without is answered 401 as JSON.
func ExampleGuard_Handler() {
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})
	if err != nil {
		panic(err)
	}
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", p.Subject)
	})
	h := guard.Handler(me)

	// What a login handler hands the client.
	sess, _ := tm.Issue(context.Background(), store.KindSession, tokens.Claims{Subject: "u-1"})

	r := httptest.NewRequest("GET", "/me", nil)
	r.Header.Set("Authorization", "Bearer "+sess.Token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body)

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/me", nil))
	fmt.Print(w.Code, " ", w.Body)
	// Output:
	// 200 hello u-1
	// 401 {"code":"missing_token","message":"no token was presented"}
}

// A guard scoped to a project refuses sessions of another project, here
// from the project named in the path.
func ExampleGuardConfig_project() {
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	guard, _ := middleware.NewGuard(middleware.GuardConfig{
		Tokens:  tm,
		Project: func(r *http.Request) string { return r.PathValue("project") },
	})
	mux := http.NewServeMux()
	mux.Handle("GET /p/{project}/", guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprintln(w, "project", p.Project)
	})))

	sess, _ := tm.Issue(context.Background(), store.KindSession, tokens.Claims{Subject: "u-1", Project: "a"})
	for _, path := range []string{"/p/a/", "/p/b/"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+sess.Token)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Print(path, " ", w.Code, " ", w.Body)
	}
	// Output:
	// /p/a/ 200 project a
	// /p/b/ 403 {"code":"wrong_project","message":"the session does not open this project"}
}

// Check answers the guard's question without serving anything, for code
// that decides for itself what to do with an anonymous request.
func ExampleGuard_Check() {
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	guard, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer ghs_made_up")
	fmt.Println(guard.Check(r))
	// Output:
	// tokens: malformed token
}

// Browsers keep their session in a signed cookie, one token per project.
// After a login handler sets it, the guard reads it back.
func ExampleCookies() {
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	cookies, err := middleware.NewCookies(middleware.CookieConfig{
		HashKey: []byte("an example key of 32 bytes or more, from your secrets"),
	})
	if err != nil {
		panic(err)
	}
	guard, _ := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies})

	sess, _ := tm.Issue(context.Background(), store.KindSession, tokens.Claims{Subject: "u-1"})
	w := httptest.NewRecorder()
	cookies.SetSession(w, httptest.NewRequest("POST", "/login", nil), "", sess.Token, sess.Record.ExpiresAt)
	set := w.Result().Cookies()[0]
	fmt.Println(set.Name, set.HttpOnly, set.Secure, set.SameSite == http.SameSiteLaxMode)

	r := httptest.NewRequest("GET", "/me", nil)
	r.AddCookie(set)
	p, err := guard.Authenticate(r)
	fmt.Println(p.Subject, err)
	// Output:
	// __Host-gatehouse true true true
	// u-1 <nil>
}

// Server-to-server endpoints take app credentials instead of sessions.
func ExampleApps() {
	apps, err := middleware.NewApps(middleware.AppsConfig{
		Credentials: []middleware.AppCredential{{ID: "billing", Secret: "a-long-random-secret"}},
		Source:      middleware.FromHeaders("api-id", "", "api-token"),
	})
	if err != nil {
		panic(err)
	}
	h := apps.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := middleware.AppFromContext(r.Context())
		fmt.Fprintln(w, "app", id)
	}))

	for _, secret := range []string{"a-long-random-secret", "a-wrong-secret"} {
		r := httptest.NewRequest("POST", "/hook", strings.NewReader("{}"))
		r.Header.Set("api-id", "billing")
		r.Header.Set("api-token", secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 200 app billing
	// 401 {"code":"invalid_app_credentials","message":"the app credentials are missing or wrong"}
}

// NewContext lets a handler's own tests run it as if a guard had let the
// request in.
func ExampleNewContext() {
	me := func(w http.ResponseWriter, r *http.Request) {
		p, ok := middleware.FromContext(r.Context())
		fmt.Fprintln(w, p.Subject, ok)
	}
	r := httptest.NewRequest("GET", "/me", nil)
	r = r.WithContext(middleware.NewContext(r.Context(), middleware.Principal{Subject: "u-1"}))
	w := httptest.NewRecorder()
	me(w, r)
	fmt.Print(w.Body)
	// Output:
	// u-1 true
}
