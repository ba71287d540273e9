package account_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/middleware"
)

const pagesPath = "/account/pages"

// pagesServer serves the harness's API at /account/ and its pages at
// /account/pages/, over TLS when tls is set (a browser keeps the
// Secure cookie only then).
func pagesServer(t *testing.T, h *harness, tls bool) *httptest.Server {
	t.Helper()
	// A browser's cookie expires by the real clock: bring the fake one
	// to now, or the session cookie would be set already expired.
	h.clock.Advance(time.Since(h.clock.Now()))
	mux := http.NewServeMux()
	mux.Handle("/account/", http.StripPrefix("/account", h.acct.API()))
	mux.Handle(pagesPath+"/", http.StripPrefix(pagesPath, h.acct.Pages()))
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(mux)
	} else {
		srv = httptest.NewServer(mux)
	}
	t.Cleanup(srv.Close)
	return srv
}

// pageClient is a browser without a browser: a cookie jar that does not
// follow redirects, so that each 303 is seen.
type pageClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newPageClient(t *testing.T, srv *httptest.Server) *pageClient {
	jar, _ := cookiejar.New(nil)
	c := *srv.Client() // a copy: srv.Client() is one client for all
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &pageClient{t: t, base: srv.URL + pagesPath, http: &c}
}

// page is an answer: its status, where it redirects and its body.
type page struct {
	status   int
	location string
	body     string
}

func (c *pageClient) do(method, path string, form url.Values, hdr ...string) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(b)}
}

func (c *pageClient) get(path string) page { c.t.Helper(); return c.do("GET", path, nil) }

func (c *pageClient) post(path string, form url.Values) page {
	c.t.Helper()
	return c.do("POST", path, form)
}

// login logs in with the login form and checks it lands on the overview.
func (c *pageClient) login(login, pw string) {
	c.t.Helper()
	p := c.post("/login", url.Values{"login": {login}, "password": {pw}})
	if p.status != 303 || p.location != pagesPath+"/login" {
		c.t.Fatalf("POST /login: %d to %q", p.status, p.location)
	}
	if p = c.get("/login"); p.status != 303 || p.location != pagesPath+"/" {
		c.t.Fatalf("GET /login after a login: %d to %q, want 303 to the overview", p.status, p.location)
	}
}

var (
	inputTag = regexp.MustCompile(`<input\b[^>]*>`)
	attr     = func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return "", false
		}
		return m[1], true
	}
)

// checkForm checks that every visible input of a page has a label and an
// autocomplete attribute, and that the page has the form.
func checkForm(t *testing.T, body, formID string) {
	t.Helper()
	if formID != "" && !strings.Contains(body, `id="`+formID+`"`) {
		t.Errorf("no element with id %q in the page", formID)
	}
	for _, tag := range inputTag.FindAllString(body, -1) {
		if typ, _ := attr(tag, "type"); typ == "hidden" {
			continue
		}
		id, ok := attr(tag, "id")
		if !ok || !strings.Contains(body, `<label for="`+id+`"`) {
			t.Errorf("input without a label: %s", tag)
		}
		if _, ok := attr(tag, "autocomplete"); !ok {
			t.Errorf("input without autocomplete: %s", tag)
		}
	}
}

