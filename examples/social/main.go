// Command social is "Log in with <provider>" on gatehouse: package oidc
// runs the OpenID Connect flow, the app links the identity to an account
// on (issuer, subject) only, auth.LoginExternal issues the session and
// middleware keeps it in a cookie. Two providers: "Dev provider", an
// OpenID Provider started in the process with a demo user (-dev-provider,
// on by default; see devprovider.go), and a real issuer configured from
// flags (Google, Microsoft Entra ID, Keycloak, GitHub), shown only when
// configured.
//
//	go run ./examples/social
//	SOCIAL_CLIENT_SECRET=... go run ./examples/social -issuer https://accounts.google.com -client-id ID
//
// Open http://localhost:8080 (not 127.0.0.1): the redirect URI registered
// at the provider is http://localhost:8080/auth/callback. Users and
// linked identities live in memory.
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// The demo users of the Dev provider (devprovider.go).
const (
	devUser           = "ada"
	devUnverifiedUser = "bob" // the provider does not vouch for bob's email
	devPassword       = "gatehouse-demo"
)

// callbackPath is the app's redirect URI, under its URL: register
// <url>/auth/callback at the provider, exactly.
const callbackPath = "/auth/callback"

// devProviderName is the Dev provider's oidc.Provider Name (in
// /login/dev); ssoProviderName the flags' provider's.
const (
	devProviderName = "dev"
	ssoProviderName = "sso"
)

// devProvider is a running -dev-provider; devClient the app's
// registration at it.
type devProvider interface {
	Issuer() string
	Close() error
}

type devClient struct{ ID, Secret string }

// startDevProvider starts the Dev provider for an app whose callback is
// redirectURL; nil when devprovider.go is not compiled in (a copy of the
// example, which cannot import gatehouse's internal packages).
var startDevProvider func(redirectURL string) (devProvider, devClient, error)

func main() {
	dev := flag.Bool("dev-provider", true, "start the Dev provider, an OpenID Provider in this process with a demo user (development only)")
	issuer := flag.String("issuer", "", "a real provider's issuer URL, such as https://accounts.google.com, "+
		"https://login.microsoftonline.com/<tenant-id>/v2.0, https://sso.example.com/realms/<realm>, or https://github.com (OAuth2)")
	clientID := flag.String("client-id", "", "the app's client id at -issuer")
	clientSecret := flag.String("client-secret", "", "the app's client secret at -issuer; prefer $SOCIAL_CLIENT_SECRET (a flag shows in ps and shell history)")
	label := flag.String("provider-label", "", "the name on the -issuer button; default guessed from the issuer (Google, Microsoft, Keycloak, GitHub)")
	publicURL := flag.String("url", "", "the app's URL as the browser sees it, whose /auth/callback is registered at the providers; "+
		"default http://localhost:<port> when listening on loopback")

	var a *app
	serveApp("127.0.0.1:8080", func(st store.Store, tagKey []byte, addr net.Addr) (http.Handler, error) {
		base, err := baseURL(*publicURL, addr)
		if err != nil {
			return nil, err
		}
		cfg := appConfig{store: st, tagKey: tagKey, baseURL: base, devProvider: *dev, logger: slog.Default()}
		if *issuer != "" {
			secret := os.Getenv("SOCIAL_CLIENT_SECRET")
			if *clientSecret != "" {
				secret = *clientSecret
			}
			if *clientID == "" {
				return nil, errors.New("-issuer needs -client-id (and a secret in $SOCIAL_CLIENT_SECRET)")
			}
			cfg.sso = &ssoConfig{issuer: *issuer, clientID: *clientID, clientSecret: secret, label: *label}
		}
		a, err = newApp(cfg)
		if err != nil {
			return nil, err
		}
		return a, nil
	}, func(_, storeInfo string) {
		fmt.Printf("gatehouse social login example listening on %s\n\n", a.baseURL)
		fmt.Printf("  Open %s/ in a browser (localhost: the session cookies are Secure, which browsers allow there over http).\n", a.baseURL)
		if a.dev != nil {
			fmt.Printf("  Dev provider at %s: log in as %s / %s; %s / %s has an unverified email and is refused.\n",
				a.dev.Issuer(), devUser, devPassword, devUnverifiedUser, devPassword)
		}
		if a.ssoLabel != "" {
			fmt.Printf("  %s: register %s%s as the redirect URI.\n", a.ssoLabel, a.baseURL, callbackPath)
		} else {
			fmt.Printf("  Add a real provider with -issuer and -client-id, the secret in $SOCIAL_CLIENT_SECRET (see README.md).\n")
		}
		fmt.Printf("\n%s%s; accounts and linked identities in memory. Ctrl-C stops it.\n", strings.ToUpper(storeInfo[:1]), storeInfo[1:])
	})
}

