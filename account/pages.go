package account

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpbody"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
)

// The pages are the account lifecycle as server-rendered HTML forms, for
// apps that are not single-page: html/template, no JavaScript but
// passkey.js for passkeys (WebAuthn has no form to post), every
// unsafe request checked for its origin, post/redirect/get with 303s.
// They call the same flows as the JSON API (flows.go), so their answers
// tell no more than the API's: a signup or a forgotten password for a
// known address and for an unknown one end on the same page.

//go:embed templates
var embedded embed.FS

// DefaultPagesPath is where Pages expects to be mounted when
// Config.PagesPath is empty.
const DefaultPagesPath = "/account/pages"

// pageNames are the page templates, each a file <name>.html beside
// layout.html; TemplateNames lists them all.
var pageNames = []string{
	"home", "login", "signup", "forgot", "reset", "confirm", "check-email",
	"password", "email", "sessions", "delete", "message", "second", "security", "identities",
}

// TemplateNames lists the files Config.Templates may override: the
// layout, the parts several pages share (partials.html), one template
// per page, and the style sheet.
func TemplateNames() []string {
	names := []string{"layout.html", "partials.html"}
	for _, n := range pageNames {
		names = append(names, n+".html")
	}
	return append(names, "style.css")
}

// PageData is what every page template is executed with. An app that
// overrides a template (Config.Templates) reads these fields; every
// string is escaped by html/template where the template puts it.
type PageData struct {
	// Page is the template's name without ".html", such as "login".
	Page string
	// Path is where the pages are mounted (Config.PagesPath): templates
	// link with {{.Path}}/login.
	Path string
	// User is the signed-in user on the pages of a session; nil on the
	// others.
	User *auth.User
	// SessionID is the public id of the signed-in user's session.
	SessionID string
	// Error is the sentence for the error the last action met, and
	// ErrorCode and ErrorField its stable code (docs/errors.md) and the
	// form field at fault ("" for none). A template that says it in
	// other words, or another language, switches on ErrorCode.
	Error, ErrorCode, ErrorField string
	// Notice is the sentence for what the last action did, and
	// NoticeCode its code (the ?done= of the redirect after it:
	// logged_out, password_changed, session_revoked, ...).
	Notice, NoticeCode string
	// Values refills a form shown again after an error: addresses and
	// usernames, never passwords.
	Values map[string]string
	// Token is the link's token on the reset and confirm pages.
	Token string
	// Kind says what the check-email page is for: "signup", "reset",
	// "email" (a change) or "confirm" (a new link).
	Kind string
	// Sessions and Devices fill the sessions page.
	Sessions []auth.SessionInfo
	Devices  []auth.Device
	// Status is the HTTP status of the message page.
	Status int
	// RememberMe says the login form offers "keep me signed in"
	// (Config.RememberMe): a checkbox named "remember".
	RememberMe bool
	// MFA says the app offers second factors (Config.MFA): the pages of a
	// session link to the security page.
	MFA bool
	// NeedsCode: the session did not pass a second factor, so taking one
	// away or replacing the recovery codes asks for a code besides the
	// password.
	NeedsCode bool
	// NeedsPasskeyLogin: NeedsCode, on an account whose only factor is a
	// passkey and that has no recovery codes: only a login by passkey
	// gives a session that may change its factors.
	NeedsPasskeyLogin bool
	// Factors is what second factors the account has, on the security
	// page.
	Factors Factors
	// Enrollment is a TOTP enrolment just started, on the security page:
	// shown once, on the answer to the form that started it.
	Enrollment *Enrollment
	// RecoveryCodes are recovery codes just made, on the security page:
	// shown once, on the answer to the form that made them.
	RecoveryCodes []string
	// Recovery says the second-step page asks for a recovery code rather
	// than a code of the authenticator app.
	Recovery bool
	// Passkeys says the app offers passkeys (Config.Passkeys): the login
	// page offers a passkey login, the security page lists them, and the
	// pages load passkey.js, which shows those parts when the browser can
	// do passkeys.
	Passkeys bool
	// PasskeyList is the account's passkeys, on the security page.
	PasskeyList []passkey.Credential
	// Providers are the login providers (Config.OIDC): the login page's
	// "Log in with" buttons, the linked-accounts page's "Link" buttons,
	// and a link to that page from the overview. Empty without OIDC.
	Providers []ProviderButton
	// Identities are the account's linked identities, on the
	// linked-accounts page; each has the ID its unlink form posts.
	Identities []IdentityItem
	// HasPassword: the account has a password, which unlinking asks for.
	HasPassword bool
}

