package main

import (
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

type server struct {
	authn  *auth.Authenticator
	limits *limit.Limiter
	tokens *tokens.Manager
	dir    *directory
	now    func() time.Time
	logger *log.Logger
}

// maxBody bounds request bodies: the largest legitimate one is a login of
// a few hundred bytes.
const maxBody = 16 << 10

// formValue returns the form field name, matched in any case like the
// JSON fields (encoding/json matches keys case-insensitively).
func formValue(v url.Values, name string) string {
	if s, ok := v[name]; ok && len(s) > 0 {
		return s[0]
	}
	for k, s := range v {
		if strings.EqualFold(k, name) && len(s) > 0 {
			return s[0]
		}
	}
	return ""
}

// authenticationInfo is the seed's body of Login.
type authenticationInfo struct {
	UserName                      string `json:"userName"`
	Password                      string `json:"password"`
	DeviceName                    string `json:"deviceName"`
	GenerateReAuthenticationToken bool   `json:"generateReAuthenticationToken"`
}

// loginData is the seed's answer to Login (and to ReAuthenticate).
type loginData struct {
	Authenticated         bool
	ReAuthenticationToken string
	Me                    currentUser
	SessionToken          string
}

// login is POST /api/v1/Authentication/Login.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var req authenticationInfo
	var formErr error
	err := decodeBody(w, r, maxBody, &req, func(v url.Values) {
		req = authenticationInfo{UserName: formValue(v, "userName"), Password: formValue(v, "password"), DeviceName: formValue(v, "deviceName")}
		if g := formValue(v, "generateReAuthenticationToken"); g != "" {
			req.GenerateReAuthenticationToken, formErr = strconv.ParseBool(g)
			if formErr != nil {
				formErr = &auth.FieldError{Field: "generateReAuthenticationToken", Reason: "invalid"}
			}
		}
	})
	if err == nil {
		err = formErr
	}
	if err == nil && req.GenerateReAuthenticationToken && strings.TrimSpace(req.DeviceName) == "" {
		err = errNeedsName // before the password is checked
	}
	if err != nil {
		s.failLogin(w, r, err)
		return
	}
	// The known-device cookie (set on every login) keeps this client
	// logging in while other clients' failures lock the name.
	creds := auth.Credentials{Login: req.UserName, Password: req.Password, Client: clientaddr.FromRequest(r),
		KnownDevice: auth.KnownDeviceFromRequest(r)}
	var out loginData
	var subject string
	if req.GenerateReAuthenticationToken {
		ds, err := s.authn.LoginDevice(r.Context(), creds, "", strings.TrimSpace(req.DeviceName))
		if err != nil {
			s.failLogin(w, r, err)
			return
		}
		subject, out.SessionToken, out.ReAuthenticationToken = ds.User.Subject, ds.Token, ds.DeviceToken
		auth.SetKnownDeviceCookie(w, ds.KnownDevice)
	} else {
		sess, err := s.authn.Login(r.Context(), creds, "")
		if err != nil {
			s.failLogin(w, r, err)
			return
		}
		auth.SetKnownDeviceCookie(w, sess.KnownDevice)
		subject, out.SessionToken = sess.User.Subject, sess.Token
	}
	s.answerLogin(w, r, subject, out)
}

func (s *server) answerLogin(w http.ResponseWriter, r *http.Request, subject string, out loginData) {
	me, ok := s.dir.me(subject)
	if !ok {
		s.failLogin(w, r, errNoProfile)
		return
	}
	out.Authenticated, out.Me = true, me
	respond(w, r, http.StatusOK, out)
}

// reAuthenticationInfo is the body of ReAuthenticate.
type reAuthenticationInfo struct {
	DeviceName            string `json:"deviceName"`
	ReAuthenticationToken string `json:"reAuthenticationToken"`
}

// reAuthenticate is POST /api/v1/Authentication/ReAuthenticate: the
// device's token for a new session and a new device token.
func (s *server) reAuthenticate(w http.ResponseWriter, r *http.Request) {
	var req reAuthenticationInfo
	err := decodeBody(w, r, maxBody, &req, func(v url.Values) {
		req = reAuthenticationInfo{DeviceName: formValue(v, "deviceName"), ReAuthenticationToken: formValue(v, "reAuthenticationToken")}
	})
	if err == nil && req.ReAuthenticationToken == "" {
		err = &auth.FieldError{Field: "reAuthenticationToken", Reason: "missing"}
	}
	if err != nil {
		s.failLogin(w, r, err)
		return
	}
	ds, err := s.authn.ReAuthenticate(r.Context(), strings.TrimSpace(req.DeviceName), req.ReAuthenticationToken)
	if err != nil {
		s.failLogin(w, r, err)
		return
	}
	s.answerLogin(w, r, ds.User.Subject, loginData{SessionToken: ds.Token, ReAuthenticationToken: ds.DeviceToken})
}

