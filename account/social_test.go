package account_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/oidc"
)

// Social login end to end: the account API and pages on a TLS server
// (the flow's, the link intent's and the pending cookies are __Host-,
// Secure), the zitadel-based provider on loopback, a Go client with a
// cookie jar that stops at each redirect.

const opPassword = "provider password"

type social struct {
	h   *harness
	op  *oidcprovider.Provider
	srv *httptest.Server
	ids *account.MemoryIdentities
	log *syncBuffer    // the account's audit log, as JSON lines
	cfg account.Config // the account's Config as New got it
}

// syncBuffer is a bytes.Buffer for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// audited fails t unless the audit log has a line with every one of want.
func (s *social) audited(t *testing.T, want ...string) {
	t.Helper()
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	for _, line := range strings.Split(s.log.b.String(), "\n") {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return
		}
	}
	t.Errorf("no audit line with %q in:\n%s", want, s.log.b.String())
}

func newSocial(t *testing.T, st teststores.Store, withMFA bool) *social {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return newSocialOn(t, st, withMFA, srv, mux)
}

// newSocialOn is newSocial on a started server whose handler is mux, with
// mods applied to the account's Config.
func newSocialOn(t *testing.T, st teststores.Store, withMFA bool, srv *httptest.Server, mux *http.ServeMux, mods ...harnessConfig) *social {
	t.Helper()
	s := &social{op: oidcprovider.Start(t), ids: account.NewMemoryIdentities(), srv: srv, log: new(syncBuffer)}
	s.op.AddClient("app", "app-secret", s.srv.URL+"/account/login/oidc/callback")
	mod := func(cfg *account.Config) {
		logger := slog.New(slog.NewJSONHandler(s.log, nil))
		rp, err := oidc.New(oidc.Config{Tokens: cfg.Tokens, Limiter: cfg.Auth.Limiter(), HTTPClient: s.op.HTTPClient(), Logger: logger,
			RedirectAllowlist: []string{"/welcome"},
			Providers: []oidc.Provider{{Name: "test", Issuer: s.op.Issuer(), ClientID: "app", ClientSecret: "app-secret",
				RedirectURL: s.srv.URL + "/account/login/oidc/callback"}}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.OIDC, cfg.Identities = rp, s.ids
		cfg.Logger = logger
		s.cfg = *cfg
	}
	mods = append(mods, mod)
	if withMFA {
		s.h = newMFAHarness(t, st.Open, mods...)
	} else {
		s.h = newHarness(t, st.Open, mods...)
	}
	s.h.realTime()
	mux.Handle("/account/", http.StripPrefix("/account", s.h.acct.API()))
	mux.Handle(pagesPath+"/", http.StripPrefix(pagesPath, s.h.acct.Pages()))
	return s
}

// browser is a cookie jar that stops at each redirect.
type browser struct {
	t    *testing.T
	s    *social
	http *http.Client
}

func (s *social) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	c := *s.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, s: s, http: &c}
}

type answer struct {
	status   int
	location string
	body     string
}

func (a answer) code() string {
	var p struct{ Code string }
	_ = json.Unmarshal([]byte(a.body), &p)
	return p.Code
}

// do sends a request to the app (path under the server's root).
func (b *browser) do(method, path string, form url.Values, hdr ...string) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.s.srv.URL + path
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, location: res.Header.Get("Location"), body: string(raw)}
}

// viaProvider sends the browser through the provider: start (a GET of
// the begin route, or a POST of the link route) answers 303 to the
// provider, the user logs in there as login, and the callback's answer
// is returned.
func (b *browser) viaProvider(start answer, login string, hdr ...string) answer {
	b.t.Helper()
	if start.status != 303 || !strings.HasPrefix(start.location, b.s.op.Issuer()) {
		b.t.Fatalf("start: %d to %q: %s", start.status, start.location, start.body)
	}
	cb := b.s.op.Authorize(b.t, b.http, start.location, login, opPassword)
	return b.do("GET", cb.String(), nil, hdr...)
}

// socialLogin logs in with the provider from the begin route.
func (b *browser) socialLogin(login string, hdr ...string) answer {
	b.t.Helper()
	return b.viaProvider(b.do("GET", "/account/login/oidc/test?next=/welcome", nil), login, hdr...)
}

