package account

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/internal/httpbody"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Users is the app's user table as the account API needs it at least:
// find an account by login and by subject. Creator, EmailSetter, Deleter
// and auth.HashUpdater add the routes that change it.
type Users interface {
	auth.Users
	auth.SubjectFinder
}

// Config is what New needs. Auth, Tokens, Guard, Users and Mailer are
// required; the rest have defaults.
type Config struct {
	// Auth logs users in and issues their sessions; its Config.Users
	// must be Users below.
	Auth *auth.Authenticator
	// Tokens is the Manager Auth was built with: it issues and spends the
	// email confirmation tokens.
	Tokens *tokens.Manager
	// Guard authenticates the routes of a signed-in user, by bearer token
	// or by cookie (then refusing cross-origin unsafe requests).
	Guard *middleware.Guard
	// Users is the app's user table. Routes whose ability it lacks
	// answer 501 not_supported: signup needs Creator, email confirmation
	// and change EmailSetter, deletion Deleter, password change and reset
	// auth.HashUpdater. MemoryUsers has them all.
	Users Users
	// Mailer delivers confirmation links, reset links and notices (see
	// the Purpose constants); the same Mailer as auth.Config.Mailer.
	Mailer auth.Mailer
	// Cookies, when set, lets browsers and single-page apps keep their
	// session in a cookie: the Cookies the Guard reads.
	Cookies *middleware.Cookies
	// JSONCookie makes the cookie the default session of a JSON login (a
	// client may still ask with "session": "token" or "cookie"); needs
	// Cookies.
	JSONCookie bool
	// RememberMe offers browsers "keep me signed in": a login (the pages'
	// checkbox, or "remember": true with a JSON login that takes the
	// cookie) starts a remember-me chain (auth.HandlerOptions.RememberMe)
	// that brings the browser's session back when it ends, rotated on
	// each use, its replay ending the chain. For it to bring anyone
	// back, build the Guard with GuardConfig.Remember set to
	// Auth.RememberMe(...). Needs Cookies.
	RememberMe bool
	// MFA, when set, lets users enrol a TOTP key and recovery codes (the
	// /mfa routes and the security page) and offers the second step of a
	// login (POST /login/second and the second-step page). It needs
	// auth.Config.SecondFactor set, to this Manager or to what wraps it:
	// else a login would never ask for the factor a user enrolled. Default
	// nil: the /mfa routes answer 501 not_supported.
	MFA *mfa.Manager
	// Passkeys, when set, lets users add passkeys (the /passkeys routes
	// and the security page), log in with one alone (POST /login/passkey
	// and the login page's button) and, with MFA, use one as the second
	// step. It needs auth.Config.Passwordless set to this Manager, and
	// with MFA, mfa.Config.Passkeys set to it too: New checks both.
	// Default nil: the passkey routes answer 501 not_supported.
	Passkeys *passkey.Manager
	// OIDC, with Identities, offers "log in with <provider>": the
	// /login/oidc routes and the login page's buttons, and linking
	// providers to an account (/identities and the linked-accounts page).
	// Build it with the account's Limiter as oidc.Config.Limiter: the RP
	// limits each login it begins per client. Its providers' RedirectURL
	// is the API's /login/oidc/callback (so no provider may be named
	// "callback"). Needs Cookies: the callback is a
	// browser redirect that leaves a session cookie. Default nil: the
	// routes answer 501 not_supported.
	OIDC *oidc.RP
	// Identities is the app's table of linked provider identities; set
	// with OIDC. MemoryIdentities is one.
	Identities Identities
	// Limiter rate-limits every route a stranger can call (signup,
	// confirmation, forgotten password) and every message sent; default
	// Auth.Limiter(). With neither, New fails unless NoRateLimits.
	Limiter *limit.Limiter
	// NoRateLimits runs without a Limiter: only for apps that limit these
	// routes at their edge.
	NoRateLimits bool
	// Client returns the client's network (rate limits, lockout, hashing
	// turn); default clientaddr.FromRequest. Behind a proxy pass a
	// clientaddr.Resolver's Client.
	Client func(*http.Request) (netip.Prefix, error)
	// Project names the project sessions are for; default none ("").
	Project func(*http.Request) string
	// TrustedOrigins are other origins ("https://app.example.com") whose
	// pages may post to the API and the pages from a browser: a
	// single-page app served from another origin than the API. By default
	// a browser's unsafe request from any other origin is refused (403
	// cross_origin), whether it carries the cookie or a bearer token.
	// The Guard checks signed-in cookie requests on its own: trust the
	// same origins in its GuardConfig.CrossOrigin.
	TrustedOrigins []string
	// MaxBodyBytes bounds request bodies; default 64 KiB.
	MaxBodyBytes int64
	// SignupMinDuration is the least time a signup takes after its
	// password is hashed, so that creating an account (a token and a
	// confirmation mail) and mailing the owner of a taken address (a
	// notice) take alike; default 25 ms. A Mailer slower than this shows
	// through: queue mail and return.
	SignupMinDuration time.Duration
	// PagesPath is where the app mounts [Account.Pages] (with
	// http.StripPrefix): the pages link and redirect under it. Default
	// DefaultPagesPath, "/account/pages". It starts with "/" and does not
	// end with one.
	PagesPath string
	// Templates overrides the pages' templates: a file in it named like
	// one of the embedded ones ([TemplateNames]: layout.html, login.html,
	// ..., style.css) is used instead, the others stay. A page template
	// defines "title" and "content", which layout.html's "layout" places;
	// each is executed with a [PageData]. Default nil: the embedded set.
	// Needs Cookies.
	Templates fs.FS
	// Logger and Metrics receive the account.* audit events (package
	// audit); default none.
	Logger  *slog.Logger
	Metrics audit.Metrics
	// Now is the clock; default time.Now. Tests set a fake one.
	Now func() time.Time
}

