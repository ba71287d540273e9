package oidcprovider

import (
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// loginPath is where zitadel sends the browser to log in (the client's
// LoginURL), with the authorization request's id.
const loginPath = "/login"

// The login form's element ids, for browser tests (chromedp selectors
// "#username" and so on).
const (
	UsernameField = "username"
	PasswordField = "password"
	LoginButton   = "login"
	DenyButton    = "deny"
)

// loginTemplate is the whole login UI: a form a Go client can post and a
// browser can fill, nothing more. Deny answers access_denied to the RP.
var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: log in</title></head>
<body>
<h1>Log in to the test provider</h1>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label>Username <input id="username" name="username" autocomplete="username" value="{{.Username}}"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="login" type="submit" name="action" value="login">Log in</button>
<button id="deny" type="submit" name="action" value="deny">Cancel</button>
</form>
</body></html>
`))

type loginData struct {
	ID, Username, Error string
}

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if _, err := p.store.AuthRequestByID(r.Context(), id); err != nil {
		http.Error(w, "unknown authorization request", http.StatusBadRequest)
		return
	}
	p.renderLogin(w, http.StatusOK, loginData{ID: id})
}

func (p *Provider) renderLogin(w http.ResponseWriter, status int, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, d)
}

func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	if r.PostFormValue("action") == DenyButton {
		a, err := p.store.AuthRequestByID(r.Context(), id)
		if err != nil {
			http.Error(w, "unknown authorization request", http.StatusBadRequest)
			return
		}
		// zitadel redirects to the RP with error=access_denied and the
		// state, as a provider does when the user cancels.
		op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("the user cancelled"), p.op)
		return
	}
	name := r.PostFormValue("username")
	_, ok, err := p.store.login(id, name, r.PostFormValue("password"))
	switch {
	case err != nil:
		http.Error(w, "unknown authorization request", http.StatusBadRequest)
	case !ok:
		p.renderLogin(w, http.StatusUnauthorized, loginData{ID: id, Username: name, Error: "Wrong username or password."})
	default:
		// zitadel's callback endpoint issues the code and redirects to the RP.
		http.Redirect(w, r, p.op.AuthorizationEndpoint().Absolute(p.issuer)+"/callback?id="+url.QueryEscape(id), http.StatusFound)
	}
}

// Authorize does a user's part of the flow with client (its jar, if any,
// is used): it follows authURL (the RP's redirect to the provider) to the
// login form, logs in as username with password, and answers the redirect
// to the RP's callback without following it. A redirect back to the RP
// before the form (an error such as a missing PKCE challenge) is answered
// as it is. It fails t if the login form refuses the credentials.
func (p *Provider) Authorize(t testing.TB, client *http.Client, authURL, username, password string) *url.URL {
	t.Helper()
	return p.submit(t, client, authURL, url.Values{
		"username": {username}, "password": {password}, "action": {LoginButton},
	})
}

// Deny is [Provider.Authorize] with the user pressing Cancel on the login
// form: the answer is the RP's callback with error=access_denied and the
// state.
func (p *Provider) Deny(t testing.TB, client *http.Client, authURL string) *url.URL {
	t.Helper()
	return p.submit(t, client, authURL, url.Values{"action": {DenyButton}})
}

// submit follows authURL to the login form and posts form to it.
func (p *Provider) submit(t testing.TB, client *http.Client, authURL string, form url.Values) *url.URL {
	t.Helper()
	provider, err := url.Parse(p.issuer)
	if err != nil {
		t.Fatalf("oidcprovider: %v", err)
	}
	c := *client
	// Follow redirects within the provider only: the first one elsewhere
	// is the RP's callback, which the caller wants to hit itself.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != provider.Host || len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("oidcprovider: GET %s: %v", authURL, err)
	}
	if cb := offProvider(t, resp, provider); cb != nil {
		return cb
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("id")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != loginPath || id == "" {
		t.Fatalf("oidcprovider: %s led to %s %d, not the login form: %s", authURL, resp.Request.URL, resp.StatusCode, body)
	}
	form.Set("id", id)
	resp, err = c.PostForm(p.issuer+loginPath, form)
	if err != nil {
		t.Fatalf("oidcprovider: post the login form: %v", err)
	}
	if cb := offProvider(t, resp, provider); cb != nil {
		return cb
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Fatalf("oidcprovider: login as %q answered %d, not a redirect to the RP: %s", form.Get("username"), resp.StatusCode, strings.TrimSpace(string(body)))
	return nil
}

// offProvider answers the Location of resp when it redirects away from
// the provider, closing the body; nil otherwise.
func offProvider(t testing.TB, resp *http.Response, provider *url.URL) *url.URL {
	t.Helper()
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return nil
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("oidcprovider: redirect without a usable Location: %v", err)
	}
	if loc.Host == provider.Host {
		t.Fatalf("oidcprovider: redirect loop within the provider at %s", loc)
	}
	return loc
}
