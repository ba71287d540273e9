// Command contacts serves seed 003 ("Login / Password Reset"): contacts log
// in with their email address and a Base64-encoded password and get their
// profile, LoginVerified, and, while the address is not verified, a
// ValidationID + ValidationVal pair that api/Validation redeems once.
// Contacts who forgot their password request a reset link by email and set
// a new password with it; that ends every session they held.
//
//	go run ./examples/contacts [-addr 127.0.0.1:8084] [-redis redis://127.0.0.1:6379]
//
// Without -redis the tokens live in this process's memory. With it, any
// number of instances can share them: a redis:// URL, a comma-separated
// list of cluster nodes, or sentinel://master@host:port,... (see
// store/redis.NewClient); serve.go opens it.
package main

import (
	"crypto/rand"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func main() {
	serveApp("127.0.0.1:8084", func(st store.Store, tagKey []byte, a net.Addr) (http.Handler, error) {
		return newApp(config{store: st, tagKey: tagKey, publicURL: "http://" + a.String()})
	}, func(url, storeInfo string) {
		fmt.Printf(`contacts example (seed 003) listening on %[1]s

  curl -X POST %[1]s/api/Login -H 'Content-Type: application/json' \
    -d '{"emailaddress": "grace@example.com", "password": "aG9wcGVyLXNlY3JldA=="}'

  (the password is Base64 of hopper-secret; more in examples/contacts/README.md; %[2]s)
`, url, storeInfo)
	})
}

type config struct {
	store store.Store
	now   func() time.Time // default time.Now; give the store the same clock
	// tagKey is tokens.Config.TagKey, the routing-tag key: required, a
	// secret of 32 or more bytes that every instance shares (serve.go reads
	// it from -tag-key or GATEHOUSE_TAG_KEY).
	tagKey []byte
	// hasher checks passwords and hashes the demo contacts' at start-up;
	// default bcrypt at cost 10. Tests inject a cheap one.
	hasher password.Hasher
	// outbox receives the reset emails; default a new one logging to
	// logger. Tests pass theirs to read the tokens.
	outbox *outbox
	// logger reports internal errors; default log.Default().
	logger *log.Logger
	// publicURL is where clients reach the app, for the links in emails;
	// default http://127.0.0.1:8084. It is configured, never taken from the
	// request's Host: an attacker who asks a reset for someone else with
	// Host: evil.example would otherwise mail them a link to evil.example
	// that hands over the token.
	publicURL string
	// cookieKey authenticates the session cookie; default 32 random bytes,
	// so cookies do not survive a restart. Instances behind one load
	// balancer must share one key (from a secret store, never the code).
	cookieKey []byte
	// resetMin is auth.Config.ResetMinDuration; default 10 ms. The fuzz
	// test turns it off (-1): it is a real wait on every reset request.
	resetMin time.Duration
}

// lockout is this example's policy: 5 failures in 15 minutes from one
// client lock the account for that client for 15 minutes; 6 in all, from
// at least two clients, lock it for every client but the owner's known
// devices. The per-client limit must stay below the account's, so that
// one client alone cannot lock the owner out.
var lockout = auth.Lockout{MaxFailures: 6, MaxFailuresPerClient: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}

func newApp(cfg config) (http.Handler, error) {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.logger == nil {
		cfg.logger = log.Default()
	}
	if cfg.outbox == nil {
		cfg.outbox = &outbox{logger: cfg.logger}
	}
	if cfg.hasher == nil {
		cfg.hasher = password.Bcrypt{Cost: 10}
	}
	if cfg.publicURL == "" {
		cfg.publicURL = "http://127.0.0.1:8084"
	}
	if cfg.cookieKey == nil {
		cfg.cookieKey = make([]byte, 32)
		rand.Read(cfg.cookieKey) // never fails (Go 1.24+)
	}
	dir, err := newDirectory(cfg.hasher)
	if err != nil {
		return nil, err
	}
	tm, err := tokens.New(tokens.Config{Store: cfg.store, Now: cfg.now, TagKey: cfg.tagKey})
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(auth.Config{
		Users:    dir,
		Tokens:   tm,
		Counters: cfg.store,
		Hasher:   cfg.hasher,
		Lockout:  lockout,
		// The seed lets contacts whose address is not verified log in and
		// reports LoginVerified false. Leave this off to refuse them
		// (ErrUnconfirmed, 403 unconfirmed) until they verify.
		AllowUnconfirmed: true,
		Mailer:           cfg.outbox,
		ResetMinDuration: cfg.resetMin,
		Now:              cfg.now,
	})
	if err != nil {
		return nil, err
	}
	// The cookie is always Secure here, so it can be a __Host- cookie:
	// browsers keep it only if it is Secure, host-only and for the whole
	// site, so a sibling subdomain cannot plant or overwrite it. (Browsers
	// take Secure cookies, prefixed or not, from http://127.0.0.1 and
	// http://localhost too: Chromium does.)
	cookies, err := middleware.NewCookies(middleware.CookieConfig{Name: "__Host-contacts", HashKey: cfg.cookieKey})
	if err != nil {
		return nil, err
	}
	// Logins are rate limited inside auth; the other routes anyone may
	// call take the same store's limits here, per client address.
	limits, err := limit.New(limit.Config{Store: cfg.store, Now: cfg.now})
	if err != nil {
		return nil, err
	}
	s := &server{authn: authn, dir: dir, cookies: cookies, limits: limits, logger: cfg.logger, now: cfg.now, publicURL: cfg.publicURL}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Tokens:  tm,
		Cookies: cookies,
		Deny:    func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) },
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/Login", s.login)
	mux.HandleFunc("POST /api/Validation", s.limited(limit.Verify, s.validation))
	mux.HandleFunc("POST /api/PasswordReset", s.limited(limit.Reset, s.requestReset))
	mux.HandleFunc("POST /api/PasswordReset/Confirm", s.limited(limit.Reset, s.confirmReset))
	mux.Handle("GET /api/Me", guard.Handler(http.HandlerFunc(s.me)))
	mux.Handle("POST /api/Password", guard.Handler(http.HandlerFunc(s.changePassword)))
	// Demo only: see outbox.ServeHTTP for why no real app has this.
	mux.Handle("GET /outbox", cfg.outbox)
	return withFallback(mux, s.fail), nil
}