// unlink sends DELETE /identities/{id} with the password as JSON (none
// when pw is empty).
func (b *browser) unlink(id, pw string) answer {
	b.t.Helper()
	req, _ := http.NewRequest("DELETE", b.s.srv.URL+"/account/identities/"+id, nil)
	if pw != "" {
		raw, _ := json.Marshal(map[string]string{"password": pw})
		req, _ = http.NewRequest("DELETE", b.s.srv.URL+"/account/identities/"+id, strings.NewReader(string(raw)))
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, body: string(out)}
}

// subject is the browser's session's subject, "" when it has none.
func (b *browser) subject() string {
	b.t.Helper()
	a := b.do("GET", "/account/session", nil)
	if a.status != 200 {
		return ""
	}
	var s struct{ Subject string }
	_ = json.Unmarshal([]byte(a.body), &s)
	return s.Subject
}

func (b *browser) identities() []map[string]any {
	b.t.Helper()
	a := b.do("GET", "/account/identities", nil)
	if a.status != 200 {
		b.t.Fatalf("GET /identities: %d %s", a.status, a.body)
	}
	var out struct{ Identities []map[string]any }
	_ = json.Unmarshal([]byte(a.body), &out)
	return out.Identities
}

// passwordLogin logs the browser in with the login form.
func (b *browser) passwordLogin(login string) {
	b.t.Helper()
	a := b.do("POST", pagesPath+"/login", url.Values{"login": {login}, "password": {strongPassword}})
	if a.status != 303 || b.subject() == "" {
		b.t.Fatalf("password login: %d to %q, no session", a.status, a.location)
	}
}

func wantAnswer(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.code() != code {
		t.Fatalf("%s: %d %q (%s), want %d %q", what, a.status, a.code(), a.body, status, code)
	}
}

// TestSocialSignupAndReturn: a new user with a verified address signs up
// through the provider (an account without a password, its address
// confirmed, the identity linked) and gets a session; the same user comes
// back in another browser to the same account. The only way in cannot be
// unlinked.
func TestSocialSignupAndReturn(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		s.op.AddUser(oidcprovider.User{Subject: "op-new", Email: "New@Example.com", EmailVerified: true, Password: opPassword})
		b := s.browser(t)
		a := b.socialLogin("New@Example.com")
		if a.status != 303 || a.location != "/welcome" {
			t.Fatalf("callback: %d to %q: %s", a.status, a.location, a.body)
		}
		sub := b.subject()
		if sub == "" {
			t.Fatal("no session after a social signup")
		}
		u, err := s.h.users.FindSubject(t.Context(), sub)
		if err != nil || u.Email != "new@example.com" || !u.EmailConfirmed || len(u.PasswordHash) != 0 {
			t.Fatalf("the new account: %+v %v", u, err)
		}
		ids := b.identities()
		if len(ids) != 1 || ids[0]["subject"] != "op-new" || ids[0]["issuer"] != s.op.Issuer() || ids[0]["provider"] != "test" {
			t.Fatalf("identities: %v", ids)
		}
		// The last way in stays, even with a "password" sent.
		wantAnswer(t, "unlink the only way in", b.unlink(ids[0]["id"].(string), "anything"), 409, "last_login_method")

		b2 := s.browser(t)
		if a := b2.socialLogin("New@Example.com"); a.status != 303 || b2.subject() != sub {
			t.Fatalf("returning user: %d %q, subject %q want %q", a.status, a.location, b2.subject(), sub)
		}
		if s.h.users.Len() != 1 {
			t.Fatalf("%d accounts, want 1", s.h.users.Len())
		}
		// No password logs in to the account the provider made, the empty
		// one included.
		for _, pw := range []string{"", strongPassword} {
			got, out := s.h.client(t).do("POST", "/login", map[string]string{"login": "new@example.com", "password": pw})
			if got == 200 || got >= 500 {
				t.Fatalf("password %q logs in to a provider-made account: %d %v", pw, got, out)
			}
		}
	})
}

