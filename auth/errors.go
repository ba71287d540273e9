package auth

import (
	"net/http"

	"github.com/gatehouse-go/gatehouse/internal/problem"
)

// Errors of login and of the HTTP handlers. Each maps to one HTTP status and
// one stable code (see [ProblemOf]); match them with errors.Is.
var (
	ErrInvalidCredentials = problem.ErrInvalidCredentials // 401 invalid_credentials
	ErrUnknownUser        = problem.ErrUnknownUser        // 404 unknown_user, only with Config.RevealUnknownUsers
	ErrInactive           = problem.ErrInactive           // 403 inactive
	ErrUnconfirmed        = problem.ErrUnconfirmed        // 403 unconfirmed
	ErrPasswordTooLong    = problem.ErrPasswordTooLong    // 400 password_too_long
	ErrBusy               = problem.ErrBusy               // 503 busy
	ErrBadBody            = problem.ErrBadBody            // 400 malformed_body
	ErrBodyTooLarge       = problem.ErrBodyTooLarge       // 413 body_too_large
	ErrMediaType          = problem.ErrMediaType          // 415 unsupported_media_type
)

// LockedError reports a locked account (403 locked) and when it unlocks.
// Use errors.As to read Until.
type LockedError = problem.LockedError

// FieldError reports a missing or invalid request field (400
// missing_field or invalid_field).
type FieldError = problem.FieldError

// Problem is what an error means to an HTTP client: status, stable code,
// and a message safe to show. Its JSON form is the body every gatehouse
// handler answers errors with.
type Problem = problem.Problem

// ProblemOf maps any error gatehouse returns to its Problem. Unknown errors
// are 500 "internal", with nothing of the error in the message. Apps that
// answer in their own shape use it to keep gatehouse's codes.
func ProblemOf(err error) Problem { return problem.Of(err) }

// WriteError answers with the Problem of err as JSON.
func WriteError(w http.ResponseWriter, err error) { problem.Write(w, err) }