// Factors is what second factors an account has.
type Factors struct {
	TOTP          bool // a confirmed TOTP key
	TOTPPending   bool // an enrolment awaiting its first code
	RecoveryCodes int  // unused recovery codes
	Passkeys      int  // passkeys (Config.Passkeys)
}

// Enrollment is a TOTP enrolment as the security page shows it.
type Enrollment struct {
	// Secret is the key in base32, for typing into an app.
	Secret string
	// URI is the otpauth:// URI (a link that opens an authenticator app
	// on the same device), and QR the URI as a QR code, a PNG in a
	// data: URL (the pages' Content-Security-Policy allows data: images).
	URI, QR template.URL
}

// pages serves the account pages of one Account.
type pages struct {
	a      *Account
	path   string
	tmpl   map[string]*template.Template
	css    []byte
	login  http.Handler
	second http.Handler // nil without auth.Config.SecondFactor
	out    http.Handler // logout
	// passwordless is auth's PasswordlessHandler (with Config.Passkeys).
	passwordless http.Handler
	js           []byte // passkey.js
	h            http.Handler
}

// newPages parses the templates, the app's first (overlay) and the
// embedded ones second, and builds the handler.
func (a *Account) newPages() (*pages, error) {
	p := &pages{a: a, path: a.cfg.PagesPath, tmpl: map[string]*template.Template{}}
	read := func(name string) ([]byte, error) {
		if a.cfg.Templates != nil {
			b, err := fs.ReadFile(a.cfg.Templates, name)
			if err == nil {
				return b, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("account: Config.Templates: %w", err)
			}
		}
		return embedded.ReadFile("templates/" + name)
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	// Apart from the layout, so that an app that overrides the layout
	// keeps the shared parts its pages use.
	partials, err := read("partials.html")
	if err != nil {
		return nil, err
	}
	for _, name := range pageNames {
		text, err := read(name + ".html")
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout.html").Parse(string(layout))
		if err == nil {
			t, err = t.New("partials.html").Parse(string(partials))
		}
		if err == nil {
			t, err = t.New(name + ".html").Parse(string(text))
		}
		if err != nil {
			return nil, fmt.Errorf("account: page template %s: %w", name, err)
		}
		if t.Lookup("layout") == nil {
			return nil, fmt.Errorf("account: page template %s: no template named \"layout\" (layout.html defines it)", name)
		}
		p.tmpl[name] = t
	}
	if p.css, err = read("style.css"); err != nil {
		return nil, err
	}

	co, err := a.crossOrigin(func(w http.ResponseWriter, r *http.Request) {
		p.message(w, r, http.StatusForbidden, auth.ErrCrossOrigin)
	})
	if err != nil {
		return nil, err
	}
	opts := auth.HandlerOptions{Cookies: a.cfg.Cookies, Project: a.cfg.Project, MaxBodyBytes: a.cfg.MaxBodyBytes,
		Client: a.cfg.Client, CrossOrigin: co, RememberMe: a.cfg.RememberMe}
	// A form login redirects here either way: with ?error=<code> when it
	// failed, and without when it worked, where the login page sends a
	// signed-in browser on to the overview.
	opts.Redirect = p.path + "/login"
	p.login = a.cfg.Auth.LoginHandler(opts)
	if a.cfg.Auth.SecondFactor() != nil {
		// The second step comes back to its own page either way: with
		// ?error=<code> to try again, and without once signed in, where
		// the page sends the browser on to the overview.
		opts.Redirect = p.path + "/second"
		p.second = a.cfg.Auth.SecondStepHandler(opts)
	}
	opts.Redirect = p.path + "/login?done=logged_out"
	p.out = a.cfg.Auth.LogoutHandler(opts)
	headers := pageHeaders
	if a.cfg.Passkeys != nil {
		// passkey.js posts JSON; its session goes in the cookie.
		opts.Redirect, opts.JSONCookie = "", true
		p.passwordless = a.cfg.Auth.PasswordlessHandler(opts)
		if p.js, err = embedded.ReadFile("templates/passkey.js"); err != nil {
			return nil, err
		}
		headers = passkeyPageHeaders
	}

	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, h) }
	handle("GET /{$}", p.signedIn(p.home))
	handle("GET /login", p.loginPage)
	mux.Handle("POST /login", p.login)
	handle("POST /logout", p.logout)
	handle("GET /signup", p.show("signup"))
	handle("POST /signup", p.signup)
	handle("GET /forgot", p.show("forgot"))
	handle("POST /forgot", p.forgot)
	handle("GET /reset", p.resetPage)
	handle("POST /reset", p.reset)
	handle("GET /confirm", p.confirmPage)
	handle("POST /confirm", p.confirm)
	handle("GET /check-email", p.checkEmail)
	handle("GET /password", p.signedIn(p.showSignedIn("password")))
	handle("POST /password", p.signedIn(p.changePassword))
	handle("GET /email", p.signedIn(p.showSignedIn("email")))
	handle("POST /email", p.signedIn(p.changeEmail))
	handle("POST /email/resend", p.signedIn(p.resend))
	handle("GET /sessions", p.signedIn(p.sessions))
	handle("POST /sessions/revoke", p.signedIn(p.revokeSession))
	handle("POST /sessions/revoke-others", p.signedIn(p.revokeOthers))
	handle("POST /devices/revoke", p.signedIn(p.revokeDevice))
	handle("POST /logout-everywhere", p.signedIn(p.logoutEverywhere))
	handle("GET /delete", p.signedIn(p.showSignedIn("delete")))
	handle("POST /delete", p.signedIn(p.deleteAccount))
	handle("GET /second", p.secondPage)
	handle("POST /second", p.secondStep)
	handle("GET /security", p.signedIn(p.security))
	handle("POST /security/totp", p.signedIn(p.enrollTOTP))
	handle("POST /security/totp/confirm", p.signedIn(p.confirmTOTP))
	handle("POST /security/totp/remove", p.signedIn(p.removeTOTP))
	handle("POST /security/recovery-codes", p.signedIn(p.regenerateCodes))
	handle("GET /style.css", p.style)
	if a.cfg.OIDC != nil {
		handle("GET /login/oidc/{provider}", p.oidcBegin)
		handle("GET /identities", p.signedIn(p.identitiesPage))
		handle("POST /identities/link", p.signedIn(p.linkIdentity))
		handle("POST /identities/unlink", p.signedIn(p.unlinkIdentity))
	}
	if a.cfg.Passkeys != nil {
		// The JSON routes passkey.js calls, and the forms of the
		// security page's list.
		handle("GET /passkey.js", p.script)
		handle("POST /login/passkey/options", a.apiPasswordlessOptions)
		mux.Handle("POST /login/passkey", p.passwordless)
		handle("POST /second/passkey/options", p.secondOptions)
		handle("POST /security/passkeys/options", p.signedIn(a.apiPasskeyOptions))
		handle("POST /security/passkeys", p.signedIn(a.apiAddPasskey))
		handle("POST /security/passkeys/rename", p.signedIn(p.renamePasskey))
		handle("POST /security/passkeys/remove", p.signedIn(p.removePasskey))
	}
	handle("/", func(w http.ResponseWriter, r *http.Request) { p.message(w, r, http.StatusNotFound, errNotFound) })
	p.h = withHeaders(headers, co.Handler(mux))
	return p, nil
}

