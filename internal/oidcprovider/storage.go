package oidcprovider

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// errNotFound is what the storage answers for an unknown id, code,
// client or token; zitadel turns it into the OAuth error of the endpoint.
var errNotFound = errors.New("oidcprovider: not found")

// storage is the in-memory op.Storage behind a Provider: just what the
// authorization code flow, the userinfo endpoint and the JWKS need. Refresh
// tokens, device flow, token exchange and JWT profile are not offered, so
// an RP that relies on them fails loudly instead of testing a fake.
//
// Its methods are called from the test server's goroutines and the test's
// own, so everything is behind mu.
type storage struct {
	mu           sync.Mutex
	pkceOptional bool
	clients      map[string]*client
	users        map[string]*User // by Subject
	logins       map[string]*User // by login name
	requests     map[string]*authRequest
	codes        map[string]string // code → request id
	tokens       map[string]*accessToken
	signing      *rsaKey
	published    []op.Key // the JWKS: the signing key first, then old or extra keys
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage() *storage {
	s := &storage{
		clients:  map[string]*client{},
		users:    map[string]*User{},
		logins:   map[string]*User{},
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		tokens:   map[string]*accessToken{},
	}
	s.rotate(true)
	return s
}

// rsaKey is an RS256 signing key; it serves both as op.SigningKey (the
// private half) and, through publicKey, as an entry of the JWKS.
type rsaKey struct {
	id  string
	key *rsa.PrivateKey
}

func newRSAKey() *rsaKey {
	// 2048 bits: the smallest size verifiers (go-jose, go-oidc) accept.
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("oidcprovider: generate RSA key: %v", err))
	}
	return &rsaKey{id: "rsa-" + randomID(), key: k}
}

func (k *rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *rsaKey) Key() any                                    { return k.key }
func (k *rsaKey) ID() string                                  { return k.id }

// publicKey is one entry of the JWKS.
type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.PublicKey
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }

// rotate makes a fresh key the signing key; the old ones stay in the JWKS
// unless dropOld, as a provider does while tokens signed by them live.
func (s *storage) rotate(dropOld bool) *rsaKey {
	k := newRSAKey() // outside any lock: it takes a while under -race
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signing = k
	pub := publicKey{id: k.id, alg: jose.RS256, key: &k.key.PublicKey}
	if dropOld {
		s.published = []op.Key{pub}
	} else {
		s.published = append([]op.Key{pub}, s.published...)
	}
	return k
}

func (s *storage) dropOldKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = s.published[:1]
}

// publish adds a key to the JWKS without signing with it.
func (s *storage) publish(k op.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, k)
}

func (s *storage) signingKey() *rsaKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signing
}

// client is a registered relying party.
type client struct {
	id           string
	secret       string // empty for a public client
	redirectURIs []string
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.id }
func (c *client) RedirectURIs() []string           { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return nil }
func (c *client) ApplicationType() op.ApplicationType {
	if c.secret == "" {
		// Native: zitadel's type for a public client that may use a
		// loopback http redirect URI.
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string    { return loginPath + "?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeBearer
}
func (c *client) IDTokenLifetime() time.Duration { return 5 * time.Minute }

// DevMode stays off: redirect URIs are checked as in production, and http
// is allowed only where zitadel allows it (a confidential client's code
// flow, a public client's loopback).
func (c *client) DevMode() bool { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts email and name in the ID token, as
// Google and Entra ID do, so that an RP needs no userinfo call for them.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// authRequest is one authorization request, from /authorize to the code
// exchange.
type authRequest struct {
	id        string
	clientID  string
	redirect  string
	state     string
	nonce     string
	scopes    []string
	challenge *oidc.CodeChallenge
	mode      oidc.ResponseMode
	subject   string // set by the login form
	authTime  time.Time
	done      bool
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string    { return a.id }
func (a *authRequest) GetACR() string   { return "" }
func (a *authRequest) GetAMR() []string { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string {
	return []string{a.clientID}
}
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirect }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return oidc.ResponseTypeCode }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.mode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

type accessToken struct {
	subject  string
	clientID string
	scopes   []string
	expires  time.Time
}

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pkceOptional && (r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256) {
		// Our RP always sends PKCE S256 (RFC 9700 2.1.1); a provider that
		// insists catches an RP that forgot it.
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required")
	}
	a := &authRequest{
		id:       randomID(),
		clientID: r.ClientID,
		redirect: r.RedirectURI,
		state:    r.State,
		nonce:    r.Nonce,
		scopes:   slices.Clone([]string(r.Scopes)),
		mode:     r.ResponseMode,
	}
	if r.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.requests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return nil, errNotFound
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[s.codes[code]]
	if !ok {
		return nil, errNotFound
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code is exchanged: the code and its
// request go, so a replayed code is refused.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// login marks request id as authenticated by the user with this login
// name and password; it answers nil and false for bad credentials.
func (s *storage) login(id, name, password string) (*authRequest, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return nil, false, errNotFound
	}
	u, ok := s.logins[name]
	if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return a, false, nil
	}
	a.subject = u.Subject
	a.authTime = time.Now()
	a.done = true
	return a, true, nil
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &accessToken{subject: r.GetSubject(), scopes: r.GetScopes(), expires: time.Now().Add(5 * time.Minute)}
	if a, ok := r.(*authRequest); ok {
		t.clientID = a.clientID
	}
	id := randomID()
	s.tokens[id] = t
	return id, t.expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("no refresh tokens here")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(_ context.Context, token, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return s.signingKey(), nil
}

// SignatureAlgorithms is what discovery advertises in
// id_token_signing_alg_values_supported: RS256 only, so that a token signed
// otherwise (NextIDTokenSignedWith) is one the RP must refuse.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.published), nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errNotFound
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || c.secret == "" || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return errors.New("oidcprovider: wrong client id or secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in zitadel; SetUserinfoFromRequest
// does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	return s.userinfo(ui, r.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errNotFound
	}
	return s.userinfo(ui, subject, t.scopes)
}

// userinfo fills ui with the user's claims that scopes ask for.
// email_verified goes in as an explicit claim because zitadel's struct
// field is omitempty: false would vanish, and an RP must be tested on
// "false" and on "absent" separately.
func (s *storage) userinfo(ui *oidc.UserInfo, subject string, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[subject]
	if !ok {
		return errNotFound
	}
	ui.Subject = u.Subject
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeEmail:
			if u.Email != "" {
				ui.Email = u.Email
				if !u.OmitEmailVerified {
					ui.AppendClaims("email_verified", u.EmailVerified)
				}
			}
		case oidc.ScopeProfile:
			ui.Name = u.Name
		}
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, ir *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return nil // inactive
	}
	ir.Active = true
	ir.Subject = subject
	ir.ClientID = t.clientID
	ir.Scope = t.scopes
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oidcprovider: JWT profile grant not supported")
}

func (s *storage) Health(context.Context) error { return nil }
