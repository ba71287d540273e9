package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/internal/httpbody"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// SessionCookies sets, reads and clears the browser's session cookie for a
// project. *middleware.Cookies implements it.
type SessionCookies interface {
	SetSession(w http.ResponseWriter, r *http.Request, project, token string, expires time.Time) error
	SessionToken(r *http.Request, project string) string
	ClearSession(w http.ResponseWriter, r *http.Request, project string) error
}

// HandlerOptions configure the login and logout handlers. The zero value
// serves JSON clients only, with no project.
type HandlerOptions struct {
	// Cookies, when set, lets browsers log in with a form: the session is
	// set as a cookie and the browser redirected.
	Cookies SessionCookies
	// Project names the project a login is for; default none ("").
	Project func(*http.Request) string
	// Redirect is where a browser goes after a form login or logout, and,
	// with "?error=<code>" added, after a failed one; default "/".
	Redirect string
	// MaxBodyBytes bounds the request body; default 64 KiB.
	MaxBodyBytes int64
	// Client returns the client's network, for the per-client rate limit,
	// lockout and hashing turn; default clientaddr.FromRequest (RemoteAddr,
	// IPv6 grouped by /64). Behind a reverse proxy pass the Client method
	// of a clientaddr.Resolver that names the proxy's networks: it reads
	// the forwarding header only from them. An error is answered as is
	// (400 invalid_forwarded, say) and nothing is checked.
	Client func(*http.Request) (netip.Prefix, error)
	// CrossOrigin guards form posts against cross-site requests; default
	// a new http.CrossOriginProtection. Requests from non-browser clients
	// pass it.
	CrossOrigin *http.CrossOriginProtection
	// JSONCookie gives JSON logins their session as the cookie (Cookies
	// required), as a single-page app on the site wants: the answer is
	// {"expires_at"} with no token for script to read. Without it a JSON
	// login may still ask for the cookie with "session": "cookie" in its
	// body; either way, requests that then authenticate with the cookie
	// are guarded against cross-site use (middleware.Guard).
	JSONCookie bool
	// KeepDeviceOnLogout makes LogoutHandler end only the session it is
	// given (Authenticator.LogoutKeepDevice). By default a session issued
	// from a device chain (LoginDevice, ReAuthenticate) logs out with its
	// chain (Authenticator.Logout), so that the device cannot sign back in
	// without the password; with this set, it can.
	KeepDeviceOnLogout bool
	// RememberMe lets a login ask to be remembered: with "remember": true
	// in a JSON body, or a form field "remember" of "on", "true", "1" or
	// "yes" (a checkbox), a login whose session goes into the cookie
	// starts a browser remember-me chain (Authenticator.LoginRemembered)
	// and keeps it in the RememberCookie cookie, which a middleware.Guard
	// with Authenticator.RememberMe redeems when the session is gone. A
	// JSON login that takes its session as a token and asks to be
	// remembered is 400 invalid_field "remember": a token client keeps a
	// device token instead (LoginDevice). Default off: the field is
	// ignored, and a browser logs in again when its session ends.
	// LogoutHandler ends a remembered chain whatever this says.
	RememberMe bool
}

func (o HandlerOptions) withDefaults() HandlerOptions {
	if o.Redirect == "" {
		o.Redirect = "/"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = httpbody.DefaultMaxBytes
	}
	if o.Client == nil {
		o.Client = func(r *http.Request) (netip.Prefix, error) { return clientaddr.FromRequest(r), nil }
	}
	if o.Project == nil {
		o.Project = func(*http.Request) string { return "" }
	}
	if o.CrossOrigin == nil {
		o.CrossOrigin = http.NewCrossOriginProtection()
		o.CrossOrigin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, ErrCrossOrigin)
		}))
	}
	return o
}

// loginRequest is the body of a login: JSON {"username"|"email"|"login",
// "password"} or the same fields as a form.
type loginRequest struct {
	Login    string `json:"login"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
	// Session is how a JSON client wants its session: "cookie", or
	// "token" (and "" for the handler's default).
	Session string `json:"session"`
	// Remember asks for a remember-me cookie (HandlerOptions.RememberMe).
	Remember bool `json:"remember"`
	// TrustedDevice is a token client's trust token (a browser's is in
	// TrustCookie).
	TrustedDevice string `json:"trusted_device"`
}

// identifier returns the first of Login, Username and Email that is set.
func (l loginRequest) identifier() string {
	for _, s := range []string{l.Login, l.Username, l.Email} {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// readLogin reads a loginRequest from a JSON or form body of at most max
// bytes, and reports whether the body was a form.
func readLogin(w http.ResponseWriter, r *http.Request, max int64) (req loginRequest, form bool, err error) {
	form, err = httpbody.Decode(w, r, max, &req, func(v url.Values) {
		req = loginRequest{Login: v.Get("login"), Username: v.Get("username"), Email: v.Get("email"), Password: v.Get("password")}
		switch strings.ToLower(v.Get("remember")) {
		case "on", "true", "1", "yes":
			req.Remember = true
		}
	})
	return req, form, err
}

// loginResponse is the JSON answer to a successful login; Token is
// empty (and left out) when the session went into the cookie.
type loginResponse struct {
	Token     string    `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	// TrustedDevice is a token client's new trust token (a browser gets
	// TrustCookie instead), when its login used or asked for one.
	TrustedDevice          string     `json:"trusted_device,omitempty"`
	TrustedDeviceExpiresAt *time.Time `json:"trusted_device_expires_at,omitempty"`
}