// baseURL is the app's URL: public when given, else http://localhost:PORT
// for a server on loopback. localhost rather than 127.0.0.1, because
// that is the host the redirect URI names and the cookies belong to.
func baseURL(public string, a net.Addr) (string, error) {
	if public != "" {
		u, err := url.Parse(public)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" && u.Path != "/" {
			return "", fmt.Errorf("-url %q: want https://host[:port]", public)
		}
		return strings.TrimSuffix(public, "/"), nil
	}
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return "", errors.New("set -url to the app's https URL: it is served to other machines")
	}
	return fmt.Sprintf("http://localhost:%d", tcp.Port), nil
}

// ssoConfig is the real provider of the flags.
type ssoConfig struct {
	issuer, clientID, clientSecret, label string
}

type appConfig struct {
	store store.Store // nil: a memory store of the app's own
	// tagKey is tokens.Config.TagKey: a secret of 32 or more bytes that
	// every instance shares (serve.go reads it from -tag-key or
	// GATEHOUSE_TAG_KEY).
	tagKey []byte
	// baseURL is the app's URL as the browser sees it; the redirect URI
	// is baseURL + callbackPath.
	baseURL     string
	devProvider bool       // start the Dev provider
	sso         *ssoConfig // the real provider, if any
	logger      *slog.Logger
	// httpClient talks to the providers; nil: oidc's default.
	httpClient *http.Client
}

// app is the example's handler with what it must close.
type app struct {
	http.Handler
	baseURL  string
	dev      devProvider // nil without -dev-provider
	ssoLabel string      // "" without -issuer
	users    *directory
	own      *memory.Store // the store newApp made, if it made one
}

func (a *app) Close() error {
	var errs []error
	if a.dev != nil {
		errs = append(errs, a.dev.Close())
	}
	if a.own != nil {
		errs = append(errs, a.own.Close())
	}
	return errors.Join(errs...)
}

func newApp(cfg appConfig) (*app, error) {
	a := &app{baseURL: cfg.baseURL, users: newDirectory()}
	st := cfg.store
	if st == nil {
		a.own = memory.New(memory.Options{})
		st = a.own
	}
	redirectURL := cfg.baseURL + callbackPath
	var providers []oidc.Provider
	var buttons []button
	if cfg.devProvider {
		if startDevProvider == nil {
			return nil, errors.New("-dev-provider: this copy of the example has no devprovider.go; " +
				"run with -dev-provider=false and -issuer")
		}
		dev, client, err := startDevProvider(redirectURL)
		if err != nil {
			return nil, err
		}
		a.dev = dev
		providers = append(providers, oidc.Provider{Name: devProviderName, Issuer: dev.Issuer(),
			ClientID: client.ID, ClientSecret: client.Secret, RedirectURL: redirectURL})
		buttons = append(buttons, button{Name: devProviderName, Label: "Dev provider"})
	}
	if cfg.sso != nil {
		p := ssoProvider(*cfg.sso, redirectURL)
		a.ssoLabel = cfg.sso.label
		if a.ssoLabel == "" {
			a.ssoLabel = guessLabel(cfg.sso.issuer)
		}
		providers = append(providers, p)
		buttons = append(buttons, button{Name: ssoProviderName, Label: a.ssoLabel})
	}
	h, err := a.routes(cfg, st, providers, buttons)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Handler = h
	return a, nil
}

