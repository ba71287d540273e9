// Command chi puts gatehouse on a github.com/go-chi/chi/v5 router: the
// quickstart's JSON login and logout, and a route group behind the guard.
// Nothing in gatehouse is tied to net/http's ServeMux: the guard is a
// func(http.Handler) http.Handler, which is what chi's Use takes.
//
//	go run . [-addr 127.0.0.1:8080] [-redis redis://127.0.0.1:6379] [-tag-key ...]
//
// -tag-key (default $GATEHOUSE_TAG_KEY) is tokens.Config.TagKey: a secret
// of 32 or more bytes that every instance shares. Without it, a server on
// loopback runs on a random key of its own and any other refuses to start.
//
// The demo user is demo / gatehouse-demo.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	redisSpec := flag.String("redis", "", "keep tokens in Redis instead of memory: host:port or redis://host:port[/db] (one server), "+
		"host:port,host:port,... or cluster://host:port (Cluster seeds), or sentinel://master@host:port[,host:port...]")
	tagKey := flag.String("tag-key", os.Getenv("GATEHOUSE_TAG_KEY"), "the routing-tag key (tokens.Config.TagKey): a secret of 32 or more bytes, "+
		"the same on every instance, such as the output of `openssl rand -base64 32`; default $GATEHOUSE_TAG_KEY, "+
		"and a random key for this run when the server listens on loopback only")
	flag.Parse()

	st, closeStore, err := openStore(*redisSpec)
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	key, err := routingTagKey(*tagKey, ln.Addr())
	if err != nil {
		log.Fatal(err)
	}
	router, err := newRouter(config{store: st, tagKey: key})
	if err != nil {
		log.Fatal(err)
	}

	url := "http://" + ln.Addr().String()
	fmt.Printf(`gatehouse on chi listening on %[1]s

  curl -s -X POST %[1]s/login -H 'Content-Type: application/json' \
    -d '{"username":"demo","password":"gatehouse-demo"}'
  curl -s %[1]s/me -H "Authorization: Bearer <token>"
  curl -s %[1]s/users/user-1 -H "Authorization: Bearer <token>"
  curl -s -X POST %[1]s/logout -H "Authorization: Bearer <token>"

Ctrl-C stops it.
`, url)

	srv := newHTTPServer(router)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newHTTPServer returns the server for h with limits on what one
// connection may hold (docs/settings.md): without them a client that sends
// its body slowly, or keeps a connection open and idle, holds a file
// descriptor and a goroutine for as long as it likes.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,  // request line and headers
		ReadTimeout:       10 * time.Second, // the whole request, body included
		WriteTimeout:      30 * time.Second, // from the end of the headers to the end of the answer
		IdleTimeout:       60 * time.Second, // a keep-alive connection between requests
		MaxHeaderBytes:    16 << 10,
	}
}

// routingTagKey returns the key of -tag-key or GATEHOUSE_TAG_KEY. Without
// one, a server that listens on loopback only (a demo on this machine)
// gets a random key for this run, with a warning; any other refuses to
// start, because instances that share a store must share the key.
func routingTagKey(key string, a net.Addr) ([]byte, error) {
	if key != "" {
		return []byte(key), nil
	}
	if tcp, ok := a.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		return nil, errors.New("set -tag-key or GATEHOUSE_TAG_KEY: a secret of 32 or more bytes " +
			"(openssl rand -base64 32), the same on every instance of the app")
	}
	log.Print("warning: no -tag-key or GATEHOUSE_TAG_KEY: using a random routing-tag key for this run. " +
		"Every instance that shares a store must share one key: set it before running more than one.")
	return []byte(rand.Text() + rand.Text()), nil // 52 characters, 260 random bits
}

// openStore returns the store spec names (memory when spec is empty) and a
// function that releases it. A Redis that does not answer is an error now
// rather than 503s later.
func openStore(spec string) (store.Store, func(), error) {
	if spec == "" {
		st := memory.New(memory.Options{})
		return st, func() { st.Close() }, nil
	}
	c, err := redis.NewClient(spec)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("redis %s: %w", spec, err)
	}
	st, err := redis.New(c, redis.Options{})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return st, func() { c.Close() }, nil
}

type config struct {
	store      store.Store // required
	tagKey     []byte      // tokens.Config.TagKey; required
	bcryptCost int         // 0: the library default
}

// newRouter wires gatehouse into a chi router. Login and logout are open
// routes (logout reads the token itself); everything in the group behind
// guard.Handler needs a session.
func newRouter(cfg config) (http.Handler, error) {
	tm, err := tokens.New(tokens.Config{Store: cfg.store, TagKey: cfg.tagKey})
	if err != nil {
		return nil, err
	}
	users, err := newDemoUsers(cfg.bcryptCost)
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(auth.Config{Users: users, Tokens: tm, Counters: cfg.store, BcryptCost: cfg.bcryptCost})
	if err != nil {
		return nil, err
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})
	if err != nil {
		return nil, err
	}

	r := chi.NewRouter()
	r.Method(http.MethodPost, "/login", authn.LoginHandler(auth.HandlerOptions{}))
	r.Method(http.MethodPost, "/logout", authn.LogoutHandler(auth.HandlerOptions{}))
	r.Group(func(r chi.Router) {
		r.Use(guard.Handler) // func(http.Handler) http.Handler, as chi wants
		r.Get("/me", me)
		r.Get("/users/{subject}", profile)
	})
	return r, nil
}

// me answers who the request is authenticated as.
func me(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"subject": p.Subject, "expires_at": p.ExpiresAt.UTC()})
}

// profile answers a user's profile to that user only: the chi URL parameter
// says whose profile, the guard's Principal says who is asking.
func profile(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	subject := chi.URLParam(r, "subject")
	if subject != p.Subject {
		writeJSON(w, http.StatusForbidden, map[string]string{"code": "forbidden", "message": "not your profile"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"subject": subject, "name": "Demo User"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// demoUsers is the app's user table: one user, found by username or email.
type demoUsers struct{ byLogin map[string]auth.User }

func newDemoUsers(cost int) (*demoUsers, error) {
	if cost == 0 {
		cost = 10
	}
	hash, err := password.Hash("gatehouse-demo", cost)
	if err != nil {
		return nil, err
	}
	demo := auth.User{Subject: "user-1", PasswordHash: hash, Active: true, EmailConfirmed: true, Email: "demo@example.com"}
	return &demoUsers{byLogin: map[string]auth.User{"demo": demo, "demo@example.com": demo}}, nil
}

func (d *demoUsers) FindUser(_ context.Context, login string) (auth.User, error) {
	u, ok := d.byLogin[login]
	if !ok {
		return auth.User{}, auth.ErrUnknownUser
	}
	return u, nil
}