// jsonSession reads a JSON client's "session" field: whether its session
// goes into the cookie ("cookie", or "" with JSONCookie) or comes back as
// a token ("token"); anything else, or a cookie from a handler without
// Cookies, is a *FieldError.
func (o HandlerOptions) jsonSession(session string) (cookie bool, err error) {
	switch session {
	case "":
		cookie = o.JSONCookie
	case "cookie":
		cookie = true
	case "token":
	default:
		return false, errSessionKind
	}
	if cookie && o.Cookies == nil {
		return false, errNoCookies
	}
	return cookie, nil
}

// errSessionKind: a JSON login asked for a session it cannot have.
var errSessionKind = &FieldError{Field: "session", Reason: `want "cookie" or "token"`}

// errNoCookies: a JSON login asked for a cookie from a handler without Cookies.
var errNoCookies = &FieldError{Field: "session", Reason: "this endpoint sets no cookies"}

// errRememberToken: a JSON login asked to be remembered and for its
// session as a token.
var errRememberToken = &FieldError{Field: "remember", Reason: "needs the session in a cookie"}

// LoginHandler logs users in. A JSON body {"login" (or "username" or
// "email"), "password"}, is answered 200 with {"token", "expires_at"}, or
// with the session cookie and {"expires_at"} when Options.JSONCookie is
// set or the body says "session": "cookie"; a form body (with
// Options.Cookies) sets the session cookie and redirects (303) to
// Options.Redirect. A login whose session goes into the cookie asks to be
// remembered with "remember" (Options.RememberMe), and ends the
// remember-me chain the browser held before (see RememberCookie). Either
// way a successful login sets the known-device cookie (see SetKnownDeviceCookie), and a login presenting
// it is not locked out by other clients' failures. Errors are answered with their
// Problem as JSON, or for forms by a redirect carrying ?error=<code>.
//
// With Config.SecondFactor, a right password of an account that has a
// second factor is answered 401 {"code": "second_factor_required",
// "message", "pending", "expires_at"} (a form: the PendingCookie and a
// redirect carrying ?error=second_factor_required), and sets no session,
// remember-me or known-device cookie: SecondStepHandler takes it from
// there. A trusted device (TrustCookie, or a token client's
// "trusted_device") skips the second step once per token, and the
// answer carries its successor (see TrustDevice).
func (a *Authenticator) LoginHandler(opts HandlerOptions) http.Handler {
	o := opts.withDefaults()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		req, form, err := readLogin(w, r, o.MaxBodyBytes)
		// A form comes from a browser, which gets a cookie and redirects;
		// without Cookies there is nowhere to keep its session.
		browser := form && o.Cookies != nil
		if err == nil && form && !browser {
			err = httpbody.ErrMediaType
		}
		// A JSON client that keeps its session in the cookie.
		jsonCookie := false
		if err == nil && !form {
			jsonCookie, err = o.jsonSession(req.Session)
		}
		// A login that asked to be remembered, where the app allows it.
		remember := o.RememberMe && req.Remember
		if err == nil && remember && !browser && !jsonCookie {
			err = errRememberToken
		}
		var client netip.Prefix
		if err == nil {
			client, err = o.Client(r)
		}
		var s Session
		var ds DeviceSession
		if err == nil {
			c := Credentials{Login: req.identifier(), Password: req.Password, Client: client, KnownDevice: KnownDeviceFromRequest(r),
				TrustedDevice: req.TrustedDevice}
			if browser || jsonCookie {
				c.TrustedDevice = TrustFromRequest(r)
			}
			if remember {
				ds, err = a.LoginRemembered(r.Context(), c, o.Project(r))
				s = ds.Session
			} else {
				s, err = a.Login(r.Context(), c, o.Project(r))
			}
		}
		if err == nil {
			err = a.keepLogin(w, r, o, s, ds, remember, browser || jsonCookie)
		}
		var pending *SecondFactorError
		if errors.As(err, &pending) && browser {
			// A form login's pending token goes into a short-lived cookie
			// of its own (never the URL): it is no session, and the
			// second-step form posts it back.
			a.setPendingCookie(w, pending)
		}
		if pending != nil && !browser {
			// The password was right; nothing is issued but the pending
			// token the client sends to the second step.
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusUnauthorized, pendingResponse{Code: "second_factor_required",
				Message: problem.Of(ErrSecondFactor).Message, Pending: pending.Pending, ExpiresAt: pending.ExpiresAt.UTC()})
			return
		}
		answerLogin(w, r, o, s, err, browser, jsonCookie)
	})
	return o.CrossOrigin.Handler(h)
}

