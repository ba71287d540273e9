package oidcprovider

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Claims are an ID token's claims as JSON has them: numbers are
// json.Number, aud a string or a []any. An edit given to
// [Provider.NextIDToken] changes them in place.
type Claims map[string]any

// WrongAudience makes the token for another client.
func WrongAudience(c Claims) { c["aud"] = "some-other-client"; delete(c, "azp") }

// Expired puts exp an hour in the past (and iat two), well beyond any
// clock skew an RP allows.
func Expired(c Claims) {
	now := time.Now()
	c["iat"] = now.Add(-2 * time.Hour).Unix()
	c["exp"] = now.Add(-time.Hour).Unix()
}

// WrongNonce replaces the nonce the RP sent.
func WrongNonce(c Claims) { c["nonce"] = "not-the-nonce-" + randomID() }

// WrongIssuer makes another issuer the token's iss.
func WrongIssuer(c Claims) { c["iss"] = "https://other-issuer.invalid" }

// WithoutEmailVerified removes the email_verified claim.
func WithoutEmailVerified(c Claims) { delete(c, "email_verified") }

// SetClaim answers an edit that sets claim name to v (nil removes it).
func SetClaim(name string, v any) func(Claims) {
	return func(c Claims) {
		if v == nil {
			delete(c, name)
			return
		}
		c[name] = v
	}
}

// tokenFault changes one token response: either the ID token (edits, then
// signed with alg) or the whole response (raw).
type tokenFault struct {
	edits []func(Claims)
	alg   string
	ec    *ecdsa.PrivateKey // for ES256
	ecID  string
	raw   *rawResponse
}

type rawResponse struct {
	status      int
	contentType string
	body        string
}

// NextIDToken changes the ID token of the next successful token response:
// zitadel issues it, the edits change its claims, and it is signed again
// with the current key, so that the edit is the only thing wrong with it.
// Each call queues one change for one response.
func (p *Provider) NextIDToken(edits ...func(Claims)) {
	p.queue(tokenFault{edits: edits, alg: string(jose.RS256)})
}

// NextIDTokenSignedWith is [Provider.NextIDToken] with the token signed
// with an algorithm discovery does not advertise (it advertises RS256
// only):
//
//   - "HS256": an HMAC keyed with the client's secret, the classic
//     algorithm-confusion token; for a public client, the key is empty.
//   - "ES256": a fresh P-256 key that is published in the JWKS, so that
//     the algorithm is the only reason to refuse it.
//   - "none": an unsigned token (empty signature).
//
// "RS256" signs with the current key, like NextIDToken. Any other alg
// panics.
func (p *Provider) NextIDTokenSignedWith(alg string, edits ...func(Claims)) {
	f := tokenFault{edits: edits, alg: alg}
	switch alg {
	case "RS256", "HS256", "none":
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		f.ec, f.ecID = k, "ec-"+randomID()
		p.store.publish(publicKey{id: f.ecID, alg: jose.ES256, key: &k.PublicKey})
	default:
		panic(fmt.Sprintf("oidcprovider: NextIDTokenSignedWith(%q): want RS256, HS256, ES256 or none", alg))
	}
	p.queue(f)
}

// NextTokenResponse makes the token endpoint answer its next request with
// this status, Content-Type and body instead (zitadel does not see the
// request, so the code stays unused).
func (p *Provider) NextTokenResponse(status int, contentType, body string) {
	p.queue(tokenFault{raw: &rawResponse{status: status, contentType: contentType, body: body}})
}

// NextTokenResponseNotJSON makes the next token response an HTML error
// page with status 200, as a misconfigured proxy in front of a provider
// answers.
func (p *Provider) NextTokenResponseNotJSON() {
	p.NextTokenResponse(http.StatusOK, "text/html; charset=utf-8", "<html><body>Service temporarily unavailable</body></html>")
}

func (p *Provider) queue(f tokenFault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenFaults = append(p.tokenFaults, f)
}

// NextUserinfo changes the next successful userinfo response's claims,
// for instance SetClaim("sub", "someone-else"): an RP must check that
// userinfo speaks of the ID token's subject.
func (p *Provider) NextUserinfo(edits ...func(Claims)) {
	p.queueJSON(p.op.UserinfoEndpoint().Relative(), edits)
}

// NextDiscovery changes the next discovery document, for instance
// SetClaim("issuer", "https://other.invalid"): an RP must refuse a
// document whose issuer is not the one it asked (a mix-up defence).
func (p *Provider) NextDiscovery(edits ...func(Claims)) {
	p.queueJSON(discoveryPath, edits)
}

// discoveryPath is where discovery is served, under the issuer.
const discoveryPath = "/.well-known/openid-configuration"

func (p *Provider) queueJSON(path string, edits []func(Claims)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.jsonFaults == nil {
		p.jsonFaults = map[string][]func(Claims){}
	}
	p.jsonFaults[path] = append(p.jsonFaults[path], func(c Claims) {
		for _, e := range edits {
			e(c)
		}
	})
}