// TestSocialDeleteUnlinks: deleting an account unlinks its identities, so
// that the provider identity signs up afresh rather than pointing at no
// account.
func TestSocialDeleteUnlinks(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		ada := s.h.signup(t, "ada@example.com", "ada")
		if err := s.ids.LinkIdentity(t.Context(), ada, account.LinkedIdentity{Issuer: s.op.Issuer(), Subject: "op-ada"}); err != nil {
			t.Fatal(err)
		}
		c := s.h.client(t)
		c.login("ada@example.com", strongPassword)
		c.must(204, "POST", "/delete", map[string]string{"password": strongPassword})
		if _, err := s.ids.FindIdentity(t.Context(), s.op.Issuer(), "op-ada"); err == nil {
			t.Fatal("the deleted account's identity is still linked")
		}
		s.op.AddUser(oidcprovider.User{Subject: "op-ada", Email: "ada@example.com", EmailVerified: true, Password: opPassword})
		b := s.browser(t)
		if a := b.socialLogin("ada@example.com"); a.status != 303 || b.subject() == "" || b.subject() == ada {
			t.Fatalf("after deletion: %d %s, subject %q", a.status, a.body, b.subject())
		}
	})
}

// TestSocialLinkRequired: a provider identity whose verified address is a
// password account's is not linked to it, and no session comes of it; the
// owner logs in, links from the signed-in session, and can then log in
// through the provider. A link POST from another site is refused; an
// identity linked to one account cannot be linked to another; unlinking
// needs the password.
func TestSocialLinkRequired(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		ada := s.h.signup(t, "ada@example.com", "ada")
		s.h.signup(t, "bob@example.com", "bob")
		s.op.AddUser(oidcprovider.User{Subject: "op-ada", Email: "ada@example.com", EmailVerified: true, Password: opPassword})

		b := s.browser(t)
		wantAnswer(t, "provider login onto an existing address", b.socialLogin("ada@example.com"), 409, "link_required")
		if b.subject() != "" {
			t.Fatal("a session after link_required")
		}
		if _, err := s.ids.FindIdentity(t.Context(), s.op.Issuer(), "op-ada"); err == nil {
			t.Fatal("linked automatically on the address")
		}
		s.audited(t, `"account.social_failed"`, `"reason":"link_required"`, `"provider":"test"`)
		// A browser asking for a page gets the login page with the code.
		if a := s.browser(t).socialLogin("ada@example.com", "Accept", "text/html"); a.status != 303 ||
			a.location != pagesPath+"/login?error=link_required" {
			t.Fatalf("HTML callback: %d to %q", a.status, a.location)
		}

		b.passwordLogin("ada@example.com")
		wantAnswer(t, "cross-site link", b.do("POST", "/account/identities/test", url.Values{"password": {strongPassword}}, "Sec-Fetch-Site", "cross-site"), 403, "cross_origin")
		wantAnswer(t, "link to an unknown provider", b.do("POST", "/account/identities/nope", url.Values{"password": {strongPassword}}), 404, "unknown_provider")
		a := b.viaProvider(b.do("POST", "/account/identities/test", url.Values{"password": {strongPassword}}), "ada@example.com")
		if a.status != 303 || a.location != pagesPath+"/identities?done=identity_linked" {
			t.Fatalf("link callback: %d to %q: %s", a.status, a.location, a.body)
		}
		if got, err := s.ids.FindIdentity(t.Context(), s.op.Issuer(), "op-ada"); err != nil || got != ada {
			t.Fatalf("linked to %q %v, want %q", got, err, ada)
		}
		s.audited(t, `"account.identity_linked"`, `"subject":"`+ada+`"`)

		b2 := s.browser(t)
		if a := b2.socialLogin("ada@example.com"); a.status != 303 || b2.subject() != ada {
			t.Fatalf("login after linking: %d %q %s", a.status, b2.subject(), a.body)
		}

		// Bob cannot take ada's provider identity.
		bob := s.browser(t)
		bob.passwordLogin("bob@example.com")
		wantAnswer(t, "link another's identity", bob.viaProvider(bob.do("POST", "/account/identities/test", url.Values{"password": {strongPassword}}), "ada@example.com"),
			409, "identity_linked")
		if got, _ := s.ids.FindIdentity(t.Context(), s.op.Issuer(), "op-ada"); got != ada {
			t.Fatalf("identity moved to %q", got)
		}

		// Unlinking: the password, then it goes.
		id := b.identities()[0]["id"].(string)
		wantAnswer(t, "unlink without the password", b.unlink(id, ""), 403, "password_required")
		wantAnswer(t, "unlink with a wrong password", b.unlink(id, "not the password at all"), 401, "invalid_credentials")
		if a := b.unlink(id, strongPassword); a.status != 204 {
			t.Fatalf("unlink: %d %s", a.status, a.body)
		}
		wantAnswer(t, "unlink again", b.unlink(id, strongPassword), 404, "no_identity")
		if len(b.identities()) != 0 {
			t.Fatal("still linked")
		}
	})
}

