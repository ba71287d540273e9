package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/problem"
)

type server struct {
	authn   *auth.Authenticator
	limits  *limit.Limiter
	dir     *directory
	signIns *signIns
	now     func() time.Time
	logger  *log.Logger
	// confirmTTL is how long a confirmation link lasts, to tell the caller.
	confirmTTL time.Duration
	// base is the configured public URL and the API's prefix, for the
	// Location and the links the API answers with; never the request's
	// Host (see config.publicURL).
	base string
}

// maxBody bounds request bodies: the largest legitimate one is a login of
// a few hundred bytes.
const maxBody = 16 << 10

// apiPrefix is where every route of the seed lives.
const apiPrefix = "/v1/marketing/login"

// loginRequest is the seed's body: a username or an email address, and
// the password.
type loginRequest struct {
	Username     string `json:"username"`
	EmailAddress string `json:"email_address"`
	Password     string `json:"password"`
}

type loginResponse struct {
	Connection   string `json:"connection"`
	ConnectionID string `json:"connection_id"`
	LoginToken   string `json:"login_token"`
	UserID       int64  `json:"user_id"`
}

// login is POST /users/login: it creates a sign-in for the calling app.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	// Either identifier names the account; gatehouse counts failures per
	// account, so switching between them does not earn more guesses. When
	// both are given, the username wins.
	login, field := req.Username, "username"
	if strings.TrimSpace(login) == "" {
		login, field = req.EmailAddress, "email_address"
	}
	switch {
	case strings.TrimSpace(login) == "":
		s.fail(w, r, errNoIdentifier)
		return
	case req.Password == "":
		s.fail(w, r, &auth.FieldError{Field: "password", Reason: "missing"})
		return
	}
	app, _ := middleware.AppFromContext(r.Context())
	// The session belongs to the login app that created it: the app id is
	// its project.
	// The known-device cookie (set on every login) keeps this client
	// logging in while other clients' failures lock the name.
	sess, err := s.authn.Login(r.Context(), auth.Credentials{Login: login, Password: req.Password, Client: clientaddr.FromRequest(r),
		KnownDevice: auth.KnownDeviceFromRequest(r)}, app)
	var fe *auth.FieldError
	if errors.As(err, &fe) && fe.Field == "login" {
		err = &auth.FieldError{Field: field, Reason: fe.Reason} // name the field the client sent
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	auth.SetKnownDeviceCookie(w, sess.KnownDevice)
	userID, err := strconv.ParseInt(sess.User.Subject, 10, 64)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	si := s.signIns.add(app, userID, field, s.now().UTC())
	base := s.base
	w.Header().Set("Location", base+"/sign_ins/"+strconv.FormatInt(si.ID, 10))
	writeJSON(w, http.StatusCreated, loginResponse{
		Connection:   base + "/connections/" + si.ConnectionID,
		ConnectionID: si.ConnectionID,
		LoginToken:   sess.Token,
		UserID:       userID,
	})
}

// signIn is one successful login. It never holds the login token: that
// went to the client, and the store keeps only its hash.
type signIn struct {
	ID           int64     `json:"id"`
	UserID       int64     `json:"user_id"`
	ConnectionID string    `json:"connection_id"`
	Connection   string    `json:"connection"`
	LoginField   string    `json:"login_field"` // "username" or "email_address"
	CreatedAt    time.Time `json:"created_at"`
	app          string
}

// connection links a user to a login app through a provider (here always
// the password). Each sign-in of the user through the app reuses it.
type connection struct {
	ID           string    `json:"connection_id"`
	UserID       int64     `json:"user_id"`
	Provider     string    `json:"provider"`
	CreatedAt    time.Time `json:"created_at"`
	LastSignInAt time.Time `json:"last_sign_in_at"`
	SignIns      int       `json:"sign_ins"`
	app          string
}

// signIns keeps the app's sign-ins and connections in memory. It is safe
// for concurrent use.
type signIns struct {
	mu      sync.Mutex
	last    int64
	byID    map[int64]*signIn
	conns   map[string]*connection
	connFor map[connKey]*connection
}

type connKey struct {
	app    string
	userID int64
}

// maxSignIns bounds the sign-ins kept: the oldest are forgotten, so a
// flood of logins cannot grow memory without end.
const maxSignIns = 10_000

func newSignIns() *signIns {
	return &signIns{byID: map[int64]*signIn{}, conns: map[string]*connection{}, connFor: map[connKey]*connection{}}
}

// add records a sign-in, creating the user's connection to the app on the
// first one. Sign-in ids count up: they are names, not secrets, and only
// the app that made a sign-in can read it. Connection ids are random.
func (l *signIns) add(app string, userID int64, field string, now time.Time) signIn {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.connFor[connKey{app, userID}]
	if !ok {
		b := make([]byte, 32)
		rand.Read(b) // never fails (Go 1.24+): it crashes the program instead
		c = &connection{ID: hex.EncodeToString(b), UserID: userID, Provider: "password", CreatedAt: now, app: app}
		l.conns[c.ID] = c
		l.connFor[connKey{app, userID}] = c
	}
	c.LastSignInAt = now
	c.SignIns++
	l.last++
	si := &signIn{ID: l.last, UserID: userID, ConnectionID: c.ID, LoginField: field, CreatedAt: now, app: app}
	l.byID[si.ID] = si
	delete(l.byID, si.ID-maxSignIns)
	return *si
}