// TestPagesRoutes is the table test of every page: each GET renders its
// form (the pages of a session send a browser without one to the login
// page), each POST with bad input renders the error's sentence or
// redirects to a page that does, and what is not a page is 404. It runs on
// every store.
func TestPagesRoutes(t *testing.T) {
	for _, st := range teststores.All() {
		t.Run(st.Name, func(t *testing.T) {
			h := newHarness(t, st.Open)
			srv := pagesServer(t, h, false)
			h.signup(t, "ada@example.com", "ada")
			anon := newPageClient(t, srv)
			ada := newPageClient(t, srv)
			ada.login("ada@example.com", strongPassword)

			for _, tc := range []struct {
				name   string
				c      *pageClient
				method string
				path   string
				form   url.Values
				status int
				loc    string // the redirect's target, for 303s
				want   string // in the body
				formID string // a form the page shows (its inputs are checked)
			}{
				{"login", anon, "GET", "/login", nil, 200, "", "Log in", "login"},
				{"signup", anon, "GET", "/signup", nil, 200, "", "Create an account", "signup"},
				{"forgot", anon, "GET", "/forgot", nil, 200, "", "Reset your password", "forgot"},
				{"reset", anon, "GET", "/reset?token=abc", nil, 200, "", `name="token" value="abc"`, "reset"},
				{"reset without a token", anon, "GET", "/reset", nil, 200, "", "This reset link is incomplete", ""},
				{"confirm", anon, "GET", "/confirm?token=abc", nil, 200, "", "Confirm my address", "confirm"},
				{"check email", anon, "GET", "/check-email?for=reset", nil, 200, "", "a link to choose a new password", ""},
				{"style", anon, "GET", "/style.css", nil, 200, "", "prefers-color-scheme: dark", ""},
				{"overview", ada, "GET", "/", nil, 200, "", "ada@example.com", "account"},
				{"change password", ada, "GET", "/password", nil, 200, "", "Current password", "change-password"},
				{"change email", ada, "GET", "/email", nil, 200, "", "New email address", "change-email"},
				{"sessions", ada, "GET", "/sessions", nil, 200, "", "This browser", "sessions"},
				{"delete", ada, "GET", "/delete", nil, 200, "", "Delete my account", "delete"},
				{"overview, no session", anon, "GET", "/", nil, 303, pagesPath + "/login", "", ""},
				{"change password, no session", anon, "GET", "/password", nil, 303, pagesPath + "/login", "", ""},
				{"change email, no session", anon, "GET", "/email", nil, 303, pagesPath + "/login", "", ""},
				{"sessions, no session", anon, "GET", "/sessions", nil, 303, pagesPath + "/login", "", ""},
				{"delete, no session", anon, "GET", "/delete", nil, 303, pagesPath + "/login", "", ""},
				{"revoke, no session", anon, "POST", "/sessions/revoke", url.Values{"id": {"x"}}, 303, pagesPath + "/login", "", ""},

				{"login, wrong password", anon, "POST", "/login", url.Values{"login": {"ada"}, "password": {"wrong password here"}},
					303, pagesPath + "/login?error=invalid_credentials", "", ""},
				{"login error shown", anon, "GET", "/login?error=invalid_credentials", nil, 200, "", "That login and password do not match", "login"},
				{"login error not reflected", anon, "GET", "/login?error=%3Cscript%3E", nil, 200, "", "Something went wrong", ""},
				{"notice shown", anon, "GET", "/login?done=password_reset", nil, 200, "", "Log in with the new one", ""},
				{"signup, bad address", anon, "POST", "/signup", url.Values{"email": {"not an address"}, "password": {strongPassword}},
					400, "", "That does not look like an email address.", "signup"},
				{"signup, short password", anon, "POST", "/signup", url.Values{"email": {"bob@example.com"}, "password": {"short"}},
					400, "", "That password is too short.", "signup"},
				{"signup, address kept", anon, "POST", "/signup", url.Values{"email": {"<b>@example.com"}, "password": {"x"}},
					400, "", `value="&lt;b&gt;@example.com"`, "signup"},
				{"forgot, no address", anon, "POST", "/forgot", url.Values{}, 400, "", "Please enter your email address.", "forgot"},
				{"reset, bad token", anon, "POST", "/reset", url.Values{"token": {"nope"}, "password": {"another long passphrase"}},
					401, "", "This reset link is invalid", "reset"},
				{"confirm, bad token", anon, "POST", "/confirm", url.Values{"token": {"nope"}}, 400, "", "This link is invalid", ""},
				{"change password, wrong current", ada, "POST", "/password",
					url.Values{"current_password": {"not my password at all"}, "new_password": {"another long passphrase 7"}},
					401, "", "Your current password is not right.", "change-password"},
				{"change password, no new one", ada, "POST", "/password", url.Values{"current_password": {strongPassword}},
					400, "", "Please enter a new password.", "change-password"},
				{"change email, no password", ada, "POST", "/email", url.Values{"email": {"ada@new.example"}},
					403, "", "Please enter your password.", "change-email"},
				{"change email, same address", ada, "POST", "/email", url.Values{"email": {"ada@example.com"}, "password": {strongPassword}},
					400, "", "That is already your address.", "change-email"},
				{"delete, wrong password", ada, "POST", "/delete", url.Values{"password": {"not my password at all"}},
					401, "", "That password is not right.", "delete"},
				{"revoke, no such session", ada, "POST", "/sessions/revoke", url.Values{"id": {"nope"}},
					303, pagesPath + "/sessions?error=no_session", "", ""},
				{"revoke error shown", ada, "GET", "/sessions?error=no_session", nil, 200, "", "That session has already ended.", ""},
				{"revoke device, no such device", ada, "POST", "/devices/revoke", url.Values{"name": {"phone"}},
					303, pagesPath + "/sessions?error=no_device", "", ""},
				{"resend, already confirmed", ada, "POST", "/email/resend", url.Values{}, 303, pagesPath + "/?error=already_confirmed", "", ""},
				{"cross-origin post", anon, "POST", "/signup?x", nil, 0, "", "", ""}, // replaced below
				{"unknown path", anon, "GET", "/nope", nil, 404, "", "Page not found", ""},
				{"unknown nested path", ada, "GET", "/sessions/nope", nil, 404, "", "Page not found", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					var p page
					if tc.name == "cross-origin post" {
						p = tc.c.do("POST", "/signup", url.Values{"email": {"eve@example.com"}, "password": {strongPassword}},
							"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
						if p.status != 403 || !strings.Contains(p.body, "sent from another site") {
							t.Fatalf("cross-site POST /signup: %d %q", p.status, p.body)
						}
						return
					}
					p = tc.c.do(tc.method, tc.path, tc.form)
					if p.status != tc.status || p.location != tc.loc {
						t.Fatalf("%s %s: %d to %q, want %d to %q\n%s", tc.method, tc.path, p.status, p.location, tc.status, tc.loc, p.body)
					}
					if !strings.Contains(p.body, tc.want) {
						t.Errorf("%s %s: the page lacks %q:\n%s", tc.method, tc.path, tc.want, p.body)
					}
					if strings.Contains(p.body, "<script") {
						t.Errorf("%s %s: a script in the page", tc.method, tc.path)
					}
					if tc.formID != "" {
						checkForm(t, p.body, tc.formID)
					}
				})
			}
		})
	}
}

