package account

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpbody"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/problem"
)

// Errors of the API's own.
var (
	errNotFound = problem.New("account: no such route", problem.Error{
		Status: http.StatusNotFound, Code: "not_found", Message: "no such route"})
	errMethod = problem.New("account: method not allowed", problem.Error{
		Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed"})
	errAlreadyConfirmed = problem.New("account: address already confirmed", problem.Error{
		Status: http.StatusConflict, Code: "already_confirmed", Message: "the address is already confirmed"})
	errNoSuchSession = problem.New("account: no such session", problem.Error{
		Status: http.StatusNotFound, Code: "no_session", Message: "no such session"})
	errNoSuchDevice = problem.New("account: no such device", problem.Error{
		Status: http.StatusNotFound, Code: "no_device", Message: "no such device"})
	// errGone: the session's account no longer exists (deleted meanwhile).
	errGone = problem.New("account: the session's account is gone", problem.Error{
		Status: http.StatusUnauthorized, Code: "invalid_token", Message: "the token is invalid or expired"})
)

// passwordRequired: a route that changes the account was called without
// the current password (403 password_required, field names where it
// goes). A session alone does not let anyone change the password or the
// address, or delete the account: a client asks the user for it and
// sends it again. It counts no failed login.
func passwordRequired(field string) error {
	return &problem.Error{Status: http.StatusForbidden, Code: "password_required", Field: field,
		Message: "this needs the account's current password"}
}

// route is one API route: its methods and whether it needs a session.
type route struct {
	path    string
	methods map[string]http.Handler
}

// reqInfo is what a flow needs of the request beyond its body.
type reqInfo struct {
	knownDevice string // the known-device proof the browser showed
}

func (a *Account) newAPI(co *http.CrossOriginProtection) http.Handler {
	signedIn := func(h func(http.ResponseWriter, *http.Request, session)) http.Handler {
		return a.cfg.Guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := a.session(r)
			if err != nil {
				problem.Write(w, err)
				return
			}
			h(w, r, s)
		}))
	}
	routes := []route{
		{"/signup", map[string]http.Handler{"POST": http.HandlerFunc(a.apiSignup)}},
		{"/login", map[string]http.Handler{"POST": a.login}},
		// The second step of a login that answered second_factor_required.
		{"/login/second", map[string]http.Handler{"POST": http.HandlerFunc(a.apiSecondStep)}},
		// Passkeys (Config.Passkeys): a passwordless login, the options of
		// a second step by passkey, and the account's passkeys.
		{"/login/passkey/options", map[string]http.Handler{"POST": http.HandlerFunc(a.apiPasswordlessOptions)}},
		{"/login/passkey", map[string]http.Handler{"POST": http.HandlerFunc(a.apiPasswordless)}},
		{"/login/second/options", map[string]http.Handler{"POST": http.HandlerFunc(a.apiSecondOptions)}},
		{"/passkeys", map[string]http.Handler{"GET": signedIn(a.apiPasskeys), "POST": signedIn(a.apiAddPasskey)}},
		// POST /passkeys/options shares the pattern of /passkeys/{id}: a
		// ServeMux refuses the two as patterns that overlap.
		{"/passkeys/{id}", map[string]http.Handler{"POST": signedIn(a.apiPasskeyPost),
			"PATCH": signedIn(a.apiRenamePasskey), "DELETE": signedIn(a.apiRemovePasskey)}},
		// Social login (Config.OIDC): the callback is the providers'
		// RedirectURL (/login/oidc/callback: one pattern with the begin
		// route, since a ServeMux refuses "/login/oidc/callback" beside
		// "GET /login/oidc/{provider}"; no provider is named "callback");
		// /identities/{name} is a provider's name to POST (link) and an
		// identity's id to DELETE (unlink).
		{"/login/oidc/{provider}", map[string]http.Handler{"GET": http.HandlerFunc(a.apiOIDC)}},
		{"/identities", map[string]http.Handler{"GET": signedIn(a.apiIdentities)}},
		{"/identities/{name}", map[string]http.Handler{"POST": signedIn(a.apiIdentityPost), "DELETE": signedIn(a.apiIdentityDelete)}},
		{"/logout", map[string]http.Handler{"POST": a.logout}},
		{"/session", map[string]http.Handler{"GET": signedIn(a.apiSession)}},
		// DELETE /sessions ends every session but the caller's.
		{"/sessions", map[string]http.Handler{"GET": signedIn(a.apiSessions), "DELETE": signedIn(a.apiRevokeOthers)}},
		{"/sessions/{id}", map[string]http.Handler{"DELETE": signedIn(a.apiRevokeSession)}},
		{"/devices", map[string]http.Handler{"GET": signedIn(a.apiDevices)}},
		{"/devices/{name}", map[string]http.Handler{"DELETE": signedIn(a.apiRevokeDevice)}},
		{"/logout-everywhere", map[string]http.Handler{"POST": signedIn(a.apiLogoutEverywhere)}},
		{"/email/resend", map[string]http.Handler{"POST": signedIn(a.apiResend)}},
		{"/email/confirm", map[string]http.Handler{"POST": http.HandlerFunc(a.apiConfirm)}},
		{"/email/change", map[string]http.Handler{"POST": signedIn(a.apiChangeEmail)}},
		{"/password/forgot", map[string]http.Handler{"POST": http.HandlerFunc(a.apiForgot)}},
		{"/password/reset", map[string]http.Handler{"POST": http.HandlerFunc(a.apiReset)}},
		{"/password/change", map[string]http.Handler{"POST": signedIn(a.apiChangePassword)}},
		{"/delete", map[string]http.Handler{"POST": signedIn(a.apiDelete)}},
		{"/mfa", map[string]http.Handler{"GET": signedIn(a.apiMFAStatus)}},
		{"/mfa/totp", map[string]http.Handler{"POST": signedIn(a.apiEnrollTOTP), "DELETE": signedIn(a.apiRemoveTOTP)}},
		{"/mfa/totp/confirm", map[string]http.Handler{"POST": signedIn(a.apiConfirmTOTP)}},
		{"/mfa/recovery-codes", map[string]http.Handler{"POST": signedIn(a.apiRecoveryCodes)}},
	}
	mux := http.NewServeMux()
	for _, rt := range routes {
		var allow []string
		for m, h := range rt.methods {
			mux.Handle(m+" "+rt.path, h)
			allow = append(allow, m)
		}
		sort.Strings(allow)
		mux.Handle(rt.path, methodNotAllowed(strings.Join(allow, ", ")))
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { problem.Write(w, errNotFound) }))
	// Routes a stranger may post to (signup, confirmation, reset) are
	// refused when a browser sends them from another origin's page; the
	// guard does the same for signed-in routes.
	return co.Handler(cleanOnly(mux))
}