// TestSocialUnverified: an unverified address, or none said verified,
// makes no account, whether or not the address has one (a stranger's
// provider account must not probe which addresses have accounts).
func TestSocialUnverified(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		s.h.signup(t, "ada@example.com", "ada")
		s.op.AddUser(oidcprovider.User{Subject: "op-1", Email: "eve@example.com", Password: opPassword})
		s.op.AddUser(oidcprovider.User{Subject: "op-2", Email: "ada@example.com", Username: "fake-ada", Password: opPassword})
		s.op.AddUser(oidcprovider.User{Subject: "op-3", Email: "mallory@example.com", Password: opPassword, OmitEmailVerified: true})
		for _, login := range []string{"eve@example.com", "fake-ada", "mallory@example.com"} {
			b := s.browser(t)
			wantAnswer(t, login, b.socialLogin(login), 403, "email_unverified")
			if b.subject() != "" {
				t.Fatalf("%s: a session", login)
			}
		}
		if s.h.users.Len() != 1 {
			t.Fatalf("%d accounts, want 1", s.h.users.Len())
		}
		s.audited(t, `"account.social_failed"`, `"reason":"email_unverified"`)
	})
}

// TestSocialSecondFactor: an account with TOTP that logs in through the
// provider gets the second step (the pending cookie, the second-step
// page), no session until its code.
func TestSocialSecondFactor(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, true)
		c, ada := s.h.loggedIn(t, "ada@example.com", "ada")
		key, _ := enrolTOTP(t, s.h, c)
		if err := s.ids.LinkIdentity(t.Context(), ada, account.LinkedIdentity{Issuer: s.op.Issuer(), Subject: "op-ada"}); err != nil {
			t.Fatal(err)
		}
		s.op.AddUser(oidcprovider.User{Subject: "op-ada", Email: "ada@example.com", EmailVerified: true, Password: opPassword})
		b := s.browser(t)
		a := b.socialLogin("ada@example.com")
		if a.status != 303 || a.location != pagesPath+"/second" {
			t.Fatalf("callback of an account with TOTP: %d to %q: %s", a.status, a.location, a.body)
		}
		if b.subject() != "" {
			t.Fatal("a session before the second factor")
		}
		u, _ := url.Parse(s.srv.URL)
		if !strings.Contains(cookieNames(b.http.Jar.Cookies(u)), auth.PendingCookie) {
			t.Fatal("no pending cookie")
		}
		a = b.do("POST", pagesPath+"/second", url.Values{"kind": {"totp"}, "code": {key.Code(s.h.clock.Now())}})
		if a.status != 303 || b.subject() != ada {
			t.Fatalf("second step: %d to %q, subject %q", a.status, a.location, b.subject())
		}
	})
}

func cookieNames(cs []*http.Cookie) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return strings.Join(names, " ")
}