// Pages serves the account pages: login, signup, forgotten and reset
// password, email confirmation, change of password and address, sessions
// and devices, account deletion and an overview. Mount it at
// Config.PagesPath with http.StripPrefix, beside the API:
//
//	mux.Handle("/account/", http.StripPrefix("/account", acct.API()))
//	mux.Handle("/account/pages/", http.StripPrefix("/account/pages", acct.Pages()))
//
// Its pages, under that path:
//
//	GET  /                  overview (signed in)
//	GET  /login, POST       login form (auth.LoginHandler); POST /logout
//	GET  /second, POST      second step of a login (auth.SecondStepHandler):
//	                        a code of the app, or ?use=recovery a recovery code
//	GET  /signup, POST      signup, then /check-email
//	GET  /forgot, POST      forgotten password, then /check-email
//	GET  /reset?token=, POST        new password from a mailed link
//	GET  /confirm?token=, POST      confirm an address from a mailed link
//	GET  /password, POST    change password (signed in)
//	GET  /email, POST       change address (signed in); POST /email/resend
//	GET  /sessions          sessions and devices (signed in); POST
//	                        /sessions/revoke, /sessions/revoke-others,
//	                        /devices/revoke, /logout-everywhere
//	GET  /delete, POST      delete the account (signed in)
//	GET  /security          second factors (signed in, Config.MFA); POST
//	                        /security/totp (start), /security/totp/confirm,
//	                        /security/totp/remove, /security/recovery-codes
//	GET  /style.css
//
// With Config.OIDC, the login page has a "Log in with <Provider>" button
// per provider, each a link to GET /login/oidc/{provider} (a redirect to
// the provider; the callback is the API's), and a linked-accounts page
// (signed in) lists the account's providers: GET /identities, POST
// /identities/link (form: provider; a redirect to the provider) and POST
// /identities/unlink (form: id, password).
//
// With Config.Passkeys, passkey.js (GET /passkey.js) adds a passkey login
// to the login page, a passkey second step to /second and a list of
// passkeys to /security, calling JSON routes of the pages:
// POST /login/passkey/options, /login/passkey, /second/passkey/options,
// /security/passkeys/options and /security/passkeys; the list's forms
// post to /security/passkeys/rename and /security/passkeys/remove.
//
// The pages keep the session in the cookie, so they need Config.Cookies
// (the Cookies Config.Guard reads): without it New succeeds for the API
// alone and Pages panics. Every POST must come from the app's own origin
// (http.CrossOriginProtection); pages of a session send a browser
// without one to the login page. Links in mail go to the pages with
// [PageLink]; templates are overridden with Config.Templates.
//
// Every page answers with Cache-Control: no-store, Referrer-Policy:
// no-referrer (the reset page's address holds its token), X-Frame-Options:
// DENY and a Content-Security-Policy that allows the page's own style
// sheet and nothing else (with Config.Passkeys, also its own passkey.js
// and fetches to its own origin; never inline script). A header the app's middleware set before
// calling Pages is kept: templates that load scripts or fonts set their
// own policy there.
func (a *Account) Pages() http.Handler {
	if a.pages == nil {
		panic("account: Pages needs Config.Cookies: the pages keep the session in a cookie")
	}
	return a.pages.h
}

