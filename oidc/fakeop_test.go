package oidc_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeOP is a small OpenID Provider for the refusals an end-to-end
// provider cannot be made to commit: discovery, JWKS and token endpoints,
// ID tokens signed with go-jose (RS256 and ES256 keys), and knobs to
// break each of them.
type fakeOP struct {
	t   testing.TB
	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	keys     []opKey // the JWKS, first one signs
	algs     []string
	codes    map[string]authz // code -> the authorization it was given for
	claims   func(c map[string]any)
	sign     *opKey // signs instead of keys[0]
	token    func(w http.ResponseWriter) bool
	jwks     func(w http.ResponseWriter) bool
	userinfo map[string]any
	down     bool
	// authMethods, if set, is discovery's
	// token_endpoint_auth_methods_supported; tokenAuth records how each
	// token request authenticated ("basic" or "post").
	authMethods []string
	tokenAuth   []string

	jwksFetches atomic.Int32
}

type opKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

type authz struct {
	clientID, nonce, challenge, redirect string
}

const (
	clientID     = "gatehouse-app"
	clientSecret = "s3cret"
	subject      = "user-248289761001"
)

func newRSAKey(t testing.TB, kid string) opKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return opKey{kid: kid, alg: jose.RS256, priv: k}
}

func newECKey(t testing.TB, kid string) opKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return opKey{kid: kid, alg: jose.ES256, priv: k}
}

// rsaKey is made once: 2048-bit RSA keys take a while.
var rsaKey = sync.OnceValue(func() opKey { return newRSAKey(nil, "rsa-1") })

func newFakeOP(t testing.TB, now func() time.Time) *fakeOP {
	op := &fakeOP{t: t, now: now, keys: []opKey{rsaKey()}, algs: []string{"RS256", "ES256"}, codes: map[string]authz{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.serveJWKS)
	mux.HandleFunc("POST /token", op.serveToken)
	mux.HandleFunc("GET /userinfo", op.serveUserinfo)
	// The user approves at once: a browser following redirects goes
	// straight back to the app's callback.
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, op.authorize(op.srv.URL+r.URL.RequestURI()), http.StatusFound)
	})
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) issuer() string { return op.srv.URL }

func (op *fakeOP) discovery(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	meta := map[string]any{
		"issuer":                                op.srv.URL,
		"authorization_endpoint":                op.srv.URL + "/authorize",
		"token_endpoint":                        op.srv.URL + "/token",
		"jwks_uri":                              op.srv.URL + "/jwks",
		"userinfo_endpoint":                     op.srv.URL + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": op.algs,
		"code_challenge_methods_supported":      []string{"S256"},
	}
	if op.authMethods != nil {
		meta["token_endpoint_auth_methods_supported"] = op.authMethods
	}
	writeJSON(w, meta)
}

func (op *fakeOP) serveJWKS(w http.ResponseWriter, r *http.Request) {
	op.jwksFetches.Add(1)
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.jwks != nil && op.jwks(w) {
		return
	}
	var set jose.JSONWebKeySet
	for _, k := range op.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	writeJSON(w, set)
}

// authorize plays the user logging in at the provider: it reads the
// authorization URL Begin redirected to and returns the callback URL the
// provider would send the browser to.
func (op *fakeOP) authorize(location string) string {
	op.t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		op.t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		op.t.Fatalf("authorization URL without PKCE S256: %s", location)
	}
	if q.Get("response_type") != "code" || q.Get("client_id") != clientID {
		op.t.Fatalf("authorization URL: %s", location)
	}
	code := rand.Text()
	op.mu.Lock()
	op.codes[code] = authz{clientID: q.Get("client_id"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	op.mu.Unlock()
	cb, _ := url.Parse(q.Get("redirect_uri"))
	cq := cb.Query()
	cq.Set("code", code)
	cq.Set("state", q.Get("state"))
	cb.RawQuery = cq.Encode()
	return cb.String()
}

func (op *fakeOP) serveToken(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if _, _, basic := r.BasicAuth(); basic {
		op.tokenAuth = append(op.tokenAuth, "basic")
	} else {
		op.tokenAuth = append(op.tokenAuth, "post")
	}
	if op.token != nil && op.token(w) {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	a, found := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case id != clientID || secret != clientSecret:
		writeJSONStatus(w, 401, map[string]string{"error": "invalid_client"})
		return
	case !found || a.redirect != r.PostForm.Get("redirect_uri") ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != a.challenge:
		writeJSONStatus(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	now := op.now()
	c := map[string]any{
		"iss": op.srv.URL, "sub": subject, "aud": clientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"nonce": a.nonce, "email": "ada@example.com", "email_verified": true, "name": "Ada",
	}
	if op.claims != nil {
		op.claims(c)
	}
	key := op.keys[0]
	if op.sign != nil {
		key = *op.sign
	}
	writeJSON(w, map[string]any{"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 3600,
		"id_token": op.signJWT(key, c)})
}

func (op *fakeOP) signJWT(k opKey, claims map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		op.t.Error(err)
		return ""
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		op.t.Error(err)
		return ""
	}
	out, _ := jws.CompactSerialize()
	return out
}

func (op *fakeOP) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if r.Header.Get("Authorization") == "" {
		w.WriteHeader(401)
		return
	}
	ui := op.userinfo
	if ui == nil {
		ui = map[string]any{"sub": subject, "email": "ada@example.com", "email_verified": true, "name": "Ada"}
	}
	writeJSON(w, ui)
}

// set changes the provider under its lock.
func (op *fakeOP) set(f func(op *fakeOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func writeJSON(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
