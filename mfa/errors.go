package mfa

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

// ErrMalformedCode: the code is not a code at all (wrong length, a
// character that is not a digit, or for a recovery code not of its
// alphabet): 400 malformed_code, field "code". It is refused before any
// I/O (only a TOTP code of 6 digits for a key of 8, or the reverse, once
// the key is read) and does not count as an attempt, since it cannot be a
// guess.
var ErrMalformedCode = problem.New("mfa: malformed code", problem.Error{
	Status: http.StatusBadRequest, Code: "malformed_code", Field: "code",
	Message: "the code is not of the expected length or characters"})

// ErrInvalidCode: a well-formed TOTP or recovery code that is wrong, or a
// recovery code already used: 401 invalid_code. It counts toward the
// second-factor attempt limit.
var ErrInvalidCode = problem.New("mfa: invalid code", problem.Error{
	Status: http.StatusUnauthorized, Code: "invalid_code",
	Message: "the code is not valid"})

// ErrCodeReused: a right TOTP code whose time step, or a later one, was
// already used: 401 code_reused. A code is accepted once.
var ErrCodeReused = problem.New("mfa: code already used", problem.Error{
	Status: http.StatusUnauthorized, Code: "code_reused",
	Message: "this code was already used; wait for the next one"})

// ErrNotEnrolled: the subject has no confirmed TOTP (Verify), or no
// enrolment pending, or one that expired (ConfirmEnroll): 409
// not_enrolled.
var ErrNotEnrolled = problem.New("mfa: not enrolled", problem.Error{
	Status: http.StatusConflict, Code: "not_enrolled",
	Message: "no such second factor is enrolled"})

// ErrAlreadyEnrolled: Enroll for a subject whose TOTP is confirmed: 409
// already_enrolled. Remove it first (after a recent password).
var ErrAlreadyEnrolled = problem.New("mfa: already enrolled", problem.Error{
	Status: http.StatusConflict, Code: "already_enrolled",
	Message: "a second factor of this kind is already enrolled"})

// ErrLocked matches every *LockedError with errors.Is.
var ErrLocked = errors.New("mfa: locked")

// LockedError: too many second-factor attempts on the account (403
// mfa_locked). Until is when the lock ends; right and wrong codes get it
// alike until then.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("mfa: locked until %s", e.Until.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Problem implements problem.Problemer: 403 mfa_locked with Until.
func (e *LockedError) Problem() problem.Error {
	return problem.Error{Status: http.StatusForbidden, Code: "mfa_locked",
		Message: "too many second-factor attempts; try again later", Until: problem.UntilSecond(e.Until)}
}

// ErrUnsealed is wrapped by the error of a sealed blob that does not open:
// tampered, sealed for another subject, or under a key the Keyring lacks.
// It has no problem of its own (500 internal): it is the app's fault or
// an attack on its storage, never the client's.
var ErrUnsealed = errors.New("mfa: sealed factors do not open")