func (l *signIns) signIn(app string, id int64) (signIn, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	si, ok := l.byID[id]
	if !ok || si.app != app {
		return signIn{}, false
	}
	return *si, true
}

func (l *signIns) connection(app, id string) (connection, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.conns[id]
	if !ok || c.app != app {
		return connection{}, false
	}
	return *c, true
}

// signIn is GET /sign_ins/{id}.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	app, _ := middleware.AppFromContext(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	si, ok := s.signIns.signIn(app, id)
	if err != nil || !ok {
		s.fail(w, r, errNoSignIn)
		return
	}
	si.Connection = s.base + "/connections/" + si.ConnectionID
	writeJSON(w, http.StatusOK, si)
}

// connection is GET /connections/{id}.
func (s *server) connection(w http.ResponseWriter, r *http.Request) {
	app, _ := middleware.AppFromContext(r.Context())
	c, ok := s.signIns.connection(app, r.PathValue("id"))
	if !ok {
		s.fail(w, r, errNoConnection)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// userView is how the API shows a user.
type userView struct {
	UserID         int64  `json:"user_id"`
	Username       string `json:"username"`
	EmailAddress   string `json:"email_address"`
	Active         bool   `json:"active"`
	EmailConfirmed bool   `json:"email_confirmed"`
	// EndedTokens is how many tokens a deactivation ended.
	EndedTokens *int `json:"ended_tokens,omitempty"`
}

func viewOf(a account) userView {
	return userView{UserID: a.ID, Username: a.Username, EmailAddress: a.Email, Active: a.Active, EmailConfirmed: a.EmailConfirmed}
}

// setActive flips the user's flag for PUT /users/{user_id}/activate and
// /deactivate.
func (s *server) setActive(w http.ResponseWriter, r *http.Request, active bool) {
	id, err := strconv.ParseInt(r.PathValue("user_id"), 10, 64)
	a, ok := s.dir.update(id, func(a *account) { a.Active = active })
	if err != nil || !ok {
		s.fail(w, r, auth.ErrUnknownUser)
		return
	}
	v := viewOf(a)
	if !active {
		// The flag first, then the tokens: from here on no new login gets
		// through, and what the user held ends now. If the store fails, the
		// account stays inactive and the 503 tells the caller to retry.
		n, err := s.authn.Deactivate(r.Context(), subjectOf(id))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.EndedTokens = &n
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *server) activate(w http.ResponseWriter, r *http.Request)   { s.setActive(w, r, true) }
func (s *server) deactivate(w http.ResponseWriter, r *http.Request) { s.setActive(w, r, false) }

type confirmationRequest struct {
	EmailAddress string `json:"email_address"`
}

type confirmationResponse struct {
	EmailAddress string    `json:"email_address"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// sendConfirmation is POST /users/send_email_confirmation.
func (s *server) sendConfirmation(w http.ResponseWriter, r *http.Request) {
	var req confirmationRequest
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(req.EmailAddress) == "" {
		s.fail(w, r, &auth.FieldError{Field: "email_address", Reason: "missing"})
		return
	}
	a, ok := s.dir.byEmail(req.EmailAddress)
	switch {
	case !ok:
		s.fail(w, r, auth.ErrUnknownUser)
		return
	case a.EmailConfirmed:
		s.fail(w, r, errAlreadyConfirmed)
		return
	}
	// The mailer writes a link back to this server: tell it where that is,
	// from the configuration, not from the request.
	ctx := withBaseURL(r.Context(), strings.TrimSuffix(s.base, apiPrefix))
	if err := s.authn.SendEmailConfirmation(ctx, subjectOf(a.ID), a.Email); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, confirmationResponse{EmailAddress: a.Email, ExpiresAt: s.now().Add(s.confirmTTL).UTC()})
}

// confirmEmail is GET /users/confirm_email?token=...: the link in the
// email. It redeems the token once and marks the address confirmed.
//
// A link redeemed by GET is spent by whatever fetches it first, mail
// scanners included; where you can, serve a page whose button POSTs it.
func (s *server) confirmEmail(w http.ResponseWriter, r *http.Request) {
	// The token is in the URL: keep it out of the Referer of what follows.
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := r.URL.Query().Get("token")
	if token == "" {
		s.fail(w, r, &auth.FieldError{Field: "token", Reason: "missing"})
		return
	}
	subject, err := s.authn.ConfirmEmail(r.Context(), token)
	if err != nil {
		if problem.Of(err).Status == http.StatusUnauthorized {
			// A bad link is bad input here, not a missing login.
			err = errInvalidLink
		}
		s.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(subject, 10, 64)
	a, ok := s.dir.update(id, func(a *account) { a.EmailConfirmed = true })
	if err != nil || !ok {
		s.fail(w, r, auth.ErrUnknownUser)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(a))
}

// me is GET /me, for the holder of a login token.
func (s *server) me(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	id, err := strconv.ParseInt(p.Subject, 10, 64)
	a, ok := s.dir.get(id)
	if err != nil || !ok {
		s.fail(w, r, auth.ErrUnknownUser)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(a))
}

// limited takes one unit of class's limit for the request's client before
// h runs; a client over it is answered 429 rate_limited.
func (s *server) limited(class limit.Class, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.limits.Allow(r.Context(), class, clientaddr.FromRequest(r), ""); err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r)
	}
}
