package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// DefaultCookieName is the cookie that binds a flow to the browser that
// started it. The __Host- prefix makes browsers refuse it unless it is
// Secure, has Path=/ and no Domain: no subdomain can plant or read it.
const DefaultCookieName = "__Host-gatehouse-oidc"

// Identity is what a provider vouches for. Link accounts on (Issuer,
// Subject) only: Email and Name are the provider's current words, which
// the user may change, and another account may claim at another provider.
type Identity struct {
	// Issuer is the provider's issuer URL (for a plain OAuth2 provider,
	// Provider.Issuer, a fixed string).
	Issuer string
	// Subject is the provider's stable id of the user (the sub claim).
	Subject string
	// Email is the address the provider gave, possibly empty.
	Email string
	// EmailVerified is true only when the provider said so (the
	// email_verified claim true); a missing claim is false.
	EmailVerified bool
	// Name is the user's display name, possibly empty.
	Name string
	// Provider is the Provider.Name the flow ran with.
	Provider string
}

// Endpoints are a provider's URLs, for one without discovery.
type Endpoints struct {
	Auth     string // authorization endpoint; required
	Token    string // token endpoint; required
	JWKS     string // JSON Web Key Set; required for OpenID Connect
	UserInfo string // userinfo endpoint; optional
}

// UserMapper turns a plain OAuth2 provider's access token into an
// Identity, by asking its user API with client (an *http.Client that
// sends the token). Issuer and Provider are set by the caller; the mapper
// fills Subject (required: a stable id, never a login name the user may
// change), Email, EmailVerified and Name. A failure of the API should
// wrap ErrProviderUnavailable. See [GitHubMapper].
type UserMapper interface {
	Identity(ctx context.Context, tok *oauth2.Token, client *http.Client) (Identity, error)
}

// Provider is one login provider.
type Provider struct {
	// Name is how the app names it in Begin ("google"); letters, digits,
	// '-' and '_', at most 32 bytes; unique.
	Name string
	// Issuer is the OpenID Provider's issuer URL, exactly as its ID tokens
	// carry it ("https://accounts.google.com"). Without Endpoints it is
	// discovered from Issuer + "/.well-known/openid-configuration". For a
	// plain OAuth2 provider (Mapper set) it is the fixed string the
	// identities carry ("https://github.com").
	Issuer string
	// Endpoints replace discovery when set.
	Endpoints Endpoints
	// Algorithms are the ID token algorithms accepted with Endpoints; RS256
	// by default. With discovery, the provider's
	// id_token_signing_alg_values_supported is used and this is ignored.
	Algorithms []string
	// ClientID and ClientSecret are the app's registration at the
	// provider. A public client has no secret (PKCE still protects it).
	ClientID     string
	ClientSecret string
	// Scopes asked for; default openid, email, profile ("openid" is added
	// if missing for an OpenID Connect provider).
	Scopes []string
	// RedirectURL is the absolute URL of the app's callback, which calls
	// Finish; registered at the provider as is.
	RedirectURL string
	// UserInfo, for an OpenID Connect provider, also reads the userinfo
	// endpoint after the ID token and fills in what the token left out.
	UserInfo bool
	// Mapper makes this a plain OAuth2 provider (no ID token): it maps the
	// access token to an Identity. Endpoints.Auth and Token are required.
	Mapper UserMapper
	// AuthParams are added to the authorization URL (prompt=select_account,
	// say); they cannot replace the flow's own parameters.
	AuthParams map[string]string
}

