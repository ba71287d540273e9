package auth

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

// Errors of login. Each says what it means to an HTTP client (see package
// problem); match them with errors.Is. A password over the hasher's limit
// is password.ErrTooLong, a login that found no hashing slot in time
// password.ErrBusy.
var (
	// ErrInvalidCredentials: the login or the password is wrong, or, by
	// default, the login names no account (401 invalid_credentials).
	ErrInvalidCredentials = problem.New("auth: invalid login or password", problem.Error{
		Status: http.StatusUnauthorized, Code: "invalid_credentials", Message: "invalid login or password"})
	// ErrUnknownUser: the login names no account (404 unknown_user). Login
	// answers it only with Config.RevealUnknownUsers; Users.FindUser
	// returns it for a login it does not know.
	ErrUnknownUser = problem.New("auth: unknown user", problem.Error{
		Status: http.StatusNotFound, Code: "unknown_user", Message: "no such user"})
	// ErrInactive: the password is right but the account is deactivated
	// (403 inactive).
	ErrInactive = problem.New("auth: account deactivated", problem.Error{
		Status: http.StatusForbidden, Code: "inactive", Message: "the account is deactivated"})
	// ErrUnconfirmed: the password is right but the email address is not
	// confirmed, and Config.AllowUnconfirmed is off (403 unconfirmed).
	ErrUnconfirmed = problem.New("auth: email address not confirmed", problem.Error{
		Status: http.StatusForbidden, Code: "unconfirmed", Message: "the email address is not confirmed"})
	// ErrCrossOrigin: a browser's form post from another site, refused by
	// the handlers' http.CrossOriginProtection (403 cross_origin).
	ErrCrossOrigin = problem.New("auth: cross-origin request refused", problem.Error{
		Status: http.StatusForbidden, Code: "cross_origin", Message: "cross-origin request refused"})
)

// LockedError reports a locked account (403 locked) and when it unlocks.
// Right and wrong passwords get the same LockedError while it lasts. Use
// errors.As to read Until.
type LockedError struct {
	Until time.Time // when the lock ends
}

func (e *LockedError) Error() string {
	return "auth: account locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Problem implements problem.Problemer. Until is given to the second,
// rounded up: when within a second the lock was set is nothing a client
// needs, and a retry at Until finds the lock over.
func (e *LockedError) Problem() problem.Error {
	until := problem.UntilSecond(e.Until)
	return problem.Error{Status: http.StatusForbidden, Code: "locked",
		Message: "too many failed attempts; the account is locked", Until: until}
}

// FieldError reports a missing or invalid request field (400
// missing_field or invalid_field, naming the field).
type FieldError struct {
	Field  string // the field's name in the request, such as "login"
	Reason string // "missing", "too long", "invalid"
}

func (e *FieldError) Error() string { return "auth: field " + strconv.Quote(e.Field) + " " + e.Reason }

// Problem implements problem.Problemer.
func (e *FieldError) Problem() problem.Error {
	code := "invalid_field"
	if e.Reason == "missing" {
		code = "missing_field"
	}
	return problem.Error{Status: http.StatusBadRequest, Code: code,
		Message: "field " + strconv.Quote(e.Field) + " " + e.Reason, Field: e.Field}
}
