package oidcprovider_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
)

func TestDiscovery(t *testing.T) {
	p, r := start(t)
	d := r.disc
	if d.Issuer != p.Issuer() {
		t.Errorf("issuer = %q, want %q", d.Issuer, p.Issuer())
	}
	for name, u := range map[string]string{"authorization": d.AuthEndpoint, "token": d.TokenEndpoint, "userinfo": d.UserinfoURL, "jwks": d.JWKSURI} {
		if !strings.HasPrefix(u, p.Issuer()+"/") {
			t.Errorf("%s endpoint %q is not under the issuer", name, u)
		}
	}
	if !slices.Equal(d.IDTokenAlgs, []string{"RS256"}) {
		t.Errorf("id_token_signing_alg_values_supported = %v, want [RS256] only", d.IDTokenAlgs)
	}
	if !slices.Contains(d.PKCEMethods, "S256") {
		t.Errorf("code_challenge_methods_supported = %v, want S256", d.PKCEMethods)
	}
	for _, m := range []string{"client_secret_basic", "client_secret_post"} {
		if !slices.Contains(d.TokenAuthMethod, m) {
			t.Errorf("token_endpoint_auth_methods_supported = %v, want %s", d.TokenAuthMethod, m)
		}
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	p, r := start(t)
	tok, idt, nonce := r.flow()
	v := r.verify(idt)
	if v.err != nil {
		t.Fatalf("id_token does not verify against the JWKS: %v", v.err)
	}
	if v.alg != "RS256" || v.kid != p.KeyID() {
		t.Errorf("signed with %s/%s, want RS256/%s", v.alg, v.kid, p.KeyID())
	}
	want := map[string]any{
		"iss": p.Issuer(), "sub": "sub-alice", "nonce": nonce,
		"email": "alice@example.com", "email_verified": true, "name": "Alice",
	}
	for k, w := range want {
		if v.claims[k] != w {
			t.Errorf("claim %s = %v, want %v", k, v.claims[k], w)
		}
	}
	if aud := v.claims["aud"]; aud != clientID && !(isList(aud) && aud.([]any)[0] == clientID) {
		t.Errorf("aud = %v, want %s", aud, clientID)
	}
	if exp, _ := v.claims["exp"].(float64); time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("exp = %v: already past", v.claims["exp"])
	}

	// The userinfo endpoint answers the access token.
	var ui map[string]any
	c := r.cfg.Client(r.ctx(), tok)
	getJSON(t, c, r.disc.UserinfoURL, &ui)
	if ui["sub"] != "sub-alice" || ui["email"] != "alice@example.com" {
		t.Errorf("userinfo = %v", ui)
	}
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// PKCE is really checked: the code needs the verifier of its challenge,
// and an authorization request without a challenge is refused.
func TestPKCE(t *testing.T) {
	t.Run("wrong verifier", func(t *testing.T) {
		_, r := start(t)
		code, _, _ := r.login("alice@example.com", "correct horse")
		if _, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("exchange with another verifier succeeded")
		}
	})
	t.Run("no challenge", func(t *testing.T) {
		p, r := start(t)
		cb := p.Authorize(t, r.client, r.cfg.AuthCodeURL("st"), "alice@example.com", "correct horse")
		if cb.Query().Get("error") != "invalid_request" || cb.Query().Get("state") != "st" {
			t.Errorf("callback %s, want error=invalid_request with the state", cb)
		}
	})
	t.Run("optional", func(t *testing.T) {
		p, r := start(t, oidcprovider.WithPKCEOptional())
		cb := p.Authorize(t, r.client, r.cfg.AuthCodeURL("st"), "alice@example.com", "correct horse")
		if cb.Query().Get("code") == "" {
			t.Errorf("callback %s, want a code", cb)
		}
	})
}

func TestCodeReplayRefused(t *testing.T) {
	_, r := start(t)
	code, verifier, _ := r.login("alice@example.com", "correct horse")
	if _, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("the same code was exchanged twice")
	}
}

func TestPublicClient(t *testing.T) {
	p, r := start(t)
	p.AddPublicClient("spa", "http://127.0.0.1:2/cb")
	r.cfg.ClientID, r.cfg.ClientSecret, r.cfg.RedirectURL = "spa", "", "http://127.0.0.1:2/cb"
	r.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	cb := p.Authorize(t, r.client, r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "alice@example.com", "correct horse")
	if _, err := r.cfg.Exchange(r.ctx(), cb.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("public client exchange: %v (callback %s)", err, cb)
	}
}