// ssoProvider is the provider of the flags: an OpenID Connect issuer,
// discovered, or GitHub's plain OAuth2 when the issuer is github.com.
func ssoProvider(c ssoConfig, redirectURL string) oidc.Provider {
	p := oidc.Provider{Name: ssoProviderName, Issuer: c.issuer, ClientID: c.clientID,
		ClientSecret: c.clientSecret, RedirectURL: redirectURL}
	if strings.TrimSuffix(c.issuer, "/") == "https://github.com" {
		p.Issuer = "https://github.com"
		p.Endpoints = oidc.Endpoints{
			Auth:  "https://github.com/login/oauth/authorize",
			Token: "https://github.com/login/oauth/access_token",
		}
		p.Scopes = []string{"read:user", "user:email"}
		p.Mapper = oidc.GitHubMapper{}
	}
	return p
}

func guessLabel(issuer string) string {
	u, _ := url.Parse(issuer)
	switch host := u.Hostname(); {
	case host == "accounts.google.com":
		return "Google"
	case host == "login.microsoftonline.com":
		return "Microsoft"
	case host == "github.com":
		return "GitHub"
	case strings.Contains(u.Path, "/realms/"):
		return "Keycloak"
	case host != "":
		return host
	}
	return "SSO"
}

// button is a "Log in with" button on the home page.
type button struct{ Name, Label string }

// nextTargets are where a login may send the browser afterwards
// (?next=): oidc.Begin refuses anything else, so that a link to
// /login/dev?next=https://evil.example is no open redirect.
var nextTargets = []string{"/", "/notes"}