// sessionToken is the caller's session: the APIToken query parameter, as
// the seed has it, or else an Authorization: Bearer header.
func sessionToken(r *http.Request) string {
	if t := queryValue(r, "APIToken"); t != "" {
		return t
	}
	return tokens.FromAuthorization(r.Header.Get("Authorization"))
}

// authed runs h for requests with a live session, passing its token and
// record; it answers the others 401 (503 when the store is down).
func (s *server) authed(h func(http.ResponseWriter, *http.Request, string, store.Record)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := sessionToken(r)
		if token == "" {
			s.fail(w, r, middleware.ErrNoToken)
			return
		}
		rec, err := s.tokens.Validate(r.Context(), store.KindSession, token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r, token, rec)
	}
}

// me is GET /api/v1/Users/Me.
func (s *server) me(w http.ResponseWriter, r *http.Request, _ string, sess store.Record) {
	me, ok := s.dir.me(sess.Subject)
	if !ok {
		s.fail(w, r, errNoProfile)
		return
	}
	respond(w, r, http.StatusOK, me)
}

// logoutData answers Logout.
type logoutData struct {
	LoggedOut bool
	// DeviceName is the device whose re-authentication chain was ended
	// too, when the request named one.
	DeviceName string `json:",omitempty"`
}

// logout is POST /api/v1/Authentication/Logout: it ends the session (with
// the device chain it came from, if any: auth.Authenticator.Logout) and,
// given a deviceName (query, JSON or form body), that device's chain.
func (s *server) logout(w http.ResponseWriter, r *http.Request, token string, sess store.Record) {
	var req struct {
		DeviceName string `json:"deviceName"`
	}
	if r.ContentLength != 0 && r.Header.Get("Content-Type") != "" {
		if err := decodeBody(w, r, maxBody, &req, func(v url.Values) { req.DeviceName = formValue(v, "deviceName") }); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	device := strings.TrimSpace(req.DeviceName)
	if device == "" {
		device = strings.TrimSpace(queryValue(r, "deviceName"))
	}
	if err := s.authn.Logout(r.Context(), token); err != nil {
		s.fail(w, r, err)
		return
	}
	if device != "" {
		if _, err := s.authn.RevokeDevice(r.Context(), sess.Subject, device); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	respond(w, r, http.StatusOK, logoutData{LoggedOut: true, DeviceName: device})
}

// deviceView is how the API shows a device.
type deviceView struct {
	DeviceName string
	Created    time.Time // the password login that started its chain
	LastUsed   time.Time // its last re-authentication, or Created
	ExpiresAt  time.Time // when its token expires unused
	ChainEnd   time.Time // when a password login is needed however it is used
	Current    bool      // the device of the session asking
}

// devices is GET /api/v1/Users/Me/Devices: the devices that can
// re-authenticate, most recently used first.
func (s *server) devices(w http.ResponseWriter, r *http.Request, _ string, sess store.Record) {
	list, err := s.authn.Devices(r.Context(), sess.Subject)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]deviceView, len(list))
	for i, d := range list {
		out[i] = deviceView{DeviceName: d.Name, Created: d.Created.UTC(), LastUsed: d.LastUsed.UTC(),
			ExpiresAt: d.ExpiresAt.UTC(), ChainEnd: d.ChainEnd.UTC(), Current: d.Name == sess.Device}
	}
	respond(w, r, http.StatusOK, out)
}

// revokeData answers the revocation of a device.
type revokeData struct {
	DeviceName string
	Revoked    bool
}

// revokeDevice is DELETE /api/v1/Users/Me/Devices/{deviceName}: the
// device's chain and its sessions end; the user's other devices stay.
func (s *server) revokeDevice(w http.ResponseWriter, r *http.Request, _ string, sess store.Record) {
	name := r.PathValue("deviceName")
	n, err := s.authn.RevokeDevice(r.Context(), sess.Subject, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if n == 0 {
		s.fail(w, r, errNoDevice)
		return
	}
	respond(w, r, http.StatusOK, revokeData{DeviceName: name, Revoked: true})
}

// limited takes one unit of class's limit for the request's client before
// h runs; a client over it is answered 429 rate_limited.
// (Redeeming a device token is a login without the password: it takes
// the login limit, which auth takes for password logins.)
func (s *server) limited(class limit.Class, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.limits.Allow(r.Context(), class, clientaddr.FromRequest(r), ""); err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r)
	}
}
