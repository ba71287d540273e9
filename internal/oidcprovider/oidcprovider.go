package oidcprovider

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

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
	srv     *httptest.Server
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
	p := &Provider{store: newStorage()}
	p.store.pkceOptional = cfg.pkceOptional
	// The issuer is the server's URL, known only once it listens: the
	// server starts with a handler that reaches p.handler, set below
	// before any request can arrive from the test.
	if cfg.tls {
		p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serveHTTP))
	} else {
		p.srv = httptest.NewServer(http.HandlerFunc(p.serveHTTP))
	}
	t.Cleanup(p.srv.Close)
	p.issuer = p.srv.URL

	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatalf("oidcprovider: %v", err)
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
		t.Fatalf("oidcprovider: start zitadel's provider: %v", err)
	}
	p.op = provider
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+loginPath, p.loginPage)
	mux.HandleFunc("POST "+loginPath, p.loginSubmit)
	mux.Handle("/", p.faults(provider))
	p.handler = mux
	return p
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