// Config configures an [RP]. Tokens, Providers and RedirectAllowlist's
// entries are checked by New; every other zero field means its default.
type Config struct {
	// Tokens issues and consumes each flow's state (store.KindChallenge,
	// tokens.Config.ChallengeTTL: 5 minutes by default) and derives the key
	// of the nonce and the PKCE verifier (DeriveKey("oidc flow")).
	Tokens *tokens.Manager
	// Providers are the login providers; at least one.
	Providers []Provider
	// RedirectAllowlist are the post-login targets Begin accepts as next:
	// each a path ("/dashboard") or an absolute https URL of the app
	// ("https://app.example.com/welcome"), matched exactly (a query on
	// next is kept). An empty next is always accepted (the app's default).
	RedirectAllowlist []string
	// Limiter, if set, limits Begin per client (class limit.Login): each
	// Begin keeps a state in the store. Strongly advised.
	Limiter *limit.Limiter
	// ClientAddr gives the client of a request for the limiter; default
	// clientaddr.FromRequest (RemoteAddr). Behind a proxy, a
	// clientaddr.Resolver's Client.
	ClientAddr func(*http.Request) (netip.Prefix, error)
	// CookieName binds a flow to its browser; DefaultCookieName by default.
	// A name without the __Host- prefix is refused unless InsecureCookie.
	// There is no cookie path or domain to set: __Host- means Path=/ and
	// no Domain, which is what keeps subdomains from planting one.
	CookieName string
	// InsecureCookie drops Secure and the __Host- requirement: for tests
	// over plain http only.
	InsecureCookie bool
	// HTTPClient talks to the providers; default a client with a 10-second
	// timeout. Its Timeout bounds discovery, code exchange, JWKS and
	// userinfo.
	HTTPClient *http.Client
	// DiscoveryRetry is how long a failed discovery is remembered before
	// it is tried again (so a provider down does not get a request per
	// login); 10 seconds by default.
	DiscoveryRetry time.Duration
	// Logger and Metrics receive oidc.started, oidc.succeeded and
	// oidc.failed (reason: the error code) with the provider, and the
	// issuer and subject on success; never a state, code or token.
	Logger  *slog.Logger
	Metrics audit.Metrics
	// Now checks ID token expiry; default time.Now. States expire by the
	// tokens.Manager's clock.
	Now func() time.Time
}

// RP is an OpenID Connect and OAuth2 relying party. It is safe for
// concurrent use; each flow lives in the token store, so any instance of
// the app may finish a flow another began. Providers are discovered
// lazily, at their first flow, and cached: an app starts with a provider
// down, and that provider's logins fail (provider_unavailable) until it
// answers.
type RP struct {
	cfg       Config
	providers map[string]*provider
	key       []byte
	rec       *audit.Recorder
	ttl       time.Duration
}

// provider is a Provider with its discovered state.
type provider struct {
	Provider
	rp *RP

	mu       sync.Mutex
	ready    *ready
	failedAt time.Time
	failure  error
}

// ready is what discovery gives: the endpoints and a verifier whose key
// set caches the JWKS and refetches it on an unknown kid.
type ready struct {
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	userinfo *gooidc.Provider
	issuer   string
}