// cleanOnly answers 404 for a path that is not clean (a double slash, a
// dot segment) instead of letting the mux redirect it: under
// http.StripPrefix its Location would lack the prefix and lead out of
// the API. A ServeMux in front cleans paths first; other routers do not.
func cleanOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || path.Clean(p) != p {
			problem.Write(w, errNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		problem.Write(w, errMethod)
	})
}

// session is a signed-in request's principal and account.
type session struct {
	p    middleware.Principal
	user auth.User
}

func (a *Account) session(r *http.Request) (session, error) {
	p, ok := middleware.FromContext(r.Context())
	if !ok {
		return session{}, errors.New("account: signed-in route without a guard")
	}
	u, err := a.users.FindSubject(r.Context(), p.Subject)
	switch {
	case errors.Is(err, auth.ErrUnknownUser):
		return session{}, errGone
	case err != nil:
		return session{}, err
	}
	return session{p: p, user: u}, nil
}

// read decodes a JSON or form body into dst; fromForm fills dst from a
// form's values.
func (a *Account) read(w http.ResponseWriter, r *http.Request, dst any, fromForm func(url.Values)) error {
	_, err := httpbody.Decode(w, r, a.cfg.MaxBodyBytes, dst, fromForm)
	return err
}

func (a *Account) client(r *http.Request) (netip.Prefix, error) { return a.cfg.Client(r) }