// PageLink returns the link a Mailer puts in a message of auth's or of
// this package's for a user to open the pages mounted at base (an
// absolute URL, such as "https://app.example/account/pages"): the
// confirm page for an address to confirm, the reset page for a forgotten
// password. It returns "" for a message without a token, a notice.
func PageLink(base string, m auth.Message) string {
	if m.Token == "" {
		return ""
	}
	base = strings.TrimSuffix(base, "/")
	switch m.Purpose {
	case auth.PurposeConfirmEmail, PurposeConfirmNewEmail:
		return base + "/confirm?token=" + url.QueryEscape(m.Token)
	case auth.PurposeResetPassword:
		return base + "/reset?token=" + url.QueryEscape(m.Token)
	}
	return ""
}

// pageHeaders are what every page answers with: no caching of pages that
// show an account, no Referer (a reset link's token is in the page's
// address), no framing (clickjacking), and a policy that lets a page load
// its own style sheet and nothing else, and post only to its own origin.
var pageHeaders = [][2]string{
	{"Cache-Control", "no-store"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
}

// passkeyPageHeaders are pageHeaders with passkeys: the policy lets a
// page run its own passkey.js and fetch from its own origin too, still
// no inline script and nothing from elsewhere.
var passkeyPageHeaders = [][2]string{
	pageHeaders[0], pageHeaders[1], pageHeaders[2], pageHeaders[3],
	{"Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
}

// withHeaders sets headers, each unless the app's middleware set it
// before: an app whose templates need more sets its own policy.
func withHeaders(headers [][2]string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		for _, kv := range headers {
			if hd.Get(kv[0]) == "" {
				hd.Set(kv[0], kv[1])
			}
		}
		h.ServeHTTP(w, r)
	})
}

