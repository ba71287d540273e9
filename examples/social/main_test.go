package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/store"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// testApp is the example over TLS, as it runs in production (Go's cookie
// jar, unlike a browser on localhost, sends Secure cookies over https
// only), with its Dev provider.
type testApp struct {
	*app
	srv *httptest.Server
	dev *oidcprovider.Provider
}

// newTestApp runs the example on st with the Dev provider.
func newTestApp(t *testing.T, st store.Store) *testApp {
	t.Helper()
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	a, err := newApp(appConfig{store: st, tagKey: extest.TagKey, baseURL: srv.URL, devProvider: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h = a
	return &testApp{app: a, srv: srv, dev: a.dev.(*oidcprovider.Provider)}
}

// eachStore runs f on the example over memory, Redis and a Redis
// Cluster, as -redis would give it.
func eachStore(t *testing.T, f func(t *testing.T, a *testApp)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			f(t, newTestApp(t, sf.Open(t, time.Now)))
		})
	}
}

// browser is a new client with a cookie jar of its own that follows no
// redirect, so that each answer can be checked.
func (a *testApp) browser(t *testing.T) *http.Client {
	t.Helper()
	c := a.srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// get answers GET path on the app, and the body.
func (a *testApp) get(t *testing.T, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(a.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return res, body(t, res)
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login clicks "Log in with Dev provider" (GET /login/dev?next=next),
// logs in at the provider as username and answers the app's callback.
func (a *testApp) login(t *testing.T, c *http.Client, next, username string) (*http.Response, string) {
	t.Helper()
	res, page := a.get(t, c, "/login/dev?next="+url.QueryEscape(next))
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, a.dev.Issuer()+"/") {
		t.Fatalf("GET /login/dev: %d %q, want a 303 to the Dev provider\n%s", res.StatusCode, loc, page)
	}
	cb := a.dev.Authorize(t, c, loc, username, devPassword)
	if cb.Path != callbackPath {
		t.Fatalf("the provider sent the browser to %s, not the callback", cb)
	}
	res, err := c.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	return res, body(t, res)
}

// loggedIn logs in as username and fails unless the callback sets the
// session and sends the browser to want.
func (a *testApp) loggedIn(t *testing.T, c *http.Client, next, username, want string) {
	t.Helper()
	res, page := a.login(t, c, next, username)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
		t.Fatalf("callback for %s: %d %q, want a 303 to %s\n%s", username, res.StatusCode, res.Header.Get("Location"), want, page)
	}
	if !strings.Contains(res.Header.Get("Set-Cookie"), "__Host-social=") {
		t.Fatalf("callback for %s set no session cookie: %q", username, res.Header.Values("Set-Cookie"))
	}
}

// refused checks a refused callback: its status, its code, and no session.
func refused(t *testing.T, res *http.Response, page string, status int, code string) {
	t.Helper()
	if res.StatusCode != status || !strings.Contains(page, `data-code="`+code+`"`) {
		t.Errorf("%d, want %d with code %s:\n%s", res.StatusCode, status, code, page)
	}
	for _, c := range res.Cookies() {
		if c.Name == "__Host-social" {
			t.Errorf("a refused login set the session cookie")
		}
	}
}

// accountOf answers the account subject GET / shows, "" when logged out.
func (a *testApp) accountOf(t *testing.T, c *http.Client) string {
	t.Helper()
	_, page := a.get(t, c, "/")
	const before = "account <code>"
	i := strings.Index(page, before)
	if i < 0 {
		if !strings.Contains(page, `id="login-dev"`) {
			t.Fatalf("GET / shows neither an account nor the login button:\n%s", page)
		}
		return ""
	}
	rest := page[i+len(before):]
	return rest[:strings.Index(rest, "<")]
}

func (a *testApp) accounts() int {
	a.users.mu.Lock()
	defer a.users.mu.Unlock()
	return len(a.users.bySubject)
}

func TestSocialLogin(t *testing.T) {
	eachStore(t, func(t *testing.T, a *testApp) {
		// The first login creates the account: a verified email.
		c := a.browser(t)
		if sub := a.accountOf(t, c); sub != "" {
			t.Fatalf("logged in before logging in: %s", sub)
		}
		a.loggedIn(t, c, "/", devUser, "/")
		_, page := a.get(t, c, "/")
		if !strings.Contains(page, "Logged in as <strong>Ada Lovelace</strong> (ada@example.com)") ||
			!strings.Contains(page, "<code>"+a.dev.Issuer()+"</code> subject <code>dev-ada</code>") {
			t.Fatalf("GET / after the first login:\n%s", page)
		}
		first := a.accountOf(t, c)
		if !strings.HasPrefix(first, "acct-") || a.accounts() != 1 {
			t.Fatalf("account %q, %d accounts; want one new account", first, a.accounts())
		}

		// Logout ends the session: its cookie opens nothing any more.
		stale := c.Jar.Cookies(mustURL(t, a.srv.URL))
		// As the page's form posts it.
		res, err := c.Post(a.srv.URL+"/logout", "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		if body(t, res); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("POST /logout: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if sub := a.accountOf(t, c); sub != "" {
			t.Fatalf("still logged in as %s after logout", sub)
		}
		replay := a.browser(t)
		replay.Jar.SetCookies(mustURL(t, a.srv.URL), stale)
		if sub := a.accountOf(t, replay); sub != "" {
			t.Fatalf("the session cookie from before logout still logs in as %s", sub)
		}
		if res, _ := a.get(t, replay, "/notes"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /notes with the logged-out cookie: %d, want 401", res.StatusCode)
		}

		// A second login, from another browser, finds the account by
		// (issuer, subject), and goes where next says.
		c2 := a.browser(t)
		a.loggedIn(t, c2, "/notes", devUser, "/notes")
		if sub := a.accountOf(t, c2); sub != first || a.accounts() != 1 {
			t.Fatalf("second login: account %q (%d accounts), want %s", sub, a.accounts(), first)
		}
		if res, page := a.get(t, c2, "/notes"); res.StatusCode != 200 || !strings.Contains(page, "Ada Lovelace's notes") {
			t.Errorf("GET /notes: %d\n%s", res.StatusCode, page)
		}

		// The user changes the address at the provider: same subject, same
		// account; the page shows what the provider says now.
		a.dev.AddUser(oidcprovider.User{Subject: "dev-ada", Username: devUser, Password: devPassword,
			Email: "ada@new.example", EmailVerified: true, Name: "Ada Lovelace"})
		c3 := a.browser(t)
		a.loggedIn(t, c3, "", devUser, "/")
		if sub := a.accountOf(t, c3); sub != first || a.accounts() != 1 {
			t.Fatalf("after an email change: account %q (%d accounts), want %s", sub, a.accounts(), first)
		}
		if _, page := a.get(t, c3, "/"); !strings.Contains(page, "now ada@new.example") {
			t.Errorf("GET / does not show the provider's new address:\n%s", page)
		}
	})
}

func TestSocialLoginRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, a *testApp) {
		t.Run("unverified email", func(t *testing.T) {
			c := a.browser(t)
			res, page := a.login(t, c, "/", devUnverifiedUser)
			refused(t, res, page, http.StatusForbidden, "email_unverified")
			if !strings.Contains(page, "no verified email address") {
				t.Errorf("the page does not say why:\n%s", page)
			}
			if a.accounts() != 0 || a.accountOf(t, c) != "" {
				t.Errorf("an unverified email made an account or a session")
			}
		})
		t.Run("open redirect", func(t *testing.T) {
			c := a.browser(t)
			for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", a.srv.URL + "/notes", "/admin"} {
				res, page := a.get(t, c, "/login/dev?next="+url.QueryEscape(next))
				if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" ||
					!strings.Contains(page, `data-code="redirect_not_allowed"`) {
					t.Errorf("next=%s: %d %q, want 400 redirect_not_allowed\n%s", next, res.StatusCode, res.Header.Get("Location"), page)
				}
			}
		})
		t.Run("email of another account", func(t *testing.T) {
			// Another identity whose verified address is an existing
			// account's is not linked to it on the address.
			a.loggedIn(t, a.browser(t), "/", devUser, "/")
			a.dev.AddUser(oidcprovider.User{Subject: "dev-eve", Username: "eve", Password: devPassword,
				Email: "ADA@example.com", EmailVerified: true, Name: "Eve"})
			c := a.browser(t)
			res, page := a.login(t, c, "/", "eve")
			refused(t, res, page, http.StatusConflict, "email_in_use")
			if a.accounts() != 1 || a.accountOf(t, c) != "" {
				t.Errorf("an email match linked or made an account: %d accounts", a.accounts())
			}
		})
		t.Run("callback replayed", func(t *testing.T) {
			c := a.browser(t)
			res, _ := a.get(t, c, "/login/dev?next=/")
			cb := a.dev.Authorize(t, c, res.Header.Get("Location"), devUser, devPassword)
			res, _ = a.get(t, c, cb.RequestURI())
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: %d", res.StatusCode)
			}
			res, page := a.get(t, a.browser(t), cb.RequestURI())
			refused(t, res, page, http.StatusUnauthorized, "invalid_state")
		})
	})
}

