package auth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/problem"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// DefaultMaxBodyBytes bounds request bodies the handlers read.
const DefaultMaxBodyBytes = 64 << 10

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
	// ClientAddr returns the client's address for per-client lockout;
	// default the host of r.RemoteAddr. Behind a proxy, return the address
	// the proxy vouches for, never a header the client can set freely.
	ClientAddr func(*http.Request) string
	// CrossOrigin guards form posts against cross-site requests; default
	// a new http.CrossOriginProtection. Requests from non-browser clients
	// pass it.
	CrossOrigin *http.CrossOriginProtection
}

func (o HandlerOptions) withDefaults() HandlerOptions {
	if o.Redirect == "" {
		o.Redirect = "/"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ClientAddr == nil {
		o.ClientAddr = RemoteHost
	}
	if o.Project == nil {
		o.Project = func(*http.Request) string { return "" }
	}
	if o.CrossOrigin == nil {
		o.CrossOrigin = http.NewCrossOriginProtection()
		o.CrossOrigin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, problem.ErrCrossOrigin)
		}))
	}
	return o
}

// RemoteHost returns the host part of r.RemoteAddr.
func RemoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// LoginRequest is the body of a login: JSON {"username"|"email"|"login",
// "password"} or the same fields as a form.
type LoginRequest struct {
	Login    string `json:"login"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Identifier returns the first of Login, Username and Email that is set.
func (l LoginRequest) Identifier() string {
	for _, s := range []string{l.Login, l.Username, l.Email} {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// ReadLogin reads a LoginRequest from a JSON or form body of at most max
// bytes. It reports whether the body was a form, and errors with stable
// codes: ErrMediaType, ErrBodyTooLarge, ErrBadBody.
func ReadLogin(w http.ResponseWriter, r *http.Request, max int64) (req LoginRequest, form bool, err error) {
	form, err = DecodeBody(w, r, max, &req, func(v url.Values) {
		req = LoginRequest{Login: v.Get("login"), Username: v.Get("username"), Email: v.Get("email"), Password: v.Get("password")}
	})
	return req, form, err
}

// DecodeBody reads a JSON body into dst, or hands a form body to fromForm,
// reading at most max bytes. It reports whether the body was a form.
// Handlers of the examples use it for their own request shapes.
func DecodeBody(w http.ResponseWriter, r *http.Request, max int64, dst any, fromForm func(url.Values)) (form bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, max)
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false, ErrMediaType
	}
	switch {
	case mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"):
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(dst); err != nil {
			return false, bodyError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return false, bodyError(err) // trailing data after the object
		}
		return false, nil
	case mt == "application/x-www-form-urlencoded" && fromForm != nil:
		if err := r.ParseForm(); err != nil {
			return true, bodyError(err)
		}
		fromForm(r.PostForm)
		return true, nil
	default:
		return false, ErrMediaType
	}
}

func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return ErrBodyTooLarge
	}
	return errors.Join(ErrBadBody, err)
}

// LoginResponse is the JSON answer to a successful login.
type LoginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// LoginHandler logs users in. A JSON body is answered 200 with a
// LoginResponse; a form body (with Options.Cookies) sets the session cookie
// and redirects (303) to Options.Redirect. Errors are answered with their
// Problem as JSON, or for forms by a redirect carrying ?error=<code>.
func (a *Authenticator) LoginHandler(opts HandlerOptions) http.Handler {
	o := opts.withDefaults()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		req, form, err := ReadLogin(w, r, o.MaxBodyBytes)
		// A form comes from a browser, which gets a cookie and redirects;
		// without Cookies there is nowhere to keep its session.
		browser := form && o.Cookies != nil
		if err == nil && form && !browser {
			err = ErrMediaType
		}
		var s Session
		if err == nil {
			s, err = a.Login(r.Context(), Credentials{Login: req.Identifier(), Password: req.Password, ClientAddr: o.ClientAddr(r)}, o.Project(r))
		}
		if err == nil && browser {
			prev := o.Cookies.SessionToken(r, s.Project)
			if err = o.Cookies.SetSession(w, r, s.Project, s.Token, s.ExpiresAt); err == nil && prev != "" && prev != s.Token {
				// The session this browser held is replaced, so it ends
				// (OWASP ASVS 5.0 7.2.4). Best effort: the new one stands.
				_ = a.Logout(r.Context(), prev)
			}
		}
		switch {
		case err != nil && browser:
			http.Redirect(w, r, withQuery(o.Redirect, "error", ProblemOf(err).Code), http.StatusSeeOther)
		case err != nil:
			WriteError(w, err)
		case browser:
			http.Redirect(w, r, o.Redirect, http.StatusSeeOther)
		default:
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusOK, LoginResponse{Token: s.Token, ExpiresAt: s.ExpiresAt.UTC()})
		}
	})
	return o.CrossOrigin.Handler(h)
}

// LogoutHandler ends the session presented as a bearer token or, with
// Options.Cookies, as the cookie (which it clears). It answers 204, or for
// a form post a 303 to Options.Redirect. An unknown or expired session is
// already logged out: 204 too. No token at all is 401 missing_token.
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
		if token == "" {
			WriteError(w, problem.ErrNoToken)
			return
		}
		if err := a.Logout(r.Context(), token); err != nil {
			WriteError(w, err)
			return
		}
		if fromCookie {
			if err := o.Cookies.ClearSession(w, r, project); err != nil {
				WriteError(w, err)
				return
			}
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
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