// render executes the page's template into a buffer, so that a template
// error is answered 500 rather than half a page.
func (p *pages) render(w http.ResponseWriter, status int, name string, d PageData) {
	d.Page, d.Path, d.RememberMe, d.MFA = name, p.path, p.a.cfg.RememberMe, p.a.cfg.MFA != nil
	d.Passkeys = p.a.cfg.Passkeys != nil
	d.Providers = p.a.providerButtons()
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		http.Error(w, "account: page template "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// message renders the message page for err, with its status.
func (p *pages) message(w http.ResponseWriter, r *http.Request, status int, err error) {
	d := PageData{Status: status}
	d.setError("message", err)
	p.render(w, status, "message", d)
}

// redirect answers 303 to a page, with a query of code=value pairs.
func (p *pages) redirect(w http.ResponseWriter, r *http.Request, page string, query ...string) {
	u := p.path + page
	if len(query) > 0 {
		v := url.Values{}
		for i := 0; i+1 < len(query); i += 2 {
			v.Set(query[i], query[i+1])
		}
		u += "?" + v.Encode()
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (d *PageData) setError(page string, err error) {
	if err == nil {
		return
	}
	pr := problem.Of(err)
	d.ErrorCode, d.ErrorField = pr.Code, pr.Field
	d.Error = errorSentence(page, pr.Code, pr.Field)
}

// status is the status to render a page with after err: its problem's,
// or 200.
func status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return problem.Of(err).Status
}

// form reads a posted form within the body limit.
func (p *pages) form(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, p.a.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, httpbody.ErrTooLarge
		}
		return nil, httpbody.ErrMalformed
	}
	return r.PostForm, nil
}

// do reads the form and the client, and runs f with them.
func (p *pages) do(w http.ResponseWriter, r *http.Request, f func(v url.Values, client netip.Prefix) error) (url.Values, error) {
	v, err := p.form(w, r)
	if err != nil {
		return url.Values{}, err
	}
	client, err := p.a.client(r)
	if err != nil {
		return v, err
	}
	return v, f(v, client)
}

// show renders an anonymous page with the notice of ?done=.
func (p *pages) show(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := PageData{}
		d.setNotice(r)
		p.render(w, http.StatusOK, name, d)
	}
}

func (p *pages) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(p.js)
}

func (p *pages) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(p.css)
}

// loginPage shows the login form, or sends a signed-in browser on to
// the overview (a login that worked comes back here).
func (p *pages) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("error") == problem.Of(auth.ErrSecondFactor).Code && p.second != nil {
		// The password was right: the login handler left the pending
		// token in auth.PendingCookie, and the second step asks for the
		// code.
		p.redirect(w, r, "/second")
		return
	}
	if q.Get("error") == "" {
		if _, err := p.a.cfg.Guard.AuthenticateOrRestore(w, r); err == nil {
			if done := q.Get("done"); done != "" && notices[done] != "" {
				p.redirect(w, r, "/", "done", done)
				return
			}
			p.redirect(w, r, "/")
			return
		}
	}
	d := PageData{}
	d.setNotice(r)
	if code := q.Get("error"); code != "" {
		d.ErrorCode = code
		d.Error = errorSentence("login", code, "")
	}
	p.render(w, http.StatusOK, "login", d)
}

