package account_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// The pages' passkey parts without a browser: what the pages render for
// passkey.js, and the JSON routes and forms it and the pages post to,
// driven by passkeytest's authenticator. The Chromium test
// (TestPagesBrowserPasskeys) runs passkey.js itself.

// postJSON posts body as JSON to a page route with c's cookies.
func (c *pageClient) postJSON(path string, body any) (int, []byte) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// header is a GET's answer header.
func (c *pageClient) header(path, name string) string {
	c.t.Helper()
	res, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get(name)
}

// apiAssurance is the assurance of c's cookie session, by the API.
func (c *pageClient) apiAssurance(srvURL string) float64 {
	c.t.Helper()
	res, err := c.http.Get(srvURL + "/account/session")
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != 200 {
		c.t.Fatalf("GET /account/session: %d %v", res.StatusCode, m)
	}
	a, _ := m["assurance"].(float64)
	return a
}

func TestPasskeyPages(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newPasskeyHarness(t, st.Open)
		srv := pagesServer(t, h, true)
		h.signup(t, "ada@example.com", "ada")
		anon := newPageClient(t, srv)

		// The login page loads passkey.js under a policy that allows it
		// and nothing inline; the button is hidden until the script runs.
		p := anon.get("/login")
		for _, want := range []string{`<script src="/account/pages/passkey.js" defer></script>`, `data-passkey="login"`,
			`id="passkey-login"`, "hidden", "Log in with a passkey"} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("login page without %q", want)
			}
		}
		if csp := anon.header("/login", "Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") ||
			!strings.Contains(csp, "connect-src 'self';") || strings.Contains(csp, "unsafe") {
			t.Fatalf("login page CSP %q", csp)
		}
		if ct := anon.header("/passkey.js", "Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Fatalf("passkey.js Content-Type %q", ct)
		}
		if js := anon.get("/passkey.js"); !strings.Contains(js.body, "parseCreationOptionsFromJSON") {
			t.Fatalf("passkey.js: %d", js.status)
		}

		ada := newPageClient(t, srv)
		ada.login("ada@example.com", strongPassword)
		p = ada.get("/security")
		if p.status != 200 || !strings.Contains(p.body, "No passkeys yet.") {
			t.Fatalf("GET /security: %d %s", p.status, p.body)
		}
		checkForm(t, p.body, "add-passkey")

		// Adding one: the options need the password.
		if status, body := ada.postJSON("/security/passkeys/options", map[string]string{}); status != 403 {
			t.Fatalf("options without the password: %d %s", status, body)
		}
		status, opts := ada.postJSON("/security/passkeys/options", map[string]string{"password": strongPassword})
		if status != 200 {
			t.Fatalf("options: %d %s", status, opts)
		}
		resp, key, err := h.browser.Register(opts)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := ada.postJSON("/security/passkeys", map[string]any{"response": json.RawMessage(resp), "nickname": "Laptop"}); status != 201 {
			t.Fatalf("add: %d %s", status, body)
		}
		p = ada.get("/security?done=passkey_added")
		for _, want := range []string{"Your passkey has been added", `data-passkey-id="` + key.IDString() + `"`, "Laptop", "Not used yet",
			`id="regenerate"`, "Make recovery codes"} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("security page without %q: %s", want, p.body)
			}
		}
		checkForm(t, p.body, "passkeys")
		p = ada.post("/security/passkeys/rename", url.Values{"id": {key.IDString()}, "nickname": {"Phone"}})
		if p.status != 303 || p.location != pagesPath+"/security?done=passkey_renamed" {
			t.Fatalf("rename: %d %q", p.status, p.location)
		}
		if p = ada.get("/security"); !strings.Contains(p.body, "Phone") {
			t.Fatal("the new name is not shown")
		}

		// A password login asks for the passkey: the second-step page
		// offers it, and no app code the account does not have.
		two := newPageClient(t, srv)
		p = two.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}})
		if p.status != 303 || p.location != pagesPath+"/login?error=second_factor_required" {
			t.Fatalf("first step: %d %q", p.status, p.location)
		}
		p = two.get("/second")
		if !strings.Contains(p.body, `id="passkey-second"`) || strings.Contains(p.body, `id="second-step"`) {
			t.Fatalf("second-step page: %s", p.body)
		}
		status, opts = two.postJSON("/second/passkey/options", nil)
		if status != 200 {
			t.Fatalf("second-step options: %d %s", status, opts)
		}
		resp, err = h.browser.Login(opts, key)
		if err != nil {
			t.Fatal(err)
		}
		p = two.post("/second", url.Values{"kind": {"passkey"}, "code": {string(resp)}})
		if p.status != 303 || p.location != pagesPath+"/second" {
			t.Fatalf("second step: %d %q", p.status, p.location)
		}
		if p = two.get("/second"); p.status != 303 || p.location != pagesPath+"/" {
			t.Fatalf("after the second step: %d %q", p.status, p.location)
		}
		if a := two.apiAssurance(srv.URL); a != 2 {
			t.Fatalf("second step by passkey at assurance %v", a)
		}
		// The options without a pending login: 401.
		if status, _ := newPageClient(t, srv).postJSON("/second/passkey/options", nil); status != 401 {
			t.Fatalf("second-step options without a pending login: %d", status)
		}

		// ada's session is from before the passkey, and the account has
		// no code to prove it with: the page says to log in by passkey.
		if p = ada.get("/security"); !strings.Contains(p.body, `id="passkey-login-needed"`) {
			t.Fatalf("a level-1 session of a passkey-only account is not told to log in by passkey: %s", p.body)
		}

		// A passwordless login by the page's routes: a cookie session.
		three := newPageClient(t, srv)
		status, opts = three.postJSON("/login/passkey/options", nil)
		if status != 200 {
			t.Fatalf("passwordless options: %d %s", status, opts)
		}
		if resp, err = h.browser.Login(opts, key); err != nil {
			t.Fatal(err)
		}
		if status, body := three.postJSON("/login/passkey", map[string]any{"response": json.RawMessage(resp)}); status != 200 ||
			strings.Contains(string(body), `"token"`) {
			t.Fatalf("passwordless login: %d %s", status, body)
		}
		if p = three.get("/"); p.status != 200 {
			t.Fatalf("overview after a passwordless login: %d", p.status)
		}
		if a := three.apiAssurance(srv.URL); a != 2 {
			t.Fatalf("passwordless at assurance %v", a)
		}

		// With an app as well, the second-step page offers both, and
		// the recovery codes. The app is added from the session that
		// passed the passkey: ada's, from before it, would need a code.
		enrolPage(t, h, three)
		both := newPageClient(t, srv)
		both.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}})
		p = both.get("/second")
		for _, want := range []string{`id="passkey-second"`, `id="second-step"`, "No phone?", `id="use-recovery"`} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("second-step page of an account with both without %q: %s", want, p.body)
			}
		}

		// Removing needs the password.
		p = ada.post("/security/passkeys/remove", url.Values{"id": {key.IDString()}})
		if p.status != 403 || !strings.Contains(p.body, "Please enter your password.") {
			t.Fatalf("remove without the password: %d", p.status)
		}
		if p = ada.post("/security/passkeys/remove", url.Values{"id": {key.IDString()}, "password": {strongPassword}}); p.status != 401 {
			t.Fatalf("remove from a level-1 session without a code: %d", p.status)
		}
		p = three.post("/security/passkeys/remove", url.Values{"id": {key.IDString()}, "password": {strongPassword}})
		if p.status != 303 || p.location != pagesPath+"/security?done=passkey_removed" {
			t.Fatalf("remove: %d %q", p.status, p.location)
		}
		if p = three.get("/security"); !strings.Contains(p.body, "No passkeys yet.") {
			t.Fatal("the removed passkey is still listed")
		}
	})
}

// TestPagesWithoutPasskeys: without Config.Passkeys the pages load no
// script and keep their policy without one.
func TestPagesWithoutPasskeys(t *testing.T) {
	h := newMFAHarness(t, teststores.All()[0].Open)
	srv := pagesServer(t, h, true)
	c := newPageClient(t, srv)
	if p := c.get("/login"); strings.Contains(p.body, "passkey") || strings.Contains(p.body, "<script") {
		t.Fatalf("login page mentions passkeys: %s", p.body)
	}
	if csp := c.header("/login", "Content-Security-Policy"); strings.Contains(csp, "script-src") || strings.Contains(csp, "connect-src") {
		t.Fatalf("CSP %q", csp)
	}
	if p := c.get("/passkey.js"); p.status != 404 {
		t.Fatalf("GET /passkey.js: %d", p.status)
	}
}
