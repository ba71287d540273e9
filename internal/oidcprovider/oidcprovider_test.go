package oidcprovider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
)

const (
	clientID = "gatehouse"
	secret   = "s3cret" // short on purpose: HS256 must cope
	callback = "http://127.0.0.1:1/callback"
)

// rp is the least relying party that runs the flow: x/oauth2 with the
// endpoints from discovery.
type rp struct {
	t      *testing.T
	p      *oidcprovider.Provider
	disc   discovery
	cfg    oauth2.Config
	client *http.Client
}

type discovery struct {
	Issuer          string   `json:"issuer"`
	AuthEndpoint    string   `json:"authorization_endpoint"`
	TokenEndpoint   string   `json:"token_endpoint"`
	UserinfoURL     string   `json:"userinfo_endpoint"`
	JWKSURI         string   `json:"jwks_uri"`
	IDTokenAlgs     []string `json:"id_token_signing_alg_values_supported"`
	PKCEMethods     []string `json:"code_challenge_methods_supported"`
	ResponseTypes   []string `json:"response_types_supported"`
	TokenAuthMethod []string `json:"token_endpoint_auth_methods_supported"`
}

func start(t *testing.T, opts ...oidcprovider.Option) (*oidcprovider.Provider, *rp) {
	t.Helper()
	p := oidcprovider.Start(t, opts...)
	p.AddClient(clientID, secret, callback)
	p.AddUser(oidcprovider.User{
		Subject: "sub-alice", Email: "alice@example.com", EmailVerified: true,
		Name: "Alice", Password: "correct horse",
	})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := p.HTTPClient()
	c.Jar = jar
	r := &rp{t: t, p: p, client: c}
	getJSON(t, c, p.Issuer()+"/.well-known/openid-configuration", &r.disc)
	r.cfg = oauth2.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURL: callback,
		// In the header, not auto-detected: auto-detection retries a failed
		// exchange, which would hide a one-response fault.
		Endpoint: oauth2.Endpoint{AuthURL: r.disc.AuthEndpoint, TokenURL: r.disc.TokenEndpoint, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "email", "profile"},
	}
	return p, r
}

func getJSON(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", u, err, body)
	}
}

// login runs the front channel: authorization URL with PKCE S256 and a
// nonce, the login form, the redirect back.
func (r *rp) login(user, password string) (code, verifier, nonce string) {
	r.t.Helper()
	verifier = oauth2.GenerateVerifier()
	nonce, state := "n-"+oauth2.GenerateVerifier()[:16], "st-"+oauth2.GenerateVerifier()[:16]
	u := r.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))
	cb := r.p.Authorize(r.t, r.client, u, user, password)
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != callback {
		r.t.Fatalf("redirected to %s, want the callback %s", cb, callback)
	}
	if e := cb.Query().Get("error"); e != "" {
		r.t.Fatalf("callback with error %s: %s", e, cb.Query().Get("error_description"))
	}
	if got := cb.Query().Get("state"); got != state {
		r.t.Fatalf("state = %q, want %q", got, state)
	}
	return cb.Query().Get("code"), verifier, nonce
}

func (r *rp) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, r.client)
}

// flow runs the whole code flow and answers the token and its ID token.
func (r *rp) flow() (*oauth2.Token, string, string) {
	r.t.Helper()
	code, verifier, nonce := r.login("alice@example.com", "correct horse")
	tok, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	idt, _ := tok.Extra("id_token").(string)
	if idt == "" {
		r.t.Fatal("no id_token in the token response")
	}
	return tok, idt, nonce
}

type verified struct {
	alg, kid string
	claims   map[string]any
	err      error // signature check against the JWKS
}

// verify parses idt with any algorithm and checks its signature against
// the provider's JWKS (by kid), as an RP that ignores discovery's alg list
// would; the point here is to see what the provider sent.
func (r *rp) verify(idt string) verified {
	r.t.Helper()
	tok, err := jose.ParseSigned(idt, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.HS256})
	var v verified
	if err != nil {
		// "none" is not a JWS go-jose parses: read it by hand.
		parts := strings.Split(idt, ".")
		if len(parts) != 3 {
			r.t.Fatalf("id_token %q: %v", idt, err)
		}
		var h struct{ Alg string }
		decodeSeg(r.t, parts[0], &h)
		decodeSeg(r.t, parts[1], &v.claims)
		v.alg, v.err = h.Alg, err
		return v
	}
	v.alg, v.kid = tok.Signatures[0].Header.Algorithm, tok.Signatures[0].Header.KeyID
	if err := json.Unmarshal(tok.UnsafePayloadWithoutVerification(), &v.claims); err != nil {
		r.t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	getJSON(r.t, r.client, r.disc.JWKSURI, &set)
	keys := set.Key(v.kid)
	if len(keys) == 0 {
		v.err = errNoKey
		return v
	}
	_, v.err = tok.Verify(keys[0].Public().Key)
	return v
}

type errString string

func (e errString) Error() string { return string(e) }

const errNoKey = errString("kid not in the JWKS")

func decodeSeg(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// loginFrom is login for a goroutine other than the test's: it reports to
// no t, and answers empty values on failure, which the exchange then
// refuses.
func (r *rp) loginFrom(int) (code, verifier, nonce string) {
	verifier = oauth2.GenerateVerifier()
	u := r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n"))
	resp, err := r.client.Get(u)
	if err != nil {
		return "", "", ""
	}
	resp.Body.Close()
	noFollow := *r.client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	id := resp.Request.URL.Query().Get("id")
	resp, err = noFollow.PostForm(r.p.Issuer()+"/login", url.Values{
		"id": {id}, "username": {"alice@example.com"}, "password": {"correct horse"}, "action": {"login"},
	})
	if err != nil {
		return "", "", ""
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if loc == nil {
		return "", "", ""
	}
	// The provider's callback endpoint issues the code.
	resp, err = noFollow.Get(loc.String())
	if err != nil {
		return "", "", ""
	}
	resp.Body.Close()
	if loc, _ = resp.Location(); loc == nil {
		return "", "", ""
	}
	return loc.Query().Get("code"), verifier, "n"
}

// Listen runs the provider outside a test: discovery answers at its
// issuer until Close, and a non-loopback address is refused.
func TestListen(t *testing.T) {
	p, err := oidcprovider.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.HTTPClient().Get(p.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Issuer string }
	err = json.NewDecoder(res.Body).Decode(&d)
	res.Body.Close()
	if err != nil || d.Issuer != p.Issuer() {
		t.Fatalf("discovery: %v, issuer %q, want %q", err, d.Issuer, p.Issuer())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.HTTPClient().Get(p.Issuer() + "/.well-known/openid-configuration"); err == nil {
		t.Error("discovery answered after Close")
	}
	if _, err := oidcprovider.Listen("0.0.0.0:0"); err == nil {
		t.Error("Listen on 0.0.0.0 accepted")
	}
	if _, err := oidcprovider.Listen("127.0.0.1:0", oidcprovider.WithTLS()); err == nil {
		t.Error("Listen WithTLS accepted")
	}
}