// TestSocialPages: the login page's button leads through the provider
// back to the overview; the linked-accounts page lists the identity,
// links a provider with its button (a refusal comes back to the page with
// its sentence) and unlinks with the password.
func TestSocialPages(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		ada := s.h.signup(t, "ada@example.com", "ada")
		s.h.signup(t, "bob@example.com", "bob")
		s.op.AddUser(oidcprovider.User{Subject: "op-ada", Email: "ada@example.com", EmailVerified: true, Password: opPassword})
		html := []string{"Accept", "text/html"}

		b := s.browser(t)
		login := b.do("GET", pagesPath+"/login", nil)
		if login.status != 200 || !strings.Contains(login.body, `href="`+pagesPath+`/login/oidc/test"`) ||
			!strings.Contains(login.body, "Log in with Test") {
			t.Fatalf("login page: %d, no provider button: %s", login.status, login.body)
		}
		// Not linked yet: back to the login page, which says what to do.
		a := b.viaProvider(b.do("GET", pagesPath+"/login/oidc/test", nil), "ada@example.com", html...)
		if a.status != 303 || a.location != pagesPath+"/login?error=link_required" {
			t.Fatalf("callback: %d to %q", a.status, a.location)
		}
		if p := b.do("GET", a.location, nil); !strings.Contains(p.body, "Log in to it with your password, then link this provider") {
			t.Fatalf("login page after link_required: %s", p.body)
		}

		b.passwordLogin("ada@example.com")
		home := b.do("GET", pagesPath+"/", nil)
		if !strings.Contains(home.body, `id="identities-link"`) {
			t.Fatalf("overview without a link to linked accounts: %s", home.body)
		}
		p := b.do("GET", pagesPath+"/identities", nil)
		if p.status != 200 || !strings.Contains(p.body, `id="no-identities"`) || !strings.Contains(p.body, `id="link-test"`) {
			t.Fatalf("identities page: %d %s", p.status, p.body)
		}
		checkForm(t, p.body, "link")
		wantAnswer(t, "cross-site link form", b.do("POST", pagesPath+"/identities/link", url.Values{"provider": {"test"}},
			"Sec-Fetch-Site", "cross-site"), 403, "")
		if a := b.do("POST", pagesPath+"/identities/link", url.Values{"provider": {"test"}}); a.status != 403 {
			t.Fatalf("link form without the password: %d", a.status)
		}
		a = b.viaProvider(b.do("POST", pagesPath+"/identities/link", url.Values{"provider": {"test"}, "password": {strongPassword}}), "ada@example.com", html...)
		if a.status != 303 || a.location != pagesPath+"/identities?done=identity_linked" {
			t.Fatalf("link callback: %d to %q", a.status, a.location)
		}
		p = b.do("GET", a.location, nil)
		if !strings.Contains(p.body, "The provider is linked") || !strings.Contains(p.body, `id="unlink-test"`) {
			t.Fatalf("identities page after linking: %s", p.body)
		}
		checkForm(t, p.body, "unlink-test")

		// The button logs in now, in a fresh browser, to the overview.
		b2 := s.browser(t)
		a = b2.viaProvider(b2.do("GET", pagesPath+"/login/oidc/test", nil), "ada@example.com", html...)
		if a.status != 303 || a.location != pagesPath+"/" || b2.subject() != ada {
			t.Fatalf("login by button: %d to %q, subject %q", a.status, a.location, b2.subject())
		}

		// Bob's link of ada's identity comes back to his page, refused.
		bob := s.browser(t)
		bob.passwordLogin("bob@example.com")
		a = bob.viaProvider(bob.do("POST", pagesPath+"/identities/link", url.Values{"provider": {"test"}, "password": {strongPassword}}), "ada@example.com", html...)
		if a.status != 303 || a.location != pagesPath+"/identities?error=identity_linked" {
			t.Fatalf("bob's link: %d to %q", a.status, a.location)
		}
		if p := bob.do("GET", a.location, nil); !strings.Contains(p.body, "already linked to another account") {
			t.Fatalf("bob's page: %s", p.body)
		}

		id := identityIDOf(t, b)
		if p := b.do("POST", pagesPath+"/identities/unlink", url.Values{"id": {id}, "password": {"not the password at all"}}); p.status != 401 ||
			!strings.Contains(p.body, "That password is not right.") {
			t.Fatalf("unlink with a wrong password: %d", p.status)
		}
		if p := b.do("POST", pagesPath+"/identities/unlink", url.Values{"id": {id}, "password": {strongPassword}}); p.status != 303 ||
			p.location != pagesPath+"/identities?done=identity_unlinked" {
			t.Fatalf("unlink: %d to %q", p.status, p.location)
		}
		if _, err := s.ids.FindIdentity(t.Context(), s.op.Issuer(), "op-ada"); err == nil {
			t.Fatal("still linked")
		}
	})
}

func identityIDOf(t *testing.T, b *browser) string {
	t.Helper()
	ids := b.identities()
	if len(ids) != 1 {
		t.Fatalf("identities: %v", ids)
	}
	return ids[0]["id"].(string)
}