// TestPagesNoEnumeration: signup and forgotten password answer a known
// address and an unknown one with the same redirect, to the same page.
func TestPagesNoEnumeration(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	srv := pagesServer(t, h, false)
	h.signup(t, "ada@example.com", "ada")
	c := newPageClient(t, srv)
	for _, path := range []string{"/signup", "/forgot"} {
		var got []page
		for _, addr := range []string{"ada@example.com", "nobody@example.com"} {
			p := c.post(path, url.Values{"email": {addr}, "password": {"a fine long passphrase 9"}})
			got = append(got, page{status: p.status, location: p.location, body: p.body})
		}
		if got[0] != got[1] || got[0].status != 303 {
			t.Errorf("POST %s: known address %+v, unknown %+v", path, got[0], got[1])
		}
		if p := c.get(strings.TrimPrefix(got[0].location, pagesPath)); p.status != 200 || !strings.Contains(p.body, "Check your email") {
			t.Errorf("POST %s went to %s: %d", path, got[0].location, p.status)
		}
	}
}

// TestPagesConfirmLinkGETSpendsNothing: opening a confirmation link (as a
// mail scanner does) twice leaves it good for the button.
func TestPagesConfirmLinkGETSpendsNothing(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	srv := pagesServer(t, h, false)
	c := newPageClient(t, srv)
	if p := c.post("/signup", url.Values{"email": {"ada@example.com"}, "password": {strongPassword}}); p.status != 303 {
		t.Fatalf("signup: %d", p.status)
	}
	m := h.mail.Last(t)
	link, err := url.Parse(account.PageLink(srv.URL+pagesPath, m))
	if err != nil || link.Path != pagesPath+"/confirm" {
		t.Fatalf("PageLink: %v %v", link, err)
	}
	for range 2 {
		if p := c.get("/confirm?" + link.RawQuery); p.status != 200 || !strings.Contains(p.body, "Confirm my address") {
			t.Fatalf("GET the link: %d", p.status)
		}
	}
	p := c.post("/confirm", url.Values{"token": {link.Query().Get("token")}})
	if p.status != 303 || p.location != pagesPath+"/login?done=email_confirmed" {
		t.Fatalf("POST /confirm: %d to %q", p.status, p.location)
	}
	if u, _ := h.users.FindUser(t.Context(), "ada@example.com"); !u.EmailConfirmed {
		t.Fatal("not confirmed")
	}
	if p := c.post("/confirm", url.Values{"token": {link.Query().Get("token")}}); p.status != 400 || !strings.Contains(p.body, "already been used") && !strings.Contains(p.body, "used already") {
		t.Fatalf("the link again: %d %s", p.status, p.body)
	}
}