// garbageJWKS is what a broken JWKS endpoint answers: claims to be JSON,
// does not parse.
const garbageJWKS = `{"keys": [{"kty": "RSA", "kid": "x", "n": ` + "\x00\xff" + `garbage`

// BreakJWKS makes the JWKS endpoint answer a body that says it is JSON and
// does not parse, until [Provider.FixJWKS].
func (p *Provider) BreakJWKS() { p.setJWKSBroken(true) }

// FixJWKS makes the JWKS endpoint answer the key set again.
func (p *Provider) FixJWKS() { p.setJWKSBroken(false) }

func (p *Provider) setJWKSBroken(b bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jwksBroken = b
}

// faults wraps zitadel's handler with the knobs: they change responses
// after zitadel made them, so zitadel's own validation of the requests
// still runs for every flow.
func (p *Provider) faults(next http.Handler) http.Handler {
	tokenPath := p.op.TokenEndpoint().Relative()
	keysPath := p.op.KeysEndpoint().Relative()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case keysPath:
			p.mu.Lock()
			p.jwksFetches++
			broken := p.jwksBroken
			p.mu.Unlock()
			if broken {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(garbageJWKS))
				return
			}
		case discoveryPath, p.op.UserinfoEndpoint().Relative():
			p.mu.Lock()
			pending := len(p.jsonFaults[r.URL.Path]) > 0
			p.mu.Unlock()
			if pending {
				p.rewriteJSON(w, r, next)
				return
			}
		case tokenPath:
			p.mu.Lock()
			p.tokenCalls++
			var head *tokenFault
			if len(p.tokenFaults) > 0 {
				head = &p.tokenFaults[0]
			}
			if head != nil && head.raw != nil {
				raw := head.raw
				p.tokenFaults = p.tokenFaults[1:]
				p.mu.Unlock()
				w.Header().Set("Content-Type", raw.contentType)
				w.WriteHeader(raw.status)
				_, _ = w.Write([]byte(raw.body))
				return
			}
			p.mu.Unlock()
			if head != nil {
				p.rewriteToken(w, r, next)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rewriteToken lets zitadel answer the token request and, when it issued
// an ID token, applies the first queued fault to it. A failed exchange
// leaves the fault queued for the next one.
func (p *Provider) rewriteToken(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var resp map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	idToken := ""
	if rec.Code == http.StatusOK && dec.Decode(&resp) == nil {
		idToken, _ = resp["id_token"].(string)
	}
	var f tokenFault
	if idToken != "" {
		p.mu.Lock()
		if len(p.tokenFaults) > 0 && p.tokenFaults[0].raw == nil {
			f = p.tokenFaults[0]
			p.tokenFaults = p.tokenFaults[1:]
		}
		p.mu.Unlock()
	}
	if f.alg != "" {
		signed, err := p.resign(idToken, f)
		if err != nil {
			http.Error(w, "oidcprovider: "+err.Error(), http.StatusInternalServerError)
			return
		}
		resp["id_token"] = signed
		body, _ = json.Marshal(resp)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// rewriteJSON lets zitadel answer and applies the first queued edit for
// the path to a successful JSON answer; otherwise the edit stays queued.
func (p *Provider) rewriteJSON(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if rec.Code == http.StatusOK && dec.Decode(&c) == nil {
		p.mu.Lock()
		var edit func(Claims)
		if q := p.jsonFaults[r.URL.Path]; len(q) > 0 {
			edit, p.jsonFaults[r.URL.Path] = q[0], q[1:]
		}
		p.mu.Unlock()
		if edit != nil {
			edit(c)
			body, _ = json.Marshal(c)
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// resign applies f to the claims of idToken (zitadel's, RS256) and signs
// the result as f says.
func (p *Provider) resign(idToken string, f tokenFault) (string, error) {
	tok, err := jose.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "", fmt.Errorf("parse zitadel's id_token: %w", err)
	}
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(tok.UnsafePayloadWithoutVerification()))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return "", fmt.Errorf("parse zitadel's id_token claims: %w", err)
	}
	clientID := firstAudience(c["aud"])
	for _, edit := range f.edits {
		edit(c)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	switch f.alg {
	case "HS256":
		p.store.mu.Lock()
		var secret string
		if cl, ok := p.store.clients[clientID]; ok {
			secret = cl.secret
		}
		p.store.mu.Unlock()
		// By hand: go-jose refuses an HMAC key shorter than the hash, and
		// a test client's secret may well be.
		signingInput := b64(`{"alg":"HS256","typ":"JWT"}`) + "." + b64(string(payload))
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(signingInput))
		return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
	case "none":
		return b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(string(payload)) + ".", nil
	case "ES256":
		return sign(jose.ES256, f.ec, f.ecID, payload)
	default:
		k := p.store.signingKey()
		return sign(jose.RS256, k.key, k.id, payload)
	}
}

func sign(alg jose.SignatureAlgorithm, key any, kid string, payload []byte) (string, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func firstAudience(aud any) string {
	switch a := aud.(type) {
	case string:
		return a
	case []any:
		if len(a) > 0 {
			s, _ := a[0].(string)
			return s
		}
	}
	return ""
}