func (a *app) routes(cfg appConfig, st store.Store, providers []oidc.Provider, buttons []button) (http.Handler, error) {
	if len(providers) == 0 {
		return nil, errors.New("no provider: keep -dev-provider or set -issuer and -client-id")
	}
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: cfg.tagKey})
	if err != nil {
		return nil, err
	}
	limiter, err := limit.New(limit.Config{Store: st, Logger: cfg.logger})
	if err != nil {
		return nil, err
	}
	rp, err := oidc.New(oidc.Config{
		Tokens:            tm,
		Providers:         providers,
		RedirectAllowlist: nextTargets,
		Limiter:           limiter,
		Logger:            cfg.logger,
		HTTPClient:        cfg.httpClient,
		// The flow's cookie is __Host-gatehouse-oidc, which must be
		// Secure. Browsers keep Secure cookies from http://localhost
		// (Chromium, Firefox), so InsecureCookie stays off even in
		// development; behind a proxy the app is https anyway.
	})
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(auth.Config{Users: a.users, Tokens: tm, Counters: st, Limiter: limiter, Logger: cfg.logger})
	if err != nil {
		return nil, err
	}
	// A fresh key per run: sessions die with the accounts in memory
	// anyway. A real app loads a fixed key from its secrets.
	hashKey := make([]byte, 32)
	rand.Read(hashKey)
	// __Host-, Secure: as with the flow's cookie, browsers accept it on
	// http://localhost.
	cookies, err := middleware.NewCookies(middleware.CookieConfig{Name: "__Host-social", HashKey: hashKey})
	if err != nil {
		return nil, err
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies, Logger: cfg.logger})
	if err != nil {
		return nil, err
	}
	opts := auth.HandlerOptions{Cookies: cookies, Redirect: "/"}

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", guard.Optional(a.home(buttons)))
	mux.Handle("GET /notes", guard.Handler(http.HandlerFunc(a.notes)))
	// GET /login/{provider}?next=/notes starts a flow: a 303 to the
	// provider, with the flow's cookie.
	mux.HandleFunc("GET /login/{provider}", func(w http.ResponseWriter, r *http.Request) {
		if err := rp.Begin(w, r, r.PathValue("provider"), r.URL.Query().Get("next")); err != nil {
			errorPage(w, problem.Of(err), "")
		}
	})
	mux.HandleFunc("GET "+callbackPath, func(w http.ResponseWriter, r *http.Request) {
		id, next, err := rp.Finish(w, r)
		if err != nil {
			errorPage(w, problem.Of(err), "")
			return
		}
		acct, _, err := a.users.signIn(id)
		switch {
		case errors.Is(err, errEmailUnverified):
			errorPage(w, problem.Error{Status: http.StatusForbidden, Code: "email_unverified",
				Message: "Your account at the provider has no verified email address, so no account was created. " +
					"Verify your address at the provider, then log in again."}, id.Email)
			return
		case errors.Is(err, errEmailTaken):
			errorPage(w, problem.Error{Status: http.StatusConflict, Code: "email_in_use",
				Message: "An account with this email address already exists. Log in the way you did before: " +
					"a new provider is linked to an account only by its owner, never because the addresses match."}, id.Email)
			return
		case err != nil:
			errorPage(w, problem.Of(err), "")
			return
		}
		s, err := authn.LoginExternal(r.Context(), acct.Subject, "", clientaddr.FromRequest(r))
		if err != nil {
			// A *auth.SecondFactorError too: this example sets no
			// Config.SecondFactor, so no account has one.
			errorPage(w, problem.Of(err), "")
			return
		}
		if err := cookies.SetSession(w, r, "", s.Token, s.ExpiresAt); err != nil {
			errorPage(w, problem.Of(err), "")
			return
		}
		if next == "" {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
	mux.Handle("POST /logout", authn.LogoutHandler(opts))
	return mux, nil
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>gatehouse social login</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto}a.button{display:block;margin:.5rem 0}</style>
</head>
<body>
<h1>gatehouse social login</h1>
{{if .Account}}
<p id="user">Logged in as <strong>{{.Account.Name}}</strong> ({{.Account.Email}}), account <code>{{.Account.Subject}}</code>.</p>
<h2>Linked identities</h2>
<ul id="identities">{{range .Account.Identities}}<li>{{.Provider}}: <code>{{.Issuer}}</code> subject <code>{{.Subject}}</code>{{if .Email}}, now {{.Email}}{{end}}</li>{{end}}</ul>
<p><a href="/notes">Notes</a></p>
<form method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>
{{else}}
{{range .Buttons}}<a class="button" id="login-{{.Name}}" href="/login/{{.Name}}?next=/">Log in with {{.Label}}</a>
{{end}}
{{end}}
</body>
</html>
`))

// home is the page at /: the login buttons, or the account.
func (a *app) home(buttons []button) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data := struct {
			Account *account
			Buttons []button
		}{Buttons: buttons}
		if p, ok := middleware.FromContext(r.Context()); ok {
			if acct, ok := a.users.get(p.Subject); ok {
				data.Account = &acct
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = homePage.Execute(w, data)
	}
}

// notes is a page behind the guard, the target of /login/dev?next=/notes.
func (a *app) notes(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	acct, _ := a.users.get(p.Subject)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = notesPage.Execute(w, acct)
}

var notesPage = template.Must(template.New("notes").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Notes</title></head>
<body><h1 id="notes">{{.Name}}'s notes</h1><p>Nothing here yet. <a href="/">Home</a></p></body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Login failed</title></head>
<body>
<h1>Login failed</h1>
<p id="error" data-code="{{.Code}}">{{.Message}}</p>
{{if .Email}}<p>The provider gave the address {{.Email}}.</p>{{end}}
<p><a href="/">Back</a></p>
</body></html>
`))

// errorPage answers a refused login as a page: the problem's status,
// its stable code in data-code, and its message, which says nothing a
// browser should not know.
func errorPage(w http.ResponseWriter, p problem.Error, email string) {
	if p.Status < 400 || p.Status > 599 {
		p = problem.Internal
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = errorTemplate.Execute(w, struct {
		Code, Message, Email string
	}{p.Code, p.Message, email})
}
