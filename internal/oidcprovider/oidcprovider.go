package oidcprovider

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account at the provider.
type User struct {
	// Subject is the sub claim: the stable id an RP links on.
	Subject string
	// Username is the login name typed into the login form; empty means
	// Email.
	Username string
	// Password is what the login form checks, in the clear: this is a test
	// fixture.
	Password string
	// Email is the email claim, given for the email scope.
	Email string
	// EmailVerified is the email_verified claim, present whenever Email is
	// (false included) unless OmitEmailVerified.
	EmailVerified bool
	// OmitEmailVerified leaves email_verified out of every token and
	// userinfo answer, as some providers do.
	OmitEmailVerified bool
	// Name is the name claim, given for the profile scope.
	Name string
}

// Option configures Start.
type Option func(*config)

type config struct {
	tls          bool
	pkceOptional bool
}

// WithTLS serves the provider over HTTPS with httptest's self-signed
// certificate; the RP must then use [Provider.HTTPClient]. The default is
// plain HTTP on loopback, which zitadel allows only because the tests ask.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithPKCEOptional lets authorization requests without PKCE S256 through.
// By default the provider refuses them (invalid_request to the redirect
// URI), so that an RP that forgets PKCE fails its tests.
func WithPKCEOptional() Option { return func(c *config) { c.pkceOptional = true } }

// Provider is a running OpenID Provider. Its methods are safe to call
// concurrently, from the test and from handlers.
type Provider struct {
	srv     *httptest.Server // Start's
	hsrv    *http.Server     // Listen's
	issuer  string
	op      *op.Provider
	store   *storage
	handler http.Handler

	mu          sync.Mutex
	tokenFaults []tokenFault
	jwksBroken  bool
	jwksFetches int
	jsonFaults  map[string][]func(Claims) // by path: discovery, userinfo
	tokenCalls  int
}

// Start runs a provider on a loopback port until t ends. It has no clients
// and no users yet: add them with [Provider.AddClient] and
// [Provider.AddUser].
func Start(t testing.TB, opts ...Option) *Provider {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	p := &Provider{}
	// The issuer is the server's URL, known only once it listens: the
	// server starts with a handler that reaches p.handler, set below
	// before any request can arrive from the test.
	if cfg.tls {
		p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serveHTTP))
	} else {
		p.srv = httptest.NewServer(http.HandlerFunc(p.serveHTTP))
	}
	t.Cleanup(p.srv.Close)
	if err := p.init(p.srv.URL, cfg); err != nil {
		t.Fatalf("oidcprovider: %v", err)
	}
	return p
}

// Listen runs a provider outside a test, over plain HTTP on addr, which
// must be a loopback address ("127.0.0.1:0" for any free port), until
// [Provider.Close]. Its issuer is http://<the address it listens on>.
//
// It is for development only: an app's dev mode ("Log in with Dev
// provider" in examples/social) where no real issuer is configured. Users'
// passwords are kept in the clear, keys and codes live in memory and die
// with the process, there is no TLS, no rate limit, no consent and no
// logout. Never serve it to anyone but the developer's own browser. The
// only Option it takes is [WithPKCEOptional]; [WithTLS] is refused.
func Listen(addr string, opts ...Option) (*Provider, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tls {
		return nil, errors.New("oidcprovider: Listen serves plain HTTP on loopback only; WithTLS is for Start")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: %w", err)
	}
	if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		l.Close()
		return nil, fmt.Errorf("oidcprovider: %s is not a loopback address: the provider is for development on this machine only", addr)
	}
	p := &Provider{}
	if err := p.init("http://"+l.Addr().String(), cfg); err != nil {
		l.Close()
		return nil, err
	}
	p.hsrv = &http.Server{
		Handler:           p.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	go func() { _ = p.hsrv.Serve(l) }()
	return p, nil
}