func TestLoginForm(t *testing.T) {
	p, r := start(t)
	// Reach the form as a browser would, then answer it by hand.
	u := r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, err := r.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("id")
	for _, want := range []string{`id="username"`, `id="password"`, `id="login"`, `id="deny"`, `value="` + id + `"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("login page lacks %s:\n%s", want, body)
		}
	}
	noFollow := *r.client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := func(v url.Values) *http.Response {
		v.Set("id", id)
		resp, err := noFollow.PostForm(p.Issuer()+"/login", v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(url.Values{"username": {"alice@example.com"}, "password": {"wrong"}, "action": {"login"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", resp.StatusCode)
	}
	resp = post(url.Values{"action": {"deny"}})
	loc, _ := resp.Location()
	if loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st" {
		t.Errorf("deny: %d %v, want a redirect with error=access_denied and the state", resp.StatusCode, loc)
	}
}

func TestUsersEmailVerified(t *testing.T) {
	for _, tc := range []struct {
		name string
		user oidcprovider.User
		want any // nil: absent
	}{
		{"verified", oidcprovider.User{EmailVerified: true}, true},
		{"unverified is false, not absent", oidcprovider.User{}, false},
		{"omitted", oidcprovider.User{EmailVerified: true, OmitEmailVerified: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := start(t)
			u := tc.user
			u.Subject, u.Username, u.Email, u.Password = "sub-bob", "bob", "bob@example.com", "pw"
			r.p.AddUser(u)
			code, verifier, _ := r.login("bob", "pw")
			tok, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			v := r.verify(tok.Extra("id_token").(string))
			got, present := v.claims["email_verified"]
			if tc.want == nil && present || tc.want != nil && got != tc.want {
				t.Errorf("email_verified = %v (present %v), want %v", got, present, tc.want)
			}
		})
	}
}

// Each ID token knob leaves its one defect, and the token still verifies
// against the JWKS, so an RP's refusal can only be for that defect.
func TestNextIDToken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(oidcprovider.Claims)
		check func(t *testing.T, c map[string]any, nonce string)
	}{
		{"wrong audience", oidcprovider.WrongAudience, func(t *testing.T, c map[string]any, _ string) {
			if c["aud"] == clientID || isList(c["aud"]) && slices.Contains(c["aud"].([]any), any(clientID)) {
				t.Errorf("aud = %v still names the client", c["aud"])
			}
		}},
		{"expired", oidcprovider.Expired, func(t *testing.T, c map[string]any, _ string) {
			if exp := int64(c["exp"].(float64)); exp > time.Now().Add(-30*time.Minute).Unix() {
				t.Errorf("exp = %d, not well in the past", exp)
			}
		}},
		{"wrong nonce", oidcprovider.WrongNonce, func(t *testing.T, c map[string]any, nonce string) {
			if c["nonce"] == nonce || c["nonce"] == "" {
				t.Errorf("nonce = %v, want another", c["nonce"])
			}
		}},
		{"wrong issuer", oidcprovider.WrongIssuer, func(t *testing.T, c map[string]any, _ string) {
			if c["iss"] != "https://other-issuer.invalid" {
				t.Errorf("iss = %v", c["iss"])
			}
		}},
		{"no email_verified", oidcprovider.WithoutEmailVerified, func(t *testing.T, c map[string]any, _ string) {
			if _, ok := c["email_verified"]; ok || c["email"] == nil {
				t.Errorf("claims %v: want email without email_verified", c)
			}
		}},
		{"set claim", oidcprovider.SetClaim("email", "mallory@example.com"), func(t *testing.T, c map[string]any, _ string) {
			if c["email"] != "mallory@example.com" {
				t.Errorf("email = %v", c["email"])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, r := start(t)
			p.NextIDToken(tc.edit)
			_, idt, nonce := r.flow()
			v := r.verify(idt)
			if v.err != nil || v.alg != "RS256" || v.kid != p.KeyID() {
				t.Fatalf("edited token: %s/%s, verify: %v; want RS256 by the current key, valid", v.alg, v.kid, v.err)
			}
			tc.check(t, v.claims, nonce)
			if v.claims["sub"] != "sub-alice" {
				t.Errorf("sub = %v: the edit touched more than it says", v.claims["sub"])
			}
			// One response only: the next token is clean again.
			_, idt, nonce = r.flow()
			if c := r.verify(idt).claims; c["nonce"] != nonce || c["email_verified"] != true || c["iss"] != p.Issuer() || c["email"] != "alice@example.com" {
				t.Errorf("the knob outlived its token: %v", c)
			}
		})
	}
}

func TestNextIDTokenSignedWith(t *testing.T) {
	t.Run("HS256 with the client secret", func(t *testing.T) {
		p, r := start(t)
		p.NextIDTokenSignedWith("HS256")
		_, idt, _ := r.flow()
		v := r.verify(idt)
		if v.alg != "HS256" || !errors.Is(v.err, errNoKey) {
			t.Fatalf("alg %s, verify %v", v.alg, v.err)
		}
		i := strings.LastIndex(idt, ".")
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(idt[:i]))
		if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != idt[i+1:] {
			t.Error("HS256 signature is not an HMAC with the client secret")
		}
	})
	t.Run("ES256 with a published key", func(t *testing.T) {
		p, r := start(t)
		p.NextIDTokenSignedWith("ES256")
		_, idt, _ := r.flow()
		v := r.verify(idt)
		if v.alg != "ES256" || v.err != nil {
			t.Fatalf("alg %s, verify %v; want ES256 that verifies against the JWKS", v.alg, v.err)
		}
		var d discovery
		getJSON(t, r.client, p.Issuer()+"/.well-known/openid-configuration", &d)
		if slices.Contains(d.IDTokenAlgs, "ES256") {
			t.Errorf("discovery advertises %v: ES256 must not be there", d.IDTokenAlgs)
		}
	})
	t.Run("none", func(t *testing.T) {
		p, r := start(t)
		p.NextIDTokenSignedWith("none", oidcprovider.WrongNonce)
		_, idt, nonce := r.flow()
		v := r.verify(idt)
		if v.alg != "none" || !strings.HasSuffix(idt, ".") || v.claims["sub"] != "sub-alice" || v.claims["nonce"] == nonce {
			t.Errorf("alg %s, token %s, claims %v", v.alg, idt, v.claims)
		}
	})
}

func TestRotateKeys(t *testing.T) {
	p, r := start(t)
	_, before, _ := r.flow()
	oldKID := p.KeyID()
	newKID := p.RotateKeys()
	if newKID == oldKID || p.KeyID() != newKID {
		t.Fatalf("RotateKeys: %s → %s, KeyID %s", oldKID, newKID, p.KeyID())
	}
	_, after, _ := r.flow()
	if v := r.verify(after); v.kid != newKID || v.err != nil {
		t.Errorf("after rotation: kid %s, verify %v; want %s, valid", v.kid, v.err, newKID)
	}
	if v := r.verify(before); v.err != nil {
		t.Errorf("old key left the JWKS at rotation: %v", v.err)
	}
	p.DropOldKeys()
	if v := r.verify(before); !errors.Is(v.err, errNoKey) {
		t.Errorf("after DropOldKeys, the old token: %v; want its kid gone", v.err)
	}
	if v := r.verify(after); v.err != nil {
		t.Errorf("after DropOldKeys, the current token: %v", v.err)
	}
}

func TestTokenResponseNotJSON(t *testing.T) {
	p, r := start(t)
	p.NextTokenResponseNotJSON()
	code, verifier, _ := r.login("alice@example.com", "correct horse")
	req, _ := http.NewRequest(http.MethodPost, r.disc.TokenEndpoint, strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {callback},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.HasPrefix(string(body), "<html>") {
		t.Errorf("token response %s %q, want HTML", ct, body)
	}
	// The fault took one response: the next exchange (the code unused) works.
	if _, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Errorf("exchange after the fault: %v", err)
	}
	if n := p.TokenRequests(); n != 2 {
		t.Errorf("TokenRequests = %d, want 2", n)
	}
}

func TestNextTokenResponse(t *testing.T) {
	p, r := start(t)
	p.NextTokenResponse(http.StatusBadGateway, "application/json", `{"error":"temporarily_unavailable"}`)
	code, verifier, _ := r.login("alice@example.com", "correct horse")
	_, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadGateway {
		t.Fatalf("exchange: %v, want a 502 RetrieveError", err)
	}
}

func TestBreakJWKS(t *testing.T) {
	p, r := start(t)
	get := func() (string, string) {
		resp, err := r.client.Get(r.disc.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Content-Type"), string(b)
	}
	p.BreakJWKS()
	ct, body := get()
	var v any
	if !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(body), &v) == nil {
		t.Errorf("broken JWKS: %s %q, want JSON that does not parse", ct, body)
	}
	p.FixJWKS()
	if _, body := get(); json.Unmarshal([]byte(body), &v) != nil {
		t.Errorf("fixed JWKS does not parse: %q", body)
	}
	if n := p.JWKSFetches(); n != 2 {
		t.Errorf("JWKSFetches = %d, want 2", n)
	}
}

func TestTLS(t *testing.T) {
	p, r := start(t, oidcprovider.WithTLS())
	if !strings.HasPrefix(p.Issuer(), "https://127.0.0.1:") {
		t.Fatalf("issuer %s", p.Issuer())
	}
	if _, idt, _ := r.flow(); r.verify(idt).err != nil {
		t.Error("id_token over TLS does not verify")
	}
}

// gatehouse's tests serve the RP on httptest.NewTLSServer: an https
// loopback redirect URI must be accepted for a confidential client.
func TestHTTPSLoopbackRedirect(t *testing.T) {
	p, r := start(t)
	p.AddClient("tls-rp", secret, "https://127.0.0.1:3/cb")
	r.cfg.ClientID, r.cfg.RedirectURL = "tls-rp", "https://127.0.0.1:3/cb"
	cb := p.Authorize(t, r.client, r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice@example.com", "correct horse")
	if cb.Host != "127.0.0.1:3" || cb.Query().Get("code") == "" {
		t.Errorf("callback %s, want a code at the https RP", cb)
	}
	// An unregistered redirect URI is refused at the provider, not sent to.
	resp, err := r.client.Get(strings.Replace(r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "127.0.0.1%3A3", "127.0.0.1%3A4", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Request.URL.Host == "127.0.0.1:4" {
		t.Errorf("unregistered redirect URI: %d at %s, want 400 at the provider", resp.StatusCode, resp.Request.URL)
	}
}

func TestDeny(t *testing.T) {
	p, r := start(t)
	cb := p.Deny(t, r.client, r.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if q := cb.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st" || q.Get("code") != "" {
		t.Errorf("callback %s, want error=access_denied with the state and no code", cb)
	}
}

// RP tests may run flows in parallel against one provider, some rotating
// keys; under -race this finds unguarded state. The goroutines only
// exchange; the test's goroutine verifies (t.Fatal belongs to it).
func TestConcurrentFlows(t *testing.T) {
	p, r := start(t)
	type result struct{ idToken, err string }
	done := make(chan result, 8)
	for i := range 8 {
		go func() {
			if i%4 == 0 {
				p.RotateKeys()
			}
			code, verifier, _ := r.loginFrom(i)
			tok, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier))
			if err != nil {
				done <- result{err: err.Error()}
				return
			}
			idt, _ := tok.Extra("id_token").(string)
			done <- result{idToken: idt}
		}()
	}
	for range 8 {
		res := <-done
		if res.err != "" {
			t.Error(res.err)
			continue
		}
		// Rotation keeps old keys published, so every token verifies.
		if v := r.verify(res.idToken); v.err != nil {
			t.Errorf("kid %s: %v", v.kid, v.err)
		}
	}
}

func TestNextUserinfoAndDiscovery(t *testing.T) {
	p, r := start(t)
	p.NextDiscovery(oidcprovider.SetClaim("issuer", "https://other.invalid"))
	var d discovery
	getJSON(t, r.client, p.Issuer()+"/.well-known/openid-configuration", &d)
	if d.Issuer != "https://other.invalid" || d.TokenEndpoint != r.disc.TokenEndpoint {
		t.Errorf("edited discovery: issuer %q, token endpoint %q", d.Issuer, d.TokenEndpoint)
	}
	getJSON(t, r.client, p.Issuer()+"/.well-known/openid-configuration", &d)
	if d.Issuer != p.Issuer() {
		t.Errorf("the discovery edit outlived its response: issuer %q", d.Issuer)
	}

	tok, _, _ := r.flow()
	p.NextUserinfo(oidcprovider.SetClaim("sub", "someone-else"))
	c := r.cfg.Client(r.ctx(), tok)
	for _, want := range []string{"someone-else", "sub-alice"} {
		var ui map[string]any
		getJSON(t, c, r.disc.UserinfoURL, &ui)
		if ui["sub"] != want || ui["email"] != "alice@example.com" {
			t.Errorf("userinfo %v, want sub %s", ui, want)
		}
	}
}
