package oidc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// The end-to-end tests against a real OpenID Provider: zitadel's OpenID
// Certified library, started in the test by internal/oidcprovider. The RP
// runs behind an app's HTTP routes, driven by a Go client with a cookie
// jar as a browser would; the provider's login form is filled by
// Provider.Authorize.

const (
	zSecret   = "app-secret"
	zUser     = "ada@example.com"
	zPassword = "correct horse"
	zSubject  = "sub-ada"
)

// zApp is an app with two routes: /login calls rp.Begin, /callback calls
// rp.Finish and answers the identity as JSON (or the problem). It serves
// over TLS: the binding cookie is __Host-, which a jar sends only over
// https.
type zApp struct {
	srv *httptest.Server
	rp  *oidc.RP
	p   *oidcprovider.Provider

	mu   sync.Mutex
	last zResult
}

// zResult is what the last Finish returned.
type zResult struct {
	id   oidc.Identity
	next string
	err  error
}

// startZApp registers the app at p as clientID (confidential, with
// zSecret) and configures its RP with discovery of p's issuer. Flows'
// states are issued by tm.
func startZApp(t *testing.T, p *oidcprovider.Provider, tm *tokens.Manager, clientID string) *zApp {
	return startZAppWith(t, p, tm, clientID, zSecret, nil)
}

