// Command quickstart is the smallest complete gatehouse app: an in-memory
// store, one demo user (demo / gatehouse-demo), a login page, a JSON login
// for API clients, a protected route and logout.
//
//	go run ./examples/quickstart [-addr 127.0.0.1:8080]
package main

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func main() {
	serveApp("127.0.0.1:8080", func(st store.Store, tagKey []byte, a net.Addr) (http.Handler, error) {
		// Every login, logout and refusal is logged as an audit event.
		return newApp(appConfig{store: st, tagKey: tagKey, secureCookies: !loopback(a), logger: slog.Default()})
	}, func(url, storeInfo string) {
		fmt.Printf(`gatehouse quickstart listening on %[1]s

  Browser:  open %[1]s/ and log in as demo / gatehouse-demo

  API:      curl -s -X POST %[1]s/login -H 'Content-Type: application/json' \
              -d '{"username":"demo","password":"gatehouse-demo"}'
            curl -s %[1]s/me -H "Authorization: Bearer <token>"
            curl -s -X POST %[1]s/notes -H "Authorization: Bearer <token>" \
              -H 'Content-Type: application/json' -d '{"text":"hello"}'
            curl -s -X POST %[1]s/logout -H "Authorization: Bearer <token>"

Tokens: %[2]s. Ctrl-C stops it.
`, url, storeInfo)
	})
}

type appConfig struct {
	store store.Store // nil: a memory store of the app's own
	// tagKey is tokens.Config.TagKey, the routing-tag key: required, a
	// secret of 32 or more bytes that every instance shares (serve.go reads
	// it from -tag-key or GATEHOUSE_TAG_KEY).
	tagKey        []byte
	logger        *slog.Logger // audit events; nil: none
	secureCookies bool
	bcryptCost    int // 0: the library default
}

// app is the quickstart's handler with what it must close.
type app struct {
	http.Handler
	own *memory.Store // the store newApp made, if it made one
}

func (a *app) Close() error {
	if a.own != nil {
		return a.own.Close()
	}
	return nil
}

func newApp(cfg appConfig) (*app, error) {
	st, own := cfg.store, (*memory.Store)(nil)
	if st == nil {
		own = memory.New(memory.Options{})
		st = own
	}
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: cfg.tagKey})
	if err != nil {
		return nil, err
	}
	users, err := newDemoUsers(cfg.bcryptCost)
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(auth.Config{Users: users, Tokens: tm, Counters: st, BcryptCost: cfg.bcryptCost, Logger: cfg.logger})
	if err != nil {
		return nil, err
	}
	// A fresh key per run: sessions die with the process anyway. A real app
	// loads a fixed key from its secrets so every instance shares it.
	hashKey := make([]byte, 32)
	rand.Read(hashKey)
	cookies, err := middleware.NewCookies(middleware.CookieConfig{
		Name:              cookieName(cfg.secureCookies),
		HashKey:           hashKey,
		InsecureAllowHTTP: !cfg.secureCookies,
	})
	if err != nil {
		return nil, err
	}
	// The guard also refuses a POST that carries the cookie but comes from
	// another origin's page (CSRF): POST /notes below is safe from it.
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies, Logger: cfg.logger})
	if err != nil {
		return nil, err
	}

	opts := auth.HandlerOptions{Cookies: cookies, Redirect: "/"}
	notes := newNotes()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", guard.Optional(home(notes)))
	mux.Handle("POST /login", authn.LoginHandler(opts))
	mux.Handle("POST /logout", authn.LogoutHandler(opts))
	mux.Handle("GET /me", guard.Handler(http.HandlerFunc(me)))
	mux.Handle("GET /notes", guard.Handler(http.HandlerFunc(notes.list)))
	mux.Handle("POST /notes", guard.Handler(http.HandlerFunc(notes.add)))
	return &app{Handler: mux, own: own}, nil
}

// cookieName is the session cookie's name. Over HTTPS it is a __Host-
// cookie: browsers keep it only if it is Secure, host-only and for the
// whole site, so a sibling subdomain cannot plant or overwrite it. On a
// loopback address over plain HTTP (go run on your machine) the cookie
// cannot be Secure, browsers would refuse the prefix, and it goes without.
func cookieName(secure bool) string {
	if secure {
		return "__Host-quickstart"
	}
	return "quickstart"
}