// logout ends the cookie's session and the browser's remember-me chain;
// a browser with neither is logged out already. One whose session cookie
// ran out but that holds a remember-me cookie is not: the next page would
// bring its session back, so the logout handler ends the chain.
func (p *pages) logout(w http.ResponseWriter, r *http.Request) {
	if p.a.cfg.Cookies.SessionToken(r, p.a.cfg.Project(r)) == "" && len(r.CookiesNamed(auth.RememberCookie)) == 0 {
		p.redirect(w, r, "/login", "done", "logged_out")
		return
	}
	p.out.ServeHTTP(w, r)
}

func (p *pages) signup(w http.ResponseWriter, r *http.Request) {
	v, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.signup(r.Context(), c, v.Get("email"), v.Get("password"), v.Get("username"))
	})
	if err != nil {
		d := PageData{Values: map[string]string{"email": v.Get("email"), "username": v.Get("username")}}
		d.setError("signup", err)
		p.render(w, status(err), "signup", d)
		return
	}
	p.redirect(w, r, "/check-email", "for", "signup")
}

func (p *pages) forgot(w http.ResponseWriter, r *http.Request) {
	v, err := p.do(w, r, func(v url.Values, c netip.Prefix) error { return p.a.forgotPassword(r.Context(), c, v.Get("email")) })
	if err != nil {
		d := PageData{Values: map[string]string{"email": v.Get("email")}}
		d.setError("forgot", err)
		p.render(w, status(err), "forgot", d)
		return
	}
	p.redirect(w, r, "/check-email", "for", "reset")
}

func (p *pages) resetPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "reset", PageData{Token: r.URL.Query().Get("token")})
}

func (p *pages) reset(w http.ResponseWriter, r *http.Request) {
	v, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.resetPassword(r.Context(), c, v.Get("token"), v.Get("password"))
	})
	if err != nil {
		d := PageData{Token: v.Get("token")}
		d.setError("reset", err)
		p.render(w, status(err), "reset", d)
		return
	}
	p.redirect(w, r, "/login", "done", "password_reset")
}

// confirmPage shows the link's button: opening the link spends nothing,
// since mail scanners open links; the button posts the token.
func (p *pages) confirmPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "confirm", PageData{Token: r.URL.Query().Get("token")})
}

func (p *pages) confirm(w http.ResponseWriter, r *http.Request) {
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		if v.Get("token") == "" {
			return errBadLink
		}
		_, err := p.a.confirmEmail(r.Context(), c, v.Get("token"))
		return err
	})
	if err != nil {
		// The token is not shown again: whatever was wrong with it, it
		// will not confirm anything on a second press.
		d := PageData{}
		d.setError("confirm", err)
		p.render(w, status(err), "confirm", d)
		return
	}
	p.redirect(w, r, "/login", "done", "email_confirmed")
}

func (p *pages) checkEmail(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("for")
	switch kind {
	case "signup", "reset", "email", "confirm":
	default:
		kind = "signup"
	}
	p.render(w, http.StatusOK, "check-email", PageData{Kind: kind})
}

const errGuardCookies = "account: Config.Guard does not read Config.Cookies: build it with middleware.GuardConfig{Cookies: cfg.Cookies}"

