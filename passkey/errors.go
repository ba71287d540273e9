package passkey

import (
	"errors"
	"net/http"

	"github.com/gatehouse-go/gatehouse/problem"
)

// Errors a ceremony answers the client with. Each has a stable code (see
// docs/errors.md); match them with errors.Is. A store or storage failure
// is returned as it comes (a down store wraps store.ErrUnavailable) and
// fails the ceremony closed.
var (
	// ErrMalformedResponse: the response is not a WebAuthn response of the
	// ceremony (not JSON, a field missing or not base64url, CBOR that does
	// not decode, a type other than "public-key"): 400 malformed_response.
	ErrMalformedResponse = problem.New("passkey: malformed response", problem.Error{
		Status: http.StatusBadRequest, Code: "malformed_response",
		Message: "the passkey response could not be read"})

	// ErrResponseTooLarge: the response is over Config.MaxResponseBytes:
	// 413 response_too_large. Refused before it is parsed.
	ErrResponseTooLarge = problem.New("passkey: response too large", problem.Error{
		Status: http.StatusRequestEntityTooLarge, Code: "response_too_large",
		Message: "the passkey response is too large"})

	// ErrInvalidChallenge: the response's challenge is not a live challenge
	// of this ceremony and subject: unknown, already used, expired, issued
	// for another subject or for another ceremony (a registration's
	// challenge presented to a login): 401 invalid_challenge. A challenge
	// that opened a record is spent all the same: it is never good twice.
	ErrInvalidChallenge = problem.New("passkey: invalid or expired challenge", problem.Error{
		Status: http.StatusUnauthorized, Code: "invalid_challenge",
		Message: "the passkey challenge is invalid or expired; start again"})

	// ErrInvalidCredential: the response failed verification: a bad
	// signature, another origin or RP ID, the wrong ceremony type, a user
	// handle that is not the subject's, flags that contradict the stored
	// credential: 401 invalid_credential.
	ErrInvalidCredential = problem.New("passkey: verification failed", problem.Error{
		Status: http.StatusUnauthorized, Code: "invalid_credential",
		Message: "the passkey could not be verified"})

	// ErrUnknownCredential: the response names a credential the subject
	// (for a passwordless login, the user its user handle names) does not
	// have, removed perhaps: 401 unknown_credential. A client may offer
	// the user another passkey.
	ErrUnknownCredential = problem.New("passkey: unknown credential", problem.Error{
		Status: http.StatusUnauthorized, Code: "unknown_credential",
		Message: "this passkey is not registered for the account"})

	// ErrUserVerificationRequired: Config.UserVerification is
	// UVRequired and the authenticator did not set the UV flag (no PIN or
	// biometric): 401 user_verification_required. Checked on the server,
	// whatever the browser was asked.
	ErrUserVerificationRequired = problem.New("passkey: user verification required", problem.Error{
		Status: http.StatusUnauthorized, Code: "user_verification_required",
		Message: "the passkey must verify the user (PIN or biometric)"})

	// ErrUnsupportedAlgorithm: a registration of a key whose algorithm is
	// not in Config.Algorithms: 400 unsupported_algorithm.
	ErrUnsupportedAlgorithm = problem.New("passkey: unsupported algorithm", problem.Error{
		Status: http.StatusBadRequest, Code: "unsupported_algorithm",
		Message: "the passkey's key algorithm is not accepted"})

	// ErrLimit: the subject has Config.MaxCredentials passkeys already:
	// 409 passkey_limit. Checked at BeginRegistration and again at
	// FinishRegistration.
	ErrLimit = problem.New("passkey: too many passkeys", problem.Error{
		Status: http.StatusConflict, Code: "passkey_limit",
		Message: "the account has as many passkeys as it may; remove one first"})

	// ErrExists: a registration of a credential the subject has already:
	// 409 passkey_exists.
	ErrExists = problem.New("passkey: credential already registered", problem.Error{
		Status: http.StatusConflict, Code: "passkey_exists",
		Message: "this passkey is already registered"})

	// ErrCloneDetected: the authenticator's signature counter did not go
	// up (it went back, or stayed put above zero): the key may have been
	// copied, and the login is refused (Config.AllowCloneWarning opts out):
	// 401 clone_detected. Audited as passkey.clone_warning.
	ErrCloneDetected = problem.New("passkey: signature counter went back; possible cloned authenticator", problem.Error{
		Status: http.StatusUnauthorized, Code: "clone_detected",
		Message: "this passkey may have been copied; use another, or contact support"})

	// ErrNotFound: Rename or Remove of a credential ID the subject does not
	// have: 404 passkey_not_found.
	ErrNotFound = problem.New("passkey: no such passkey", problem.Error{
		Status: http.StatusNotFound, Code: "passkey_not_found",
		Message: "no such passkey"})

	// ErrInvalidNickname: a nickname over MaxNicknameLen bytes, not UTF-8,
	// or with control characters: 400 invalid_nickname, field "nickname".
	ErrInvalidNickname = problem.New("passkey: invalid nickname", problem.Error{
		Status: http.StatusBadRequest, Code: "invalid_nickname", Field: "nickname",
		Message: "the passkey name is too long or has characters that are not allowed"})
)

// ErrInvalidSubject is the caller's mistake, not the client's (500): a
// subject that is empty or over 64 bytes cannot be a WebAuthn user handle,
// so BeginRegistration and FinishRegistration refuse it. Elsewhere a
// subject over 64 bytes simply has no passkeys (Has is false, BeginLogin
// is ErrNotFound): an app with long ids can still ask at every login.
var ErrInvalidSubject = errors.New("passkey: subject must be 1 to 64 bytes (an opaque id, not an email address)")

// errContended: the subject's credentials changed concurrently too often.
var errContended = errors.New("passkey: credentials changed concurrently too often; try again")