// keepLogin leaves in the response what a successful login leaves: with
// cookie, the session cookie (ending the session the browser held), the
// remember-me cookie of a remembered login (ds), the end of the chain the
// browser was remembered by before; and the known-device cookie. Shared
// by the login and the second-step handlers.
func (a *Authenticator) keepLogin(w http.ResponseWriter, r *http.Request, o HandlerOptions, s Session, ds DeviceSession, remembered, cookie bool) error {
	if cookie {
		prev := o.Cookies.SessionToken(r, s.Project)
		if err := o.Cookies.SetSession(w, r, s.Project, s.Token, s.ExpiresAt); err != nil {
			return err
		}
		if prev != "" && prev != s.Token {
			// The session this browser held is replaced, so it ends
			// (OWASP ASVS 5.0 7.2.4). Best effort: the new one stands.
			// A password login says nothing of a device the old session
			// came from, so its chain stays; the browser's own
			// remember-me chain is ended below.
			_ = a.LogoutKeepDevice(r.Context(), prev)
		}
	}
	if remembered {
		if err := a.SetRememberCookie(w, ds); err != nil {
			return err
		}
	}
	if cookie && len(r.CookiesNamed(RememberCookie)) > 0 {
		// A login replaces what the browser held, its remember-me chain
		// too: end it, so that no copy of its cookie signs anyone in,
		// and, unless a new one was just set, clear the cookie, or the
		// browser of a user who logs in after another would come back as
		// the other once its session ends. Best effort: the new session
		// stands.
		if device, token, ok := RememberFromRequest(r); ok {
			_ = a.ForgetRemembered(r.Context(), device, token)
		}
		if !remembered {
			ClearRememberCookie(w)
		}
	}
	SetKnownDeviceCookie(w, s.KnownDevice)
	if cookie && s.Trust.Token != "" {
		a.SetTrustCookie(w, s.Trust)
	}
	return nil
}

// answerLogin answers a login or second step: a browser (a form) is
// redirected to o.Redirect, with ?error=<code> when err is set; a JSON
// client gets err's problem, or the session as the cookie (jsonCookie)
// or as a token.
func answerLogin(w http.ResponseWriter, r *http.Request, o HandlerOptions, s Session, err error, browser, jsonCookie bool) {
	switch {
	case err != nil && browser:
		http.Redirect(w, r, withQuery(o.Redirect, "error", problem.Of(err).Code), http.StatusSeeOther)
	case err != nil:
		problem.Write(w, err)
	case browser:
		http.Redirect(w, r, o.Redirect, http.StatusSeeOther)
	case jsonCookie:
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, loginResponse{ExpiresAt: s.ExpiresAt.UTC()})
	default:
		w.Header().Set("Cache-Control", "no-store")
		resp := loginResponse{Token: s.Token, ExpiresAt: s.ExpiresAt.UTC()}
		if s.Trust.Token != "" {
			at := s.Trust.ExpiresAt.UTC()
			resp.TrustedDevice, resp.TrustedDeviceExpiresAt = s.Trust.Token, &at
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// LogoutHandler ends the session presented as a bearer token or, with
// Options.Cookies, as the cookie (which it clears). A session issued from a
// device chain ends with its chain, device token included (see
// Authenticator.Logout), unless Options.KeepDeviceOnLogout. With
// Options.Cookies, a browser's remember-me chain (RememberCookie) ends too,
// whatever KeepDeviceOnLogout says, and its cookie is cleared: a browser
// that logged out does not come back without the password. It answers
// 204, or for a form post a 303 to Options.Redirect. An unknown or expired
// session is already logged out: 204 too. No token at all (no session and
// no remember-me cookie) is 401 missing_token.
func (a *Authenticator) LogoutHandler(opts HandlerOptions) http.Handler {
	o := opts.withDefaults()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		project := o.Project(r)
		token, fromCookie := tokens.FromAuthorization(r.Header.Get("Authorization")), false
		if token == "" && o.Cookies != nil {
			token, fromCookie = o.Cookies.SessionToken(r, project), true
		}
		// A browser's remember-me cookie, well-formed or not: either way
		// it is cleared.
		remembered := fromCookie && len(r.CookiesNamed(RememberCookie)) > 0
		if token == "" && !remembered {
			problem.Write(w, tokens.ErrMissing)
			return
		}
		logout := a.Logout
		if o.KeepDeviceOnLogout {
			logout = a.LogoutKeepDevice
		}
		if token != "" {
			if err := logout(r.Context(), token); err != nil {
				problem.Write(w, err)
				return
			}
		}
		if remembered {
			if device, rtoken, ok := RememberFromRequest(r); ok {
				if err := a.ForgetRemembered(r.Context(), device, rtoken); err != nil {
					problem.Write(w, err)
					return
				}
			}
			ClearRememberCookie(w)
		}
		if fromCookie {
			if err := o.Cookies.ClearSession(w, r, project); err != nil {
				problem.Write(w, err)
				return
			}
		}
		if httpbody.IsForm(r) {
			http.Redirect(w, r, o.Redirect, http.StatusSeeOther)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return o.CrossOrigin.Handler(h)
}

// postOnly answers 405 to anything but POST and reports whether r is one.
func postOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func withQuery(target, key, value string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + key + "=" + url.QueryEscape(value)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