func TestNoProvider(t *testing.T) {
	if _, err := newApp(appConfig{tagKey: extest.TagKey, baseURL: "https://app.example"}); err == nil {
		t.Error("an app without a provider started")
	}
}

// The flags' provider has its button; GitHub is plain OAuth2.
func TestSSOProvider(t *testing.T) {
	a, err := newApp(appConfig{tagKey: extest.TagKey, baseURL: "https://app.example",
		sso: &ssoConfig{issuer: "https://accounts.google.com", clientID: "id", clientSecret: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	res := httptest.NewRecorder()
	a.ServeHTTP(res, httptest.NewRequest("GET", "/", nil))
	if page := res.Body.String(); !strings.Contains(page, `href="/login/sso?next=/">Log in with Google<`) || strings.Contains(page, "login-dev") {
		t.Errorf("home page with -issuer Google only:\n%s", page)
	}
	gh := ssoProvider(ssoConfig{issuer: "https://github.com/", clientID: "id"}, "https://app.example/auth/callback")
	if gh.Mapper == nil || gh.Endpoints.Token == "" || gh.Issuer != "https://github.com" {
		t.Errorf("GitHub provider %+v", gh)
	}
	for issuer, want := range map[string]string{
		"https://login.microsoftonline.com/tid/v2.0": "Microsoft",
		"https://sso.example.com/realms/demo":        "Keycloak",
		"https://idp.example.com":                    "idp.example.com",
	} {
		if got := guessLabel(issuer); got != want {
			t.Errorf("guessLabel(%s) = %q, want %q", issuer, got, want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	lo := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	if u, err := baseURL("", lo); err != nil || u != "http://localhost:8080" {
		t.Errorf("loopback: %q, %v", u, err)
	}
	if _, err := baseURL("", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}); err == nil {
		t.Error("no -url on a public address accepted")
	}
	if u, err := baseURL("https://app.example.com/", lo); err != nil || u != "https://app.example.com" {
		t.Errorf("-url: %q, %v", u, err)
	}
	if _, err := baseURL("https://app.example.com/sub", lo); err == nil {
		t.Error("-url with a path accepted")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestStrangersAreBounded: the login route is open to anyone and each
// request keeps a flow's state in the store, so it is rate limited per
// client (limit.Login, 100 per 10 minutes) before anything is written;
// and logging out by a cross-site form post is refused.
func TestStrangersAreBounded(t *testing.T) {
	eachStore(t, func(t *testing.T, a *testApp) {
		c := a.browser(t)
		for i := range 100 {
			if res, _ := a.get(t, c, "/login/dev"); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login %d: %d, want 303 to the provider", i+1, res.StatusCode)
			}
		}
		res, _ := a.get(t, c, "/login/dev")
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Location") != "" {
			t.Fatalf("login 101: %d %q, want 429 and no flow", res.StatusCode, res.Header.Get("Location"))
		}

		r, _ := http.NewRequest("POST", a.srv.URL+"/logout", nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := a.browser(t).Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site logout: %d, want 403", res.StatusCode)
		}
	})
}