// TestPagesTemplatesOverride: an app's template replaces the embedded one
// of its name; the others stay.
func TestPagesTemplatesOverride(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open, func(c *account.Config) {
		c.Templates = fstest.MapFS{"login.html": {Data: []byte(
			`{{define "title"}}Sign in to Notes{{end}}{{define "content"}}<form id="login"></form>{{.Error}}{{end}}`)}}
	})
	srv := pagesServer(t, h, false)
	c := newPageClient(t, srv)
	if p := c.get("/login?error=locked"); !strings.Contains(p.body, "<title>Sign in to Notes</title>") || !strings.Contains(p.body, "Too many failed attempts") {
		t.Errorf("overridden login page: %s", p.body)
	}
	if p := c.get("/signup"); !strings.Contains(p.body, "Create an account") {
		t.Errorf("signup page: %s", p.body)
	}

	bad := fstest.MapFS{"signup.html": {Data: []byte(`{{define "content"}}{{.Nope`)}}
	if _, err := account.New(withTemplates(t, h, bad)); err == nil || !strings.Contains(err.Error(), "signup") {
		t.Errorf("New with a broken template: %v", err)
	}
	noCookies := withTemplates(t, h, fstest.MapFS{})
	noCookies.Cookies = nil
	if _, err := account.New(noCookies); err == nil {
		t.Error("New with Templates and no Cookies: no error")
	}
}

// withTemplates is the harness's Config again, with templates.
func withTemplates(t *testing.T, h *harness, fsys fstest.MapFS) account.Config {
	t.Helper()
	var cfg account.Config
	_ = newHarness(t, teststores.All()[0].Open, func(c *account.Config) { cfg = *c })
	cfg.Templates = fsys
	return cfg
}

// TestPagesNeedCookies: without Cookies the API works and Pages panics
// with a sentence that says why.
func TestPagesNeedCookies(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open, func(c *account.Config) { c.Cookies = nil })
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "Cookies") {
			t.Errorf("Pages without Cookies: %v", r)
		}
	}()
	h.acct.Pages()
}