// TestSocialConfig: New wants OIDC and Identities together, and Cookies
// with them (the callback leaves a session cookie); without them the
// routes answer 501 not_supported.
func TestSocialConfig(t *testing.T) {
	s := newSocial(t, teststores.All()[0], false)
	for _, tc := range []struct {
		name string
		mod  func(*account.Config)
		want string
	}{
		{"OIDC alone", func(c *account.Config) { c.Identities = nil }, "together"},
		{"Identities alone", func(c *account.Config) { c.OIDC = nil }, "together"},
		{"no Cookies", func(c *account.Config) { c.Cookies = nil }, "Cookies"},
	} {
		c := s.cfg
		tc.mod(&c)
		if _, err := account.New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	h := newHarness(t, teststores.All()[0].Open)
	c, _ := h.loggedIn(t, "ada@example.com", "ada")
	for _, path := range []string{"/login/oidc/test", "/login/oidc/callback?state=x", "/identities"} {
		if got, out := c.do("GET", path, nil); got != 501 || out["code"] != "not_supported" {
			t.Errorf("GET %s without OIDC: %d %v", path, got, out)
		}
	}
}

// TestSocialRefusals: the relying party's refusals pass through with their
// codes and no session: the user cancelling at the provider, a replayed
// callback, a callback in another browser, an ID token with a wrong
// nonce; a next outside the allowlist is refused before the provider.
func TestSocialRefusals(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		s.op.AddUser(oidcprovider.User{Subject: "op-new", Email: "new@example.com", EmailVerified: true, Password: opPassword})
		b := s.browser(t)
		start := b.do("GET", "/account/login/oidc/test", nil)
		cb := s.op.Deny(t, b.http, start.location)
		wantAnswer(t, "cancelled at the provider", b.do("GET", cb.String(), nil), 401, "provider_error")

		start = b.do("GET", "/account/login/oidc/test", nil)
		cb = s.op.Authorize(t, b.http, start.location, "new@example.com", opPassword)
		wantAnswer(t, "another browser", s.browser(t).do("GET", cb.String(), nil), 401, "invalid_state")
		wantAnswer(t, "replayed", b.do("GET", cb.String(), nil), 401, "invalid_state")

		s.op.NextIDToken(oidcprovider.WrongNonce)
		wantAnswer(t, "wrong nonce", b.socialLogin("new@example.com"), 401, "invalid_id_token")

		wantAnswer(t, "next elsewhere", b.do("GET", "/account/login/oidc/test?next="+url.QueryEscape("https://evil.example/"), nil),
			400, "redirect_not_allowed")
		wantAnswer(t, "unknown provider", b.do("GET", "/account/login/oidc/nope", nil), 404, "unknown_provider")
		if b.subject() != "" || s.h.users.Len() != 0 {
			t.Fatalf("a session or an account after refusals: %q, %d accounts", b.subject(), s.h.users.Len())
		}
		s.audited(t, `"oidc.failed"`, `"reason":"provider_error"`)
	})
}

// TestSocialBeginIsRateLimited: the begin route is open to anyone and
// keeps a flow's state in the store, so it takes a unit of the client's
// limit.Login rate (100 per 10 minutes, shared with password logins)
// before anything is written; past it, 429 and no flow.
func TestSocialBeginIsRateLimited(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		s := newSocial(t, st, false)
		b := s.browser(t)
		for i := range 100 {
			if a := b.do("GET", "/account/login/oidc/test", nil); a.status != 303 {
				t.Fatalf("begin %d: %d %s", i+1, a.status, a.body)
			}
		}
		wantAnswer(t, "begin 101", b.do("GET", "/account/login/oidc/test", nil), 429, "rate_limited")
	})
}

// TestSocialRemembered: with Config.RememberMe, a provider login begun
// with ?remember=1 starts the browser's remember-me chain, as a password
// login that asked to be kept signed in does; without it, none. On
// memory, Redis and Cluster.
func TestSocialRemembered(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		mux := http.NewServeMux()
		srv := httptest.NewTLSServer(mux)
		t.Cleanup(srv.Close)
		s := newSocialOn(t, st, false, srv, mux, func(c *account.Config) { c.RememberMe = true })
		s.op.AddUser(oidcprovider.User{Subject: "op-new", Email: "new@example.com", EmailVerified: true, Password: opPassword})
		u, _ := url.Parse(srv.URL)
		has := func(b *browser) bool {
			for _, c := range b.http.Jar.Cookies(u) {
				if c.Name == auth.RememberCookie {
					return true
				}
			}
			return false
		}
		b := s.browser(t)
		if a := b.viaProvider(b.do("GET", "/account/login/oidc/test?remember=1", nil), "new@example.com"); a.status != 303 || b.subject() == "" {
			t.Fatalf("remembered provider login: %d %s", a.status, a.body)
		}
		if !has(b) {
			t.Fatal("no remember-me cookie after a provider login that asked for one")
		}
		plain := s.browser(t)
		plain.viaProvider(plain.do("GET", "/account/login/oidc/test", nil), "new@example.com")
		if plain.subject() == "" || has(plain) {
			t.Fatalf("a plain provider login: subject %q, remember-me cookie %v", plain.subject(), has(plain))
		}
	})
}
