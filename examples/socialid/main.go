// Command socialid serves seed 001: a login app, authenticated by HTTP
// Basic (app id : secret), signs users in with a password and a username or
// an email address. A sign-in answers 201 with a Location and a login
// token; failures are 400, 401, 403 with a code (active, confirmed, locked,
// invalid_password), 404 for an unknown user, 503 when the store is down.
//
//	go run ./examples/socialid [-addr 127.0.0.1:8082]
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func main() {
	serveApp("127.0.0.1:8082", func(st store.Store, tagKey []byte, a net.Addr) (http.Handler, error) {
		return newApp(config{store: st, tagKey: tagKey, publicURL: "http://" + a.String()})
	}, func(url, storeInfo string) {
		fmt.Printf(`socialid example (seed 001) listening on %[1]s

  curl -iX POST '%[1]s/v1/marketing/login/users/login' \
    -d '{"username": "john_doe", "password": "john_doe_secret"}' \
    -H 'Content-type: application/json' \
    --user 138:%[2]s

  then: curl -i %[1]s/v1/marketing/login/me -H 'Authorization: Bearer <login_token>'
  (more in examples/socialid/README.md; %[3]s)
`, url, demoApp.Secret, storeInfo)
	})
}

type config struct {
	store store.Store
	now   func() time.Time // default time.Now; give the store the same clock
	// tagKey is tokens.Config.TagKey, the routing-tag key: required, a
	// secret of 32 or more bytes that every instance shares (serve.go reads
	// it from -tag-key or GATEHOUSE_TAG_KEY).
	tagKey []byte
	// hasher checks passwords and hashes the demo users' at start-up;
	// default bcrypt at cost 10. Tests inject a cheap, counting one.
	hasher password.Hasher
	// outbox receives confirmation emails; default a new one logging to
	// log.Default(). Tests pass theirs to read the tokens.
	outbox *outbox
	// logger reports internal errors; default log.Default().
	logger *log.Logger
	// publicURL is where clients reach the app, for the links in emails
	// and the Location and connection links of its answers; default
	// http://127.0.0.1:8082. It is configured, never taken from the
	// request's Host: an app that asks a confirmation for a user with
	// Host: attacker.example would otherwise have the user mailed a link
	// to attacker.example that hands over the token.
	publicURL string
}

// The demo's login app, from the seed.
var demoApp = middleware.AppCredential{
	ID:     "138",
	Secret: "e8b9ca24f1b590af67e6271297d6e1f7226625d61c5b5daa1b2f215464e292cf",
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
	if cfg.publicURL == "" {
		cfg.publicURL = "http://127.0.0.1:8082"
	}
	if cfg.outbox == nil {
		cfg.outbox = &outbox{logger: cfg.logger}
	}
	hasher := cfg.hasher
	if hasher == nil {
		hasher = password.Bcrypt{Cost: 10}
	}
	dir, err := newDirectory(hasher)
	if err != nil {
		return nil, err
	}
	tm, err := tokens.New(tokens.Config{Store: cfg.store, Now: cfg.now, TagKey: cfg.tagKey})
	if err != nil {
		return nil, err
	}
	// The login API is called by the app's own servers (HTTP Basic with the
	// app's credentials), so the "client" every limit sees is an app server
	// carrying many users' logins: it gets a login limit and a hashing
	// queue sized for that. The confirmation link is opened by browsers and
	// keeps the default per-address limit.
	limits, err := limit.New(limit.Config{Store: cfg.store, Now: cfg.now, Policies: map[limit.Class]limit.Policy{
		limit.Login:  {PerClient: store.PerPeriod(6000, 10*time.Minute)},
		limit.Verify: limit.DefaultPolicies()[limit.Verify],
	}})
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(auth.Config{
		Users:              dir,
		Tokens:             tm,
		Counters:           cfg.store,
		Hasher:             hasher,
		Lockout:            lockout,
		Limiter:            limits,
		HashQueuePerClient: 32,
		// The seed documents 404 for an unknown username or email, so this
		// API tells anyone which accounts exist. Without that promise,
		// leave it off: unknown users then look like wrong passwords.
		RevealUnknownUsers: true,
		Mailer:             cfg.outbox,
		Now:                cfg.now,
	})
	if err != nil {
		return nil, err
	}
	s := &server{authn: authn, limits: limits, dir: dir, now: cfg.now, logger: cfg.logger, signIns: newSignIns(),
		confirmTTL: tm.TTL(store.KindVerification), base: strings.TrimSuffix(cfg.publicURL, "/") + apiPrefix}
	apps, err := middleware.NewApps(middleware.AppsConfig{
		Credentials: []middleware.AppCredential{demoApp},
		Source:      middleware.FromBasicAuth(),
		Deny:        func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) },
	})
	if err != nil {
		return nil, err
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Tokens: tm,
		Deny:   func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) },
	})
	if err != nil {
		return nil, err
	}

	const base = "/v1/marketing/login"
	mux := http.NewServeMux()
	app := func(h http.HandlerFunc) http.Handler { return apps.Handler(h) }
	mux.Handle("POST "+base+"/users/login", app(s.login))
	mux.Handle("GET "+base+"/sign_ins/{id}", app(s.signIn))
	mux.Handle("GET "+base+"/connections/{id}", app(s.connection))
	mux.Handle("PUT "+base+"/users/{user_id}/activate", app(s.activate))
	mux.Handle("PUT "+base+"/users/{user_id}/deactivate", app(s.deactivate))
	mux.Handle("POST "+base+"/users/send_email_confirmation", app(s.sendConfirmation))
	// The user's browser follows this link from the email: no app auth.
	mux.HandleFunc("GET "+base+"/users/confirm_email", s.limited(limit.Verify, s.confirmEmail))
	mux.Handle("GET "+base+"/me", guard.Handler(http.HandlerFunc(s.me)))
	return withFallback(mux, s.fail), nil
}