// Close stops a provider [Listen] started (and one [Start] started, which
// t's end also stops).
func (p *Provider) Close() error {
	if p.hsrv != nil {
		return p.hsrv.Close()
	}
	if p.srv != nil {
		p.srv.Close()
	}
	return nil
}

// init builds zitadel's provider for issuer and the handler around it.
func (p *Provider) init(issuer string, cfg config) error {
	p.store = newStorage()
	p.store.pkceOptional = cfg.pkceOptional
	p.issuer = issuer
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return err
	}
	opOpts := []op.Option{}
	if !cfg.tls {
		opOpts = append(opOpts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:          key, // encrypts the opaque access tokens and codes
		CodeMethodS256:     true,
		AuthMethodPost:     true, // client_secret_post as well as basic
		SupportedUILocales: []language.Tag{language.English},
	}, p.store, op.StaticIssuer(p.issuer), opOpts...)
	if err != nil {
		return fmt.Errorf("start zitadel's provider: %w", err)
	}
	p.op = provider
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+loginPath, p.loginPage)
	mux.HandleFunc("POST "+loginPath, p.loginSubmit)
	mux.Handle("/", p.faults(provider))
	p.handler = mux
	return nil
}

func (p *Provider) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p.handler.ServeHTTP(w, r)
}

// Issuer is the issuer URL, for discovery at
// Issuer()+"/.well-known/openid-configuration".
func (p *Provider) Issuer() string { return p.issuer }

// HTTPClient is a client that trusts the provider's certificate when it
// runs [WithTLS]; a new one each call, so the caller may set a jar.
func (p *Provider) HTTPClient() *http.Client {
	if p.srv == nil {
		return &http.Client{Timeout: 10 * time.Second}
	}
	c := *p.srv.Client()
	return &c
}

// AddClient registers a confidential client (client_secret_basic or
// client_secret_post) for the authorization code flow. A redirect URI must
// match exactly; http is allowed for it, as zitadel allows for
// confidential clients.
func (p *Provider) AddClient(id, secret string, redirectURIs ...string) {
	if secret == "" {
		panic("oidcprovider: AddClient needs a secret; use AddPublicClient")
	}
	p.addClient(&client{id: id, secret: secret, redirectURIs: slices.Clone(redirectURIs)})
}

// AddPublicClient registers a public client (no secret, PKCE only). Its
// redirect URIs must be https, a loopback http URI or a custom scheme.
func (p *Provider) AddPublicClient(id string, redirectURIs ...string) {
	p.addClient(&client{id: id, redirectURIs: slices.Clone(redirectURIs)})
}

func (p *Provider) addClient(c *client) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.clients[c.id] = c
}

// AddUser adds or replaces a user. Subject and Password are required.
func (p *Provider) AddUser(u User) {
	if u.Subject == "" || u.Password == "" {
		panic("oidcprovider: a user needs a Subject and a Password")
	}
	if u.Username == "" {
		u.Username = u.Email
	}
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	if old, ok := p.store.users[u.Subject]; ok {
		delete(p.store.logins, old.Username)
	}
	p.store.users[u.Subject] = &u
	p.store.logins[u.Username] = &u
}

// RotateKeys makes a fresh RSA key the signing key. The previous keys stay
// in the JWKS (a provider's usual overlap) until [Provider.DropOldKeys].
// It answers the new key's id (the kid of the next ID tokens).
func (p *Provider) RotateKeys() string {
	return p.store.rotate(false).id
}

// DropOldKeys removes every key but the signing key from the JWKS: a token
// signed before the last rotation no longer verifies.
func (p *Provider) DropOldKeys() { p.store.dropOldKeys() }

// KeyID is the id (kid) of the current signing key.
func (p *Provider) KeyID() string { return p.store.signingKey().id }

// JWKSFetches counts the requests the JWKS endpoint has had: a test of an
// RP's key cache counts them.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksFetches
}

// TokenRequests counts the requests the token endpoint has had.
func (p *Provider) TokenRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokenCalls
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