func info(r *http.Request) reqInfo { return reqInfo{knownDevice: auth.KnownDeviceFromRequest(r)} }

// answer writes err's problem, or status with v (nil: no body).
func answer(w http.ResponseWriter, err error, status int, v any) {
	if err != nil {
		problem.Write(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if v == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// withClient runs f with the request's client, or answers its error.
func (a *Account) withClient(w http.ResponseWriter, r *http.Request, f func(netip.Prefix) error, status int, v any) {
	client, err := a.client(r)
	if err == nil {
		err = f(client)
	}
	answer(w, err, status, v)
}

// pending is the answer to requests whose outcome goes by mail.
var pending = map[string]string{"status": "check_your_email"}

func (a *Account) apiSignup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email, Password, Username string
	}
	if err := a.read(w, r, &in, func(v url.Values) {
		in.Email, in.Password, in.Username = v.Get("email"), v.Get("password"), v.Get("username")
	}); err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error { return a.signup(r.Context(), c, in.Email, in.Password, in.Username) },
		http.StatusAccepted, pending)
}

// sessionJSON is the signed-in user's session and account.
type sessionJSON struct {
	Subject        string    `json:"subject"`
	SessionID      string    `json:"session_id"`
	Email          string    `json:"email,omitempty"`
	EmailConfirmed bool      `json:"email_confirmed"`
	Username       string    `json:"username,omitempty"`
	Project        string    `json:"project,omitempty"`
	Device         string    `json:"device,omitempty"`
	AuthTime       time.Time `json:"auth_time"`
	ExpiresAt      time.Time `json:"expires_at"`
	// Assurance is the session's authenticator assurance level: 1 for a
	// password alone, 2 with a second factor (auth.Assurance*).
	Assurance uint8 `json:"assurance"`
}

func (a *Account) apiSession(w http.ResponseWriter, r *http.Request, s session) {
	answer(w, nil, http.StatusOK, sessionJSON{Subject: s.p.Subject, SessionID: s.p.SessionID(), Email: s.user.Email,
		EmailConfirmed: s.user.EmailConfirmed, Username: s.user.Username, Project: s.p.Project, Device: s.p.Device,
		AuthTime: s.p.AuthTime.UTC(), ExpiresAt: s.p.ExpiresAt.UTC(), Assurance: s.p.Assurance})
}

