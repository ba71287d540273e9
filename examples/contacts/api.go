package main

import (
	"encoding/base64"
	"errors"
	"log"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

type server struct {
	authn   *auth.Authenticator
	dir     *directory
	cookies *middleware.Cookies
	limits  *limit.Limiter
	logger  *log.Logger
	now     func() time.Time
	// publicURL is where the links in emails point.
	publicURL string
}

// The seed's limits, in characters.
const (
	maxEmailChars    = 250
	maxPasswordChars = 150 // of the Base64 text
)

// maxBody bounds request bodies: the largest legitimate one is a login of
// a few hundred bytes.
const maxBody = 16 << 10

// profile is the seed's ResponseMessage of a login.
type profile struct {
	UID             string `json:"uid"`
	EmailAddress    string
	FirstName       string
	LastName        string
	KnownAs         string
	Company         string
	WebAdmin        bool
	LoginVerified   bool
	ConsentReceived bool
	UserStatus      string
	AllowLogin      bool
	// ValidationVal and ValidationID are null once LoginVerified is true.
	ValidationVal *string
	ValidationID  *string
}

func profileOf(c contact) profile {
	return profile{
		UID: c.UID, EmailAddress: c.EmailAddress, FirstName: c.FirstName, LastName: c.LastName,
		KnownAs: c.KnownAs, Company: c.Company, WebAdmin: c.WebAdmin, LoginVerified: c.LoginVerified,
		ConsentReceived: c.ConsentReceived, UserStatus: c.UserStatus, AllowLogin: c.AllowLogin,
	}
}

type loginRequest struct {
	EmailAddress string `json:"emailaddress"`
	Password     string `json:"password"` // Base64
}

// loginResponse is the seed's answer, plus the session: the same token is
// set as a cookie for browsers and given here for other clients, who send
// it as "Authorization: Bearer <SessionToken>".
type loginResponse struct {
	ResponseMessage  profile
	SessionToken     string
	SessionExpiresAt time.Time
}

// message is the answer of the calls that only report success.
type message struct {
	ResponseMessage string
}

// login is POST /api/Login.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := checkEmail("emailaddress", req.EmailAddress); err != nil {
		s.fail(w, r, err)
		return
	}
	password, err := decodePassword("password", req.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The known-device cookie (set on every login) keeps this browser
	// logging in while other clients' failures lock the address.
	sess, err := s.authn.Login(r.Context(), auth.Credentials{Login: req.EmailAddress, Password: password, Client: clientaddr.FromRequest(r),
		KnownDevice: auth.KnownDeviceFromRequest(r)}, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	auth.SetKnownDeviceCookie(w, sess.KnownDevice)
	c, ok := s.dir.get(sess.User.Subject)
	if !ok {
		s.fail(w, r, errors.New("contacts: logged-in contact is gone"))
		return
	}
	p := profileOf(c)
	// gatehouse reports the address as it was when the password was
	// checked; the pair is issued only while it is not verified.
	p.LoginVerified = !sess.Unconfirmed
	if sess.Unconfirmed {
		v, err := s.authn.IssueVerification(r.Context(), sess.User.Subject)
		if err != nil {
			_ = s.authn.Logout(r.Context(), sess.Token) // answer all or nothing
			s.fail(w, r, err)
			return
		}
		p.ValidationID, p.ValidationVal = &v.ID, &v.Value
	}
	if err := s.cookies.SetSession(w, r, "", sess.Token, sess.ExpiresAt); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loginResponse{ResponseMessage: p, SessionToken: sess.Token, SessionExpiresAt: sess.ExpiresAt.UTC()})
}

type validationRequest struct {
	ValidationID  string
	ValidationVal string
}

// validation is POST /api/Validation: it redeems the pair a login gave,
// once, and marks the contact's address verified.
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

func (s *server) validation(w http.ResponseWriter, r *http.Request) {
	var req validationRequest
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case req.ValidationID == "":
		s.fail(w, r, missing("ValidationID"))
		return
	case req.ValidationVal == "":
		s.fail(w, r, missing("ValidationVal"))
		return
	}
	uid, err := s.authn.RedeemVerification(r.Context(), req.ValidationID, req.ValidationVal)
	if err != nil {
		s.fail(w, r, err) // a bad pair: gatehouse's one answer for a link, 401 invalid_token
		return
	}
	c, ok := s.dir.verify(uid)
	if !ok {
		s.fail(w, r, tokens.ErrInvalid) // the contact is gone: the pair opens nothing
		return
	}
	writeJSON(w, http.StatusOK, struct{ ResponseMessage profile }{profileOf(c)})
}

type resetRequest struct {
	EmailAddress string `json:"emailaddress"`
}

// resetRequested is the one answer to every well-formed reset request.
var resetRequested = message{"If a contact has this email address, a link to reset the password has been sent to it."}

// requestReset is POST /api/PasswordReset. Its answer is the same whether
// or not the address belongs to a contact.
func (s *server) requestReset(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := checkEmail("emailaddress", req.EmailAddress); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.authn.RequestPasswordReset(withBaseURL(r.Context(), s.publicURL), req.EmailAddress)
	var fe *auth.FieldError
	switch {
	case errors.As(err, &fe):
		s.fail(w, r, &auth.FieldError{Field: "emailaddress", Reason: fe.Reason})
		return
	case errors.Is(err, store.ErrUnavailable):
		// gatehouse does the same store work for every address, so a store
		// that is down fails them all alike: this tells nobody anything.
		s.fail(w, r, err)
		return
	case err != nil:
		// A mailer failure happens only for real contacts: the operator
		// hears of it, the client gets the answer everyone gets.
		s.logger.Printf("contacts: password reset: %v", err)
	}
	writeJSON(w, http.StatusOK, resetRequested)
}

type confirmRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"` // Base64
}

// confirmReset is POST /api/PasswordReset/Confirm: it spends the token from
// the email, once, sets the new password, and ends every session and
// device of the contact.
func (s *server) confirmReset(w http.ResponseWriter, r *http.Request) {
	var req confirmRequest
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Token == "" {
		s.fail(w, r, missing("token"))
		return
	}
	password, err := decodePassword("password", req.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.authn.ConfirmPasswordReset(r.Context(), auth.PasswordReset{Token: req.Token, Password: password, Client: clientaddr.FromRequest(r)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Every session has ended; the browser's cookie goes too.
	_ = s.cookies.ClearAll(w)
	writeJSON(w, http.StatusOK, message{"The password has been changed. Log in with the new one."})
}

type passwordChange struct {
	Password    string `json:"password"`    // the current one, Base64
	NewPassword string `json:"newpassword"` // Base64
}

// changePassword is POST /api/Password, for the holder of a session: it
// checks the current password (under the login's lockout and rate limit),
// saves the new one, then ends every token of the contact with
// LogoutEverywhere: sessions and devices everywhere, and a reset link
// mailed before the change, which would otherwise set the password again.
// The contact logs in with the new password.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	c, ok := s.dir.get(p.Subject)
	if !ok {
		s.fail(w, r, auth.ErrInvalidCredentials)
		return
	}
	var req passwordChange
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	current, err := decodePassword("password", req.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next, err := decodePassword("newpassword", req.NewPassword)
	if err == nil {
		// The library's policy (NIST SP 800-63B rev. 4): 15 to 64
		// characters, not a common password, not the address.
		if perr := s.authn.CheckNewPassword(r.Context(), next, c.EmailAddress); perr != nil {
			err = inField{perr, "newpassword"}
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.authn.Authenticate(r.Context(), auth.Credentials{Login: c.EmailAddress, Password: current, Client: clientaddr.FromRequest(r),
		KnownDevice: auth.KnownDeviceFromRequest(r)}); err != nil {
		s.fail(w, r, err)
		return
	}
	// In its turn for a hashing slot, like a login.
	hash, err := s.authn.HashPassword(r.Context(), next, clientaddr.FromRequest(r))
	if err == nil {
		err = s.dir.UpdatePasswordHash(r.Context(), c.UID, hash)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.authn.LogoutEverywhere(r.Context(), c.UID); err != nil {
		s.fail(w, r, err)
		return
	}
	_ = s.cookies.ClearAll(w)
	writeJSON(w, http.StatusOK, message{"The password has been changed. Log in with the new one."})
}

// me is GET /api/Me, for the holder of a session (cookie or bearer).
func (s *server) me(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	c, ok := s.dir.get(p.Subject)
	if !ok {
		s.fail(w, r, auth.ErrInvalidCredentials)
		return
	}
	writeJSON(w, http.StatusOK, struct{ ResponseMessage profile }{profileOf(c)})
}

// checkEmail applies the seed's rules to an email address field.
func checkEmail(field, email string) error {
	switch {
	case strings.TrimSpace(email) == "":
		return missing(field)
	case utf8.RuneCountInString(email) > maxEmailChars:
		return tooLong(field, maxEmailChars)
	}
	return nil
}

// decodePassword applies the seed's rules to a password field: required,
// at most 150 characters of Base64 (standard alphabet, with or without
// padding), and returns the password it encodes.
func decodePassword(field, b64 string) (string, error) {
	switch {
	case b64 == "":
		return "", missing(field)
	case utf8.RuneCountInString(b64) > maxPasswordChars:
		return "", tooLong(field, maxPasswordChars)
	}
	enc := base64.RawStdEncoding
	if len(b64)%4 == 0 {
		enc = base64.StdEncoding
	}
	pw, err := enc.Strict().DecodeString(b64)
	if err != nil || len(pw) == 0 {
		return "", &problem.Error{Status: http.StatusBadRequest, Code: "invalid_base64", Message: "field \"" + field + "\" is not valid Base64", Field: field}
	}
	return string(pw), nil
}

func missing(field string) error {
	return &problem.Error{Status: http.StatusBadRequest, Code: "missing_field", Message: "field \"" + field + "\" is required", Field: field}
}

func tooLong(field string, max int) error {
	return &problem.Error{Status: http.StatusBadRequest, Code: "too_long", Message: "field \"" + field + "\" is longer than " + strconv.Itoa(max) + " characters", Field: field}
}

// fail answers the request with err as JSON {"code", "message", "field"?,
// "until"?}.
// inField names the body field an error is about, where the body calls
// it otherwise than the library does (its policy says "password").
type inField struct {
	err   error
	field string
}

func (e inField) Error() string { return e.err.Error() }
func (e inField) Unwrap() error { return e.err }

// Problem implements problem.Problemer: err's answer, in field.
func (e inField) Problem() problem.Error {
	p := problem.Of(e.err)
	p.Field = e.field
	return p
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problem.Of(err)
	h := w.Header()
	switch {
	case p.Status == http.StatusInternalServerError:
		// The client learns nothing of it; the operator does. No path here
		// carries a secret.
		s.logger.Printf("contacts: %s %s: %v", r.Method, r.URL.Path, err)
	case !p.Until.IsZero():
		secs := math.Ceil(p.Until.Sub(s.now()).Seconds())
		h.Set("Retry-After", strconv.FormatInt(max(int64(secs), 1), 10))
	case p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests:
		h.Set("Retry-After", "1")
	case p.Status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="contacts"`)
	}
	writeJSON(w, p.Status, p)
}