// signedIn runs h with the session of the request's cookie (through the
// Guard), or sends the browser to the login page: with "your session has
// ended" when it showed a session that is no longer valid, whose cookie
// it clears.
func (p *pages) signedIn(h func(http.ResponseWriter, *http.Request, session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pr, err := p.a.cfg.Guard.AuthenticateOrRestore(w, r)
		var u auth.User
		if err == nil {
			u, err = p.a.users.FindSubject(r.Context(), pr.Subject)
			if errors.Is(err, auth.ErrUnknownUser) {
				err = errGone
			}
		}
		switch {
		case err == nil:
			h(w, r, session{p: pr, user: u})
		case errors.Is(err, middleware.ErrNoToken) && r.Header.Get("Authorization") == "" &&
			p.a.cfg.Cookies.SessionToken(r, p.a.cfg.Project(r)) != "":
			// The browser holds a session cookie the Guard did not read: a
			// Guard built without these Cookies. Every signed-in page would
			// send the user back to log in, for ever; say why instead.
			http.Error(w, errGuardCookies, http.StatusInternalServerError)
		case errors.Is(err, middleware.ErrNoToken):
			p.redirect(w, r, "/login")
		case errors.Is(err, middleware.ErrCrossOrigin), errors.Is(err, store.ErrUnavailable),
			errors.Is(err, middleware.ErrWrongProject), problem.Of(err).Status >= 500:
			p.message(w, r, status(err), err)
		default:
			p.a.clearCookie(w, r)
			p.redirect(w, r, "/login", "error", problem.Of(err).Code)
		}
	}
}

// showSignedIn renders a page of a session with the notice of ?done= and
// the error of ?error=.
func (p *pages) showSignedIn(name string) func(http.ResponseWriter, *http.Request, session) {
	return func(w http.ResponseWriter, r *http.Request, s session) {
		d := p.sessionData(r, s, name)
		p.needsCode(r, s, name, &d)
		p.render(w, http.StatusOK, name, d)
	}
}

// factorPages are the pages whose forms a session below level 2 of an
// account with a second factor completes with a code of it as well.
var factorPages = map[string]bool{"password": true, "email": true, "delete": true, "identities": true}

// needsCode sets NeedsCode (and NeedsPasskeyLogin) on the data of a page
// of factorPages, as securityData does.
func (p *pages) needsCode(r *http.Request, s session, page string, d *PageData) {
	if !factorPages[page] || p.a.cfg.MFA == nil || s.p.Assurance >= auth.AssuranceMultiFactor {
		return
	}
	st, err := p.a.mfaStatus(r.Context(), s.user.Subject)
	if err != nil {
		d.NeedsCode = true // the post will say; ask for the code to be safe
		return
	}
	need := st.TOTP || st.Passkeys > 0
	d.NeedsPasskeyLogin = need && !st.TOTP && st.RecoveryCodes == 0
	d.NeedsCode = need && !d.NeedsPasskeyLogin
}

func (p *pages) sessionData(r *http.Request, s session, page string) PageData {
	u := s.user
	d := PageData{User: &u, SessionID: s.p.SessionID()}
	d.setNotice(r)
	if code := r.URL.Query().Get("error"); code != "" {
		d.ErrorCode = code
		d.Error = errorSentence(page, code, "")
	}
	return d
}

func (p *pages) home(w http.ResponseWriter, r *http.Request, s session) {
	p.render(w, http.StatusOK, "home", p.sessionData(r, s, "home"))
}

// after renders the page again with err, or redirects on success.
func (p *pages) after(w http.ResponseWriter, r *http.Request, s session, page string, err error, values map[string]string) {
	d := p.sessionData(r, s, page)
	p.needsCode(r, s, page, &d)
	d.Notice, d.NoticeCode, d.Values = "", "", values
	d.setError(page, err)
	if fe := (*auth.FieldError)(nil); errors.As(err, &fe) && fe.Reason == reasonSameEmail {
		d.Error = "That is already your address."
	}
	p.render(w, status(err), page, d)
}

func (p *pages) changePassword(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.changePassword(r.Context(), c, info(r), s, v.Get("current_password"), v.Get("new_password"), v.Get("code"))
	})
	if err != nil {
		p.after(w, r, s, "password", err, nil)
		return
	}
	p.redirect(w, r, "/", "done", "password_changed")
}