type sessionItem struct {
	ID        string    `json:"id"`
	Project   string    `json:"project,omitempty"`
	Device    string    `json:"device,omitempty"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastSeen  time.Time `json:"last_seen"`
	Current   bool      `json:"current"`
}

func (a *Account) apiSessions(w http.ResponseWriter, r *http.Request, s session) {
	list, err := a.cfg.Auth.Sessions(r.Context(), s.p.Subject, s.p.SessionID())
	out := make([]sessionItem, 0, len(list))
	for _, x := range list {
		out = append(out, sessionItem{ID: x.ID, Project: x.Project, Device: x.Device, IssuedAt: x.IssuedAt.UTC(),
			ExpiresAt: x.ExpiresAt.UTC(), LastSeen: x.LastSeen.UTC(), Current: x.Current})
	}
	answer(w, err, http.StatusOK, map[string]any{"sessions": out})
}

func (a *Account) apiRevokeSession(w http.ResponseWriter, r *http.Request, s session) {
	ended, err := a.cfg.Auth.RevokeSession(r.Context(), s.p.Subject, r.PathValue("id"))
	if err == nil && !ended {
		err = errNoSuchSession
	}
	if err == nil && r.PathValue("id") == s.p.SessionID() {
		a.clearCookie(w, r)
	}
	answer(w, err, http.StatusNoContent, nil)
}

func (a *Account) apiRevokeOthers(w http.ResponseWriter, r *http.Request, s session) {
	n, err := a.cfg.Auth.RevokeOtherSessions(r.Context(), s.p.Subject, s.p.SessionID())
	answer(w, err, http.StatusOK, map[string]int{"ended": n})
}

type deviceItem struct {
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	LastUsed  time.Time `json:"last_used"`
	ExpiresAt time.Time `json:"expires_at"`
	ChainEnd  time.Time `json:"chain_end"`
}

func (a *Account) apiDevices(w http.ResponseWriter, r *http.Request, s session) {
	list, err := a.cfg.Auth.Devices(r.Context(), s.p.Subject)
	out := make([]deviceItem, 0, len(list))
	for _, d := range list {
		out = append(out, deviceItem{Name: d.Name, Created: d.Created.UTC(), LastUsed: d.LastUsed.UTC(),
			ExpiresAt: d.ExpiresAt.UTC(), ChainEnd: d.ChainEnd.UTC()})
	}
	answer(w, err, http.StatusOK, map[string]any{"devices": out})
}

func (a *Account) apiRevokeDevice(w http.ResponseWriter, r *http.Request, s session) {
	n, err := a.cfg.Auth.RevokeDevice(r.Context(), s.p.Subject, r.PathValue("name"))
	if err == nil && n == 0 {
		err = errNoSuchDevice
	}
	answer(w, err, http.StatusNoContent, nil)
}

func (a *Account) apiLogoutEverywhere(w http.ResponseWriter, r *http.Request, s session) {
	_, err := a.cfg.Auth.LogoutEverywhere(r.Context(), s.p.Subject)
	if err == nil {
		a.clearCookie(w, r)
	}
	answer(w, err, http.StatusNoContent, nil)
}

func (a *Account) apiResend(w http.ResponseWriter, r *http.Request, s session) {
	a.withClient(w, r, func(c netip.Prefix) error { return a.resendConfirmation(r.Context(), c, s.user) }, http.StatusAccepted, pending)
}

func (a *Account) apiConfirm(w http.ResponseWriter, r *http.Request) {
	var in struct{ Token string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Token = v.Get("token") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error {
		if in.Token == "" {
			return &auth.FieldError{Field: "token", Reason: "missing"}
		}
		_, err := a.confirmEmail(r.Context(), c, in.Token)
		return err
	}, http.StatusOK, map[string]string{"status": "confirmed"})
}

func (a *Account) apiChangeEmail(w http.ResponseWriter, r *http.Request, s session) {
	var in struct{ Email, Password, Code string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Email, in.Password, in.Code = v.Get("email"), v.Get("password"), v.Get("code") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error {
		return a.changeEmail(r.Context(), c, info(r), s, in.Email, in.Password, in.Code)
	}, http.StatusAccepted, pending)
}

func (a *Account) apiForgot(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Email = v.Get("email") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error { return a.forgotPassword(r.Context(), c, in.Email) }, http.StatusAccepted, pending)
}

func (a *Account) apiReset(w http.ResponseWriter, r *http.Request) {
	var in struct{ Token, Password string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Token, in.Password = v.Get("token"), v.Get("password") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error { return a.resetPassword(r.Context(), c, in.Token, in.Password) }, http.StatusNoContent, nil)
}

func (a *Account) apiChangePassword(w http.ResponseWriter, r *http.Request, s session) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
		Code    string `json:"code"`
	}
	if err := a.read(w, r, &in, func(v url.Values) {
		in.Current, in.New, in.Code = v.Get("current_password"), v.Get("new_password"), v.Get("code")
	}); err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error {
		return a.changePassword(r.Context(), c, info(r), s, in.Current, in.New, in.Code)
	}, http.StatusNoContent, nil)
}

func (a *Account) apiDelete(w http.ResponseWriter, r *http.Request, s session) {
	var in struct{ Password, Code string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Password, in.Code = v.Get("password"), v.Get("code") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error {
		if err := a.deleteAccount(r.Context(), c, info(r), s, in.Password, in.Code); err != nil {
			return err
		}
		a.clearCookie(w, r)
		return nil
	}, http.StatusNoContent, nil)
}

// clearCookie clears the browser's session cookie, when there are
// cookies. Best effort: the session it held has ended already.
func (a *Account) clearCookie(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Cookies != nil && a.cfg.Cookies.SessionToken(r, a.cfg.Project(r)) != "" {
		_ = a.cfg.Cookies.ClearSession(w, r, a.cfg.Project(r))
	}
}