// Account serves the account lifecycle over HTTP. Its API (a JSON and
// form API, [Account.API]) and its pages (server-rendered HTML,
// [Account.Pages]) are http.Handlers to mount under a prefix with
// http.StripPrefix. It is safe for concurrent use.
type Account struct {
	cfg     Config
	users   Users
	can     abilities
	limiter *limit.Limiter
	rec     *audit.Recorder
	login   http.Handler
	second  http.Handler // nil without auth.Config.SecondFactor
	// passwordless is auth's PasswordlessHandler, nil without Passkeys.
	passwordless http.Handler
	logout       http.Handler
	api          http.Handler
	pages        *pages // nil without Cookies
}

// New checks cfg and returns an Account.
func New(cfg Config) (*Account, error) {
	switch {
	case cfg.Auth == nil:
		return nil, errors.New("account: Config.Auth is nil")
	case cfg.Tokens == nil:
		return nil, errors.New("account: Config.Tokens is nil")
	case cfg.Guard == nil:
		return nil, errors.New("account: Config.Guard is nil")
	case cfg.Users == nil:
		return nil, errors.New("account: Config.Users is nil")
	case cfg.Mailer == nil:
		return nil, errors.New("account: Config.Mailer is nil")
	case cfg.JSONCookie && cfg.Cookies == nil:
		return nil, errors.New("account: Config.JSONCookie needs Config.Cookies")
	case cfg.RememberMe && cfg.Cookies == nil:
		return nil, errors.New("account: Config.RememberMe needs Config.Cookies")
	case cfg.Templates != nil && cfg.Cookies == nil:
		return nil, errors.New("account: Config.Templates needs Config.Cookies: the pages keep the session in a cookie")
	case cfg.PagesPath != "" && (!strings.HasPrefix(cfg.PagesPath, "/") || strings.HasSuffix(cfg.PagesPath, "/")):
		return nil, fmt.Errorf("account: Config.PagesPath %q: want a path that starts with / and does not end with one", cfg.PagesPath)
	case (cfg.OIDC == nil) != (cfg.Identities == nil):
		return nil, errors.New("account: set Config.OIDC and Config.Identities together")
	case cfg.OIDC != nil && cfg.Cookies == nil:
		return nil, errors.New("account: Config.OIDC needs Config.Cookies: a provider's callback leaves a session cookie")
	case cfg.SignupMinDuration < 0:
		return nil, errors.New("account: negative Config.SignupMinDuration")
	}
	if _, signup := cfg.Users.(Creator); signup && !cfg.Auth.HidesUnconfirmed() {
		return nil, errors.New("account: signup needs auth.Config.HideUnconfirmed: without it, signing up an address with a password " +
			"of one's own and logging in with it tells whether the address had an account (a new account answers " +
			"403 unconfirmed, a taken address 401)")
	}
	if cfg.MFA != nil && cfg.Auth.SecondFactor() == nil {
		return nil, errors.New("account: Config.MFA needs auth.Config.SecondFactor (the same mfa.Manager): without it, " +
			"a login never asks for the second factor a user enrols, and the enrolment would protect nothing")
	}
	if err := checkPasskeys(cfg); err != nil {
		return nil, err
	}
	if cfg.Limiter == nil && !cfg.NoRateLimits {
		cfg.Limiter = cfg.Auth.Limiter()
		if cfg.Limiter == nil {
			return nil, errors.New("account: no Config.Limiter, and Config.Auth has none: set one, or Config.NoRateLimits")
		}
	}
	if cfg.Limiter != nil && cfg.NoRateLimits {
		return nil, errors.New("account: set Config.Limiter or Config.NoRateLimits, not both")
	}
	if cfg.Client == nil {
		cfg.Client = func(r *http.Request) (netip.Prefix, error) { return clientaddr.FromRequest(r), nil }
	}
	if cfg.Project == nil {
		cfg.Project = func(*http.Request) string { return "" }
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = httpbody.DefaultMaxBytes
	}
	if cfg.SignupMinDuration == 0 {
		cfg.SignupMinDuration = 25 * time.Millisecond
	}
	if cfg.PagesPath == "" {
		cfg.PagesPath = DefaultPagesPath
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Account{cfg: cfg, users: cfg.Users, can: discover(cfg.Users), limiter: cfg.Limiter,
		rec: audit.New(cfg.Logger, cfg.Metrics)}
	var cookies auth.SessionCookies
	if cfg.Cookies != nil {
		cookies = cfg.Cookies
	}
	jsonCO, err := a.crossOrigin(func(w http.ResponseWriter, r *http.Request) { problem.Write(w, auth.ErrCrossOrigin) })
	if err != nil {
		return nil, err
	}
	opts := auth.HandlerOptions{Cookies: cookies, Project: cfg.Project, MaxBodyBytes: cfg.MaxBodyBytes,
		Client: cfg.Client, JSONCookie: cfg.JSONCookie, CrossOrigin: jsonCO, RememberMe: cfg.RememberMe}
	a.login = cfg.Auth.LoginHandler(opts)
	a.logout = cfg.Auth.LogoutHandler(opts)
	if cfg.Auth.SecondFactor() != nil {
		a.second = cfg.Auth.SecondStepHandler(opts)
	}
	if cfg.Passkeys != nil {
		a.passwordless = cfg.Auth.PasswordlessHandler(opts)
	}
	a.api = a.newAPI(jsonCO)
	if cfg.Cookies != nil {
		var err error
		if a.pages, err = a.newPages(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// API is the JSON API (forms are read too). Mount it under a prefix:
//
//	mux.Handle("/account/", http.StripPrefix("/account", acct.API()))
//
// Its routes are listed in docs/accounts.md.
func (a *Account) API() http.Handler { return a.api }

// need reports errNotHere when the user table lacks an ability.
func need(ok bool, what string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%w: the user table does not implement %s", errNotHere, what)
}

// crossOrigin returns a new cross-origin check that trusts
// Config.TrustedOrigins and answers a refusal with deny.
func (a *Account) crossOrigin(deny http.HandlerFunc) (*http.CrossOriginProtection, error) {
	co := http.NewCrossOriginProtection()
	for _, o := range a.cfg.TrustedOrigins {
		if err := co.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("account: Config.TrustedOrigins: %w", err)
		}
	}
	co.SetDenyHandler(deny)
	return co, nil
}
