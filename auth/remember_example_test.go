package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// A browser that logs in with "remember" gets a remember-me cookie beside
// its session cookie; when the session is gone, the guard brings it back
// from that cookie, rotating it.
func ExampleAuthenticator_RememberMe() {
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	hasher := password.Bcrypt{Cost: 10}
	hash, _ := hasher.Hash([]byte("correct horse battery staple"))
	a, err := auth.New(auth.Config{Users: deviceExampleUsers{hash}, Tokens: tm, Counters: st, Hasher: hasher})
	if err != nil {
		panic(err)
	}
	cookies, _ := middleware.NewCookies(middleware.CookieConfig{HashKey: tagKey})
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies, Remember: a.RememberMe(auth.RememberOptions{})})
	if err != nil {
		panic(err)
	}
	opts := auth.HandlerOptions{Cookies: cookies, RememberMe: true}
	mux := http.NewServeMux()
	mux.Handle("POST /login", a.LoginHandler(opts))
	mux.Handle("POST /logout", a.LogoutHandler(opts))
	mux.Handle("GET /me", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprint(w, p.Subject)
	})))

	login := httptest.NewRequest("POST", "/login", strings.NewReader(
		`{"login":"ada","password":"correct horse battery staple","session":"cookie","remember":true}`))
	login.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, login)
	var remember *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.RememberCookie {
			remember = c
		}
	}
	fmt.Println(w.Code, remember != nil)

	// Later, the session cookie is gone: the remember-me cookie alone.
	me := httptest.NewRequest("GET", "/me", nil)
	me.AddCookie(remember)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, me)
	rotated := false
	for _, c := range w.Result().Cookies() {
		rotated = rotated || c.Name == auth.RememberCookie && c.Value != remember.Value
	}
	fmt.Println(w.Code, w.Body.String(), rotated)
	// Output:
	// 200 true
	// 200 u-1 true
}