func (p *pages) changeEmail(w http.ResponseWriter, r *http.Request, s session) {
	v, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.changeEmail(r.Context(), c, info(r), s, v.Get("email"), v.Get("password"), v.Get("code"))
	})
	if err != nil {
		p.after(w, r, s, "email", err, map[string]string{"email": v.Get("email")})
		return
	}
	p.redirect(w, r, "/check-email", "for", "email")
}

func (p *pages) resend(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(_ url.Values, c netip.Prefix) error { return p.a.resendConfirmation(r.Context(), c, s.user) })
	if err != nil {
		p.redirect(w, r, "/", "error", problem.Of(err).Code)
		return
	}
	p.redirect(w, r, "/check-email", "for", "confirm")
}

func (p *pages) sessions(w http.ResponseWriter, r *http.Request, s session) {
	d := p.sessionData(r, s, "sessions")
	var err error
	d.Sessions, err = p.a.cfg.Auth.Sessions(r.Context(), s.p.Subject, s.p.SessionID())
	if err == nil {
		d.Devices, err = p.a.cfg.Auth.Devices(r.Context(), s.p.Subject)
	}
	if err != nil {
		p.message(w, r, status(err), err)
		return
	}
	// This browser's session first, then the others, newest first.
	slices.SortStableFunc(d.Sessions, func(x, y auth.SessionInfo) int {
		switch {
		case x.Current == y.Current:
			return 0
		case x.Current:
			return -1
		}
		return 1
	})
	p.render(w, http.StatusOK, "sessions", d)
}

func (p *pages) revokeSession(w http.ResponseWriter, r *http.Request, s session) {
	var current bool
	_, err := p.do(w, r, func(v url.Values, _ netip.Prefix) error {
		id := v.Get("id")
		ended, err := p.a.cfg.Auth.RevokeSession(r.Context(), s.p.Subject, id)
		if err == nil && !ended {
			err = errNoSuchSession
		}
		current = err == nil && id == s.p.SessionID()
		return err
	})
	switch {
	case err != nil:
		p.redirect(w, r, "/sessions", "error", problem.Of(err).Code)
	case current:
		p.a.clearCookie(w, r)
		p.redirect(w, r, "/login", "done", "logged_out")
	default:
		p.redirect(w, r, "/sessions", "done", "session_revoked")
	}
}

func (p *pages) revokeOthers(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(url.Values, netip.Prefix) error {
		_, err := p.a.cfg.Auth.RevokeOtherSessions(r.Context(), s.p.Subject, s.p.SessionID())
		return err
	})
	if err != nil {
		p.redirect(w, r, "/sessions", "error", problem.Of(err).Code)
		return
	}
	p.redirect(w, r, "/sessions", "done", "others_revoked")
}

func (p *pages) revokeDevice(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(v url.Values, _ netip.Prefix) error {
		n, err := p.a.cfg.Auth.RevokeDevice(r.Context(), s.p.Subject, v.Get("name"))
		if err == nil && n == 0 {
			err = errNoSuchDevice
		}
		return err
	})
	if err != nil {
		p.redirect(w, r, "/sessions", "error", problem.Of(err).Code)
		return
	}
	p.redirect(w, r, "/sessions", "done", "device_revoked")
}

func (p *pages) logoutEverywhere(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(url.Values, netip.Prefix) error {
		_, err := p.a.cfg.Auth.LogoutEverywhere(r.Context(), s.p.Subject)
		return err
	})
	if err != nil {
		p.redirect(w, r, "/sessions", "error", problem.Of(err).Code)
		return
	}
	p.a.clearCookie(w, r)
	p.redirect(w, r, "/login", "done", "logged_out_everywhere")
}

func (p *pages) deleteAccount(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.deleteAccount(r.Context(), c, info(r), s, v.Get("password"), v.Get("code"))
	})
	if err != nil {
		p.after(w, r, s, "delete", err, nil)
		return
	}
	p.a.clearCookie(w, r)
	p.redirect(w, r, "/login", "done", "account_deleted")
}