// New checks cfg, fills its defaults and returns an RP. It makes no
// request: discovery happens at each provider's first flow.
func New(cfg Config) (*RP, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("oidc: Config.Tokens is nil")
	}
	if len(cfg.Providers) == 0 {
		return nil, errors.New("oidc: Config.Providers is empty")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	if !cfg.InsecureCookie && !strings.HasPrefix(cfg.CookieName, "__Host-") {
		return nil, fmt.Errorf("oidc: Config.CookieName %q: want the __Host- prefix", cfg.CookieName)
	}
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = func(r *http.Request) (netip.Prefix, error) { return clientaddr.FromRequest(r), nil }
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.DiscoveryRetry == 0 {
		cfg.DiscoveryRetry = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.RedirectAllowlist = slices.Clone(cfg.RedirectAllowlist)
	for _, a := range cfg.RedirectAllowlist {
		if err := checkAllowEntry(a); err != nil {
			return nil, err
		}
	}
	rp := &RP{cfg: cfg, providers: map[string]*provider{}, key: cfg.Tokens.DeriveKey("oidc flow"),
		rec: audit.New(cfg.Logger, cfg.Metrics), ttl: cfg.Tokens.TTL(store.KindChallenge)}
	for _, p := range cfg.Providers {
		if err := checkProvider(&p); err != nil {
			return nil, err
		}
		if _, dup := rp.providers[p.Name]; dup {
			return nil, fmt.Errorf("oidc: provider %q configured twice", p.Name)
		}
		// Accounts link on (Issuer, Subject): a plain OAuth2 provider's
		// Issuer is a fixed string, its subjects' only namespace, so two
		// providers share one only when they are one server (two OIDC
		// clients of an issuer, or two OAuth2 apps of one token endpoint),
		// never GitHub Enterprise under github.com's, or a mapper under
		// an OpenID Provider's.
		for _, q := range rp.providers {
			if q.Issuer == p.Issuer && (q.Mapper == nil) != (p.Mapper == nil) ||
				q.Issuer == p.Issuer && p.Mapper != nil && q.Endpoints.Token != p.Endpoints.Token {
				return nil, fmt.Errorf("oidc: providers %q and %q share Issuer %q but are different servers: give each its own Issuer", q.Name, p.Name, p.Issuer)
			}
		}
		rp.providers[p.Name] = &provider{Provider: p, rp: rp}
	}
	return rp, nil
}

// Providers returns the configured providers' names, in Config order: for
// an app's "log in with" buttons.
func (rp *RP) Providers() []string {
	names := make([]string, 0, len(rp.cfg.Providers))
	for _, p := range rp.cfg.Providers {
		names = append(names, p.Name)
	}
	return names
}

func checkProvider(p *Provider) error {
	if p.Name == "" || len(p.Name) > 32 || strings.IndexFunc(p.Name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return fmt.Errorf("oidc: provider name %q: want 1 to 32 letters, digits, '-' or '_'", p.Name)
	}
	if p.Issuer == "" {
		return fmt.Errorf("oidc: provider %q: Issuer is empty", p.Name)
	}
	if p.ClientID == "" {
		return fmt.Errorf("oidc: provider %q: ClientID is empty", p.Name)
	}
	if u, err := url.Parse(p.RedirectURL); err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("oidc: provider %q: RedirectURL %q: want an absolute URL", p.Name, p.RedirectURL)
	}
	e := p.Endpoints
	if p.Mapper != nil && (e.Auth == "" || e.Token == "") {
		return fmt.Errorf("oidc: provider %q: a plain OAuth2 provider (Mapper) needs Endpoints.Auth and Token", p.Name)
	}
	if p.Mapper == nil && e != (Endpoints{}) && (e.Auth == "" || e.Token == "" || e.JWKS == "") {
		return fmt.Errorf("oidc: provider %q: Endpoints need Auth, Token and JWKS", p.Name)
	}
	if p.Scopes == nil {
		p.Scopes = []string{"openid", "email", "profile"}
		if p.Mapper != nil {
			p.Scopes = nil
		}
	}
	p.Scopes = slices.Clone(p.Scopes)
	if p.Mapper == nil && !slices.Contains(p.Scopes, "openid") {
		p.Scopes = append([]string{"openid"}, p.Scopes...)
	}
	for k := range p.AuthParams {
		switch k {
		case "state", "nonce", "code_challenge", "code_challenge_method", "client_id", "redirect_uri", "response_type", "scope":
			return fmt.Errorf("oidc: provider %q: AuthParams cannot set %q", p.Name, k)
		}
	}
	return nil
}

// discover returns the provider's endpoints and verifier, discovering them
// at the first call. A failure is remembered for Config.DiscoveryRetry.
func (p *provider) discover(ctx context.Context) (*ready, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready != nil {
		return p.ready, nil
	}
	now := p.rp.cfg.Now()
	if p.failure != nil && now.Sub(p.failedAt) < p.rp.cfg.DiscoveryRetry && !now.Before(p.failedAt) {
		return nil, p.failure
	}
	// Not the request's cancellation: a client that goes away must not
	// leave a failure cached for everyone. HTTPClient's Timeout bounds it.
	r, err := p.build(context.WithoutCancel(ctx))
	if err != nil {
		p.failure, p.failedAt = fmt.Errorf("%w: %s: %v", ErrProviderUnavailable, p.Name, err), now
		return nil, p.failure
	}
	p.ready, p.failure = r, nil
	return r, nil
}