// startZAppWith is startZApp with a secret ("" registers a public
// client) and an edit of the RP's provider.
func startZAppWith(t *testing.T, p *oidcprovider.Provider, tm *tokens.Manager, clientID, secret string, edit func(*oidc.Provider)) *zApp {
	t.Helper()
	a := &zApp{p: p}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := a.rp.Begin(w, r, "test", r.FormValue("next")); err != nil {
			problem.Write(w, err)
		}
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		id, next, err := a.rp.Finish(w, r)
		a.mu.Lock()
		a.last = zResult{id, next, err}
		a.mu.Unlock()
		if err != nil {
			problem.Write(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": id.Subject, "next": next})
	})
	a.srv = httptest.NewTLSServer(mux)
	t.Cleanup(a.srv.Close)
	if secret == "" {
		p.AddPublicClient(clientID, a.srv.URL+"/callback")
	} else {
		p.AddClient(clientID, secret, a.srv.URL+"/callback")
	}
	op := oidc.Provider{Name: "test", Issuer: p.Issuer(), ClientID: clientID,
		ClientSecret: secret, RedirectURL: a.srv.URL + "/callback"}
	if edit != nil {
		edit(&op)
	}
	rp, err := oidc.New(oidc.Config{Tokens: tm,
		Providers:         []oidc.Provider{op},
		RedirectAllowlist: []string{"/dashboard"},
		HTTPClient:        p.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	a.rp = rp
	return a
}

// browser is a new client with a cookie jar of its own, trusting the
// app's certificate.
func (a *zApp) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *a.srv.Client()
	c.Jar = jar
	return &c
}

// begin opens the app's /login in c and answers the authorization URL the
// app redirected to.
func (a *zApp) begin(t *testing.T, c *http.Client, next string) string {
	t.Helper()
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Get(a.srv.URL + "/login?next=" + url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("/login: %d, want 303", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// authorize runs Begin in c and logs in at the provider; it answers the
// callback URL, not yet requested.
func (a *zApp) authorize(t *testing.T, c *http.Client) string {
	t.Helper()
	return a.p.Authorize(t, c, a.begin(t, c, ""), zUser, zPassword).String()
}

// finish requests the callback URL cb in c and answers what Finish
// returned, having checked that the HTTP answer agrees with it.
func (a *zApp) finish(t *testing.T, c *http.Client, cb string) zResult {
	t.Helper()
	resp, err := c.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Code string `json:"code"`
		Sub  string `json:"sub"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("callback answered %d, not JSON: %v", resp.StatusCode, err)
	}
	a.mu.Lock()
	res := a.last
	a.mu.Unlock()
	if res.err == nil && (resp.StatusCode != 200 || body.Sub != res.id.Subject) ||
		res.err != nil && (resp.StatusCode != problem.Of(res.err).Status || body.Code != problem.Of(res.err).Code) {
		t.Fatalf("callback answered %d %+v; Finish returned %+v", resp.StatusCode, body, res)
	}
	return res
}

// login runs a whole flow in a new browser.
func (a *zApp) login(t *testing.T) zResult {
	t.Helper()
	c := a.browser()
	return a.finish(t, c, a.authorize(t, c))
}

// refused checks a refusal: the code, no identity, and the state spent
// (the same callback again is invalid_state), as Finish's doc says of
// every state that opened a record.
func (a *zApp) refused(t *testing.T, c *http.Client, cb string, res zResult, code string) {
	t.Helper()
	wantCode(t, res.err, code)
	if res.id != (oidc.Identity{}) || res.next != "" {
		t.Fatalf("a refusal returned %+v, next %q", res.id, res.next)
	}
	if again := a.finish(t, c, cb); problem.Of(again.err).Code != "invalid_state" {
		t.Fatalf("the state was not spent by the refusal: again %v", again.err)
	}
}

func wantIdentity(t *testing.T, p *oidcprovider.Provider, res zResult, verified bool) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("login: %v", res.err)
	}
	want := oidc.Identity{Issuer: p.Issuer(), Subject: zSubject, Email: zUser, EmailVerified: verified,
		Name: "Ada Lovelace", Provider: "test"}
	if res.id != want {
		t.Fatalf("identity %+v, want %+v", res.id, want)
	}
}

func TestZitadel(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			t.Parallel()
			// States expire by the tokens' clock, a fake one (the
			// store's too, which takes every expiry decision from it);
			// ID tokens by the real one, the provider's.
			clock := fakeclock.New(time.Now())
			tm, err := tokens.New(tokens.Config{Store: sf.Open(t, clock.Now), Now: clock.Now,
				TagKey: bytes.Repeat([]byte{7}, 32)})
			if err != nil {
				t.Fatal(err)
			}
			p := oidcprovider.Start(t)
			p.AddUser(oidcprovider.User{Subject: zSubject, Email: zUser, EmailVerified: true,
				Password: zPassword, Name: "Ada Lovelace"})
			a := startZApp(t, p, tm, "app")
			zitadelFlows(t, a, p, tm, clock)
		})
	}
}

func zitadelFlows(t *testing.T, a *zApp, p *oidcprovider.Provider, tm *tokens.Manager, clock *fakeclock.Clock) {
	t.Run("HappyPath", func(t *testing.T) {
		c := a.browser()
		authURL := a.begin(t, c, "/dashboard")
		q := mustQuery(t, authURL)
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
			q.Get("nonce") == "" || q.Get("state") == "" || q.Get("response_type") != "code" {
			t.Fatalf("authorization URL %s", authURL)
		}
		res := a.finish(t, c, p.Authorize(t, c, authURL, zUser, zPassword).String())
		wantIdentity(t, p, res, true)
		if res.next != "/dashboard" {
			t.Fatalf("next %q, want /dashboard", res.next)
		}
	})
	t.Run("ProviderRequiresPKCE", func(t *testing.T) {
		// The same request without PKCE is refused by the provider
		// before its login form: PKCE is not decoration here.
		c := a.browser()
		u, _ := url.Parse(a.begin(t, c, ""))
		q := u.Query()
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		u.RawQuery = q.Encode()
		cb := p.Authorize(t, c, u.String(), zUser, zPassword)
		if e := cb.Query().Get("error"); e != "invalid_request" || cb.Query().Get("code") != "" {
			t.Fatalf("without PKCE the provider answered %s", cb)
		}
		a.refused(t, c, cb.String(), a.finish(t, c, cb.String()), "provider_error")
	})
	t.Run("KeyRotation", func(t *testing.T) {
		wantIdentity(t, p, a.login(t), true) // the current key is cached
		fetches := p.JWKSFetches()
		oldKid := p.KeyID()
		newKid := p.RotateKeys()
		if newKid == oldKid || p.KeyID() != newKid {
			t.Fatalf("rotation: %q then %q, signing with %q", oldKid, newKid, p.KeyID())
		}
		// Signed with the new kid, unknown to the cache: one refetch.
		wantIdentity(t, p, a.login(t), true)
		if got := p.JWKSFetches() - fetches; got != 1 {
			t.Fatalf("%d JWKS fetches for the new kid, want 1", got)
		}
		wantIdentity(t, p, a.login(t), true)
		p.DropOldKeys()
		wantIdentity(t, p, a.login(t), true)
		if got := p.JWKSFetches() - fetches; got != 1 {
			t.Fatalf("%d JWKS fetches for three logins after a rotation, want 1", got)
		}
	})
	t.Run("WrongState", func(t *testing.T) {
		c := a.browser()
		cb := a.authorize(t, c)
		for _, bad := range []string{"ghc_not-a-token", "x"} {
			res := a.finish(t, c, withParam(t, cb, "state", bad))
			wantCode(t, res.err, "invalid_state")
		}
		// A state of no record opened none: the flow's own still works.
		wantIdentity(t, p, a.finish(t, c, cb), true)
	})
	t.Run("StateOfAnotherFlow", func(t *testing.T) {
		// Flow 1's code with flow 2's state (both of this browser): the
		// PKCE verifier is derived from the state, so the provider
		// refuses the code; flow 2's state is spent.
		c := a.browser()
		cb1 := a.authorize(t, c)
		cb2 := a.authorize(t, c)
		mixed := withParam(t, cb1, "state", mustQuery(t, cb2).Get("state"))
		a.refused(t, c, mixed, a.finish(t, c, mixed), "code_rejected")
		if again := a.finish(t, c, cb2); problem.Of(again.err).Code != "invalid_state" {
			t.Fatalf("flow 2's state not spent: %v", again.err)
		}
	})
	t.Run("ReplayedState", func(t *testing.T) {
		c := a.browser()
		cb := a.authorize(t, c)
		wantIdentity(t, p, a.finish(t, c, cb), true)
		res := a.finish(t, c, cb)
		wantCode(t, res.err, "invalid_state")
		if res.id != (oidc.Identity{}) {
			t.Fatalf("replay returned %+v", res.id)
		}
	})
	t.Run("StateFromAnotherBrowser", func(t *testing.T) {
		victim, attacker := a.browser(), a.browser()
		a.begin(t, attacker, "") // the attacker has a binding cookie of its own
		cb := a.authorize(t, victim)
		// The callback URL opened in the attacker's browser is refused
		// and spends the state: the victim's own request fails after.
		a.refused(t, victim, cb, a.finish(t, attacker, cb), "invalid_state")
		// And a browser without any cookie.
		cb = a.authorize(t, victim)
		a.refused(t, victim, cb, a.finish(t, a.browser(), cb), "invalid_state")
	})
	t.Run("ExpiredState", func(t *testing.T) {
		c := a.browser()
		cb := a.authorize(t, c)
		clock.Advance(tm.TTL(store.KindChallenge) + time.Second)
		res := a.finish(t, c, cb)
		wantCode(t, res.err, "invalid_state")
		if res.id != (oidc.Identity{}) {
			t.Fatalf("expired state returned %+v", res.id)
		}
	})

	// The ID token's refusals: each knob leaves exactly one defect.
	for _, tc := range []struct {
		name  string
		fault func()
	}{
		{"WrongNonce", func() { p.NextIDToken(oidcprovider.WrongNonce) }},
		{"ExpiredIDToken", func() { p.NextIDToken(oidcprovider.Expired) }},
		{"WrongAudience", func() { p.NextIDToken(oidcprovider.WrongAudience) }},
		{"WrongIssuer", func() { p.NextIDToken(oidcprovider.WrongIssuer) }},
		{"AudienceAmongOthersWithoutAZP", func() {
			p.NextIDToken(oidcprovider.SetClaim("aud", []any{"app", "another-client"}), oidcprovider.SetClaim("azp", nil))
		}},
		{"AlgHS256", func() { p.NextIDTokenSignedWith("HS256") }},
		{"AlgES256NotAdvertised", func() { p.NextIDTokenSignedWith("ES256") }},
		{"AlgNone", func() { p.NextIDTokenSignedWith("none") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := a.browser()
			cb := a.authorize(t, c)
			tc.fault()
			a.refused(t, c, cb, a.finish(t, c, cb), "invalid_id_token")
		})
	}

	t.Run("MissingEmailVerified", func(t *testing.T) {
		p.NextIDToken(oidcprovider.WithoutEmailVerified)
		wantIdentity(t, p, a.login(t), false)
	})
	t.Run("IssuerParamMismatch", func(t *testing.T) {
		// RFC 9207: a callback naming another issuer (a mix-up).
		c := a.browser()
		cb := a.authorize(t, c)
		bad := withParam(t, cb, "iss", "https://other-issuer.invalid")
		a.refused(t, c, cb, a.finish(t, c, bad), "issuer_mismatch")
	})
	t.Run("UserInfo", func(t *testing.T) {
		ui := startZAppWith(t, p, tm, "userinfo-app", zSecret, func(op *oidc.Provider) { op.UserInfo = true })
		// The ID token without the email: userinfo gives it.
		p.NextIDToken(oidcprovider.SetClaim("email", nil), oidcprovider.SetClaim("email_verified", nil))
		wantIdentity(t, p, ui.login(t), true)
		// Userinfo of another subject (a token substitution).
		c := ui.browser()
		cb := ui.authorize(t, c)
		p.NextUserinfo(oidcprovider.SetClaim("sub", "sub-mallory"))
		ui.refused(t, c, cb, ui.finish(t, c, cb), "invalid_id_token")
	})
	t.Run("ProviderError", func(t *testing.T) {
		c := a.browser()
		cb := p.Deny(t, c, a.begin(t, c, ""))
		if cb.Query().Get("error") != "access_denied" {
			t.Fatalf("Deny answered %s", cb)
		}
		a.refused(t, c, cb.String(), a.finish(t, c, cb.String()), "provider_error")
	})
	t.Run("TokenResponseNotJSON", func(t *testing.T) {
		// A fresh RP, whose first exchange this is: x/oauth2's
		// auto-detection, caching a style only after one works, would
		// retry it with the credentials in the body, and the retry
		// would redeem the code.
		fresh := startZApp(t, p, tm, "fresh-app-token")
		c := fresh.browser()
		cb := fresh.authorize(t, c)
		p.NextTokenResponseNotJSON()
		calls := p.TokenRequests()
		res := fresh.finish(t, c, cb)
		if problem.Of(res.err).Status != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", problem.Of(res.err).Status)
		}
		fresh.refused(t, c, cb, res, "provider_unavailable")
		if got := p.TokenRequests() - calls; got != 1 {
			t.Fatalf("%d token requests for one exchange, want 1", got)
		}
		wantIdentity(t, p, fresh.login(t), true)
	})
	t.Run("PublicClient", func(t *testing.T) {
		// No secret: the client_id goes in the token request's body
		// (no Basic header with an empty password), PKCE alone binds
		// the code.
		pub := startZAppWith(t, p, tm, "public-app", "", nil)
		wantIdentity(t, p, pub.login(t), true)
	})
	t.Run("DiscoveryOfAnotherIssuer", func(t *testing.T) {
		// ASVS 5.0 10.5.3: metadata naming another issuer than the one
		// configured is refused, and no flow starts on it.
		fresh := startZApp(t, p, tm, "fresh-discovery")
		p.NextDiscovery(func(c oidcprovider.Claims) { c["issuer"] = "https://impostor.example" })
		c := fresh.browser()
		nc := *c
		nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := nc.Get(fresh.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Location") != "" {
			t.Fatalf("Begin on another issuer's metadata: %d to %q, want 502 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("JWKSGarbage", func(t *testing.T) {
		// A fresh RP, so that no key is cached.
		fresh := startZApp(t, p, tm, "fresh-app")
		c := fresh.browser()
		cb := fresh.authorize(t, c)
		p.BreakJWKS()
		res := fresh.finish(t, c, cb)
		p.FixJWKS()
		if problem.Of(res.err).Status != http.StatusBadGateway || !errors.Is(res.err, oidc.ErrProviderUnavailable) {
			t.Fatalf("JWKS garbage: %v", res.err)
		}
		fresh.refused(t, c, cb, res, "provider_unavailable")
		wantIdentity(t, p, fresh.login(t), true) // the JWKS fixed, a login works
	})
}