func TestPageLink(t *testing.T) {
	for _, tc := range []struct {
		m    auth.Message
		want string
	}{
		{auth.Message{Purpose: auth.PurposeConfirmEmail, Token: "a.b"}, "https://x.example/p/confirm?token=a.b"},
		{auth.Message{Purpose: account.PurposeConfirmNewEmail, Token: "a+b"}, "https://x.example/p/confirm?token=a%2Bb"},
		{auth.Message{Purpose: auth.PurposeResetPassword, Token: "r"}, "https://x.example/p/reset?token=r"},
		{auth.Message{Purpose: account.PurposeAccountExists}, ""},
	} {
		if got := account.PageLink("https://x.example/p/", tc.m); got != tc.want {
			t.Errorf("PageLink(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

// TestPagesSignedInActions: what the pages of a session do when they
// succeed, each ending in a 303 to the page that says so.
func TestPagesSignedInActions(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	srv := pagesServer(t, h, false)
	h.signup(t, "ada@example.com", "ada")
	laptop, phone, tablet := newPageClient(t, srv), newPageClient(t, srv), newPageClient(t, srv)
	laptop.login("ada@example.com", strongPassword)
	phone.login("ada", strongPassword)
	tablet.login("ada", strongPassword)

	expect := func(what string, p page, status int, loc string) {
		t.Helper()
		if p.status != status || p.location != loc {
			t.Fatalf("%s: %d to %q, want %d to %q\n%s", what, p.status, p.location, status, loc, p.body)
		}
	}
	// Revoke one other session by its id, from the sessions page.
	list := laptop.get("/sessions")
	ids := regexp.MustCompile(`<li class="item" data-session="([^"]+)"`).FindAllStringSubmatch(list.body, -1)
	if len(ids) != 2 || strings.Count(list.body, `class="item current"`) != 1 {
		t.Fatalf("sessions page lists %d other sessions:\n%s", len(ids), list.body)
	}
	expect("revoke one", laptop.post("/sessions/revoke", url.Values{"id": {ids[0][1]}}), 303, pagesPath+"/sessions?done=session_revoked")
	if p := laptop.get("/sessions?done=session_revoked"); !strings.Contains(p.body, "That session has been logged out.") {
		t.Errorf("after revoking: %s", p.body)
	}
	// Revoke the others: the phone and the tablet are both out now, and a
	// browser whose session ended is sent to log in, its cookie cleared.
	expect("revoke others", laptop.post("/sessions/revoke-others", url.Values{}), 303, pagesPath+"/sessions?done=others_revoked")
	for _, c := range []*pageClient{phone, tablet} {
		expect("a revoked browser", c.get("/"), 303, pagesPath+"/login?error=invalid_token")
		expect("then again", c.get("/"), 303, pagesPath+"/login")
	}

	// Change the address: the check-email page; the link moves the account.
	expect("change email", laptop.post("/email", url.Values{"email": {"ada@new.example"}, "password": {strongPassword}}),
		303, pagesPath+"/check-email?for=email")
	link, _ := url.Parse(account.PageLink(srv.URL+pagesPath, h.mail.Last(t)))
	expect("confirm the new address", laptop.post("/confirm", url.Values{"token": {link.Query().Get("token")}}),
		303, pagesPath+"/login?done=email_confirmed")
	expect("signed in already", laptop.get("/login?done=email_confirmed"), 303, pagesPath+"/?done=email_confirmed")
	if p := laptop.get("/?done=email_confirmed"); !strings.Contains(p.body, "ada@new.example") || !strings.Contains(p.body, "your email address is confirmed") {
		t.Errorf("overview after the change:\n%s", p.body)
	}

	// Change password, log out, log in again, log out everywhere.
	const next = "a brand new passphrase for ada"
	expect("change password", laptop.post("/password", url.Values{"current_password": {strongPassword}, "new_password": {next}}),
		303, pagesPath+"/?done=password_changed")
	expect("log out", laptop.post("/logout", url.Values{}), 303, pagesPath+"/login?done=logged_out")
	expect("logged out", laptop.get("/"), 303, pagesPath+"/login")
	expect("log out again", laptop.post("/logout", url.Values{}), 303, pagesPath+"/login?done=logged_out")
	laptop.login("ada", next)
	phone.login("ada", next)
	expect("log out everywhere", laptop.post("/logout-everywhere", url.Values{}), 303, pagesPath+"/login?done=logged_out_everywhere")
	expect("the phone too", phone.get("/sessions"), 303, pagesPath+"/login?error=invalid_token")

	// Delete the account.
	laptop.login("ada", next)
	expect("delete", laptop.post("/delete", url.Values{"password": {next}}), 303, pagesPath+"/login?done=account_deleted")
	if p := laptop.get("/login?done=account_deleted"); p.status != 200 || !strings.Contains(p.body, "Your account has been deleted.") {
		t.Errorf("after deleting: %d %s", p.status, p.body)
	}
	if h.users.Len() != 0 {
		t.Error("the account is still there")
	}
}

// TestPagesGuardWithoutCookies: a Guard that does not read the pages'
// cookie is a misconfiguration the signed-in pages name, rather than send
// a logged-in user back to the login page for ever.
func TestPagesGuardWithoutCookies(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open, func(c *account.Config) {
		g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: c.Tokens})
		if err != nil {
			t.Fatal(err)
		}
		c.Guard = g
	})
	srv := pagesServer(t, h, false)
	h.signup(t, "ada@example.com", "ada")
	c := newPageClient(t, srv)
	if p := c.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}}); p.status != 303 {
		t.Fatalf("login: %d", p.status)
	}
	if p := c.get("/"); p.status != 500 || !strings.Contains(p.body, "GuardConfig{Cookies") {
		t.Errorf("overview with a Guard without cookies: %d %q", p.status, p.body)
	}
}

// TestPagesHeaders: the pages answer with their security headers, and
// keep one the app set before.
func TestPagesHeaders(t *testing.T) {
	h := newHarness(t, teststores.All()[0].Open)
	pages := h.acct.Pages()
	for _, tc := range []struct {
		name, appCSP, wantCSP string
	}{
		{"default", "", "default-src 'none'"},
		{"the app's policy", "default-src 'self'", "default-src 'self'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if tc.appCSP != "" {
				w.Header().Set("Content-Security-Policy", tc.appCSP)
			}
			pages.ServeHTTP(w, httptest.NewRequest("GET", "/reset?token=abc", nil))
			if got := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(got, tc.wantCSP) {
				t.Errorf("Content-Security-Policy %q, want %q...", got, tc.wantCSP)
			}
			for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY",
				"Content-Type": "text/html; charset=utf-8"} {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}