func (p *provider) build(ctx context.Context) (*ready, error) {
	client := p.rp.cfg.HTTPClient
	// The key set outlives this request: it gets a context of its own
	// that carries only the client.
	bg := gooidc.ClientContext(context.Background(), client)
	r := &ready{oauth: oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: p.RedirectURL, Scopes: p.Scopes}, issuer: p.Issuer}
	if p.Mapper != nil {
		r.oauth.Endpoint = oauth2.Endpoint{AuthURL: p.Endpoints.Auth, TokenURL: p.Endpoints.Token,
			AuthStyle: authStyle(p.ClientSecret, []string{"client_secret_post"})}
		return r, nil
	}
	var (
		op      *gooidc.Provider
		jwksURL string
		algs    []string
		methods []string // token endpoint auth methods; none: basic
	)
	if p.Endpoints != (Endpoints{}) {
		algs = p.Algorithms
		jwksURL = p.Endpoints.JWKS
		op = (&gooidc.ProviderConfig{IssuerURL: p.Issuer, AuthURL: p.Endpoints.Auth, TokenURL: p.Endpoints.Token,
			UserInfoURL: p.Endpoints.UserInfo, JWKSURL: jwksURL, Algorithms: algs}).NewProvider(bg)
	} else {
		var err error
		op, err = gooidc.NewProvider(gooidc.ClientContext(ctx, client), p.Issuer)
		if err != nil {
			return nil, err
		}
		var meta struct {
			JWKS        string   `json:"jwks_uri"`
			Algs        []string `json:"id_token_signing_alg_values_supported"`
			AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		}
		if err := op.Claims(&meta); err != nil {
			return nil, err
		}
		jwksURL, algs, methods = meta.JWKS, meta.Algs, meta.AuthMethods
	}
	// Only what the provider advertises (or the app configured), and only
	// asymmetric algorithms go-oidc verifies: never "none", never HS256
	// keyed with a client secret an attacker may share.
	var accepted []string
	for _, a := range algs {
		if slices.Contains(supportedAlgs, a) && !slices.Contains(accepted, a) {
			accepted = append(accepted, a)
		}
	}
	if len(algs) == 0 {
		accepted = []string{gooidc.RS256} // the one algorithm every provider must support
	}
	if len(accepted) == 0 {
		return nil, fmt.Errorf("no supported ID token algorithm among %q", algs)
	}
	keys := &keySet{inner: gooidc.NewRemoteKeySet(bg, jwksURL)}
	r.verifier = gooidc.NewVerifier(p.Issuer, keys, &gooidc.Config{ClientID: p.ClientID,
		SupportedSigningAlgs: accepted, Now: p.rp.cfg.Now})
	r.oauth.Endpoint = op.Endpoint()
	r.oauth.Endpoint.AuthStyle = authStyle(p.ClientSecret, methods)
	r.userinfo = op
	if p.UserInfo && op.UserInfoEndpoint() == "" {
		return nil, errors.New("Provider.UserInfo is set and the provider has no userinfo endpoint")
	}
	return r, nil
}

// authStyle is how the client authenticates at the token endpoint, fixed
// once: never x/oauth2's AuthStyleAutoDetect, which on any failed exchange
// (a 5xx, an answer that does not parse) sends the code a second time with
// the credentials moved, so one failure costs the provider two requests
// and a code may be redeemed by the retry of an exchange that failed. A
// public client sends its client_id in the body; a confidential one HTTP
// Basic (client_secret_basic, which RFC 6749 2.3.1 and OpenID Connect make
// the default) unless the provider lists only client_secret_post. methods
// is discovery's token_endpoint_auth_methods_supported; for a plain OAuth2
// provider, client_secret_post (GitHub's documented way).
func authStyle(secret string, methods []string) oauth2.AuthStyle {
	if secret == "" || len(methods) > 0 && !slices.Contains(methods, "client_secret_basic") &&
		slices.Contains(methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

var supportedAlgs = []string{gooidc.RS256, gooidc.RS384, gooidc.RS512, gooidc.ES256, gooidc.ES384, gooidc.ES512,
	gooidc.PS256, gooidc.PS384, gooidc.PS512, gooidc.EdDSA}

// keySet is go-oidc's RemoteKeySet, which tells a JWKS that cannot be
// fetched or parsed (the provider's fault: 502) from a signature that
// does not verify (401). The verifier flattens the key set's error to
// text, so the kind travels in the context.
type keySet struct{ inner gooidc.KeySet }

type fetchFailedKey struct{}

func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	b, err := k.inner.VerifySignature(ctx, jwt)
	// RemoteKeySet prefixes "fetching keys" to a failure to get or decode
	// the JWKS, and to nothing else.
	if err != nil && strings.HasPrefix(err.Error(), "fetching keys") {
		if f, ok := ctx.Value(fetchFailedKey{}).(*bool); ok {
			*f = true
		}
	}
	return b, err
}
