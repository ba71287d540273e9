// Command projects serves seed 000: a back end authenticated by app
// credentials logs a user (clogin_id) in to a project (group_id) and gets a
// one-time user token; the user's browser redeems it for a session in that
// project. A user can hold sessions in several projects at once.
//
//	go run ./examples/projects [-addr 127.0.0.1:8081]
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func main() {
	serveApp("127.0.0.1:8081", func(st store.Store, tagKey []byte, a net.Addr) (http.Handler, error) {
		return newApp(config{store: st, tagKey: tagKey, secureCookies: !loopback(a)})
	}, func(url, storeInfo string) {
		fmt.Printf(`projects example (seed 000) listening on %[1]s

  curl -s -X POST %[1]s/reg/api2/users/ -H 'Content-Type: application/json' \
    -H 'api-id: 15263' -H 'api-user: api-admin@regpacks.com' \
    -H 'api-token: cd2e514f-7gab-3cde-62fg-51abcd4e7362' \
    -d '{"action":"login","group_id":100909072,"clogin_id":102670540,"doc":{}}'

  then open %[1]s/reg/login?user_token=<user_token> in a browser.
  (%[2]s)
`, url, storeInfo)
	})
}

type config struct {
	store         store.Store
	now           func() time.Time // default time.Now
	secureCookies bool
	// tagKey is tokens.Config.TagKey, the routing-tag key: required, a
	// secret of 32 or more bytes that every instance shares (serve.go reads
	// it from -tag-key or GATEHOUSE_TAG_KEY).
	tagKey []byte
}

// The demo's app credentials, from the seed.
var demoApp = middleware.AppCredential{
	ID:     "15263",
	User:   "api-admin@regpacks.com",
	Secret: "cd2e514f-7gab-3cde-62fg-51abcd4e7362",
}

func newApp(cfg config) (http.Handler, error) {
	tm, err := tokens.New(tokens.Config{Store: cfg.store, Now: cfg.now, TagKey: cfg.tagKey})
	if err != nil {
		return nil, err
	}
	dir := newDirectory()
	// No passwords in this API: users prove who they are to the calling
	// back end, so every password login is refused.
	authn, err := auth.New(auth.Config{Users: noPasswords{}, Tokens: tm, Counters: cfg.store, Memberships: dir, Now: cfg.now})
	if err != nil {
		return nil, err
	}
	apps, err := middleware.NewApps(middleware.AppsConfig{
		Credentials: []middleware.AppCredential{demoApp},
		Source:      middleware.FromHeaders("api-id", "api-user", "api-token"),
		Deny:        func(w http.ResponseWriter, _ *http.Request, err error) { writeFailure(w, err) },
	})
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	// Over HTTPS the session cookie is a __Host- cookie: browsers keep it
	// only if it is Secure, host-only and for the whole site, so a sibling
	// subdomain cannot plant or overwrite it. On a loopback address over
	// plain HTTP it cannot be Secure and goes without the prefix.
	cookieName := "reg_session"
	if cfg.secureCookies {
		cookieName = "__Host-reg_session"
	}
	cookies, err := middleware.NewCookies(middleware.CookieConfig{Name: cookieName, HashKey: key, InsecureAllowHTTP: !cfg.secureCookies})
	if err != nil {
		return nil, err
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Tokens:  tm,
		Cookies: cookies,
		Project: func(r *http.Request) string { return r.PathValue("group_id") },
	})
	if err != nil {
		return nil, err
	}
	// Logins are rate limited inside auth; the other routes anyone may
	// call take the same store's limits here, per client address.
	limits, err := limit.New(limit.Config{Store: cfg.store, Now: cfg.now})
	if err != nil {
		return nil, err
	}
	s := &server{authn: authn, limits: limits, dir: dir, cookies: cookies}
	mux := http.NewServeMux()
	mux.Handle("POST /reg/api2/users/", apps.Handler(http.HandlerFunc(s.users)))
	mux.HandleFunc("GET /reg/login", s.redeem)
	mux.Handle("GET /reg/projects/{group_id}/", guard.Handler(http.HandlerFunc(s.project)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "gatehouse projects example (seed 000): POST /reg/api2/users/ with app credentials")
	})
	return mux, nil
}

type noPasswords struct{}

func (noPasswords) FindUser(context.Context, string) (auth.User, error) {
	return auth.User{}, auth.ErrUnknownUser
}
